"""The ``simulate`` command: run a scenario's replicates, summarise them, write a results folder.

``simulate SCENARIO.toml`` is short for ``simulate run SCENARIO.toml``. Problems with what the
user gave (a scenario file, an option, the output folder) end with ``Error: ...`` on stderr and
exit code 2; a failure during a run with a short message and exit code 1; Ctrl-C with 130.
Set SIMULATE_DEBUG=1 to get Python tracebacks of unexpected errors instead.
"""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
import time
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
            raise RunError(f"unexpected {_brief(exc)} (set SIMULATE_DEBUG=1 to see the traceback)") from exc


def _brief(exc: BaseException) -> str:
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


@main.command(
    context_settings=CONTEXT,
    help="""Run the replicates of SCENARIO and write a results folder.

Prints a table with, per cluster, the start-year revenue, the median end-year revenue and
growth rate with its 90 % interval across replicates, for the emerging clusters the chance of
meeting the growth target and for the pillars how they grow against the city's industry (each
chance with a 95 % confidence interval), then the results folder.

Replicate i's seed depends only on the root seed and i, so runs with the same --seed share
random numbers across scenarios and replicate counts, and the results do not depend on
--workers.

\b
Examples:
  simulate run scenarios/baseline.toml
  simulate run scenarios/baseline.toml --replicates 40 --seed 7 --workers 4
  simulate run scenarios/baseline.toml --set levers.land.floor_multiplier=3.0 \\
      --set 'levers.funds.ic.mandate={ semi = 1.0 }' --out results/land-3
  simulate run scenarios/baseline.toml --quiet          # prints only the results folder
  simulate run scenarios/baseline.toml --format json | jq .clusters
""",
)
@click.argument("scenario", type=click.Path(path_type=Path, dir_okay=True))
@click.option("--replicates", "-n", type=int, metavar="N",
              help="Number of replicates (sets simulation.replicates).")
@click.option("--seed", type=int, metavar="N", help="Root seed (sets simulation.seed).")
@click.option("--workers", "-j", type=click.IntRange(min=1), default=cpu_count, metavar="N", show_default=False,
              help=f"Worker processes; 1 runs in this process.  [default: all cores, here {cpu_count()}]")
@click.option("--out", "-o", type=click.Path(path_type=Path, file_okay=False), metavar="DIR",
              help="Results folder.  [default: results/<scenario>-<YYYYmmdd-HHMMSS>]")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a scenario value, as a TOML value; repeatable.")
@click.option("--overwrite", is_flag=True, help="Replace --out if it exists and is not empty.")
@click.option("--quiet", "-q", is_flag=True,
              help="No progress bar and no table: print only the results folder (or only the JSON).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="What to print on stdout: the table, or the summary as JSON.")
def run(
    scenario: Path,
    replicates: int | None,
    seed: int | None,
    workers: int,
    out: Path | None,
    overrides: tuple[str, ...],
    overwrite: bool,
    quiet: bool,
    fmt: str,
) -> None:
    from simulation.experiments.runner import ReplicateError, run_replicates
    from simulation.experiments.seeds import replicate_seeds
    from simulation.experiments.summary import summarise

    started = datetime.now().astimezone()
    clock = time.perf_counter()
    options, named = list(overrides), {}
    if replicates is not None:  # applied as overrides, after any --set, so they are validated too
        options.append(f"simulation.replicates={replicates}")
        named[options[-1]] = f"--replicates {replicates}"
    if seed is not None:
        options.append(f"simulation.seed={seed}")
        named[options[-1]] = f"--seed {seed}"
    loaded = _load(scenario, options, named)
    spec = loaded.spec
    folder = out if out is not None else default_folder(loaded.name, started)
    _check_folder(folder, overwrite)

    seeds = replicate_seeds(spec.simulation.seed, spec.simulation.replicates)
    workers = min(workers, len(seeds))
    try:
        results = run_replicates(spec, seeds, workers, progress=not quiet)
    except ReplicateError as exc:
        raise RunError(f"{exc}; no results were written") from exc
    except KeyboardInterrupt:
        click.echo("Interrupted; no results were written.", err=True)
        raise click.exceptions.Exit(130) from None

    summary, problem = None, None
    try:
        summary = summarise(results, spec)
    except Exception as exc:  # keep the replicates: write the data without a summary
        problem = f"could not summarise the results ({_brief(exc)})"
    wall_time = time.perf_counter() - clock
    written = _write(folder, loaded, seeds, results, summary, wall_time, overwrite, workers, started)
    if problem:
        raise RunError(f"{problem}; the data were written to {written}")

    if fmt == "json":
        payload = {
            "scenario": loaded.name,
            "sha256": loaded.sha256,
            "seed": spec.simulation.seed,
            "results_folder": str(written),
            **summary.data,
        }
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False, allow_nan=False))
    elif quiet:
        click.echo(str(written))
    else:
        print_summary(summary, loaded, written, wall_time)


@main.command(
    context_settings=CONTEXT,
    help="""Check that SCENARIO is valid, without running it.

Follows `extends`, applies --set overrides and validates every key, then prints one line:
the scenario name, the start of its hash (the same hash a run records in manifest.json), the
number of replicates and the years it covers.

\b
Examples:
  simulate check scenarios/baseline.toml
  simulate check my_scenario.toml --set simulation.replicates=40
""",
)
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a scenario value, as a TOML value; repeatable.")
def check(scenario: Path, overrides: tuple[str, ...]) -> None:
    loaded = _load(scenario, overrides)
    sim = loaded.spec.simulation
    click.echo(
        f"OK {loaded.name} (sha256 {loaded.sha256[:12]}): {sim.replicates} replicates, "
        f"{sim.start_year}-{sim.end_year} in {sim.steps_per_year} steps a year, seed {sim.seed}"
    )


# --- helpers --------------------------------------------------------------------------------


def _load(path: Path, overrides: list[str] | tuple[str, ...], named: dict[str, str] | None = None) -> Scenario:
    """Load a scenario; errors name the option the user typed (--replicates 0, not --set ...)."""
    from simulation.scenario import ScenarioError, load_scenario

    try:
        return load_scenario(path, overrides)
    except ScenarioError as exc:
        message = str(exc)
        if named and exc.override in named:
            message = message.replace(f"--set {exc.override}", named[exc.override])
        raise UserError(message) from None


def default_folder(name: str, when: datetime) -> Path:
    """``results/<name>-<YYYYmmdd-HHMMSS>``, with -2, -3, ... if that exists already."""
    base = RESULTS_ROOT / f"{name}-{when:%Y%m%d-%H%M%S}"
    folder, n = base, 1
    while folder.exists():
        n += 1
        folder = base.with_name(f"{base.name}-{n}")
    return folder


def _check_folder(folder: Path, overwrite: bool) -> None:
    from simulation.reporting.writer import ResultsFolderError, check_folder

    try:
        check_folder(folder, overwrite)
    except ResultsFolderError as exc:
        raise UserError(str(exc)) from None


def _write(
    folder: Path,
    scenario: Scenario,
    seeds: list[int],
    results: list,
    summary: Any,
    wall_time: float,
    overwrite: bool,
    workers: int,
    started: datetime,
) -> Path:
    """Write the results; if that fails, write them to a fallback folder rather than lose them."""
    from simulation.reporting.writer import write_results

    def attempt(target: Path, replace: bool) -> Path:
        return write_results(
            target, scenario, seeds, results, summary, wall_time, replace, workers=workers, started=started
        )

    try:
        return attempt(folder, overwrite)
    except Exception as exc:
        first = _brief(exc) if not isinstance(exc, OSError) else (exc.strerror or str(exc))
    try:
        fallback = Path(tempfile.mkdtemp(prefix=f"simulate-{folder.name}-"))
        attempt(fallback, True)
    except Exception as exc:
        raise RunError(f"could not write the results to {folder} ({first}), nor to a fallback folder "
                       f"({_brief(exc)}); the results are lost") from None
    raise RunError(f"could not write the results to {folder} ({first}); they were written to {fallback} instead")


# --- the table ------------------------------------------------------------------------------


def _number(x: Any, digits: int = 1) -> str:
    return "–" if x is None or not math.isfinite(x) else f"{x:,.{digits}f}"


def _range(block: dict[str, Any] | None) -> str:
    if not block or block["median"] is None:
        return ""
    return f"{block['median']:.1f} [{block['p5']:.1f}, {block['p95']:.1f}]"


def _chance(block: dict[str, Any] | None) -> str:
    if not block or block["p"] is None:
        return ""
    return f"{block['p']:.0%} [{100 * block['ci_low']:.0f}, {100 * block['ci_high']:.0f}]"


WIDE = 130  # terminal columns from which the Chinese names get a column of their own


def summary_table(data: dict[str, Any], name: str, seed: int, width: int, description: str = "") -> Any:
    """The summary data (Summary.data) as a rich Table."""
    from rich import box
    from rich.table import Table

    start, end, n = data["start_year"], data["end_year"], data["replicates"]
    target, tolerance = data["targets"]["emerging_cagr"], data["targets"]["pillar_tolerance"]
    table = Table(
        title=f"[bold]{name}: {n} replicates, seed {seed}, {start}→{end}[/bold]"
        + (f"\n[dim]{description}[/dim]" if description else ""),
        title_justify="left",
        title_style="not italic",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    wide = width >= WIDE
    table.add_column("Cluster", min_width=12)
    if wide:
        table.add_column("", no_wrap=True)
    numbers = dict(justify="right", no_wrap=True)
    table.add_column(f"{start}\n亿元", **numbers)
    table.add_column(f"{end}\n亿元", **numbers)
    table.add_column("CAGR, %/yr\nmedian [5, 95 %]", **numbers)
    table.add_column("Gap to city, pp\nmedian [5, 95 %]", **numbers)
    table.add_column("P(target met)\n[95 % CI]", **numbers)

    def add(label: str, row: dict[str, Any] | None = None, zh: str = "", goal: str = "", **kw: Any) -> None:
        cells = [label, zh] if wide else [label]
        if row is None:
            cells += ["", "", "", "", f"[dim]{goal}[/dim]"]
        else:
            cells += [
                _number(row["revenue_start_median"], 0),
                _number(row["revenue_end_median"], 0),
                _range(row["cagr"]),
                _range(row.get("gap")),
                _chance(row.get("hit") or row.get("keeps_pace")),
            ]
        table.add_row(*cells, **kw)

    groups = [
        ("pillar", "Pillars", "支柱产业", f"gap ≥ −{tolerance:g} pp"),
        ("emerging", "Emerging", "战略性新兴产业", f"CAGR ≥ {target:g} %"),
        ("other", None, None, None),
    ]
    for kind, heading, heading_zh, goal in groups:
        rows = [r for r in data["clusters"] if r["kind"] == kind]
        if heading:
            add(f"[bold]{heading}[/bold]", zh=f"[bold]{heading_zh}[/bold]", goal=goal)
        for i, row in enumerate(rows):
            add(f"  {row['name_en']}", row, row["name_zh"], end_section=i == len(rows) - 1)
    city = data["city"]
    add(f"[bold]{city['name_en']}[/bold]", city, city["name_zh"])
    return table


def print_summary(summary: Any, scenario: Scenario, folder: Path, wall_time: float) -> None:
    """The summary as a rich table on stdout, notes under it, then the results folder."""
    from rich.console import Console

    console = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
    data = summary.data
    start, end = data["start_year"], data["end_year"]
    target, tolerance = data["targets"]["emerging_cagr"], data["targets"]["pillar_tolerance"]
    spec = scenario.spec
    console.print(summary_table(data, scenario.name, spec.simulation.seed, console.width, spec.description))
    notes = (
        f"Revenue: above-scale operating revenue in 亿元 (100 million CNY) a year; {start}: the drawn "
        f"start values, {end}: the year's mean; medians across replicates. CAGR {start}→{end}: median "
        f"and 5th-95th percentiles across replicates. Gap: a pillar's CAGR minus the city's industrial "
        f"CAGR. P: share of replicates meeting the target (emerging: CAGR ≥ {target:g} %; pillars: "
        f"keeping pace with city industry, gap ≥ −{tolerance:g} pp), with its 95 % Wilson confidence interval."
    )
    console.print(notes, width=min(console.width, 100), style="dim")
    console.print(f"Results: {folder}  ({data['replicates']} replicates in {wall_time:.1f} s)")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
