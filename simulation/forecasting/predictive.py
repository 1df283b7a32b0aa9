"""Predictive distributions, and the table of forecasts that carries them.

A forecast of one figure (an origin, a series, a year, a source) is one of

* :class:`Ensemble`: samples, optionally weighted (an ABC posterior's particles carry weights);
* :class:`StudentT`: ``loc + scale·T(df)``, the normal when ``df`` is infinite;
* :class:`NoForecast`: the source makes no forecast here, and ``reason`` says why (a benchmark
  with too little history). It is kept so that tables can say so instead of leaving a gap.

**The forecasts table** (one row per forecast; what :func:`simulation.forecasting.backtest_table.score`
reads):

============ ================================================================================
column       meaning
============ ================================================================================
origin       int: the last year whose observations the forecaster knew
series       str: a series id of :data:`simulation.forecasting.observations.SERIES`
year         int: the forecast year, > origin
source       str: ``"model"`` or a benchmark (``"rw"``, ``"rw_drift"``, ``"ar1"``), or any name
kind         ``"ensemble"``, ``"student_t"``, ``"normal"`` or ``"none"``
samples      ensemble only: a 1-d array (or list) of values in the series' unit
weights      ensemble only: an array of non-negative weights of the same length, or None
df           student_t only: degrees of freedom (> 1)
loc, scale   student_t and normal: location and scale
reason       none only: why there is no forecast
============ ================================================================================

Columns a kind does not use may be missing or empty. :func:`forecasts_from_draws` builds
ensemble rows from a long table of draws (one row per sample with a ``value`` and an optional
``weight``), which is how model runs come out.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from simulation.forecasting import scores

KEYS = ("origin", "series", "year", "source")
KINDS = ("ensemble", "student_t", "normal", "none")
FORECAST_COLUMNS = (*KEYS, "kind", "samples", "weights", "df", "loc", "scale", "reason")


@dataclass(frozen=True, eq=False)
class Ensemble:
    """Samples of the predictive distribution, with optional weights (normalised on use)."""

    samples: np.ndarray
    weights: np.ndarray | None = None

    def __post_init__(self) -> None:
        x, w = scores.check_ensemble(self.samples, self.weights)
        object.__setattr__(self, "samples", x)
        object.__setattr__(self, "weights", w)

    kind = "ensemble"

    def quantile(self, probs: ArrayLike) -> np.ndarray:
        return scores.ensemble_quantiles(self.samples, probs, self.weights)

    def crps(self, observed: float) -> float:
        return scores.crps_ensemble(observed, self.samples, self.weights)

    def prob_at_least(self, value: float) -> float:
        return 1.0 - scores.ensemble_cdf(self.samples, value, self.weights, strict=True)

    @property
    def members(self) -> int:
        return int(self.samples.size)

    @property
    def ess(self) -> float:
        return scores.effective_sample_size(self.weights, self.samples.size)


@dataclass(frozen=True)
class StudentT:
    """``loc + scale·T(df)``; ``df = inf`` is the normal N(loc, scale²)."""

    df: float
    loc: float
    scale: float

    def __post_init__(self) -> None:
        if not self.df > 1:
            raise ValueError(f"a predictive Student-t needs df > 1 (a finite mean); got {self.df}")
        if not (self.scale > 0 and math.isfinite(self.scale) and math.isfinite(self.loc)):
            raise ValueError(f"a predictive Student-t needs a finite loc and a positive scale; got {self}")

    @property
    def kind(self) -> str:
        return "normal" if math.isinf(self.df) else "student_t"

    def _dist(self) -> Any:
        if math.isinf(self.df):
            return stats.norm(self.loc, self.scale)
        return stats.t(self.df, self.loc, self.scale)

    def quantile(self, probs: ArrayLike) -> np.ndarray:
        return np.asarray(self._dist().ppf(np.asarray(probs, dtype=float)), dtype=float)

    def crps(self, observed: float) -> float:
        return scores.crps_student_t(observed, self.df, self.loc, self.scale)

    def prob_at_least(self, value: float) -> float:
        return float(self._dist().sf(value))

    members = 0
    ess = math.nan


@dataclass(frozen=True)
class NoForecast:
    """No forecast from this source, and why."""

    reason: str
    kind = "none"


Predictive = Ensemble | StudentT | NoForecast


def normal(loc: float, scale: float) -> StudentT:
    return StudentT(math.inf, loc, scale)


def _given(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, float) and math.isnan(value):
        return False
    return True


def from_row(row: Mapping[str, Any]) -> Predictive:
    """The predictive distribution of one row of a forecasts table; a one-line error if it is malformed."""
    kind = row.get("kind")
    where = f"forecast {tuple(row.get(k) for k in KEYS)}"
    try:
        if kind == "ensemble":
            if not _given(row.get("samples")):
                raise ValueError("an ensemble row needs samples")
            weights = row.get("weights")
            return Ensemble(np.asarray(row["samples"], float), np.asarray(weights, float) if _given(weights) else None)
        if kind in ("student_t", "normal"):
            df = math.inf if kind == "normal" else float(row["df"])
            return StudentT(df, float(row["loc"]), float(row["scale"]))
        if kind == "none":
            return NoForecast(str(row.get("reason") or "no reason given"))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{where}: {exc}") from None
    raise ValueError(f"{where}: kind must be one of {', '.join(KINDS)}; got {kind!r}")


def to_row(predictive: Predictive) -> dict[str, Any]:
    """The columns of a forecasts-table row that describe ``predictive`` (the keys are added by the caller)."""
    row: dict[str, Any] = {"kind": predictive.kind, "samples": None, "weights": None, "df": math.nan,
                           "loc": math.nan, "scale": math.nan, "reason": ""}  # fmt: skip
    if isinstance(predictive, Ensemble):
        row.update(samples=predictive.samples, weights=predictive.weights)
    elif isinstance(predictive, StudentT):
        row.update(df=predictive.df, loc=predictive.loc, scale=predictive.scale)
    else:
        row.update(reason=predictive.reason)
    return row


def forecasts_table(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """A forecasts table from rows holding the keys and a ``predictive`` (or the columns themselves)."""
    out = []
    for r in rows:
        r = dict(r)
        if "predictive" in r:
            r.update(to_row(r.pop("predictive")))
        out.append(r)
    table = pd.DataFrame(out)
    for column in FORECAST_COLUMNS:
        if column not in table:
            table[column] = None
    return table[list(FORECAST_COLUMNS)]


def forecasts_from_draws(draws: pd.DataFrame) -> pd.DataFrame:
    """Ensemble rows from draws: columns origin, series, year, source, value and optionally weight.

    One row per sample (a replicate run, or a posterior particle's run); the weights of one
    forecast need not sum to one.
    """
    missing = [c for c in (*KEYS, "value") if c not in draws]
    if missing:
        raise ValueError(f"draws lack the columns {', '.join(missing)}")
    rows = []
    for keys, group in draws.groupby(list(KEYS), sort=True):
        weights = group["weight"].to_numpy(float) if "weight" in group else None
        rows.append({**dict(zip(KEYS, keys)), "predictive": Ensemble(group["value"].to_numpy(float), weights)})
    return forecasts_table(rows)
