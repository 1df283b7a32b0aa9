"""Government guidance and M&A funds (policy 四(四); the IC fund of 二(二)5).

A fund raises part of its announced size: with probability ``reach_target_probability`` all of
it, otherwise ``partial_raise`` of it (only 26 % of Chinese guidance funds reached their target,
Wei, Ang & Jia 2023). The city commits what was raised and pays it in as the fund calls it: for
each investment and for the managers' fee (``management_fee`` a year on the raised capital).
The fund deploys its commitment evenly over its investment period, by mandate share per cluster,
into the best-scoring eligible firms (young or below-scale firms with above-mean productivity that
have no fund equity yet; chain leaders for an M&A fund, once each). Private venture capital invests
alongside, ``private_coinvest`` yuan per fund yuan, out of a finite regional pool
(``private_pool`` a year, shared by all funds; investment depends on the supply of investable
ventures and of private money, Wei et al. 2023). Equity is cash for the investee, relaxing its
finance constraint.

After ``holding_years`` a stake is exited at a value that follows the investee's revenue; failed
investees return nothing. Proceeds are reinvested while the investment period lasts (no new public
money) and returned to the city after it.

Money is conserved: ``called + proceeds == invested + fees + returned + cash``, and the city's
outlay is what it paid in (``called``) less what came back (``returned``).
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


class PrivateCapital:
    """The region's venture capital available for co-investment: ``per_year`` flows in, unused carries over."""

    def __init__(self, per_year: float) -> None:
        self.per_year = per_year  # M CNY
        self.available = 0.0
        self.invested = 0.0

    def replenish(self, dt: float) -> None:
        self.available += self.per_year * dt

    def take(self, wanted: np.ndarray) -> np.ndarray:
        """Scale wanted co-investments down pro rata to what is available; returns what is given."""
        total = float(wanted.sum())
        if total <= 0:
            return np.zeros_like(wanted)
        given = wanted * min(1.0, self.available / total)
        self.available -= float(given.sum())
        self.invested += float(given.sum())
        return given


class Fund(mesa.Agent):
    def __init__(self, model: ClusterModel, name: str, lever: SimpleNamespace, funds: SimpleNamespace) -> None:
        super().__init__(model)
        self.name = name
        self.lever = lever
        self.mandate = np.array([lever.mandate.get(c, 0.0) for c in CLUSTERS])
        reached = model.stream(f"fund-raise-{name}").random() < funds.reach_target_probability
        self.realisation = 1.0 if reached else funds.partial_raise
        self.raised = lever.target_size * 100.0 * self.realisation  # M CNY committed by the city
        self.coinvest = funds.private_coinvest
        self.fee_rate = funds.management_fee
        self.uncalled = self.raised  # commitment not yet paid in
        self.called = 0.0  # paid in by the city, cumulative
        self.cash = 0.0  # proceeds held for reinvestment
        self.invested = 0.0  # at cost, cumulative (public part)
        self.fees = 0.0
        self.proceeds = 0.0  # from exits, cumulative
        self.returned = 0.0  # proceeds paid back to the city
        self.invested_by_cluster = np.zeros(len(CLUSTERS))
        self.step_investment = np.zeros(len(CLUSTERS))
        self._rows: list[np.ndarray] = []
        self._amounts: list[np.ndarray] = []
        self._private: list[np.ndarray] = []
        self._revenue_at_entry: list[np.ndarray] = []
        self._exit_step: list[int] = []
        self._n_invest_steps = max(int(round(lever.investment_years * model.steps_per_year)), 1)

    @property
    def investing(self) -> bool:
        return self.model.steps <= self._n_invest_steps

    def step(self) -> None:
        self._exit_due()
        self.step_investment = np.zeros(len(CLUSTERS))
        self._pay_fees()
        if self.investing and (self.cash + self.uncalled) > 0:
            remaining = self._n_invest_steps - self.model.steps + 1
            self._invest((self.cash + self.uncalled) / remaining)
        if not self.investing and self.cash > 0:
            self._return(self.cash)

    def _pay_fees(self) -> None:
        fee = min(self.fee_rate * self.raised * self.model.dt, self.uncalled)
        if fee > 0:
            self.uncalled -= fee
            self.called += fee
            self.fees += fee
            self.model.ledger.book("fund_fees", self._fee_clusters(), fee * self._fee_weights())

    def _fee_clusters(self) -> np.ndarray:
        return np.flatnonzero(self.mandate > 0)

    def _fee_weights(self) -> np.ndarray:
        w = self.mandate[self.mandate > 0]
        return w / w.sum()

    def _invest(self, budget: float) -> None:
        m = self.model
        firms = m.firms
        cluster = firms.cluster[: firms.n]
        rows = self.candidates()
        if rows.size == 0:
            return
        score = m.relative_productivity[rows] + 0.5 * m.stream(f"fund-select-{self.name}").standard_normal(rows.size)
        order = rows[np.argsort(-score, kind="stable")]
        ticket_cap = self.lever.max_ticket * 100.0
        need = m.capital_per_revenue * np.maximum(firms.target[order], firms.revenue[order])
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
        spent = float(amounts.sum())
        # recycled proceeds first (no new public money), then the city's commitment
        from_cash = min(spent, self.cash)
        self.cash -= from_cash
        self.uncalled -= spent - from_cash
        self.called += spent - from_cash
        self.invested += spent
        # public equity: the part paid in now is the city's outlay; recycled proceeds are not new
        new_money = amounts * ((spent - from_cash) / spent)
        m.ledger.pay_firms("fund_capital", firms, rows, new_money)
        np.add.at(firms.cash, rows, amounts - new_money)
        private = m.private_capital.take(amounts * self.coinvest)
        m.ledger.pay_private(firms, rows, private)
        firms.fund_equity[rows] += amounts + private
        np.add.at(self.step_investment, firms.cluster[rows], amounts)
        self.invested_by_cluster += self.step_investment
        self._rows.append(rows)
        self._amounts.append(amounts)
        self._private.append(private)
        self._revenue_at_entry.append(firms.revenue[rows].copy())
        self._exit_step.append(m.steps + int(round(self.lever.holding_years * m.steps_per_year)))

    def candidates(self) -> np.ndarray:
        """Rows of the firms this fund may back, ascending: live, in its mandate, without fund equity yet;
        chain leaders for an M&A fund, else young or below-scale firms with above-mean productivity."""
        m, firms = self.model, self.model.firms
        young_steps = YOUNG_STEPS_YEARS * m.steps_per_year
        if m.rules.name == "numba":
            from simulation.model.live_scans import fund_candidates

            return fund_candidates(firms.live, firms.cluster, firms.alive, firms.fund_equity, firms.chain_leader,
                                   firms.age, firms.above_scale, firms.relative, self.mandate > 0,
                                   bool(self.lever.backs_chain_leaders), young_steps)
        n = firms.n
        alive = firms.alive[:n]
        in_mandate = self.mandate[firms.cluster[:n]] > 0
        fresh = firms.fund_equity[:n] == 0
        if self.lever.backs_chain_leaders:
            eligible = alive & in_mandate & firms.chain_leader[:n] & fresh
        else:
            young = firms.age[:n] < young_steps
            eligible = alive & in_mandate & (young | ~firms.above_scale[:n]) & fresh
            eligible &= m.relative_productivity[:n] > 0
        return np.flatnonzero(eligible)

    def _exit_due(self) -> None:
        firms = self.model.firms
        while self._exit_step and self._exit_step[0] <= self.model.steps:
            self._exit_step.pop(0)
            rows, amounts, rev0 = self._rows.pop(0), self._amounts.pop(0), self._revenue_at_entry.pop(0)
            self._private.pop(0)
            multiple = np.where(firms.alive[rows], np.clip(firms.revenue[rows] / np.maximum(rev0, 1e-9), 0.0, 5.0), 0.0)
            value = float((amounts * multiple**0.8).sum())
            self.proceeds += value
            self.cash += value  # the private investors' part goes back to them, outside the model

    def _return(self, amount: float) -> None:
        """Pay proceeds back to the city after the investment period (a negative outlay)."""
        self.cash -= amount
        self.returned += amount
        self.model.ledger.book("fund_returns", self._fee_clusters(), -amount * self._fee_weights())

    @property
    def positions(self) -> float:
        """Cost of stakes still held (public part), M CNY."""
        return float(sum(a.sum() for a in self._amounts))
