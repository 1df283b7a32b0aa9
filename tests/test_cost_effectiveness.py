"""Revenue and value added per 亿 of public money: in `simulate analyze` and in the report's sentences."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from _chart_results import small_results
from click.testing import CliRunner

from simulation.analysis.sensitivity import default_outcomes, load_results, point_means
from simulation.cli import main
from simulation.experiments.design import Parameter, make_design
from simulation.experiments.sweep import LocalBackend, SweepPlan, run_sweep
from simulation.reporting import cost_effectiveness
from simulation.reporting.labels import scenario as scenario_label
from simulation.reporting.wording import money

MONEY = ["fiscal_cost", "revenue_total", "value_added_total", "revenue_per_yi", "value_added_per_yi", "city_cagr"]


def spending(values: dict, seed: int) -> dict:
    """Cost grows with the lever; value added less than in proportion; one future in three spends nothing."""
    cost = 0.0 if seed % 3 == 0 else 10.0 + 40.0 * values["levers.x"]
    va = 1000.0 + 30.0 * cost ** 0.5
    return {"fiscal_cost": cost, "revenue_total": 3 * va, "value_added_total": va, "city_cagr": 5.0,
            "revenue_per_yi": 3 * va / cost if cost else None, "value_added_per_yi": va / cost if cost else None}


@pytest.fixture(scope="module")
def money_sweep(tmp_path_factory):
    design = make_design([Parameter("levers.x", "range", low=0.0, high=1.0)], "lhs", size=6, seed=1)
    plan = SweepPlan.custom("money", design, [1, 2, 3, 4, 5, 6], spending, MONEY)
    folder = tmp_path_factory.mktemp("money") / "sweep"
    run_sweep(plan, folder, LocalBackend(1), progress=False)
    return folder


def test_analyze_reports_value_added_per_yi_as_a_ratio_of_totals(money_sweep) -> None:
    result = CliRunner().invoke(main, ["analyze", str(money_sweep), "--outcome", "value_added_per_yi",
                                       "--outcome", "city_cagr"])  # fmt: skip
    assert result.exit_code == 0, result.output
    points = pd.read_csv(money_sweep / "points.csv")
    runs = pd.read_parquet(money_sweep / "runs")
    for point, group in runs.groupby("point"):
        expected = group["value_added_total"].sum() / group["fiscal_cost"].sum()
        got = points.loc[points["point"] == point, "value_added_per_yi"].item()
        assert got == pytest.approx(expected, rel=1e-5)  # written with %.6g
        assert expected != pytest.approx(group["value_added_per_yi"].mean())  # not the mean of the runs' ratios


def test_analyze_ranks_per_yi_beside_growth_by_default(money_sweep) -> None:
    loaded = load_results(money_sweep)
    loaded.manifest["analysis"]["outcomes"] = []  # no [analysis] outcomes in the file
    assert default_outcomes(loaded)[-4:] == ["city_cagr", "fiscal_cost", "revenue_per_yi", "value_added_per_yi"]
    means, counts = point_means(loaded, "revenue_per_yi")
    assert np.isfinite(means).all() and (counts == 6).all()


@pytest.fixture(scope="module")
def summary(tmp_path_factory) -> dict:
    return json.loads((small_results(tmp_path_factory) / "summary.json").read_text(encoding="utf-8"))


def test_the_report_states_cost_and_effects_per_yi_from_the_summary(summary) -> None:
    sentences = cost_effectiveness.findings(summary, "en")
    cost = summary["public_cost"]
    text, numbers = sentences[0]
    assert numbers["median"] == cost["total"]["median"] and money(cost["total"]["median"], "en") in text
    text, numbers = sentences[1]
    assert "not effects" in text and numbers["value_added_per_yi"] == cost["value_added_per_yi"]
    text, numbers = sentences[2]  # the baseline has a counterfactual (business_as_usual)
    block = summary["counterfactual"]
    assert scenario_label(block["scenario"], "en") in text and numbers["extra_cost"] == block["extra_cost"]["mean"]
    if block["value_added_per_yi"]["ratio"] is not None:
        assert f"each extra yuan adds {block['value_added_per_yi']['ratio']:.2f} yuan of value added" in text
    zh = cost_effectiveness.findings(summary, "zh")
    assert len(zh) == len(sentences) and "财政支出" in zh[0][0]
    caption, header, rows = cost_effectiveness.table(summary, "en")
    assert len(header) == 2 and any("per extra yuan" in r[0] for r in rows)


def test_no_effect_per_yi_without_a_clearly_positive_extra_cost(summary) -> None:
    block = dict(summary["counterfactual"])
    block["value_added_per_yi"] = {"ratio": None, "ci_low": None, "ci_high": None}
    text, _ = cost_effectiveness.findings({**summary, "counterfactual": block}, "en")[2]
    assert "no effect per yuan is stated" in text
    assert cost_effectiveness.findings({**summary, "public_cost": None}) == []
