"""``simulate validate``: run a scenario and score it against the calibration targets."""

from __future__ import annotations

import csv
import math
import shlex
import time
from pathlib import Path

import click

from simulation.cli.base import (
    CONTEXT,
    RunError,
    UserError,
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

REPO = Path(__file__).resolve().parents[2]
DEFAULT_SCENARIO = Path("scenarios/baseline.toml")
DEFAULT_DOCS = Path("docs/VALIDATION.md")
DEFAULT_REPLICATES = 40


def _default(path: Path) -> Path:
    """``path`` from the current directory, else from the repository this package lives in."""
    return path if path.exists() or not (REPO / path).exists() else REPO / path


@main.command(
    context_settings=CONTEXT,
    help="""Score SCENARIO against the validation targets; exit code 0 when every moment passes.

Runs the replicates with the validation simulator (the model's own steps, with the firm table
kept for firm-level moments), prints the scorecard (each pattern and 2021 data point: target,
band, median and 90 % interval across replicates, share of replicates in the band, pass or
fail) and writes scorecard.csv, scorecard.md and replicates.csv (every replicate's moments) to
the output folder. A moment passes when the median across replicates lies in its band; the
bands and their reasons are in docs/VALIDATION.md. Exit code 1 when any moment fails, 2 on
bad input. SCENARIO defaults to scenarios/baseline.toml.

\b
Examples:
  simulate validate
  simulate validate scenarios/historical.toml --replicates 80 --workers 2
  simulate validate --uncalibrated             # the baseline's priors, before calibration
  simulate validate --set uncertainties.behaviour.productivity_volatility=0.1
  simulate validate --update-docs              # rewrite docs/VALIDATION.md's table
""",
)
@click.argument("scenario", type=click.Path(path_type=Path), required=False)
@click.option("--replicates", "-n", type=int, metavar="N", default=DEFAULT_REPLICATES, show_default=True,
              help="Number of replicates (the scenario's own count is not used).")
@seed_option
@workers_option
@click.option("--out", "-o", type=click.Path(path_type=Path, file_okay=False), metavar="DIR",
              help="Output folder.  [default: results/validate-<scenario>-<YYYYmmdd-HHMMSS>]")
@set_option
@click.option("--uncalibrated", is_flag=True,
              help="Leave out the scenario's [calibration] section: score the priors, as the calibration starts.")
@click.option("--update-docs", is_flag=True,
              help="Also rewrite the scorecard block of --docs (between <!-- scorecard:start/end -->).")
@click.option("--docs", type=click.Path(path_type=Path, dir_okay=False), metavar="FILE",
              help="The document --update-docs rewrites.  [default: docs/VALIDATION.md]")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no table: print only the verdict line.")
def validate(
    scenario: Path | None,
    replicates: int,
    seed: int | None,
    workers: int,
    out: Path | None,
    overrides: tuple[str, ...],
    uncalibrated: bool,
    update_docs: bool,
    docs: Path | None,
    quiet: bool,
) -> None:
    from simulation.analysis import scorecard as sc
    from simulation.experiments.seeds import replicate_seeds

    clock = time.perf_counter()
    scenario = scenario if scenario is not None else _default(DEFAULT_SCENARIO)
    options, named = replicate_options(overrides, replicates, seed)
    loaded = load_or_fail(scenario, options, named, calibrated=not uncalibrated)
    spec = loaded.spec
    if update_docs:
        docs = docs if docs is not None else _default(DEFAULT_DOCS)
        text = _read_docs(docs)
        if sc.DOC_START not in text or sc.DOC_END not in text:
            raise UserError(f"--docs {docs}: no {sc.DOC_START} … {sc.DOC_END} block to rewrite")

    command = _command(scenario, replicates, spec.simulation.seed, overrides, uncalibrated)
    seeds = replicate_seeds(spec.simulation.seed, spec.simulation.replicates)
    with claim_results(out, f"validate-{loaded.name}", hint="", quiet=quiet) as claimed:
        with replicates_or_fail("no scorecard was written"):
            card = sc.run_scorecard(spec, loaded.name, seeds, spec.simulation.seed, min(workers, len(seeds)),
                                    progress=not quiet, command=command)
        folder = claimed.folder
        with signals_held("the scorecard's files") as held:
            try:
                with claimed.writing() as temp:
                    sc.write(card, temp)
                    _write_replicates(temp / "replicates.csv", seeds, card.values)
            except OSError as exc:
                raise RunError(f"could not write the scorecard to {folder}: {exc.strerror or exc}") from None
            held["written"] = folder
            if update_docs:
                docs.write_text(sc.update_document(_read_docs(docs), card), encoding="utf-8")

    wall = time.perf_counter() - clock
    passed = sum(r.passed for r in card.rows)
    verdict = (f"{'PASS' if card.passed else 'FAIL'}: {passed} of {len(card.rows)} moments pass"
               + ("" if card.passed else f" (failing: {', '.join(card.failed)})"))
    if not quiet:
        import sys

        from rich.console import Console

        console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
        console.print(sc.rich_table(card))
        console.print(f"Scorecard: {folder} ({len(seeds)} replicates in {wall:.1f} s)"
                      + (f"; updated {docs}" if update_docs else ""))
    click.echo(verdict)
    if not card.passed:
        raise click.exceptions.Exit(1)


def _read_docs(docs: Path) -> str:
    from simulation.scenario.toml_files import ScenarioError, read_text_file

    try:
        return read_text_file(docs, "a Markdown document")
    except ScenarioError as exc:
        raise UserError(f"--docs {exc}") from None


def _command(scenario: Path, replicates: int, seed: int, overrides: tuple[str, ...], uncalibrated: bool) -> str:
    parts = ["simulate", "validate", str(scenario), "--replicates", str(replicates), "--seed", str(seed)]
    if uncalibrated:
        parts.append("--uncalibrated")
    for o in overrides:
        parts += ["--set", o]
    return shlex.join(parts)


def _write_replicates(path: Path, seeds: list[int], values: list[dict[str, float]]) -> None:
    from simulation.analysis.moments import MOMENT_IDS

    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["replicate", "seed", *MOMENT_IDS])
        for i, (s, v) in enumerate(zip(seeds, values)):
            w.writerow([i, s, *("" if not math.isfinite(v[k]) else repr(v[k]) for k in MOMENT_IDS)])
