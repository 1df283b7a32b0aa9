"""Per-replicate seeds derived from a scenario's root seed.

``numpy.random.SeedSequence(root).spawn(n)`` gives child ``i`` the spawn key ``(i,)``, so
replicate ``i``'s seed depends only on the root seed and ``i``, never on ``n``: running 40 or
400 replicates, or another scenario with the same root seed, reuses the same seeds for the
replicates they share (common random numbers across scenarios and replicate counts).

Each seed is the first 32-bit word of the child's state (``generate_state(1, uint32)``): a
plain non-negative int below 2**32 that is exact in every format a results file goes through
(CSV read by a spreadsheet, JSON read by JavaScript, float64 columns), short enough to quote,
and accepted as ``rng=`` by the model. Collisions among 400 replicates have a probability of
about 2e-5; two replicates with the same seed would merely be the same draw twice.
"""

from __future__ import annotations

import numpy as np


def replicate_seeds(root_seed: int, n: int) -> list[int]:
    """Seeds of replicates ``0 .. n-1`` for ``root_seed``; seed ``i`` does not depend on ``n``."""
    if isinstance(root_seed, bool) or not isinstance(root_seed, (int, np.integer)) or root_seed < 0:
        raise ValueError(f"root seed must be a non-negative whole number; got {root_seed!r}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"number of replicates must be a non-negative whole number; got {n!r}")
    children = np.random.SeedSequence(int(root_seed)).spawn(int(n))
    return [int(child.generate_state(1, dtype=np.uint32)[0]) for child in children]
