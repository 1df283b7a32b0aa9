"""How far a chance of meeting a target rests on values nobody knows: P(target | the world's values).

A replicate draws every uncertain value of its scenario (2020 levels, market trends, behaviour,
prices, and with a posterior the conditioned shocks of the observed years) and then lives through
its own shocks. The share of replicates that meet a target is P averaged over both. Had the values
been known, P would be P(target | values): this module estimates that conditional chance for every
replicate and reports the central 95 % of it across the replicates, the interval a reader needs to
judge how much the verdict depends on what is not known (Monte-Carlo error is the Wilson interval's
business, not this one's).

The estimate is a logistic regression of the replicate's outcome (hit or not) on the values it
drew, standardised, with an L2 penalty chosen by stratified 5-fold cross-validation on the log
loss (scikit-learn's ``LogisticRegressionCV``). The penalty makes it conservative where the
replicates cannot tell the values' effect from the shocks' (the fitted chances shrink to the
share); effects that are not monotone in a value are missed. Too few replicates (under
:data:`MIN_REPLICATES`) or too few of the rarer outcome (under :data:`MIN_MINORITY`) give no interval.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np

MIN_REPLICATES = 40
MIN_MINORITY = 5
LEVEL = 0.95  # the central share of the conditional chances reported
FOLDS = 5
PENALTIES = np.logspace(-3, 0, 7)  # inverse L2 strengths tried by cross-validation (weaker ones overfit 100+ values)


def drawn_values(parameters: Sequence[Mapping[str, float]]) -> np.ndarray:
    """The replicates' drawn values as an (n, k) array of the keys every replicate has and that vary."""
    if not parameters:
        return np.empty((0, 0))
    keys = sorted(set.intersection(*(set(p) for p in parameters)))
    values = np.array([[float(p[k]) for k in keys] for p in parameters], dtype=float).reshape(len(parameters), len(keys))
    keep = np.isfinite(values).all(axis=0) & (np.ptp(values, axis=0) > 0) if values.size else np.zeros(0, bool)
    return values[:, keep]


def conditional_chances(flags: np.ndarray, values: np.ndarray) -> np.ndarray | None:
    """Each replicate's estimated P(target | its drawn values), or None when the data cannot say."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.model_selection import StratifiedKFold

    y = np.asarray(flags, dtype=bool)
    minority = min(int(y.sum()), int((~y).sum()))
    if y.size < MIN_REPLICATES or minority < MIN_MINORITY or values.ndim != 2 or values.shape[1] == 0:
        return None
    x = (values - values.mean(axis=0)) / values.std(axis=0)
    model = LogisticRegressionCV(
        Cs=PENALTIES, cv=StratifiedKFold(min(FOLDS, minority), shuffle=True, random_state=0),
        scoring="neg_log_loss", max_iter=1000, l1_ratios=(0.0,), use_legacy_attributes=False,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x, y)
    return model.predict_proba(x)[:, 1]


def parameter_interval(flags: np.ndarray, valid: np.ndarray, values: np.ndarray) -> tuple[float, float] | None:
    """The central :data:`LEVEL` range of P(target | values) across the valid replicates."""
    valid = np.asarray(valid, dtype=bool)
    chances = conditional_chances(np.asarray(flags)[valid], values[valid])
    if chances is None:
        return None
    tail = (1.0 - LEVEL) / 2.0
    low, high = np.quantile(chances, [tail, 1.0 - tail])
    return float(low), float(high)


def interval_columns(flags: np.ndarray, valid: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`parameter_interval` per column of (n, units) ``flags``: low and high arrays, NaN where none."""
    flags, valid = np.atleast_2d(flags.T).T, np.atleast_2d(valid.T).T
    low, high = np.full(flags.shape[1], np.nan), np.full(flags.shape[1], np.nan)
    for j in range(flags.shape[1]):
        bounds = parameter_interval(flags[:, j], valid[:, j], values)
        if bounds is not None:
            low[j], high[j] = bounds
    return low, high
