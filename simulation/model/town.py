"""Towns: industrial floor space, the redevelopment (工改工) pipeline, rents, talent, core zones.

Town state lives in :class:`TownTable` arrays (one entry per town) so that allocation among
firms is vectorised; each :class:`Town` agent is a view onto its entry and runs its own
redevelopment pipeline in ``step``.

Vacant floor is held in three grades per town (see :mod:`simulation.model.floor_market`): old
village-park floor, modern floor, and redevelopment floor reserved for priority clusters.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING

import mesa
import numpy as np

from simulation.datapack import CLUSTERS, MU_M2, town_ids, town_weights, towns
from simulation.model.floor_market import MODERN, OLD, RESERVED

if TYPE_CHECKING:
    from simulation.model.model import ClusterModel

POLICY = np.array([c != "other" for c in CLUSTERS])


class TownTable:
    """Per-town arrays; index i is ``town_ids()[i]``."""

    def __init__(self, n_steps: int) -> None:
        n = len(town_ids())
        self.n = n
        self.weight = np.array(town_weights())
        self.vacant = np.zeros((n, 3))  # m2 by grade: floor_market.OLD, MODERN, RESERVED
        self.floor_stock = np.zeros(n)  # m2, occupied + vacant
        self.occupancy_2020 = np.ones(n)
        self.rent_index = np.ones(n)
        self.talent_free = np.zeros(n)  # skilled workers available to hire
        self.zone = np.zeros((n, len(CLUSTERS)), dtype=bool)  # core-zone designations
        self.zone_multiplier = np.ones((n, len(CLUSTERS)))  # entry multiplier from zones
        self.reserved_for = np.tile(POLICY, (n, 1))  # which clusters may take reserved floor
        horizon = n_steps  # the caller leaves room for lags beyond the run
        self.demolition_due = np.zeros((n, horizon))  # m2 of old floor to demolish, by step
        self.delivery_due = np.zeros((n, horizon))  # m2 of new floor to deliver, by step
        self.deferred_old = np.zeros(n)  # old floor not yet demolished (no vacancy to take it from)
        self.delivered = np.zeros(n)  # this step, m2
        self.delivered_total = np.zeros(n)
        self.matching_money = np.zeros(n)  # M CNY a year, city + town

    @property
    def vacancy(self) -> np.ndarray:
        return self.vacant.sum(axis=1)

    # named views of the grades (writable: they are columns of ``vacant``)
    old_vacancy = property(lambda self: self.vacant[:, OLD], lambda self, v: self.vacant.__setitem__((slice(None), OLD), v))
    general_vacancy = property(lambda self: self.vacant[:, MODERN], lambda self, v: self.vacant.__setitem__((slice(None), MODERN), v))
    reserved_vacancy = property(lambda self: self.vacant[:, RESERVED], lambda self, v: self.vacant.__setitem__((slice(None), RESERVED), v))


class Town(mesa.Agent):
    """A town, street or park; its redevelopment pipeline announces, demolishes and delivers."""

    def __init__(self, model: ClusterModel, index: int, land: SimpleNamespace) -> None:
        super().__init__(model)
        self.index = index
        self.town_id = town_ids()[index]
        self.info = towns()[index]
        self.land = land  # drawn land parameters and lever settings for this run

    # --- views ---------------------------------------------------------------------------
    @property
    def _t(self) -> TownTable:
        return self.model.towns

    @property
    def floor_stock(self) -> float:
        return float(self._t.floor_stock[self.index])

    @property
    def vacancy(self) -> float:
        return float(self._t.vacancy[self.index])

    @property
    def rent_index(self) -> float:
        return float(self._t.rent_index[self.index])

    @property
    def talent_pool(self) -> float:
        return float(self._t.talent_free[self.index])

    @property
    def core_zone_clusters(self) -> list[str]:
        return [c for c, z in zip(CLUSTERS, self._t.zone[self.index]) if z]

    # --- behaviour -----------------------------------------------------------------------
    def fill_pipeline(self, prior_mu_per_step: float) -> None:
        """Projects announced before the start at ``prior_mu_per_step`` are still under way."""
        i, land = self.index, self.land
        share = self._t.weight[i] / self._t.weight.sum()
        land_m2 = prior_mu_per_step * share * land.conversion * MU_M2
        for announced in range(1 - (land.approval_lag + land.delivery_lag), 1):
            demolish, deliver = announced + land.approval_lag, announced + land.approval_lag + land.delivery_lag
            if demolish >= 1:
                self._t.demolition_due[i, demolish] += land_m2 * land.old_floor_ratio
            if deliver >= 1:
                self._t.delivery_due[i, deliver] += land_m2 * land.multiplier

    def step(self) -> None:
        """Announce this step's approved projects, then demolish and deliver what falls due."""
        t, i, land = self.model.steps, self.index, self.land
        approved = self.model.approved_projects[i]
        if approved:
            land_m2 = approved * land.project_mu * MU_M2
            self._t.demolition_due[i, t + land.approval_lag] += land_m2 * land.old_floor_ratio
            self._t.delivery_due[i, t + land.approval_lag + land.delivery_lag] += land_m2 * land.multiplier
        self._demolish(self._t.demolition_due[i, t])
        self._deliver(self._t.delivery_due[i, t])

    def _demolish(self, old_floor: float) -> None:
        """Old floor comes down from vacant old floor, then vacant modern floor; what tenants still use waits."""
        if old_floor <= 0:
            return
        i, left = self.index, old_floor
        for pool in (OLD, MODERN):
            now = min(left, self._t.vacant[i, pool])
            self._t.vacant[i, pool] -= now
            self._t.floor_stock[i] -= now
            left -= now
        self._t.deferred_old[i] += left

    def _deliver(self, new_floor: float) -> None:
        i = self.index
        self._t.delivered[i] = 0.0
        if new_floor <= 0:
            return
        net = max(new_floor - self._t.deferred_old[i], 0.0)
        self._t.deferred_old[i] = max(self._t.deferred_old[i] - new_floor, 0.0)
        reserved = net * self.land.priority_share
        self._t.vacant[i, RESERVED] += reserved
        self._t.vacant[i, MODERN] += net - reserved
        self._t.floor_stock[i] += net
        self._t.delivered[i] = net
        self._t.delivered_total[i] += net


def update_rents(table: TownTable, occupied: np.ndarray, elasticity: float) -> None:
    """Rents follow occupancy (congestion, Au & Henderson 2006): index 1 at 2020 occupancy."""
    occupancy = occupied / np.maximum(table.floor_stock, 1.0)
    table.rent_index = (np.maximum(occupancy, 1e-6) / table.occupancy_2020) ** elasticity


def release_reserved(table: TownTable, share: float) -> None:
    """Reserved floor nobody eligible took is gradually opened to all firms."""
    moved = table.vacant[:, RESERVED] * share
    table.vacant[:, RESERVED] -= moved
    table.vacant[:, MODERN] += moved
