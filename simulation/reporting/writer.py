"""Write a run's results folder, all at once.

A results folder holds::

    data.parquet     tidy long-format series (see simulation.reporting.tables), always
    data.csv         the same as CSV (UTF-8, empty field = missing), if [outputs] formats lists "csv"
                     (``simulate run --csv``): large and slow to write, so only when asked
    metrics.csv      scope, metric, kind, unit and description of every metric in the data
    parameters.csv   one row per replicate: its seed and every drawn uncertain parameter
    summary.csv      one row per cluster and one for the city (simulation.experiments.summary)
    summary.json     the same, nested, with the definitions and targets used
    scenario.toml    the resolved scenario (after extends and --set): rerunnable as it is
    manifest.json    provenance: scenario hash, seeds, versions, git commit, command, times, host

``manifest.json`` keys: scenario (name, path, sha256, sources, overrides, description),
root_seed, replicates, seeds, workers, versions, git (commit, dirty), command, started, ended
(ISO 8601, local time with offset), wall_time_seconds (loading, replicates and summary; writing
excluded), hostname, platform, cpu_count, files (bytes and sha256 of every other file).

Everything but ``manifest.json`` is a deterministic function of the scenario, the seeds and the
package versions: the same run writes byte-identical files whatever the number of workers.
Only the manifest holds timestamps, the host and the wall time.

Files go to a hidden temporary folder next to the target, which is renamed into place at the
end, so a crash or a full disk never leaves a half-written results folder behind. The folder is
claimed (locked) for the writer, and an existing non-empty folder is replaced only with
``overwrite=True`` and only if it holds results (:mod:`simulation.reporting.claim`).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shlex
import socket
import subprocess
import sys
from collections.abc import Sequence
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from simulation.model.results import ReplicateResult
from simulation.reporting.claim import Claim, ResultsFolderError, claim  # noqa: F401 (ResultsFolderError: raised here)
from simulation.reporting.tables import metric_units, parameters_frame, tidy_frame

PROJECT = "dongguan-clusters"
VERSIONED = ("mesa", "numpy", "scipy", "pandas", "pyarrow", "pydantic", "click", "rich", "tomlkit")
PARQUET_OPTIONS = {"compression": "zstd", "compression_level": 3}


def write_results(
    folder: str | Path,
    scenario: Any,
    seeds: Sequence[int],
    results: Sequence[ReplicateResult],
    summary: Any,
    wall_time: float,
    overwrite: bool = False,
    *,
    workers: int | None = None,
    started: datetime | None = None,
    command: Sequence[str] | None = None,
    claimed: Claim | None = None,
) -> Path:
    """Write the results folder (see the module docstring) and return its path.

    ``scenario`` is the loaded Scenario; ``summary`` a :class:`simulation.experiments.summary.Summary`
    or None (its files are then left out). ``claimed``: the folder's claim, if the caller claimed it
    before computing (see :mod:`simulation.reporting.claim`); else it is claimed here. Raises
    :class:`ResultsFolderError` if the folder cannot be used and OSError if writing fails; nothing
    is left behind in either case.
    """
    held = claimed if claimed is not None else claim(folder, overwrite)
    try:
        ended = datetime.now().astimezone()
        with held.writing() as temp:
            files = _write_files(temp, scenario, results, summary)
            manifest = _manifest(scenario, seeds, results, workers, started, ended, wall_time, command, files)
            _write_text(temp / "manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    finally:
        if claimed is None:
            held.release()
    return held.folder


# --- the files ------------------------------------------------------------------------------


def _write_files(temp: Path, scenario: Any, results: Sequence[ReplicateResult], summary: Any) -> dict[str, Path]:
    spec = scenario.spec
    files: dict[str, Path] = {}
    table = pa.Table.from_pandas(tidy_frame(results, spec), preserve_index=False)
    files["data.parquet"] = temp / "data.parquet"
    pq.write_table(table, files["data.parquet"], **PARQUET_OPTIONS)
    if "csv" in spec.outputs.formats:
        import pyarrow.csv as pa_csv

        files["data.csv"] = temp / "data.csv"
        pa_csv.write_csv(table, files["data.csv"])
    del table
    files["metrics.csv"] = temp / "metrics.csv"
    _write_text(files["metrics.csv"], metric_units().to_csv(index=False, lineterminator="\n"))
    files["parameters.csv"] = temp / "parameters.csv"
    _write_text(files["parameters.csv"], parameters_frame(results).to_csv(index=False, lineterminator="\n"))
    if summary is not None:
        files["summary.csv"] = temp / "summary.csv"
        _write_text(files["summary.csv"], summary.table.to_csv(index=False, lineterminator="\n"))
        files["summary.json"] = temp / "summary.json"
        text = json.dumps(summary.data, indent=2, ensure_ascii=False, allow_nan=False)
        _write_text(files["summary.json"], text + "\n")
    files["scenario.toml"] = temp / "scenario.toml"
    _write_text(files["scenario.toml"], scenario.text)
    return files


def _write_text(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)


# --- the manifest ---------------------------------------------------------------------------


def _manifest(
    scenario: Any,
    seeds: Sequence[int],
    results: Sequence[ReplicateResult],
    workers: int | None,
    started: datetime | None,
    ended: datetime,
    wall_time: float,
    command: Sequence[str] | None,
    files: dict[str, Path],
) -> dict[str, Any]:
    spec = scenario.spec
    return {
        "scenario": {
            "name": scenario.name,
            "path": str(scenario.path),
            "sha256": scenario.sha256,
            "sources": [str(p) for p in getattr(scenario, "sources", ())],
            "overrides": list(getattr(scenario, "overrides", ())),
            "description": spec.description,
        },
        "root_seed": spec.simulation.seed,
        "replicates": len(results),
        "seeds": [int(s) for s in seeds],
        "workers": workers,
        "versions": versions(),
        "git": git_state(),
        "command": shlex.join(sys.argv if command is None else command),
        "started": started.isoformat(timespec="seconds") if started else None,
        "ended": ended.isoformat(timespec="seconds"),
        "wall_time_seconds": round(float(wall_time), 3),
        "hostname": socket.gethostname(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "files": {name: {"bytes": path.stat().st_size, "sha256": _sha256(path)} for name, path in files.items()},
    }


def versions() -> dict[str, str]:
    """Versions of Python, the project and the libraries whose behaviour the results depend on."""
    out = {"python": platform.python_version()}
    for name in (PROJECT, *VERSIONED):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "unknown"
    return out


def git_state() -> dict[str, Any]:
    """Commit of the checkout the ``simulation`` package runs from, and whether tracked files differ.

    Untracked files (results folders, scratch scenarios) do not count as dirty. Outside a git
    checkout (an installed wheel) both are "unknown".
    """
    here = Path(__file__).resolve().parent

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", *args], cwd=here, capture_output=True, text=True, timeout=10, check=False
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return {"commit": "unknown", "dirty": "unknown"}
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": "unknown" if status is None else bool(status)}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
