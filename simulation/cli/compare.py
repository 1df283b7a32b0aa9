"""``simulate compare``: two scenarios run with the same seeds, compared replicate by replicate."""

from __future__ import annotations

import json
import math
import shlex
import sys
import time
from datetime import datetime
from pathlib import Path

import click

from simulation.cli.base import (
    CONTEXT,
    RunError,
    UserError,
    claim_results,
    load_or_fail,
    main,
    replicate_options,
    replicates_or_fail,
    signals_held,
    workers_option,
)
from simulation.cli.chart import FORMATS, LANGS, parse_list


@main.command(
    context_settings=CONTEXT,
    help="""Compare scenarios A and B, paired replicate by replicate (common random numbers).

Runs both scenarios with the same replicate seeds (A's root seed and replicate count), so
each pair of replicates shares every uncertain draw and the difference A − B is mostly the
difference between the scenarios. Without B, A is compared with its counterfactual: A run with
the levers of the scenario its `counterfactual` key names (the baseline's: business_as_usual.toml,
the programmes that predate 10号文), so the difference is what the policy adds. Prints, per cluster, the difference in growth (CAGR, pp a
year) and in the chance of meeting the target (emerging: CAGR ≥ 10 %; pillars: keeping pace
with city industry), each with a paired 95 % confidence interval next to the wider interval
an unpaired comparison would give; then the chance that all five emerging clusters hit, the
public cost, the nine clusters' revenue and value added, and the extra revenue and value added
per 亿 of extra public money.

Writes a folder with comparison.csv and comparison.json (the table and its definitions),
manifest.json, both scenarios' full results folders (a-<name>, b-<name>), and the charts
(scenario comparison and paired differences) in charts/<lang>/.

\b
Examples:
  simulate compare scenarios/baseline.toml              # against business_as_usual's levers
  simulate compare scenarios/baseline.toml scenarios/no_policy.toml
  simulate compare scenarios/baseline.toml scenarios/only_land.toml --replicates 100 --seed 7
  simulate compare a.toml b.toml --set simulation.below_scale_ratio=0.2 --no-charts
""",
)
@click.argument("a", type=click.Path(path_type=Path))
@click.argument("b", type=click.Path(path_type=Path), required=False)
@click.option("--replicates", "-n", type=int, metavar="N", help="Replicates of each scenario (sets simulation.replicates).")
@click.option("--seed", type=int, metavar="N", help="Root seed of both (sets simulation.seed).")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a value in both scenarios, as a TOML value; repeatable.")
@workers_option
@click.option("--out", "-o", type=click.Path(path_type=Path, file_okay=False), metavar="DIR",
              help="Comparison folder.  [default: results/compare-<A>-vs-<B>-<YYYYmmdd-HHMMSS>]")
@click.option("--overwrite", is_flag=True,
              help="Replace --out if it holds the results of an earlier comparison (never another folder).")
@click.option("--charts/--no-charts", default=True, show_default=True, help="Write the comparison charts.")
@click.option("--lang", default="en,zh", show_default=True, metavar="en|zh|en,zh", help="Language(s) of the charts.")
@click.option("--chart-format", "chart_format", default="png,svg,pdf", show_default=True, metavar="LIST",
              help="File formats of the charts.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no table: print only the folder.")
def compare(a: Path, b: Path | None, replicates: int | None, seed: int | None, overrides: tuple[str, ...], workers: int,
            out: Path | None, overwrite: bool, charts: bool, lang: str, chart_format: str, quiet: bool) -> None:
    from simulation.experiments.compare import comparison_data, run_comparison

    langs = parse_list(lang, LANGS, "--lang")
    formats = parse_list(chart_format, FORMATS, "--chart-format")
    started = datetime.now().astimezone()
    clock = time.perf_counter()
    options, named = replicate_options(overrides, replicates, seed)
    scen_a = load_or_fail(a, options, named)
    scen_b = load_or_fail(b, options, named) if b is not None else _counterfactual_of(scen_a)
    n = scen_a.spec.simulation.replicates
    with claim_results(out, f"compare-{scen_a.name}-vs-{scen_b.name}", started, overwrite, quiet=quiet) as claimed:
        try:
            with replicates_or_fail("no results were written"):
                comp = run_comparison(scen_a, scen_b, workers=min(workers, max(n, 1)), progress=not quiet)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        wall_time = time.perf_counter() - clock
        with signals_held("the comparison's files") as held:
            written = held["written"] = _write(claimed, comp, workers, started, wall_time, comparison_data)
    chart_problem = None
    if charts:
        from simulation.cli.chart import write_folder_charts

        try:
            write_folder_charts([written], written / "charts", langs, formats)
        except click.ClickException as exc:
            chart_problem = exc.message
    if quiet:
        click.echo(str(written))
    else:
        _print(comp, written, wall_time)
    for note in comp.notes:
        click.echo(f"Note: {note}", err=True)
    if chart_problem:
        raise RunError(f"the comparison was written to {written}, but not its charts: {chart_problem}")


def _write(claimed, comp, workers: int, started: datetime, wall_time: float, data_fn) -> Path:
    from simulation.reporting.writer import git_state, versions, write_results

    names = {"a": f"a-{comp.a.name}", "b": f"b-{comp.b.name}"}
    with claimed.writing() as temp:
        for key, scenario, results, summary in (("a", comp.a, comp.results_a, comp.summary_a),
                                                 ("b", comp.b, comp.results_b, comp.summary_b)):
            write_results(temp / names[key], scenario, comp.seeds, results, summary, wall_time / 2, False,
                          workers=workers, started=started)
        data = data_fn(comp, names)
        (temp / "comparison.json").write_text(json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n",
                                              encoding="utf-8")
        (temp / "comparison.csv").write_text(comp.table.to_csv(index=False, lineterminator="\n"), encoding="utf-8")
        manifest = {
            "kind": "comparison",
            "a": data["a"], "b": data["b"],
            "root_seed": data["root_seed"], "replicates": data["replicates"], "seeds": [int(s) for s in comp.seeds],
            "workers": workers, "versions": versions(), "git": git_state(),
            "command": shlex.join(sys.argv),
            "started": started.isoformat(timespec="seconds"),
            "ended": datetime.now().astimezone().isoformat(timespec="seconds"),
            "wall_time_seconds": round(wall_time, 3),
            "notes": comp.notes,
        }  # fmt: skip
        (temp / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return claimed.folder


def _counterfactual_of(scenario):
    """A's counterfactual as a scenario: A with the levers of the file its ``counterfactual`` names."""
    import dataclasses

    from simulation.cli.run import load_or_fail_counterfactual

    other = load_or_fail_counterfactual(scenario)
    if other is None:
        raise UserError(f"{scenario.path}: names no counterfactual (key `counterfactual`); give scenario B")
    name, spec = other
    return dataclasses.replace(scenario, name=name, spec=spec, counterfactual=None)


def _fmt(x: float, digits: int = 2, sign: bool = True) -> str:
    if x is None or not math.isfinite(x):
        return "–"
    return f"{x:+.{digits}f}" if sign else f"{x:.{digits}f}"


def _print(comp, folder: Path, wall_time: float) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    a, b = comp.a.name, comp.b.name
    table = Table(
        title=f"[bold]{a} − {b}: {len(comp.seeds)} paired replicates, seed {comp.a.spec.simulation.seed}[/bold]",
        title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True,
    )  # fmt: skip
    table.add_column("Cluster")
    table.add_column("Measure")
    for heading in (a, b, f"{a} − {b}", "paired 95 % CI", "unpaired 95 % CI", "width ratio"):
        table.add_column(heading, justify="right", no_wrap=True)
    labels = {"cagr": "CAGR, %/yr", "p_hit": "P(CAGR ≥ target)", "p_keeps_pace": "P(keeps pace)",
              "p_all_hit": "P(all five hit)", "public_cost": "public cost, 亿元", "revenue_total": "revenue, 亿元",
              "value_added_total": "value added, 亿元", "revenue_per_yi": "Δrevenue per Δ亿 public",
              "value_added_per_yi": "Δvalue added per Δ亿 public"}
    for row in comp.table.to_dict("records"):
        digits = 0 if row["measure"] in ("public_cost", "revenue_total", "value_added_total") else 2
        table.add_row(
            row["name_en"], labels[row["measure"]],
            _fmt(row["a"], digits, False), _fmt(row["b"], digits, False), _fmt(row["diff"], digits),
            f"[{_fmt(row['paired_low'], digits)}, {_fmt(row['paired_high'], digits)}]",
            f"[{_fmt(row['unpaired_low'], digits)}, {_fmt(row['unpaired_high'], digits)}]",
            _fmt(row["width_ratio"], 2, False),
        )  # fmt: skip
    console = Console(width=max(Console().width, 140) if not sys.stdout.isatty() else None)
    console.print(table)
    console.print(
        "CAGR: mean across replicates; difference: mean paired difference with a t interval (paired) or "
        "Welch's interval (unpaired). P: share of replicates meeting the target; difference with "
        "Newcombe's hybrid score interval for paired (or independent) proportions. Money: totals over the "
        "run (public cost net of fund returns; the nine policy clusters' revenue and value added); per Δ亿: "
        "ratio of the mean differences with a delta-method interval. Width ratio: paired / unpaired CI width.",
        soft_wrap=False,
    )
    console.print(f"Results: {folder}  ({2 * len(comp.seeds)} replicates in {wall_time:.1f} s)")
