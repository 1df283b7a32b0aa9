"""Robust lever optimisation (simulate optimise): a known front, no dominated design, resume after SIGKILL.

The toy problem has two levers a, b in [0, 1] and, in every future, f1 = a + e and
f2 = 1 - sqrt(a) + 2 b + e, with e a future's own shift (the same for every design: common random
numbers), and a cost of 10 a that the budget holds at 8. Its Pareto front is known: b = 0 and
f2 = 1 - sqrt(f1 - e) + e for a in [0, 0.8].
"""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from simulation.cli import main
from simulation.experiments.optimise import OptimisationPlan, design_id, run_optimisation
from simulation.experiments.optimise_file import Allocation, LeverRange
from simulation.experiments.pareto import dominated, minimised

ROOT = Path(__file__).resolve().parents[1]
SEEDS = [11, 22, 33]
OBJECTIVES = [("mean:f1", "min"), ("mean:f2", "min")]


def shift(seed: int) -> float:
    return (seed % 97) / 97 * 0.01


def toy(values: dict, seed: int) -> dict:
    """The toy problem (module docstring); sleeps OPTIMISE_TOY_SLEEP seconds a run if set (the kill test)."""
    if os.environ.get("OPTIMISE_TOY_SLEEP"):
        time.sleep(float(os.environ["OPTIMISE_TOY_SLEEP"]))
    a, b = values["levers.a"], values["levers.b"]
    e = shift(seed)
    return {"f1": a + e, "f2": 1 - math.sqrt(a) + 2 * b + e, "cost": 10 * a}


def toy_plan(generations: int = 20) -> OptimisationPlan:
    levers = [LeverRange("levers.a", 0.0, 1.0, "float", 0.5), LeverRange("levers.b", 0.0, 1.0, "float", 0.5)]
    return OptimisationPlan.custom("toy", levers, toy, ["f1", "f2", "cost"], OBJECTIVES, SEEDS, budget=8.0,
                                   budget_metric="mean:cost", years=1.0, population=16, generations=generations,
                                   seed=3)  # fmt: skip


def run_toy(folder: str, resume: bool = False, generations: int = 20):
    """Run (or resume) the toy optimisation into ``folder``; the kill test runs this in a child process."""
    return run_optimisation(toy_plan(generations), folder, resume=resume, progress=False, checkpoint=0.0)


def test_the_toy_front_is_found_and_nothing_on_it_is_dominated(tmp_path) -> None:
    result = run_toy(str(tmp_path / "toy"))
    designs, front = result.designs, result.pareto
    assert len(front) >= 10
    # no design on the Pareto set is dominated by any feasible design evaluated (the same futures for all)
    feasible = designs[designs["feasible"]]
    f_all, f_front = minimised(feasible, tuple(OBJECTIVES)), minimised(front, tuple(OBJECTIVES))
    for row in f_front:
        assert not np.any(np.all(f_all <= row, axis=1) & np.any(f_all < row, axis=1))
    assert not dominated(f_front).any()
    # ... and it is the known front: b = 0, f2 = 1 - sqrt(a) + e, within the budget (a <= 0.8), spread along it
    e = np.mean([shift(s) for s in SEEDS])
    assert (front["levers.b"] < 0.02).all()
    np.testing.assert_allclose(front["mean:f2"], 1 - np.sqrt(front["levers.a"]) + 2 * front["levers.b"] + e, atol=1e-9)
    assert (front["mean:cost"] <= 8.0).all() and (designs["mean:cost"] > 8.0).any()
    assert front["levers.a"].min() < 0.1 and front["levers.a"].max() > 0.7
    # every design ran in the same futures (common random numbers), each once
    runs = pd.read_parquet(tmp_path / "toy" / "runs")
    assert not runs.duplicated(["design", "replicate"]).any()
    assert all(sorted(g) == SEEDS for g in runs.groupby("design")["seed"].apply(list))
    # the references: the policy as written (a = b = 0.5) and the least support (a = b = 0) are evaluated
    refs = designs.set_index("reference")
    assert refs.loc["as_written", "levers.a"] == 0.5 and refs.loc["least", "levers.a"] == 0.0


def test_a_killed_optimisation_resumes_to_the_same_pareto_set(tmp_path) -> None:
    whole = run_toy(str(tmp_path / "whole"), generations=8)
    folder = tmp_path / "killed"
    code = f"import sys; sys.path.insert(0, {str(ROOT / 'tests')!r}); import test_optimise as t; " \
           f"t.run_toy({str(folder)!r}, generations=8)"  # fmt: skip
    env = {**os.environ, "OPTIMISE_TOY_SLEEP": "0.02"}
    child = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=ROOT)
    try:
        deadline = time.monotonic() + 120
        while len(list((folder / "runs").glob("part-*.parquet"))) < 12:
            assert child.poll() is None, "the optimisation ended before it was killed"
            assert time.monotonic() < deadline, "no parts written"
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    before = len(pd.read_parquet(folder / "runs"))
    total = len(pd.read_parquet(tmp_path / "whole" / "runs"))
    assert 0 < before < total  # killed part-way
    resumed = run_toy(str(folder), resume=True, generations=8)
    assert resumed.stored == before and resumed.ran == total - before
    pd.testing.assert_frame_equal(resumed.pareto, whole.pareto)
    assert resumed.briefing == whole.briefing
    runs = pd.read_parquet(folder / "runs")
    assert len(runs) == total and not runs.duplicated(["design", "replicate"]).any()


def test_allocations_split_the_scenario_total_and_round_trip() -> None:
    mandate = Allocation("levers.funds.guidance.mandate", ("soft", "mat", "ene", "bio", "semi"),
                         (0.15, 0.20, 0.25, 0.15, 0.25))  # fmt: skip
    plan = OptimisationPlan.custom("split", [LeverRange("levers.x", 0.0, 10.0, "float", 2.5)], toy, ["f1"],
                                   OBJECTIVES, SEEDS)  # fmt: skip
    plan.allocations = (mandate,)
    rng = np.random.default_rng(1)
    for x in rng.random((50, 6)):
        values = plan.values(x)
        shares = np.asarray(values[1:])
        assert (shares >= 0).all() and shares.sum() <= 1.0 + 1e-12 and shares.sum() > 0.999
        np.testing.assert_allclose(plan.values(plan.unit(values)), values, atol=2e-4)  # shares are rounded to 1e-4
    assert plan.references()["as_written"] == (2.5, 0.15, 0.2, 0.25, 0.15, 0.25)
    assert design_id((1.0, 2)) == design_id((1.0, 2)) != design_id((1.0, 3))


def small_file(tmp_path: Path) -> Path:
    """experiments/optimise.toml, made small: 2 futures, population 4, 2 generations, a small quick city."""
    text = (ROOT / "experiments" / "optimise.toml").read_text(encoding="utf-8")
    text = text.replace("futures = 8 ", "futures = 2 ").replace("population = 12", "population = 4")
    text = text.replace("generations = 5", "generations = 2")
    text = text.replace('"../scenarios/baseline.toml"', repr(str(ROOT / "scenarios" / "baseline.toml")).replace("'", '"'))
    text += '\n[set]\n"simulation.below_scale_ratio" = 0.1\n"simulation.end_year" = 2022\n'
    path = tmp_path / "small.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_simulate_optimise_on_the_shipped_file_gives_an_undominated_pareto_set(tmp_path) -> None:
    out = tmp_path / "opt"
    result = CliRunner().invoke(main, ["optimise", str(small_file(tmp_path)), "--out", str(out), "-j", "1",
                                       "--lang", "en", "--format", "png", "--checkpoint", "0"])  # fmt: skip
    assert result.exit_code == 0, result.output
    designs, front = pd.read_parquet(out / "designs.parquet"), pd.read_parquet(out / "pareto.parquet")
    objectives = (("p_all_hit", "max"), ("worst_p_hit", "max"), ("city_cagr_median", "max"), ("cost_per_year", "min"))
    feasible = designs[designs["feasible"]]
    assert len(front) >= 1 and (front["cost_per_year"] <= 60.0).all()
    f_all = minimised(feasible, objectives)
    for row in minimised(front, objectives):
        assert not np.any(np.all(f_all <= row, axis=1) & np.any(f_all < row, axis=1))
    # every public yuan is counted: the cost a year is the fiscal ledger's total over the futures and years
    runs = pd.read_parquet(out / "runs")
    written = designs[designs["reference"] == "as_written"].iloc[0]
    assert written["cost_per_year"] == pytest.approx(runs.loc[runs["design"] == written["id"], "fiscal_cost"].mean() / 2)
    assert written["levers.subsidy.rd_budget"] == 10.0 and written["levers.funds.guidance.mandate.semi"] == 0.25
    briefing = pd.read_json(out / "briefing.json", typ="series")
    assert set(briefing["picks"]) == {"cheapest_meeting_probability", "most_robust_at_todays_budget", "best_per_yi"}
    assert "亿元 a year" in result.output and "Policy as written" in result.output
    for name in ("pareto_frontier", "pareto_parallel"):
        assert (out / "charts" / "en" / f"{name}.png").stat().st_size > 10_000


@pytest.mark.parametrize("edit, message", [
    (("worst_p_hit = \"max\"", "worst_p_hit = \"best\""), 'expected "max" or "min"'),
    (("city_cagr_median = \"max\"", "city_growth = \"max\""), "unknown objective"),
    (("futures = 8 ", "futures = 0 "), "ensemble.futures"),
    (('"levers.agencies.budget" = { range = [0.05, 0.8] }', '"levers.agencies.budget" = { range = [0.05, 80.0] }'),
     "levers.agencies.budget"),
    (('"levers.funds.guidance.mandate" = ["soft", "mat", "ene", "bio", "semi"]',
      '"levers.funds.guidance.mandate" = ["soft", "chips"]'), "has no chips"),
])  # fmt: skip
def test_bad_optimisation_files_are_one_line_errors(tmp_path, edit, message) -> None:
    text = (ROOT / "experiments" / "optimise.toml").read_text(encoding="utf-8")
    assert edit[0] in text
    path = tmp_path / "experiments" / "bad.toml"
    path.parent.mkdir()
    path.write_text(text.replace(edit[0], edit[1]), encoding="utf-8")
    (tmp_path / "scenarios").symlink_to(ROOT / "scenarios")
    result = CliRunner().invoke(main, ["optimise", str(path), "--check"])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output and str(path) in result.output


def test_an_agency_budget_split_is_an_allocation_too(tmp_path) -> None:
    from simulation.experiments.optimise_file import load_optimise_file

    text = small_file(tmp_path).read_text(encoding="utf-8").replace(
        '"levers.funds.guidance.mandate" = ["soft", "mat", "ene", "bio", "semi"]',
        '"levers.agencies" = ["attraction_share", "matchmaking_share", "finance_share"]')  # fmt: skip
    path = tmp_path / "agencies.toml"
    path.write_text(text, encoding="utf-8")
    loaded = load_optimise_file(path)
    (split,) = loaded.allocations
    assert split.total == pytest.approx(0.8) and split.keys[0] == "levers.agencies.attraction_share"
    plan = OptimisationPlan.from_file(loaded)
    shares = np.asarray(plan.values(np.ones(plan.n_var))[len(loaded.levers):])
    assert shares.sum() <= 0.8 + 1e-12 and shares == pytest.approx([0.8 / 3] * 3, abs=1e-4)
