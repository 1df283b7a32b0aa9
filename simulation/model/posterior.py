"""A posterior from data assimilation, used by a scenario: one weighted particle per replicate.

``simulate assimilate`` writes a folder with ``particles.csv`` (a column ``weight`` and one column
per conditioned uncertain value, named by its scenario key) and ``posterior.json`` (how it was
made). A scenario that names the folder (``posterior = "../posteriors/through-2023"``) draws, in
each replicate, one particle with probability equal to its weight, from a stream keyed by the
replicate ("posterior"): the same particle in every scenario run with the same seed (common random
numbers), so paired comparisons stay paired. The particle's values replace the scenario's draws
of those keys; every other uncertain value is drawn from the scenario as usual.
"""

from __future__ import annotations

import csv
import math
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from simulation.model.streams import Streams
    from simulation.scenario.schema import ScenarioSpec

PARTICLES = "particles.csv"
PROVENANCE = "posterior.json"


class PosteriorError(ValueError):
    """A posterior folder that cannot be used, worded for the person who named it."""


@lru_cache(maxsize=8)
def read_particles(folder: str, stamp: float = 0.0) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """(keys, cumulative weights, values (particle, key)) of a posterior folder. ``stamp`` keys the cache."""
    path = Path(folder) / PARTICLES
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
    except OSError as exc:
        raise PosteriorError(f"{path}: cannot read the posterior ({exc.strerror or exc})") from None
    if len(rows) < 2 or not rows[0] or rows[0][0] != "weight":
        raise PosteriorError(f"{path}: expected a header starting with 'weight' and at least one particle")
    keys = tuple(rows[0][1:])
    try:
        table = np.array([[float(x) for x in row] for row in rows[1:]])
    except ValueError:
        raise PosteriorError(f"{path}: every value must be a number") from None
    if table.shape[1] != len(keys) + 1 or not np.isfinite(table).all() or (table[:, 0] < 0).any():
        raise PosteriorError(f"{path}: rows must have a non-negative weight and a finite value per key")
    total = table[:, 0].sum()
    if not math.isfinite(total) or total <= 0:
        raise PosteriorError(f"{path}: the weights add up to {total}; they must add up to more than 0")
    return keys, np.cumsum(table[:, 0]) / total, table[:, 1:]


def load(folder: str | Path) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    path = Path(folder)
    stamp = (path / PARTICLES).stat().st_mtime if (path / PARTICLES).exists() else 0.0
    return read_particles(str(path), stamp)


def posterior_values(spec: ScenarioSpec, streams: Streams) -> dict[str, float]:
    """The values of this replicate's posterior particle (none without a posterior)."""
    if not getattr(spec, "posterior", ""):
        return {}
    keys, cumulative, values = load(spec.posterior)
    u = streams.get("posterior").random()
    i = min(int(np.searchsorted(cumulative, u, side="right")), len(cumulative) - 1)
    return dict(zip(keys, values[i].tolist()))
