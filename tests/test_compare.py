"""Paired scenario comparison: the interval formulas, and `simulate compare` on the model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy import stats

from simulation.cli import main
from simulation.experiments.compare import newcombe_paired, newcombe_unpaired, paired_mean, welch
from simulation.experiments.seeds import replicate_seeds

ROOT = Path(__file__).resolve().parents[1]


# --- the formulas ---------------------------------------------------------------------------


def test_newcombe_unpaired_reproduces_newcombes_example() -> None:
    # Newcombe (1998), Statistics in Medicine 17:873, example (e): 56/70 - 48/80, method 10: 0.0524 to 0.3339
    a = np.r_[np.ones(56), np.zeros(14)].astype(bool)
    b = np.r_[np.ones(48), np.zeros(32)].astype(bool)
    d, low, high = newcombe_unpaired(a, b)
    assert d == pytest.approx(0.2)
    assert (low, high) == pytest.approx((0.0524, 0.3339), abs=1e-4)


def test_newcombe_paired_is_narrower_when_outcomes_agree_and_equal_when_uncorrelated() -> None:
    rng = np.random.default_rng(1)
    a = rng.random(40) < 0.6
    b = a.copy()
    b[:4] = ~b[:4]  # pairs agree on 36 of 40
    _, plo, phi, f, g = newcombe_paired(a, b)
    _, ulo, uhi = newcombe_unpaired(a, b)
    assert phi - plo < uhi - ulo
    assert f + g == 4
    # no correlation (phi = 0): the paired interval is the unpaired one
    a = np.array([1, 1, 0, 0] * 10, bool)
    b = np.array([1, 0, 1, 0] * 10, bool)
    assert newcombe_paired(a, b)[1:3] == pytest.approx(newcombe_unpaired(a, b)[1:3])
    # identical outcomes: difference 0 with a narrow interval around it
    d, lo, hi, _, _ = newcombe_paired(a, a)
    assert d == 0 and lo <= 0 <= hi and hi - lo < newcombe_unpaired(a, a)[2] - newcombe_unpaired(a, a)[1]


def test_mean_intervals_agree_with_scipy() -> None:
    rng = np.random.default_rng(2)
    a = rng.normal(10, 2, 30)
    b = a - 1 + rng.normal(0, 0.3, 30)
    d, lo, hi = paired_mean(a, b)
    ci = stats.ttest_rel(a, b).confidence_interval()
    assert d == pytest.approx(np.mean(a - b)) and (lo, hi) == pytest.approx((ci.low, ci.high))
    d, lo, hi = welch(a, b)
    ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval()
    assert (lo, hi) == pytest.approx((ci.low, ci.high))
    assert hi - lo > paired_mean(a, b)[2] - paired_mean(a, b)[1]


# --- on the model ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def comparison(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("compare") / "cmp"
    done = CliRunner().invoke(main, [
        "compare", str(ROOT / "scenarios" / "baseline.toml"), str(ROOT / "scenarios" / "no_policy.toml"),
        "--replicates", "20", "--set", "simulation.below_scale_ratio=0.2", "--workers", "2",
        "--out", str(out), "--lang", "en", "--chart-format", "png",
    ])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "baseline − no_policy" in done.output and "paired 95 % CI" in done.output
    return out


def test_paired_intervals_are_narrower_than_unpaired(comparison) -> None:
    table = pd.read_csv(comparison / "comparison.csv")
    assert set(table.measure) == {"cagr", "p_hit", "p_keeps_pace", "p_all_hit", "public_cost", "revenue_total",
                                  "value_added_total", "revenue_per_yi", "value_added_per_yi"}
    ratios = table[table.measure.str.endswith("_per_yi")]
    table = table[~table.measure.str.endswith("_per_yi")]  # ratios have no unpaired interval
    cagr = table[table.measure == "cagr"]
    assert len(cagr) == 11 and (cagr.n >= 18).all()  # a CAGR is undefined where start revenue is not positive
    assert (cagr.paired_width < cagr.unpaired_width).all(), cagr[["cluster", "paired_width", "unpaired_width"]]
    assert (cagr.paired_width < 0.5 * cagr.unpaired_width).mean() >= 0.8  # common random numbers pay off
    shares = table[table.measure.str.startswith("p_")]
    assert (shares.paired_width <= shares.unpaired_width + 1e-12).all()
    assert shares.paired_width.sum() < shares.unpaired_width.sum()
    # each interval holds its estimate
    assert ((table.paired_low <= table["diff"] + 1e-12) & (table["diff"] <= table.paired_high + 1e-12)).all()
    finite = ratios.dropna(subset=["diff"])
    assert ((finite.paired_low <= finite["diff"]) & (finite["diff"] <= finite.paired_high)).all()


def test_both_scenarios_ran_the_same_seeds_and_are_full_results_folders(comparison) -> None:
    data = json.loads((comparison / "comparison.json").read_text(encoding="utf-8"))
    assert data["a"]["name"] == "baseline" and data["b"]["name"] == "no_policy"
    seeds = replicate_seeds(data["root_seed"], 20)
    for key in ("a", "b"):
        manifest = json.loads((comparison / data["folders"][key] / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["seeds"] == seeds
        assert (comparison / data["folders"][key] / "summary.csv").is_file()
    # the differences are the summaries' own numbers, paired
    a = pd.read_csv(comparison / data["folders"]["a"] / "summary.csv").set_index("cluster")
    b = pd.read_csv(comparison / data["folders"]["b"] / "summary.csv").set_index("cluster")
    rows = pd.DataFrame(data["rows"])
    hits = rows[rows.measure == "p_hit"].set_index("cluster")
    for cluster, row in hits.iterrows():
        assert row["a"] == pytest.approx(a.loc[cluster, "p_hit"]) and row["b"] == pytest.approx(b.loc[cluster, "p_hit"])
        assert row["diff"] == pytest.approx(a.loc[cluster, "p_hit"] - b.loc[cluster, "p_hit"])


def test_comparison_charts_show_the_table(comparison) -> None:
    from matplotlib.collections import LineCollection

    from simulation.reporting.charts import Inputs, make_charts
    from simulation.reporting.charts.style import CLUSTER_ORDER, house_style

    for name in ("paired_differences", "scenario_comparison"):
        assert (comparison / "charts" / "en" / f"{name}.png").is_file()
    table = pd.read_csv(comparison / "comparison.csv")
    with house_style("en"):
        made, _ = make_charts(Inputs.from_folders([comparison]), "en")
    fig = {c.name: c for c in made}["paired_differences"].figure
    order = {c: i for i, c in enumerate([*CLUSTER_ORDER, "city"])}
    for gid, measures in (("cagr", ["cagr"]), ("target", ["p_hit", "p_keeps_pace"])):
        rows = table[table.measure.isin(measures) & table.kind.isin(["emerging", "pillar", "city"])]
        rows = rows.sort_values("cluster", key=lambda s: s.map(order))  # the house order, top to bottom
        (lines,) = fig.findobj(lambda a, g=f"paired:{gid}": a.get_gid() == g and isinstance(a, LineCollection))
        seg = np.array(lines.get_segments())
        top_down = np.argsort(-seg[:, 0, 1])
        np.testing.assert_allclose(seg[top_down, :, 0], rows[["paired_low", "paired_high"]].to_numpy(), rtol=1e-9)
    # beside the mean's CI, the spread of the per-replicate effects (it does not shrink with more replicates)
    cagr = table[(table.measure == "cagr") & table.kind.isin(["emerging", "pillar", "city"])].sort_values("cluster", key=lambda s: s.map(order))
    assert ((cagr.spread_p5 <= cagr.paired_low + 1e-12) & (cagr.paired_high <= cagr.spread_p95 + 1e-12)).all()
    from matplotlib.patches import Rectangle

    bars = sorted(fig.findobj(lambda a: a.get_gid() == "spread:cagr" and isinstance(a, Rectangle)), key=lambda b: -b.get_y())
    # and the comparison charts are fit to print, in both languages
    from simulation.reporting.charts.proof import problems

    for lang in ("en", "zh"):
        with house_style(lang):
            charts, _ = make_charts(Inputs.from_folders([comparison]), lang)
        for chart in charts:
            assert problems(chart.figure, lang) == [], (lang, chart.name)
    np.testing.assert_allclose([b.get_x() for b in bars], cagr.spread_p5, rtol=1e-9)
    np.testing.assert_allclose([b.get_x() + b.get_width() for b in bars], cagr.spread_p95, rtol=1e-9)


def test_spread_is_of_the_per_replicate_differences(comparison) -> None:
    data = json.loads((comparison / "comparison.json").read_text(encoding="utf-8"))
    a = pd.read_csv(comparison / data["folders"]["a"] / "summary.csv").set_index("cluster")
    rows = {r["cluster"]: r for r in data["rows"] if r["measure"] == "cagr"}
    city = rows["city"]
    assert city["spread_p5"] <= city["diff"] <= city["spread_p95"]
    # the per-replicate differences, from the two runs' own data
    series = {}
    for key in ("a", "b"):
        frame = pd.read_parquet(comparison / data["folders"][key] / "data.parquet")
        frame = frame[(frame.scope == "city") & (frame.metric == "industrial_revenue") & (frame.frequency == "year")]
        wide = frame.pivot_table(index="replicate", columns="year", values="value", observed=True)
        y0, y1 = wide.columns.min(), data["end_year"]
        series[key] = ((wide[y1] / wide[y0]) ** (1 / (y1 - y0)) - 1) * 100
    diffs = series["a"] - series["b"]
    assert diffs.mean() == pytest.approx(city["diff"]) and np.percentile(diffs, 5) == pytest.approx(city["spread_p5"])
    assert a.loc["city", "n"] == len(diffs)


def test_a_report_of_a_comparison_says_what_the_policy_adds(comparison, tmp_path) -> None:
    done = CliRunner().invoke(main, ["report", str(comparison), "--out", str(tmp_path), "--lang", "en"])
    assert done.exit_code == 0, done.output
    html = (tmp_path / "report.en.html").read_text(encoding="utf-8")
    assert "<h2>What the policy adds</h2>" in html and "Baseline against No policy" in html
    assert html.count('id="chart-paired_differences"') == 1 and html.count('id="chart-scenario_comparison"') == 1
    assert html.count('id="chart-fan_emerging"') == 1 and "chart-fan_ene" not in html  # each chart once
    assert "overstates what the 2021 policy itself adds" in html  # the no-policy counterfactual's limit


def test_compare_user_errors(tmp_path) -> None:
    runner = CliRunner()
    done = runner.invoke(main, ["compare", str(ROOT / "scenarios" / "baseline.toml"), str(tmp_path / "missing.toml")])
    assert done.exit_code == 2 and "Traceback" not in done.output
    done = runner.invoke(main, ["compare", str(ROOT / "scenarios" / "baseline.toml"),
                                str(ROOT / "scenarios" / "no_policy.toml"), "--replicates", "0"])
    assert done.exit_code == 2 and "--replicates 0" in done.output
