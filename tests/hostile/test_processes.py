"""Nothing lost, nothing left running: two runs into one folder, Ctrl-C and SIGTERM at any moment,
a full disk mid-sweep, and the partial folders a killed run leaves behind.

Real processes where processes are the point (two commands racing for a folder, SIGTERM to a
parent with workers); in this process where a signal can be sent at a chosen moment.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest
from click.testing import CliRunner

from simulation.cli import main

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "scenarios" / "baseline.toml"
SIMULATE = Path(sys.executable).with_name("simulate")
FAST = ["--set", "simulation.below_scale_ratio=0.1", "--set", "simulation.end_year=2021"]
FILES = {"data.parquet", "metrics.csv", "parameters.csv", "summary.csv", "summary.json", "scenario.toml",
         "manifest.json"}  # fmt: skip


@pytest.fixture(autouse=True)
def ctrl_c_as_in_a_terminal():
    """A background job (`cmd &`, nohup) starts with SIGINT ignored, and the command keeps what it
    finds; these tests send Ctrl-C as a terminal would, so they start from Python's own handler."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


def start(out: Path, seed: int, replicates: int = 8) -> subprocess.Popen:
    command = [str(SIMULATE), "run", str(BASELINE), "-n", str(replicates), "-j", "1", "--seed", str(seed),
               "--out", str(out), "-q", *FAST]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


# --- two runs, one folder ---------------------------------------------------------------------


@pytest.mark.parametrize("first", [0, 1])
def test_two_runs_started_together_into_one_folder(tmp_path: Path, first: int) -> None:
    """One of them writes the folder; the other is refused at once (exit 2) and writes nothing."""
    out = tmp_path / "out"
    seeds = [7, 8]
    order = [first, 1 - first]
    procs = {}
    for i in order:
        procs[i] = start(out, seeds[i])
    done = {i: (p.wait(timeout=300), *p.communicate()) for i, p in procs.items()}
    codes = sorted(rc for rc, _, _ in done.values())
    assert codes == [0, 2], done
    winner = next(i for i, (rc, _, _) in done.items() if rc == 0)
    loser_rc, loser_out, loser_err = done[1 - winner]
    assert loser_out == ""
    assert loser_err.startswith("Error: ") and loser_err.count("\n") == 1, loser_err
    assert "another simulate command is writing to" in loser_err or "already exists and is not empty" in loser_err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["root_seed"] == seeds[winner]
    assert {p.name for p in out.iterdir()} == FILES
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no partial folder left by either


@pytest.mark.parametrize("second_overwrites", [False, True])
def test_a_second_run_while_the_first_writes_is_refused(tmp_path: Path, second_overwrites: bool) -> None:
    """The second starts once the first holds the folder; even --overwrite does not take it."""
    out = tmp_path / "out"
    first = start(out, 7)
    deadline = time.monotonic() + 120
    while not out.exists():
        assert first.poll() is None and time.monotonic() < deadline, first.communicate()
        time.sleep(0.05)
    second = CliRunner().invoke(main, ["run", str(BASELINE), "-n", "1", "-j", "1", "--seed", "8", "--out", str(out),
                                       *FAST, *(["--overwrite"] if second_overwrites else [])])  # fmt: skip
    running = first.poll() is None
    assert first.wait(timeout=300) == 0, first.communicate()
    assert second.exit_code == 2, second.output
    if running:  # (on a very slow machine the first may be done: then the folder holds its results)
        assert "another simulate command is writing to" in second.stderr
    assert json.loads((out / "manifest.json").read_text())["root_seed"] == 7


# --- signals ------------------------------------------------------------------------------------


def test_sigterm_stops_every_worker_and_exits_143(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = subprocess.Popen([str(SIMULATE), "run", str(BASELINE), "-n", "40", "-j", "2", "--out", str(out), "-q"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    parent = psutil.Process(proc.pid)
    deadline = time.monotonic() + 120
    workers: list[psutil.Process] = []
    while len(workers) < 2:
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        workers = [c for c in parent.children(recursive=True) if "spawn_main" in " ".join(c.cmdline())]
        time.sleep(0.1)
    time.sleep(1.0)  # the workers are running replicates
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 143
    _, stderr = proc.communicate()
    assert stderr == "Interrupted (SIGTERM); the worker processes were stopped and no results were written.\n"
    gone, alive = psutil.wait_procs(workers, timeout=10)
    assert not alive, f"workers still running: {alive}"
    assert not out.exists()


def test_sigint_while_writing_finishes_the_results_then_exits_130(tmp_path: Path, monkeypatch) -> None:
    import simulation.reporting.writer as writer

    real = writer._write_files

    def interrupted(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C in the middle of writing
        return real(*args, **kwargs)

    monkeypatch.setattr(writer, "_write_files", interrupted)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["run", str(BASELINE), "-n", "1", "-j", "1", "--out", str(out), *FAST])
    assert result.exit_code == 130, result.output
    # after the progress lines of the run and its counterfactual: the two lines that say what happened
    assert result.stderr.endswith("\nCtrl-C: writing the results first (Ctrl-C again stops at once and loses them)\n"
                                  f"Interrupted (Ctrl-C); the results were written to {out}.\n")  # fmt: skip
    assert "Traceback" not in result.stderr
    assert {p.name for p in out.iterdir()} == FILES
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_a_second_signal_while_writing_stops_at_once_and_says_so(tmp_path: Path, monkeypatch) -> None:
    import simulation.reporting.writer as writer

    real = writer._write_files

    def twice(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.01)
        os.kill(os.getpid(), signal.SIGTERM)
        return real(*args, **kwargs)

    monkeypatch.setattr(writer, "_write_files", twice)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["run", str(BASELINE), "-n", "1", "-j", "1", "--out", str(out), *FAST])
    assert result.exit_code == 143, result.output
    assert result.stderr.endswith("Interrupted (SIGTERM); the results were not written.\n"), result.stderr
    assert list(tmp_path.iterdir()) == []  # neither the claimed folder nor a partial one is left


@pytest.mark.parametrize("signum, code, name", [(signal.SIGINT, 130, "Ctrl-C"), (signal.SIGTERM, 143, "SIGTERM")])
def test_a_signal_at_start_up_exits_with_its_code(tmp_path: Path, monkeypatch, signum: int, code: int,
                                                  name: str) -> None:  # fmt: skip
    import simulation.scenario as scenario

    real = scenario.load_scenario

    def interrupted(*args, **kwargs):
        os.kill(os.getpid(), signum)  # while the scenario is read
        return real(*args, **kwargs)

    monkeypatch.setattr(scenario, "load_scenario", interrupted)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["run", str(BASELINE), "-n", "1", "-j", "1"])
    assert result.exit_code == code
    assert result.stderr == f"Interrupted ({name}); stopped before anything was written.\n"
    assert list(tmp_path.iterdir()) == []
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the command put the handlers back


# --- what a killed run leaves behind -------------------------------------------------------------


def test_stale_partial_folders_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    stale = tmp_path / ".old-run.partial-abcd1234"
    stale.mkdir()
    (stale / "data.parquet").write_bytes(b"x" * 1000)
    live = tmp_path / ".other-run.partial-wxyz5678"  # another command is writing it: locked
    live.mkdir()
    fd = os.open(live, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    mine = tmp_path / "notes.partial-12345678"  # not hidden: not ours
    mine.mkdir()
    try:
        result = CliRunner().invoke(main, ["run", str(BASELINE), "-n", "1", "-j", "1", "--out", str(tmp_path / "out"),
                                           *FAST])  # fmt: skip
    finally:
        os.close(fd)
    assert result.exit_code == 0, result.output
    assert f"Note: removed {stale.name}, left behind by a command that was killed while writing." in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, mine.name, "out"])


# --- a full disk in the middle of a sweep ---------------------------------------------------------

EXPERIMENT = """
scenario = "{baseline}"
replicates = 2
outcomes = ["cagr", "city_cagr"]
[design]
method = "grid"
[parameters]
"levers.talent.subsidy" = {{ levels = [0.0, 0.02, 0.04, 0.06] }}
"""
ONE_STEP = ["--set", "simulation.below_scale_ratio=0.0", "--set", "simulation.end_year=2021",
            "--set", "simulation.steps_per_year=1"]  # fmt: skip


def test_a_full_disk_mid_sweep_keeps_what_was_written_and_says_how_to_go_on(tmp_path: Path, monkeypatch) -> None:
    import simulation.experiments.sweep as sweep

    exp = tmp_path / "exp.toml"
    exp.write_text(EXPERIMENT.format(baseline=BASELINE.as_posix()), encoding="utf-8")
    out = tmp_path / "out"
    real, parts = sweep._atomic, []

    def filling(path: Path, write) -> None:  # the second part fills the disk: no new file fits any more
        if path.name.startswith("part-"):
            parts.append(path)
        if len(parts) >= 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path, write)

    monkeypatch.setattr(sweep, "_atomic", filling)
    args = ["sweep", str(exp), "--out", str(out), "-j", "1", "-q", "--checkpoint", "0", *ONE_STEP]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    assert result.stderr == (f"Error: could not write to {out} (No space left on device); every run written before "
                             f"is kept: make room and continue with simulate sweep {exp} --out {out} --resume\n")
    manifest = json.loads((out / "manifest.json").read_text())  # rewritten in place: no new file needed
    assert manifest["status"] == "interrupted" and manifest["sessions"][-1]["status"] == "interrupted"
    assert manifest["ok"] == 1 and manifest["missing"] == 7
    assert not list(out.rglob(".*.tmp"))

    monkeypatch.setattr(sweep, "_atomic", real)  # room again
    resumed = CliRunner().invoke(main, [*args, "--resume"])
    assert resumed.exit_code == 0, resumed.output
    whole = CliRunner().invoke(main, ["sweep", str(exp), "--out", str(tmp_path / "whole"), "-j", "1", "-q", *ONE_STEP])
    assert whole.exit_code == 0, whole.output
    columns = ["point", "replicate", "seed", "cagr_semi", "city_cagr"]

    def runs(folder: Path) -> pd.DataFrame:
        frame = pd.read_parquet(folder / "runs", columns=columns)
        return frame.sort_values(["point", "replicate"]).reset_index(drop=True)

    pd.testing.assert_frame_equal(runs(out), runs(tmp_path / "whole"))
