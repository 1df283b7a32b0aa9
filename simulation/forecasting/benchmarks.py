"""Statistical benchmarks: what the observed series alone forecast from the same origin.

Each benchmark is fitted on one series' own history up to the origin: growth series on their
rates, counts and value-added levels on their levels. Histories are 1 to 4 points long, so the
predictive distributions are Bayesian posterior predictives under reference priors (flat on
locations and the autoregressive coefficient, 1/σ on the innovation scale): they carry the
uncertainty of every estimated parameter, and they are as wide as so little data warrants.

``rw``: random walk, y(T+h) = y(T) + ε₁ + … + ε_h, ε ~ N(0, σ²). With m differences the
    predictive is Student-t: df = m, location y(T), scale s₀·√h with s₀² = Σd²/m.
``rw_drift``: random walk with drift μ: with m differences, mean d̄ and sample variance s²,
    the predictive is Student-t: df = m − 1, location y(T) + h·d̄, scale s·√(h + h²/m) (the
    drift's own uncertainty is the h²/m term). For Gaussian increments its central intervals
    are exact frequentist prediction intervals, whatever the drift and σ.
``ar1``: y(t) = c + φ·y(t−1) + ε, φ uniform on [−1, 1] (a stationary process or a random
    walk), conditional on the first point. Given φ the model is a location-scale model of
    z(t) = y(t) − φ·y(t−1) with k = n − 1 points, whose marginal likelihood is
    ∝ SS(φ)^−(k−1)/2; φ is drawn from that posterior on a grid, then σ², c and the future
    path, giving a sample (an :class:`~simulation.forecasting.predictive.Ensemble`).

**No forecast.** A benchmark forecasts only when its predictive has a finite mean (a Student-t
needs df ≥ :data:`MIN_DF` = 2), since the CRPS of a distribution without a mean is infinite:
``rw`` needs 3 consecutive observed years, ``rw_drift`` and ``ar1`` need 4. With fewer, it
returns :class:`~simulation.forecasting.predictive.NoForecast` with the reason; it never pads
a short history with a prior guess. The history is the run of consecutive years ending at the
latest point figure up to the origin; lower bounds are not history. A year-to-date figure
(``period`` other than ``year``) stands for its year, as it did for a forecaster at the time.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from simulation.forecasting.observations import observations as observed_table
from simulation.forecasting.predictive import Ensemble, NoForecast, Predictive, StudentT, forecasts_table

BENCHMARKS = ("rw", "rw_drift", "ar1")
MIN_DF = 2  # smallest degrees of freedom of a predictive with a finite mean (an integer above 1)
MIN_POINTS = {"rw": MIN_DF + 1, "rw_drift": MIN_DF + 2, "ar1": MIN_DF + 2}
PHI_GRID = np.linspace(-1.0, 1.0, 401)
AR1_DRAWS = 4000
SEED = 20210118

ArrayLike1d = Sequence[float] | np.ndarray


def history(table: pd.DataFrame, series: str, origin: int) -> tuple[np.ndarray, np.ndarray]:
    """Years and values a forecaster at ``origin`` fits on: the consecutive run ending at the latest point figure."""
    rows = table[(table["series"] == series) & (table["year"] <= origin) & (table["bound"] == "point")]
    rows = rows.sort_values("year")
    years, values = rows["year"].to_numpy(int), rows["value"].to_numpy(float)
    if years.size == 0:
        return years, values
    gaps = np.flatnonzero(np.diff(years) != 1)
    start = gaps[-1] + 1 if gaps.size else 0
    return years[start:], values[start:]


def _too_short(name: str, n: int) -> NoForecast | None:
    need = MIN_POINTS[name]
    if n >= need:
        return None
    return NoForecast(f"{n} consecutive observed year{'s' if n != 1 else ''}; {name} needs {need} for a "
                      f"predictive with a finite mean")


def random_walk(values: ArrayLike1d, horizons: Sequence[int], drift: bool = False) -> list[Predictive]:
    """Random walk (with drift when ``drift``): Student-t predictives for ``horizons`` years after the last value."""
    y = np.asarray(values, dtype=float)
    short = _too_short("rw_drift" if drift else "rw", y.size)
    if short:
        return [short] * len(horizons)
    d = np.diff(y)
    m = d.size
    if drift:  # the drift's own uncertainty adds h²/m to the variance, and costs a degree of freedom
        df, step, s = m - 1, float(d.mean()), float(d.std(ddof=1))
        spread = [np.sqrt(h + h * h / m) for h in horizons]
    else:
        df, step, s = m, 0.0, float(np.sqrt(np.sum(d**2) / m))
        spread = [np.sqrt(h) for h in horizons]
    if s == 0:
        return [NoForecast("the history's changes have no variation")] * len(horizons)
    return [StudentT(df, float(y[-1]) + h * step, s * k) for h, k in zip(horizons, spread)]


def random_walk_drift(values: ArrayLike1d, horizons: Sequence[int]) -> list[Predictive]:
    """Random walk with drift: Student-t predictives including the drift's uncertainty."""
    return random_walk(values, horizons, drift=True)


def ar1(values: ArrayLike1d, horizons: Sequence[int], rng: np.random.Generator,
        draws: int = AR1_DRAWS) -> list[Predictive]:
    """AR(1) with φ uniform on [−1, 1]: posterior-predictive samples for ``horizons``."""
    y = np.asarray(values, dtype=float)
    short = _too_short("ar1", y.size)
    if short:
        return [short] * len(horizons)
    prev, now = y[:-1], y[1:]
    k = now.size
    z = now[None, :] - PHI_GRID[:, None] * prev[None, :]  # (grid, k)
    ss = np.sum((z - z.mean(axis=1, keepdims=True)) ** 2, axis=1)
    if np.all(ss <= 0):
        return [NoForecast("the history fits an AR(1) exactly")] * len(horizons)
    ss = np.maximum(ss, 1e-12 * (np.var(y) + 1e-300))
    log_post = -(k - 1) / 2 * np.log(ss)
    p = np.exp(log_post - log_post.max())
    p /= p.sum()
    idx = rng.choice(PHI_GRID.size, size=draws, p=p)
    phi = PHI_GRID[idx]
    sigma = np.sqrt(ss[idx] / rng.chisquare(k - 1, size=draws))
    c = z.mean(axis=1)[idx] + sigma / np.sqrt(k) * rng.standard_normal(draws)
    steps = max(horizons)
    path = np.empty((steps, draws))
    level = np.full(draws, y[-1])
    for j in range(steps):
        level = c + phi * level + sigma * rng.standard_normal(draws)
        path[j] = level
    return [Ensemble(path[h - 1].copy()) for h in horizons]



def forecast(name: str, values: ArrayLike1d, horizons: Sequence[int], rng: np.random.Generator) -> list[Predictive]:
    """The predictives of benchmark ``name`` for ``horizons`` (≥ 1) years after the last value."""
    if any(h < 1 for h in horizons):
        raise ValueError(f"horizons must be at least 1 year; got {list(horizons)}")
    if name == "rw":
        return random_walk(values, horizons)
    if name == "rw_drift":
        return random_walk_drift(values, horizons)
    if name == "ar1":
        return ar1(values, horizons, rng)
    raise ValueError(f"unknown benchmark {name!r}; known: {', '.join(BENCHMARKS)}")


def benchmark_forecasts(
    origins: Iterable[int],
    table: pd.DataFrame | None = None,
    years: Iterable[int] | None = None,
    sources: Iterable[str] = BENCHMARKS,
    seed: int = SEED,
) -> pd.DataFrame:
    """A forecasts table (see :mod:`~simulation.forecasting.predictive`) of every benchmark from every origin.

    ``table`` is the observations table (the shipped one by default). For each origin and
    series the forecast years are ``years`` after the origin, or, when ``years`` is None,
    the series' observed years after the origin (those the backtest can score). Each
    (origin, series, benchmark) draws from its own stream of ``seed`` (keyed by the CRC-32 of
    the names), so the forecasts do not depend on which other series or origins are asked for.
    """
    table = observed_table() if table is None else table
    sources = list(sources)
    rows = []
    for origin in sorted(set(int(o) for o in origins)):
        for series in dict.fromkeys(table["series"]):
            if years is None:
                wanted = sorted(table.loc[(table["series"] == series) & (table["year"] > origin), "year"].astype(int))
            else:
                wanted = sorted(int(y) for y in years if int(y) > origin)
            if not wanted:
                continue
            hist_years, values = history(table, series, origin)
            for name in sources:
                if hist_years.size == 0:
                    predictives: list[Predictive] = [NoForecast(f"no observation of the series up to {origin}")] * len(wanted)
                else:
                    rng = np.random.default_rng([seed, origin, zlib.crc32(series.encode()), zlib.crc32(name.encode())])
                    horizons = [y - int(hist_years[-1]) for y in wanted]
                    predictives = forecast(name, values, horizons, rng)
                rows += [dict(origin=origin, series=series, year=y, source=name, predictive=p)
                         for y, p in zip(wanted, predictives)]
    return forecasts_table(rows)

