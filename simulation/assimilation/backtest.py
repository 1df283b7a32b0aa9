"""Backtest: from a forecast origin, condition on the data up to it, forecast the years after, score.

For an origin year Y the model knows only what was observed up to Y: the scenario's uncertain
values are conditioned on the 2021..Y statistics (a posterior through Y; origin 2020 keeps the
priors), the model is run forward to the last observed year, and its forecast of every observed
figure after Y (one draw per replicate) is scored against the observation beside the simple
statistical benchmarks fitted on the same history (:mod:`simulation.forecasting.benchmarks`).
Exogenous inputs the model takes as given stay as the scenario has them: the national producer
price index is an input (as a forecaster with a PPI forecast would have it), and the scenario's
named events are those known when it was written.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from simulation.assimilation.observables import MEASURES, simulated
from simulation.forecasting.observations import observations


def observed_years_after(origin: int) -> dict[str, list[int]]:
    """Per series, the observed years after ``origin`` (point figures and bounds alike)."""
    table = observations()
    table = table[table["year"] > origin]
    return {s: sorted(g["year"].tolist()) for s, g in table.groupby("series") if s in MEASURES}


def model_draws(spec, origin: int, seeds: Sequence[int], workers: int,
                progress: bool = False) -> pd.DataFrame:
    """One row per replicate and observed figure after ``origin``: origin, series, year, source, value."""
    from simulation.experiments.runner import run_replicates

    years = observed_years_after(origin)
    last = max((y for ys in years.values() for y in ys), default=origin)
    sim = spec.simulation.model_copy(update={"end_year": last})
    results = run_replicates(spec.model_copy(update={"simulation": sim}), seeds, workers, progress=progress)
    wanted = [f"{s}:{y}" for s, ys in years.items() for y in ys]
    rows = []
    for result in results:
        values = simulated(result, wanted)
        for key, value in values.items():
            series, year = key.split(":")
            rows.append((origin, series, int(year), "model", value))
    draws = pd.DataFrame(rows, columns=["origin", "series", "year", "source", "value"])
    return draws[np.isfinite(draws["value"])]


def forecasts(spec_for_origin: Callable[[int], object], origins: Sequence[int], seeds: Sequence[int], workers: int,
              progress: bool = False) -> pd.DataFrame:
    """The forecasts table (model and benchmarks) of every origin."""
    from simulation.forecasting.benchmarks import benchmark_forecasts
    from simulation.forecasting.predictive import forecasts_from_draws

    parts = [forecasts_from_draws(model_draws(spec_for_origin(o), o, seeds, workers, progress)) for o in origins]
    parts.append(benchmark_forecasts(origins))
    return pd.concat(parts, ignore_index=True)


def posterior_matches(folder: Path, scenario_sha: str, settings: dict, through: int) -> bool:
    """Whether an existing posterior folder was made from this scenario with these settings."""
    try:
        data = json.loads((folder / "posterior.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (data.get("scenario_sha256") == scenario_sha and data.get("settings") == settings
            and data.get("through") == through)
