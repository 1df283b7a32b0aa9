"""Replicate results as tidy (long-format) tables: one row per value.

``tidy_frame`` has the columns

=========== ============ ==============================================================
replicate   int32        replicate number, 0-based
seed        int64        the replicate's seed (``ClusterModel(spec, rng=seed)``)
scope       category     "cluster", "town" or "city"
unit        category     cluster id (``datapack.CLUSTERS``), town id (``town_ids()``) or "city"
metric      category     a name from CLUSTER_METRICS / TOWN_METRICS / CITY_METRICS
frequency   category     "year", or "quarter" for quarterly steps (see below)
period      category     "2021" for a year, "2021Q3" for a quarter
year        int16        calendar year
quarter     int8         1-4 for quarterly rows, 0 for annual rows
value       float64      the value, in the metric's unit
=========== ============ ==============================================================

Annual rows come from :func:`simulation.model.results.annualise` (rates: mean of the year's
steps; stocks: end of year; flows: sum). The start state is period ``"2020"`` for annual rows
and ``"2020Q4"`` for quarterly rows (with the scenario's start year); annual flows of the start
year are NaN (the model has no flows within it), kept so every series has the same periods.

Flows at the start state are NaN in quarterly rows too (the recorder stores zeros there,
but nothing is modelled before the first step), so both frequencies agree on what is missing.
NaN is written as an empty field in CSV and as null in Parquet.

What is written follows the scenario's ``[outputs]``: quarterly rows only if ``quarterly``;
town rows only if ``towns``, and then annual only. Quarterly town rows (34 towns x 7 metrics)
would be half of all rows, doubling the files (for 400 replicates 4.1 M rows and a 330 MB CSV
instead of 2.1 M rows and 165 MB) for series nobody reads quarterly; the quarterly cluster and
city series are kept. ``TOWN_QUARTERLY`` switches them on.

Rows are ordered replicate, scope, frequency, unit, metric, period, so each series is a
contiguous run of rows in time order. With ``steps_per_year`` other than 4 the sub-annual
frequency is ``"month"`` (12, periods ``"2021M07"``) or ``"step"`` (periods ``"2021S3"``) and
the ``quarter`` column holds the step within the year; with 1 step a year there are no
sub-annual rows (they would repeat the annual ones).

Everything is built with numpy reshapes, not loops over rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulation.datapack import CLUSTERS, town_ids
from simulation.model.results import CITY_METRICS, CLUSTER_METRICS, TOWN_METRICS, ReplicateResult, annualise

TOWN_QUARTERLY = False  # write quarterly town rows too (see the module docstring)
COLUMNS = ("replicate", "seed", "scope", "unit", "metric", "frequency", "period", "year", "quarter", "value")
SCOPES = ("cluster", "town", "city")


def _registries() -> dict[str, dict[str, tuple[str, str, str]]]:
    return {"cluster": CLUSTER_METRICS, "town": TOWN_METRICS, "city": CITY_METRICS}


def _units() -> dict[str, tuple[str, ...]]:
    return {"cluster": CLUSTERS, "town": town_ids(), "city": ("city",)}


def subannual_frequency(steps_per_year: int) -> str | None:
    """Name of the sub-annual frequency for this many steps a year (None for 1)."""
    return {1: None, 4: "quarter", 12: "month"}.get(steps_per_year, "step")


def step_periods(start_year: int, steps_per_year: int, n_steps: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Labels, years and within-year numbers of steps 0..n_steps (step 0 = end of the start year)."""
    k = np.arange(n_steps + 1)
    years = np.where(k == 0, start_year, start_year + (k - 1) // steps_per_year + 1)
    subs = np.where(k == 0, steps_per_year, (k - 1) % steps_per_year + 1)
    freq = subannual_frequency(steps_per_year)
    fmt = {"quarter": "{}Q{}", "month": "{}M{:02d}"}.get(freq, "{}S{}")
    return [fmt.format(y, s) for y, s in zip(years.tolist(), subs.tolist())], years, subs


@dataclass
class _Block:
    """One (scope, frequency) block: values (replicate, unit, metric, period) and its labels."""

    scope: str
    frequency: str
    units: tuple[str, ...]
    metrics: tuple[str, ...]
    periods: list[str]
    years: np.ndarray
    quarters: np.ndarray
    values: np.ndarray  # (replicate, unit, metric, period)


def _check(results: Sequence[ReplicateResult]) -> tuple[int, int]:
    if not results:
        raise ValueError("no replicate results")
    first = results[0]
    for r in results:
        if (r.start_year, r.steps_per_year) != (first.start_year, first.steps_per_year) or any(
            getattr(r, s).shape != getattr(first, s).shape for s in SCOPES
        ):
            raise ValueError("replicate results differ in shape or calendar; they must come from one scenario")
    return first.start_year, first.steps_per_year


def stacked(results: Sequence[ReplicateResult], scope: str) -> np.ndarray:
    """(step, replicate, unit, metric) array of one scope; the city gets a unit axis of 1."""
    arr = np.stack([getattr(r, scope) for r in results], axis=1)
    return arr[:, :, None, :] if scope == "city" else arr


def _blocks(results: Sequence[ReplicateResult], quarterly: bool, towns: bool) -> list[_Block]:
    start_year, spy = _check(results)
    n_steps = results[0].n_steps
    n_years = n_steps // spy
    years = start_year + np.arange(n_years + 1)
    freq = subannual_frequency(spy)
    labels, step_years, step_subs = step_periods(start_year, spy, n_steps)
    blocks = []
    for scope in SCOPES:
        if scope == "town" and not towns:
            continue
        registry = _registries()[scope]
        kinds = [kind for kind, _, _ in registry.values()]
        series = stacked(results, scope)  # (step, R, U, M)
        annual = annualise(series, kinds, spy)  # (year, R, U, M)
        common = dict(scope=scope, units=_units()[scope], metrics=tuple(registry))
        blocks.append(
            _Block(
                frequency="year",
                periods=[str(y) for y in years.tolist()],
                years=years,
                quarters=np.zeros(len(years), dtype=np.int8),
                values=annual.transpose(1, 2, 3, 0),
                **common,
            )
        )
        if quarterly and freq is not None and (scope != "town" or TOWN_QUARTERLY):
            flows = [j for j, kind in enumerate(kinds) if kind in ("flow", "annual")]
            if flows:
                series = series.copy()
                series[0, ..., flows] = np.nan  # nothing flows before the first step
            blocks.append(
                _Block(
                    frequency=freq,
                    periods=labels,
                    years=step_years,
                    quarters=step_subs,
                    values=series.transpose(1, 2, 3, 0),
                    **common,
                )
            )
    return blocks


def _categories(names: list[str]) -> list[str]:
    return list(dict.fromkeys(names))


def _codes(labels: Sequence[str], categories: list[str]) -> np.ndarray:
    index = {c: i for i, c in enumerate(categories)}
    return np.array([index[x] for x in labels], dtype=np.int32)


def tidy_frame(results: Sequence[ReplicateResult], scenario: object) -> pd.DataFrame:
    """All replicates' series in long format (see the module docstring for the columns).

    ``scenario`` is a loaded Scenario or its ScenarioSpec; its ``[outputs]`` decide whether
    quarterly and town rows are included.
    """
    spec = getattr(scenario, "spec", scenario)
    blocks = _blocks(results, spec.outputs.quarterly, spec.outputs.towns)
    n_rep = len(results)

    cats = {
        "scope": _categories([b.scope for b in blocks]),
        "unit": _categories([u for b in blocks for u in b.units]),
        "metric": _categories([m for b in blocks for m in b.metrics]),
        "frequency": _categories([b.frequency for b in blocks]),
        "period": _categories([p for b in blocks for p in b.periods]),
    }

    # one replicate's row template: the label columns of every block, flattened (unit, metric, period)
    template: dict[str, list[np.ndarray]] = {k: [] for k in (*cats, "year", "quarter")}
    for b in blocks:
        shape = (len(b.units), len(b.metrics), len(b.periods))
        size = int(np.prod(shape))
        template["scope"].append(np.full(size, cats["scope"].index(b.scope), dtype=np.int32))
        template["frequency"].append(np.full(size, cats["frequency"].index(b.frequency), dtype=np.int32))
        template["unit"].append(np.broadcast_to(_codes(b.units, cats["unit"])[:, None, None], shape).ravel())
        template["metric"].append(np.broadcast_to(_codes(b.metrics, cats["metric"])[None, :, None], shape).ravel())
        template["period"].append(np.broadcast_to(_codes(b.periods, cats["period"])[None, None, :], shape).ravel())
        template["year"].append(np.broadcast_to(np.asarray(b.years)[None, None, :], shape).ravel())
        template["quarter"].append(np.broadcast_to(np.asarray(b.quarters)[None, None, :], shape).ravel())
    row = {k: np.concatenate(v) for k, v in template.items()}
    per_rep = len(row["scope"])

    values = np.concatenate([b.values.reshape(n_rep, -1) for b in blocks], axis=1).ravel()
    seeds = np.array([r.seed for r in results], dtype=np.int64)
    data = {
        "replicate": np.repeat(np.arange(n_rep, dtype=np.int32), per_rep),
        "seed": np.repeat(seeds, per_rep),
    }
    for name in ("scope", "unit", "metric", "frequency", "period"):
        codes = np.tile(row[name].astype(_code_dtype(len(cats[name]))), n_rep)
        data[name] = pd.Categorical.from_codes(codes, categories=cats[name])
    data["year"] = np.tile(row["year"].astype(np.int16), n_rep)
    data["quarter"] = np.tile(row["quarter"].astype(np.int8), n_rep)
    data["value"] = values.astype(np.float64, copy=False)
    return pd.DataFrame(data, columns=list(COLUMNS), copy=False)


def _code_dtype(n: int) -> type:
    return np.int8 if n < 127 else np.int16 if n < 32767 else np.int32


def parameters_frame(results: Sequence[ReplicateResult]) -> pd.DataFrame:
    """One row per replicate: replicate, seed and every drawn parameter (dotted names)."""
    names = _categories([k for r in results for k in r.parameters])
    table = np.full((len(results), len(names)), np.nan)
    column = {k: j for j, k in enumerate(names)}
    for i, r in enumerate(results):
        for k, v in r.parameters.items():
            table[i, column[k]] = v
    frame = pd.DataFrame(table, columns=names)
    frame.insert(0, "seed", np.array([r.seed for r in results], dtype=np.int64))
    frame.insert(0, "replicate", np.arange(len(results), dtype=np.int32))
    return frame


def metric_units() -> pd.DataFrame:
    """scope, metric, kind, unit, description of every metric: a key to the tidy data."""
    rows = [
        (scope, name, kind, unit, description)
        for scope, registry in _registries().items()
        for name, (kind, unit, description) in registry.items()
    ]
    return pd.DataFrame(rows, columns=["scope", "metric", "kind", "unit", "description"])
