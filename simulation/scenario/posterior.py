"""A posterior folder from data assimilation, as a scenario names it: weighted particles.

``simulate assimilate`` writes a folder with ``particles.csv`` (a column ``weight`` and one column
per conditioned uncertain value, named by its scenario key) and ``posterior.json`` (how it was
made). A scenario that names the folder (``posterior = "../posteriors/through-2023"``) draws, in
each replicate, one particle with probability equal to its weight, from a stream keyed by the
replicate ("posterior"; see :meth:`simulation.model.model.ClusterModel`): the same particle in
every scenario run with the same seed (common random numbers), so paired comparisons stay paired.
The particle's values replace the scenario's draws of those keys; every other uncertain value is
drawn from the scenario as usual.
"""

from __future__ import annotations

import csv
import math
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
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


def particle(folder: str | Path, u: float) -> dict[str, float]:
    """The particle a uniform draw ``u`` picks, with probability equal to its weight."""
    keys, cumulative, values = load(folder)
    i = min(int(np.searchsorted(cumulative, u, side="right")), len(cumulative) - 1)
    return dict(zip(keys, values[i].tolist()))


def names_uncertain_value(spec: ScenarioSpec, key: str) -> bool:
    """Whether ``key`` is an uncertain value of the scenario: a distribution, or an entry of a
    year-keyed table (a year the table does not list yet is fine)."""
    from simulation.scenario.distributions import Distribution

    parts = key.split(".")
    if parts[0] != "uncertainties" or len(parts) < 3:
        return False
    node: object = spec
    for part in parts[:-1]:
        node = node.get(part) if isinstance(node, dict) else getattr(node, part, None)
        if node is None:
            return False
    last = parts[-1]
    if isinstance(node, dict):
        return last in node or (last.isdigit() and len(last) == 4)
    return isinstance(getattr(node, last, None), Distribution)
