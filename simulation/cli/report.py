"""``simulate report``: a self-contained HTML briefing (and Markdown) from a results folder."""

from __future__ import annotations

from pathlib import Path

import click

from simulation.cli.base import CONTEXT, UserError, main
from simulation.cli.chart import LANGS, parse_list


@main.command(
    context_settings=CONTEXT,
    help="""Write a briefing report of a results folder: one HTML file and Markdown beside it.

RESULTS is a run's results folder or a `simulate compare` folder. The report states the key
findings as sentences whose words follow the intervals, what the policy adds (for a
comparison, or a run with a counterfactual), the charts (each once), the summary tables, the
levers as run in the reader's language, limitations and validation, and a short provenance.
The HTML file is self-contained (charts inline, no scripts, nothing loaded from anywhere): mail
it or open it offline. The Markdown file links the charts as PNG files in figures/<lang>/.
Charts that `simulate chart` already wrote for the same results are reused.

Writes OUT/report.<lang>.html and OUT/report.<lang>.md for each language.

\b
Examples:
  simulate report results/baseline-20250101-120000
  simulate report results/baseline-... --lang zh --out briefing/
  simulate report results/compare-baseline-vs-no_policy-...
  simulate report results/baseline-... --validation results/validate-baseline-...
""",
)
@click.argument("results", type=click.Path(path_type=Path))
@click.option("--lang", default="en,zh", show_default=True, metavar="en|zh|en,zh", help="Language(s) of the report.")
@click.option("--out", "-o", type=click.Path(path_type=Path, file_okay=False), metavar="DIR",
              help="Folder for the report.  [default: RESULTS/report]")
@click.option("--validation", type=click.Path(path_type=Path), metavar="DIR|CSV",
              help="A `simulate validate` folder (or its scorecard.csv) for the validation section.")
@click.option("--quiet", "-q", is_flag=True, help="Print only the HTML files.")
def report(results: Path, lang: str, out: Path | None, validation: Path | None, quiet: bool) -> None:
    from simulation.reporting.charts.fonts import FontError
    from simulation.reporting.report import write_report
    from simulation.reporting.results_folder import ResultsError

    langs = parse_list(lang, LANGS, "--lang")
    if out is not None and out.exists() and not out.is_dir():
        raise UserError(f"{out} exists and is not a folder")
    for language in langs:
        try:
            done = write_report(results, out, language, validation)
        except (ResultsError, FontError) as exc:
            raise UserError(str(exc)) from None
        if quiet:
            click.echo(str(done.html))
            continue
        how = "reused" if done.reused else "drawn"
        click.echo(f"{done.html}  ({len(done.charts)} charts, {how}; {len(done.findings)} findings)")
        click.echo(f"{done.markdown}")
        if language == langs[0]:
            for finding in done.findings:
                click.echo(f"  - {finding.text}")
