"""Government guidance and M&A funds (policy 四(四); the IC fund of 二(二)5).

A fund raises part of its announced size: with probability ``reach_target_probability`` all of
it, otherwise ``partial_raise`` of it (only 26 % of Chinese guidance funds reached their target,
Wei, Ang & Jia 2023). It deploys what it raised evenly over its investment period, by mandate
share per cluster, into the best-scoring eligible firms (young or below-scale firms with
above-frontier productivity; chain leaders for an M&A fund), alongside crowded-in private money.
Equity is cash for the investee, relaxing its finance constraint. After ``holding_years`` a
stake is exited at a value that follows the investee's revenue; failed investees return nothing;
proceeds are recycled while the investment period lasts.

Money is conserved: ``raised + proceeds == cash + invested``.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING

import mesa
import numpy as np

from simulation.datapack import CLUSTERS

if TYPE_CHECKING:
    from simulation.model.model import ClusterModel

YOUNG_STEPS_YEARS = 5.0  # firms younger than this count as venture-stage


class Fund(mesa.Agent):
    def __init__(self, model: ClusterModel, name: str, lever: SimpleNamespace, funds: SimpleNamespace) -> None:
        super().__init__(model)
        self.name = name
        self.lever = lever
        self.mandate = np.array([lever.mandate.get(c, 0.0) for c in CLUSTERS])
        reached = model.stream(f"fund-raise-{name}").random() < funds.reach_target_probability
        self.realisation = 1.0 if reached else funds.partial_raise
        self.raised = lever.target_size * 100.0 * self.realisation  # M CNY
        self.coinvest = funds.private_coinvest
        self.cash = self.raised
        self.invested = 0.0  # at cost, cumulative
        self.proceeds = 0.0  # from exits, cumulative
        self.invested_by_cluster = np.zeros(len(CLUSTERS))
        self.step_investment = np.zeros(len(CLUSTERS))
        self._rows: list[np.ndarray] = []
        self._amounts: list[np.ndarray] = []
        self._revenue_at_entry: list[np.ndarray] = []
        self._exit_step: list[int] = []
        self._n_invest_steps = max(int(round(lever.investment_years * model.steps_per_year)), 1)

    @property
    def investing(self) -> bool:
        return self.model.steps <= self._n_invest_steps

    def step(self) -> None:
        self._exit_due()
        self.step_investment = np.zeros(len(CLUSTERS))
        if self.investing and self.cash > 0:
            remaining = self._n_invest_steps - self.model.steps + 1
            self._invest(self.cash / remaining)

    def _invest(self, budget: float) -> None:
        firms = self.model.firms
        n = firms.n
        alive = firms.alive[:n]
        cluster = firms.cluster[:n]
        in_mandate = self.mandate[cluster] > 0
        if self.lever.backs_chain_leaders:
            eligible = alive & in_mandate & firms.chain_leader[:n]
        else:
            young = firms.age[:n] < YOUNG_STEPS_YEARS * self.model.steps_per_year
            eligible = alive & in_mandate & (young | ~firms.above_scale[:n]) & (firms.fund_equity[:n] == 0)
            eligible &= self.model.relative_productivity[:n] > 0
        rows = np.flatnonzero(eligible)
        if rows.size == 0:
            return
        score = self.model.relative_productivity[rows] + 0.5 * self.model.stream(f"fund-select-{self.name}").standard_normal(rows.size)
        order = rows[np.argsort(-score, kind="stable")]
        ticket_cap = self.lever.max_ticket * 100.0
        need = self.model.capital_per_revenue * np.maximum(firms.target[order], firms.revenue[order])
        tickets = np.minimum(ticket_cap, np.maximum(0.5 * need, 1.0))
        budgets = budget * self.mandate
        chosen_rows, chosen_amounts = [], []
        for c in np.flatnonzero(budgets > 0):
            mine = cluster[order] == c
            t = tickets[mine]
            take = np.cumsum(t) <= budgets[c]
            if take.any():
                chosen_rows.append(order[mine][take])
                chosen_amounts.append(t[take])
        if not chosen_rows:
            return
        rows = np.concatenate(chosen_rows)
        amounts = np.concatenate(chosen_amounts)
        firms.cash[rows] += amounts * (1.0 + self.coinvest)
        firms.fund_equity[rows] += amounts
        spent = amounts.sum()
        self.cash -= spent
        self.invested += spent
        np.add.at(self.step_investment, firms.cluster[rows], amounts)
        self.invested_by_cluster += self.step_investment
        self._rows.append(rows)
        self._amounts.append(amounts)
        self._revenue_at_entry.append(firms.revenue[rows].copy())
        self._exit_step.append(self.model.steps + int(round(self.lever.holding_years * self.model.steps_per_year)))

    def _exit_due(self) -> None:
        firms = self.model.firms
        while self._exit_step and self._exit_step[0] <= self.model.steps:
            self._exit_step.pop(0)
            rows, amounts, rev0 = self._rows.pop(0), self._amounts.pop(0), self._revenue_at_entry.pop(0)
            multiple = np.where(firms.alive[rows], np.clip(firms.revenue[rows] / np.maximum(rev0, 1e-9), 0.0, 5.0), 0.0)
            value = float((amounts * multiple**0.8).sum())
            self.proceeds += value
            self.cash += value

    @property
    def positions(self) -> float:
        """Cost of stakes still held, M CNY."""
        return float(sum(a.sum() for a in self._amounts))
