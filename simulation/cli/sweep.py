"""``simulate sweep`` and ``simulate analyze``: run an experiment's design, then rank what matters."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from simulation.cli.base import (
    CONTEXT,
    RESULTS_ROOT,
    RUNS_WITHOUT_ASKING,
    FiniteFloat,
    RunError,
    UserError,
    cap_workers,
    confirm_runs,
    cpu_count,
    default_folder,
    main,
)
from simulation.experiments import interrupts

if TYPE_CHECKING:
    from simulation.experiments.experiment_file import Experiment


@main.command(
    context_settings=CONTEXT,
    help=f"""Run every design point of EXPERIMENT, each with the same replicate seeds.

EXPERIMENT is a TOML file naming a base scenario, the levers and uncertainties to vary and the
design (grid, lhs, sobol or morris); see docs/SWEEPS.md and experiments/. Finished runs are
written to RESULTS/runs as Parquet parts while the sweep goes on; read them all with
pandas.read_parquet("RESULTS/runs"). A run that fails is recorded with its error and the sweep
goes on; the exit code is then 1. After an interruption (Ctrl-C, SIGTERM, a killed job, a full
disk), --resume runs only what is missing. A sweep of more than {RUNS_WITHOUT_ASKING:,} runs starts
only with --yes (or a yes at the prompt).

\b
Examples:
  simulate sweep experiments/policy_grid.toml
  simulate sweep experiments/policy_grid.toml --check          # validate; print the plan
  simulate sweep experiments/sensitivity_morris.toml --out results/morris --workers 8
  simulate sweep experiments/sensitivity_morris.toml --out results/morris --resume
  simulate sweep experiments/sensitivity_sobol.toml --scheduler tcp://10.0.0.5:8786
  simulate sweep experiments/sensitivity_sobol.toml --scheduler-file ~/dask/scheduler.json
  simulate analyze results/morris
""",
)
@click.argument("experiment", type=click.Path(path_type=Path))
@click.option("--out", "-o", type=click.Path(path_type=Path, file_okay=False), metavar="DIR",
              help="Results folder.  [default: results/<experiment>-<YYYYmmdd-HHMMSS>; with --resume, "
                   "the newest such folder]")
@click.option("--workers", "-j", type=click.IntRange(min=1), default=None, metavar="N", callback=cap_workers,
              help=f"Local worker processes, at most one per CPU; 1 runs in this process.  "
                   f"[default: all cores, here {cpu_count()}]")
@click.option("--scheduler", metavar="tcp://HOST:PORT",
              help="Run on this Dask distributed scheduler instead of local processes.")
@click.option("--scheduler-file", type=click.Path(path_type=Path, dir_okay=False), metavar="FILE",
              help="Run on the Dask scheduler described in FILE (dask scheduler --scheduler-file).")
@click.option("--resume", is_flag=True, help="Continue the sweep in --out: run only the missing runs.")
@click.option("--retry-failed", is_flag=True, help="With --resume: run the failed runs again too.")
@click.option("--overwrite", is_flag=True,
              help="Start over in --out if it holds the results of an earlier sweep or run (never another folder).")
@click.option("--replicates", "-n", type=click.IntRange(min=1), metavar="N",
              help="Replicates per design point (replaces the file's).")
@click.option("--seed", type=click.IntRange(min=0), metavar="N", help="Root seed (replaces the file's).")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a value of the base scenario, as a TOML value; repeatable.")
@click.option("--check", is_flag=True, help="Validate the experiment and print the plan; run nothing.")
@click.option("--checkpoint", type=FiniteFloat(min=0.0, max=86_400.0), default=5.0, show_default=True,
              metavar="SECONDS", help="Write finished runs to disk at least this often.")
@click.option("--yes", "-y", is_flag=True,
              help=f"Start a sweep of more than {RUNS_WITHOUT_ASKING:,} runs without asking.")
@click.option("--quiet", "-q", is_flag=True, help="No progress; print only the results folder.")
def sweep(
    experiment: Path,
    out: Path | None,
    workers: int | None,
    scheduler: str | None,
    scheduler_file: Path | None,
    resume: bool,
    retry_failed: bool,
    overwrite: bool,
    replicates: int | None,
    seed: int | None,
    overrides: tuple[str, ...],
    check: bool,
    checkpoint: float,
    yes: bool,
    quiet: bool,
) -> None:
    from simulation.experiments.sweep import DaskBackend, LocalBackend, SweepPlan, SweepStore, run_sweep

    if scheduler and scheduler_file:
        raise UserError("give --scheduler or --scheduler-file, not both")
    if (scheduler or scheduler_file) and workers is not None:
        raise UserError("--workers is for local runs; a Dask cluster has the workers it has")
    if retry_failed and not resume:
        raise UserError("--retry-failed goes with --resume")
    if resume and overwrite:
        raise UserError("--resume continues a sweep and --overwrite starts it over; give one")
    loaded = load_experiment_or_fail(experiment, overrides, replicates, seed)
    plan = SweepPlan.from_experiment(loaded)
    if check:
        _print_plan(loaded, plan)
        return
    new = out is None and not resume
    if out is None:
        out = _latest(loaded.name) if resume else default_folder(loaded.name)
    if resume and not (out / "manifest.json").exists():
        raise UserError(f"nothing to resume in {out} (no manifest.json); run without --resume to start the sweep")
    if not resume:
        confirm_runs(plan.n_runs, f"{loaded.name} ({plan.design.n_points:,} points x {plan.replicates} replicates)",
                     yes)  # fmt: skip

    if scheduler or scheduler_file:
        backend: Any = DaskBackend(scheduler, scheduler_file)
    else:
        backend = LocalBackend(min(workers or cpu_count(), max(plan.n_runs, 1)))
    if not quiet:
        what = "Resuming" if resume else "Sweep"
        click.echo(
            f"{what} {loaded.name}: {plan.design.n_points} points x {plan.replicates} replicates = "
            f"{plan.n_runs} runs ({plan.design.method} design of {len(plan.design.keys)} parameters) "
            f"on {backend.description}",
            err=True,
        )
    store = SweepStore(out)
    with runs_kept(store, f"simulate sweep {experiment} --out {{}} --resume"):
        summary = run_sweep(plan, store, backend, resume=resume, retry_failed=retry_failed, overwrite=overwrite,
                            progress=not quiet, checkpoint=checkpoint, new=new)  # fmt: skip

    if quiet:
        click.echo(str(summary.folder))
    else:
        click.echo(
            f"Sweep {loaded.name}: {summary.ok + summary.failed} of {summary.total} runs recorded "
            f"({summary.ran} in this session, in {summary.wall_time:.1f} s on {summary.backend}); "
            f"{summary.failed} failed."
        )
        click.echo(f"Results: {summary.folder}")
        click.echo(f'Read them with: pandas.read_parquet("{summary.folder / "runs"}")')
        for f in summary.failures:
            click.echo(f"  failed: point {f['point']} replicate {f['replicate']} (seed {f['seed']}): {f['error']}")
        if summary.failed:
            click.echo(f"  tracebacks in {summary.folder / 'failures.log'}")
    if summary.missing:
        raise RunError(f"{summary.missing} runs are missing; continue with --resume")
    if summary.failed:
        raise RunError(f"{summary.failed} of {summary.total} runs failed; "
                       "run them again with --resume --retry-failed")  # fmt: skip


@main.command(
    context_settings=CONTEXT,
    help="""Rank the levers and uncertainties of a sweep by their effect on its outcomes.

For a sobol sweep: first-order (S1) and total (ST) Sobol indices; for a morris sweep: mu* and
sigma; each with a 95 % bootstrap confidence interval, computed by SALib from each design point's
mean over its replicates. Prints one ranked table per outcome and writes it to
RESULTS/sensitivity_<outcome>.csv with the columns parameter, index, value, ci_low, ci_high.

For a grid or lhs sweep, writes RESULTS/points.csv (each point's outcomes; P(hit) with a
Wilson 95 % interval) and, if the experiment sets [analysis] frontier, RESULTS/frontier.csv:
per emerging cluster, the least-support points reaching that P(hit).

OUTCOME names: a run column (cagr_semi, city_cagr, fiscal_cost, ...) or p_hit_<cluster> /
p_keeps_pace_<cluster>; revenue_per_yi and value_added_per_yi are a point's totals per 亿 of its
public cost. Default: the experiment's [analysis] outcomes, else P(hit) of each emerging cluster,
the city's CAGR and, where recorded, fiscal_cost, revenue_per_yi and value_added_per_yi.

\b
Examples:
  simulate analyze results/sensitivity_morris-20250101-120000
  simulate analyze results/sobol --outcome cagr_semi --outcome city_cagr
  simulate analyze results/sobol --outcome cagr_semi --out tornado/semi.csv
""",
)
@click.argument("results", type=click.Path(path_type=Path))
@click.option("--outcome", "outcomes", multiple=True, metavar="NAME", help="Outcome to analyse; repeatable.")
@click.option("--out", "-o", "out_file", type=click.Path(path_type=Path, dir_okay=False), metavar="FILE",
              help="Write the table here (one outcome only).  [default: RESULTS/sensitivity_<outcome>.csv]")
@click.option("--quiet", "-q", is_flag=True, help="Print only the files written.")
def analyze(results: Path, outcomes: tuple[str, ...], out_file: Path | None, quiet: bool) -> None:
    import pandas as pd

    from simulation.analysis.sensitivity import (
        COLUMNS, INDICES, AnalysisError, default_outcomes, frontier, load_results, outcome_column, point_table,
        response_table, sensitivity, write_table,
    )  # fmt: skip

    try:
        loaded = load_results(results)
        names = list(outcomes) or default_outcomes(loaded)
        for name in names:
            outcome_column(name, loaded.outcome_columns)
    except AnalysisError as exc:
        raise UserError(str(exc)) from None
    if out_file is not None and len(names) != 1:
        raise UserError("--out takes one outcome; give exactly one --outcome")
    n_runs, expected = len(loaded.runs), loaded.expected_runs
    failed = int((loaded.runs["status"] == "failed").sum())
    if not quiet:
        click.echo(f"{loaded.manifest.get('name', results.name)}: {loaded.method} design, {loaded.n_points} points, "
                   f"{n_runs} of {expected} runs recorded, {failed} failed")  # fmt: skip
        if n_runs < expected:
            click.echo("  the sweep is incomplete: finish it with simulate sweep ... --resume", err=True)

    if loaded.method not in INDICES:
        table = point_table(loaded, names)
        written = [write_table_csv(table, results / "points.csv")]
        if loaded.method == "grid" and any(c.startswith("cagr_") for c in loaded.outcome_columns):
            written.append(write_table_csv(response_table(loaded), results / "response.csv"))
        if not quiet:
            click.echo(_format_points(table, loaded.keys))
        threshold = loaded.manifest.get("analysis", {}).get("frontier")
        if threshold and loaded.method == "grid":
            hits = [f"p_hit_{c}" for c in _emerging() if f"hit_{c}" in loaded.outcome_columns]
            front = frontier(point_table(loaded, hits), loaded.keys, float(threshold))
            written.append(write_table_csv(front, results / "frontier.csv"))
            if not quiet:
                click.echo(f"\nLeast support at which each emerging cluster reaches P(hit) >= {threshold:g}:")
                click.echo(_format_frontier(front, loaded.keys))
        for path in written:
            click.echo(f"Wrote {path}")
        return

    ok_points = loaded.runs.loc[loaded.runs["status"] == "ok", "point"].nunique()
    if ok_points < loaded.n_points:
        raise UserError(
            f"{loaded.n_points - ok_points} of {loaded.n_points} design points have no successful run yet, and "
            f"{loaded.method} indices need every point: finish the sweep with simulate sweep ... --out {results} "
            "--resume (add --retry-failed to rerun failed runs)"
        )
    problems, tables = [], []
    for name in names:
        try:
            result = sensitivity(loaded, name)
        except AnalysisError as exc:
            problems.append(f"{name}: {exc}")
            click.echo(f"\n{name}: not analysed: {exc}", err=True)
            continue
        path = write_table(result.table, out_file or results / f"sensitivity_{name}.csv")
        tables.append(result.table.assign(outcome=name))
        if not quiet:
            click.echo(f"\n{_outcome_label(name)} ({result.runs_used} runs at {result.points} points):")
            click.echo(_format_indices(result.table))
        click.echo(f"Wrote {path}")
    if problems and len(problems) == len(names):
        raise UserError("; ".join(problems))
    if out_file is None and tables:  # every outcome in one table for the charts (outcome column if several)
        combined = pd.concat(tables, ignore_index=True)
        columns = [*COLUMNS, "outcome"] if len(tables) > 1 else list(COLUMNS)
        combined.loc[:, columns].to_csv(results / "sensitivity.csv", index=False, lineterminator="\n",
                                        float_format="%.6g")  # fmt: skip
        click.echo(f"Wrote {results / 'sensitivity.csv'}")


# --- helpers ---------------------------------------------------------------------------------


@contextmanager
def runs_kept(store: Any, again: str) -> Iterator[None]:
    """Around a command that stores runs as they finish (a sweep, an optimisation): a folder problem exits 2;
    a lost backend, a full disk or Ctrl-C say that every finished run is kept and how to continue
    (``again`` with ``{}`` for the folder)."""
    from simulation.experiments.sweep import BackendError, SweepError

    try:
        yield
    except SweepError as exc:
        raise UserError(str(exc)) from None
    except BackendError as exc:
        raise RunError(f"{exc}; every finished run is saved in {store.folder}: continue with "
                       f"{again.format(store.folder)}") from None  # fmt: skip
    except OSError as exc:  # a full disk, a folder removed under the command
        raise RunError(f"could not write to {store.folder} ({exc.strerror or exc}); every run written before is "
                       f"kept: make room and continue with {again.format(store.folder)}") from None  # fmt: skip
    except KeyboardInterrupt as exc:
        stopped = interrupts.as_interrupted(exc)
        click.echo(f"Interrupted ({stopped.name}); every finished run is saved in {store.folder}. Continue with:\n"
                   f"  {again.format(store.folder)}", err=True)  # fmt: skip
        raise click.exceptions.Exit(stopped.exit_code) from None


def load_experiment_or_fail(path: Path, overrides: tuple[str, ...], replicates: int | None,
                            seed: int | None) -> Experiment:  # fmt: skip
    from simulation.experiments.experiment_file import load_experiment
    from simulation.scenario import ScenarioError

    try:
        return load_experiment(path, overrides, replicates, seed)
    except ScenarioError as exc:
        raise UserError(str(exc)) from None


def _print_plan(experiment: Experiment, plan: Any) -> None:
    click.echo(f"OK {experiment.name}: {plan.design.method} design, {plan.design.n_points} points x "
               f"{plan.replicates} replicates = {plan.n_runs} runs")  # fmt: skip
    click.echo(f"  base scenario {experiment.scenario.path} (sha256 {experiment.scenario.sha256[:12]}), "
               f"root seed {experiment.root_seed}")  # fmt: skip
    for p in plan.design.parameters:
        d = p.describe()
        how = (f"levels {d['levels']}" if p.kind == "levels" else f"range {d['range']}" if p.kind == "range"
               else f"{'the scenario' + chr(39) + 's ' if p.from_scenario else ''}{p.dist.dist} "
                    f"{dict(p.dist.params)}")  # fmt: skip
        click.echo(f"  {p.key}: {how}")
    click.echo(f"  outcomes: {', '.join(experiment.columns)}")


def _latest(name: str) -> Path:
    candidates = sorted(p for p in RESULTS_ROOT.glob(f"{name}-*") if (p / "manifest.json").exists())
    if not candidates:
        raise UserError(f"no sweep of {name} to resume in {RESULTS_ROOT}/; give its folder with --out")
    return max(candidates, key=lambda p: (p / "manifest.json").stat().st_mtime)


def _emerging() -> tuple[str, ...]:
    from simulation.datapack import EMERGING

    return EMERGING


def write_table_csv(table: Any, path: Path) -> Path:
    table.to_csv(path, index=False, lineterminator="\n", float_format="%.6g")
    return path


def _num(x: Any, digits: int = 3) -> str:
    try:
        x = float(x)
    except (TypeError, ValueError):
        return str(x)
    if x != x:
        return ""
    if abs(x) >= 1e4 and x.is_integer() and abs(x) < 1e15:
        return f"{x:.0f}"
    return f"{x:.{digits}g}" if abs(x) < 1e-3 or abs(x) >= 1e4 else f"{x:.{digits}f}".rstrip("0").rstrip(".") or "0"


def _outcome_label(name: str) -> str:
    """'P(Semiconductors meets the target) [p_hit_semi]': the label table's name, then the key."""
    from simulation.reporting import labels

    label = labels.outcome(name, "en")
    unit = f", {label.unit.text}" if label.unit.text else ""
    return f"{label.text}{unit} [{name}]"


def _format_indices(table: Any) -> str:
    from simulation.reporting import labels

    indices = list(dict.fromkeys(table["index"]))
    params = list(dict.fromkeys(table["parameter"]))
    with_ci = {i: table.loc[table["index"] == i, "ci_low"].notna().any() for i in indices}
    names = {i: labels.index(i, "en", short=True) for i in indices}
    head = ["rank", "parameter", "key", *[f"{names[i]} [95 % CI]" if with_ci[i] else names[i] for i in indices]]
    rows = []
    for rank, p in enumerate(params, 1):
        cells = [str(rank), labels.parameter(p, "en").text, p]
        for i in indices:
            r = table[(table["parameter"] == p) & (table["index"] == i)].iloc[0]
            ci = f" [{_num(r.ci_low)}, {_num(r.ci_high)}]" if r.ci_low == r.ci_low else ""
            cells.append(f"{_num(r.value)}{ci}")
        rows.append(cells)
    return _grid(head, rows)


def _format_points(table: Any, keys: list[str], limit: int = 60) -> str:
    cols = [c for c in table.columns if not c.endswith(("_low", "_high"))]
    head = [c.split(".")[-1] if c in keys else c for c in cols]
    rows = [[_num(table.iloc[i][c]) if c != "point" else str(int(table.iloc[i][c])) for c in cols]
            for i in range(min(len(table), limit))]  # fmt: skip
    text = _grid(head, rows)
    if len(table) > limit:
        text += f"\n... {len(table) - limit} more points in points.csv"
    return text


def _format_frontier(front: Any, keys: list[str]) -> str:
    head = ["cluster", *[k.split(".")[-1] for k in keys], "P(hit) [95 % CI]"]
    rows = []
    for _, r in front.iterrows():
        if r["point"] is None or r["point"] != r["point"]:
            rows.append([r["cluster"], *["-" for _ in keys], "not reached at any point"])
        else:
            rows.append([r["cluster"], *[_num(r[k]) for k in keys],
                         f"{_num(r['p_hit'], 2)} [{_num(r['p_hit_low'], 2)}, {_num(r['p_hit_high'], 2)}]"])  # fmt: skip
    return _grid(head, rows)


def _grid(head: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return "\n".join([line(head), line(["-" * w for w in widths]), *map(line, rows)])

