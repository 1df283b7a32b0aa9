"""Random streams keyed by (replicate, mechanism, step): common random numbers by construction.

Each mechanism draws from its own counter-based generator (Philox) whose key comes from the
replicate's seeded generator and the mechanism's name, and whose counter is the step. Two
scenarios run with the same seed therefore give every mechanism the same numbers at the same
step, and the i-th firm row the same shock, however the scenarios differ elsewhere; so
differences between scenarios are policy, not noise.
"""

from __future__ import annotations

import zlib

import numpy as np


class Streams:
    def __init__(self, rng: np.random.Generator) -> None:
        self._base = int(rng.integers(2**62))

    def get(self, purpose: str, counter: int = 0) -> np.random.Generator:
        key = (self._base << 32) | zlib.crc32(purpose.encode())
        # the step sits in a high word of the counter, so steps never share numbers
        return np.random.Generator(np.random.Philox(key=key, counter=[0, 0, counter, 0]))
