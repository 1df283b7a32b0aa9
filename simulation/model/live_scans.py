"""Scans over live firms the model makes every step, compiled: the (cluster, town) cell sums, the
firms' running annual revenue, the firms a fund may invest in.

They add the same terms in the same (row) order as the ``np.bincount`` calls they replace, skipping
dead rows, whose terms are exactly zero, and select the same rows in the same order: the results
are identical, not merely close. The model uses them with the compiled rules (``kernels="numba"``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

JIT = dict(cache=True, nogil=True)


@njit(**JIT)
def cell_sums(live, cluster, town, revenue, capacity, alive, above_scale, n_towns, out):
    """Into ``out`` (5, cluster * town): revenue, above-scale revenue, firms, above-scale firms, capacity."""
    for r in live:
        cell = cluster[r] * n_towns + town[r]
        out[0, cell] += revenue[r]
        out[4, cell] += capacity[r]
        out[2, cell] += 1.0
        if alive[r] and above_scale[r]:
            out[1, cell] += revenue[r]
            out[3, cell] += 1.0


@njit(**JIT)
def accumulate_year(live, cluster, revenue, rd, price, dt, revenue_year, nominal_year, rd_by_cluster):
    """Add this step's revenue to each live firm's year so far (real and current prices); sum R&D by cluster."""
    for r in live:
        c = cluster[r]
        revenue_year[r] += revenue[r] * dt
        nominal_year[r] += revenue[r] * price[c] * dt
        rd_by_cluster[c] += rd[r]


@njit(**JIT)
def fund_candidates(live, cluster, alive, fund_equity, chain_leader, age, above_scale, relative, in_mandate,
                    chain_leaders, young_steps):
    """Live rows a fund may back, ascending: see :meth:`simulation.model.fund.Fund.candidates`."""
    out = np.empty(live.size, dtype=np.int64)
    k = 0
    for r in live:
        if not (alive[r] and in_mandate[cluster[r]] and fund_equity[r] == 0):
            continue
        if chain_leaders:
            ok = chain_leader[r]
        else:
            ok = (age[r] < young_steps or not above_scale[r]) and relative[r] > 0
        if ok:
            out[k] = r
            k += 1
    return out[:k]


@njit(**JIT)
def update_above_scale(live, revenue, cluster, price, threshold, above_scale, rewarded):
    """Set each live firm's above-scale flag (current-yuan revenue >= threshold); return the rows newly
    above scale that have never had the entry reward, ascending."""
    new = np.empty(live.size, dtype=np.int64)
    k = 0
    for r in live:
        above = revenue[r] * price[cluster[r]] >= threshold
        above_scale[r] = above
        if above and not rewarded[r]:
            new[k] = r
            k += 1
    return new[:k]


@njit(**JIT)
def house_and_staff(town, ok, floor, talent, order, vacant, talent_free, pool_order, pool_of, admitted):
    """Entrants queue in ``order`` (by town, then their order key): housed first come, first served,
    pool by pool (``floor_market.house``), then staffed in the same order; those housed and not
    staffed give their floor back. Sets ``pool_of`` (-1: not housed) and ``admitted``.

    As the NumPy version does, an entrant that does not fit still counts in the queue of its town,
    and the running totals are the queue's global running sum less its value at the town's first
    entrant (not a sum restarted per town), so that the comparisons round as they do there.
    """
    n_towns, k = talent_free.size, town.size
    for pool in pool_order:
        taken = np.zeros(n_towns)
        cum, before, current = 0.0, 0.0, -1
        for i in order:
            if pool_of[i] >= 0 or not ok[i, pool]:
                continue
            t = town[i]
            if t != current:
                current, before = t, cum
            cum += floor[i]
            if cum - before <= vacant[t, pool]:
                pool_of[i] = pool
                taken[t] += floor[i]
        for t in range(n_towns):
            vacant[t, pool] -= taken[t]
    cum, before, current = 0.0, 0.0, -1
    for i in order:
        if pool_of[i] < 0:
            continue
        t = town[i]
        if t != current:
            current, before = t, cum
        cum += talent[i]
        if cum - before <= talent_free[t] + 1e-9:
            admitted[i] = True
    back = np.zeros((n_towns, vacant.shape[1]))
    hired = np.zeros(n_towns)
    for i in range(k):
        if admitted[i]:
            hired[town[i]] += talent[i]
        elif pool_of[i] >= 0:
            back[town[i], pool_of[i]] += floor[i]
    for pool in pool_order:
        for t in range(n_towns):
            vacant[t, pool] += back[t, pool]
    for t in range(n_towns):
        talent_free[t] -= hired[t]


@njit(**JIT)
def close_year(cluster, alive, nominal_year, revenue_year, revenue_last, nominal_last, birth_step, n, va_ratio,
               industrial, threshold, start_of_year, sums):
    """The statistics' year just ended, summed by cluster into ``sums`` (comparable value added now and
    a year before, above-scale firms, their value added and revenue in current prices); returns the
    industrial firms newly above scale; then starts the next year's accounts. Every row is visited
    (dead rows' accounts are reset too), as in the NumPy version."""
    upgrades = 0
    for r in range(n):
        c = cluster[r]
        if alive[r] and nominal_year[r] >= threshold:
            va = va_ratio[c]
            if revenue_last[r] > 0:  # alive through all of last year: comparable
                sums[0, c] += va * revenue_year[r]
                sums[1, c] += va * revenue_last[r]
                if nominal_last[r] < threshold and industrial[c]:
                    upgrades += 1
            sums[2, c] += 1.0
            sums[3, c] += va * nominal_year[r]
            sums[4, c] += nominal_year[r]
        whole_year = alive[r] and birth_step[r] <= start_of_year
        revenue_last[r] = revenue_year[r] if whole_year else 0.0
        nominal_last[r] = nominal_year[r] if whole_year else 0.0
        revenue_year[r] = 0.0
        nominal_year[r] = 0.0
    return upgrades
