"""The Python API (simulation.api): overrides as Python values, run/Results, save, compare, evaluate."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import simulation as sim
from simulation.cli import main
from simulation.experiments.runner import run_replicates
from simulation.experiments.seeds import replicate_seeds
from simulation.experiments.summary import summarise
from simulation.scenario import ScenarioError
from simulation.scenario import load_scenario as load_toml

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"
SHORT = {"simulation.end_year": 2022}  # two years: fast, and the summary is still defined


# --- overrides as Python values ---------------------------------------------------------------


def test_dotted_keys_nested_dicts_and_set_options_give_the_same_scenario() -> None:
    dotted = sim.load_scenario(BASELINE, **{"levers.land.floor_multiplier": 3.0, "simulation.replicates": 7})
    nested = sim.load_scenario(BASELINE, levers={"land": {"floor_multiplier": 3.0}}, simulation={"replicates": 7})
    toml = load_toml(BASELINE, ["levers.land.floor_multiplier=3.0", "simulation.replicates=7"])
    assert dotted.sha256 == nested.sha256 == toml.sha256
    assert dotted.spec.levers.land.floor_multiplier == 3.0 and dotted.spec.simulation.replicates == 7
    assert dotted.overrides == ("levers.land.floor_multiplier=3.0", "simulation.replicates=7")
    # everything else in [levers.land] is kept: a nested dict changes only the keys it names
    base = sim.load_scenario(BASELINE).spec.levers.land
    assert dotted.spec.levers.land.model_copy(update={"floor_multiplier": base.floor_multiplier}) == base


def test_a_dict_where_the_schema_wants_a_table_value_replaces_it_whole() -> None:
    loaded = sim.load_scenario(BASELINE, levers={"funds": {"guidance": {"mandate": {"semi": 1.0}}}})
    assert loaded.spec.levers.funds["guidance"].mandate == {"semi": 1.0}
    assert loaded.spec.levers.funds["ic"].mandate == {"semi": 1.0}  # other funds untouched
    fixed = sim.load_scenario(BASELINE, uncertainties={"demand": {"volatility": {"dist": "uniform", "low": 1.0,
                                                                                  "high": 2.0}}})
    assert fixed.spec.uncertainties.demand.volatility.dist == "uniform"


def test_numpy_values_are_plain_values() -> None:
    loaded = sim.load_scenario(BASELINE, **{"levers.talent.subsidy": np.float64(0.05),
                                            "levers.subsidy.little_giants_per_year": np.int64(12)})
    assert loaded.spec.levers.talent.subsidy == 0.05 and loaded.spec.levers.subsidy.little_giants_per_year == 12


@pytest.mark.parametrize(
    "overrides, fragments",
    [
        ({"levers.land.floor_multiplier": -1.0}, ["levers.land.floor_multiplier", "greater than 0", "override"]),
        ({"levers.land.floor_multipler": 1.0}, ["unknown key; did you mean 'floor_multiplier'?"]),
        ({"levers": {"talent": {"enabled": "yes"}}}, ["levers.talent.enabled", "true or false"]),
        ({"levers.talent.subsidy": None}, ["levers.talent.subsidy", "cannot be set to None"]),
    ],
)
def test_bad_overrides_are_one_clear_error(overrides, fragments) -> None:
    with pytest.raises(ScenarioError) as info:
        sim.load_scenario(BASELINE, **overrides)
    message = str(info.value)
    assert "\n" not in message and "--set" not in message
    for fragment in fragments:
        assert fragment in message, message


# --- run and Results ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def results() -> sim.Results:
    return sim.run(BASELINE, replicates=3, seed=11, progress=False, **SHORT)


def test_run_returns_the_runners_replicates_and_summary(results) -> None:
    spec = results.scenario.spec
    assert spec.simulation.replicates == 3 and spec.simulation.seed == 11
    assert results.seeds == replicate_seeds(11, 3)
    direct = run_replicates(spec, results.seeds, 1, progress=False)
    for a, b in zip(results.replicates, direct):
        assert np.array_equal(a.cluster, b.cluster, equal_nan=True) and np.array_equal(a.city, b.city, equal_nan=True)
    # with the counterfactual the scenario names (business_as_usual's levers), as `simulate run`
    name, counter = results.counterfactual
    assert name == "business_as_usual" and len(counter) == 3
    pd.testing.assert_frame_equal(results.summary, summarise(direct, spec, results.counterfactual).table)
    assert isinstance(results.data, pd.DataFrame) and set(results.data["replicate"]) == {0, 1, 2}
    assert list(results.parameters["seed"]) == results.seeds
    # the same from a loaded scenario (workers do not change results: tests/test_reproducibility.py)
    again = sim.run(sim.load_scenario(BASELINE, **SHORT), replicates=3, seed=11, progress=False)
    pd.testing.assert_frame_equal(again.summary, results.summary)


def test_save_writes_the_folder_simulate_run_writes(results, tmp_path: Path) -> None:
    saved = results.save(tmp_path / "api")
    cli = tmp_path / "cli"
    done = CliRunner().invoke(main, ["run", str(BASELINE), "--set", "simulation.end_year=2022", "-n", "3",
                                     "--seed", "11", "-j", "1", "--out", str(cli), "--quiet"])
    assert done.exit_code == 0, done.output
    files = sorted(p.name for p in cli.iterdir())
    assert sorted(p.name for p in saved.iterdir()) == files
    for name in files:
        if name != "manifest.json":  # timestamps, host and command differ; everything else is byte-identical
            assert (saved / name).read_bytes() == (cli / name).read_bytes(), name
    with pytest.raises(Exception, match="already exists"):
        results.save(saved)


def test_compare_pairs_the_replicates(results) -> None:
    same = sim.compare(results.scenario, results.scenario, progress=False)
    assert (same.table["diff"].fillna(0) == 0).all()
    without_talent = sim.load_scenario(BASELINE, levers={"talent": {"enabled": False}}, **SHORT)
    paired = sim.compare(results.scenario, without_talent, replicates=3, seed=11, progress=False)
    assert paired.seeds == results.seeds
    assert {"diff", "paired_low", "paired_high"} <= set(paired.table.columns)


# --- evaluate ----------------------------------------------------------------------------------


def test_evaluate_is_run_summarised_into_a_flat_dict(results) -> None:
    out = sim.evaluate({}, {}, seed=11, replicates=3, scenario=sim.load_scenario(BASELINE, **SHORT))
    table = results.summary.set_index("cluster")
    assert out["cagr_median_semi"] == pytest.approx(table.loc["semi", "cagr_median"])
    assert out["hit_p_semi"] == pytest.approx(table.loc["semi", "p_hit"])
    assert out["keeps_pace_p_food"] == pytest.approx(table.loc["food", "p_keeps_pace"])
    assert out["cagr_median_city"] == pytest.approx(table.loc["city", "cagr_median"])
    assert all(isinstance(v, float) for v in out.values())
    for key in ("cagr_semi", "hit_semi", "city_cagr", "fiscal_cost", "cost_talent_subsidy", "fund_investment"):
        assert key in out  # the per-run outcomes of a sweep, averaged over the replicates
    assert out["hit_semi"] == pytest.approx(out["hit_p_semi"])


def test_evaluate_sets_levers_and_fixes_uncertainties() -> None:
    scenario = sim.load_scenario(BASELINE, **SHORT)
    paid = sim.evaluate({"talent.subsidy": 0.05}, {"demand.volatility": 1.5}, seed=2, scenario=scenario)
    unpaid = sim.evaluate({"levers.talent.enabled": False}, {"demand.volatility": 1.5}, seed=2, scenario=scenario)
    assert paid["cost_talent_subsidy"] > 0 and unpaid["cost_talent_subsidy"] == 0
    assert paid.keys() == unpaid.keys()  # the same outcomes whatever the inputs (what EMA Workbench needs)
    drawn = sim.run(scenario, replicates=1, seed=2, progress=False,
                    **{"uncertainties.demand.volatility": 1.5}).parameters["demand.volatility"]
    assert list(drawn) == [1.5]
    with pytest.raises(ScenarioError, match="levers.land.floor_multiplier"):
        sim.evaluate({"land.floor_multiplier": 0.0}, {}, seed=1, scenario=scenario)


def test_undefined_outcomes_are_nan_not_missing() -> None:
    from simulation.api import summary_outcomes

    class Fake:
        data = {"start_year": 2020, "clusters": [{"cluster": "semi", "kind": "emerging", "n": 0,
                                                  "cagr": {"median": None}, "hit": {"p": None, "count": 0}}],
                "city": {"cluster": "city", "cagr": {"median": 3.0}}, "p_all_emerging": {"p": 0.25}}

    out = summary_outcomes(Fake)
    assert math.isnan(out["cagr_median_semi"]) and math.isnan(out["hit_p_semi"]) and out["hit_count_semi"] == 0
    assert out["cagr_median_city"] == 3.0 and out["p_all_emerging_p"] == 0.25  # new summary numbers flow through
    assert "start_year" not in out


def test_the_package_exports_the_api_lazily() -> None:
    code = "import sys, simulation; assert 'simulation.api' not in sys.modules; simulation.run; " \
           "assert 'simulation.api' in sys.modules"
    import subprocess

    subprocess.run([sys.executable, "-c", code], check=True)
    assert set(sim.__all__) >= {"load_scenario", "run", "compare", "evaluate", "Results", "ClusterModel"}
