"""The Python API: load a scenario, run it, compare two, evaluate a policy in one call.

For notebooks, scripts and tools such as EMA Workbench, SALib or an optimiser::

    import simulation as sim

    baseline = sim.load_scenario("scenarios/baseline.toml", simulation={"replicates": 40})
    results = sim.run(baseline, seed=7)              # a bar in Jupyter, a terminal, or a log
    results.summary                                  # one row per cluster and the city (DataFrame)
    results.data                                     # every series, tidy long format (DataFrame)
    results.save("results/baseline-40")              # the folder `simulate run` would write

    more_land = sim.load_scenario("scenarios/baseline.toml", **{"levers.land.floor_multiplier": 3.0})
    sim.compare(more_land, baseline, replicates=40).table    # paired differences with 95 % CIs

    sim.evaluate({"land.floor_multiplier": 3.0}, {"demand.volatility": 2.0}, seed=1)
    # {'cagr_median_semi': 9.1, 'hit_p_semi': 0.0, ..., 'fiscal_cost': 431.0, ...}

Overrides are Python values with dotted keys or nested dicts (see
:mod:`simulation.scenario.overrides`); they are checked as ``--set`` would be, and a problem is a
:class:`~simulation.scenario.ScenarioError` naming the key and what is allowed. ``workers > 1``
runs replicates in worker processes; in a script that needs the usual
``if __name__ == "__main__":`` guard.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation.scenario.loader import Scenario
from simulation.scenario.overrides import default_scenario, load_with, with_overrides

__all__ = ["Results", "compare", "evaluate", "load_scenario", "run"]

ScenarioLike = Scenario | str | Path | None


def load_scenario(path: str | Path | None = None, *, calibrated: bool = True, **overrides: Any) -> Scenario:
    """Load a scenario file (default: the baseline) with overrides as Python values.

    ``load_scenario("scenarios/baseline.toml", levers={"talent": {"subsidy": 0.04}})`` and
    ``load_scenario("scenarios/baseline.toml", **{"levers.talent.subsidy": 0.04})`` are the same.
    ``calibrated=False`` leaves the calibration section out (the priors).
    """
    return load_with(default_scenario() if path is None else path, overrides, calibrated)


def _scenario(scenario: ScenarioLike, overrides: Mapping[str, Any]) -> Scenario:
    if isinstance(scenario, Scenario):
        return with_overrides(scenario, overrides)
    return load_scenario(scenario, **overrides)


def _replicate_overrides(replicates: int | None, seed: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if replicates is not None:
        out["simulation.replicates"] = replicates
    if seed is not None:
        out["simulation.seed"] = seed
    return out


@dataclass(eq=False)
class Results:
    """A scenario's replicates: tables as pandas DataFrames, and :meth:`save` to a results folder."""

    scenario: Scenario
    seeds: list[int]
    replicates: list[Any]  # ReplicateResult, one per seed
    wall_time: float
    workers: int
    started: datetime
    counterfactual: tuple[str, list[Any]] | None = None  # (name, its replicates): what the policy adds

    @property
    def summary(self) -> pd.DataFrame:
        """One row per cluster, then the city: medians, 90 % intervals, P(hit), P(keeps pace) with CIs."""
        return self.summary_object.table

    @cached_property
    def summary_object(self) -> Any:
        """The :class:`~simulation.experiments.summary.Summary` (``.table``, ``.data``, ``.outcomes``)."""
        from simulation.experiments.summary import summarise

        return summarise(self.replicates, self.scenario.spec, self.counterfactual)

    @cached_property
    def data(self) -> pd.DataFrame:
        """Every series of every replicate, one row per value (the columns of ``data.parquet``)."""
        from simulation.reporting.tables import tidy_frame

        return tidy_frame(self.replicates, self.scenario.spec)

    @cached_property
    def parameters(self) -> pd.DataFrame:
        """One row per replicate: its seed and every uncertain parameter it drew."""
        from simulation.reporting.tables import parameters_frame

        return parameters_frame(self.replicates)

    def save(self, folder: str | Path, overwrite: bool = False) -> Path:
        """Write the results folder ``simulate run`` writes (same files, same bytes but the manifest)."""
        from simulation.reporting.writer import write_results

        return write_results(folder, self.scenario, self.seeds, self.replicates, self.summary_object,
                             self.wall_time, overwrite, workers=self.workers, started=self.started)

    def __repr__(self) -> str:
        return f"<Results {self.scenario.name}: {len(self.replicates)} replicates, {self.wall_time:.1f} s>"


def run(scenario: ScenarioLike = None, replicates: int | None = None, seed: int | None = None,
        workers: int = 1, progress: bool | str = True, counterfactual: bool = True, **overrides: Any) -> Results:
    """Run a scenario's replicates (a path, a loaded scenario, or None for the baseline).

    ``replicates`` and ``seed`` default to the scenario's ``simulation.replicates`` and
    ``simulation.seed``; replicate i's seed depends only on the root seed and i, so two runs
    with the same seed share random numbers (and ``workers`` does not change the results).
    With ``counterfactual`` (as ``simulate run``) the scenario is also run with the levers of the
    counterfactual it names (the baseline's: business_as_usual.toml), and the summary says what
    the policy adds.
    """
    from simulation.experiments.counterfactual import counterfactual_spec
    from simulation.experiments.runner import ReplicatePool
    from simulation.experiments.seeds import replicate_seeds

    started = datetime.now().astimezone()
    clock = time.perf_counter()
    loaded = _scenario(scenario, {**overrides, **_replicate_overrides(replicates, seed)})
    sim = loaded.spec.simulation
    seeds = replicate_seeds(sim.seed, sim.replicates)
    workers = max(1, min(int(workers), len(seeds)))
    other = counterfactual_spec(loaded) if counterfactual else None
    counter = None
    with ReplicatePool(workers) as pool:  # one set of workers for the scenario and its counterfactual
        results = pool.run(loaded.spec, seeds, progress=progress, label=f"Run {loaded.name}")
        if other is not None:
            counter = (other[0], pool.run(other[1], seeds, progress=progress, label=f"Run {other[0]}"))
    out = Results(loaded, seeds, results, 0.0, workers, started, counter)
    out.summary_object  # noqa: B018 - part of the run's time, as in `simulate run`
    out.wall_time = time.perf_counter() - clock
    return out


def compare(a: ScenarioLike, b: ScenarioLike, replicates: int | None = None, seed: int | None = None,
            workers: int = 1, progress: bool | str = True) -> Any:
    """Paired comparison of A and B with A's replicate seeds (common random numbers).

    Returns a :class:`~simulation.experiments.compare.Comparison`: ``.table`` has, per cluster and
    measure, A, B, A - B and paired and unpaired 95 % intervals; ``.summary_a``/``.summary_b``.
    """
    from simulation.experiments.compare import run_comparison

    loaded_a = _scenario(a, _replicate_overrides(replicates, seed))
    loaded_b = _scenario(b, {})
    return run_comparison(loaded_a, loaded_b, workers=workers, progress=progress)


def evaluate(levers: Mapping[str, Any] | None = None, uncertainties: Mapping[str, Any] | None = None,
             seed: int = 0, *, replicates: int = 1, scenario: ScenarioLike = None,
             workers: int = 1) -> dict[str, float]:
    """Outcomes of one policy under given uncertainties: a flat dict, for EMA Workbench or SALib.

    ``levers`` and ``uncertainties`` map keys inside ``[levers]`` and ``[uncertainties]`` (such as
    ``"land.floor_multiplier"``, ``"demand.volatility"``; a leading ``levers.`` is allowed) to
    values; a number given for an uncertainty fixes it. Runs ``replicates`` replicates of the
    scenario (default: the baseline) from root ``seed``, as ``run(..., replicates, seed)`` would.

    The outcomes are every number of the run's summary (:func:`summary_outcomes`:
    ``cagr_median_semi``, ``hit_p_semi``, ``gap_median_electronics``, ``cagr_median_city``, ...)
    and every per-run outcome a sweep records, averaged over the replicates (``cagr_semi``,
    ``hit_semi``, ``city_cagr``, ``fiscal_cost``, ...; see
    :mod:`simulation.experiments.sweep_outcomes`). With one replicate a share is 0 or 1. An
    undefined number (no valid replicate) is NaN; the keys are the same for every call.
    """
    from simulation.experiments.sweep_outcomes import outcome_row

    overrides = {**_prefixed("levers", levers), **_prefixed("uncertainties", uncertainties)}
    result = run(scenario, replicates=replicates, seed=seed, workers=workers, progress=False, **overrides)
    outcomes = summary_outcomes(result.summary_object)
    rows = [outcome_row(r, result.scenario.spec) for r in result.replicates]
    for key in rows[0]:
        values = [np.nan if row[key] is None else float(row[key]) for row in rows]
        outcomes.setdefault(key, float(np.nanmean(values)) if not all(map(math.isnan, values)) else math.nan)
    return outcomes


def _prefixed(section: str, values: Mapping[str, Any] | None) -> dict[str, Any]:
    out = {}
    for key, value in (values or {}).items():
        key = str(key)
        out[key if key.split(".", 1)[0] == section else f"{section}.{key}"] = value
    return out


SUMMARY_SKIP = ("start_year", "end_year", "replicates", "targets", "definitions")
NAMES = ("cluster", "kind", "name_en", "name_zh")


def summary_outcomes(summary: Any) -> dict[str, float]:
    """Every number of a summary (its JSON data) as one flat dict, undefined ones as NaN.

    Per cluster and for the city, ``<path>_<cluster>``: ``cagr_median_semi``, ``hit_p_semi``,
    ``hit_ci_low_semi``, ``gap_median_electronics``, ``keeps_pace_p_food``, ``cagr_median_city``;
    any other number the summary holds as ``<key>_<subkey>``, so outcomes added to the summary
    appear here without changes. The keys depend only on the scenario's clusters, not on the run.
    """
    out: dict[str, float] = {}
    data = summary.data
    for row in [*data.get("clusters", []), data.get("city", {})]:
        fields = {k: v for k, v in row.items() if k not in NAMES}
        _numbers(fields, (), f"_{row.get('cluster')}", out)
    rest = {k: v for k, v in data.items() if k not in (*SUMMARY_SKIP, "clusters", "city")}
    _numbers(rest, (), "", out)
    return out


def _numbers(node: Any, keys: tuple[str, ...], suffix: str, out: dict[str, float]) -> None:
    if isinstance(node, Mapping):
        for k, v in node.items():
            _numbers(v, (*keys, str(k)), suffix, out)
    elif keys and (node is None or isinstance(node, bool | int | float | np.number)):
        out.setdefault("_".join(keys) + suffix, math.nan if node is None else float(node))
