"""Read a results folder (see :mod:`simulation.reporting.writer`) for charts and reports.

Charts, reports and comparisons read what a run wrote, never the model: a results folder
written months ago, on another machine, charts the same way. Everything is loaded lazily and
cached, so a chart that needs only ``summary.csv`` never reads the data file.

Besides a run's own files, a folder may hold tables that other commands write for the charts:

``sensitivity.csv``
    a ranked table of sensitivity indices (``simulate analyze``), columns ``parameter, index,
    value, ci_low, ci_high`` with ``index`` in ``S1, ST, mu_star, sigma``; an optional
    ``outcome`` column names the outcome the indices are about (one chart per outcome).
``response.csv``
    lever-response curves from a grid sweep, one row per (parameter, value, cluster): columns
    ``parameter, value, cluster, cagr_median``, optionally ``cagr_p5, cagr_p95`` (a 90 % band)
    and ``p_hit`` (see :mod:`simulation.reporting.charts.response`).
``comparison.json``
    a paired comparison (``simulate compare``; see :mod:`simulation.experiments.compare`).
"""

from __future__ import annotations

import json
import tomllib
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

SENSITIVITY = "sensitivity.csv"
RESPONSE = "response.csv"
COMPARISON = "comparison.json"
RUN_FILES = ("summary.csv", "summary.json", "manifest.json", "data.parquet", "data.csv")


class ResultsError(Exception):
    """A folder is not a readable results folder; one line for the user."""


class ResultsFolder:
    """A results folder on disk, read lazily."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise ResultsError(f"{self.path} does not exist")
        if not self.path.is_dir():
            raise ResultsError(f"{self.path} is not a folder (give the results folder a run wrote)")

    def __repr__(self) -> str:
        return f"ResultsFolder({str(self.path)!r})"

    # --- what is there ----------------------------------------------------------------------

    def has(self, name: str) -> bool:
        return (self.path / name).is_file()

    @property
    def is_run(self) -> bool:
        """A run's results folder (with a summary or data), as opposed to a sweep's or a comparison's."""
        return self.has("manifest.json") and (self.has("summary.csv") or self.has_data)

    @property
    def has_data(self) -> bool:
        return self.has("data.parquet") or self.has("data.csv")

    @property
    def has_summary(self) -> bool:
        return self.has("summary.csv") and self.has("summary.json")

    @property
    def is_comparison(self) -> bool:
        return self.has(COMPARISON)

    # --- files ------------------------------------------------------------------------------

    def _json(self, name: str) -> dict[str, Any]:
        try:
            return json.loads((self.path / name).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ResultsError(f"{self.path} has no {name}: is it a results folder written by `simulate run`?") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ResultsError(f"{self.path / name} is not valid JSON ({exc})") from None

    @cached_property
    def manifest(self) -> dict[str, Any]:
        return self._json("manifest.json")

    @cached_property
    def summary_data(self) -> dict[str, Any]:
        return self._json("summary.json")

    @cached_property
    def summary(self) -> pd.DataFrame:
        """summary.csv indexed by cluster id (the city's row is ``city``)."""
        try:
            return pd.read_csv(self.path / "summary.csv", keep_default_na=False, na_values=[""]).set_index("cluster")
        except FileNotFoundError:
            raise ResultsError(f"{self.path} has no summary.csv (the run could not summarise its results)") from None

    @cached_property
    def comparison(self) -> dict[str, Any]:
        return self._json(COMPARISON)

    @cached_property
    def scenario_text(self) -> str:
        try:
            return (self.path / "scenario.toml").read_text(encoding="utf-8")
        except FileNotFoundError:
            return ""

    @cached_property
    def scenario(self) -> dict[str, Any]:
        try:
            return tomllib.loads(self.scenario_text)
        except tomllib.TOMLDecodeError:
            return {}

    def table(self, name: str) -> pd.DataFrame | None:
        """A CSV table of the folder (``sensitivity.csv``, ``response.csv``), or None if absent."""
        if not self.has(name):
            return None
        try:
            return pd.read_csv(self.path / name)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise ResultsError(f"{self.path / name} is not a readable CSV table ({exc})") from None

    # --- provenance -------------------------------------------------------------------------

    @property
    def scenario_name(self) -> str:
        return str(self.manifest.get("scenario", {}).get("name") or self.path.name)

    @property
    def root_seed(self) -> int | None:
        return self.manifest.get("root_seed")

    @property
    def replicates(self) -> int | None:
        return self.manifest.get("replicates")

    @property
    def date(self) -> str:
        """The day the run ended, YYYY-MM-DD ('' if unknown)."""
        stamp = self.manifest.get("ended") or self.manifest.get("started")
        try:
            return datetime.fromisoformat(stamp).date().isoformat() if stamp else ""
        except ValueError:
            return str(stamp)[:10]

    # --- the tidy data ----------------------------------------------------------------------

    #: The annual series the charts and reports read, loaded together in one pass over the data file.
    CHART_SERIES = (("cluster", "revenue"), ("town", "revenue_all"), ("town", "floor_delivered"),
                    ("city", "industrial_revenue"))

    def _read(self, filters: list, columns: list[str], as_str: bool = True) -> pd.DataFrame:
        if self.has("data.parquet"):
            import pyarrow.parquet as pq

            # single-threaded: charts may fork worker processes afterwards
            frame = pq.read_table(self.path / "data.parquet", columns=columns, filters=filters,
                                  use_threads=False).to_pandas()
        elif self.has("data.csv"):
            frame = pd.read_csv(self.path / "data.csv", usecols=columns)
            keep = np.zeros(len(frame), bool)
            for clause in filters if isinstance(filters[0], list) else [filters]:
                part = np.ones(len(frame), bool)
                for col, op, value in clause:
                    part &= frame[col].isin(value).to_numpy() if op == "in" else (frame[col] == value).to_numpy()
                keep |= part
            frame = frame[keep]
        else:
            raise ResultsError(f"{self.path} has no data.parquet nor data.csv")
        if as_str:
            for col in ("scope", "unit", "metric", "frequency"):
                frame[col] = frame[col].astype(str)
        return frame.reset_index(drop=True)

    @cached_property
    def _chart_frame(self) -> pd.DataFrame:
        columns = ["replicate", "scope", "unit", "metric", "frequency", "year", "value"]
        metrics = sorted({metric for _, metric in self.CHART_SERIES})
        frame = self._read([("frequency", "=", "year"), ("metric", "in", metrics)], columns, as_str=False)
        keep = np.zeros(len(frame), bool)
        for scope, metric in self.CHART_SERIES:
            keep |= ((frame.scope == scope) & (frame.metric == metric)).to_numpy()
        return frame[keep].reset_index(drop=True)

    def data(self, scope: str, metrics: list[str] | tuple[str, ...], frequency: str = "year") -> pd.DataFrame:
        """Rows of the tidy data for one scope, some metrics and one frequency (plain columns)."""
        if frequency == "year" and all((scope, m) in self.CHART_SERIES for m in metrics):
            frame = self._chart_frame
            return frame[(frame.scope == scope) & frame.metric.isin(list(metrics))].reset_index(drop=True)
        columns = ["replicate", "scope", "unit", "metric", "frequency", "year", "value"]
        filters = [("scope", "=", scope), ("frequency", "=", frequency), ("metric", "in", list(metrics))]
        return self._read(filters, columns)

    def series(self, scope: str, metric: str, frequency: str = "year") -> tuple[np.ndarray, list[str], np.ndarray]:
        """One metric as an array (replicate, unit, year), with the unit ids and the years (cached)."""
        key = (scope, metric, frequency)
        if key not in self._series:
            self._series[key] = self._cube(scope, metric, frequency)
        return self._series[key]

    @cached_property
    def _series(self) -> dict:
        return {}

    def _cube(self, scope: str, metric: str, frequency: str) -> tuple[np.ndarray, list[str], np.ndarray]:
        frame = self.data(scope, [metric], frequency)
        frame = frame[(frame.metric == metric).to_numpy()]
        if frame.empty:
            raise ResultsError(f"{self.path} has no {frequency}ly {scope} series of {metric}")
        replicates = np.sort(frame.replicate.unique())
        units = [str(u) for u in dict.fromkeys(frame.unit)]
        years = np.array(sorted(frame.year.unique()))
        cube = np.full((len(replicates), len(units), len(years)), np.nan)
        r = np.searchsorted(replicates, frame.replicate.to_numpy())
        u = pd.Index(units).get_indexer(frame.unit)
        y = np.searchsorted(years, frame.year.to_numpy())
        cube[r, u, y] = frame.value.to_numpy(float)
        return cube, units, years

    # --- per-replicate outcomes ---------------------------------------------------------------

    @cached_property
    def outcomes(self):
        """Each replicate's outcomes (:class:`simulation.experiments.summary.Outcomes`), from the data.

        The summary's own definitions applied to the annual revenue the run wrote, so a chart or a
        finding can judge a claim within each replicate (a pillar keeping pace, a town ranking
        first), as the summary does. Clusters in ``datapack.CLUSTERS`` order.
        """
        from simulation.datapack import CLUSTERS
        from simulation.experiments.summary import outcomes

        revenue, units, years = self.series("cluster", "revenue")
        city, _, city_years = self.series("city", "industrial_revenue")
        data = self.summary_data if self.has_summary else {}
        end_year = int(data.get("end_year", years[-1]))
        end = int(np.flatnonzero(years == end_year)[0])
        index = [units.index(c) for c in CLUSTERS]
        cluster_rev = revenue[:, index][:, :, [0, end]].transpose(0, 2, 1)  # (R, 2, C)
        city_rev = city[:, 0, [0, int(np.flatnonzero(city_years == end_year)[0])]]
        targets = data.get("targets", {"emerging_cagr": 10.0, "pillar_tolerance": 1.0})
        return outcomes(cluster_rev, city_rev, float(years[end] - years[0]), float(targets["emerging_cagr"]),
                        float(targets["pillar_tolerance"]))
