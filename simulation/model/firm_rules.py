"""Firms' decision rules, vectorised over every firm (the Firm agent's behaviour).

Each function applies one rule to all firms of a model at once. Firms revise their plans once a
year, each in its own quarter (``row % steps_per_year``): that is when they take an idiosyncratic
growth shock and a productivity innovation (both Laplace-shaped: growth rates are tent-shaped,
Stanley et al. 1996; Bottazzi & Secchi 2006), set R&D and apply for subsidies. Every quarter they
produce, expand towards demand where floor space, talent and finance allow, account profits and
may exit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simulation.datapack import ABOVE_SCALE_THRESHOLD, EMERGING, PILLARS, CLUSTER_INDEX
from simulation.model import floor_market
from simulation.model.allocation import pro_rata

if TYPE_CHECKING:
    from simulation.model.model import ClusterModel

KNOWLEDGE_DEPRECIATION = 0.15  # a year, of the R&D knowledge stock (Hall, Mairesse & Mohnen 2010)
CATCH_UP_RATE = 1.0  # a year: young firms close this share (in logs) of the gap to their target size
IDLE_COST = 0.10  # margin lost per unit of idle capacity
SHRINK_UTILISATION = 0.7  # below this utilisation a firm sheds capacity ...
SHRINK_SPEED = 0.10  # ... closing this share of the excess a quarter
MATURE_YEARS = 3.0  # younger firms, and below-scale firms, are finance-constrained
CONSTRAINED_ACCESS = 0.3  # their credit access relative to mature above-scale firms
SME_REVENUE = 400.0  # M CNY: firms below this benefit from matchmaking
MIN_REVENUE = 0.5  # M CNY a year: below this a firm closes
YOUNG_YEARS = 2.0  # age below which the extra exit hazard applies
DEMAND_ELASTICITY = 3.0  # sigma, elasticity of substitution between firms' varieties (Hsieh & Klenow 2009)
REVENUE_TFP_ELASTICITY = (DEMAND_ELASTICITY - 1.0) / DEMAND_ELASTICITY  # short-run revenue response to TFP
EMERGING_IDX = np.array([CLUSTER_INDEX[c] for c in EMERGING])
PILLAR_IDX = np.array([CLUSTER_INDEX[c] for c in PILLARS])


def review_rows(m: ClusterModel) -> slice:
    """Rows revising their plans this step: every steps_per_year-th row, offset by the quarter."""
    return slice(m.steps % m.steps_per_year, m.firms.n, m.steps_per_year)


def size_factor(revenue: np.ndarray, b) -> np.ndarray:
    """Volatility falls with size as size**-beta (Stanley et al. 1996), 1 at the 20 M threshold."""
    return (np.maximum(revenue, 1e-3) / ABOVE_SCALE_THRESHOLD) ** (-b.size_volatility_exponent)


def absorptive_capacity(permanent: np.ndarray) -> np.ndarray:
    """Firms with more own capability absorb more spillovers and R&D (Giuliani & Bell 2005): 0..2."""
    return 2.0 / (1.0 + np.exp(-permanent / 0.5))


def unit_laplace(stream: np.random.Generator, k: int) -> np.ndarray:
    """Laplace draws with standard deviation 1 (inverse CDF of one uniform each)."""
    u = stream.random(k) - 0.5
    return -np.sign(u) * np.log1p(-2.0 * np.abs(u)) / np.sqrt(2.0)


def update_productivity(m: ClusterModel) -> None:
    """Log-TFP = permanent + AR(1) + R&D knowledge + agglomeration - congestion + common drift."""
    f, b, n = m.firms, m.p.behaviour, m.firms.n
    rr = review_rows(m)
    k = len(range(*rr.indices(n)))
    f.prod_transient[rr] = b.productivity_persistence * f.prod_transient[rr] + (
        b.productivity_volatility * size_factor(f.revenue[rr], b) * unit_laplace(m.stream("productivity"), k)
    )
    cluster, town = f.cluster[:n], f.town[:n]
    base_rd = m.rd_intensity[cluster] * f.revenue[:n]
    ratio = np.where(base_rd > 0, f.rd[:n] / np.maximum(base_rd, 1e-12), 1.0)
    f.knowledge[:n] += KNOWLEDGE_DEPRECIATION * m.dt * (ratio - f.knowledge[:n])
    absorptive = f.absorptive[:n]
    density = m.local_density_ratio()  # (cluster, town) employment relative to 2020
    agglomeration = b.agglomeration_elasticity * absorptive * density[cluster, town]
    congestion = b.congestion_elasticity * m.town_density_ratio()[town]
    rd_effect = b.rd_elasticity * absorptive * np.log(np.maximum(f.knowledge[:n], 1e-6))
    relative = f.prod_permanent[:n] + f.prod_transient[:n] + rd_effect + agglomeration - congestion
    m.productivity_change = relative - m.relative_productivity[:n]
    m.relative_productivity = relative
    alive = f.alive[:n]
    counts = np.bincount(cluster, weights=alive, minlength=m.n_clusters)
    sums = np.bincount(cluster, weights=np.where(alive, relative, 0.0), minlength=m.n_clusters)
    m.competitiveness = relative - (sums / np.maximum(counts, 1.0))[cluster]
    f.logprod[:n] = relative + m.common_productivity


def desired_revenue(m: ClusterModel) -> np.ndarray:
    """Revenue each firm's customers would buy this step (M CNY a year)."""
    f, b, n = m.firms, m.p.behaviour, m.firms.n
    cluster = f.cluster[:n]
    revenue = f.revenue[:n]
    growth = m.demand_growth[cluster] + b.selection_strength * m.relative_productivity
    growth += np.where(revenue < SME_REVENUE, m.matchmaking[cluster], 0.0)
    target = f.target[:n]
    catch_up = np.where(target > revenue, CATCH_UP_RATE * np.log(np.maximum(target, 1e-9) / np.maximum(revenue, 1e-9)), 0.0)
    # a change in relative TFP changes what the firm sells with the same inputs: with inputs fixed,
    # output rises one for one and its price falls, so revenue rises by (sigma - 1) / sigma of it
    log_change = (growth + catch_up) * m.dt + REVENUE_TFP_ELASTICITY * m.productivity_change
    rr = review_rows(m)
    scale = np.clip(b.growth_shock_scale * size_factor(revenue[rr], b), 0.01, 0.9)
    # log growth rates are Laplace around the expected growth (scale s: variance 2 s^2)
    log_change[rr] += np.sqrt(2.0) * scale * unit_laplace(m.stream("growth"), scale.size)
    return revenue * np.exp(log_change)


def expand_and_produce(m: ClusterModel, wanted: np.ndarray) -> None:
    """Expand capacity towards demand within floor, talent and finance; shed idle capacity."""
    f, b, t, n = m.firms, m.p.behaviour, m.towns, m.firms.n
    cluster, town = f.cluster[:n], f.town[:n]
    efficiency = np.exp(f.logprod[:n])
    need = wanted / efficiency - f.capacity[:n]
    grow = np.flatnonzero((need > 0) & f.alive[:n])
    if grow.size:
        c, tw, dx = cluster[grow], town[grow], need[grow]
        floor_req = m.floor_per_capacity[c] * dx
        floor_got = floor_market.ration(t, tw, floor_market.usable(t, tw, c, m.needs_modern), floor_req)
        floor_frac = floor_got.sum(axis=1) / floor_req
        talent_req = m.talent_per_capacity[c] * dx
        talent_frac = pro_rata(talent_req, tw, t.talent_free) / np.maximum(talent_req, 1e-12)
        invest_req = b.capital_per_revenue * dx * efficiency[grow]
        mature = (f.age[grow] >= MATURE_YEARS * m.steps_per_year) & f.above_scale[grow]
        access = np.where(mature, 1.0, CONSTRAINED_ACCESS + m.credit_boost[c])
        available = f.cash[grow] + b.finance_leverage * access * f.capital[grow]
        finance_frac = np.clip(available / np.maximum(invest_req, 1e-12), 0.0, 1.0)
        frac = np.minimum(np.minimum(floor_frac, talent_frac), finance_frac)
        added = frac * dx
        floor_market.take(t, tw, floor_got * (frac / np.maximum(floor_frac, 1e-300))[:, None])
        t.talent_free -= np.bincount(tw, weights=m.talent_per_capacity[c] * added, minlength=t.n)
        spend = b.capital_per_revenue * added * efficiency[grow]
        f.cash[grow] -= spend
        f.capital[grow] += spend
        f.capacity[grow] += added
    capacity = f.capacity[:n]
    utilisation = wanted / np.maximum(efficiency * capacity, 1e-12)
    shrink = np.flatnonzero((utilisation < SHRINK_UTILISATION) & f.alive[:n])
    if shrink.size:
        excess = capacity[shrink] - wanted[shrink] / efficiency[shrink] / 0.85
        shed = SHRINK_SPEED * np.maximum(excess, 0.0)
        release_inputs(m, shrink, shed)
        f.capacity[shrink] -= shed
    f.revenue[:n] = np.where(f.alive[:n], np.minimum(wanted, efficiency * f.capacity[:n]), 0.0)


def release_inputs(m: ClusterModel, rows: np.ndarray, capacity: np.ndarray) -> None:
    """Return the floor space and talent of ``capacity`` units to their towns' pools."""
    c, tw = m.firms.cluster[rows], m.firms.town[rows]
    floor_market.release(m.towns, tw, c, m.floor_per_capacity[c] * capacity, m.needs_modern)
    m.towns.talent_free += np.bincount(tw, weights=m.talent_per_capacity[c] * capacity, minlength=m.towns.n)


def account_and_exit(m: ClusterModel) -> np.ndarray:
    """Book profits; exit after persistent losses, tiny revenue, or early failure. Returns exiting rows."""
    f, b, n = m.firms, m.p.behaviour, m.firms.n
    alive = f.alive[:n]
    revenue = f.revenue[:n]
    efficiency = np.exp(f.logprod[:n])
    utilisation = revenue / np.maximum(efficiency * f.capacity[:n], 1e-12)
    margin = (
        b.base_margin
        + b.margin_slope * m.competitiveness
        - m.p.land.rent_cost_share * (m.towns.rent_index[f.town[:n]] - 1.0)
        - IDLE_COST * (1.0 - np.minimum(utilisation, 1.0))
    )
    profit = margin * revenue
    f.cash[:n] += profit * m.dt
    f.loss_streak[:n] = np.where(alive & (profit < 0), f.loss_streak[:n] + 1, np.where(alive, 0, f.loss_streak[:n]))
    f.age[:n] += alive
    exits = alive & ((f.loss_streak[:n] >= m.exit_loss_steps) | (revenue < MIN_REVENUE))
    rr = review_rows(m)
    young = alive[rr] & (f.age[rr] < YOUNG_YEARS * m.steps_per_year)
    fail = young & (m.stream("early-failure").random(young.size) < b.exit_hazard_young)
    exits[rr] |= fail
    return np.flatnonzero(exits)


def rd_and_subsidies(m: ClusterModel) -> np.ndarray:
    """Set R&D of this step's reviewing firms; grant R&D subsidies to screened applicants.

    Returns the grants by cluster (M CNY). A grant raises reported R&D by ``rd_response`` per
    yuan; ``relabel_share`` of that increase is relabelling, not real R&D (Chen et al. 2021).
    """
    f, b, n = m.firms, m.p.behaviour, m.firms.n
    rows = np.arange(*review_rows(m).indices(n))
    rows = rows[f.alive[rows]]
    cluster = f.cluster[rows]
    base = m.rd_intensity[cluster] * f.revenue[rows]
    f.rd[rows] = base
    grants = np.zeros(len(m.rd_intensity))
    lever = m.levers.subsidy
    if not lever.enabled or rows.size == 0:
        return grants
    budget = lever.rd_budget * 100.0 * m.dt
    truth = m.relative_productivity[rows]
    truth = (truth - truth.mean()) / max(truth.std(), 1e-9)
    score = m.screening_score(truth)
    for group, share in ((EMERGING_IDX, lever.emerging_share), (PILLAR_IDX, 1.0 - lever.emerging_share)):
        apply = np.flatnonzero(np.isin(cluster, group) & (base >= 0.5))
        if apply.size == 0:
            continue
        order = apply[np.argsort(-score[apply], kind="stable")]
        grant = lever.max_share_of_rd * base[order]
        take = np.cumsum(grant) <= budget * share
        chosen, amount = rows[order[take]], grant[take]
        f.cash[chosen] += amount
        real_extra = (1.0 - b.relabel_share) * b.rd_response * amount
        f.rd[chosen] = np.maximum(f.rd[chosen] + real_extra, 0.1 * base[order[take]])
        np.add.at(grants, f.cluster[chosen], amount)
    return grants
