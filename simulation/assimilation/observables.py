"""What the statistics observed after 2020, and the same quantities from a model run.

Each observed figure is a (series, year) pair on the statistics' own basis (see
``simulation/data/SOURCES.md``): value-added growth is real and on the comparable-firm basis,
firm counts are firms with at least 20 M CNY of revenue in the year, and software's revenue
includes its change of statistical scope. :func:`simulated` computes every series from one
replicate's recorded statistics (the ``annual`` metrics of :mod:`simulation.model.results`).

Where the statistics cover part of a year (the 2022 industry groups: January-September;
software: January-November 2022 and January-September 2023), the model's calendar-year figure
stands in for it: a stated approximation.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

from simulation.datapack import CLUSTER_INDEX
from simulation.model.results import CITY_METRICS, CLUSTER_METRICS, ReplicateResult


@dataclass(frozen=True)
class Series:
    """How one observed series is read from the data files and computed from a run."""

    id: str
    label: str
    unit: str
    scope: str  # "city" or a cluster id
    metric: str  # the recorded annual metric
    growth: bool = False  # the observation is the metric's % change on the year before
    files: tuple[tuple[str, str], ...] = ()  # (data file, metric) rows that feed it


SERIES: tuple[Series, ...] = (
    Series("city_va_growth", "Above-scale industrial value added, real growth (comparable firms)", "%", "city",
           "industrial_va_growth_comparable",
           files=(("city.csv", "abovescale_industrial_va_growth"), ("observed.csv", "abovescale_industrial_va_growth"))),
    Series("abovescale_firms", "Above-scale industrial firms", "firms", "city", "abovescale_industrial_firms_stat",
           files=(("city.csv", "abovescale_industrial_firms"), ("observed.csv", "abovescale_industrial_firms"))),
    Series("upgrades", "Small firms upgraded to above scale in the year", "firms", "city", "upgrades",
           files=(("observed.csv", "small_to_abovescale_upgrades"),)),
    Series("city_va", "Above-scale industrial value added", "亿元", "city", "industrial_value_added_stat",
           files=(("city.csv", "abovescale_industrial_va"), ("observed.csv", "abovescale_industrial_va"))),
    Series("va_growth_electronics", "Electronics group, value-added growth (real)", "%", "ngei", "va_growth_comparable",
           files=(("city.csv", "va_growth_electronics_group"), ("observed.csv", "va_growth_electronics_group"))),
    Series("va_growth_electrical_machinery", "Electrical machinery group, value-added growth (real)", "%", "hem",
           "va_growth_comparable",
           files=(("city.csv", "va_growth_electrical_machinery_group"),
                  ("observed.csv", "va_growth_electrical_machinery_group"))),
    Series("va_growth_textiles", "Textiles group, value-added growth (real)", "%", "tex", "va_growth_comparable",
           files=(("city.csv", "va_growth_textiles_group"), ("observed.csv", "va_growth_textiles_group"))),
    Series("va_growth_food", "Food group, value-added growth (real)", "%", "food", "va_growth_comparable",
           files=(("city.csv", "va_growth_food_group"), ("observed.csv", "va_growth_food_group"))),
    Series("va_growth_pharma", "Pharmaceuticals, value-added growth (real)", "%", "bio", "va_growth_comparable",
           files=(("observed.csv", "va_growth_pharma"),)),
    Series("software_revenue_growth", "Software and IT services revenue growth (nominal, incl. scope change)", "%",
           "soft", "revenue_stat", growth=True,
           files=(("observed.csv", "revenue_growth_software_and_it_services"),)),
    Series("semiconductor_revenue", "Semiconductor and IC revenue", "亿元", "semi", "revenue_stat",
           files=(("city.csv", "semiconductor_revenue"),)),
)
SERIES_BY_ID = {s.id: s for s in SERIES}


@dataclass(frozen=True)
class Observation:
    series: str
    year: int
    value: float
    period: str  # as the source gives it: "2022", "2022Q1-Q3", "2022Jan-Nov"
    grade: str
    source: str


def _rows(name: str) -> list[dict[str, str]]:
    with resources.files("simulation.data").joinpath(name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@cache
def observations() -> tuple[Observation, ...]:
    """Every observed figure of the series above, from 2019 on, in series and year order."""
    out = []
    for series in SERIES:
        for file, metric in series.files:
            for row in _rows(file):
                if row["metric"] != metric:
                    continue
                period = row.get("period") or row.get("year")
                year = int(period[:4])
                out.append(Observation(series.id, year, float(row["value"]), period, row["grade"], row["source"]))
    return tuple(sorted(out, key=lambda o: ([s.id for s in SERIES].index(o.series), o.year)))


def observed(through: int, since: int = 2021, exclude: tuple[str, ...] = ()) -> dict[str, float]:
    """Observed figures from ``since`` to ``through`` as ``{"<series>:<year>": value}``."""
    return {f"{o.series}:{o.year}": o.value for o in observations()
            if since <= o.year <= through and o.series not in exclude}


def simulated(result: ReplicateResult, wanted: dict[str, float] | list[str]) -> dict[str, float]:
    """The run's value of each wanted ``"<series>:<year>"`` (NaN where it has none)."""
    out = {}
    for key in wanted:
        series_id, year = key.split(":")
        out[key] = value(result, SERIES_BY_ID[series_id], int(year))
    return out


def value(result: ReplicateResult, series: Series, year: int) -> float:
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
