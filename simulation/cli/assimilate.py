"""``simulate assimilate``: condition the scenario's uncertain values on the observed statistics."""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path

import click

from simulation.cli.base import CONTEXT, UserError, main, workers_option

DEFAULT_FILE = Path("experiments") / "assimilate.toml"


@main.command(
    context_settings=CONTEXT,
    help="""Condition the scenario's uncertain values on the statistics observed up to a year.

Reads an assimilation file (default experiments/assimilate.toml: the scenario, the uncertain
values to condition, the ABC settings and the seed), runs pyabc's ABC (rejection or SMC) on the observed
figures from 2021 to --through (simulation/data/observed.csv, on the statistics' basis), and
writes a posterior folder (particles.csv with weights, posterior.json and posterior.md: the
generations, effective sample sizes, acceptance rates, and what the data moved). A scenario uses
it with `posterior = "<folder>"`. The same file and seed give the same posterior whatever
--workers is.

\b
Examples:
  simulate assimilate --through 2023
  simulate assimilate experiments/assimilate.toml --through 2022 --out posteriors/through-2022
  simulate assimilate --through 2021 --population 50 --generations 3    # a quick look
""",
)
@click.argument("file", type=click.Path(path_type=Path), default=DEFAULT_FILE, required=False)
@click.option("--through", type=click.IntRange(2021, 2100), required=True, metavar="YEAR",
              help="The last observed year to condition on.")
@click.option("--out", "-o", type=click.Path(path_type=Path, file_okay=False), metavar="DIR",
              help="Posterior folder.  [default: the file's `out` folder / through-YEAR]")
@click.option("--population", type=click.IntRange(10, 100_000), metavar="N", help="Particles a generation.")
@click.option("--generations", type=click.IntRange(1, 100), metavar="N", help="Most generations.")
@workers_option
@click.option("--update-docs", is_flag=True, help="Rewrite the posterior block of docs/FORECASTING.md.")
@click.option("--quiet", "-q", is_flag=True, help="Print only the posterior folder.")
def assimilate(file: Path, through: int, out: Path | None, population: int | None, generations: int | None,
               workers: int, update_docs: bool, quiet: bool) -> None:
    from simulation.assimilation.abc import assimilate as condition
    from simulation.assimilation.config import AssimilationError, load_config
    from simulation.assimilation.posterior_folder import provenance, update_document, write_posterior

    abc = {}
    if population is not None:
        abc["population"] = population
    if generations is not None:
        abc["max_generations"] = generations
    try:
        config = load_config(file, abc)
    except AssimilationError as exc:
        raise UserError(str(exc)) from None
    observed = config.observed(through)
    if not observed:
        raise UserError(f"--through {through}: no observed figures from 2021 to {through}")
    keys = config.keys_through(through)
    folder = out if out is not None else config.out / f"through-{through}"
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    if not quiet:
        click.echo(f"Assimilating {len(observed)} observed figures (2021-{through}) into {len(keys)} uncertain values "
                   f"with ABC (pyabc): {config.settings.population} particles, at most {config.settings.max_generations} "
                   f"generation(s), {config.settings.summary} as summaries, "
                   f"tolerance the {config.settings.epsilon_quantile:g} quantile of the distances, "
                   f"{workers} worker(s).", err=True)
    result = condition(config.spec_through(through), keys, observed, config.settings, workers=workers)
    command = shlex.join(["simulate", *sys.argv[1:]]) if sys.argv else "simulate assimilate"
    written = write_posterior(folder, result, config.scenario.spec,
                              provenance(config, through, command, started, workers))
    if update_docs:
        update_document(Path("docs") / "FORECASTING.md", written)
    if quiet:
        click.echo(str(written))
        return
    click.echo((written / "posterior.md").read_text(encoding="utf-8"))
    click.echo(f"Posterior: {written}  ({result.wall_time:.0f} s)")
