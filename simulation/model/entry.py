"""New firms: spin-offs from local incumbents and investment attracted by the agencies.

Spin-offs arise in proportion to the firms of a cluster in a town (they stay in the parent's
industry and region, Klepper), more so in a core zone (zone effects work mostly through entry,
Alder, Shao & Zilibotti 2016). Entrants are small, below the cluster's productivity with more
dispersion (Foster, Haltiwanger & Syverson 2008), and grow towards a target size if they can
finance, house and staff it. Attracted investors (客商库) are larger, more productive, and go to
the cluster's core zones first. Every entrant needs floor space in its town at once: without
vacant floor it does not come (investors try the town with the most floor they may use).
Investment projects also come without agency effort, in proportion to a cluster's size
(``external_requests``), and core zones pull them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simulation.datapack import ABOVE_SCALE_THRESHOLD
from simulation.model import floor_market
from simulation.model.firm_rules import absorptive_capacity
from simulation.model.firm_table import ORIGIN_ATTRACTED, ORIGIN_EXTERNAL, ORIGIN_SPINOFF

if TYPE_CHECKING:
    from simulation.model.model import ClusterModel

SPINOFF_SIZE = (2.0, 8.0)  # M CNY a year at entry, log-uniform (ASSUMPTION)
SPINOFF_TARGET_LOG = (1.3, 0.8)  # log of target / entry size: mean, sd (ASSUMPTION)
ATTRACTED_START_SHARE = 0.25  # an attracted firm starts at this share of its target
ATTRACTED_PREMIUM = 0.1  # their log-TFP above the cluster frontier
ATTRACTED_TO_ZONE = 0.8  # probability an attracted firm picks one of its cluster's core zones
ENTRANT_DISPERSION = 1.3  # entrants' productivity dispersion relative to incumbents


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
    permanent = -b.entrant_productivity_gap + ENTRANT_DISPERSION * b.productivity_dispersion * rng.standard_normal(k)
    return dict(cluster=cluster, town=town, revenue=revenue, target=target, permanent=permanent,
                origin=np.full(k, ORIGIN_SPINOFF))


def external_requests(m: ClusterModel) -> list[tuple[int, int]]:
    """Investment projects that come without agency effort, in proportion to the cluster's size.

    Core zones pull more of them (zone effects work through capital and entry, Alder, Shao &
    Zilibotti 2016): a cluster with zones gets its best zone's entry multiplier.
    """
    f, n = m.firms, m.firms.n
    above = np.bincount(f.cluster[:n], weights=f.above_scale[:n], minlength=m.n_clusters)
    pull = np.where(m.towns.zone.any(axis=0), m.towns.zone_multiplier.max(axis=0), 1.0)
    expected = m.p.policy.investment_inflow / 100.0 * m.dt * above * pull
    counts = m.stream("external-count").poisson(expected)
    return [(c, int(k)) for c, k in enumerate(counts) if k]


def attracted(m: ClusterModel, requests: list[tuple[int, int]], origin: int = ORIGIN_ATTRACTED) -> dict:
    """Entrants for (cluster, count) investment requests of this step, agencies' or external."""
    if not requests:
        return dict(cluster=np.zeros(0, int), town=np.zeros(0, int), revenue=np.zeros(0), target=np.zeros(0),
                    permanent=np.zeros(0), origin=np.zeros(0, np.int8))
    cluster = np.concatenate([np.full(k, c) for c, k in requests])
    k = cluster.size
    rng = m.stream(f"investor-traits-{origin}")
    zone_weight = m.towns.zone_multiplier * m.towns.zone  # (town, cluster), 0 outside zones
    to_zone = zone_weight.any(axis=0)[cluster] & (rng.random(k) < ATTRACTED_TO_ZONE)
    weights = np.where(to_zone[:, None], zone_weight[:, cluster].T, m.location_weights[:, cluster].T)
    cdf = np.cumsum(weights, axis=1)
    town = (rng.random(k)[:, None] * cdf[:, -1:] > cdf).sum(axis=1)
    pol = m.p.policy
    target = pol.attracted_firm_size * np.exp(0.5 * rng.standard_normal(k) - 0.125)
    permanent = ATTRACTED_PREMIUM + m.p.behaviour.productivity_dispersion * rng.standard_normal(k)
    return dict(cluster=cluster, town=town, revenue=ATTRACTED_START_SHARE * target, target=target,
                permanent=permanent, origin=np.full(k, origin))


def admit(m: ClusterModel, entrants: dict) -> np.ndarray:
    """Give entrants floor space; those who find none do not enter. Returns the admitted mask."""
    k = entrants["cluster"].size
    if k == 0:
        return np.zeros(0, dtype=bool)
    t = m.towns
    cluster, town = entrants["cluster"], entrants["town"].copy()
    logprod = entrants["permanent"] + m.common_productivity
    capacity = entrants["revenue"] / np.exp(logprod) / 0.9
    floor = m.floor_per_capacity[cluster] * capacity
    attracted_ = np.isin(entrants["origin"], (ORIGIN_ATTRACTED, ORIGIN_EXTERNAL))
    # an attracted investor whose town has no usable floor goes to the town with the most
    room = (floor_market.usable(t, town, cluster, m.needs_modern) * t.vacant[town]).max(axis=1)
    short = attracted_ & (room < floor)
    for i in np.flatnonzero(short):
        room = (floor_market.usable(t, np.arange(t.n), np.full(t.n, cluster[i]), m.needs_modern) * t.vacant).max(axis=1)
        town[i] = int(np.argmax(room))
    order_key = m.stream(f"entry-order-{int(entrants['origin'][0])}").random(k)
    admitted = floor_market.house(t, town, floor_market.usable(t, town, cluster, m.needs_modern), floor, order_key)
    talent = np.bincount(town[admitted], weights=m.talent_per_capacity[cluster[admitted]] * capacity[admitted],
                         minlength=t.n)
    t.talent_free = np.maximum(t.talent_free - talent, 0.0)
    if admitted.any():
        sel = admitted
        b = m.p.behaviour
        rev = entrants["revenue"][sel]
        cap_rev = np.exp(logprod[sel]) * capacity[sel]
        rows = m.firms.append(
            int(sel.sum()),
            cluster=cluster[sel],
            town=town[sel],
            revenue=rev,
            capacity=capacity[sel],
            target=entrants["target"][sel],
            prod_permanent=entrants["permanent"][sel],
            prod_transient=0.0,
            absorptive=absorptive_capacity(entrants["permanent"][sel]),
            knowledge=1.0,
            logprod=logprod[sel],
            rd=m.rd_intensity[cluster[sel]] * rev,
            cash=b.capital_per_revenue * cap_rev * 0.5,
            capital=b.capital_per_revenue * cap_rev,
            above_scale=rev >= ABOVE_SCALE_THRESHOLD,
            origin=entrants["origin"][sel],
            birth_step=m.steps,
        )
        m.on_entry(rows)
    return admitted
