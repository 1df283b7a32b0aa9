"""The region's finite pipeline of mobile investment projects, and the share Dongguan wins.

Each step a Poisson number of investment projects in each cluster's industry look for a location
in the region (the Pearl River Delta). The pipeline is finite and sized by the cluster: its mean is
proportional to the cluster's above-scale firms in Dongguan in 2020, a proxy for the industry's
regional scale. Dongguan competes with the other cities for each project (places compete with incentive
packages for a limited stream of mobile plants; Greenstone, Hornbeck & Moretti 2010) and wins it
with a logit share

    odds(s) = odds(s0) × promotion × incentives × rents^(−rent_sensitivity) × zone pull

- ``s0`` (``base_win_share``): Dongguan's share at its 2020 offer with no agency. With it,
  ``investment_inflow`` projects a year per 100 above-scale firms come without agency effort, so
  the region's pipeline is ``investment_inflow / s0`` per 100 firms;
- promotion: ``1 + promotion_effect × saturating(spend per pipeline project)``: diminishing returns;
- incentives: ``(1 + incentive_share)^incentive_elasticity`` where the agency offers a package;
- rents: the cluster's rent index where it locates (2020 = 1): scarce floor deters investors;
- zone pull: core zones attract projects (zone effects work through capital and entry; Alder, Shao
  & Zilibotti 2016), as strong as the zone money behind them.

Every project draws one uniform ``u``, its ranking of Dongguan, and comes when ``u < s``. The same
project with the same ``u`` and traits is in the pipeline of every scenario run with the same seed,
so the projects an agency adds are exactly those with ``s_base ≤ u < s``, where ``s_base`` is the
share without the agency's promotion and incentives (origin "attracted"); the rest would have come
anyway (origin "external"), even where the agency handled them and the city paid their package.
Won projects still need floor and talent at once (:func:`simulation.model.entry.admit`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.special import ndtri

from simulation.model.agency import saturating
from simulation.model.firm_table import ORIGIN_ATTRACTED, ORIGIN_EXTERNAL

if TYPE_CHECKING:
    from simulation.model.model import ClusterModel

ATTRACTED_PREMIUM = 0.1  # mobile projects' log-TFP above the cluster mean (ASSUMPTION)
ATTRACTED_START_SHARE = 0.25  # a won project starts at this share of its target size
TO_ZONE = 0.8  # probability a project picks one of its cluster's core zones where it has any


def odds(p: np.ndarray) -> np.ndarray:
    return p / (1.0 - p)


def share(odds_: np.ndarray) -> np.ndarray:
    return odds_ / (1.0 + odds_)


def win_shares(m: ClusterModel, pipeline_per_year: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dongguan's share of each cluster's projects with the agencies' offer, and without it."""
    pol = m.p.policy
    weights = m.location_weights / m.location_weights.sum(axis=0)
    rent = (m.towns.rent_index[:, None] * weights).sum(axis=0)
    zone_pull = np.where(m.towns.zone.any(axis=0), (m.towns.zone_multiplier * m.towns.zone).max(axis=0), 1.0)
    base = odds(np.full(m.n_clusters, pol.base_win_share)) * rent ** (-pol.rent_sensitivity) * zone_pull
    promotion = np.ones(m.n_clusters)
    incentives = np.ones(m.n_clusters)
    for agency in m.agencies:
        c = agency.cluster
        if agency.promotion_spend > 0 and pipeline_per_year[c] > 0:
            spend = agency.promotion_spend / pipeline_per_year[c]
            promotion[c] = 1.0 + pol.promotion_effect * saturating(spend, pol.promotion_half_cost)
        if agency.offers_incentives:
            incentives[c] = (1.0 + agency.lever.incentive_share) ** pol.incentive_elasticity
    return share(base * promotion * incentives), share(base)


def pipeline_per_year(m: ClusterModel) -> np.ndarray:
    """Each cluster's regional pipeline, projects a year: sized by its above-scale firms in 2020.

    The region's stream of mobile projects does not follow Dongguan's own growth; sized by the
    start state it is the same in every scenario run with the same seed, so the same projects
    arrive whatever the policy (common random numbers).
    """
    pol = m.p.policy
    return pol.investment_inflow / 100.0 * m.abovescale_2020 / pol.base_win_share


def pipeline(m: ClusterModel) -> dict:
    """This step's won projects as entrants (with origin attracted or external), before admission."""
    pol = m.p.policy
    per_year = pipeline_per_year(m)
    counts = m.stream("investor-pipeline").poisson(per_year * m.dt)
    with_agency, without = win_shares(m, per_year)
    cluster = np.repeat(np.arange(m.n_clusters), counts)
    k = cluster.size
    rng = m.stream("investor-projects")  # one block of draws per project, the same in every scenario
    u, zone_draw, town_draw, size_draw, prod_draw = rng.random((5, k)) if k else np.zeros((5, 0))
    won = u < with_agency[cluster]
    origin = np.where(u < without[cluster], ORIGIN_EXTERNAL, ORIGIN_ATTRACTED).astype(np.int8)
    zone_weight = m.towns.zone_multiplier * m.towns.zone  # (town, cluster), 0 outside zones
    to_zone = zone_weight.any(axis=0)[cluster] & (zone_draw < TO_ZONE)
    weights = np.where(to_zone[:, None], zone_weight[:, cluster].T, m.location_weights[:, cluster].T)
    cdf = np.cumsum(weights, axis=1)
    town = (town_draw[:, None] * cdf[:, -1:] > cdf).sum(axis=1)
    target = pol.attracted_firm_size * np.exp(0.5 * ndtri(size_draw) - 0.125)
    permanent = ATTRACTED_PREMIUM + m.p.behaviour.productivity_dispersion * ndtri(prod_draw)
    return dict(
        cluster=cluster[won], town=town[won], revenue=target[won] * ATTRACTED_START_SHARE,
        target=target[won], permanent=permanent[won], origin=origin[won],
    )
