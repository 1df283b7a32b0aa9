"""Rationing a town's pool (vacant floor space, free skilled talent) among requesting firms."""

from __future__ import annotations

import numpy as np


def pro_rata(requests: np.ndarray, groups: np.ndarray, pools: np.ndarray) -> np.ndarray:
    """Grant each request in full where its group's pool covers all requests, else pro rata.

    ``requests`` per firm (>= 0), ``groups`` the firm's pool index, ``pools`` the amount
    available per group. The grants in a group never add up to more than its pool.
    """
    demand = np.bincount(groups, weights=requests, minlength=len(pools))
    ratio = np.ones(len(pools))
    short = demand > np.maximum(pools, 0.0)
    ratio[short] = np.maximum(pools[short], 0.0) / demand[short]
    return requests * ratio[groups]
