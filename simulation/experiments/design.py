"""Experimental designs: which scenario values each design point sets.

A *parameter* is one dotted scenario key (a lever or an uncertainty) and how it may vary:

* ``levels``: a list of values (needed by a ``grid``; other designs pick among them evenly);
* ``range``: ``[low, high]``, uniform between the two;
* ``dist``: a distribution as in scenario files (``uniform``, ``triangular``, truncated ``normal``);
  an uncertainty may also take the scenario's own distribution (``"scenario"``).

Every design is first made in the unit hypercube ``[0, 1]^D`` and then mapped to values through
each parameter's quantile function (levels: ``u`` in ``[i/n, (i+1)/n)`` picks level ``i``). The
sensitivity analysis works on the unit values, so Morris elementary effects are per unit of
quantile, comparable across parameters whatever their units.

=========  ==================================================  ================================
method     points                                              made by
=========  ==================================================  ================================
grid       product of the levels (first parameter slowest)     itertools.product
lhs        ``size``                                            scipy.stats.qmc.LatinHypercube
sobol      ``size * (D + 2)`` (``size * (2D + 2)`` with        SALib.sample.sobol (Saltelli)
           second-order indices); ``size`` a power of 2
morris     ``size * (D + 1)``: ``size`` trajectories           SALib.sample.morris
=========  ==================================================  ================================

A design depends only on its parameters, method, size, seed and (Morris) levels: making it again
gives the same points, which is how ``--resume`` checks a results folder belongs to an experiment.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from simulation.scenario.distributions import Distribution

METHODS = ("grid", "lhs", "sobol", "morris")
KINDS = ("levels", "range", "dist")
DTYPES = ("float", "int", "bool")
UNIT_PREFIX = "unit:"  # design.parquet column of a parameter's unit-cube coordinate


@dataclass(frozen=True)
class Parameter:
    """One varied scenario key and the values it may take."""

    key: str  # dotted scenario key, e.g. "levers.land.redevelopment_mu_per_year"
    kind: str  # "levels" | "range" | "dist"
    dtype: str = "float"  # "float" | "int" | "bool": the scenario schema's type of the key
    levels: tuple[Any, ...] = ()
    low: float | None = None
    high: float | None = None
    dist: Distribution | None = None
    from_scenario: bool = False  # dist is the scenario's own distribution of this uncertainty

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}; got {self.kind!r}")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {DTYPES}; got {self.dtype!r}")
        if self.kind == "levels" and not self.levels:
            raise ValueError(f"{self.key}: levels must not be empty")
        if self.kind == "range" and not (self.low is not None and self.high is not None and self.low < self.high):
            raise ValueError(f"{self.key}: a range needs low < high")
        if self.kind == "dist" and self.dist is None:
            raise ValueError(f"{self.key}: a dist parameter needs a distribution")

    def values(self, u: np.ndarray) -> np.ndarray:
        """Map unit-cube coordinates to this parameter's values (typed by ``dtype``)."""
        u = np.asarray(u, dtype=float)
        if self.kind == "levels":
            n = len(self.levels)
            index = np.minimum(np.floor(u * n).astype(np.int64), n - 1)
            return np.asarray(self.levels, dtype=_numpy_dtype(self.dtype))[index]
        if self.kind == "range":
            x = self.low + u * (self.high - self.low)
        else:
            x = np.asarray(self.dist.ppf(u), dtype=float)
        return np.rint(x).astype(np.int64) if self.dtype == "int" else x

    def extremes(self) -> list[Any]:
        """The smallest and largest values this parameter can take (or every level)."""
        if self.kind == "levels":
            return list(dict.fromkeys(self.levels))
        return [_python(v) for v in self.values(np.array([0.0, 1.0]))]

    def describe(self) -> dict[str, Any]:
        """JSON-ready description, for the manifest."""
        out: dict[str, Any] = {"key": self.key, "kind": self.kind, "dtype": self.dtype}
        if self.kind == "levels":
            out["levels"] = [_python(v) for v in self.levels]
        elif self.kind == "range":
            out["range"] = [self.low, self.high]
        else:
            out["dist"] = {"dist": self.dist.dist, **dict(self.dist.params)}
            out["from_scenario"] = self.from_scenario
        return out


@dataclass(frozen=True)
class Design:
    """Design points: ``unit`` is (points, parameters) in [0, 1]; values follow from it."""

    method: str
    parameters: tuple[Parameter, ...]
    unit: np.ndarray
    size: int | None = None
    seed: int = 0
    levels: int = 4
    second_order: bool = False
    _values: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        for j, p in enumerate(self.parameters):
            self._values[p.key] = p.values(self.unit[:, j])

    @property
    def n_points(self) -> int:
        return int(self.unit.shape[0])

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(p.key for p in self.parameters)

    def values(self, key: str) -> np.ndarray:
        return self._values[key]

    def point(self, i: int) -> tuple[Any, ...]:
        """Values of point ``i`` as plain Python numbers, in parameter order."""
        return tuple(_python(self._values[k][i]) for k in self.keys)

    def frame(self) -> pd.DataFrame:
        """``point``, each parameter's value, then each parameter's unit coordinate."""
        data: dict[str, Any] = {"point": np.arange(self.n_points, dtype=np.int64)}
        for p in self.parameters:
            data[p.key] = self._values[p.key]
        for j, p in enumerate(self.parameters):
            data[UNIT_PREFIX + p.key] = self.unit[:, j]
        return pd.DataFrame(data)

    def problem(self) -> dict[str, Any]:
        """The SALib problem: every parameter on [0, 1] (the design's unit coordinates)."""
        return salib_problem(self.keys)

    def describe(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "size": self.size,
            "seed": self.seed,
            "levels": self.levels if self.method == "morris" else None,
            "second_order": self.second_order if self.method == "sobol" else None,
            "points": self.n_points,
            "parameters": [p.describe() for p in self.parameters],
        }


def salib_problem(names: tuple[str, ...] | list[str]) -> dict[str, Any]:
    return {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}


def point_count(method: str, parameters: tuple[Parameter, ...], size: int | None, second_order: bool = False) -> int:
    """How many points a design has, without making it."""
    d = len(parameters)
    if method == "grid":
        return math.prod(len(p.levels) for p in parameters)
    if method == "lhs":
        return int(size)
    if method == "sobol":
        return int(size) * (2 * d + 2 if second_order else d + 2)
    if method == "morris":
        return int(size) * (d + 1)
    raise ValueError(f"unknown design method {method!r}; allowed: {', '.join(METHODS)}")


def make_design(
    parameters: tuple[Parameter, ...] | list[Parameter],
    method: str,
    size: int | None = None,
    seed: int = 0,
    levels: int = 4,
    second_order: bool = False,
) -> Design:
    """The design's points (see the module docstring); raises ValueError on bad settings."""
    parameters = tuple(parameters)
    if not parameters:
        raise ValueError("a design needs at least one parameter")
    keys = [p.key for p in parameters]
    if len(set(keys)) != len(keys):
        raise ValueError("a parameter is listed twice")
    d = len(parameters)
    if method == "grid":
        missing = [p.key for p in parameters if p.kind != "levels"]
        if missing:
            raise ValueError(f"a grid needs levels for every parameter; {', '.join(missing)} has none")
        axes = [(np.arange(len(p.levels)) + 0.5) / len(p.levels) for p in parameters]
        unit = np.array(list(itertools.product(*axes)), dtype=float).reshape(-1, d)
    elif method == "lhs":
        _check_size(size, 1)
        from scipy.stats import qmc

        try:
            sampler = qmc.LatinHypercube(d=d, rng=np.random.default_rng(seed))
        except TypeError:  # scipy < 1.15 calls it seed
            sampler = qmc.LatinHypercube(d=d, seed=np.random.default_rng(seed))
        unit = sampler.random(int(size))
    elif method == "sobol":
        _check_size(size, 2)
        if int(size) & (int(size) - 1):
            raise ValueError(f"a sobol design's size must be a power of 2 (such as 64 or 256); got {size}")
        from SALib.sample import sobol

        unit = sobol.sample(salib_problem(keys), int(size), calc_second_order=second_order, seed=seed)
    elif method == "morris":
        _check_size(size, 2)
        if levels < 2:
            raise ValueError(f"Morris needs at least 2 levels; got {levels}")
        from SALib.sample import morris

        unit = morris.sample(salib_problem(keys), int(size), num_levels=int(levels), seed=seed)
    else:
        raise ValueError(f"unknown design method {method!r}; allowed: {', '.join(METHODS)}")
    unit = np.clip(np.asarray(unit, dtype=float), 0.0, 1.0)
    return Design(method, parameters, unit, size, seed, levels, second_order)


def _check_size(size: int | None, least: int) -> None:
    if size is None or isinstance(size, bool) or int(size) != size or size < least:
        raise ValueError(f"size must be a whole number of at least {least}; got {size!r}")


def _numpy_dtype(dtype: str) -> Any:
    return {"float": np.float64, "int": np.int64, "bool": np.bool_}[dtype]


def _python(v: Any) -> Any:
    """numpy scalar -> plain Python bool / int / float."""
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    return float(v)
