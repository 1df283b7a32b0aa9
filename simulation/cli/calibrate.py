"""``simulate calibrate``: fit behavioural parameters to the validation targets (method of simulated moments)."""

from __future__ import annotations

import math
import sys
import time
from dataclasses import replace
from pathlib import Path

import click

from simulation.cli.base import CONTEXT, RunError, UserError, main, workers_option

REPO = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = Path("experiments/calibrate.toml")


@main.command(
    context_settings=CONTEXT,
    help="""Calibrate the parameters CONFIG names to the validation targets, by simulated moments.

Simulates a Latin hypercube of parameter points (common random numbers: the same replicate seeds
at every point), refines around the minimum of a response surface, takes the simulated point
closest to the targets, estimates standard errors from the moments' slopes there, and writes:

\b
  - the calibrated scenario (default scenarios/calibrated.toml, extending the base scenario):
    well-identified parameters narrowed to normal(estimate, se), the others left as ranges;
  - the record (default docs/calibration_record.json and .md): every point simulated, the
    estimates and standard errors, and the fit moment by moment.

The result depends only on CONFIG and its seed, not on --workers. CONFIG defaults to
experiments/calibrate.toml. --write-baseline also narrows the parameters in the base scenario
file itself (comments kept).

\b
Examples:
  simulate calibrate
  simulate calibrate experiments/calibrate.toml --workers 2
  simulate calibrate my_calibration.toml --out /tmp/calibrated.toml --record /tmp/record.json
""",
)
@click.argument("config", type=click.Path(path_type=Path), required=False)
@click.option("--seed", type=int, metavar="N", help="Root seed (replaces the file's seed).")
@workers_option
@click.option("--out", "-o", type=click.Path(path_type=Path, dir_okay=False), metavar="FILE",
              help="Calibrated scenario to write.  [default: the file's output, scenarios/calibrated.toml]")
@click.option("--record", type=click.Path(path_type=Path, dir_okay=False), metavar="FILE",
              help="Record to write (JSON; Markdown beside it).  [default: docs/calibration_record.json]")
@click.option("--write-baseline", is_flag=True,
              help="Also narrow the well-identified parameters in the base scenario file, in place.")
@click.option("--quiet", "-q", is_flag=True, help="Print only the files written.")
def calibrate(
    config: Path | None, seed: int | None, workers: int, out: Path | None, record: Path | None,
    write_baseline: bool, quiet: bool,
) -> None:
    from simulation.analysis import calibration as cal
    from simulation.experiments.runner import ReplicateError
    from simulation.scenario import ScenarioError, load_scenario

    if config is None:
        config = DEFAULT_CONFIG if DEFAULT_CONFIG.exists() or not (REPO / DEFAULT_CONFIG).exists() else REPO / DEFAULT_CONFIG
    try:
        cfg = cal.load_config(config)
    except cal.CalibrationError as exc:
        raise UserError(str(exc)) from None
    if seed is not None:
        if seed < 0:
            raise UserError(f"--seed {seed}: must be >= 0")
        cfg = replace(cfg, seed=seed)
    if out is not None:
        cfg = replace(cfg, output=out)
    if record is not None:
        cfg = replace(cfg, record=record)
    try:
        base = load_scenario(cfg.scenario, cfg.overrides)
        for p in cfg.parameters:  # every key must exist and accept the box's ends
            load_scenario(cfg.scenario, [*cfg.overrides, f"{p.key}={p.low!r}", f"{p.key}={p.high!r}"])
            cal._spec_getter(base.spec, p.key)
    except ScenarioError as exc:
        raise UserError(f"{cfg.path}: {exc}") from None
    except (AttributeError, KeyError) as exc:
        raise UserError(f"{cfg.path}: a parameter key does not name a scenario value ({exc})") from None

    def say(message: str) -> None:
        if not quiet:
            click.echo(f"[{time.strftime('%H:%M:%S')}] {message}", err=True)

    try:
        result = cal.run_calibration(cfg, workers, progress=say, bar=not quiet)
    except ReplicateError as exc:
        raise RunError(f"{exc}; nothing was written") from exc
    except KeyboardInterrupt:
        click.echo("Interrupted; nothing was written.", err=True)
        raise click.exceptions.Exit(130) from None

    try:
        scenario_path = cal.write_scenario(result)
        json_path, md_path = cal.write_record(result)
        changed = cal.write_baseline(cfg, result, cfg.scenario) if write_baseline else []
    except OSError as exc:
        raise RunError(f"could not write the calibration's files: {exc}") from None

    if not quiet:
        _print(result)
    click.echo(f"Calibrated scenario: {scenario_path}")
    click.echo(f"Record: {json_path} and {md_path.name}")
    if write_baseline:
        click.echo(f"Narrowed in {cfg.scenario}: {', '.join(changed) or 'nothing (no parameter identified)'}")
    click.echo(f"Wall time: {result.timing['total_wall_seconds']:.0f} s with {workers} worker(s)")


def _print(result) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    from simulation.analysis.calibration import Z90

    console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
    table = Table(title="[bold]Calibrated parameters[/bold]", title_justify="left", box=box.SIMPLE_HEAD,
                  pad_edge=False, collapse_padding=True)
    for name, kw in (("Parameter", {}), ("Box", {"justify": "right"}), ("Before", {"justify": "right"}),
                     ("Estimate", {"justify": "right"}), ("90 % interval", {"justify": "right"}),
                     ("Status", {})):
        table.add_column(name, **kw)
    for j, p in enumerate(result.config.parameters):
        t, s = result.best.theta[j], result.se[j]
        interval = "–" if not math.isfinite(s) else f"{t - Z90 * s:.3g} – {t + Z90 * s:.3g}"
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
