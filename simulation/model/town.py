"""Towns: industrial floor space, the redevelopment (工改工) pipeline, rents, talent, core zones.

Town state lives in :class:`TownTable` arrays (one entry per town) so that allocation among
firms is vectorised; each :class:`Town` agent is a view onto its entry and runs its own
redevelopment pipeline in ``step``.

Vacant floor is held in four grades per town (see :mod:`simulation.model.floor_market`): old
village-park floor, modern floor, redevelopment floor reserved for priority clusters, and floor
in the emerging-industry bases.

Three kinds of project pass through a town's pipeline, each announced, approved (a share
``conversion`` of what is announced), demolished after the approval lag and delivered after the
delivery lag:

- market projects: redevelopment owners undertake without a programme; their number follows the
  town's rents (developers build more where floor is scarce, ``supply_elasticity``);
- programme projects: what the city's redevelopment programme adds on top (``levers.land``); the
  city pays an award per mu for them (the programme's price: owners redevelop because of it), and
  a share ``cluster_priority_share`` of their floor is reserved for the priority clusters, on
  land supplied below its price (forgone land revenue);
- base projects: the strategic emerging industry bases, floor for the emerging clusters only,
  on land the city supplies below its price.

Projects announced before the start (the 2020 pipeline) are in every scenario, with no
reservation: they predate the policy.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING

import mesa
import numpy as np

from simulation.datapack import CLUSTERS, EMERGING, MU_M2, town_ids, town_weights, towns
from simulation.model.floor_market import BASE, GRADES, MODERN, OLD, RESERVED

if TYPE_CHECKING:
    from simulation.model.model import ClusterModel

POLICY = np.array([c != "other" for c in CLUSTERS])
EMERGING_MASK = np.array([c in EMERGING for c in CLUSTERS])
#: what falls due at a step: m2 of old floor demolished, m2 delivered by destination grade, and mu
#: of programme, priority and base land delivered (for the awards and the forgone land revenue)
DUE = ("demolish", "deliver_modern", "deliver_reserved", "deliver_base", "programme_mu", "priority_mu", "base_mu")


class TownTable:
    """Per-town arrays; index i is ``town_ids()[i]``."""

    def __init__(self, n_steps: int) -> None:
        n = len(town_ids())
        self.n = n
        self.weight = np.array(town_weights())
        self.vacant = np.zeros((n, GRADES))  # m2 by grade: floor_market.OLD, MODERN, RESERVED, BASE
        self.floor_stock = np.zeros(n)  # m2, occupied + vacant
        self.occupancy_2020 = np.ones(n)
        self.rent_index = np.ones(n)
        self.talent_free = np.zeros(n)  # skilled workers available to hire
        self.zone = np.zeros((n, len(CLUSTERS)), dtype=bool)  # core-zone designations
        self.zone_multiplier = np.ones((n, len(CLUSTERS)))  # entry multiplier from zones
        self.reserved_for = np.tile(POLICY, (n, 1))  # which clusters may take reserved floor
        self.base_for = EMERGING_MASK.copy()  # which clusters may take base floor
        self.is_base = np.zeros(n, dtype=bool)  # towns hosting an emerging-industry base
        horizon = n_steps  # the caller leaves room for lags beyond the run
        self.due = {name: np.zeros((n, horizon)) for name in DUE}
        self.deferred_old = np.zeros(n)  # old floor not yet demolished (no vacancy to take it from)
        self.delivered = np.zeros(n)  # this step, m2
        self.delivered_total = np.zeros(n)
        self.refitted_total = np.zeros(n)  # m2 of old floor refitted as modern with zone money
        self.withdrawn_total = np.zeros(n)  # m2 of vacant old floor turned to other uses
        self.matching_money = np.zeros(n)  # M CNY a year, city + town

    @property
    def vacancy(self) -> np.ndarray:
        return self.vacant.sum(axis=1)


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
        """Projects announced before the start at ``prior_mu_per_step`` (modelled share) are still under way.

        They predate the policy: market-led terms, no floor reserved.
        """
        i, land = self.index, self.land
        share = self._t.weight[i] / self._t.weight.sum()
        land_m2 = prior_mu_per_step * share * land.conversion * MU_M2
        for announced in range(1 - (land.approval_lag + land.delivery_lag), 1):
            demolish, deliver = announced + land.approval_lag, announced + land.approval_lag + land.delivery_lag
            if demolish >= 1:
                self._t.due["demolish"][i, demolish] += land_m2 * land.old_floor_ratio
            if deliver >= 1:
                self._t.due["deliver_modern"][i, deliver] += land_m2 * land.market_multiplier

    def announce(self, market: int, programme: int, base: int) -> None:
        """Schedule this step's approved projects (counts of market, programme and base projects)."""
        announce(self._t, self.land, self.model.steps, [self.index], market, programme, base)

    def step(self) -> None:
        """Demolish and deliver what falls due this step."""
        demolish_and_deliver(self._t, self.model.steps, [self.index])

    def _demolish(self, old_floor: float) -> None:
        demolish(self._t, [self.index], np.array([old_floor]))

    def _deliver(self, modern: float, reserved: float, base: float) -> None:
        deliver(self._t, [self.index], np.array([modern]), np.array([reserved]), np.array([base]))


# --- the pipeline of every town at once (a Town agent runs it for its own index) -----------------


def announce(t: TownTable, land: SimpleNamespace, now: int, towns, market, programme, base) -> None:
    """Schedule the approved projects announced at step ``now`` in ``towns`` (counts per town)."""
    due = t.due
    demolish_at, deliver_at = now + land.approval_lag, now + land.approval_lag + land.delivery_lag
    market_m2 = np.asarray(market) * land.market_project_mu * MU_M2
    programme_m2 = np.asarray(programme) * land.project_mu * MU_M2
    base = np.asarray(base)
    due["demolish"][towns, demolish_at] += (market_m2 + programme_m2) * land.old_floor_ratio
    priority_m2 = programme_m2 * land.priority_share
    due["deliver_reserved"][towns, deliver_at] += priority_m2 * land.multiplier
    due["deliver_modern"][towns, deliver_at] += (programme_m2 - priority_m2) * land.multiplier + market_m2 * land.market_multiplier
    due["programme_mu"][towns, deliver_at] += programme_m2 / MU_M2
    due["priority_mu"][towns, deliver_at] += priority_m2 / MU_M2
    # base land is mostly reserved land released for building: no old floor to demolish
    due["deliver_base"][towns, deliver_at] += base * land.project_mu * MU_M2 * land.multiplier
    due["base_mu"][towns, deliver_at] += base * land.project_mu


def demolish_and_deliver(t: TownTable, now: int, towns=slice(None)) -> None:
    """Demolish and deliver what falls due at step ``now`` in ``towns``."""
    due = t.due
    demolish(t, towns, due["demolish"][towns, now])
    deliver(t, towns, due["deliver_modern"][towns, now], due["deliver_reserved"][towns, now],
            due["deliver_base"][towns, now])


def demolish(t: TownTable, towns, old_floor: np.ndarray) -> None:
    """Old floor comes down from vacant old floor; what tenants still use waits for them to leave."""
    vacant_old = t.vacant[towns, OLD]
    due = old_floor > 0
    now = np.minimum(old_floor, vacant_old)
    t.vacant[towns, OLD] = np.where(due, vacant_old - now, vacant_old)
    t.floor_stock[towns] = np.where(due, t.floor_stock[towns] - now, t.floor_stock[towns])
    t.deferred_old[towns] = np.where(due, t.deferred_old[towns] + (old_floor - now), t.deferred_old[towns])


def deliver(t: TownTable, towns, modern: np.ndarray, reserved: np.ndarray, base: np.ndarray) -> None:
    """New floor arrives by grade; deferred old floor comes down as soon as its tenants have left."""
    t.delivered[towns] = modern + reserved + base
    t.vacant[towns, MODERN] += modern
    t.vacant[towns, RESERVED] += reserved
    t.vacant[towns, BASE] += base
    t.floor_stock[towns] += modern + reserved + base
    t.delivered_total[towns] += modern + reserved + base
    late = np.minimum(t.deferred_old[towns], t.vacant[towns, OLD])
    t.vacant[towns, OLD] -= late
    t.floor_stock[towns] -= late
    t.deferred_old[towns] -= late


def update_rents(table: TownTable, occupied: np.ndarray, elasticity: float) -> None:
    """Rents follow occupancy (congestion, Au & Henderson 2006): index 1 at 2020 occupancy."""
    occupancy = occupied / np.maximum(table.floor_stock, 1.0)
    table.rent_index = (np.maximum(occupancy, 1e-6) / table.occupancy_2020) ** elasticity


def release_reserved(table: TownTable, share: float) -> None:
    """Reserved floor nobody eligible took is gradually opened to all firms."""
    moved = table.vacant[:, RESERVED] * share
    table.vacant[:, RESERVED] -= moved
    table.vacant[:, MODERN] += moved


def withdraw_vacant_old(table: TownTable, share: float) -> np.ndarray:
    """Vacant old village-park floor that owners turn to other uses (storage, housing, demolition)
    leaves the industrial stock; returns the m2 withdrawn per town."""
    gone = table.vacant[:, OLD] * share
    table.vacant[:, OLD] -= gone
    table.floor_stock -= gone
    table.withdrawn_total += gone
    return gone


def refit(table: TownTable, money: np.ndarray, cost_per_m2: float) -> np.ndarray:
    """Zone money refits vacant old floor as modern floor; returns the money used per town (M CNY)."""
    area = np.minimum(money / cost_per_m2, table.vacant[:, OLD])
    table.vacant[:, OLD] -= area
    table.vacant[:, MODERN] += area
    table.refitted_total += area
    return area * cost_per_m2
