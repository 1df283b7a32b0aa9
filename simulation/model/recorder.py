"""Records cluster, town and city series into preallocated arrays after every step.

The model's (cluster, town) cell sums (:func:`simulation.model.cells.aggregate`) give both
cluster and town totals, and the fiscal ledger gives this step's public money by programme and
cluster, so recording costs a few small-array operations per step. Revenue is recorded in
current prices (the statistics' and the targets' basis) and in 2020 prices.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simulation.datapack import ABOVE_SCALE_THRESHOLD
from simulation.model import cells
from simulation.model.ledger import PROGRAMME_INDEX, PROGRAMMES
from simulation.model.results import CITY_METRICS, CLUSTER_METRICS, TOWN_METRICS, ReplicateResult

if TYPE_CHECKING:
    from simulation.model.model import ClusterModel

YI = 100.0  # M CNY per 亿元
ANNUAL = {scope: [name for name, (kind, *_) in metrics.items() if kind == "annual"]
          for scope, metrics in (("cluster", CLUSTER_METRICS), ("city", CITY_METRICS))}


def _annual(stats: dict[str, np.ndarray] | None, scope: str, width: int) -> dict[str, np.ndarray | float]:
    """The annual statistics of ``scope`` at a year's last step, NaN at the others."""
    if stats is None:
        return {name: np.full(width, np.nan) if scope == "cluster" else np.nan for name in ANNUAL[scope]}
    return {name: stats[name] if scope == "cluster" else float(stats[name][0]) for name in ANNUAL[scope]}
SUBSIDIES = [PROGRAMME_INDEX[p] for p in ("rd_grants", "abovescale_rewards", "little_giant_rewards")]


class Recorder:
    def __init__(self, model: ClusterModel) -> None:
        self.m = model
        steps = model.n_steps + 1
        self.cluster = np.zeros((steps, model.n_clusters, len(CLUSTER_METRICS)))
        self.town = np.zeros((steps, model.towns.n, len(TOWN_METRICS)))
        self.city = np.zeros((steps, len(CITY_METRICS)))
        self.va_ratio = model.va_ratio
        self.scope = model.statistical_scope  # year -> factor on the statistics' revenue, by cluster
        self._row = 0

    def record(self) -> None:
        m, f, n = self.m, self.m.firms, self.m.firms.n
        C, T = m.n_clusters, m.towns.n
        price = m.price_level
        year_end = m.steps > 0 and m.steps % m.steps_per_year == 0
        if m.rules.name == "numba":  # the same sums over live rows, compiled
            from simulation.model.live_scans import accumulate_year

            rd = np.zeros(C)
            accumulate_year(f.live, f.cluster, f.revenue, f.rd, price, m.dt if m.steps > 0 else 0.0, f.revenue_year,
                            f.nominal_year, rd)
        else:
            if m.steps > 0:  # the statistics' annual basis: each calendar year's revenue, firm by firm
                alive = f.alive[:n]
                f.revenue_year[:n] += np.where(alive, f.revenue[:n], 0.0) * m.dt
                f.nominal_year[:n] += np.where(alive, f.revenue[:n] * price[f.cluster[:n]], 0.0) * m.dt
            rd = np.bincount(f.cluster[:n], weights=f.rd[:n], minlength=C)
        stats = self._year_statistics() if year_end else None
        rev_all, rev_above, firms, firms_above, capacity = (
            m.cells.revenue, m.cells.revenue_above, m.cells.firms, m.cells.firms_above, m.cells.capacity
        )
        if m.steps == 0:  # the start row holds the 2020 annual figures, the base of every growth rate
            rev_all, rev_above = self._revenue_2020()

        cap_c = capacity.sum(axis=1)
        emp_c = cap_c * m.employees_per_capacity
        floor_ct = capacity * m.floor_per_capacity[:, None]
        ledger = m.ledger.step / YI  # (programme, cluster), this step
        real_above = rev_above.sum(axis=1) / YI
        values = {
            "revenue": real_above * price,
            "revenue_real": real_above,
            "revenue_all": rev_all.sum(axis=1) / YI * price,
            "value_added": real_above * price * self.va_ratio,
            "firms": firms.sum(axis=1),
            "abovescale_firms": firms_above.sum(axis=1),
            "employment": emp_c,
            "talent": cap_c * m.talent_per_capacity,
            "floor_space": floor_ct.sum(axis=1),
            "rd_spending": rd / YI,
            "public_money": ledger.sum(axis=0),
            "subsidy_spending": ledger[SUBSIDIES].sum(axis=0),
            "fund_investment": sum((fund.step_investment for fund in m.funds), np.zeros(C)) / YI,
            "entrants": m.step_flows.entrants,
            "exits": m.step_flows.exits,
            "attracted": m.step_flows.attracted,
            **_annual(stats, "cluster", C),
        }
        r = self._row
        for j, name in enumerate(CLUSTER_METRICS):
            self.cluster[r, :, j] = values[name]

        t = m.towns
        town_values = {
            "revenue_all": (rev_all * price[:, None]).sum(axis=0) / YI,
            "firms": firms.sum(axis=0),
            "floor_stock": t.floor_stock,
            "floor_occupied": floor_ct.sum(axis=0),
            "floor_delivered": t.delivered if r else np.zeros(T),
            "rent_index": t.rent_index,
            "talent_pool": t.talent_free,
        }
        for j, name in enumerate(TOWN_METRICS):
            self.town[r, :, j] = town_values[name]

        ind = m.industrial
        by_programme = ledger.sum(axis=1)
        city_values = {
            "industrial_revenue": values["revenue"][ind].sum(),
            "industrial_revenue_real": values["revenue_real"][ind].sum(),
            "industrial_value_added": values["value_added"][ind].sum(),
            "abovescale_industrial_firms": values["abovescale_firms"][ind].sum(),
            "firms": values["firms"].sum(),
            "public_cost": by_programme.sum(),
            **{f"cost_{name}": by_programme[i] for i, name in enumerate(PROGRAMMES)},
            "fund_raised": sum(fund.raised for fund in m.funds) / YI,
            "fund_holdings": sum(fund.positions + fund.cash for fund in m.funds) / YI,
            "private_coinvestment": m.private_capital.invested / YI,
            "floor_vacancy": t.vacancy.sum(),
            "vacancy_rate": t.vacancy.sum() / max(t.floor_stock.sum(), 1.0),
            "price_level": float(price[ind].max()),
            "talent_inflow_multiplier": m.talent_multiplier,
            **_annual(stats, "city", 1),
        }
        for j, name in enumerate(CITY_METRICS):
            self.city[r, j] = city_values[name]
        self._row += 1

    def _revenue_2020(self) -> tuple[np.ndarray, np.ndarray]:
        """(cluster, town) sums of the firms' 2020 annual revenue, all and above scale.

        The model starts at the end-2020 run-rate (``ClusterModel.run_rate_2020``); the policy's
        targets and the statistics compare annual figures, so 2020 is recorded as its annual figure.
        """
        m, f, n = self.m, self.m.firms, self.m.firms.n
        annual = np.where(f.alive[:n], f.revenue_last[:n], 0.0)
        rev_all, rev_above = cells.by_cell(m, annual, np.where(f.above_scale[:n], annual, 0.0))
        return rev_all, rev_above

    def _year_statistics(self) -> dict[str, np.ndarray]:
        """The calendar year just ended on the statistics' basis; then start the next year's accounts."""
        m, f, n = self.m, self.m.firms, self.m.firms.n
        C, ind = m.n_clusters, m.industrial
        start_of_year = m.steps - m.steps_per_year
        if m.rules.name == "numba":  # the same sums and the same new year, in one compiled pass
            from simulation.model.live_scans import close_year

            sums = np.zeros((5, C))
            upgrades = close_year(f.cluster, f.alive, f.nominal_year, f.revenue_year, f.revenue_last, f.nominal_last,
                                  f.birth_step, n, self.va_ratio, ind, ABOVE_SCALE_THRESHOLD, start_of_year, sums)
            now, before, above_count, va_nominal, nominal = sums
            return self._year_stats(now, before, above_count, va_nominal, nominal, float(upgrades))
        cluster = f.cluster[:n]
        va = self.va_ratio[cluster]
        above = f.alive[:n] & (f.nominal_year[:n] >= ABOVE_SCALE_THRESHOLD)
        known = f.revenue_last[:n] > 0  # alive through all of last year: its figures are comparable
        comparable = above & known
        by = lambda weights: np.bincount(cluster, weights=weights, minlength=C)  # noqa: E731
        now, before = by(np.where(comparable, va * f.revenue_year[:n], 0.0)), by(np.where(comparable, va * f.revenue_last[:n], 0.0))
        upgraded = above & known & (f.nominal_last[:n] < ABOVE_SCALE_THRESHOLD)
        stats = self._year_stats(now, before, by(above.astype(float)), by(np.where(above, va * f.nominal_year[:n], 0.0)),
                                 by(np.where(above, f.nominal_year[:n], 0.0)), float((upgraded & ind[cluster]).sum()))
        # next year's comparison base: firms alive through the whole year just ended
        whole_year = f.alive[:n] & (f.birth_step[:n] <= start_of_year)
        f.revenue_last[:n] = np.where(whole_year, f.revenue_year[:n], 0.0)
        f.nominal_last[:n] = np.where(whole_year, f.nominal_year[:n], 0.0)
        f.revenue_year[:n] = 0.0
        f.nominal_year[:n] = 0.0
        return stats

    def _year_stats(self, now: np.ndarray, before: np.ndarray, above_count: np.ndarray, va_nominal: np.ndarray,
                    nominal: np.ndarray, upgrades: float) -> dict[str, np.ndarray]:
        """The year's statistics from its sums by cluster (comparable value added now and a year
        before, above-scale firms, their value added and revenue in current prices)."""
        m, ind = self.m, self.m.industrial
        with np.errstate(invalid="ignore", divide="ignore"):
            growth = np.where(before > 0, (now / before - 1.0) * 100.0, np.nan)
            city_growth = (now[ind].sum() / before[ind].sum() - 1.0) * 100.0 if before[ind].sum() > 0 else np.nan
        # the statistics' scope: software's figures include arms that registered in the city (a
        # change of scope, not growth), applied to the statistics, never to the firms
        scope = self.scope(m.start_year + m.steps // m.steps_per_year)
        stats = {
            "abovescale_firms_stat": above_count,
            "value_added_stat": va_nominal / YI * scope,
            "va_growth_comparable": growth,
            "revenue_stat": nominal / YI * scope,
        }
        stats.update(
            abovescale_industrial_firms_stat=np.array([stats["abovescale_firms_stat"][ind].sum()]),
            industrial_value_added_stat=np.array([stats["value_added_stat"][ind].sum()]),
            industrial_va_growth_comparable=np.array([city_growth]),
            upgrades=np.array([upgrades]),
        )
        return stats

    def result(self, seed: int, parameters: dict[str, float]) -> ReplicateResult:
        return ReplicateResult(
            seed=seed,
            start_year=self.m.start_year,
            steps_per_year=self.m.steps_per_year,
            cluster=self.cluster,
            town=self.town,
            city=self.city,
            parameters=parameters,
        )
