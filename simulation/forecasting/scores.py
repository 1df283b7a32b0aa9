"""Proper scores of predictive distributions: CRPS, central-interval coverage and the sign.

A forecast here is a whole predictive distribution, given either as an ensemble (samples, with
weights when they come from an ABC posterior) or in closed form (normal, Student-t, for the
statistical benchmarks). The continuous ranked probability score

    CRPS(F, y) = ∫ (F(x) − 1{y ≤ x})² dx = E|X − y| − ½ E|X − X'|

is in the unit of the observation, is zero only for a point mass on the observed value, and
rewards calibration and sharpness together; for a point forecast it is the absolute error.
Lower is better. The CRPS itself comes from ``scoringrules`` (Zottl et al.):

* ensembles: ``crps_ensemble`` with the ``"qd"`` (quantile decomposition) estimator, which is
  the exact CRPS of the weighted empirical distribution (equal to the energy form above with
  the weights), the distribution whose quantiles :func:`ensemble_quantiles` reports;
* closed forms: ``crps_normal`` and ``crps_t``. A Student-t needs more than one degree of
  freedom (a finite mean) for its CRPS to be finite; :func:`crps_student_t` refuses df ≤ 1.

Ensemble quantiles are those of the same weighted empirical distribution (numpy's
``inverted_cdf``: the smallest member whose cumulative weight reaches p), so the median, the
bands and the CRPS describe one distribution, weighted or not.
"""

from __future__ import annotations

import math

import numpy as np
import scoringrules as sr
from numpy.typing import ArrayLike

BANDS = (0.5, 0.9)  # the central intervals whose coverage is reported


def check_ensemble(samples: ArrayLike, weights: ArrayLike | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Samples as a finite 1-d array and weights (None or normalised, non-negative, same length)."""
    x = np.asarray(samples, dtype=float).ravel()
    if x.size == 0:
        raise ValueError("an ensemble needs at least one sample")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"ensemble has {int(np.sum(~np.isfinite(x)))} non-finite samples (NaN or inf)")
    if weights is None:
        return x, None
    w = np.asarray(weights, dtype=float).ravel()
    if w.shape != x.shape:
        raise ValueError(f"{w.size} weights for {x.size} samples")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("weights must be finite and non-negative")
    total = w.sum()
    if total <= 0:
        raise ValueError("weights sum to zero")
    return x, w / total


def crps_ensemble(observed: float, samples: ArrayLike, weights: ArrayLike | None = None) -> float:
    """CRPS of the (weighted) empirical distribution of ``samples`` at ``observed``."""
    x, w = check_ensemble(samples, weights)
    return float(sr.crps_ensemble(float(observed), x, ens_w=w, estimator="qd", backend="numpy"))


def crps_normal(observed: float, loc: float, scale: float) -> float:
    """CRPS of N(loc, scale²) at ``observed`` (closed form)."""
    if not scale > 0:
        raise ValueError(f"scale must be positive; got {scale}")
    return float(sr.crps_normal(float(observed), float(loc), float(scale), backend="numpy"))


def crps_student_t(observed: float, df: float, loc: float, scale: float) -> float:
    """CRPS of loc + scale·T(df) at ``observed`` (closed form); df = inf is the normal."""
    if math.isinf(df):
        return crps_normal(observed, loc, scale)
    if not df > 1:
        raise ValueError(f"a Student-t with df = {df} has no finite mean, so no finite CRPS (df must be > 1)")
    if not scale > 0:
        raise ValueError(f"scale must be positive; got {scale}")
    return float(sr.crps_t(float(observed), float(df), float(loc), float(scale), backend="numpy"))


def ensemble_quantiles(samples: ArrayLike, probs: ArrayLike, weights: ArrayLike | None = None) -> np.ndarray:
    """Quantiles of the (weighted) empirical distribution: the smallest member with cumulative weight ≥ p."""
    x, w = check_ensemble(samples, weights)
    return np.quantile(x, np.asarray(probs, dtype=float), weights=w, method="inverted_cdf")


def ensemble_cdf(samples: ArrayLike, value: float, weights: ArrayLike | None = None, strict: bool = False) -> float:
    """P(X ≤ value) (or P(X < value) when ``strict``) under the (weighted) empirical distribution."""
    x, w = check_ensemble(samples, weights)
    hit = x < value if strict else x <= value
    return float(np.mean(hit) if w is None else np.sum(w[hit]))


def effective_sample_size(weights: ArrayLike | None, n: int | None = None) -> float:
    """Kish's effective sample size (Σw)² / Σw² (n for equal weights)."""
    if weights is None:
        if n is None:
            raise ValueError("give the weights or the number of samples")
        return float(n)
    w = np.asarray(weights, dtype=float)
    return float(w.sum() ** 2 / np.sum(w**2))


def central_bounds(level: float) -> tuple[float, float]:
    """The quantile levels of the central interval holding ``level`` of the mass: 0.9 → (0.05, 0.95)."""
    if not 0 < level < 1:
        raise ValueError(f"interval level must lie in (0, 1); got {level}")
    return (1 - level) / 2, (1 + level) / 2


def inside(observed: float, low: float, high: float) -> bool:
    """Is the observation inside the closed interval [low, high]? (An observation on a bound counts.)"""
    if not all(math.isfinite(v) for v in (observed, low, high)):
        raise ValueError("inside() needs finite numbers")
    return bool(low <= observed <= high)


def sign_right(observed: float, median: float) -> bool | None:
    """Does the forecast median have the observed sign? None when the observation is exactly 0 (no sign).

    A median of exactly 0 forecasts no sign, so it is wrong for any non-zero observation.
    """
    if observed == 0:
        return None
    return bool(np.sign(median) == np.sign(observed))
