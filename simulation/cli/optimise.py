"""``simulate optimise``: the lever mixes that hold up across futures, within a budget (pymoo NSGA-II/III)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from simulation.cli.base import CONTEXT, FiniteFloat, RunError, UserError, cap_workers, cpu_count, default_folder, main


@main.command(
    context_settings=CONTEXT,
    help="""Search lever magnitudes (and splits across clusters) for robust designs within a budget.

FILE is an optimisation file (see experiments/optimise.toml and docs/POLICY_DESIGN.md): the
decision variables, the ensemble of futures every design runs in (the same replicate seeds for
every design: common random numbers), the objectives (robustness metrics such as P(all five
emerging clusters hit) and the public cost a year), the budget in 亿元 a year and pymoo's
NSGA-II or NSGA-III settings. Every run is stored as it finishes (RESULTS/runs, Parquet parts);
after an interruption (Ctrl-C, SIGTERM, a killed job), --resume replays the stored runs and
continues to the same Pareto set. Writes designs.parquet, pareto.parquet, briefing.json (the
cheapest design meeting the stated probability, the most robust at today's budget, the best per
亿) and the frontier and parallel-coordinates charts in English and Chinese.

\b
Examples:
  simulate optimise experiments/optimise.toml
  simulate optimise experiments/optimise.toml --out results/opt --workers 2
  simulate optimise experiments/optimise.toml --out results/opt --resume
  simulate optimise experiments/optimise.toml --scheduler tcp://10.0.0.5:8786
""",
)
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--out", "-o", type=click.Path(path_type=Path, file_okay=False), metavar="DIR",
              help="Results folder.  [default: results/<file>-<YYYYmmdd-HHMMSS>]")
@click.option("--workers", "-j", type=click.IntRange(min=1), default=None, metavar="N", callback=cap_workers,
              help=f"Local worker processes; 1 runs in this process.  [default: all cores, here {cpu_count()}]")
@click.option("--scheduler", metavar="tcp://HOST:PORT", help="Run on this Dask distributed scheduler.")
@click.option("--scheduler-file", type=click.Path(path_type=Path, dir_okay=False), metavar="FILE",
              help="Run on the Dask scheduler described in FILE.")
@click.option("--resume", is_flag=True, help="Continue the optimisation in --out (replays the stored runs).")
@click.option("--overwrite", is_flag=True, help="Start over in --out if it holds earlier results.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a value of the base scenario, as a TOML value; repeatable.")
@click.option("--check", is_flag=True, help="Validate the file and print the plan; run nothing.")
@click.option("--checkpoint", type=FiniteFloat(min=0.0, max=86_400.0), default=5.0, show_default=True,
              metavar="SECONDS", help="Write finished runs to disk at least this often.")
@click.option("--lang", "lang", default="en,zh", show_default=True, metavar="en|zh|en,zh", help="Chart language(s).")
@click.option("--format", "fmt", default="png,svg,pdf", show_default=True, metavar="LIST",
              help="Chart file formats, comma-separated: png, svg, pdf.")
@click.option("--quiet", "-q", is_flag=True, help="No progress; print only the results folder.")
def optimise(file: Path, out: Path | None, workers: int | None, scheduler: str | None, scheduler_file: Path | None,
             resume: bool, overwrite: bool, overrides: tuple[str, ...], check: bool, checkpoint: float, lang: str,
             fmt: str, quiet: bool) -> None:  # fmt: skip
    from simulation.cli.chart import FORMATS, LANGS, parse_list
    from simulation.experiments.optimise import OptimisationPlan, run_optimisation
    from simulation.experiments.optimise_file import load_optimise_file
    from simulation.cli.sweep import runs_kept
    from simulation.experiments.sweep import DaskBackend, LocalBackend, SweepStore
    from simulation.scenario import ScenarioError

    langs, formats = parse_list(lang, LANGS, "--lang"), parse_list(fmt, FORMATS, "--format")
    if scheduler and scheduler_file:
        raise UserError("give --scheduler or --scheduler-file, not both")
    if (scheduler or scheduler_file) and workers is not None:
        raise UserError("--workers is for local runs; a Dask cluster has the workers it has")
    if resume and overwrite:
        raise UserError("--resume continues an optimisation and --overwrite starts it over; give one")
    try:
        loaded = load_optimise_file(file, overrides)
    except ScenarioError as exc:
        raise UserError(str(exc)) from None
    plan = OptimisationPlan.from_file(loaded)
    if check:
        _print_plan(loaded)
        return
    if resume and out is None:
        raise UserError("--resume needs --out: the folder of the optimisation to continue")
    if resume and not (out / "manifest.json").exists():
        raise UserError(f"nothing to resume in {out} (no manifest.json); run without --resume to start")
    new = out is None
    out = out or default_folder(loaded.name)
    if scheduler or scheduler_file:
        backend: Any = DaskBackend(scheduler, scheduler_file)
    else:
        backend = LocalBackend(min(workers or cpu_count(), loaded.population * loaded.futures))
    if not quiet:
        click.echo(f"{'Resuming' if resume else 'Optimising'} {loaded.name}: {loaded.algorithm.upper()}, population "
                   f"{loaded.population} x {loaded.generations} generations, each design in {loaded.futures} futures "
                   f"(at most {loaded.n_runs:,} runs) on {backend.description}", err=True)  # fmt: skip
    store = SweepStore(out)
    with runs_kept(store, f"simulate optimise {file} --out {{}} --resume"):
        result = run_optimisation(plan, store, backend, resume=resume, overwrite=overwrite, progress=not quiet,
                                  checkpoint=checkpoint, new=new)  # fmt: skip
    from simulation.cli.discover import save_charts
    from simulation.reporting.charts import pareto as pareto_charts

    charts = save_charts(pareto_charts, result.folder, langs, formats)
    if quiet:
        click.echo(str(result.folder))
        return
    click.echo(f"{loaded.name}: {len(result.designs)} designs evaluated ({result.ran} runs in this session, "
               f"{result.stored} replayed from the folder, in {result.wall_time:.1f} s on {result.backend}); "
               f"{len(result.pareto)} on the Pareto set.")  # fmt: skip
    click.echo(briefing_text(result.briefing, plan))
    click.echo(f"\nResults: {result.folder} (designs.parquet, pareto.parquet, briefing.json, {charts} chart files)")
    if result.failed:
        raise RunError(f"{result.failed} runs failed (their designs count only their other futures); tracebacks in "
                       f"{result.folder / 'failures.log'}")  # fmt: skip


def briefing_text(brief: dict[str, Any], plan: Any) -> str:
    """The three designs a briefing shows, with their costs and objectives named as the label table
    names them; public money also in 亿元 a year, the unit the file's budget is written in."""
    from simulation.reporting.charts.pareto import PICKS, metric_label
    from simulation.reporting.labels import key_value as value
    from simulation.reporting.labels import name as label
    from simulation.reporting.wording import lower_first

    shown = list(dict.fromkeys(["cost_per_year", *(o for o, _ in plan.objectives)]))

    def facts(m: dict[str, Any], names: list[str]) -> str:
        said = []
        for key in names:
            if m.get(key) is None:
                continue
            name = metric_label(key, "en")
            text = f"{lower_first(name.text)} {name.value(m[key], 'en')}"
            if key == "cost_per_year":
                text += f" ({m[key]:.1f} 亿元 a year)"
            said.append(text)
        return ", ".join(said)

    lines = []
    written = brief.get("references", {}).get("as_written")
    if written and written["metrics"].get("cost_per_year") is not None:
        lines.append(f"\nPolicy as written, in the same futures: {facts(written['metrics'], shown)}.")
    for pick, (number, en, _) in PICKS.items():
        chosen = brief.get("picks", {}).get(pick)
        if chosen is None:
            continue
        if pick == "cheapest_meeting_probability" and brief.get("probability") is not None:
            rule = ", as the policy as written" if brief.get("probability_rule") == "as_written" else ""
            en = f"cheapest with {metric_label('p_all_hit', 'en').text} >= {brief['probability']:.2f}{rule}"
        if chosen.get("design") is None:
            lines.append(f"{number}. {en}: {chosen['why_none']}.")
            continue
        extra = ["extra_va_per_extra_yi"] if pick == "best_per_yi" else []
        levers = "; ".join(f"{label(k)} {value(k, v)}" for k, v in chosen["values"].items() if v is not None)
        lines.append(f"{number}. {en} (design {chosen['design']}): {facts(chosen['metrics'], shown + extra)}\n"
                     f"   {levers}")
    return "\n".join(lines)


def _print_plan(loaded: Any) -> None:
    click.echo(f"OK {loaded.name}: {loaded.algorithm.upper()}, population {loaded.population} x {loaded.generations} "
               f"generations x {loaded.futures} futures = at most {loaded.n_runs:,} runs")  # fmt: skip
    click.echo(f"  base scenario {loaded.scenario.path} (sha256 {loaded.scenario.sha256[:12]}), seed {loaded.seed}")
    for lv in loaded.levers:
        click.echo(f"  lever {lv.key}: {lv.low:g} to {lv.high:g} (as written {lv.base:g})")
    for a in loaded.allocations:
        click.echo(f"  split {a.key} among {', '.join(a.parts)} (total {a.total:g})")
    click.echo(f"  objectives: {', '.join(f'{o} ({s})' for o, s in loaded.objectives)}")
    if loaded.budget is not None:
        click.echo(f"  budget: {loaded.budget:g} 亿元 a year (mean public cost over the futures)")
