"""Progress: plain lines in a log, a bar on a terminal, nothing when off; the CLI's long commands report it."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

from simulation.experiments import progress as progress_module
from simulation.experiments.progress import Progress, choose_mode, clock, in_notebook

ROOT = Path(__file__).resolve().parents[1]
SIMULATE = Path(sys.executable).with_name("simulate")
LINE = re.compile(r"^(?P<label>.+): (?P<done>\d+)/(?P<total>\d+) (?P<unit>\w+) \((?P<pct>\d+)%\)"
                  r"(?:, (?P<failed>\d+) failed)?, elapsed \d+:\d\d:\d\d, left (?:\?|\d+:\d\d:\d\d)$")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_log_gets_a_line_at_the_start_about_every_tenth_and_at_the_end() -> None:
    log = io.StringIO()
    with Progress("Run baseline", 40, stream=log) as bar:
        assert bar.mode == "lines"  # not a terminal, not Jupyter
        for _ in range(40):
            bar.advance()
    lines = log.getvalue().splitlines()
    matches = [LINE.match(line) for line in lines]
    assert all(matches), lines
    done = [int(m["done"]) for m in matches]
    assert done == [0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40]
    assert {m["label"] for m in matches} == {"Run baseline"} and {m["unit"] for m in matches} == {"replicates"}
    assert lines[-1].startswith("Run baseline: 40/40 replicates (100%)")


def test_lines_count_failures_and_a_resumed_start() -> None:
    log = io.StringIO()
    with Progress("Sweep grid", 200, unit="runs", mode="lines", done=100, failed=2, stream=log) as bar:
        bar.advance(50, failed=3)
        bar.advance(50)
    lines = log.getvalue().splitlines()
    assert lines[0].startswith("Sweep grid: 100/200 runs (50%), 2 failed")
    assert lines[-1].startswith("Sweep grid: 200/200 runs (100%), 5 failed")


def test_a_line_at_least_once_a_minute(monkeypatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(progress_module.time, "monotonic", lambda: now[0])
    log = io.StringIO()
    bar = Progress("Calibrate: design", 1000, mode="lines", stream=log)
    bar.advance(1)  # 0.1 %: too soon for a line
    now[0] += 61
    bar.advance(1)  # a minute later: a line although far from the next tenth
    lines = log.getvalue().splitlines()
    assert [LINE.match(x)["done"] for x in lines] == ["0", "2"]
    assert lines[-1].endswith("elapsed 0:01:01, left 8:27:19")  # 61 s for 2: 30.5 s each, 998 to go


def test_a_terminal_gets_a_bar_and_off_is_silent() -> None:
    term = Terminal()
    with Progress("Run baseline", 10, stream=term) as bar:
        assert bar.mode == "bar"
        bar.advance(10)
    assert "Run baseline" in term.getvalue() and "10/10" in term.getvalue() and "replicates" in term.getvalue()
    quiet = io.StringIO()
    with Progress("Run baseline", 10, mode=False, stream=quiet) as bar:
        bar.advance(10)
    assert quiet.getvalue() == ""


def test_mode_names_and_the_notebook_check() -> None:
    assert choose_mode(True, io.StringIO()) == "lines" and choose_mode(True, Terminal()) == "bar"
    assert choose_mode(False) == choose_mode(None) == "off" and choose_mode("notebook") == "notebook"
    with pytest.raises(ValueError, match="progress mode"):
        choose_mode("fancy")
    assert not in_notebook()  # pytest is not a Jupyter kernel (the notebook test runs one)
    assert clock(3725.4) == "1:02:05"


def test_simulate_run_reports_progress_in_a_log(tmp_path: Path) -> None:
    done = subprocess.run([str(SIMULATE), "run", str(ROOT / "scenarios" / "baseline.toml"), "-n", "3", "-j", "1",
                           "--set", "simulation.end_year=2022", "--out", str(tmp_path / "r")],
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = [x for x in done.stderr.splitlines() if LINE.match(x)]
    assert lines[0].startswith("Run baseline: 0/3 replicates")
    assert any(x.startswith("Run baseline: 3/3 replicates") for x in lines)
    assert lines[-1].startswith("Run business_as_usual: 3/3 replicates")  # then the counterfactual's
    quiet = subprocess.run([str(SIMULATE), "run", str(ROOT / "scenarios" / "baseline.toml"), "-n", "1", "-j", "1",
                            "--set", "simulation.end_year=2022", "--out", str(tmp_path / "q"), "--quiet"],
                           capture_output=True, text=True, timeout=300)  # fmt: skip
    assert quiet.returncode == 0 and quiet.stderr == ""
