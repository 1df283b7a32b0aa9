"""Firms' decision rules, vectorised over every firm (the Firm agent's behaviour).

Each function applies one rule to all firms of a model at once. Firms revise their plans once a
year, each in its own quarter (``row % steps_per_year``): that is when they take an idiosyncratic
growth shock and a productivity innovation (both Laplace-shaped: growth rates are tent-shaped,
Stanley et al. 1996; Bottazzi & Secchi 2006), set R&D and apply for subsidies. Every quarter they
produce, expand towards demand where floor space, talent and finance allow, pay their R&D and the
interest on their credit from cash (rents and skilled wages pass into their prices at a markup), and
may exit.

Money inside the model is in constant 2020 yuan (M CNY); :mod:`simulation.model.prices` converts
at the statistics' border (the above-scale threshold is in current yuan).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING

import numpy as np

from simulation.datapack import ABOVE_SCALE_THRESHOLD, CLUSTER_INDEX, EMERGING, PILLARS
from simulation.model import floor_market
from simulation.model.agency import SME_REVENUE
from simulation.model.allocation import pro_rata

if TYPE_CHECKING:
    from simulation.model.model import ClusterModel

KNOWLEDGE_DEPRECIATION = 0.15  # a year, of the R&D knowledge stock (Hall, Mairesse & Mohnen 2010)
CATCH_UP_RATE = 1.0  # a year: young firms close this share (in logs) of the gap to their target size
CATCH_UP_YEARS = 5.0  # a firm's target size expires at this age
IDLE_COST = 0.10  # margin lost per unit of idle capacity
SHRINK_UTILISATION = 0.7  # below this utilisation a firm sheds capacity ...
SHRINK_SPEED = 0.35  # ... closing this share of the excess a year
MATURE_YEARS = 3.0  # younger firms, and below-scale firms, are finance-constrained
CONSTRAINED_ACCESS = 0.3  # their credit access relative to mature above-scale firms
MIN_REVENUE = 0.5  # M CNY a year: below this a firm closes
YOUNG_YEARS = 2.0  # age below which the extra exit hazard applies
DEMAND_ELASTICITY = 3.0  # sigma, elasticity of substitution between firms' varieties (Hsieh & Klenow 2009)
REVENUE_TFP_ELASTICITY = (DEMAND_ELASTICITY - 1.0) / DEMAND_ELASTICITY  # revenue response to TFP
MARKUP = DEMAND_ELASTICITY / (DEMAND_ELASTICITY - 1.0)  # price over marginal cost at a constant markup
DENSITY_FLOOR = 500.0  # persons: agglomeration compares cell employment + this with 2020's + this
EMERGING_IDX = np.array([CLUSTER_INDEX[c] for c in EMERGING])
PILLAR_IDX = np.array([CLUSTER_INDEX[c] for c in PILLARS])
MAX_SHOCK_SCALE = 0.9  # the Laplace scale of a growth shock is clipped here (its mean needs scale < 1)


def review_rows(m: ClusterModel) -> slice:
    """Rows revising their plans this step: every steps_per_year-th row, offset by the quarter."""
    return slice(m.steps % m.steps_per_year, m.firms.n, m.steps_per_year)


def size_factor(revenue: np.ndarray, b) -> np.ndarray:
    """Volatility falls with size as size**-beta (Stanley et al. 1996), 1 at the 20 M threshold."""
    return (np.maximum(revenue, 1e-3) / ABOVE_SCALE_THRESHOLD) ** (-b.size_volatility_exponent)


def absorptive_capacity(permanent: np.ndarray) -> np.ndarray:
    """Firms with more own capability absorb more spillovers and R&D (Giuliani & Bell 2005): 0..2."""
    return 2.0 / (1.0 + np.exp(-permanent / 0.5))


def efficiency(common_productivity: float) -> float:
    """Real revenue a unit of capacity yields at full use, the same for every firm.

    In a CES market with a constant markup, revenue per unit of input (TFPR) is equalised across
    an industry's firms (Hsieh & Klenow 2009): a firm with higher TFP sells more at a lower price
    and needs proportionally more floor, talent and capital to do it. So a firm's own productivity
    moves its demand (:func:`desired_revenue`), not its inputs per yuan; only the common drift,
    which lowers real unit costs everywhere, raises real revenue per unit of capacity, by
    (sigma - 1) / sigma of the log-TFP change.
    """
    return float(np.exp(REVENUE_TFP_ELASTICITY * common_productivity))


def is_above_scale(m: ClusterModel, revenue: np.ndarray, cluster: np.ndarray) -> np.ndarray:
    """Above scale in the statistics: current-yuan annual revenue of at least 20 M CNY."""
    return revenue * m.price_level[cluster] >= ABOVE_SCALE_THRESHOLD


def unit_laplace(stream: np.random.Generator, k: int) -> np.ndarray:
    """Laplace draws with standard deviation 1 (inverse CDF of one uniform each)."""
    u = stream.random(k) - 0.5
    return -np.sign(u) * np.log1p(-2.0 * np.abs(u)) / np.sqrt(2.0)


def activity(stream: np.random.Generator, k: int) -> np.ndarray:
    """How eventful each reviewing firm's year is: Exponential(1), mean 1.

    A firm's year is a random number of events (contracts won and lost, products, process
    changes; Bottazzi & Secchi 2006); the variance of its productivity and demand innovations
    scales with it. A normal draw times the square root of an Exponential(1) is a Laplace draw,
    so both innovations are Laplace, and so is their sum, whatever the split between them:
    growth rates stay tent-shaped at every size (Stanley et al. 1996).
    """
    return stream.exponential(1.0, k)


def tent(stream: np.random.Generator, activity_: np.ndarray) -> np.ndarray:
    """Unit-variance Laplace innovations of firms with the given activity (normal × sqrt(activity))."""
    return np.sqrt(activity_) * stream.standard_normal(activity_.size)


def laplace_mean_correction(scale: np.ndarray) -> np.ndarray:
    """log E[exp(X)] of a Laplace X with location 0 and scale b < 1: -log(1 - b^2).

    Subtracting it makes a log-Laplace growth shock mean-one in levels, so shocks spread firms'
    growth without raising it on average.
    """
    return -np.log1p(-scale * scale)


def update_productivity(m: ClusterModel) -> None:
    """Log-TFP = permanent + AR(1) transient + R&D knowledge + agglomeration - congestion + common drift.

    The transient part reverts at ``productivity_persistence`` a year (prior 0.6-0.9, evidence.md)
    with Laplace innovations of sd ``productivity_volatility``; entrants start with a negative
    transient part and learn as it reverts.
    """
    f, b, n = m.firms, m.p.behaviour, m.firms.n
    rr = review_rows(m)
    k = len(range(*rr.indices(n)))
    m.activity = activity(m.stream("activity"), k)  # this step's reviewing firms; also scales their growth shock
    innovation = b.productivity_volatility * size_factor(f.revenue[rr], b) * tent(m.stream("productivity"), m.activity)
    # every reviewing row draws (so the draws of a row do not depend on others' exits); only the living move
    f.prod_transient[rr] = np.where(f.alive[rr], b.productivity_persistence * f.prod_transient[rr] + innovation,
                                    f.prod_transient[rr])
    cluster, town = f.cluster[:n], f.town[:n]
    ratio = np.where(f.rd_base[:n] > 0, f.rd[:n] / np.maximum(f.rd_base[:n], 1e-12), 1.0)
    f.knowledge[:n] += KNOWLEDGE_DEPRECIATION * m.dt * (ratio - f.knowledge[:n])
    absorptive = f.absorptive[:n]
    density = m.local_density_ratio()  # (cluster, town) employment relative to 2020
    agglomeration = b.agglomeration_elasticity * absorptive * density[cluster, town]
    congestion = b.congestion_elasticity * m.town_density_ratio()[town]
    rd_effect = b.rd_elasticity * absorptive * np.log(np.maximum(f.knowledge[:n], 1e-6))
    relative = f.prod_permanent[:n] + f.prod_transient[:n] + rd_effect + agglomeration - congestion
    m.productivity_change = relative - m.relative_productivity[:n]
    m.relative_productivity = relative
    # relative to the cluster's revenue-weighted mean, so that selection moves demand between a
    # cluster's firms and adds none to the cluster: sum(revenue x competitiveness) = 0
    weight = np.where(f.alive[:n], f.revenue[:n], 0.0)
    totals = np.bincount(cluster, weights=weight, minlength=m.n_clusters)
    sums = np.bincount(cluster, weights=weight * relative, minlength=m.n_clusters)
    m.competitiveness = relative - (sums / np.maximum(totals, 1e-12))[cluster]
    f.logprod[:n] = relative + m.common_productivity


def desired_revenue(m: ClusterModel) -> np.ndarray:
    """Real revenue each firm's customers would buy this step (M CNY a year, 2020 prices).

    Market growth, plus selection (firms more productive than their cluster's current
    revenue-weighted mean gain share, those below lose it) and the revenue effect of this step's own
    productivity change, both a reallocation within the cluster whose spread adds no demand
    (:func:`jensen_gap`), plus the agency's matchmaking for
    small members, plus catch-up to a young firm's target size, less the effect of this step's change in factor prices (rent,
    the skilled-wage premium): passed into prices in full, as a constant markup does, a cost change
    of x % of revenue loses (sigma - 1) x % of revenue, plus a mean-one Laplace shock at the annual
    review.
    """
    f, b, n = m.firms, m.p.behaviour, m.firms.n
    cluster = f.cluster[:n]
    revenue = f.revenue[:n]
    growth = m.demand_growth[cluster] + np.where(revenue < SME_REVENUE, m.matchmaking[cluster], 0.0)
    target = f.target[:n]
    catch_up = np.where(target > revenue, CATCH_UP_RATE * np.log(np.maximum(target, 1e-9) / np.maximum(revenue, 1e-9)), 0.0)
    # selection and own productivity change move demand between a cluster's firms (see jensen_gap)
    shift = b.selection_strength * m.competitiveness * m.dt + REVENUE_TFP_ELASTICITY * m.productivity_change
    shift -= jensen_gap(shift, np.where(f.alive[:n], revenue, 0.0), cluster, m.n_clusters)[cluster]
    log_change = (growth + catch_up) * m.dt + shift - (DEMAND_ELASTICITY - 1.0) * cost_change(m, cluster, f.town[:n])
    rr = review_rows(m)
    scale = np.clip(b.growth_shock_scale * size_factor(revenue[rr], b), 0.01, MAX_SHOCK_SCALE)
    # log growth rates are Laplace around the expected growth (scale s: variance 2 s^2), mean one in levels
    log_change[rr] += np.sqrt(2.0) * scale * tent(m.stream("growth"), m.activity) - laplace_mean_correction(scale)
    return revenue * np.exp(np.where(f.alive[:n], log_change, 0.0))  # the closed sell nothing


def jensen_gap(log_change: np.ndarray, weight: np.ndarray, cluster: np.ndarray, n_clusters: int) -> np.ndarray:
    """Per cluster: log of the weighted mean of exp(log_change), less the weighted mean of log_change.

    Firms' own productivity changes and selection move a cluster's demand between its firms: in a
    CES market (Hsieh & Klenow 2009) a firm that becomes more productive takes share from the
    others. Their revenue-weighted mean in logs carries what the cluster as a whole gains (R&D,
    agglomeration, entrants learning); their spread must add nothing. Without this correction the
    spread alone would raise the cluster's revenue (exp is convex: E[exp(x)] > exp(E[x])), by
    several points a year at the calibrated productivity volatility. Subtracting the gap leaves
    sum(weight * exp(log_change)) = sum(weight) * exp(weighted mean of log_change) in each cluster.
    """
    total = np.bincount(cluster, weights=weight, minlength=n_clusters)
    level = np.bincount(cluster, weights=weight * np.exp(log_change), minlength=n_clusters)
    mean = np.bincount(cluster, weights=weight * log_change, minlength=n_clusters)
    safe = np.maximum(total, 1e-12)
    return np.where(total > 0, np.log(np.maximum(level, 1e-300) / safe) - mean / safe, 0.0)


def cost_change(m: ClusterModel, cluster: np.ndarray, town: np.ndarray) -> np.ndarray:
    """This step's change in each firm's unit cost from factor prices, as a share of its revenue.

    Rent: ``rent_cost_share`` of revenue at 2020 rents, times the change in log rent. Skilled wages:
    the skilled wage bill per yuan of revenue (falling with the common drift, the same for every
    firm of a cluster: see :func:`efficiency`), times the change in log(1 + premium). Times the markup: the change in unit cost.
    """
    skilled_share = m.skilled_wage_share[cluster] / efficiency(m.common_productivity)
    # at a constant markup sigma / (sigma - 1) the price moves with unit cost, and a cost that is a
    # share s of revenue is a share s * sigma / (sigma - 1) of unit cost
    return MARKUP * (m.p.land.rent_cost_share * m.rent_change[town] + skilled_share * m.wage_change)


def credit_limit(m: ClusterModel, rows: np.ndarray | slice) -> np.ndarray:
    """M CNY of credit a firm may draw: ``finance_leverage`` times its capital, less for constrained firms."""
    f, b = m.firms, m.p.behaviour
    constrained = m.finance_constrained(rows)
    access = np.where(constrained, CONSTRAINED_ACCESS + m.credit_boost[f.cluster[rows]], 1.0)
    return b.finance_leverage * access * f.capital[rows]


def expand_and_produce(m: ClusterModel, wanted: np.ndarray) -> None:
    """Expand capacity towards demand within floor, talent and finance; shed idle capacity."""
    f, b, t, n = m.firms, m.p.behaviour, m.towns, m.firms.n
    cluster, town = f.cluster[:n], f.town[:n]
    eff = efficiency(m.common_productivity)  # the same for every firm
    need = wanted / eff - f.capacity[:n]
    grow = np.flatnonzero((need > 0) & f.alive[:n])
    if grow.size:
        c, tw, dx = cluster[grow], town[grow], need[grow]
        floor_req = m.floor_per_capacity[c] * dx
        floor_got = floor_market.ration(t, tw, floor_market.usable(t, tw, c, m.needs_modern), floor_req)
        floor_frac = floor_got.sum(axis=1) / floor_req
        talent_req = m.talent_per_capacity[c] * dx
        talent_frac = pro_rata(talent_req, tw, t.talent_free) / np.maximum(talent_req, 1e-12)
        invest_req = b.capital_per_revenue * dx * eff
        available = np.maximum(f.cash[grow] + credit_limit(m, grow), 0.0)
        finance_frac = np.clip(available / np.maximum(invest_req, 1e-12), 0.0, 1.0)
        frac = np.minimum(np.minimum(floor_frac, talent_frac), finance_frac)
        added = frac * dx
        # skilled workers wanted and not found: what raises the scarcity premium
        m.talent_unfilled += float((talent_req * np.maximum(np.minimum(floor_frac, finance_frac) - talent_frac, 0.0)).sum())
        floor_market.take(t, tw, floor_got * (frac / np.maximum(floor_frac, 1e-300))[:, None])
        t.talent_free -= np.bincount(tw, weights=m.talent_per_capacity[c] * added, minlength=t.n)
        spend = b.capital_per_revenue * added * eff
        f.cash[grow] -= spend
        f.capital[grow] += spend
        f.capacity[grow] += added
    capacity = f.capacity[:n]
    utilisation = wanted / np.maximum(eff * capacity, 1e-12)
    shrink = np.flatnonzero((utilisation < SHRINK_UTILISATION) & f.alive[:n])
    if shrink.size:
        excess = capacity[shrink] - wanted[shrink] / eff / 0.85
        shed = SHRINK_SPEED * m.dt * np.maximum(excess, 0.0)
        release_inputs(m, shrink, shed)
        # the shed capacity's capital is written off (sold for scrap)
        f.capital[shrink] *= 1.0 - shed / np.maximum(capacity[shrink], 1e-12)
        f.capacity[shrink] -= shed
    f.revenue[:n] = np.where(f.alive[:n], np.minimum(wanted, eff * f.capacity[:n]), 0.0)


def release_inputs(m: ClusterModel, rows: np.ndarray, capacity: np.ndarray) -> None:
    """Return the floor space and talent of ``capacity`` units to their towns' pools."""
    c, tw = m.firms.cluster[rows], m.firms.town[rows]
    floor_market.release(m.towns, tw, c, m.floor_per_capacity[c] * capacity, m.needs_modern)
    m.towns.talent_free += np.bincount(tw, weights=m.talent_per_capacity[c] * capacity, minlength=m.towns.n)


def account_and_exit(m: ClusterModel) -> np.ndarray:
    """Book profits; exit after persistent losses, tiny revenue, insolvency or early failure.

    Profit is the operating margin before R&D (``base_margin`` is the margin of an average firm
    after its usual R&D), less the R&D the firm actually does, the cost of idle capacity and
    interest on drawn credit. Rents and skilled wages move prices, not margins: firms pass factor
    costs on at a constant markup (see :func:`desired_revenue`). A firm whose debt exceeds its credit
    limit while it makes losses cannot roll its credit over and closes. Returns the exiting rows.
    """
    f, b, n = m.firms, m.p.behaviour, m.firms.n
    alive = f.alive[:n]
    revenue = f.revenue[:n]
    cluster = f.cluster[:n]
    utilisation = revenue / np.maximum(efficiency(m.common_productivity) * f.capacity[:n], 1e-12)
    margin = (
        b.base_margin
        + m.rd_intensity[cluster]
        + b.margin_slope * m.competitiveness
        - IDLE_COST * (1.0 - np.minimum(utilisation, 1.0))
    )
    debt = np.maximum(-f.cash[:n], 0.0)
    profit = margin * revenue - f.rd[:n] - b.interest_rate * debt
    f.cash[:n] += np.where(alive, profit, 0.0) * m.dt
    f.loss_streak[:n] = np.where(alive & (profit < 0), f.loss_streak[:n] + 1, np.where(alive, 0, f.loss_streak[:n]))
    f.age[:n] += alive
    insolvent = (np.maximum(-f.cash[:n], 0.0) > credit_limit(m, slice(0, n))) & (profit < 0)
    # persistent losses close a firm once they have used up its cash buffer and it expects no better:
    # its profit once the transient part of its productivity has reverted is still a loss (a firm
    # that is only having a bad spell borrows through it while it can; Hopenhayn 1992)
    outlook = profit - b.margin_slope * f.prod_transient[:n] * revenue
    persistent = (f.loss_streak[:n] >= m.exit_loss_steps) & (f.cash[:n] < 0) & (outlook < 0)
    exits = alive & (persistent | (revenue < MIN_REVENUE) | insolvent)
    rr = review_rows(m)
    young = alive[rr] & (f.age[rr] < YOUNG_YEARS * m.steps_per_year)
    fail = young & (m.stream("early-failure").random(young.size) < b.exit_hazard_young)
    exits[rr] |= fail
    # a target size is a young firm's plan: reached, or expired with age, it is dropped
    done = (f.revenue[:n] >= f.target[:n]) | (f.age[:n] >= CATCH_UP_YEARS * m.steps_per_year)
    f.target[:n] = np.where(done, 0.0, f.target[:n])
    m.insolvencies = int((alive & insolvent).sum())
    return np.flatnonzero(exits)


def census(m: ClusterModel) -> SimpleNamespace:
    """Per cluster: live small firms, live finance-constrained firms, and the small firms' revenue."""
    f, n, C = m.firms, m.firms.n, m.n_clusters
    alive, cluster = f.alive[:n], f.cluster[:n]
    small = alive & (f.revenue[:n] < SME_REVENUE)
    constrained = alive & m.finance_constrained()
    return SimpleNamespace(
        small=np.bincount(cluster[small], minlength=C),
        constrained=np.bincount(cluster[constrained], minlength=C),
        small_revenue=np.array([f.revenue[:n][small & (cluster == c)].sum() for c in range(C)]),
    )


def rd_and_subsidies(m: ClusterModel) -> None:
    """Set R&D of this step's reviewing firms; grant R&D subsidies; add agencies' innovation services.

    A firm's own R&D is ``rd_intensity`` of its revenue. A grant raises its reported R&D by
    ``rd_response`` per yuan (from −0.5, crowding out, to +1); ``relabel_share`` of that increase is
    relabelling, not real R&D (Chen et al. 2021). Grants are paid for R&D: the firm pays its real
    R&D from its cash, so a grant is a windfall only to the extent it does not raise real R&D.
    An agency's innovation services raise its small members' own R&D by ``services_rd_response``
    per yuan of services (paid by the members).
    """
    f, b, n = m.firms, m.p.behaviour, m.firms.n
    rows = np.arange(*review_rows(m).indices(n))
    rows = rows[f.alive[rows]]
    cluster = f.cluster[rows]
    base = m.rd_intensity[cluster] * f.revenue[rows]
    f.rd[rows] = base
    f.rd_base[rows] = base
    _agency_services(m, rows, base)
    lever = m.levers.subsidy
    if not lever.enabled or rows.size == 0:
        return
    budget = lever.rd_budget * 100.0 * m.dt
    truth = m.relative_productivity[rows]
    truth = (truth - truth.mean()) / max(truth.std(), 1e-9)
    score = m.screening_score(truth)
    for group, share in ((EMERGING_IDX, lever.emerging_share), (PILLAR_IDX, 1.0 - lever.emerging_share)):
        in_group = np.zeros(m.n_clusters, dtype=bool)
        in_group[group] = True
        apply = np.flatnonzero(in_group[cluster] & (base >= 0.5))
        if apply.size == 0:
            continue
        order = apply[np.argsort(-score[apply], kind="stable")]
        grant = lever.max_share_of_rd * base[order]
        take = np.cumsum(grant) <= budget * share
        chosen, amount = rows[order[take]], grant[take]
        m.ledger.pay_firms("rd_grants", m.firms, chosen, amount)
        real_extra = (1.0 - b.relabel_share) * b.rd_response * amount
        f.rd[chosen] = np.maximum(f.rd[chosen] + real_extra, 0.1 * base[order[take]])


def _agency_services(m: ClusterModel, rows: np.ndarray, base: np.ndarray) -> None:
    """Small reviewing members of a cluster with innovation services raise their own R&D."""
    f = m.firms
    spend = np.zeros(m.n_clusters)  # each cluster's agency's services this step (one agency a cluster)
    for agency in m.agencies:
        if agency.services_spend > 0:
            spend[agency.cluster] = agency.services_spend
    if not spend.any():
        return
    cluster = f.cluster[rows]
    mine = (spend[cluster] > 0) & (f.revenue[rows] < SME_REVENUE)
    # a year's services are shared among all small members by their R&D; this step's
    # reviewers set their R&D for the coming year
    members_rd = m.rd_intensity * m.census().small_revenue
    c = cluster[mine]
    extra = m.p.policy.services_rd_response * spend[c] * base[mine] / np.maximum(members_rd[c], 1e-12)
    f.rd[rows[mine]] += extra
