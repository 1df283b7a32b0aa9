"""Sums over live firms the model takes every step, compiled: the (cluster, town) cell sums and the
firms' running annual revenue.

They add the same terms in the same (row) order as the ``np.bincount`` calls they replace, skipping
dead rows, whose terms are exactly zero: the results are identical, not merely close.
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
