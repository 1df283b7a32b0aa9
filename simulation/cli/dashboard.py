"""``simulate dashboard``: the interactive view (Mesa SolaraViz) in the browser."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click

from simulation.cli.base import CONTEXT, UserError, load_or_fail, main, seed_option, set_option, workers_option


@main.command(
    context_settings=CONTEXT,
    help="""Open an interactive dashboard of SCENARIO in the browser (Mesa SolaraViz).

Sliders for the levers and the seed (applied on Reset), play and step through one replicate
quarter by quarter, the clusters' revenue against the 10 % target path, the town map coloured
by growth or vacancy, and the chance of meeting the targets from a batch of replicates run on
demand. SCENARIO defaults to scenarios/baseline.toml. Stop it with Ctrl-C.

\b
Examples:
  simulate dashboard                                   # the baseline, at http://localhost:8765
  simulate dashboard scenarios/no_policy.toml --port 8800 --no-open
  simulate dashboard --set simulation.end_year=2023
""",
)
@click.argument("scenario", type=click.Path(path_type=Path), required=False)
@seed_option
@workers_option
@set_option
@click.option("--host", default="localhost", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="Port to listen on (0: any free port).")
@click.option("--open/--no-open", "open_browser", default=True, show_default=True,
              help="Open the page in a browser.")
def dashboard(scenario: Path | None, seed: int | None, workers: int, overrides: tuple[str, ...], host: str,
              port: int, open_browser: bool) -> None:
    from simulation.scenario.overrides import default_scenario

    scenario = scenario if scenario is not None else default_scenario()
    loaded = load_or_fail(scenario, overrides)  # bad input: one line and exit 2, before the server starts
    if seed is not None and not 0 <= seed < 2**32:
        raise UserError(f"--seed {seed}: must be between 0 and 2**32 - 1")
    settings = {"scenario": str(loaded.path.resolve()), "overrides": list(overrides), "seed": seed,
                "workers": workers}
    # no telemetry and no version check: the page and its assets are all served from this machine
    env = {**os.environ, "SIMULATE_DASHBOARD": json.dumps(settings), "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false"}
    command = [sys.executable, "-m", "solara", "run", "simulation.dashboard.app", "--host", host, "--port",
               str(port), "--production", "--no-check-version", "--open" if open_browser else "--no-open"]
    click.echo(f"Dashboard of {loaded.name} at http://{host}:{port} (Ctrl-C to stop)", err=True)
    server = subprocess.Popen(command, env=env)
    try:
        code = server.wait()
    except KeyboardInterrupt:  # the server got the Ctrl-C too and is stopping
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.terminate()
        raise click.exceptions.Exit(130) from None
    if code:
        raise click.exceptions.Exit(code)
