"""Robustness metrics: one number per design from its runs on a fixed ensemble of futures.

A design (a set of lever magnitudes) is run once in each future of the ensemble (the same
replicate seeds, and the same uncertain values, for every design: common random numbers), and
each run gives the per-run outcomes of :mod:`simulation.experiments.sweep_outcomes`. A metric
reduces those runs to one number:

====================== =================================================================== =========
metric                 definition over the ensemble's runs                                  unit
====================== =================================================================== =========
``p_all_hit``          share of futures in which all five emerging clusters hit             share
``worst_p_hit``        the smallest of the five clusters' shares of futures that hit        share
``p_hit_<cluster>``    share of futures in which that emerging cluster hits                 share
``city_cagr_median``   median of the city's industrial growth                               % a year
``city_cagr_p10``      its 10th percentile (a bad future)                                   % a year
``cost_per_year``      mean public cost (the fiscal ledger's total) per simulated year      亿元 a year
``value_added_per_yi`` the nine clusters' value added over all futures per 亿 of public     亿元
                       money over all futures (a ratio of totals, not an effect)
``mean:<column>``,     the mean (median) of any recorded column (toy problems, custom
``median:<column>``    evaluators)
====================== =================================================================== =========

A future whose run failed, or whose outcome is undefined, is left out of that metric; a design
with no usable run has NaN metrics and is infeasible. What readers see for each metric (its name
in English and Chinese, its unit) is in the label table, :mod:`simulation.reporting.labels`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulation.datapack import EMERGING


@dataclass(frozen=True)
class Metric:
    """A named reduction of a design's runs to one number, and whether more is better."""

    name: str
    compute: Callable[[pd.DataFrame, float], float]  # (runs, years) -> value
    columns: tuple[str, ...]  # the run columns it reads
    better: str  # "max" or "min": the direction a briefing reads it in


def _share(column: str) -> Callable[[pd.DataFrame, float], float]:
    def compute(runs: pd.DataFrame, years: float) -> float:
        x = runs[column].dropna()
        return float(x.astype(float).mean()) if len(x) else np.nan

    return compute


def _worst(runs: pd.DataFrame, years: float) -> float:
    shares = [_share(f"hit_{c}")(runs, years) for c in EMERGING]
    return float(np.min(shares)) if shares and not np.isnan(shares).all() else np.nan


def _quantile(column: str, q: float) -> Callable[[pd.DataFrame, float], float]:
    def compute(runs: pd.DataFrame, years: float) -> float:
        x = runs[column].dropna().astype(float)
        return float(np.quantile(x, q)) if len(x) else np.nan

    return compute


def _cost_per_year(runs: pd.DataFrame, years: float) -> float:
    x = runs["fiscal_cost"].dropna().astype(float)
    return float(x.mean() / years) if len(x) else np.nan


def _va_per_yi(runs: pd.DataFrame, years: float) -> float:
    ok = runs[["value_added_total", "fiscal_cost"]].dropna().astype(float)
    cost = ok["fiscal_cost"].sum()
    return float(ok["value_added_total"].sum() / cost) if cost > 0 else np.nan


def _mean(column: str) -> Callable[[pd.DataFrame, float], float]:
    def compute(runs: pd.DataFrame, years: float) -> float:
        x = runs[column].dropna().astype(float)
        return float(x.mean()) if len(x) else np.nan

    return compute


METRICS: dict[str, Metric] = {
    m.name: m
    for m in [
        Metric("p_all_hit", _share("hit_all"), ("hit_all",), "max"),
        Metric("worst_p_hit", _worst, tuple(f"hit_{c}" for c in EMERGING), "max"),
        *[Metric(f"p_hit_{c}", _share(f"hit_{c}"), (f"hit_{c}",), "max") for c in EMERGING],
        Metric("city_cagr_median", _quantile("city_cagr", 0.5), ("city_cagr",), "max"),
        Metric("city_cagr_p10", _quantile("city_cagr", 0.1), ("city_cagr",), "max"),
        Metric("cost_per_year", _cost_per_year, ("fiscal_cost",), "min"),
        Metric("value_added_per_yi", _va_per_yi, ("value_added_total", "fiscal_cost"), "max"),
    ]
}


def metric(name: str) -> Metric:
    """A metric by name, including ``mean:<column>`` and ``median:<column>``; KeyError if unknown."""
    if name in METRICS:
        return METRICS[name]
    stat, sep, column = name.partition(":")
    if sep and column and stat in ("mean", "median"):
        compute = _mean(column) if stat == "mean" else _quantile(column, 0.5)
        return Metric(name, compute, (column,), "max")
    raise KeyError(name)


def evaluate(runs: pd.DataFrame, names: list[str] | tuple[str, ...], years: float) -> dict[str, float]:
    """Each metric over one design's runs (only the runs with status ok)."""
    ok = runs[runs["status"] == "ok"] if "status" in runs else runs
    return {name: metric(name).compute(ok, years) if len(ok) else np.nan for name in names}
