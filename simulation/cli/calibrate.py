"""``simulate calibrate``: fit behavioural parameters to the validation targets (method of simulated moments)."""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

import click

from simulation.cli.base import CONTEXT, RunError, UserError, main, replicates_or_fail, workers_option

REPO = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = Path("experiments/calibrate.toml")


@main.command(
    context_settings=CONTEXT,
    help="""Calibrate the parameters CONFIG names to the validation targets, by simulated moments.

Simulates a Latin hypercube of parameter points (common random numbers: the same replicate seeds
at every point), refines around the minimum of a response surface, takes the simulated point
closest to the targets, finds each parameter's 90 % interval by profiling the distance, and writes:

\b
  - the calibration section of the calibrated scenario (default scenarios/baseline.toml, in
    place; everything above the section is kept): well-identified parameters narrowed to
    triangular(interval low, estimate, interval high), weakly identified ones as the range
    the targets leave, the others at their priors. Every run of that scenario, and of the scenarios extending it, uses them;
  - the record (default docs/calibration_record.json and .md): every point simulated, the
    estimates, intervals and local standard errors, and the fit moment by moment.

The calibration starts from the priors (the scenario without its calibration section), so a
rerun with the same seed reproduces the section. The result depends only on CONFIG and its seed,
not on --workers. CONFIG defaults to experiments/calibrate.toml.

\b
Examples:
  simulate calibrate
  simulate calibrate experiments/calibrate.toml --workers 2
  simulate calibrate --out /tmp/calibrated.toml --record /tmp/record.json   # leave baseline.toml alone
""",
)
@click.argument("config", type=click.Path(path_type=Path), required=False)
@click.option("--seed", type=int, metavar="N", help="Root seed (replaces the file's seed).")
@workers_option
@click.option("--out", "-o", type=click.Path(path_type=Path, dir_okay=False), metavar="FILE",
              help="Write the calibrated scenario (a copy with the new calibration section) to FILE "
                   "instead of updating it in place.")
@click.option("--record", type=click.Path(path_type=Path, dir_okay=False), metavar="FILE",
              help="Record to write (JSON; Markdown beside it).  [default: docs/calibration_record.json]")
@click.option("--quiet", "-q", is_flag=True, help="Print only the files written.")
def calibrate(
    config: Path | None, seed: int | None, workers: int, out: Path | None, record: Path | None, quiet: bool,
) -> None:
    from simulation.analysis import calibration as cal
    from simulation.scenario import ScenarioError, load_scenario

    if config is None:
        config = DEFAULT_CONFIG if DEFAULT_CONFIG.exists() or not (REPO / DEFAULT_CONFIG).exists() else REPO / DEFAULT_CONFIG
    try:
        cfg = cal.load_config(config)
    except cal.CalibrationError as exc:
        raise UserError(str(exc)) from None
    if seed is not None:
        from simulation.scenario.bounds import allowed, refusal
        from simulation.scenario.loader import bounds_of

        limits = bounds_of(("simulation", "seed"))
        if not limits["ge"] <= seed <= limits["le"]:
            raise UserError(f"--seed: {refusal(allowed(**limits), str(seed))}")
        cfg = replace(cfg, seed=seed)
    if out is not None:
        cfg = replace(cfg, output=out)
    if record is not None:
        cfg = replace(cfg, record=record)
    try:
        base = load_scenario(cfg.scenario, cfg.overrides, calibrated=False)
        load_scenario(cfg.scenario, cfg.overrides)  # its current calibration section must be valid too
        for p in cfg.parameters:  # every key must exist and accept the box's ends
            load_scenario(cfg.scenario, [*cfg.overrides, f"{p.key}={p.low!r}", f"{p.key}={p.high!r}"],
                          calibrated=False)
            cal._spec_getter(base.spec, p.key)
    except ScenarioError as exc:
        raise UserError(f"{cfg.path}: {exc}") from None
    except (AttributeError, KeyError) as exc:
        raise UserError(f"{cfg.path}: a parameter key does not name a scenario value ({exc})") from None

    def say(message: str) -> None:
        if not quiet:
            click.echo(f"[{time.strftime('%H:%M:%S')}] {message}", err=True)

    try:
        with replicates_or_fail("nothing was written"):
            result = cal.run_calibration(cfg, workers, progress=say, bar=not quiet)
    except cal.CalibrationError as exc:
        raise UserError(f"{cfg.scenario}: {exc}") from None

    try:
        scenario_path = cal.write_scenario(result)
        json_path, md_path = cal.write_record(result)
    except OSError as exc:
        raise RunError(f"could not write the calibration's files: {exc}") from None
    except cal.CalibrationError as exc:
        raise RunError(str(exc)) from None

    if not quiet:
        _print(result)
    click.echo(f"Calibration section written: {scenario_path}")
    click.echo(f"Record: {json_path} and {md_path.name}")
    click.echo(f"Wall time: {result.timing['total_wall_seconds']:.0f} s with {workers} worker(s)")


def _print(result) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
    table = Table(title="[bold]Calibrated parameters[/bold]", title_justify="left", box=box.SIMPLE_HEAD,
                  pad_edge=False, collapse_padding=True)
    for name, kw in (("Parameter", {}), ("Box", {"justify": "right"}), ("Before", {"justify": "right"}),
                     ("Estimate", {"justify": "right"}), ("90 % interval", {"justify": "right"}),
                     ("Status", {})):
        table.add_column(name, **kw)
    for j, p in enumerate(result.config.parameters):
        t = result.best.theta[j]
        low, high = result.intervals[j]
        interval = f"{low:.3g} – {high:.3g}"
        status = result.status[j]
        style = {"identified": "green", "weakly identified": "yellow"}.get(status, "red")
        table.add_row(p.key, f"{p.low:g}–{p.high:g}", f"{result.before.theta[j]:.4g}", f"{t:.4g}", interval,
                      f"[{style}]{status}[/{style}]")
    console.print(table)
    console.print(f"Distance to the targets: {result.before.loss:.3g} at the central values, "
                  f"{result.best.loss:.3g} at the estimate")
    from simulation.analysis.scorecard import rich_table

    card = result.fit_scenario or result.fit_point
    console.print(rich_table(card))
