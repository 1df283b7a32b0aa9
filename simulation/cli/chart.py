"""``simulate chart``: briefing-paper charts from one or more results folders."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from simulation.cli.base import CONTEXT, RESULTS_ROOT, RunError, UserError, main

LANGS = ("en", "zh")
FORMATS = ("png", "svg", "pdf")


def parse_list(value: str, allowed: tuple[str, ...], option: str) -> list[str]:
    """'en,zh' -> ['en', 'zh'], checked against ``allowed`` (UserError naming the option)."""
    items = [v.strip().lower() for v in value.split(",") if v.strip()]
    bad = [v for v in items if v not in allowed]
    if bad or not items:
        raise UserError(f"{option} {value!r}: choose from {', '.join(allowed)} (comma-separated)")
    return list(dict.fromkeys(items))


def write_folder_charts(folders: list[Path], out: Path, langs: list[str], formats: list[str],
                        sensitivity: Path | None = None, response: Path | None = None, only: list[str] | None = None):
    """Make and write the charts; user-facing problems become UserError."""
    from simulation.reporting.charts import Inputs, write_charts
    from simulation.reporting.charts.fonts import FontError
    from simulation.reporting.results_folder import ResultsError

    try:
        inputs = Inputs.from_folders(folders, sensitivity, response)
        return write_charts(inputs, out, langs, formats, only=only)
    except (ResultsError, FontError) as exc:
        raise UserError(str(exc)) from None


def write_run_charts(folder: Path, quiet: bool) -> None:
    """`simulate run --charts`: every chart of a fresh results folder, both languages, all formats."""
    try:
        written = write_folder_charts([folder], folder / "charts", list(LANGS), list(FORMATS))
    except click.ClickException as exc:
        raise RunError(f"the results were written to {folder}, but not the charts: {exc.message}") from None
    if not quiet:
        click.echo(f"Charts: {folder / 'charts'}  ({len(written.names)} charts in {', '.join(LANGS)})", err=True)


def echo_written(written, out: Path, quiet: bool = False) -> None:
    if quiet:
        click.echo(str(out))
        return
    langs = list(dict.fromkeys(lang for _, lang in written.files))
    n_files = sum(len(v) for v in written.files.values())
    click.echo(f"{len(written.names)} charts in {', '.join(langs) or 'no language'} ({n_files} files) in {out}")
    for name in written.names:
        click.echo(f"  {name}: {written.titles.get((name, langs[0]), '')}")
    for kind, why in written.skipped.items():
        click.echo(f"  (no {kind}: {why})")


@main.command(
    context_settings=CONTEXT,
    help="""Make briefing-paper charts from results folders.

With one results folder (from `simulate run`): fan charts of the emerging clusters' revenue,
their chance of reaching the 10 % target, the pillars against city industry, and tile maps of
the towns. With several results folders, or a `simulate compare` folder: the scenarios'
chances side by side (and, for a comparison, the paired differences). A tornado chart is
added when a folder holds sensitivity.csv (from `simulate analyze`, or --sensitivity), and
lever-response curves when it holds response.csv (or --response); the file formats are
described in simulation/reporting/results_folder.py.

Each title says only what the intervals support, every name and unit comes from one label
table, and axes are fixed across scenarios. Each chart is written as PNG (300 dpi), SVG and
PDF (text as outlines), in English and Chinese, to OUT/<lang>/<chart>.<format>, with
OUT/index.json (titles, captions, and what they were made from: `simulate report` reuses them).

\b
Examples:
  simulate chart results/baseline-20250101-120000
  simulate chart results/baseline-... --lang zh --format png
  simulate chart results/baseline-... results/no_policy-... --out results/charts-policy
  simulate chart results/compare-baseline-vs-no_policy-...
""",
)
@click.argument("results", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--lang", "lang", default="en,zh", show_default=True, metavar="en|zh|en,zh",
              help="Language(s) of the charts.")
@click.option("--format", "fmt", default="png,svg,pdf", show_default=True, metavar="LIST",
              help="File formats, comma-separated: png, svg, pdf.")
@click.option("--out", "-o", type=click.Path(path_type=Path, file_okay=False), metavar="DIR",
              help="Folder for the charts.  [default: RESULTS/charts for one folder, "
                   "results/charts-<YYYYmmdd-HHMMSS> for several]")
@click.option("--sensitivity", type=click.Path(path_type=Path, dir_okay=False), metavar="CSV",
              help="A sensitivity table (parameter, index, value, ci_low, ci_high) for the tornado chart.")
@click.option("--response", type=click.Path(path_type=Path, dir_okay=False), metavar="CSV",
              help="A grid-sweep table (parameter, value, cluster, cagr_median) for lever-response curves.")
@click.option("--quiet", "-q", is_flag=True, help="Print only the charts folder.")
def chart(results: tuple[Path, ...], lang: str, fmt: str, out: Path | None, sensitivity: Path | None,
          response: Path | None, quiet: bool) -> None:
    langs = parse_list(lang, LANGS, "--lang")
    formats = parse_list(fmt, FORMATS, "--format")
    if out is None:
        if len(results) == 1:
            out = results[0] / "charts"
        else:
            out = RESULTS_ROOT / f"charts-{datetime.now():%Y%m%d-%H%M%S}"
    if out.exists() and not out.is_dir():
        raise UserError(f"{out} exists and is not a folder")
    written = write_folder_charts(list(results), out, langs, formats, sensitivity, response)
    if not written.files:
        reasons = "; ".join(f"{k}: {v}" for k, v in written.skipped.items())
        raise UserError(f"no chart applies to {' '.join(map(str, results))} ({reasons})")
    echo_written(written, out, quiet)
