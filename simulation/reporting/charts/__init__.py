"""Briefing-paper charts made from results folders (never from the model).

One module per chart; :mod:`.style` holds the house style, :mod:`.layout` the frame every chart
shares, :mod:`.scales` the fixed axes, :mod:`.render` the writing of files, :mod:`.proof` the
print checks (text size, collisions, raw identifiers) and :mod:`.fonts` the CJK font. Words
come from :mod:`simulation.reporting.wording`, names from :mod:`simulation.reporting.labels`.

=================== =============================================== ===============================
chart (file stem)    what it shows                                    needs
=================== =============================================== ===============================
fan_<cluster>,       revenue 2020-2025 of each emerging cluster:      data.parquet / data.csv
fan_emerging         median, 50 % and 90 % bands, 10 %-a-year path
target_probability   P(CAGR >= 10 %) of the emerging clusters,        summary.csv
                     Monte-Carlo 95 % CIs, the 0.5 line
pillars_vs_city      each pillar's growth gap to city industry        summary.csv
                     within the same replicate, and P(keeps pace)
scenario_comparison  P(target) per cluster across scenarios          2+ results folders, or a
                     (dot plot)                                       `simulate compare` folder
paired_differences   paired effects between two scenarios: the        a `simulate compare` folder
                     spread across replicates beside the mean's CI
tornado[_<outcome>]  sensitivity indices, ranked                      sensitivity.csv
towns_growth,        tile map of the 34 towns: revenue growth,       town rows in the data
towns_floor          new floor space delivered
lever_response       outcome against lever level, 10 % line          response.csv
=================== =============================================== ===============================

Charts of one run are made for :attr:`Inputs.focus`: the one run given, or scenario A of a
comparison when the report asks for it. :func:`make_charts` makes the figures that apply (and
says why the others do not); :func:`simulation.reporting.charts.render.write_charts` saves them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from simulation.reporting.charts.scales import Scales
from simulation.reporting.results_folder import RESPONSE, SENSITIVITY, ResultsError, ResultsFolder

if TYPE_CHECKING:
    from matplotlib.figure import Figure


class NotApplicable(Exception):
    """A chart does not apply to these inputs; the message says why."""


@dataclass
class Chart:
    """One made figure: its file stem, the figure, and the title it states."""

    name: str
    figure: Figure
    title: str = ""
    caption: str = ""  # a sentence for reports: what the chart shows


@dataclass
class Inputs:
    """What the charts are made from."""

    runs: list[ResultsFolder] = field(default_factory=list)  # run results folders
    comparison: ResultsFolder | None = None  # a `simulate compare` folder
    sensitivity: pd.DataFrame | None = None
    response: pd.DataFrame | None = None
    tables_from: ResultsFolder | None = None  # where the sensitivity/response tables came from
    focus_run: ResultsFolder | None = None  # the run whose own charts are made (default: the only run)
    fan_singles: bool = True  # a fan chart per emerging cluster besides the panel of all five
    _scales: Scales | None = None

    @classmethod
    def from_folders(
        cls, folders: Sequence[str | Path], sensitivity: str | Path | None = None, response: str | Path | None = None
    ) -> Inputs:
        """Inputs from results folders given on the command line (and optional table files)."""
        inputs = cls()
        for folder in folders:
            r = ResultsFolder(folder)
            if r.is_comparison:
                if len(folders) > 1:
                    raise ResultsError(f"{r.path} is a comparison folder; chart it on its own")
                inputs.comparison = r
                inputs.runs = [ResultsFolder(r.path / sub) for sub in r.comparison["folders"].values()]
            elif r.is_run or r.has(SENSITIVITY) or r.has(RESPONSE):
                if r.is_run:
                    inputs.runs.append(r)
                if r.has(SENSITIVITY) and inputs.sensitivity is None:
                    inputs.sensitivity, inputs.tables_from = r.table(SENSITIVITY), r
                if r.has(RESPONSE) and inputs.response is None:
                    inputs.response, inputs.tables_from = r.table(RESPONSE), r
            else:
                raise ResultsError(
                    f"{r.path} is not a results folder: it has no manifest.json with summary.csv or data "
                    f"(nor {SENSITIVITY} or {RESPONSE})"
                )
        for name, path in ((SENSITIVITY, sensitivity), (RESPONSE, response)):
            if path is None:
                continue
            path = Path(path)
            if not path.is_file():
                raise ResultsError(f"{path}: no such file")
            try:
                table = pd.read_csv(path)
            except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
                raise ResultsError(f"{path} is not a readable CSV table ({exc})") from None
            if name == SENSITIVITY:
                inputs.sensitivity = table
            else:
                inputs.response = table
        from simulation.reporting.charts import response as response_chart
        from simulation.reporting.charts import tornado

        if inputs.sensitivity is not None:  # fail early, before any chart is drawn
            inputs.sensitivity = tornado.check_table(inputs.sensitivity)
        if inputs.response is not None:
            inputs.response = response_chart.check_table(inputs.response)
        return inputs

    @property
    def focus(self) -> ResultsFolder | None:
        """The run whose own charts (fans, targets, pillars, towns) are made."""
        if self.focus_run is not None:
            return self.focus_run
        return self.runs[0] if len(self.runs) == 1 and self.comparison is None else None

    @property
    def scales(self) -> Scales:
        """Axis limits shared by every chart of these inputs (over every run in them)."""
        if self._scales is None:
            self._scales = Scales(self.runs)
        return self._scales

    @property
    def provenance(self) -> ResultsFolder | list[ResultsFolder] | None:
        """The folder(s) whose manifest goes into source lines."""
        if self.runs:
            return self.runs if len(self.runs) > 1 else self.runs[0]
        return self.tables_from

    def prefetch(self) -> None:
        """Read every file the charts need now (before worker processes are forked)."""
        for r in self.runs:
            if r.has_summary:
                _ = r.summary, r.summary_data, r.manifest
            if r.has_data:
                for scope, metric in r.CHART_SERIES:
                    try:
                        r.series(scope, metric)
                    except ResultsError:  # e.g. no town series: the chart that needs it says so
                        pass
        if self.comparison is not None:
            _ = self.comparison.comparison


Maker = Callable[[Inputs, str], list[Chart]]

CHART_KINDS = (
    "fan", "target_probability", "pillars_vs_city", "towns", "scenario_comparison", "paired_differences",
    "tornado", "lever_response",
)  # fmt: skip


def maker(kind: str) -> Maker:
    from importlib import import_module

    module = {"fan": "fan", "target_probability": "target", "pillars_vs_city": "pillars", "towns": "towns",
              "scenario_comparison": "scenarios", "paired_differences": "paired", "tornado": "tornado",
              "lever_response": "response"}[kind]  # fmt: skip
    return import_module(f"simulation.reporting.charts.{module}").make


def make_charts(inputs: Inputs, lang: str, only: Iterable[str] | None = None) -> tuple[list[Chart], dict[str, str]]:
    """The charts that apply to ``inputs`` in ``lang``, and {chart kind: why not} for the rest.

    Call inside :func:`simulation.reporting.charts.style.house_style` (the figures are not
    registered with pyplot: nothing to close).
    """
    wanted = set(only) if only else None
    made: list[Chart] = []
    skipped: dict[str, str] = {}
    for kind in CHART_KINDS:
        if wanted is not None and kind not in wanted:
            continue
        try:
            made.extend(maker(kind)(inputs, lang))
        except NotApplicable as exc:
            skipped[kind] = str(exc)
    return made, skipped


def write_charts(*args, **kwargs):
    """See :func:`simulation.reporting.charts.render.write_charts`."""
    from simulation.reporting.charts.render import write_charts as write

    return write(*args, **kwargs)


def describe_skips(skipped: dict[str, str]) -> list[str]:
    return [f"{kind}: {why}" for kind, why in skipped.items()]


def summary_rows(results: ResultsFolder, kind: str) -> pd.DataFrame:
    """The summary rows of one kind of cluster ("pillar", "emerging"), in the house cluster order."""
    from simulation.reporting.charts.style import CLUSTER_ORDER

    table = results.summary
    rows = table[table["kind"] == kind]
    order = [c for c in CLUSTER_ORDER if c in rows.index] + [c for c in rows.index if c not in CLUSTER_ORDER]
    return rows.loc[order]


def require_summary(results: ResultsFolder | None, what: str) -> ResultsFolder:
    if results is None:
        raise NotApplicable(f"{what} needs exactly one run's results folder")
    if not results.has_summary:
        raise NotApplicable(f"{results.path} has no summary.csv / summary.json")
    return results
