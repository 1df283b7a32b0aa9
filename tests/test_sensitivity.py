"""Sensitivity analysis: analytic functions with known rankings (plumbing), then the model itself.

The analytic functions go through the same code path as the model: a design, a sweep streamed
to a results folder, and ``simulate analyze`` (or the functions it calls) on that folder.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from simulation.analysis.sensitivity import (
    COLUMNS, AnalysisError, frontier, load_results, point_table, rank, sensitivity,
)  # fmt: skip
from simulation.cli import main
from simulation.experiments.design import Parameter, make_design
from simulation.experiments.sweep import LocalBackend, SweepPlan, run_sweep

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"

# --- analytic functions -------------------------------------------------------------------------

A, B = 7.0, 0.1  # Ishigami constants (Ishigami & Homma 1990; the usual test values)
ISHIGAMI_S1 = {"x1": 0.3139, "x2": 0.4424, "x3": 0.0}
ISHIGAMI_ST = {"x1": 0.5576, "x2": 0.4424, "x3": 0.2437}


def ishigami(values: dict[str, float], seed: int) -> dict[str, float]:
    x1, x2, x3 = values["x1"], values["x2"], values["x3"]
    return {"y": np.sin(x1) + A * np.sin(x2) ** 2 + B * x3**4 * np.sin(x1)}


COEFFICIENTS = {"a": 10.0, "b": 5.0, "c": 1.0, "d": 0.0}


def linear(values: dict[str, float], seed: int) -> dict[str, float]:
    """A linear function plus noise that depends only on the replicate seed (common random numbers)."""
    noise = np.random.default_rng(seed).normal(0.0, 1.0)
    return {"y": sum(k * values[n] for n, k in COEFFICIENTS.items()) + noise}


def analytic_sweep(tmp: Path, evaluator, parameters, method: str, size: int, replicates: int = 1):
    design = make_design(parameters, method, size=size, seed=3)
    plan = SweepPlan.custom(evaluator.__name__, design, list(range(1, replicates + 1)), evaluator, ["y"])
    summary = run_sweep(plan, tmp / evaluator.__name__, LocalBackend(1), progress=False)
    assert summary.complete and summary.failed == 0
    return tmp / evaluator.__name__


def test_sobol_recovers_the_ishigami_indices(tmp_path) -> None:
    params = [Parameter(f"x{i}", "range", low=-np.pi, high=np.pi) for i in (1, 2, 3)]
    folder = analytic_sweep(tmp_path, ishigami, params, "sobol", size=1024)
    result = sensitivity(load_results(folder), "y")
    table = result.table
    assert tuple(table.columns) == COLUMNS
    assert result.points == 1024 * 5 and result.runs_used == 1024 * 5
    # ranked by ST, each parameter's S1 and ST together
    assert table["parameter"].tolist() == ["x1", "x1", "x2", "x2", "x3", "x3"]
    assert table["index"].tolist() == ["S1", "ST"] * 3
    got = table.set_index(["parameter", "index"])
    for name in ("x1", "x2", "x3"):
        for index, truth in (("S1", ISHIGAMI_S1), ("ST", ISHIGAMI_ST)):
            row = got.loc[(name, index)]
            assert abs(row["value"] - truth[name]) < 0.05, (name, index, row["value"])
            assert row["ci_low"] <= row["value"] <= row["ci_high"]
    s1 = got.xs("S1", level="index")["value"]
    assert s1.sort_values(ascending=False).index.tolist() == ["x2", "x1", "x3"]  # known S1 ranking


def test_morris_recovers_a_linear_ranking_through_the_cli(tmp_path) -> None:
    params = [Parameter(n, "range", low=0.0, high=1.0) for n in COEFFICIENTS]
    folder = analytic_sweep(tmp_path, linear, params, "morris", size=12, replicates=3)
    result = CliRunner().invoke(main, ["analyze", str(folder), "--outcome", "y"])
    assert result.exit_code == 0, result.output
    assert "rank  parameter  key  μ* [95 % CI]" in result.output
    csv = folder / "sensitivity_y.csv"
    assert f"Wrote {csv}" in result.output
    table = pd.read_csv(csv)
    assert tuple(table.columns) == COLUMNS
    assert set(table["index"]) == {"mu_star", "sigma"}
    mu = table[table["index"] == "mu_star"].set_index("parameter")["value"]
    assert mu.index.tolist() == ["a", "b", "c", "d"]  # the known ranking
    # common random numbers: the noise is the same at every point of a replicate, so every
    # elementary effect is exactly the coefficient (per unit of the [0, 1] range)
    for name, k in COEFFICIENTS.items():
        assert mu[name] == pytest.approx(k, abs=1e-9)
    sigma = table[table["index"] == "sigma"].set_index("parameter")["value"]
    assert (sigma.abs() < 1e-9).all() and table.loc[table["index"] == "sigma", "ci_low"].isna().all()


def test_rank_keeps_each_parameters_rows_together() -> None:
    table = pd.DataFrame(
        [("p", "S1", 0.1, 0, 0.2), ("p", "ST", 0.2, 0.1, 0.3), ("q", "S1", 0.5, 0.4, 0.6), ("q", "ST", 0.6, 0.5, 0.7)],
        columns=list(COLUMNS),
    )
    ranked = rank(table, "ST")
    assert ranked["parameter"].tolist() == ["q", "q", "p", "p"]
    assert ranked["index"].tolist() == ["S1", "ST", "S1", "ST"]


def test_frontier_finds_the_least_support_points(tmp_path) -> None:
    def hits(values, seed):
        return {"hit_semi": float(values["land"] + values["talent"] >= 3), "hit_bio": 0.0}

    params = [Parameter("land", "levels", levels=(0.0, 1.0, 2.0, 3.0)),
              Parameter("talent", "levels", levels=(0.0, 1.0, 2.0, 3.0))]  # fmt: skip
    design = make_design(params, "grid")
    plan = SweepPlan.custom("grid", design, [1, 2], hits, ["hit_semi", "hit_bio"])
    run_sweep(plan, tmp_path / "g", LocalBackend(1), progress=False)
    results = load_results(tmp_path / "g")
    points = point_table(results, ["p_hit_semi", "p_hit_bio"])
    assert {"p_hit_semi", "p_hit_semi_low", "p_hit_semi_high", "runs"} <= set(points.columns)
    front = frontier(points, ["land", "talent"], 0.5)
    semi = front[front["cluster"] == "semi"]
    assert sorted(map(tuple, semi[["land", "talent"]].to_numpy())) == [(0, 3), (1, 2), (2, 1), (3, 0)]
    assert front[front["cluster"] == "bio"]["point"].isna().all()  # never reached
    with pytest.raises(AnalysisError, match="need a sobol or morris design"):
        sensitivity(results, "p_hit_semi")


# --- on the model ---------------------------------------------------------------------------------

MODEL = """
scenario = "{baseline}"
replicates = 2
outcomes = ["cagr", "hit", "city_cagr", "fiscal_cost"]

[design]
method = "{method}"
size = {size}

[set]
"simulation.below_scale_ratio" = 0.0
"simulation.end_year" = 2021
"simulation.steps_per_year" = 1

[parameters]
"levers.subsidy.rd_budget" = {{ range = [0.0, 20.0] }}
"levers.talent.budget_cap" = {{ range = [0.0, 40.0] }}
"uncertainties.demand.growth.semi" = "scenario"
"uncertainties.behaviour.spinoff_rate" = "scenario"

[analysis]
outcomes = ["cagr_semi", "fiscal_cost"]
"""


@pytest.mark.parametrize("method, size, indices", [("morris", 2, ("mu_star", "sigma")), ("sobol", 2, ("S1", "ST"))])
def test_analyze_ranks_the_levers_and_uncertainties_of_the_model(tmp_path, method, size, indices) -> None:
    path = tmp_path / f"{method}.toml"
    path.write_text(textwrap.dedent(MODEL.format(baseline=BASELINE.as_posix(), method=method, size=size)))
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["sweep", str(path), "--out", str(out), "-j", "1", "-q"])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(main, ["analyze", str(out)])
    assert result.exit_code == 0, result.output
    keys = ["levers.subsidy.rd_budget", "levers.talent.budget_cap", "uncertainties.demand.growth.semi",
            "uncertainties.behaviour.spinoff_rate"]  # fmt: skip
    for outcome in ("cagr_semi", "fiscal_cost"):
        table = pd.read_csv(out / f"sensitivity_{outcome}.csv")
        assert tuple(table.columns) == COLUMNS
        assert sorted(set(table["parameter"])) == sorted(keys)
        assert set(table["index"]) == set(indices) and len(table) == 2 * len(keys)
        primary = table[table["index"] == indices[1 if method == "sobol" else 0]]["value"].to_numpy()
        assert (np.diff(primary) <= 1e-12).all()  # ranked, largest first
        assert f"[{outcome}] (" in result.output and "rank  parameter" in result.output
    combined = pd.read_csv(out / "sensitivity.csv")  # for the tornado charts: every outcome
    assert tuple(combined.columns) == (*COLUMNS, "outcome")
    assert set(combined["outcome"]) == {"cagr_semi", "fiscal_cost"} and len(combined) == 4 * len(keys)
    # the label table names the outcomes and the parameters (the keys stay beside them)
    assert "Growth of Semiconductors, % a year [cagr_semi]" in result.output
    assert "R&D subsidy budget" in result.output and "Market growth for Semiconductors" in result.output
    if method == "morris":  # the budgets drive the fiscal cost; demand growth drives the cluster
        mu = pd.read_csv(out / "sensitivity_fiscal_cost.csv").query("index == 'mu_star'")["parameter"].tolist()
        assert set(mu[:2]) == {"levers.subsidy.rd_budget", "levers.talent.budget_cap"}
        mu = pd.read_csv(out / "sensitivity_cagr_semi.csv").query("index == 'mu_star'")["parameter"].tolist()
        assert mu[0] == "uncertainties.demand.growth.semi"


def test_analyze_errors_are_user_errors(tmp_path) -> None:
    result = CliRunner().invoke(main, ["analyze", str(tmp_path)])
    assert result.exit_code == 2 and "is not a sweep results folder" in result.stderr
    params = [Parameter(n, "range", low=0.0, high=1.0) for n in COEFFICIENTS]
    folder = analytic_sweep(tmp_path, linear, params, "morris", size=4)
    result = CliRunner().invoke(main, ["analyze", str(folder), "--outcome", "cagr_semi"])
    assert result.exit_code == 2 and "unknown outcome 'cagr_semi'; this sweep has: y" in result.stderr
