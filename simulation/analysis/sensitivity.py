"""Sensitivity indices and point summaries from a sweep's results folder.

Each design point's outcome is the mean over its replicates (all points share the replicate
seeds, so the means are paired): the mean of a ``hit_<cluster>`` column is that cluster's
P(hit), named ``p_hit_<cluster>``. The indices are computed by SALib on the design's unit
coordinates (see :mod:`simulation.experiments.design`):

* ``sobol`` designs: first-order ``S1`` and total ``ST`` indices (``SALib.analyze.sobol``);
* ``morris`` designs: ``mu_star`` (mean absolute elementary effect, per unit of quantile) and
  ``sigma`` (their standard deviation: interactions or non-linearity) (``SALib.analyze.morris``).

The ranked table has exactly the columns ``parameter, index, value, ci_low, ci_high`` (index in
S1, ST, mu_star, sigma; the confidence interval is the index plus or minus SALib's bootstrap
half-width at the 95 % level; sigma has none, so its interval is empty). Parameters are ranked
by ST (Sobol) or mu_star (Morris), largest first, each parameter's rows together.

Grid and LHS designs have no indices; :func:`point_table` gives each point's outcomes instead
(means, and P(...) with Wilson 95 % intervals), :func:`frontier` the least-support points of a
grid at which each emerging cluster reaches a given P(hit), and :func:`response_table` the
lever-response curves the charts draw (``response.csv``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation.datapack import CLUSTERS, EMERGING
from simulation.experiments.design import UNIT_PREFIX, salib_problem
from simulation.experiments.summary import wilson_interval

COLUMNS = ("parameter", "index", "value", "ci_low", "ci_high")
INDICES = {"sobol": ("S1", "ST"), "morris": ("mu_star", "sigma")}
PRIMARY = {"sobol": "ST", "morris": "mu_star"}
CONFIDENCE = 0.95
RESAMPLES = 200
SEED = 20210118  # bootstrap seed: the same table every time


class AnalysisError(Exception):
    """The results cannot be analysed as asked; one line for the user."""


@dataclass
class SweepResults:
    """A sweep folder's manifest, design and runs."""

    folder: Path
    manifest: dict[str, Any]
    design: pd.DataFrame
    runs: pd.DataFrame

    @property
    def method(self) -> str:
        return self.manifest["design"]["method"]

    @property
    def keys(self) -> list[str]:
        return list(self.manifest["columns"]["parameters"])

    @property
    def outcome_columns(self) -> list[str]:
        return list(self.manifest["columns"]["outcomes"])

    @property
    def n_points(self) -> int:
        return int(self.manifest["design"]["points"])

    @property
    def expected_runs(self) -> int:
        return int(self.manifest["runs"])

    def unit(self) -> np.ndarray:
        return self.design[[UNIT_PREFIX + k for k in self.keys]].to_numpy(dtype=float)


def load_results(folder: str | Path, columns: list[str] | None = None) -> SweepResults:
    """Read a sweep folder (only ``columns`` of the runs, plus their keys, if given)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise AnalysisError(f"{folder}: no such folder")
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AnalysisError(f"{folder} is not a sweep results folder (no manifest.json)") from None
    except ValueError as exc:
        raise AnalysisError(f"{folder / 'manifest.json'} is not valid JSON: {exc}") from None
    if manifest.get("kind") != "sweep":
        raise AnalysisError(f"{folder} is not a sweep results folder (its manifest is not a sweep's)")
    design = pd.read_parquet(folder / "design.parquet")
    parts = sorted((folder / "runs").glob("part-*.parquet"))
    if not parts:
        raise AnalysisError(f"{folder} has no runs yet")
    wanted = None if columns is None else ["point", "replicate", "status", *columns]
    runs = pd.read_parquet(folder / "runs", columns=wanted)
    runs = runs.sort_values(["point", "replicate"], kind="stable").reset_index(drop=True)
    if runs.duplicated(["point", "replicate"]).any():
        raise AnalysisError(f"{folder} records some runs twice")
    return SweepResults(folder, manifest, design, runs)


def outcome_column(name: str, columns: list[str]) -> str:
    """The run column behind an analysis outcome (``p_hit_semi`` -> ``hit_semi``)."""
    if name in columns and not name.startswith(("hit_", "keeps_pace_")):
        return name
    if name.startswith(("p_hit_", "p_keeps_pace_")) and name[2:] in columns:
        return name[2:]
    if name in columns:  # hit_x asked directly: its mean is P(hit)
        return name
    from simulation.experiments.experiment_file import analysis_names

    raise AnalysisError(f"unknown outcome {name!r}; this sweep has: {', '.join(analysis_names(columns))}")


def default_outcomes(results: SweepResults) -> list[str]:
    """The experiment's [analysis] outcomes, else P(hit) of each emerging cluster, the city's CAGR and, where
    recorded, the public cost and revenue and value added per 亿 of it."""
    chosen = list(results.manifest.get("analysis", {}).get("outcomes") or [])
    if chosen:
        return chosen
    cols = results.outcome_columns
    out = [f"p_hit_{c}" for c in EMERGING if f"hit_{c}" in cols]
    out += [c for c in ("city_cagr", "fiscal_cost", *PER_YI) if c in cols]  # growth, its cost, what a 亿 buys
    return out or [c if not c.startswith(("hit_", "keeps_pace_")) else f"p_{c}" for c in cols[:1]]


#: per-亿 outcomes -> (numerator, denominator) columns: a point's value is the ratio of their sums
PER_YI = {"revenue_per_yi": ("revenue_total", "fiscal_cost"), "value_added_per_yi": ("value_added_total", "fiscal_cost")}


def point_means(results: SweepResults, column: str) -> tuple[np.ndarray, np.ndarray]:
    """Per design point: the mean of ``column`` over its successful runs, and how many there were.

    A per-亿 outcome (``revenue_per_yi``, ``value_added_per_yi``) is the ratio of the point's summed
    totals (revenue or value added over public cost), not a mean of per-run ratios, which a run with
    little public money would dominate.
    """
    runs = results.runs
    ok = runs["status"] == "ok"
    means = np.full(results.n_points, np.nan)
    counts = np.zeros(results.n_points, dtype=np.int64)
    top, bottom = PER_YI.get(column, (None, None))
    if top in runs and bottom in runs:
        both = runs.loc[ok, [top, bottom]].astype(float).dropna()
        sums = both.groupby(runs.loc[both.index, "point"]).sum()
        ratio = (sums[top] / sums[bottom]).where(sums[bottom] > 0)
        means[ratio.index.to_numpy()] = ratio.to_numpy()
        count = both.groupby(runs.loc[both.index, "point"]).size()
        counts[count.index.to_numpy()] = count.to_numpy()
        return means, counts
    values = runs.loc[ok, column].astype(float)
    grouped = values.groupby(runs.loc[ok, "point"])
    mean, count = grouped.mean(), grouped.count()
    means[mean.index.to_numpy()] = mean.to_numpy()
    counts[count.index.to_numpy()] = count.to_numpy()
    return means, counts


# --- indices ----------------------------------------------------------------------------------


def sobol_table(names: list[str], y: np.ndarray, second_order: bool = False,
                confidence: float = CONFIDENCE, resamples: int = RESAMPLES) -> pd.DataFrame:  # fmt: skip
    """S1 and ST with confidence intervals, ranked (``y`` in the design's point order)."""
    from SALib.analyze import sobol

    y = _checked(y)
    si = sobol.analyze(salib_problem(names), y, calc_second_order=second_order, num_resamples=resamples,
                       conf_level=confidence, seed=SEED)  # fmt: skip
    rows = []
    for j, name in enumerate(names):
        for index in ("S1", "ST"):
            value, half = float(si[index][j]), float(si[f"{index}_conf"][j])
            rows.append((name, index, value, value - half, value + half))
    return rank(pd.DataFrame(rows, columns=list(COLUMNS)), "ST")


def morris_table(names: list[str], x: np.ndarray, y: np.ndarray, levels: int,
                 confidence: float = CONFIDENCE, resamples: int = RESAMPLES) -> pd.DataFrame:  # fmt: skip
    """mu_star (with confidence interval) and sigma, ranked (``x`` the unit design)."""
    from SALib.analyze import morris

    y = _checked(y)
    si = morris.analyze(salib_problem(names), np.asarray(x, dtype=float), y, num_resamples=resamples,
                        conf_level=confidence, num_levels=levels, seed=SEED)  # fmt: skip
    rows = []
    for j, name in enumerate(names):
        mu_star, half = float(si["mu_star"][j]), float(si["mu_star_conf"][j])
        rows.append((name, "mu_star", mu_star, max(mu_star - half, 0.0), mu_star + half))
        rows.append((name, "sigma", float(si["sigma"][j]), np.nan, np.nan))
    return rank(pd.DataFrame(rows, columns=list(COLUMNS)), "mu_star")


def rank(table: pd.DataFrame, primary: str) -> pd.DataFrame:
    """Parameters by their ``primary`` index, largest first; each parameter's rows together."""
    score = table[table["index"] == primary].set_index("parameter")["value"]
    order = {p: i for i, p in enumerate(score.sort_values(ascending=False, kind="stable").index)}
    indices = list(dict.fromkeys(table["index"]))
    key = table["parameter"].map(order) * len(indices) + table["index"].map(indices.index)
    return table.iloc[np.argsort(key.to_numpy(), kind="stable")].reset_index(drop=True)


def _checked(y: np.ndarray) -> np.ndarray:
    y = np.asarray(y, dtype=float)
    if not np.isfinite(y).all():
        raise AnalysisError(f"{int((~np.isfinite(y)).sum())} design points have no value")
    if np.ptp(y) == 0:
        raise AnalysisError("the outcome is the same at every design point, so nothing explains it")
    return y


@dataclass
class Indices:
    outcome: str
    table: pd.DataFrame
    runs_used: int
    points: int


def sensitivity(results: SweepResults, outcome: str) -> Indices:
    """The ranked index table of one outcome of a sobol or morris sweep."""
    method = results.method
    if method not in INDICES:
        raise AnalysisError(
            f"sensitivity indices need a sobol or morris design; this sweep is a {method} design "
            "(its per-point outcomes are in points.csv)"
        )
    column = outcome_column(outcome, results.outcome_columns)
    means, counts = point_means(results, column)
    empty = int((counts == 0).sum())
    if empty:
        raise AnalysisError(
            f"{empty} of {results.n_points} design points have no successful run, so {outcome} cannot be "
            "analysed; finish the sweep (simulate sweep ... --resume, with --retry-failed for failed runs)"
        )
    names = results.keys
    design = results.manifest["design"]
    if method == "sobol":
        table = sobol_table(names, means, bool(design.get("second_order")))
    else:
        table = morris_table(names, results.unit(), means, int(design.get("levels") or 4))
    return Indices(outcome, table, int(counts.sum()), results.n_points)


def write_table(table: pd.DataFrame, path: str | Path) -> Path:
    """The ranked table as CSV with exactly COLUMNS (an empty field for a missing interval)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table.loc[:, list(COLUMNS)].to_csv(path, index=False, lineterminator="\n", float_format="%.6g")
    return path


# --- grid and LHS designs ---------------------------------------------------------------------------


def point_table(results: SweepResults, outcomes: list[str]) -> pd.DataFrame:
    """Per design point: parameter values, successful runs, and each outcome's mean.

    A P(...) outcome (a share of runs) also gets its Wilson 95 % interval (``<name>_low``,
    ``<name>_high``).
    """
    frame = results.design[["point", *results.keys]].copy()
    counts = None
    for name in outcomes:
        column = outcome_column(name, results.outcome_columns)
        means, counts = point_means(results, column)
        label = f"p_{column}" if column.startswith(("hit_", "keeps_pace_")) else name
        frame[label] = means
        if label.startswith("p_"):
            low, high = wilson_interval(np.rint(means * counts), counts)
            frame[f"{label}_low"], frame[f"{label}_high"] = low, high
    if counts is None:
        counts = point_means(results, results.outcome_columns[0])[1] if results.outcome_columns else 0
    frame.insert(1 + len(results.keys), "runs", counts)
    return frame


def frontier(points: pd.DataFrame, keys: list[str], threshold: float) -> pd.DataFrame:
    """For each emerging cluster, the points reaching P(hit) >= threshold with the least support.

    A point is on the frontier when it reaches the threshold and no other point that reaches it
    uses no more of every varied lever (and less of one). One row per (cluster, point).
    """
    rows = []
    values = points[keys].to_numpy(dtype=float)
    for c in EMERGING:
        label = f"p_hit_{c}"
        if label not in points:
            continue
        ok = np.flatnonzero(points[label].to_numpy() >= threshold)
        for i in ok:
            dominated = any(
                np.all(values[j] <= values[i]) and np.any(values[j] < values[i]) for j in ok if j != i
            )
            if not dominated:
                row = {"cluster": c, **points.iloc[i][["point", *keys]].to_dict(), "p_hit": points.iloc[i][label]}
                row["p_hit_low"] = points.iloc[i].get(f"{label}_low", np.nan)
                row["p_hit_high"] = points.iloc[i].get(f"{label}_high", np.nan)
                rows.append(row)
        if not len(ok):
            rows.append({"cluster": c, "point": None, **dict.fromkeys(keys), "p_hit": np.nan,
                         "p_hit_low": np.nan, "p_hit_high": np.nan})  # fmt: skip
    return pd.DataFrame(rows, columns=["cluster", "point", *keys, "p_hit", "p_hit_low", "p_hit_high"])


def response_table(results: SweepResults) -> pd.DataFrame:
    """Lever-response curves of a grid: one row per (parameter, level, cluster or city).

    Each level's row pools every successful run at that level, *averaged over the other varied
    parameters* (all their levels, equally weighted by the grid): ``cagr_median``, ``cagr_p5`` and
    ``cagr_p95`` across those runs, and ``p_hit`` (emerging clusters) the share that hit the target.
    The columns are those :mod:`simulation.reporting.charts.response` reads.
    """
    runs = results.runs[results.runs["status"] == "ok"]
    cols = results.outcome_columns
    units = [(c, f"cagr_{c}", f"hit_{c}") for c in CLUSTERS] + [("city", "city_cagr", None)]
    rows = []
    for key in results.keys:
        for level, group in runs.groupby(key, sort=True):
            for unit, cagr, hit in units:
                if cagr not in cols:
                    continue
                x = group[cagr].astype(float).dropna()
                p5, median, p95 = (np.percentile(x, [5, 50, 95]) if len(x) else (np.nan,) * 3)
                row = {"parameter": key, "value": level, "cluster": unit, "cagr_median": median,
                       "cagr_p5": p5, "cagr_p95": p95, "runs": len(x)}  # fmt: skip
                row["p_hit"] = group[hit].astype(float).mean() if hit in cols else np.nan
                rows.append(row)
    return pd.DataFrame(rows, columns=["parameter", "value", "cluster", "cagr_median", "cagr_p5", "cagr_p95",
                                       "p_hit", "runs"])  # fmt: skip
