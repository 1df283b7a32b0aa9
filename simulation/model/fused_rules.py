"""The firm rules of :mod:`simulation.model.firm_rules`, compiled: each rule a pass or two over the live rows.

Same functions, same arguments, same results up to floating-point rounding (tests/test_kernels.py
holds both to 1e-12 on the same state). What differs is how they run: one compiled loop per pass
(numba), no temporaries of firm length beyond the draws, and only live rows are visited
(:attr:`simulation.model.firm_table.FirmTable.live`); an exited firm's row is left as it is.

Random numbers come from the same keyed streams, drawn the same way, as the NumPy rules draw them:
one draw per reviewing row, dead or alive, so the i-th reviewing row gets the same number in every
scenario run with the same seed (common random numbers) and whichever kernels run. They are drawn
by the reference's own functions (``firm_rules.activity``, ``firm_rules.tent``) into an array of
the reviewing rows, and the kernel reads its row's number in place.
(numba can draw from the same ``Generator`` inside a kernel, bit for bit the same numbers, but
passing a Generator to a compiled function costs more per call than the draws themselves; and
normal and exponential draws are sequential (ziggurat rejection), so no kernel can compute a row's
number from its index without changing the numbers.)

The arithmetic is written in the order the NumPy rules evaluate it; sums over firms are taken in row
order, as ``np.bincount`` takes them, so town and cluster totals agree exactly. What may differ in
the last bits: ``exp``, ``log`` and ``**`` (numba calls the C library, NumPy its own SIMD loops) and
the one total NumPy sums pairwise (skilled workers wanted and not found).

Efficiency (real revenue per unit of capacity, ``exp((sigma - 1) / sigma * common drift)``, the same
for every firm: :func:`simulation.model.firm_rules.efficiency`) is computed once a step, where
productivity changes, and kept in the table's ``efficiency`` column for the rules that follow.

Rules without a per-firm loop worth compiling (R&D grants: a ranking over this step's reviewers;
releasing an exiting firm's inputs) are the reference's own functions.
"""

from __future__ import annotations

from collections import namedtuple
from types import SimpleNamespace
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from simulation import datapack
from simulation.model import agency, firm_rules
from simulation.model.firm_rules import rd_and_subsidies, release_inputs
from simulation.model import floor_market
from simulation.model.floor_market import BASE, GRADES, MODERN, OLD, RESERVED  # grade numbers (structural)

if TYPE_CHECKING:
    from simulation.model.model import ClusterModel

__all__ = ["update_productivity", "rd_and_subsidies", "desired_revenue", "expand_and_produce",
           "account_and_exit", "release_inputs", "census"]

JIT = dict(cache=True, nogil=True, error_model="numpy")  # division as NumPy divides: no Python checks
RuleConstants = namedtuple("RuleConstants", "threshold sme_revenue catch_up_rate constrained_access demand_elasticity "
                           "idle_cost markup max_shock_scale min_revenue tfp_elasticity shrink_utilisation")


def constants() -> RuleConstants:
    """The rules' constants as they are now, passed to the kernels as an argument: numba would freeze
    module globals into its cached machine code, and miss a later edit of firm_rules.py (or a test's
    monkeypatch)."""
    fr = firm_rules
    return RuleConstants(
        float(datapack.ABOVE_SCALE_THRESHOLD), float(agency.SME_REVENUE), float(fr.CATCH_UP_RATE),
        float(fr.CONSTRAINED_ACCESS), float(fr.DEMAND_ELASTICITY), float(fr.IDLE_COST), float(fr.MARKUP),
        float(fr.MAX_SHOCK_SCALE),
        float(fr.MIN_REVENUE), float(fr.REVENUE_TFP_ELASTICITY), float(fr.SHRINK_UTILISATION),
    )


def _review(m: ClusterModel) -> tuple[int, int, int]:
    """(first reviewing row, stride, number of reviewing rows) this step; see firm_rules.review_rows."""
    phase, spy, n = m.steps % m.steps_per_year, m.steps_per_year, m.firms.n
    return phase, spy, len(range(phase, n, spy))


# --- productivity ------------------------------------------------------------------------------


def update_productivity(m: ClusterModel) -> None:
    """See :func:`simulation.model.firm_rules.update_productivity`."""
    f, b = m.firms, m.p.behaviour
    phase, spy, k = _review(m)
    # the reference's own draws (firm_rules.activity, firm_rules.tent): the same numbers, one per reviewing row
    m.activity = firm_rules.activity(m.stream("activity"), k)
    _review_productivity(firm_rules.tent(m.stream("productivity"), m.activity), phase, spy, f.alive, f.revenue,
                         f.prod_transient, b.productivity_persistence, b.productivity_volatility,
                         b.size_volatility_exponent, constants())
    means = np.zeros(m.n_clusters)
    _productivity(f.live, f.cluster, f.town, f.rd, f.rd_base, f.knowledge, f.absorptive, f.prod_permanent,
                  f.prod_transient, f.revenue, f.relative, f.productivity_change, f.competitiveness, f.logprod,
                  f.efficiency, m.local_density_ratio(), m.town_density_ratio(), firm_rules.KNOWLEDGE_DEPRECIATION * m.dt,
                  b.agglomeration_elasticity, b.congestion_elasticity, b.rd_elasticity, m.common_productivity, means,
                  constants())


@njit(**JIT)
def _size_factor(revenue, exponent, threshold):
    return (max(revenue, 1e-3) / threshold) ** (-exponent)


@njit(**JIT)
def _review_productivity(tent, phase, spy, alive, revenue, transient, persistence, volatility, size_exponent, k):
    """Reviewing rows' transient productivity: AR(1) with a Laplace innovation (j-th draw: j-th reviewing row)."""
    for j in range(tent.size):
        r = phase + j * spy
        if alive[r]:
            transient[r] = persistence * transient[r] + (volatility * _size_factor(revenue[r], size_exponent, k.threshold) * tent[j])


@njit(**JIT)
def _productivity(live, cluster, town, rd, rd_base, knowledge, absorptive, permanent, transient, revenue, relative,
                  change, competitiveness, logprod, efficiency, density, town_density, depreciation, agglomeration_elasticity,
                  congestion_elasticity, rd_elasticity, common, means, k):
    totals = np.zeros(means.size)
    sums = np.zeros(means.size)
    for r in live:
        c, t = cluster[r], town[r]
        ratio = rd[r] / max(rd_base[r], 1e-12) if rd_base[r] > 0 else 1.0
        knowledge[r] += depreciation * (ratio - knowledge[r])
        agglomeration = agglomeration_elasticity * absorptive[r] * density[c, t]
        congestion = congestion_elasticity * town_density[t]
        rd_effect = rd_elasticity * absorptive[r] * np.log(max(knowledge[r], 1e-6))
        value = permanent[r] + transient[r] + rd_effect + agglomeration - congestion
        change[r] = value - relative[r]
        relative[r] = value
        totals[c] += revenue[r]
        sums[c] += revenue[r] * value
    for c in range(means.size):
        means[c] = sums[c] / max(totals[c], 1e-12)
    eff = np.exp(k.tfp_elasticity * common)  # the same for every firm (firm_rules.efficiency)
    for r in live:
        competitiveness[r] = relative[r] - means[cluster[r]]
        logprod[r] = relative[r] + common
        efficiency[r] = eff


# --- desired revenue ---------------------------------------------------------------------------


def desired_revenue(m: ClusterModel) -> np.ndarray:
    """See :func:`simulation.model.firm_rules.desired_revenue`; 0 for dead rows."""
    f, b = m.firms, m.p.behaviour
    phase, spy, k = _review(m)
    wanted = np.zeros(f.n)
    _desired_revenue(f.live, f.cluster, f.town, f.revenue, f.target, f.efficiency, f.competitiveness,
                     f.productivity_change, m.demand_growth, m.matchmaking, m.skilled_wage_share, m.rent_change,
                     b.selection_strength, m.dt, m.p.land.rent_cost_share, m.wage_change, wanted, constants())
    _growth_shocks(firm_rules.tent(m.stream("growth"), m.activity), phase, spy, f.live, f.alive, f.revenue,
                   b.growth_shock_scale, b.size_volatility_exponent, wanted, constants())
    return wanted


@njit(**JIT)
def _desired_revenue(live, cluster, town, revenue, target, efficiency, competitiveness, change, demand_growth,
                     matchmaking, skilled_wage_share, rent_change, selection, dt, rent_cost_share, wage_change,
                     log_change, k):
    """Log change of each live row's demand before its growth shock (into ``log_change``)."""
    n_clusters = demand_growth.size
    total, level, mean = np.zeros(n_clusters), np.zeros(n_clusters), np.zeros(n_clusters)
    for r in live:  # selection and own productivity change: a reallocation (firm_rules.jensen_gap)
        c = cluster[r]
        shift = selection * competitiveness[r] * dt + k.tfp_elasticity * change[r]
        log_change[r] = shift
        total[c] += revenue[r]
        level[c] += revenue[r] * np.exp(shift)
        mean[c] += revenue[r] * shift
    gap = np.zeros(n_clusters)
    for c in range(n_clusters):
        if total[c] > 0:
            safe = max(total[c], 1e-12)
            gap[c] = np.log(max(level[c], 1e-300) / safe) - mean[c] / safe
    for r in live:
        c = cluster[r]
        growth = demand_growth[c] + (matchmaking[c] if revenue[r] < k.sme_revenue else 0.0)
        catch_up = 0.0
        if target[r] > revenue[r]:
            catch_up = k.catch_up_rate * np.log(max(target[r], 1e-9) / max(revenue[r], 1e-9))
        skilled_share = skilled_wage_share[c] / efficiency[r]
        # factor costs pass into prices at the markup (firm_rules.cost_change)
        cost_change = k.markup * (rent_cost_share * rent_change[town[r]] + skilled_share * wage_change)
        log_change[r] = ((growth + catch_up) * dt + (log_change[r] - gap[c])
                         - (k.demand_elasticity - 1.0) * cost_change)


@njit(**JIT)
def _growth_shocks(tent, phase, spy, live, alive, revenue, shock_scale, size_exponent, wanted, k):
    """Add reviewing rows' growth shocks to their log change (one draw per reviewing row), then level."""
    for j in range(tent.size):
        r = phase + j * spy
        if alive[r]:
            scale = min(max(shock_scale * _size_factor(revenue[r], size_exponent, k.threshold), 0.01), k.max_shock_scale)
            wanted[r] += np.sqrt(2.0) * scale * tent[j] - (-np.log1p(-scale * scale))
    for r in live:
        wanted[r] = revenue[r] * np.exp(wanted[r])


# --- expansion and production ------------------------------------------------------------------


def expand_and_produce(m: ClusterModel, wanted: np.ndarray) -> None:
    """See :func:`simulation.model.firm_rules.expand_and_produce`."""
    f, b, t = m.firms, m.p.behaviour, m.towns
    unfilled = _expand_and_produce(
        f.live, f.cluster, f.town, f.efficiency, f.capacity, f.cash, f.capital, f.age, f.above_scale, f.revenue,
        wanted, m.floor_per_capacity, m.talent_per_capacity, m.needs_modern, t.reserved_for, t.base_for,
        t.vacant, t.talent_free, m.credit_boost, b.capital_per_revenue, b.finance_leverage,
        firm_rules.MATURE_YEARS * m.steps_per_year, firm_rules.SHRINK_SPEED * m.dt, floor_market.POOL_ORDER,
        constants(),
    )
    m.talent_unfilled += unfilled


@njit(**JIT)
def _pro_rata_ratio(demand, pool):
    """Share of each town's requests its pool can grant (1 where it covers them all)."""
    ratio = np.ones(demand.size)
    for i in range(demand.size):
        available = max(pool[i], 0.0)
        if demand[i] > available:
            ratio[i] = available / demand[i]
    return ratio


@njit(**JIT)
def _usable(pool, c, t, needs_modern, reserved_for, base_for):
    if pool == OLD:
        return not needs_modern[c]
    if pool == RESERVED:
        return reserved_for[t, c]
    if pool == BASE:
        return base_for[c]
    return True


@njit(**JIT)
def _expand_and_produce(live, cluster, town, efficiency, capacity, cash, capital, age, above_scale, revenue, wanted,
                        floor_per_capacity, talent_per_capacity, needs_modern, reserved_for, base_for, vacant,
                        talent_free, credit_boost, capital_per_revenue, leverage, mature_steps, shed_rate, pool_order,
                        k):
    n_towns = talent_free.size
    # pass 1: who grows, by how much, and the towns' demand for the first pool and for talent
    grow = np.empty(live.size, dtype=np.int64)
    dx = np.empty(live.size)
    eff = efficiency
    g = 0
    talent_demand = np.zeros(n_towns)
    for i in range(live.size):
        r = live[i]
        need = wanted[r] / eff[r] - capacity[r]
        if need > 0:
            grow[g] = i
            dx[g] = need
            talent_demand[town[r]] += talent_per_capacity[cluster[r]] * need
            g += 1
    grow, dx = grow[:g], dx[:g]
    # floor: pool by pool in order, pro rata within a town's pool
    remaining = np.empty(g)
    got = np.zeros((g, GRADES))
    for j in range(g):
        remaining[j] = floor_per_capacity[cluster[live[grow[j]]]] * dx[j]
    for pool in pool_order:
        demand = np.zeros(n_towns)
        for j in range(g):
            r = live[grow[j]]
            if _usable(pool, cluster[r], town[r], needs_modern, reserved_for, base_for):
                demand[town[r]] += remaining[j]
        ratio = _pro_rata_ratio(demand, vacant[:, pool])
        for j in range(g):
            r = live[grow[j]]
            if _usable(pool, cluster[r], town[r], needs_modern, reserved_for, base_for):
                got[j, pool] = remaining[j] * ratio[town[r]]
            remaining[j] -= got[j, pool]
    talent_ratio = _pro_rata_ratio(talent_demand, talent_free)
    # pass 2: the binding constraint, then take floor and talent and invest
    taken = np.zeros((n_towns, GRADES))
    hired = np.zeros(n_towns)
    unfilled = 0.0
    for j in range(g):
        i = grow[j]
        r = live[i]
        c, t = cluster[r], town[r]
        floor_req = floor_per_capacity[c] * dx[j]
        floor_frac = (((got[j, 0] + got[j, 1]) + got[j, 2]) + got[j, 3]) / floor_req
        talent_req = talent_per_capacity[c] * dx[j]
        talent_frac = talent_req * talent_ratio[t] / max(talent_req, 1e-12)
        invest_req = capital_per_revenue * dx[j] * eff[r]
        constrained = age[r] < mature_steps or not above_scale[r]
        access = k.constrained_access + credit_boost[c] if constrained else 1.0
        available = max(cash[r] + leverage * access * capital[r], 0.0)
        finance_frac = min(max(available / max(invest_req, 1e-12), 0.0), 1.0)
        frac = min(min(floor_frac, talent_frac), finance_frac)
        added = frac * dx[j]
        unfilled += talent_req * max(min(floor_frac, finance_frac) - talent_frac, 0.0)
        scale = frac / max(floor_frac, 1e-300)
        for pool in pool_order:
            taken[t, pool] += got[j, pool] * scale
        hired[t] += talent_per_capacity[c] * added
        spend = capital_per_revenue * added * eff[r]
        cash[r] -= spend
        capital[r] += spend
        capacity[r] += added
    for pool in pool_order:
        for t in range(n_towns):
            vacant[t, pool] -= taken[t, pool]
    for t in range(n_towns):
        talent_free[t] -= hired[t]
    # pass 3: shed idle capacity (its floor and talent return to the town), then produce
    modern_back = np.zeros(n_towns)
    old_back = np.zeros(n_towns)
    talent_back = np.zeros(n_towns)
    for i in range(live.size):
        r = live[i]
        utilisation = wanted[r] / max(eff[r] * capacity[r], 1e-12)
        if utilisation < k.shrink_utilisation:
            excess = capacity[r] - wanted[r] / eff[r] / 0.85
            shed = shed_rate * max(excess, 0.0)
            c, t = cluster[r], town[r]
            floor = floor_per_capacity[c] * shed
            if needs_modern[c]:
                modern_back[t] += floor
            else:
                old_back[t] += floor
            talent_back[t] += talent_per_capacity[c] * shed
            capital[r] *= 1.0 - shed / max(capacity[r], 1e-12)
            capacity[r] -= shed
        revenue[r] = min(wanted[r], eff[r] * capacity[r])
    for t in range(n_towns):
        vacant[t, MODERN] += modern_back[t]
        vacant[t, OLD] += old_back[t]
        talent_free[t] += talent_back[t]
    return unfilled


# --- accounts and exit -------------------------------------------------------------------------


def account_and_exit(m: ClusterModel) -> np.ndarray:
    """See :func:`simulation.model.firm_rules.account_and_exit`."""
    f, b = m.firms, m.p.behaviour
    phase, spy, k = _review(m)
    exits = np.empty(f.live.size, dtype=np.intp)
    count, insolvencies = _account_and_exit(
        f.live, f.cluster, f.efficiency, f.capacity, f.revenue, f.cash, f.rd, f.loss_streak, f.age, f.above_scale,
        f.capital, f.target, f.competitiveness, f.prod_transient, m.rd_intensity, m.credit_boost,
        m.stream("early-failure").random(k),
        phase, spy, b.base_margin, b.margin_slope, b.interest_rate, m.dt, b.finance_leverage,
        firm_rules.MATURE_YEARS * m.steps_per_year, m.exit_loss_steps, firm_rules.YOUNG_YEARS * m.steps_per_year,
        b.exit_hazard_young, firm_rules.CATCH_UP_YEARS * m.steps_per_year, exits, constants(),
    )
    m.insolvencies = int(insolvencies)
    return exits[:count]


@njit(**JIT)
def _account_and_exit(live, cluster, efficiency, capacity, revenue, cash, rd, loss_streak, age, above_scale, capital,
                      target, competitiveness, transient, rd_intensity, credit_boost, uniform, phase, spy, base_margin,
                      margin_slope, interest_rate, dt, leverage, mature_steps, exit_loss_steps, young_steps, hazard,
                      catch_up_steps, exits, k):
    """Accounts of every live row; ``uniform``: one draw per reviewing row (dead or alive), for early failure."""
    count = 0
    insolvencies = 0
    j = 0  # the next reviewing row is phase + j * spy (live rows ascend: a merge, no division)
    for r in live:
        c = cluster[r]
        utilisation = revenue[r] / max(efficiency[r] * capacity[r], 1e-12)
        margin = (base_margin + rd_intensity[c] + margin_slope * competitiveness[r]
                  - k.idle_cost * (1.0 - min(utilisation, 1.0)))
        debt = max(-cash[r], 0.0)
        profit = margin * revenue[r] - rd[r] - interest_rate * debt
        cash[r] += profit * dt
        loss_streak[r] = loss_streak[r] + 1 if profit < 0 else 0
        age[r] += 1
        constrained = age[r] < mature_steps or not above_scale[r]
        access = k.constrained_access + credit_boost[c] if constrained else 1.0
        insolvent = max(-cash[r], 0.0) > leverage * access * capital[r] and profit < 0
        # persistent losses close a firm only if its outlook, once its transient productivity has
        # reverted, is still a loss (firm_rules.account_and_exit)
        outlook = profit - margin_slope * transient[r] * revenue[r]
        persistent = loss_streak[r] >= exit_loss_steps and cash[r] < 0 and outlook < 0
        leaves = persistent or revenue[r] < k.min_revenue or insolvent
        while phase + j * spy < r:
            j += 1
        if phase + j * spy == r and age[r] < young_steps and uniform[j] < hazard:
            leaves = True
        if leaves:
            exits[count] = r
            count += 1
        insolvencies += insolvent
        if revenue[r] >= target[r] or age[r] >= catch_up_steps:
            target[r] = 0.0
    return count, insolvencies


# --- census of live firms ----------------------------------------------------------------------


def census(m: ClusterModel) -> SimpleNamespace:
    """See :func:`simulation.model.firm_rules.census`."""
    f, C = m.firms, m.n_clusters
    small, constrained, small_revenue = np.zeros(C, np.int64), np.zeros(C, np.int64), np.zeros(C)
    _census(f.live, f.cluster, f.revenue, f.age, f.above_scale, firm_rules.MATURE_YEARS * m.steps_per_year, small,
            constrained, small_revenue, agency.SME_REVENUE)
    return SimpleNamespace(small=small, constrained=constrained, small_revenue=small_revenue)


@njit(**JIT)
def _census(live, cluster, revenue, age, above_scale, mature_steps, small, constrained, small_revenue, sme_revenue):
    for r in live:
        c = cluster[r]
        if revenue[r] < sme_revenue:
            small[c] += 1
            small_revenue[c] += revenue[r]
        if age[r] < mature_steps or not above_scale[r]:
            constrained[c] += 1
