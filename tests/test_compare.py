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
    from simulation.reporting.charts.style import house_style

    for name in ("paired_differences", "scenario_comparison"):
        assert (comparison / "charts" / "en" / f"{name}.png").is_file()
    table = pd.read_csv(comparison / "comparison.csv")
    with house_style("en"):
        made, _ = make_charts(Inputs.from_folders([comparison]), "en")
    fig = {c.name: c for c in made}["paired_differences"].figure
    for gid, measures in (("cagr", ["cagr"]), ("target", ["p_hit", "p_keeps_pace"])):
        rows = table[table.measure.isin(measures)]
        if gid == "target":
            rows = pd.concat([rows[rows.kind == "emerging"], rows[rows.kind == "pillar"]])
        for kind, low, high in (("paired", "paired_low", "paired_high"), ("unpaired", "unpaired_low", "unpaired_high")):
            (lines,) = fig.findobj(lambda a, g=f"{kind}:{gid}": a.get_gid() == g and isinstance(a, LineCollection))
            seg = np.array(lines.get_segments())
            order = np.argsort(-seg[:, 0, 1])  # top to bottom
            np.testing.assert_allclose(seg[order, :, 0], rows[[low, high]].to_numpy(), rtol=1e-9)
