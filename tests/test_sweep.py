"""Sweeps: a 200-run sweep with a progress bar, SIGKILL and --resume, failures, and bad experiment files."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
import tracemalloc
from pathlib import Path

import pandas as pd
import psutil
import pytest
from click.testing import CliRunner

from simulation.cli import main
from simulation.experiments import sweep_outcomes
from simulation.experiments.design import Parameter, make_design
from simulation.experiments.experiment_file import ExperimentError, load_experiment
from simulation.experiments.seeds import replicate_seeds
from simulation.experiments.sweep import LocalBackend, SweepError, SweepPlan, run_sweep
from simulation.experiments.sweep_outcomes import point_spec
from simulation.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"
SIMULATE = Path(sys.executable).with_name("simulate")
FAST_SET = """
[set]
"simulation.below_scale_ratio" = 0.0   # above-scale firms only: faster runs
"simulation.end_year" = 2021           # one year
"simulation.steps_per_year" = 1        # in one step
"""


def experiment(tmp: Path, body: str, name: str = "exp.toml", fast: bool = True) -> Path:
    """An experiment file in ``tmp`` on the real baseline scenario."""
    path = tmp / name
    text = f'scenario = "{BASELINE.as_posix()}"\n' + textwrap.dedent(body) + (FAST_SET if fast else "")
    path.write_text(text, encoding="utf-8")
    return path


GRID_200 = """
description = "200 runs: 40 points x 5 replicates"
replicates = 5
outcomes = ["cagr", "hit", "city_cagr", "fiscal_cost"]

[design]
method = "grid"

[parameters]
"levers.land.redevelopment_mu_per_year" = { levels = [0, 2500, 5000, 7500, 10000, 12500, 15000, 17500, 20000, 25000] }
"levers.talent.subsidy" = { levels = [0.0, 0.02, 0.04, 0.06] }
"""


def runs(folder: Path) -> pd.DataFrame:
    """The documented one-liner, then sorted for comparison."""
    frame = pd.read_parquet(folder / "runs")
    return frame.sort_values(["point", "replicate"]).reset_index(drop=True)


def run_with_pty(command: list[str], cwd: Path, timeout: float = 300) -> tuple[int, str, str]:
    """Run with stderr on a pseudo-terminal (so the progress bar is drawn); return rc, stdout, stderr."""
    import pty

    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "160", "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=slave, env=env)
    os.close(slave)
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    out, _ = proc.communicate(timeout=timeout)
    reader.join(timeout=10)
    os.close(master)
    return proc.returncode, out.decode(), b"".join(chunks).decode(errors="replace")


# --- acceptance 1: a 200-run sweep with a progress bar ------------------------------------------


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The 200-run sweep, uninterrupted, run as a user would (on all cores, bar on a terminal)."""
    tmp = tmp_path_factory.mktemp("ref")
    path = experiment(tmp, GRID_200)
    out = tmp / "results"
    clock = time.perf_counter()
    # two workers (the default is every core: too many processes on a large CI machine)
    rc, stdout, stderr = run_with_pty([str(SIMULATE), "sweep", str(path), "--out", str(out), "-j", "2"], cwd=tmp)
    return dict(path=path, out=out, rc=rc, stdout=stdout, stderr=stderr, seconds=time.perf_counter() - clock)


def test_200_run_sweep_finishes_with_a_progress_bar(reference) -> None:
    assert reference["rc"] == 0, reference["stdout"] + reference["stderr"]
    stderr = reference["stderr"]
    assert "Traceback" not in stderr
    assert "Sweep exp" in stderr and "200/200" in stderr  # the bar: runs done of the total
    assert "0 failed" in stderr and "left" in stderr  # failures and time left
    assert "━" in stderr  # the bar itself
    stdout = reference["stdout"]
    assert "200 of 200 runs recorded" in stdout and "0 failed" in stdout
    assert f'pandas.read_parquet("{reference["out"] / "runs"}")' in stdout

    frame = pd.read_parquet(reference["out"] / "runs")  # one line, as documented
    assert len(frame) == 200
    assert not frame.duplicated(["point", "replicate"]).any()
    assert (frame["status"] == "ok").all() and frame["error"].isna().all()
    assert set(frame["point"]) == set(range(40)) and set(frame["replicate"]) == set(range(5))
    for column in ("cagr_semi", "hit_semi", "city_cagr", "fiscal_cost", "cost_talent_subsidy",
                   "levers.land.redevelopment_mu_per_year", "levers.talent.subsidy"):  # fmt: skip
        assert column in frame
    assert frame["cagr_semi"].notna().all()


def test_every_point_uses_the_same_replicate_seeds(reference) -> None:
    frame = runs(reference["out"])
    seeds = replicate_seeds(20210118, 5)  # the baseline's root seed
    for _, group in frame.groupby("point"):
        assert group["seed"].tolist() == seeds
    # common random numbers: with no talent subsidy the talent-subsidy cost is exactly 0, and
    # points that differ only in a lever that does not bind in one year give identical runs
    assert (frame.loc[frame["levers.talent.subsidy"] == 0, "cost_talent_subsidy"] == 0).all()


def test_manifest_records_design_seeds_and_versions(reference) -> None:
    out = reference["out"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "sweep" and manifest["status"] == "complete"
    assert manifest["runs"] == 200 and manifest["ok"] == 200 and manifest["failed"] == 0 and manifest["missing"] == 0
    assert manifest["seeds"] == replicate_seeds(20210118, 5)
    assert manifest["design"]["method"] == "grid" and manifest["design"]["points"] == 40
    assert {"python", "numpy", "mesa", "SALib", "pyarrow"} <= set(manifest["versions"])
    assert manifest["scenario"]["sha256"] == load_experiment(reference["path"]).scenario.sha256
    assert len(manifest["sessions"]) == 1 and manifest["sessions"][0]["ran"] == 200
    design = pd.read_parquet(out / "design.parquet")
    assert len(design) == 40 and "levers.talent.subsidy" in design
    assert (out / "experiment.toml").read_text() == reference["path"].read_text()
    assert load_scenario(out / "scenario.toml").spec == load_experiment(reference["path"]).scenario.spec


def test_analyze_a_grid_sweep_writes_points_and_response_curves(reference, tmp_path) -> None:
    import shutil

    folder = tmp_path / "grid"
    shutil.copytree(reference["out"], folder)
    result = CliRunner().invoke(main, ["analyze", str(folder)])
    assert result.exit_code == 0, result.output
    assert "grid design, 40 points, 200 of 200 runs recorded, 0 failed" in result.output
    points = pd.read_csv(folder / "points.csv")
    assert len(points) == 40 and (points["runs"] == 5).all()
    assert {"p_hit_semi", "p_hit_semi_low", "p_hit_semi_high", "levers.talent.subsidy"} <= set(points.columns)
    frame = runs(folder)
    assert points["p_hit_semi"].tolist() == frame.groupby("point")["hit_semi"].mean().tolist()
    response = pd.read_csv(folder / "response.csv")
    assert set(response["parameter"]) == {"levers.land.redevelopment_mu_per_year", "levers.talent.subsidy"}
    assert {"value", "cluster", "cagr_median", "cagr_p5", "cagr_p95", "p_hit"} <= set(response.columns)
    assert len(response) == (10 + 4) * 11  # levels x (ten clusters and the city)


# --- acceptance 2: SIGKILL at a random moment, then --resume -------------------------------------


def test_sigkill_then_resume_gives_identical_results(reference, tmp_path) -> None:
    assert reference["rc"] == 0
    out = tmp_path / "killed"
    command = [str(SIMULATE), "sweep", str(reference["path"]), "--out", str(out), "-j", "2", "--checkpoint", "1",
               "--quiet"]  # fmt: skip
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    target, extra = rng.randint(1, 60), rng.uniform(0.0, 0.1)  # kill after >= target runs are on disk, + extra s
    proc = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    while _recorded(out) < target:
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.02)
    time.sleep(extra)
    children = psutil.Process(proc.pid).children(recursive=True)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL, f"the sweep ended before the kill (seed {seed})"
    gone, alive = psutil.wait_procs(children, timeout=20)
    assert not alive, "worker processes outlived the killed sweep"

    before = _recorded(out)
    assert target <= before < 200, f"the sweep had finished its runs before the kill (seed {seed})"
    done = subprocess.run([*command[:-1], "--resume"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert f"{200 - before} in this session" in done.stdout

    resumed = runs(out)
    assert len(resumed) == 200 and not resumed.duplicated(["point", "replicate"]).any()
    pd.testing.assert_frame_equal(resumed, runs(reference["out"]))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and len(manifest["sessions"]) == 2
    assert manifest["sessions"][0].get("status") is None  # the killed session never finished
    assert not list(out.rglob(".*.tmp"))  # temporary files of the killed process were cleaned


def _recorded(folder: Path) -> int:
    """Runs in the whole parts written so far (a part appears whole, by rename)."""
    import pyarrow.parquet as pq

    return sum(pq.read_metadata(p).num_rows for p in sorted((folder / "runs").glob("part-*.parquet")))


def test_resume_of_a_complete_sweep_runs_nothing(reference, tmp_path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(reference["out"], copy)
    result = CliRunner().invoke(main, ["sweep", str(reference["path"]), "--out", str(copy), "--resume", "-j", "1"])
    assert result.exit_code == 0, result.output
    assert "200 of 200 runs recorded (0 in this session" in result.output
    pd.testing.assert_frame_equal(runs(copy), runs(reference["out"]))


# --- failures, resume checks, folders ---------------------------------------------------------------

SMALL = """
replicates = 2
outcomes = ["cagr", "hit", "fiscal_cost"]
[design]
method = "grid"
[parameters]
"levers.talent.subsidy" = { levels = [0.0, 0.03, 0.06] }
"""


def test_a_failing_run_is_recorded_and_the_sweep_goes_on(tmp_path, monkeypatch) -> None:
    path = experiment(tmp_path, SMALL)
    plan = SweepPlan.from_experiment(load_experiment(path))
    bad_seed = plan.seeds[1]
    real = sweep_outcomes._run_model

    def flaky(spec, seed):
        if seed == bad_seed and spec.levers.talent.subsidy == 0.03:
            raise RuntimeError("numerical trouble\nsecond line")
        return real(spec, seed)

    monkeypatch.setattr(sweep_outcomes, "_run_model", flaky)
    result = CliRunner().invoke(main, ["sweep", str(path), "--out", str(tmp_path / "out"), "-j", "1"])
    assert result.exit_code == 1, result.output
    assert "1 failed" in result.output
    assert "point 1 replicate 1" in result.output and "RuntimeError: numerical trouble" in result.output
    assert "Error: 1 of 6 runs failed" in result.output and "--resume --retry-failed" in result.output
    frame = runs(tmp_path / "out")
    assert len(frame) == 6
    bad = frame[frame["status"] == "failed"]
    assert bad[["point", "replicate"]].values.tolist() == [[1, 1]]
    assert bad["error"].iloc[0] == "RuntimeError: numerical trouble"
    assert bad["cagr_semi"].isna().all() and frame.loc[frame["status"] == "ok", "cagr_semi"].notna().all()
    assert "numerical trouble" in (tmp_path / "out" / "failures.log").read_text()
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["failed"] == 1 and manifest["ok"] == 5

    # --resume alone leaves a failed run alone; --retry-failed runs it again
    monkeypatch.setattr(sweep_outcomes, "_run_model", real)
    again = run_sweep(plan, tmp_path / "out", LocalBackend(1), resume=True, progress=False)
    assert again.ran == 0 and again.failed == 1
    again = run_sweep(plan, tmp_path / "out", LocalBackend(1), resume=True, retry_failed=True, progress=False)
    assert again.ran == 1 and again.failed == 0 and again.ok == 6
    fresh = run_sweep(plan, tmp_path / "fresh", LocalBackend(1), progress=False)
    assert fresh.ok == 6
    pd.testing.assert_frame_equal(runs(tmp_path / "out"), runs(tmp_path / "fresh"))


def test_resume_refuses_a_folder_of_another_experiment(tmp_path) -> None:
    path = experiment(tmp_path, SMALL.replace("replicates = 2", "replicates = 1"))
    run_sweep(SweepPlan.from_experiment(load_experiment(path)), tmp_path / "out", progress=False)
    changed = load_experiment(path, overrides=["levers.land.floor_multiplier=4.0"])
    with pytest.raises(SweepError, match="the base scenario .* changed"):
        run_sweep(SweepPlan.from_experiment(changed), tmp_path / "out", resume=True, progress=False)
    with pytest.raises(SweepError, match="the number of replicates changed"):
        run_sweep(SweepPlan.from_experiment(load_experiment(path, replicates=2)), tmp_path / "out",
                  resume=True, progress=False)  # fmt: skip
    result = CliRunner().invoke(main, ["sweep", str(path), "--out", str(tmp_path / "out"), "-j", "1"])
    assert result.exit_code == 2 and "already exists and is not empty" in result.output
    result = CliRunner().invoke(main, ["sweep", str(path), "--out", str(tmp_path / "none"), "--resume"])
    assert result.exit_code == 2 and "nothing to resume" in result.output


def test_point_scenario_is_the_same_as_set_overrides(tmp_path) -> None:
    path = experiment(tmp_path, """
        replicates = 1
        [design]
        method = "lhs"
        size = 3
        [parameters]
        "levers.land.redevelopment_mu_per_year" = { range = [1000, 20000] }
        "levers.subsidy.little_giants_per_year" = { range = [0, 100] }
        "uncertainties.behaviour.spinoff_rate" = "scenario"
        "levers.land.enabled" = { levels = [true, false] }
    """)  # fmt: skip
    loaded = load_experiment(path)
    plan = SweepPlan.from_experiment(loaded)
    sets = ['simulation.below_scale_ratio=0.0', 'simulation.end_year=2021', 'simulation.steps_per_year=1']
    for i in range(plan.design.n_points):
        values = plan.design.point(i)
        assert isinstance(values[1], int) and isinstance(values[3], bool)  # typed as the schema says
        overrides = [f"{k}={str(v).lower() if isinstance(v, bool) else repr(v)}" for k, v in zip(plan.design.keys, values)]
        assert point_spec(plan.context, values) == load_scenario(BASELINE, [*sets, *overrides]).spec


def test_memory_stays_flat_whatever_the_sweep_size(tmp_path) -> None:
    def peak(points: int) -> int:
        design = make_design([Parameter("x", "range", low=0.0, high=1.0)], "lhs", size=points, seed=1)
        plan = SweepPlan.custom("flat", design, [1, 2], _instant, ["y"])
        tracemalloc.start()
        run_sweep(plan, tmp_path / f"m{points}", LocalBackend(1), progress=False, checkpoint=3600)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert len(pd.read_parquet(tmp_path / f"m{points}" / "runs")) == 2 * points
        return peak

    small, large = peak(3_000), peak(15_000)  # 6 k and 30 k runs; parts of at most 5 000 rows
    assert large < 1.5 * small, (small, large)


def _instant(values, seed):
    return {"y": values["x"] + seed}


def _dies_once(values, seed):
    """Kills its worker process the first time it meets x = 2 (as an out-of-memory kill would)."""
    marker = Path(os.environ["SWEEP_TEST_MARKER"])
    if values["x"] == 2.0 and not marker.exists():
        marker.touch()
        os._exit(9)
    return {"y": values["x"] * 10 + seed}


def test_a_dead_worker_process_is_replaced_and_its_runs_rerun(tmp_path, monkeypatch) -> None:
    marker = tmp_path / "died"
    monkeypatch.setenv("SWEEP_TEST_MARKER", str(marker))
    design = make_design([Parameter("x", "levels", levels=(0.0, 1.0, 2.0, 3.0))], "grid")
    plan = SweepPlan.custom("dies", design, [1, 2, 3], _dies_once, ["y"])
    summary = run_sweep(plan, tmp_path / "pool", LocalBackend(2), progress=False)
    assert marker.exists()  # a worker did die
    assert summary.complete and summary.failed == 0 and summary.ok == 12
    here = run_sweep(plan, tmp_path / "here", LocalBackend(1), progress=False)
    assert here.ok == 12
    pd.testing.assert_frame_equal(runs(tmp_path / "pool"), runs(tmp_path / "here"))


# --- bad experiment files: exit 2, file, key, line, what is allowed, no traceback ------------------
# (every bad experiment file we know of is in tests/hostile/cases.toml)


def test_bad_experiment_at_the_real_boundary_has_no_traceback(tmp_path) -> None:
    body = ('replicates = 2\n[design]\nmethod = "grid"\n[parameters]\n'
            '"levers.land.cluster_priority_share" = { levels = [0.5, 1.5] }\n')  # fmt: skip
    path = experiment(tmp_path, body, fast=False)
    done = subprocess.run([str(SIMULATE), "sweep", str(path)], capture_output=True, text=True, cwd=tmp_path,
                          timeout=120)  # fmt: skip
    assert done.returncode == 2
    assert done.stderr == (f"Error: {path}: parameters.levers.land.cluster_priority_share (line 6): must be at least 0 "
                           "and at most 1; got 1.5 (at the value 1.5)\n")  # fmt: skip
    assert not (tmp_path / "results").exists()


def test_errors_in_the_library_api_are_experiment_errors(tmp_path) -> None:
    path = experiment(tmp_path, 'replicates = 0\n[design]\nmethod = "grid"\n')
    with pytest.raises(ExperimentError) as info:
        load_experiment(path)
    assert info.value.key == "replicates" and info.value.line == 2
    assert "must be at least 1" in str(info.value)


def test_check_prints_the_plan(tmp_path) -> None:
    path = experiment(tmp_path, GRID_200)
    result = CliRunner().invoke(main, ["sweep", str(path), "--check", "--replicates", "3"])
    assert result.exit_code == 0, result.output
    assert "OK exp: grid design, 40 points x 3 replicates = 120 runs" in result.output
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize("name", ["policy_grid", "sensitivity_morris", "sensitivity_sobol", "target_frontier"])
def test_shipped_experiments_are_valid(name) -> None:
    path = ROOT / "experiments" / f"{name}.toml"
    loaded = load_experiment(path)
    assert loaded.n_runs > 0 and loaded.description
    assert path.read_text().count("#") >= 10, f"{path.name} should be commented"
    expected = {"policy_grid": "grid", "sensitivity_morris": "morris", "sensitivity_sobol": "sobol",
                "target_frontier": "grid"}[name]  # fmt: skip
    assert loaded.method == expected
    if name == "sensitivity_morris":  # every behavioural parameter is screened
        from simulation.scenario.schema import Behaviour

        assert {f"uncertainties.behaviour.{k}" for k in Behaviour.model_fields} <= {p.key for p in loaded.parameters}
    if name == "target_frontier":
        assert loaded.frontier == 0.5 and "hit" in loaded.outcome_groups
