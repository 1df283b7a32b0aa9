"""The ``simulate`` command group, its error conventions and the helpers every command shares.

``simulate SCENARIO.toml`` is short for ``simulate run SCENARIO.toml``. Problems with what the
user gave (a scenario file, an option, the output folder) end with ``Error: ...`` on stderr and
exit code 2; a failure during a run with a short message and exit code 1; Ctrl-C with 130.
Set SIMULATE_DEBUG=1 to get Python tracebacks of unexpected errors instead.

Each subcommand lives in its own module of this package and registers itself on ``main``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from simulation.scenario import Scenario

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
RESULTS_ROOT = Path("results")  # relative to the current directory


class UserError(click.ClickException):
    """A problem with the user's input: ``Error: message`` on stderr, exit code 2."""

    exit_code = 2


class RunError(click.ClickException):
    """A failure during a run: ``Error: message`` on stderr, exit code 1."""

    exit_code = 1


def cpu_count() -> int:
    """CPUs this process may use (os.process_cpu_count on Python >= 3.13)."""
    if hasattr(os, "process_cpu_count"):
        return os.process_cpu_count() or 1
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class ScenarioGroup(click.Group):
    """A group that also takes a scenario file in place of a subcommand: ``simulate x.toml``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and self._names_a_scenario(ctx, args[0]):
            args = ["run", *args]
        return super().parse_args(ctx, args)

    def _names_a_scenario(self, ctx: click.Context, first: str) -> bool:
        if first in self.commands:
            return False
        if first.startswith("-"):  # an option of `run` before the file: `simulate -n 4 x.toml`
            own = {opt for param in self.get_params(ctx) for opt in (*param.opts, *param.secondary_opts)}
            return first.split("=", 1)[0] not in own
        return first.endswith(".toml") or os.sep in first or "/" in first or Path(first).exists()

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:  # a bug: say so briefly, unless asked for the traceback
            if os.environ.get("SIMULATE_DEBUG"):
                raise
            raise RunError(f"unexpected {brief(exc)} (set SIMULATE_DEBUG=1 to see the traceback)") from exc


def brief(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


@click.group(
    cls=ScenarioGroup,
    context_settings=CONTEXT,
    help="""Agent-based model of Dongguan's industrial clusters under 东府〔2021〕10号.

Runs the replicates of a scenario file, prints how likely each cluster is to meet the policy's
targets, and writes every series to a results folder. `simulate SCENARIO.toml` is short for
`simulate run SCENARIO.toml`.

\b
Examples:
  simulate scenarios/baseline.toml                       # run the baseline scenario
  simulate scenarios/baseline.toml --replicates 40       # a quick look
  simulate run scenarios/baseline.toml --set levers.subsidy.enabled=false --out results/no-subsidy
  simulate check scenarios/baseline.toml                 # validate a scenario without running it
  simulate run --help                                    # every option of a run
""",
)
@click.version_option(package_name="dongguan-clusters", prog_name="simulate")
def main() -> None:
    pass


def load_or_fail(
    path: Path, overrides: list[str] | tuple[str, ...], named: dict[str, str] | None = None, calibrated: bool = True
) -> Scenario:
    """Load a scenario; errors name the option the user typed (--replicates 0, not --set ...)."""
    from simulation.scenario import ScenarioError, load_scenario

    try:
        return load_scenario(path, overrides, calibrated=calibrated)
    except ScenarioError as exc:
        message = str(exc)
        if named and exc.override in named:
            message = message.replace(f"--set {exc.override}", named[exc.override])
        raise UserError(message) from None


def replicate_options(
    overrides: tuple[str, ...] | list[str], replicates: int | None, seed: int | None
) -> tuple[list[str], dict[str, str]]:
    """--set overrides plus --replicates/--seed as overrides (after the --set ones, so they are
    validated too), and the option each stands for, for :func:`load_or_fail`'s messages."""
    options, named = list(overrides), {}
    if replicates is not None:
        options.append(f"simulation.replicates={replicates}")
        named[options[-1]] = f"--replicates {replicates}"
    if seed is not None:
        options.append(f"simulation.seed={seed}")
        named[options[-1]] = f"--seed {seed}"
    return options, named


def default_folder(name: str, when: datetime | None = None) -> Path:
    """``results/<name>-<YYYYmmdd-HHMMSS>``, with -2, -3, ... if that exists already."""
    base = RESULTS_ROOT / f"{name}-{(when or datetime.now()):%Y%m%d-%H%M%S}"
    folder, n = base, 1
    while folder.exists():
        n += 1
        folder = base.with_name(f"{base.name}-{n}")
    return folder


@contextmanager
def replicates_or_fail(nothing_written: str) -> Iterator[None]:
    """Around running replicates: a failed replicate exits 1 and Ctrl-C exits 130, saying what was not written."""
    from simulation.experiments.runner import ReplicateError

    try:
        yield
    except ReplicateError as exc:
        raise RunError(f"{exc}; {nothing_written}") from exc
    except KeyboardInterrupt:
        click.echo(f"Interrupted; {nothing_written}.", err=True)
        raise click.exceptions.Exit(130) from None


# options several commands share, defined once
workers_option = click.option(
    "--workers", "-j", type=click.IntRange(min=1), default=cpu_count, metavar="N", show_default=False,
    help=f"Worker processes; 1 runs in this process.  [default: all cores, here {cpu_count()}]",
)
set_option = click.option(
    "--set", "overrides", multiple=True, metavar="KEY=VALUE",
    help="Override a scenario value, as a TOML value; repeatable.",
)
seed_option = click.option("--seed", type=int, metavar="N", help="Root seed (sets simulation.seed).")

