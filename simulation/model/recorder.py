"""Records cluster, town and city series into preallocated arrays after every step.

The model's (cluster, town) cell sums (:func:`simulation.model.cells.aggregate`) give both
cluster and town totals, so recording costs a few small-array operations per step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simulation.model.results import CITY_METRICS, CLUSTER_METRICS, TOWN_METRICS, ReplicateResult

if TYPE_CHECKING:
    from simulation.model.model import ClusterModel

YI = 100.0  # M CNY per 亿元


class Recorder:
    def __init__(self, model: ClusterModel) -> None:
        self.m = model
        steps = model.n_steps + 1
        self.cluster = np.zeros((steps, model.n_clusters, len(CLUSTER_METRICS)))
        self.town = np.zeros((steps, model.towns.n, len(TOWN_METRICS)))
        self.city = np.zeros((steps, len(CITY_METRICS)))
        self._row = 0
        self._spent = (0.0, 0.0, 0.0)

    def record(self) -> None:
        m, f, n = self.m, self.m.firms, self.m.firms.n
        C, T = m.n_clusters, m.towns.n
        rev_all, rev_above, firms, firms_above, capacity = (
            m.cells.revenue, m.cells.revenue_above, m.cells.firms, m.cells.firms_above, m.cells.capacity
        )
        rd = np.bincount(f.cluster[:n], weights=f.rd[:n], minlength=C)

        cap_c = capacity.sum(axis=1)
        emp_c = cap_c * m.employees_per_capacity
        floor_ct = capacity * m.floor_per_capacity[:, None]
        flows = m.step_flows
        values = {
            "revenue": rev_above.sum(axis=1) / YI,
            "revenue_all": rev_all.sum(axis=1) / YI,
            "firms": firms.sum(axis=1),
            "abovescale_firms": firms_above.sum(axis=1),
            "employment": emp_c,
            "talent": cap_c * m.talent_per_capacity,
            "floor_space": floor_ct.sum(axis=1),
            "rd_spending": rd / YI,
            "subsidy_spending": flows[:, 0] / YI,
            "fund_investment": flows[:, 1] / YI,
            "entrants": flows[:, 2],
            "exits": flows[:, 3],
            "attracted": flows[:, 4],
        }
        r = self._row
        for j, name in enumerate(CLUSTER_METRICS):
            self.cluster[r, :, j] = values[name]

        t = m.towns
        town_values = {
            "revenue_all": rev_all.sum(axis=0) / YI,
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
        spent = (m.spending.talent, m.spending.agencies, m.spending.zones)
        step_spent = [now - before for now, before in zip(spent, self._spent)]
        self._spent = spent
        city_values = {
            "industrial_revenue": values["revenue"][ind].sum(),
            "abovescale_industrial_firms": values["abovescale_firms"][ind].sum(),
            "firms": values["firms"].sum(),
            "subsidy_spending": values["subsidy_spending"].sum(),
            "talent_spending": step_spent[0] / YI,
            "agency_spending": step_spent[1] / YI,
            "zone_spending": step_spent[2] / YI,
            "fund_investment": values["fund_investment"].sum(),
            "fund_raised": sum(fund.raised for fund in m.funds) / YI,
            "floor_vacancy": t.vacancy.sum(),
            "talent_inflow_multiplier": m.talent_multiplier,
        }
        for j, name in enumerate(CITY_METRICS):
            self.city[r, j] = city_values[name]
        self._row += 1

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
