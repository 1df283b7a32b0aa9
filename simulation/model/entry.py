"""New firms: spin-offs from local incumbents, and won investment projects, admitted if housed and staffed.

Spin-offs arise in proportion to the firms of a cluster in a town (they stay in the parent's
industry and region, Klepper), more so in a core zone (zone effects work mostly through entry,
Alder, Shao & Zilibotti 2016). They are small and start below their long-run productivity: they
learn, closing the gap as their transient productivity reverts (entrants are less productive and
more dispersed at first, Foster, Haltiwanger & Syverson 2008). Won investment projects come from
the region's pipeline (:mod:`simulation.model.investors`).

Every entrant needs floor space and skilled talent in its town at once, like an expanding firm:
without usable vacant floor, or without the free talent to staff its first capacity, it does not
come. A won project whose town has no usable floor for it looks at the town with the most.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simulation.model import floor_market
from simulation.model.firm_rules import absorptive_capacity, is_above_scale
from simulation.model.firm_table import ORIGIN_ATTRACTED, ORIGIN_EXTERNAL, ORIGIN_SPINOFF

if TYPE_CHECKING:
    from simulation.model.model import ClusterModel

SPINOFF_SIZE = (2.0, 8.0)  # M CNY a year at entry, log-uniform (ASSUMPTION)
SPINOFF_TARGET_LOG = (1.3, 0.8)  # log of target / entry size: mean, sd (ASSUMPTION)
ENTRANT_DISPERSION = 1.3  # entrants' productivity dispersion at entry relative to incumbents' (Foster et al. 2008)
START_UTILISATION = 0.9  # entrants install capacity for this utilisation


def spinoff_counts(m: ClusterModel) -> np.ndarray:
    """Poisson number of spin-offs per (cluster, town) this step."""
    # firms alive at the start of the step, per (cluster, town)
    expected = m.p.behaviour.spinoff_rate * m.dt * m.cells.firms * m.towns.zone_multiplier.T
    return m.stream("spinoff-count").poisson(expected)


def spinoffs(m: ClusterModel) -> dict:
    counts = spinoff_counts(m)
    cluster, town = np.nonzero(counts)
    reps = counts[cluster, town]
    cluster, town = np.repeat(cluster, reps), np.repeat(town, reps)
    k = cluster.size
    rng = m.stream("spinoff-traits")
    lo, hi = np.log(SPINOFF_SIZE[0]), np.log(SPINOFF_SIZE[1])
    revenue = np.exp(rng.uniform(lo, hi, k))
    target = revenue * np.exp(SPINOFF_TARGET_LOG[0] + SPINOFF_TARGET_LOG[1] * rng.standard_normal(k))
    b = m.p.behaviour
    # the long-run (permanent) level is drawn like an incumbent's; the start is below it and
    # more dispersed (the transient part), and the gap closes as the firm learns
    permanent = b.productivity_dispersion * rng.standard_normal(k)
    # the start's extra spread makes entrants' total dispersion ENTRANT_DISPERSION times incumbents'
    extra = np.sqrt(ENTRANT_DISPERSION**2 - 1.0) * b.productivity_dispersion
    start_gap = -b.entrant_productivity_gap + extra * rng.standard_normal(k)
    return dict(cluster=cluster, town=town, revenue=revenue, target=target, permanent=permanent,
                transient=start_gap, origin=np.full(k, ORIGIN_SPINOFF))


def admit(m: ClusterModel, entrants: dict, group: str = "spinoffs") -> np.ndarray:
    """House and staff entrants; those who find no floor or talent do not enter.

    ``group`` names the stream of their queueing order (one per kind of entrant, so the order of
    one kind never depends on what the other brings). Returns the firm-table rows of the admitted
    entrants (in the order of ``entrants``).
    """
    k = entrants["cluster"].size
    if k == 0:
        return np.zeros(0, dtype=np.intp)
    t = m.towns
    cluster, town = entrants["cluster"], entrants["town"].copy()
    transient = entrants.get("transient", np.zeros(k))
    logprod = entrants["permanent"] + transient + m.common_productivity
    capacity = entrants["revenue"] / m.efficiency() / START_UTILISATION
    floor = m.floor_per_capacity[cluster] * capacity
    talent = m.talent_per_capacity[cluster] * capacity
    mobile = (entrants["origin"] == ORIGIN_ATTRACTED) | (entrants["origin"] == ORIGIN_EXTERNAL)
    # a mobile project whose town has no usable floor for it looks at the town with the most
    room = (floor_market.usable(t, town, cluster, m.needs_modern) * t.vacant[town]).max(axis=1)
    best_town: dict[int, int] = {}  # per cluster, the town with the most usable vacant floor
    for i in np.flatnonzero(mobile & (room < floor)):
        c = int(cluster[i])
        if c not in best_town:
            room_c = (floor_market.usable(t, np.arange(t.n), np.full(t.n, c), m.needs_modern) * t.vacant).max(axis=1)
            best_town[c] = int(np.argmax(room_c))
        town[i] = best_town[c]
    order_key = m.stream(f"entry-order-{group}").random(k)
    ok = floor_market.usable(t, town, cluster, m.needs_modern)
    if m.rules.name == "numba":  # the same queue, compiled: one pass per pool, no sorting per pool
        from simulation.model.live_scans import house_and_staff

        order = np.lexsort((order_key, town))
        pool = np.full(k, -1, dtype=np.int64)
        admitted = np.zeros(k, dtype=bool)
        house_and_staff(town, ok, floor, talent, order, t.vacant, t.talent_free, floor_market.POOL_ORDER, pool,
                        admitted)
        unstaffed = (pool >= 0) & ~admitted
        m.talent_unfilled += float(talent[unstaffed].sum())
    else:
        pool = floor_market.house(t, town, ok, floor, order_key)
        # staffing, in the same order within each town: first come, first staffed
        housed = np.flatnonzero(pool >= 0)
        housed = housed[np.lexsort((order_key[housed], town[housed]))]
        need = np.cumsum(talent[housed])
        first = np.searchsorted(town[housed], np.arange(t.n))
        before = np.concatenate([[0.0], need])[first][town[housed]]
        staffed = housed[need - before <= t.talent_free[town[housed]] + 1e-9]
        admitted = np.zeros(k, dtype=bool)
        admitted[staffed] = True
        unstaffed = (pool >= 0) & ~admitted
        m.talent_unfilled += float(talent[unstaffed].sum())
        floor_market.unhouse(t, town[unstaffed], pool[unstaffed], floor[unstaffed])
        t.talent_free -= np.bincount(town[admitted], weights=talent[admitted], minlength=t.n)
    if not admitted.any():
        return np.zeros(0, dtype=np.intp)
    sel = admitted
    b = m.p.behaviour
    rev = entrants["revenue"][sel]
    cap_rev = m.efficiency() * capacity[sel]
    rows = m.firms.append(
        int(sel.sum()),
        cluster=cluster[sel],
        town=town[sel],
        revenue=rev,
        capacity=capacity[sel],
        target=entrants["target"][sel],
        prod_permanent=entrants["permanent"][sel],
        prod_transient=transient[sel],
        absorptive=absorptive_capacity(entrants["permanent"][sel]),
        knowledge=1.0,
        logprod=logprod[sel],
        rd=m.rd_intensity[cluster[sel]] * rev,
        rd_base=m.rd_intensity[cluster[sel]] * rev,
        # founders bring half the first investment in cash; the other half is the installed capital
        cash=b.capital_per_revenue * cap_rev * 0.5,
        capital=b.capital_per_revenue * cap_rev,
        above_scale=is_above_scale(m, rev, cluster[sel]),
        origin=entrants["origin"][sel],
        birth_step=m.steps,
    )
    m.on_entry(rows)
    return np.arange(rows.start, rows.stop)
