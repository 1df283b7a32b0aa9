"""``simulate backtest``: forecast from past origins with only the data known then, and score."""

from __future__ import annotations

import json
import shlex
import sys
import time
from datetime import datetime
from pathlib import Path

import click

from simulation.cli.base import CONTEXT, UserError, default_folder, main, workers_option

DEFAULT_FILE = Path("experiments") / "assimilate.toml"
DOC = Path("docs") / "FORECASTING.md"


@main.command(
    context_settings=CONTEXT,
    help="""Forecast the observed statistics from past origins and score the forecasts.

For each --origin year Y: condition the scenario on the figures observed from 2021 to Y
(`simulate assimilate --through Y`, reusing posteriors/through-Y when it was made from the same
scenario and settings; origin 2020 keeps the priors), run --replicates forward to the last
observed year, and score every later observed figure (inside the 50 % and 90 % bands, the
continuous ranked probability score, the sign of growth) beside a random walk, a random walk with
drift and an AR(1) fitted on the same history. Writes a folder with the forecasts, the scored
table, a summary and fan charts; --update-docs rewrites the table in docs/FORECASTING.md.

\b
Examples:
  simulate backtest --origin 2020 --origin 2021 --origin 2022 --update-docs
  simulate backtest --origin 2021 --replicates 50 --population 40 --generations 3   # a quick look
""",
)
@click.argument("file", type=click.Path(path_type=Path), default=DEFAULT_FILE, required=False)
@click.option("--origin", "origins", type=click.IntRange(2020, 2100), multiple=True, required=True, metavar="YEAR",
              help="Forecast origin (the last year whose data may be used); repeatable.")
@click.option("--replicates", "-n", type=click.IntRange(2, 100_000), default=200, show_default=True, metavar="N",
              help="Model replicates per origin.")
@click.option("--population", type=click.IntRange(10, 100_000), metavar="N", help="ABC particles a generation.")
@click.option("--generations", type=click.IntRange(1, 100), metavar="N", help="Most ABC generations.")
@workers_option
@click.option("--out", "-o", type=click.Path(path_type=Path, file_okay=False), metavar="DIR",
              help="Results folder.  [default: results/backtest-<YYYYmmdd-HHMMSS>]")
@click.option("--update-docs", is_flag=True, help=f"Rewrite the backtest table in {DOC}.")
@click.option("--charts/--no-charts", default=True, show_default=True, help="Write fan charts (en, zh).")
@click.option("--quiet", "-q", is_flag=True, help="Print only the results folder.")
def backtest(file: Path, origins: tuple[int, ...], replicates: int, population: int | None, generations: int | None,
             workers: int, out: Path | None, update_docs: bool, charts: bool, quiet: bool) -> None:
    from simulation.assimilation.abc import assimilate as condition
    from simulation.assimilation.backtest import forecasts, posterior_matches
    from simulation.assimilation.config import AssimilationError, load_config
    from simulation.assimilation.posterior_folder import provenance, write_posterior
    from simulation.experiments.seeds import replicate_seeds
    from simulation.forecasting import backtest_table as bt
    from simulation.reporting.writer import git_state, versions

    started = datetime.now().astimezone()
    clock = time.perf_counter()
    abc = {k: v for k, v in (("population", population), ("max_generations", generations)) if v is not None}
    try:
        config = load_config(file, abc)
    except AssimilationError as exc:
        raise UserError(str(exc)) from None
    last = max(int(k.split(":")[1]) for k in config.observed(2100))
    bad = [o for o in origins if o >= last]
    if bad:
        raise UserError(f"--origin {bad[0]}: nothing is observed after it (the last observed year is {last})")
    folder = out if out is not None else default_folder("backtest", started)
    if folder.exists() and any(folder.iterdir()):
        raise UserError(f"{folder}: exists and is not empty; choose another --out")
    settings = vars(config.settings)
    posteriors: dict[int, Path | None] = {}
    for origin in sorted(set(origins)):
        if origin < 2021:
            posteriors[origin] = None
            continue
        target = config.out / f"through-{origin}"
        if posterior_matches(target, config.scenario.sha256, settings, origin):
            posteriors[origin] = target
            if not quiet:
                click.echo(f"Origin {origin}: reusing the posterior in {target}", err=True)
            continue
        if not quiet:
            click.echo(f"Origin {origin}: assimilating 2021-{origin} ({config.settings.population} particles, "
                       f"at most {config.settings.max_generations} generation(s), tolerance the "
                       f"{config.settings.epsilon_quantile:g} quantile of the distances)", err=True)
        result = condition(config.spec_through(origin), config.keys_through(origin), config.observed(origin),
                           config.settings, workers=workers)
        made = provenance(config, origin, f"simulate assimilate {config.path} --through {origin}",
                          started.isoformat(timespec="seconds"), workers)
        posteriors[origin] = write_posterior(target, result, config.scenario.spec, made)

    def spec_for(origin: int):
        post = posteriors[origin]
        return config.scenario.spec.model_copy(update={"posterior": str(post.resolve()) if post else ""})

    seeds = replicate_seeds(config.scenario.spec.simulation.seed, replicates)
    table = bt.score(forecasts(spec_for, sorted(posteriors), seeds, workers, progress=not quiet))
    summary = bt.summarise(table)
    folder.mkdir(parents=True, exist_ok=True)
    bt.write_table(table, folder / "backtest.csv")
    summary.to_csv(folder / "summary.csv", index=False)
    command = shlex.join(["simulate", *sys.argv[1:]]) if sys.argv else "simulate backtest"
    manifest = {
        "kind": "backtest", "command": command, "origins": sorted(posteriors),
        "posteriors": {str(k): (str(v) if v else None) for k, v in posteriors.items()},
        "replicates": replicates, "root_seed": config.scenario.spec.simulation.seed,
        "scenario": str(config.scenario.path), "scenario_sha256": config.scenario.sha256,
        "started": started.isoformat(timespec="seconds"), "wall_time_seconds": round(time.perf_counter() - clock, 1),
        "versions": versions(), "git": git_state(),
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if charts:
        from simulation.reporting.charts import backtest as backtest_charts

        facts = {"replicates": replicates, "root_seed": manifest["root_seed"], "date": manifest["started"]}
        backtest_charts.write(folder / "backtest.csv", folder / "charts", provenance=facts)
    if update_docs:
        bt.update_file(DOC, table, command, summary)
    if quiet:
        click.echo(str(folder))
        return
    model = summary[(summary["source"] == bt.MODEL) & (summary["series"] == bt.ALL)]
    if len(model):
        row = model.iloc[0]
        click.echo(f"Model: {int(row['n'])} figures scored; inside the 50 % band {row['inside_50']:.0%}, inside the "
                   f"90 % band {row['inside_90']:.0%}, sign right {row['sign_right']:.0%} of {int(row['n_sign'])}.")
    click.echo(f"Backtest: {folder}  ({time.perf_counter() - clock:.0f} s)")
