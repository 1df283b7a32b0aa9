"""A small results folder shared by the chart, report and compare tests (made once per session).

Not a conftest: pytest imports this module from the tests folder; the folder is built once in
the session's base temporary directory and reused by every test module that asks for it.
"""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"
SMALL = ["--replicates", "12", "--set", "simulation.below_scale_ratio=0.2", "--workers", "2"]


def small_results(tmp_path_factory) -> Path:
    """A baseline run with 12 replicates at reduced size (towns and quarterly series included)."""
    from simulation.cli import main

    folder = tmp_path_factory.getbasetemp() / "small-baseline"
    if (folder / "manifest.json").is_file():
        return folder
    done = CliRunner().invoke(main, ["run", str(BASELINE), *SMALL, "--out", str(folder), "--quiet",
                                     "--set", 'outputs.formats=["parquet"]'])
    assert done.exit_code == 0, done.output
    return folder
