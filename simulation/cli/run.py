"""``simulate run`` and ``simulate check``: run a scenario's replicates, or only validate it."""

from __future__ import annotations

import json
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from simulation.cli.base import (
    CONTEXT,
    RunError,
    UserError,
    brief,
    claim_results,
    load_or_fail,
    main,
    replicate_options,
    replicates_or_fail,
    seed_option,
    signals_held,
    set_option,
    workers_option,
)

if TYPE_CHECKING:
    from simulation.reporting.claim import Claim
    from simulation.scenario import Scenario


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
  simulate run scenarios/baseline.toml --csv            # also data.csv (data.parquet is always written)
  simulate run scenarios/baseline.toml --format json | jq .clusters
""",
)
@click.argument("scenario", type=click.Path(path_type=Path, dir_okay=True))
@click.option("--replicates", "-n", type=int, metavar="N",
              help="Number of replicates (sets simulation.replicates).")
@seed_option
@workers_option
@click.option("--out", "-o", type=click.Path(path_type=Path, file_okay=False), metavar="DIR",
              help="Results folder.  [default: results/<scenario>-<YYYYmmdd-HHMMSS>]")
@set_option
@click.option("--overwrite", is_flag=True,
              help="Replace --out if it holds the results of an earlier run (never another folder).")
@click.option("--quiet", "-q", is_flag=True,
              help="No progress bar and no table: print only the results folder (or only the JSON).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="What to print on stdout: the table, or the summary as JSON.")
@click.option("--charts", is_flag=True,
              help="Also write the briefing charts (as `simulate chart`) to RESULTS/charts, in English and Chinese.")
@click.option("--csv", "csv", is_flag=True,
              help="Also write data.csv (the series as CSV, large); same as --set 'outputs.formats=[\"parquet\", \"csv\"]'. "
                   "data.parquet is always written.")
@click.option("--counterfactual/--no-counterfactual", default=True, show_default=True,
              help="Also run the scenario with the levers of the counterfactual it names (the baseline: "
                   "business_as_usual.toml), same seeds, and report what the policy adds.")
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
    charts: bool = False,
    counterfactual: bool = True,
    csv: bool = False,
) -> None:
    from simulation.experiments.runner import ReplicatePool
    from simulation.experiments.seeds import replicate_seeds

    started = datetime.now().astimezone()
    clock = time.perf_counter()
    if csv:  # recorded with the other overrides (manifest, scenario.toml)
        overrides = (*overrides, 'outputs.formats=["parquet", "csv"]')
    options, named = replicate_options(overrides, replicates, seed)
    loaded = load_or_fail(scenario, options, named)
    spec = loaded.spec
    other = load_or_fail_counterfactual(loaded) if counterfactual else None
    seeds = replicate_seeds(spec.simulation.seed, spec.simulation.replicates)
    workers = min(workers, len(seeds))
    with claim_results(out, loaded.name, started, overwrite, quiet=quiet) as claimed:
        with replicates_or_fail("no results were written"):
            with ReplicatePool(workers) as pool:  # one set of workers for the scenario and its counterfactual
                results = pool.run(spec, seeds, progress=not quiet, label=f"Run {loaded.name}")
                other_results = (pool.run(other[1], seeds, progress=not quiet, label=f"Run {other[0]}")
                                 if other else None)
        counter = (other[0], other_results) if other else None
        written, summary, problem, wall_time = _summarise_and_write(claimed, loaded, seeds, results, clock, workers,
                                                                    started, counter)  # fmt: skip
    if problem:
        raise RunError(f"{problem}; the data were written to {written}")
    if charts:  # see simulation/cli/chart.py
        from simulation.cli.chart import write_run_charts

        write_run_charts(written, quiet or fmt == "json")

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
        from simulation.reporting.console import print_summary

        print_summary(summary.data, loaded.name, loaded.spec, written, wall_time)


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
@set_option
def check(scenario: Path, overrides: tuple[str, ...]) -> None:
    loaded = load_or_fail(scenario, overrides)
    sim = loaded.spec.simulation
    click.echo(
        f"OK {loaded.name} (sha256 {loaded.sha256[:12]}): {sim.replicates} replicates, "
        f"{sim.start_year}-{sim.end_year} in {sim.steps_per_year} steps a year, seed {sim.seed}"
    )


# --- helpers --------------------------------------------------------------------------------


def load_or_fail_counterfactual(loaded: Scenario):
    """The counterfactual's (name, spec), or a one-line user error naming its file."""
    from simulation.experiments.counterfactual import counterfactual_spec
    from simulation.scenario import ScenarioError

    try:
        return counterfactual_spec(loaded)
    except ScenarioError as exc:
        raise UserError(f"counterfactual of {loaded.path}: {exc}") from None


def _summarise_and_write(claimed: Claim, loaded: Scenario, seeds: list[int], results: list, clock: float,
                         workers: int, started: datetime, counterfactual=None) -> tuple[Path, Any, str | None, float]:  # fmt: skip
    """Summarise and write the computed replicates, holding Ctrl-C and SIGTERM back until they are written."""
    from simulation.experiments.summary import summarise

    with signals_held("the results") as held:
        summary, problem = None, None
        try:
            summary = summarise(results, loaded.spec, counterfactual)
        except Exception as exc:  # keep the replicates: write the data without a summary
            problem = f"could not summarise the results ({brief(exc)})"
        wall_time = time.perf_counter() - clock
        written = held["written"] = _write(claimed, loaded, seeds, results, summary, wall_time, workers, started)
    return written, summary, problem, wall_time


def _write(
    claimed: Claim,
    scenario: Scenario,
    seeds: list[int],
    results: list,
    summary: Any,
    wall_time: float,
    workers: int,
    started: datetime,
) -> Path:
    """Write the results; if that fails, write them to a fallback folder rather than lose them."""
    from simulation.reporting.writer import write_results

    folder = claimed.folder

    def attempt(target: Path, held: Claim | None) -> Path:
        return write_results(
            target, scenario, seeds, results, summary, wall_time, True, workers=workers, started=started, claimed=held
        )

    try:
        return attempt(folder, claimed)
    except Exception as exc:
        first = brief(exc) if not isinstance(exc, OSError) else (exc.strerror or str(exc))
    try:
        fallback = Path(tempfile.mkdtemp(prefix=f"simulate-{folder.name}-"))
        attempt(fallback, None)
    except Exception as exc:
        raise RunError(f"could not write the results to {folder} ({first}), nor to a fallback folder "
                       f"({brief(exc)}); the results are lost") from None
    raise RunError(f"could not write the results to {folder} ({first}); they were written to {fallback} instead")


