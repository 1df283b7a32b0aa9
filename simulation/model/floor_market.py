"""The market for vacant industrial floor space within each town, in four grades.

- ``OLD``: floor in old village and town industrial parks. Traditional firms (the pillars and
  ``other``) use it; the emerging clusters need modern space (clean rooms, heavy power, labs)
  and cannot. Floor vacated by traditional firms returns here; redevelopment demolishes it first.
  This mismatch is why the policy builds cluster carriers through 工改工 (四(二)).
- ``MODERN``: new or modern floor any firm may rent.
- ``RESERVED``: newly delivered redevelopment floor held for the policy's priority clusters
  (all nine, or a core zone's own clusters where zones have land priority).
- ``BASE``: floor in the strategic emerging industry bases (levers.csv: 7 bases on about 60 km²),
  for the five emerging clusters only.

Requests are served pool by pool in a fixed order (old, base, reserved, modern): expansion is
rationed pro rata within a pool, entrants are housed first come, first served.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simulation.model.allocation import pro_rata

if TYPE_CHECKING:
    from simulation.model.town import TownTable

OLD, MODERN, RESERVED, BASE = 0, 1, 2, 3
GRADES = 4
ORDER = (OLD, BASE, RESERVED, MODERN)
POOL_ORDER = np.array(ORDER, dtype=np.int64)


def usable(t: TownTable, town: np.ndarray, cluster: np.ndarray, needs_modern: np.ndarray) -> np.ndarray:
    """(firm, pool) mask of the pools each request may draw on."""
    ok = np.ones((town.size, GRADES), dtype=bool)
    ok[:, OLD] = ~needs_modern[cluster]
    ok[:, RESERVED] = t.reserved_for[town, cluster]
    ok[:, BASE] = t.base_for[cluster]
    return ok


def ration(t: TownTable, town: np.ndarray, ok: np.ndarray, request: np.ndarray) -> np.ndarray:
    """Grants per (firm, pool), pro rata within each pool, without taking anything yet."""
    grants = np.zeros((request.size, GRADES))
    remaining = request.astype(float).copy()
    for pool in ORDER:
        grants[:, pool] = pro_rata(remaining * ok[:, pool], town, t.vacant[:, pool])
        remaining -= grants[:, pool]
    return grants


def take(t: TownTable, town: np.ndarray, per_pool: np.ndarray) -> None:
    """Remove floor now occupied from the pools."""
    for pool in ORDER:
        t.vacant[:, pool] -= np.bincount(town, weights=per_pool[:, pool], minlength=t.n)


def house(t: TownTable, town: np.ndarray, ok: np.ndarray, need: np.ndarray, order_key: np.ndarray) -> np.ndarray:
    """First come, first housed: each entrant takes its whole need from one pool.

    Returns the pool each entrant was housed in, -1 where none had room.
    """
    housed = np.zeros(need.size, dtype=bool)
    pool_of = np.full(need.size, -1)
    for pool in ORDER:
        cand = np.flatnonzero(~housed & ok[:, pool])
        if cand.size == 0:
            continue
        cand = cand[np.lexsort((order_key[cand], town[cand]))]
        cum = np.cumsum(need[cand])
        tw = town[cand]
        first = np.searchsorted(tw, np.arange(t.n))
        before = np.concatenate([[0.0], cum])[first][tw]
        fits = cum - before <= t.vacant[tw, pool]
        # once an entrant does not fit, later ones in the town still count its need: conservative
        got = cand[fits]
        housed[got] = True
        pool_of[got] = pool
        t.vacant[:, pool] -= np.bincount(town[got], weights=need[got], minlength=t.n)
    return pool_of


def unhouse(t: TownTable, town: np.ndarray, pool_of: np.ndarray, need: np.ndarray) -> None:
    """Give back floor that :func:`house` took (an entrant that could not staff it did not come)."""
    for pool in ORDER:
        mine = pool_of == pool
        t.vacant[:, pool] += np.bincount(town[mine], weights=need[mine], minlength=t.n)


def release(t: TownTable, town: np.ndarray, cluster: np.ndarray, floor: np.ndarray, needs_modern: np.ndarray) -> None:
    """Vacated floor returns as modern floor from emerging firms and as old floor from others.

    Which grade a firm occupies is not tracked; this assumes traditional firms occupy old floor.
    """
    modern = needs_modern[cluster]
    t.vacant[:, MODERN] += np.bincount(town[modern], weights=floor[modern], minlength=t.n)
    t.vacant[:, OLD] += np.bincount(town[~modern], weights=floor[~modern], minlength=t.n)
