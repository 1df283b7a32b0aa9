"""The hostile corpus: every bad input we know of, run through `simulate` in this process.

Each case of ``cases.toml`` gives the arguments, the files to prepare, the exit code and a pattern
the message must match. Every case must also: print no traceback; say what went wrong in exactly
one ``Error:`` line (control characters escaped); and, when refused (exit 2), leave the working
folder as it found it (no half-made results folder) and every file the case protects unchanged.

Placeholders in arguments and file contents: ``{root}`` the repository, ``{baseline}`` its
baseline scenario, ``{files}`` this folder's ``files/`` (hostile inputs too odd to write inline),
``{tmp}`` the case's own temporary folder (also the working folder).

``make`` prepares what a TOML file cannot hold: ``fifo:PATH`` a named pipe, ``big:PATH`` a 2 MB
file, ``folder:PATH`` a person's file (and its folder), ``results:PATH`` an earlier results
folder, ``claimed:PATH`` a folder another command is writing to (its lock held meanwhile).
``patch`` sets module attributes for the case (a shorter timeout).
"""

from __future__ import annotations

import importlib
import os
import re
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from simulation.cli import main

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CASES = tomllib.loads((HERE / "cases.toml").read_text(encoding="utf-8"))["case"]
KEYS = {"id", "from", "args", "write", "make", "patch", "exit", "stderr", "not_stderr", "unchanged", "absent"}


def expand(text: str, tmp: Path) -> str:
    places = {"root": ROOT, "baseline": ROOT / "scenarios" / "baseline.toml", "files": HERE / "files", "tmp": tmp}
    return re.sub(r"\{(root|baseline|files|tmp)\}", lambda m: places[m[1]].as_posix(), text)


def make(spec: str, tmp: Path, held: list) -> None:
    kind, _, where = spec.partition(":")
    path = Path(expand(where, tmp))
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "big":
        path.write_bytes(b"# padding\n" * 200_000)
    elif kind == "folder":
        path.write_text("two years of work\n", encoding="utf-8")
    elif kind == "claimed":
        from simulation.reporting.claim import claim

        held.append(claim(path, resume=True))  # whatever it holds
    elif kind == "results":
        path.mkdir()
        (path / "manifest.json").write_text('{"scenario": {"name": "old"}}\n', encoding="utf-8")
        (path / "summary.csv").write_text("cluster\n", encoding="utf-8")
    else:
        raise ValueError(f"unknown make {spec!r}")


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every path under ``folder`` with the content of its regular files."""
    out = {}
    for path in sorted(folder.rglob("*")):
        regular = path.is_file() and not path.is_symlink() and not path.is_fifo()
        out[str(path.relative_to(folder))] = path.read_bytes() if regular else None
    return out


def test_every_case_is_well_formed() -> None:
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    for case in CASES:
        assert set(case) <= KEYS, (case["id"], set(case) - KEYS)
        assert {"id", "from", "args", "exit", "stderr"} <= set(case), case["id"]
        re.compile(case["stderr"])


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_hostile_input(case: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SIMULATE_DEBUG", raising=False)
    for name, text in case.get("write", {}).items():
        (tmp_path / name).write_text(expand(text, tmp_path), encoding="utf-8")
    held: list = []
    for spec in case.get("make", []):
        make(spec, tmp_path, held)
    for claim in held:
        monkeypatch.setattr(claim, "created", False)  # another command's folder: not this test's to remove
    for target, value in case.get("patch", {}).items():
        module, _, attribute = target.rpartition(".")
        monkeypatch.setattr(importlib.import_module(module), attribute, value)
    before = snapshot(tmp_path)

    try:
        result = CliRunner().invoke(main, [expand(a, tmp_path) for a in case["args"]])
    finally:
        for claim in held:
            claim.release()

    stderr = result.stderr
    assert result.exit_code == case["exit"], (result.exit_code, stderr, result.stdout[-2000:])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    assert re.search(case["stderr"], stderr), stderr
    if "not_stderr" in case:
        assert not re.search(case["not_stderr"], stderr), stderr
    errors = [line for line in stderr.splitlines() if line.startswith("Error:")]
    if case["exit"] == 2:
        assert len(errors) == 1 and stderr.endswith(errors[0] + "\n"), f"one Error line, last:\n{stderr}"
        assert errors[0].isprintable(), errors[0]
        assert snapshot(tmp_path) == before, "a refused command changed the working folder"
    for path in case.get("unchanged", []):
        key = str(Path(expand(path, tmp_path)).relative_to(tmp_path))
        assert snapshot(tmp_path).get(key) == before[key], f"{key} changed"
    for path in case.get("absent", []):
        assert not Path(expand(path, tmp_path)).exists(), path
