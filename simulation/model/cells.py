"""Sums over (cluster, town) cells, computed once at the end of each step.

The recorder, the agglomeration and congestion terms, rents and spin-off counts all need the
same few sums; one ``bincount`` pass each serves them all until the next step ends.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING

import numpy as np


if TYPE_CHECKING:
    from simulation.model.model import ClusterModel


def by_cell(m: ClusterModel, *weights: np.ndarray) -> list[np.ndarray]:
    """(cluster, town) sums of each per-row quantity over rows 0..n of the firm table (the cell
    index is computed once for all of them)."""
    f, n = m.firms, m.firms.n
    C, T = m.n_clusters, m.towns.n
    cell = f.cluster[:n] * T + f.town[:n]
    return [np.bincount(cell, weights=w, minlength=C * T).reshape(C, T) for w in weights]


def aggregate(m: ClusterModel) -> SimpleNamespace:
    """(cluster, town) arrays of real revenue, above-scale revenue, firms, above-scale firms, capacity, floor."""
    f, n = m.firms, m.firms.n
    C, T = m.n_clusters, m.towns.n
    if m.rules.name == "numba":  # the same sums over live rows only, compiled
        from simulation.model.live_scans import cell_sums

        out = np.zeros((5, C * T))
        cell_sums(f.live, f.cluster, f.town, f.revenue, f.capacity, f.alive, f.above_scale, T, out)
        revenue, revenue_above, firms, firms_above, capacity = (part.reshape(C, T) for part in out)
    else:
        alive = f.alive[:n]
        above = alive & f.above_scale[:n]
        capacity, revenue, revenue_above, firms, firms_above = by_cell(
            m, f.capacity[:n], f.revenue[:n], np.where(above, f.revenue[:n], 0.0), alive.astype(np.float64),
            above.astype(np.float64))
    floor = capacity * m.floor_per_capacity[:, None]
    return SimpleNamespace(
        revenue=revenue,
        revenue_above=revenue_above,
        firms=firms,
        firms_above=firms_above,
        capacity=capacity,
        employment=capacity * m.employees_per_capacity[:, None],
        occupied_floor=floor.sum(axis=0),
        occupied_floor_by_cluster=floor.sum(axis=1),
    )
