"""Briefing-paper charts made from results folders (never from the model).

One module per chart; :mod:`.style` holds the house style and :mod:`.fonts` the CJK font.

=================== =============================================== ===============================
chart (file stem)    what it shows                                    needs
=================== =============================================== ===============================
fan_<cluster>,       revenue 2020-2025 of each emerging cluster:      data.parquet / data.csv
fan_emerging         median, 50 % and 90 % bands, 10 %-a-year path
target_probability   P(CAGR >= 10 %) of the emerging clusters,        summary.csv
                     95 % CIs, the 0.5 line
pillars_vs_city      pillar CAGRs against city industry's CAGR        summary.csv
scenario_comparison  P(target) per cluster across scenarios          2+ results folders, or a
                     (dot plot)                                       `simulate compare` folder
paired_differences   paired differences between two scenarios        a `simulate compare` folder
                     with paired and unpaired CIs
tornado[_<outcome>]  sensitivity indices, ranked                      sensitivity.csv
towns_growth,        tile map of the 34 towns: revenue growth,       town rows in the data
towns_floor          new floor space delivered
lever_response       outcome against lever level, 10 % line          response.csv
=================== =============================================== ===============================

:func:`make_charts` makes the figures that apply to the inputs (and says why the others do
not); :func:`write_charts` saves them in both languages and every format.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

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
    def single(self) -> ResultsFolder | None:
        """The one run, when there is exactly one and no comparison."""
        return self.runs[0] if len(self.runs) == 1 and self.comparison is None else None

    @property
    def provenance(self) -> ResultsFolder | list[ResultsFolder] | None:
        """The folder(s) whose manifest goes into source lines."""
        if self.runs:
            return self.runs if len(self.runs) > 1 else self.runs[0]
        return self.tables_from


Maker = Callable[[Inputs, str], list[Chart]]


def _registry() -> list[tuple[str, Maker]]:
    from simulation.reporting.charts import fan, paired, pillars, response, scenarios, target, tornado, towns

    return [
        ("fan", fan.make),
        ("target_probability", target.make),
        ("pillars_vs_city", pillars.make),
        ("scenario_comparison", scenarios.make),
        ("paired_differences", paired.make),
        ("tornado", tornado.make),
        ("towns", towns.make),
        ("lever_response", response.make),
    ]


CHART_KINDS = (
    "fan", "target_probability", "pillars_vs_city", "scenario_comparison", "paired_differences",
    "tornado", "towns", "lever_response",
)  # fmt: skip


def make_charts(inputs: Inputs, lang: str, only: Iterable[str] | None = None) -> tuple[list[Chart], dict[str, str]]:
    """The charts that apply to ``inputs`` in ``lang``, and {chart kind: why not} for the rest.

    Call inside :func:`simulation.reporting.charts.style.house_style` (the figures are not
    registered with pyplot: nothing to close).
    """
    wanted = set(only) if only else None
    made: list[Chart] = []
    skipped: dict[str, str] = {}
    for kind, maker in _registry():
        if wanted is not None and kind not in wanted:
            continue
        try:
            made.extend(maker(inputs, lang))
        except NotApplicable as exc:
            skipped[kind] = str(exc)
    return made, skipped


@dataclass
class Written:
    """What :func:`write_charts` wrote: files per (chart, language), titles, and skipped charts."""

    files: dict[tuple[str, str], list[Path]] = field(default_factory=dict)
    titles: dict[tuple[str, str], str] = field(default_factory=dict)
    captions: dict[tuple[str, str], str] = field(default_factory=dict)
    svg: dict[tuple[str, str], str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return list(dict.fromkeys(name for name, _ in self.files))


def write_charts(
    inputs: Inputs,
    out: str | Path,
    langs: Iterable[str] = ("en", "zh"),
    formats: Iterable[str] = ("png", "svg", "pdf"),
    only: Iterable[str] | None = None,
    keep_svg: bool = False,
) -> Written:
    """Make and save every applicable chart: ``out/<lang>/<name>.<format>``.

    ``keep_svg`` also returns each chart's SVG text (for reports that inline it).
    """
    import io

    from simulation.reporting.charts.style import house_style, save

    out = Path(out)
    formats = list(formats)
    written = Written()
    for lang in langs:
        with house_style(lang):
            charts, skipped = make_charts(inputs, lang, only)
            written.skipped.update(skipped)
            for chart in charts:
                key = (chart.name, lang)
                written.files[key] = save(chart.figure, out / lang / chart.name, formats) if formats else []
                written.titles[key] = chart.title
                written.captions[key] = chart.caption
                if keep_svg:
                    buffer = io.StringIO()
                    chart.figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
                    written.svg[key] = buffer.getvalue()
    return written


def describe_skips(skipped: dict[str, str]) -> list[str]:
    return [f"{kind}: {why}" for kind, why in skipped.items()]


def summary_rows(results: ResultsFolder, kind: str) -> pd.DataFrame:
    """The summary rows of one kind of cluster ("pillar", "emerging"), in the summary's order."""
    table = results.summary
    return table[table["kind"] == kind]


def require_summary(results: ResultsFolder | None, what: str) -> ResultsFolder:
    if results is None:
        raise NotApplicable(f"{what} needs exactly one run's results folder")
    if not results.has_summary:
        raise NotApplicable(f"{results.path} has no summary.csv / summary.json")
    return results
