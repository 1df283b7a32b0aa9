"""Scenario discovery (simulate discover): PRIM recovers a failure region a test plants.

The sweep is the shipped experiments/discovery.toml design (its parameters, priors and Latin
hypercube) with a synthetic outcome in place of the model: biomedicine's growth falls below the
target when its demand grows below 6 % a year *and* more than 1.0 investment projects a year are
won without agencies (an arbitrary pair, so that PRIM has to find two of the sweep's 41 dimensions), and
1 % of the other futures fail at random.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from simulation.analysis import discovery as sd
from simulation.analysis.sensitivity import AnalysisError, load_results
from simulation.cli import main
from simulation.experiments.experiment_file import load_experiment
from simulation.experiments.sweep import LocalBackend, SweepPlan, run_sweep

ROOT = Path(__file__).resolve().parents[1]
BIO, INFLOW = "uncertainties.demand.growth.bio", "uncertainties.policy.investment_inflow"


def planted(values: dict, seed: int) -> dict:
    """cagr_bio 8 in the planted region, else 12; 1 % of runs flip at random (keyed by point and seed)."""
    inside = values[BIO] < 6.0 and values[INFLOW] > 1.0
    digest = hashlib.sha256(repr((sorted(values.items()), seed)).encode()).digest()
    flip = int.from_bytes(digest[:4], "little") / 2**32 < 0.01
    fails = inside != flip
    return {"cagr_bio": 8.0 if fails else 12.0, "city_cagr": 6.0}


@pytest.fixture(scope="module")
def planted_sweep(tmp_path_factory) -> Path:
    experiment = load_experiment(ROOT / "experiments" / "discovery.toml")
    plan = SweepPlan.custom("discovery", experiment.design(), experiment.seeds(), planted, ["cagr_bio", "city_cagr"])
    folder = tmp_path_factory.mktemp("planted") / "sweep"
    run_sweep(plan, folder, LocalBackend(1), progress=False)
    return folder


def test_discover_recovers_the_planted_box(planted_sweep) -> None:
    result = CliRunner().invoke(main, ["discover", str(planted_sweep), "--fails", "cagr_bio<10", "--format", "png"])
    assert result.exit_code == 0, result.output
    folder = planted_sweep / "discovery" / "cagr_bio_below_10"
    findings = json.loads((folder / "findings.json").read_text(encoding="utf-8"))
    assert findings["box"]["coverage"] >= 0.8 and findings["box"]["density"] >= 0.8, findings["box"]
    assert sorted(findings["restricted"]) == sorted([BIO, INFLOW])
    box = pd.read_csv(folder / "box.csv").set_index("parameter")
    assert box.loc[BIO, "restricted_high"] and not box.loc[BIO, "restricted_low"]
    assert box.loc[INFLOW, "restricted_low"] and not box.loc[INFLOW, "restricted_high"]
    assert 5.0 < box.loc[BIO, "high"] < 7.0 and 0.8 < box.loc[INFLOW, "low"] < 1.2
    assert (box.loc[[BIO, INFLOW], "quasi_p"] < 0.05).all()
    # the sentence names the cluster and the conditions in words, not keys
    sentence = findings["sentence"]["en"]
    assert sentence.startswith("Biomedicine growth is below") or "Biomedicine" in sentence or "biomedicine" in sentence
    assert "market growth for Biomedicine is below" in sentence and "investment projects on offer is above" \
        in sentence and "uncertainties." not in sentence
    assert "生物医药市场需求增长低于" in findings["sentence"]["zh"] and "可争取的投资项目高于" in findings["sentence"]["zh"]
    assert sentence in result.output
    # the peeling trajectory, the chosen box on it, and CART's leaves
    trajectory = pd.read_csv(folder / "trajectory.csv")
    assert trajectory["chosen"].sum() == 1 and trajectory["coverage"].iloc[0] == 1.0
    assert trajectory["density"].iloc[0] == pytest.approx(findings["base_rate"])
    cart = pd.read_csv(folder / "cart.csv")
    assert cart["density"].iloc[0] >= 0.8
    for lang in ("en", "zh"):
        for name in ("discovery_tradeoff", "discovery_box"):
            assert (folder / "charts" / lang / f"{name}.png").stat().st_size > 10_000


def test_a_box_is_densest_within_the_coverage_floor() -> None:
    trajectory = pd.DataFrame({"id": range(5), "coverage": [1.0, 0.9, 0.7, 0.45, 0.2],
                               "density": [0.1, 0.3, 0.6, 0.9, 1.0], "res_dim": [0, 1, 2, 2, 3]})  # fmt: skip
    assert sd.candidate_boxes(trajectory, 0.5) == [2, 1, 0]
    assert sd.candidate_boxes(trajectory, 0.4)[0] == 3
    assert sd.candidate_boxes(trajectory, 0.99) == [0]
    assert sd.candidate_boxes(trajectory, 1.01) == [0]  # none covers enough: the whole space


def test_no_failure_or_all_failures_is_refused(planted_sweep) -> None:
    loaded = load_results(planted_sweep)
    with pytest.raises(AnalysisError, match="no run fails"):
        sd.discover(loaded, sd.parse_failure("city_cagr<0", loaded.outcome_columns))
    with pytest.raises(AnalysisError, match="every run fails"):
        sd.discover(loaded, sd.parse_failure("city_cagr>0", loaded.outcome_columns))


@pytest.mark.parametrize("rule, message", [
    ("bio", "hit_bio"),                      # this sweep recorded no hit columns
    ("cagr_bio<<3", "expected all"),
    ("nonsense>3", "no outcome column 'nonsense'"),
])  # fmt: skip
def test_bad_rules_are_one_line_errors(planted_sweep, rule, message) -> None:
    result = CliRunner().invoke(main, ["discover", str(planted_sweep), "--fails", rule])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def test_failure_rules_read_the_run_columns() -> None:
    runs = pd.DataFrame({"hit_all": [True, False, None], "hit_bio": [True, False, True], "city_cagr": [4.0, 6.0, np.nan]})
    columns = list(runs.columns)
    assert sd.parse_failure("all", columns).flags(runs).tolist() == [False, True, pd.NA]
    assert sd.parse_failure("bio", columns).flags(runs).tolist() == [False, True, False]
    assert sd.parse_failure("city_cagr<5", columns).flags(runs).tolist() == [True, False, pd.NA]
    assert sd.parse_failure("bio", columns).describe("en") == "Biomedicine misses 10 % a year"
