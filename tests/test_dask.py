"""Sweeps on a real Dask distributed cluster: a scheduler and two worker processes on localhost.

The cluster is started with the ``dask scheduler`` / ``dask worker`` command-line tools, as on a
real cluster, on 127.0.0.1 with random free ports (the scheduler writes its address to a
scheduler file). Results must be identical to a local run, also when a worker is killed mid-sweep.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("distributed")

from simulation.experiments.experiment_file import load_experiment  # noqa: E402
from simulation.experiments.sweep import LocalBackend, SweepPlan, run_sweep  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"
BIN = Path(sys.executable).parent
SIMULATE, DASK = BIN / "simulate", BIN / "dask"


def experiment(tmp: Path, levels: list[float], replicates: int) -> Path:
    path = tmp / "exp.toml"
    path.write_text(textwrap.dedent(f"""
        scenario = "{BASELINE.as_posix()}"
        replicates = {replicates}
        outcomes = ["cagr", "hit", "city_cagr", "fiscal_cost"]
        [design]
        method = "grid"
        [set]
        "simulation.below_scale_ratio" = 0.0
        "simulation.end_year" = 2021
        "simulation.steps_per_year" = 1
        [parameters]
        "levers.talent.budget_cap" = {{ levels = {levels} }}
        "levers.land.enabled" = {{ levels = [true, false] }}
    """))
    return path


def local(path: Path, out: Path) -> pd.DataFrame:
    summary = run_sweep(SweepPlan.from_experiment(load_experiment(path)), out, LocalBackend(1), progress=False)
    assert summary.complete and summary.failed == 0
    return runs(out)


def runs(folder: Path) -> pd.DataFrame:
    return pd.read_parquet(folder / "runs").sort_values(["point", "replicate"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """``dask scheduler`` and two ``dask worker`` processes (one thread each, no nanny)."""
    tmp = tmp_path_factory.mktemp("dask")
    scheduler_file = tmp / "scheduler.json"
    common = dict(cwd=tmp, stdout=subprocess.DEVNULL, start_new_session=True)
    procs = [subprocess.Popen([str(DASK), "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                               "--scheduler-file", str(scheduler_file)],
                              stderr=open(tmp / "scheduler.log", "w"), **common)]  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not scheduler_file.exists():
            assert time.monotonic() < deadline, (tmp / "scheduler.log").read_text()
            assert procs[0].poll() is None, (tmp / "scheduler.log").read_text()
            time.sleep(0.2)
        time.sleep(0.2)  # the file is written in one go, but be safe
        address = json.loads(scheduler_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        for i in range(2):
            procs.append(subprocess.Popen(
                [str(DASK), "worker", "--scheduler-file", str(scheduler_file), "--host", "127.0.0.1",
                 "--nthreads", "1", "--no-nanny", "--no-dashboard", "--memory-limit", "0", "--name", f"w{i}"],
                stderr=open(tmp / f"worker{i}.log", "w"), **common))  # fmt: skip
        from distributed import Client

        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
        yield {"address": address, "file": scheduler_file, "workers": procs[1:], "tmp": tmp}
    finally:  # workers first (no need to be gentle), then the scheduler
        for p in [*procs[1:], procs[0]]:
            if p.poll() is None:
                p.kill() if p is not procs[0] else p.terminate()
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def test_a_sweep_on_dask_is_identical_to_the_local_run(cluster, tmp_path) -> None:
    path = experiment(tmp_path, [0.0, 10.0, 40.0], replicates=4)  # 6 points x 4 = 24 runs
    reference = local(path, tmp_path / "local")
    out = tmp_path / "dask"
    done = subprocess.run([str(SIMULATE), "sweep", str(path), "--out", str(out), "--scheduler-file",
                           str(cluster["file"])], capture_output=True, text=True, cwd=tmp_path, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"on Dask cluster at {cluster['address']}" in done.stdout
    assert "24 of 24 runs recorded" in done.stdout and "0 failed" in done.stdout
    pd.testing.assert_frame_equal(runs(out), reference)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["sessions"][0]["backend"] == f"Dask cluster at {cluster['address']}"


def test_killing_a_worker_mid_sweep_still_gives_identical_results(cluster, tmp_path) -> None:
    path = experiment(tmp_path, [0.0, 10.0, 20.0, 40.0], replicates=6)  # 8 points x 6 = 48 runs
    out = tmp_path / "dask"
    sweep = subprocess.Popen([str(SIMULATE), "sweep", str(path), "--out", str(out), "--scheduler", cluster["address"],
                              "--checkpoint", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             cwd=tmp_path)  # fmt: skip
    victim = cluster["workers"][0]
    deadline = time.monotonic() + 180
    recorded = 0
    while recorded < 6:  # wait until the sweep is well under way
        assert time.monotonic() < deadline and sweep.poll() is None, sweep.communicate()
        time.sleep(0.05)
        parts = list((out / "runs").glob("part-*.parquet")) if (out / "runs").is_dir() else []
        recorded = sum(len(pd.read_parquet(p, columns=["point"])) for p in parts)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(timeout=10)
    assert recorded < 48
    stdout, stderr = sweep.communicate(timeout=300)
    assert sweep.returncode == 0, stderr
    assert "48 of 48 runs recorded" in stdout and "0 failed" in stdout

    reference = local(path, tmp_path / "local")
    result = runs(out)
    assert len(result) == 48 and not result.duplicated(["point", "replicate"]).any()
    pd.testing.assert_frame_equal(result, reference)


def test_an_optimisation_on_dask_is_identical_to_the_local_run(cluster, tmp_path) -> None:
    text = (ROOT / "experiments" / "optimise.toml").read_text(encoding="utf-8")
    text = text.replace('"../scenarios/baseline.toml"', f'"{BASELINE.as_posix()}"')
    text = text.replace("futures = 8 ", "futures = 2 ")
    text = text.replace("population = 12", "population = 4").replace("generations = 5", "generations = 2")
    text += ('\n[set]\n"simulation.below_scale_ratio" = 0.0\n"simulation.end_year" = 2021\n'
             '"simulation.steps_per_year" = 1\n')  # fmt: skip
    path = tmp_path / "opt.toml"
    path.write_text(text, encoding="utf-8")
    done = subprocess.run([str(SIMULATE), "optimise", str(path), "--out", str(tmp_path / "dask"), "--scheduler-file",
                           str(cluster["file"]), "--format", "png", "--lang", "en"], capture_output=True, text=True,
                          cwd=tmp_path, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"on Dask cluster at {cluster['address']}" in done.stdout
    from simulation.experiments.optimise import OptimisationPlan, run_optimisation
    from simulation.experiments.optimise_file import load_optimise_file

    local = run_optimisation(OptimisationPlan.from_file(load_optimise_file(path)), tmp_path / "local", LocalBackend(1),
                             progress=False)  # fmt: skip
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "dask" / "designs.parquet"), local.designs)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "dask" / "pareto.parquet"), local.pareto)
