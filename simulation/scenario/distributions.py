"""Uncertain scenario values: a plain number or a distribution to sample once per replicate.

In a scenario file an uncertain value is written either as a number (fixed) or as a table::

    growth = { dist = "triangular", low = 4.0, mode = 8.0, high = 12.0 }
    conversion = { dist = "uniform", low = 0.5, high = 0.8 }
    persistence = { dist = "normal", mean = 0.75, sd = 0.05, low = 0.6, high = 0.9 }

``normal`` may be truncated with ``low``/``high``. Every distribution's support must lie
within the bounds of the key it sets, so a draw can never be out of range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

DISTRIBUTIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # name: (required keys, optional keys)
    "fixed": (("value",), ()),
    "uniform": (("low", "high"), ()),
    "triangular": (("low", "mode", "high"), ()),
    "normal": (("mean", "sd"), ("low", "high")),
}


@dataclass(frozen=True)
class Distribution:
    """A one-dimensional distribution from a scenario file."""

    dist: str
    params: tuple[tuple[str, float], ...]

    def get(self, key: str, default: float | None = None) -> float | None:
        return dict(self.params).get(key, default)

    @property
    def support(self) -> tuple[float, float]:
        p = dict(self.params)
        if self.dist == "fixed":
            return p["value"], p["value"]
        if self.dist == "normal":
            return p.get("low", -math.inf), p.get("high", math.inf)
        return p["low"], p["high"]

    @property
    def central(self) -> float:
        """A representative value (the mode, mean or fixed value), used for reporting."""
        p = dict(self.params)
        if self.dist == "uniform":
            return (p["low"] + p["high"]) / 2
        return p[{"fixed": "value", "triangular": "mode", "normal": "mean"}[self.dist]]

    def ppf(self, u: np.ndarray | float) -> np.ndarray:
        """Quantile function: maps uniform(0, 1) numbers to draws (used by samplers)."""
        p = dict(self.params)
        u = np.asarray(u, dtype=float)
        if self.dist == "fixed":
            return np.full_like(u, p["value"])
        if self.dist == "uniform":
            return p["low"] + u * (p["high"] - p["low"])
        if self.dist == "triangular":
            lo, mode, hi = p["low"], p["mode"], p["high"]
            if hi == lo:
                return np.full_like(u, lo)
            from scipy import stats  # imported where used: a replicate needs SciPy's stats only for normals

            return stats.triang.ppf(u, (mode - lo) / (hi - lo), loc=lo, scale=hi - lo)
        mean, sd = p["mean"], p["sd"]
        if sd == 0:
            return np.full_like(u, mean)
        a = (p.get("low", -math.inf) - mean) / sd
        b = (p.get("high", math.inf) - mean) / sd
        from scipy import stats

        return stats.truncnorm.ppf(u, a, b, loc=mean, scale=sd)


    def ppf_closed_form(self, u: float) -> float | None:
        """The quantile of ``u`` without SciPy where it has a closed form (the value ``ppf`` gives, to the
        bit); None for a truncated or full normal."""
        p = dict(self.params)
        if self.dist == "fixed":
            return p["value"]
        if self.dist == "uniform":
            return p["low"] + u * (p["high"] - p["low"])
        if self.dist == "triangular":
            lo, mode, hi = p["low"], p["mode"], p["high"]
            if hi == lo:
                return lo
            c, scale = (mode - lo) / (hi - lo), hi - lo
            if u == 1.0:
                return hi
            # SciPy's triang: sqrt(c q) below the mode, 1 - sqrt((1 - c)(1 - q)) above; then * scale + loc
            x = math.sqrt(c * u) if u < c else 1.0 - math.sqrt((1.0 - c) * (1.0 - u))
            return x * scale + lo
        if p["sd"] == 0:
            return p["mean"]
        return None

    def sample(self, rng: np.random.Generator) -> float:
        return float(self.ppf(rng.random()))


def normal_ppf_many(dists: list[Distribution], u: np.ndarray) -> np.ndarray:
    """``[d.ppf(x) for d, x in zip(dists, u)]`` for (truncated) normal distributions, in one SciPy call."""
    p = [dict(d.params) for d in dists]
    mean, sd = np.array([q["mean"] for q in p]), np.array([q["sd"] for q in p])
    a = (np.array([q.get("low", -math.inf) for q in p]) - mean) / sd
    b = (np.array([q.get("high", math.inf) for q in p]) - mean) / sd
    from scipy import stats

    return stats.truncnorm.ppf(u, a, b, loc=mean, scale=sd)


def parse_distribution(value: object) -> Distribution:
    """Turn a scenario value into a Distribution, or raise ValueError saying what is allowed."""
    if isinstance(value, bool):
        raise ValueError(f"expected a number or a distribution table, got {value!r}")
    if isinstance(value, (int, float)):
        _check_finite("value", value)
        return Distribution("fixed", (("value", float(value)),))
    if not isinstance(value, dict):
        raise ValueError(f"expected a number or a distribution table, got {type(value).__name__} {value!r}")
    name = value.get("dist")
    if name not in DISTRIBUTIONS:
        raise ValueError(
            f"'dist' must be one of {', '.join(repr(d) for d in DISTRIBUTIONS)}, got {name!r}"
        )
    required, optional = DISTRIBUTIONS[name]
    unknown = set(value) - {"dist", *required, *optional}
    if unknown:
        raise ValueError(
            f"unknown key(s) {sorted(unknown)} in a {name!r} distribution; allowed: {', '.join((*required, *optional))}"
        )
    missing = [k for k in required if k not in value]
    if missing:
        raise ValueError(f"a {name!r} distribution needs {', '.join(required)}; missing {', '.join(missing)}")
    params = {}
    for k in (*required, *optional):
        if k in value:
            v = value[k]
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise ValueError(f"'{k}' must be a number, got {v!r}")
            _check_finite(k, v)
            params[k] = float(v)
    if name == "uniform" and params["low"] > params["high"]:
        raise ValueError(f"uniform needs low <= high, got low={params['low']} high={params['high']}")
    if name == "triangular" and not params["low"] <= params["mode"] <= params["high"]:
        raise ValueError(
            f"triangular needs low <= mode <= high, got {params['low']}, {params['mode']}, {params['high']}"
        )
    if name == "normal":
        if params["sd"] < 0:
            raise ValueError(f"normal needs sd >= 0, got {params['sd']}")
        if params.get("low", -math.inf) >= params.get("high", math.inf):
            raise ValueError("normal truncation needs low < high")
    return Distribution(name, tuple(params.items()))


def _check_finite(key: str, v: float) -> None:
    if not math.isfinite(v):
        raise ValueError(f"'{key}' must be a finite number, got {v}")
