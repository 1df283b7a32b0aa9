"""The ``simulate`` command group, its error conventions and the helpers every command shares.

``simulate SCENARIO.toml`` is short for ``simulate run SCENARIO.toml``. Problems with what the
user gave (a scenario file, an option, the output folder) end with one line ``Error: ...`` on
stderr and exit code 2; a failure during a run with a short message and exit code 1; Ctrl-C with
130 and SIGTERM with 143, at any moment, after stopping the worker processes and saying what was
kept (see :mod:`simulation.experiments.interrupts`). Messages are one line, with control
characters escaped. Set SIMULATE_DEBUG=1 to get Python tracebacks of unexpected errors instead.

Each subcommand lives in its own module of this package and registers itself on ``main``.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from simulation.experiments import interrupts
from simulation.messages import printable

if TYPE_CHECKING:
    from simulation.reporting.claim import Claim
    from simulation.scenario import Scenario

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
RESULTS_ROOT = Path("results")  # relative to the current directory
RUNS_WITHOUT_ASKING = 100_000  # a sweep of more runs starts only with --yes (or a yes at the prompt)


class UserError(click.ClickException):
    """A problem with the user's input: ``Error: message`` on stderr, exit code 2."""

    exit_code = 2

    def format_message(self) -> str:
        return printable(self.message)


class RunError(click.ClickException):
    """A failure during a run: ``Error: message`` on stderr, exit code 1."""

    exit_code = 1

    def format_message(self) -> str:
        return printable(self.message)


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
        except KeyboardInterrupt as exc:  # a command that computes says what it kept; here nothing was
            stopped = interrupts.as_interrupted(exc)
            click.echo(f"Interrupted ({stopped.name}); stopped before anything was written.", err=True)
            raise click.exceptions.Exit(stopped.exit_code) from None
        except RecursionError as exc:  # input nested beyond what any check foresaw
            raise UserError(f"the input is nested too deeply to read ({brief(exc)})") from exc
        except Exception as exc:  # a bug: say so briefly, unless asked for the traceback
            if os.environ.get("SIMULATE_DEBUG"):
                raise
            raise RunError(f"unexpected {brief(exc)} (set SIMULATE_DEBUG=1 to see the traceback)") from exc

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:  # fmt: skip
        """Click's standalone mode, with SIGINT and SIGTERM as exit codes 130 and 143 and one-line usage errors."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        with interrupts.handled():
            try:
                code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
            except click.UsageError as exc:
                where = f"{exc.ctx.command_path} --help" if exc.ctx else "simulate --help"
                click.echo(f"Error: {printable(exc.format_message())} (see {where})", err=True)
                code = exc.exit_code
            except click.ClickException as exc:
                exc.show()
                code = exc.exit_code
            except (KeyboardInterrupt, click.Abort) as exc:
                cause = exc if isinstance(exc, KeyboardInterrupt) else exc.__context__ or exc.__cause__
                if not isinstance(cause, KeyboardInterrupt):  # a prompt answered with end-of-input
                    click.echo("Aborted.", err=True)
                    sys.exit(1)
                stopped = interrupts.as_interrupted(cause)
                click.echo(f"Interrupted ({stopped.name}); stopped before anything was written.", err=True)
                code = stopped.exit_code
        sys.exit(code if isinstance(code, int) else 0)


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
    """``results/<name>-<YYYYmmdd-HHMMSS>`` (:func:`claim_results` adds -2, -3, ... if that is taken)."""
    return RESULTS_ROOT / f"{name}-{(when or datetime.now()):%Y%m%d-%H%M%S}"


def claim_results(out: Path | None, name: str, when: datetime | None = None, overwrite: bool = False,
                  hint: str = "--overwrite", quiet: bool = False) -> Claim:  # fmt: skip
    """Claim --out, or a new default folder, for this command (see simulation.reporting.claim); exit 2 if taken."""
    from simulation.reporting.claim import ResultsFolderError, claim, claim_new

    try:
        held = claim(out, overwrite, hint=hint) if out is not None else claim_new(default_folder(name, when))
    except ResultsFolderError as exc:
        raise UserError(str(exc)) from None
    if held.removed and not quiet:
        names = ", ".join(p.name for p in held.removed)
        click.echo(f"Note: removed {names}, left behind by a command that was killed while writing.", err=True)
    return held


@contextmanager
def replicates_or_fail(nothing_written: str) -> Iterator[None]:
    """Around running replicates: a failed replicate exits 1, Ctrl-C 130 and SIGTERM 143, saying what is lost."""
    from simulation.experiments.runner import ReplicateError

    try:
        yield
    except ReplicateError as exc:
        raise RunError(f"{exc}; {nothing_written}") from exc
    except KeyboardInterrupt as exc:
        stopped = interrupts.as_interrupted(exc)
        click.echo(f"Interrupted ({stopped.name}); the worker processes were stopped and {nothing_written}.", err=True)
        raise click.exceptions.Exit(stopped.exit_code) from None


@contextmanager
def signals_held(what: str) -> Iterator[dict[str, Path | None]]:
    """Around writing ``what`` (plural: "the results"): Ctrl-C and SIGTERM wait until it is written, then
    exit 130 or 143 saying where it went; a second signal stops at once and says it was not written.

    Set ``held["written"]`` to the folder once written.
    """
    held: dict[str, Path | None] = {"written": None}

    def notice(signal: interrupts.Interrupted) -> None:
        click.echo(f"{signal.name}: writing {what} first ({signal.name} again stops at once and loses them)", err=True)

    try:
        with interrupts.deferred(notice):
            yield held
    except KeyboardInterrupt as exc:
        stopped = interrupts.as_interrupted(exc)
        done = f"{what} were written to {held['written']}" if held["written"] else f"{what} were not written"
        click.echo(f"Interrupted ({stopped.name}); {done}.", err=True)
        raise click.exceptions.Exit(stopped.exit_code) from None


def confirm_runs(n_runs: int, what: str, yes: bool) -> None:
    """A sweep of more than RUNS_WITHOUT_ASKING runs starts only with --yes, or a yes at the terminal's prompt."""
    if n_runs <= RUNS_WITHOUT_ASKING or yes:
        return
    question = f"{what} is {n_runs:,} runs, more than {RUNS_WITHOUT_ASKING:,}"
    if sys.stdin.isatty() and sys.stderr.isatty():
        if click.confirm(f"{question}. Start it?", default=False, err=True):
            return
        raise UserError(f"{question}; not started")
    raise UserError(f"{question}; add --yes to start it (--check prints the plan)")


def cap_workers(ctx: click.Context, param: click.Parameter, value: int | None) -> int | None:
    """More worker processes than CPUs only share the CPUs and multiply the memory: use the CPUs."""
    cpus = cpu_count()
    if value is not None and value > cpus:
        click.echo(f"Note: --workers {value} is more than the {cpus} CPUs this process may use; using {cpus}.",
                   err=True)  # fmt: skip
        return cpus
    return value


class FiniteFloat(click.FloatRange):
    """A FloatRange that also refuses nan and inf (which compare false with every bound)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number



# options several commands share, defined once
workers_option = click.option(
    "--workers", "-j", type=click.IntRange(min=1), default=cpu_count, metavar="N", show_default=False,
    callback=cap_workers,
    help=f"Worker processes, at most one per CPU; 1 runs in this process.  [default: all cores, here {cpu_count()}]",
)
set_option = click.option(
    "--set", "overrides", multiple=True, metavar="KEY=VALUE",
    help="Override a scenario value, as a TOML value; repeatable.",
)
seed_option = click.option("--seed", type=int, metavar="N", help="Root seed (sets simulation.seed).")

