"""Random streams keyed by (replicate, mechanism, step): common random numbers by construction.

Each mechanism draws from its own counter-based generator (Philox) whose key comes from the
replicate's seeded generator and the mechanism's name, and whose counter starts from the step.
Two scenarios run with the same seed therefore give every mechanism the same numbers at the
same step, and the i-th firm row the same shock, however the scenarios differ elsewhere; so
differences between scenarios are policy, not noise.
"""

from __future__ import annotations

import zlib

import numpy as np

FIXED_SEED = np.random.SeedSequence(0)  # only to construct a bit generator; the key set after it is what counts
TEMPLATE = np.random.Philox(FIXED_SEED).state


class Streams:
    def __init__(self, rng: np.random.Generator) -> None:
        self._base = int(rng.integers(2**62))
        self._cache: dict[str, tuple[np.random.Philox, np.random.Generator, dict]] = {}

    def get(self, purpose: str, counter: int = 0) -> np.random.Generator:
        """The generator of ``purpose`` rewound to ``counter``; draw from it before the next get."""
        entry = self._cache.get(purpose)
        if entry is None:
            key = (self._base << 32) | zlib.crc32(purpose.encode())
            # Philox(key=key) would first read OS entropy for a seed it then ignores: start from a
            # fixed seed and set the key (the same state, in half the time)
            bits = np.random.Philox(FIXED_SEED)
            bits.state = {**TEMPLATE, "state": {"counter": np.zeros(4, dtype=np.uint64),
                                                "key": np.array([key & (2**64 - 1), key >> 64], dtype=np.uint64)}}
            entry = self._cache[purpose] = (bits, np.random.Generator(bits), bits.state)
        bits, generator, state = entry
        # the step sits in a high word of the counter, so steps never share numbers;
        # resetting the state is ten times cheaper than building a new generator
        bits.state = {
            **state,
            "state": {"counter": np.array([0, 0, counter, 0], dtype=np.uint64), "key": state["state"]["key"]},
            "buffer_pos": 4,
        }
        return generator
