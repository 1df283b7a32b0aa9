"""``simulate discover``: the futures in which a policy target fails (PRIM and CART on a sweep)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from simulation.cli.base import CONTEXT, FiniteFloat, UserError, main


@main.command(
    context_settings=CONTEXT,
    help="""Find the uncertain conditions under which a target fails, in a sweep's runs.

RESULTS is a sweep folder (simulate sweep), best a Latin hypercube over uncertainties and levers
such as experiments/discovery.toml; each run is one future. PRIM (EMA Workbench) peels the varied
parameters down to the box where failures are densest: the densest box holding at least
--min-coverage of the failing futures, without restrictions whose quasi-p-value is above --alpha.
CART gives a second view. Prints the finding in words, and writes trajectory.csv, box.csv,
cart.csv, findings.json and the charts (peeling trade-off, the box; English and Chinese) to
RESULTS/discovery/<failure>/.

\b
What fails (--fails):
  all              fewer than all five emerging clusters reach their target (default)
  bio, semi, ...   that emerging cluster misses its target
  COLUMN<NUMBER    a run's outcome below a number, e.g. "city_cagr<5"
  COLUMN>NUMBER    ... or above it, e.g. "fiscal_cost>400"

\b
Examples:
  simulate discover results/discovery
  simulate discover results/discovery --fails bio
  simulate discover results/discovery --fails "city_cagr<5" --lang zh --format png
""",
)
@click.argument("results", type=click.Path(path_type=Path))
@click.option("--fails", "fails", default="all", show_default=True, metavar="RULE", help="What counts as failing.")
@click.option("--min-coverage", type=FiniteFloat(min=0.0, max=1.0), default=0.5, show_default=True, metavar="SHARE",
              help="The box must hold at least this share of the failing futures.")
@click.option("--alpha", type=FiniteFloat(min=0.0, max=1.0), default=0.05, show_default=True, metavar="P",
              help="Drop restrictions whose quasi-p-value is above this.")
@click.option("--box", type=click.IntRange(min=0), default=None, metavar="ID",
              help="Report this box of the peeling trajectory as it is (see trajectory.csv) instead of choosing.")
@click.option("--out", "-o", type=click.Path(path_type=Path, file_okay=False), metavar="DIR",
              help="Folder for the tables and charts.  [default: RESULTS/discovery/<failure>]")
@click.option("--lang", "lang", default="en,zh", show_default=True, metavar="en|zh|en,zh", help="Chart language(s).")
@click.option("--format", "fmt", default="png,svg,pdf", show_default=True, metavar="LIST",
              help="Chart file formats, comma-separated: png, svg, pdf.")
@click.option("--quiet", "-q", is_flag=True, help="Print only the sentence and the folder.")
def discover(results: Path, fails: str, min_coverage: float, alpha: float, box: int | None, out: Path | None,
             lang: str, fmt: str, quiet: bool) -> None:  # fmt: skip
    from simulation.analysis import discovery as sd
    from simulation.analysis.sensitivity import AnalysisError, load_results
    from simulation.cli.chart import FORMATS, LANGS, parse_list

    langs = parse_list(lang, LANGS, "--lang")
    formats = parse_list(fmt, FORMATS, "--format")
    try:
        loaded = load_results(results)
        failure = sd.parse_failure(fails, loaded.outcome_columns, sd.scenario_target(loaded))
        found = sd.discover(loaded, failure, min_coverage=min_coverage, alpha=alpha, box=box)
    except AnalysisError as exc:
        raise UserError(str(exc)) from None
    folder = out or results / "discovery" / failure.slug
    if folder.exists() and not folder.is_dir():
        raise UserError(f"{folder} exists and is not a folder")
    written = sd.write(found, folder, sd.sweep_provenance(loaded))
    from simulation.reporting.charts import discovery as discovery_charts

    charts = save_charts(discovery_charts, folder, langs, formats)

    click.echo(found.sentence("en"))
    if "zh" in langs:
        click.echo(found.sentence("zh"))
    if quiet:
        click.echo(str(folder))
        return
    stats = found.stats
    click.echo(f"\n{found.futures} futures ({found.left_out} runs left out: failed or without the outcome), "
               f"{found.failures} fail ({found.base_rate:.0%}). Box {found.chosen} of the peeling trajectory: "
               f"density {stats['density']:.0%} ({stats['density'] / found.base_rate:.1f} x the base rate), "
               f"coverage {stats['coverage']:.0%}, mass {stats['mass']:.0%}.")  # fmt: skip
    click.echo(_box_table(found.restricted()))
    for d in found.dropped:
        click.echo(f"  dropped {d['parameter']}: quasi-p {d['quasi_p']:.3f} > {alpha:g}")
    if found.cart_sentence("en"):
        click.echo("\n" + found.cart_sentence("en"))
    click.echo(f"\nWrote {', '.join(p.name for p in written)} and {charts} chart files to {folder}")


def save_charts(module: Any, folder: Path, langs: list[str], formats: list[str]) -> int:
    """``module.make(folder, lang)``'s charts saved to folder/charts/<lang>/, in the house style; the file count."""
    from simulation.reporting.charts.fonts import FontError
    from simulation.reporting.charts.render import render
    from simulation.reporting.charts.style import house_style

    count = 0
    for lang in langs:
        try:
            with house_style(lang):
                for chart in module.make(folder, lang):
                    count += len(render(chart.figure, folder / "charts" / lang / chart.name, formats)[0])
        except FontError as exc:
            raise UserError(str(exc)) from None
    return count


def _box_table(rows) -> str:
    from simulation.reporting.labels import key_value as value

    lines = []
    for _, r in rows.iterrows():
        low = value(r["parameter"], r["low"]) if r["restricted_low"] else "-"
        high = value(r["parameter"], r["high"]) if r["restricted_high"] else "-"
        qp = "" if r["quasi_p"] != r["quasi_p"] else f"quasi-p {r['quasi_p']:.3g}"
        lines.append(f"  {r['label_en']}: {low} to {high}  ({r['parameter']}; {qp})")
    return "\n".join(lines)
