"""The observed series as the model measures them, from one replicate's recorded statistics.

The observations themselves, with their periods, grades and caveats, are the table of
:mod:`simulation.forecasting.observations`; this module says which recorded ``annual`` metric of
:mod:`simulation.model.results` measures each series on the statistics' basis (value-added growth
real and on the comparable-firm basis, firm counts of firms with at least 20 M CNY of revenue in
the year, software's revenue including its change of statistical scope).

Where the statistics cover part of a year (the 2022 industry groups: January-September;
software: January-November 2022 and January-September 2023), the model's calendar-year figure
stands in for it: a stated approximation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulation.datapack import CLUSTER_INDEX
from simulation.model.results import CITY_METRICS, CLUSTER_METRICS, ReplicateResult


@dataclass(frozen=True)
class Measure:
    """How the model measures one observed series (the ids of :mod:`simulation.forecasting.observations`)."""

    scope: str  # "city" or a cluster id
    metric: str  # the recorded annual metric
    growth: bool = False  # the observation is the metric's % change on the year before


MEASURES: dict[str, Measure] = {
    "city_va_growth": Measure("city", "industrial_va_growth_comparable"),
    "abovescale_firms": Measure("city", "abovescale_industrial_firms_stat"),
    "upgrades": Measure("city", "upgrades"),
    "city_va": Measure("city", "industrial_value_added_stat"),
    "va_growth_electronics": Measure("ngei", "va_growth_comparable"),
    "va_growth_electrical_machinery": Measure("hem", "va_growth_comparable"),
    "va_growth_textiles": Measure("tex", "va_growth_comparable"),
    "va_growth_food": Measure("food", "va_growth_comparable"),
    "va_growth_pharma": Measure("bio", "va_growth_comparable"),
    "software_revenue_growth": Measure("soft", "revenue_stat", growth=True),
    "semi_revenue": Measure("semi", "revenue_stat"),
}


def observed(through: int, since: int = 2021, exclude: tuple[str, ...] = ()) -> dict[str, float]:
    """Observed point figures from ``since`` to ``through`` as ``{"<series>:<year>": value}``.

    Lower bounds (a figure for one park only) are left out: they do not say where the value is.
    """
    from simulation.forecasting.observations import observations

    table = observations()
    table = table[(table["year"] >= since) & (table["year"] <= through) & (table["bound"] == "point")]
    table = table[~table["series"].isin(exclude)]
    return {f"{row.series}:{row.year}": float(row.value) for row in table.itertuples()}


def simulated(result: ReplicateResult, wanted: dict[str, float] | list[str]) -> dict[str, float]:
    """The run's value of each wanted ``"<series>:<year>"`` (NaN where it has none)."""
    out = {}
    for key in wanted:
        series_id, year = key.split(":")
        out[key] = value(result, MEASURES[series_id], int(year))
    return out


def value(result: ReplicateResult, series: Measure, year: int) -> float:
    """One series in one year of a run, on the statistics' basis."""
    y = year - result.start_year
    step = y * result.steps_per_year
    if not 0 < y or step >= result.cluster.shape[0]:
        return float("nan")
    if series.scope == "city":
        j = list(CITY_METRICS).index(series.metric)
        now = result.city[step, j]
        if series.metric == "abovescale_industrial_firms_stat" and y == 0:
            now = result.city[0, list(CITY_METRICS).index("abovescale_industrial_firms")]
        return float(now)
    c, j = CLUSTER_INDEX[series.scope], list(CLUSTER_METRICS).index(series.metric)
    now = result.cluster[step, c, j]
    if not series.growth:
        return float(now)
    if y == 1:  # the start state holds the start year's figures (revenue of above-scale firms)
        before = result.cluster[0, c, list(CLUSTER_METRICS).index("revenue")]
    else:
        before = result.cluster[step - result.steps_per_year, c, j]
    return float((now / before - 1.0) * 100.0) if before > 0 else float("nan")


def as_array(values: dict[str, float], keys: list[str]) -> np.ndarray:
    return np.array([values[k] for k in keys], dtype=float)
