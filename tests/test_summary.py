"""Outcome analysis: CAGR, hits, gaps, Wilson intervals and the per-cluster summary."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest

from simulation.datapack import CLUSTER_INDEX, CLUSTERS, EMERGING, INDUSTRIAL, PILLARS
from simulation.experiments.summary import COLUMNS, cagr, interval, outcomes, share, summarise, wilson_interval
from simulation.model.results import CITY_METRICS, CLUSTER_METRICS, TOWN_METRICS, ReplicateResult
from simulation.scenario import load_scenario

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml"

positive = st.floats(min_value=1e-6, max_value=1e9, allow_nan=False, allow_infinity=False)
horizon = st.integers(min_value=1, max_value=50)


# --- CAGR -----------------------------------------------------------------------------------


def test_cagr_known_values() -> None:
    assert cagr(100.0, 100.0 * 1.1**5, 5) == pytest.approx(10.0)
    assert cagr(200.0, 100.0, 1) == pytest.approx(-50.0)
    assert cagr(100.0, 0.0, 5) == pytest.approx(-100.0)
    np.testing.assert_allclose(cagr(np.array([1.0, 2.0]), np.array([1.21, 2.0]), 2), [10.0, 0.0])


def test_cagr_undefined_without_a_positive_start() -> None:
    out = cagr(np.array([0.0, -1.0, 10.0]), np.array([5.0, 5.0, 10.0]), 5)
    assert np.isnan(out[0]) and np.isnan(out[1]) and out[2] == 0.0


def test_cagr_rejects_a_non_positive_horizon() -> None:
    with pytest.raises(ValueError):
        cagr(1.0, 2.0, 0)


@given(value=positive, years=horizon)
def test_cagr_of_a_constant_series_is_zero(value: float, years: int) -> None:
    assert cagr(value, value, years) == 0.0


@given(start=positive, rate=st.floats(min_value=-90.0, max_value=200.0), years=horizon)
def test_cagr_inverts_compounding(start: float, rate: float, years: int) -> None:
    end = start * (1 + rate / 100.0) ** years
    assert float(cagr(start, end, years)) == pytest.approx(rate, abs=1e-6)


# --- Wilson intervals -----------------------------------------------------------------------


@pytest.mark.parametrize(("k", "n"), [(0, 1), (1, 1), (0, 5), (5, 5), (3, 10), (1, 400), (200, 400), (399, 400)])
def test_wilson_matches_scipy(k: int, n: int) -> None:
    expected = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    low, high = wilson_interval(k, n)
    assert float(low) == pytest.approx(expected.low, abs=1e-12)
    assert float(high) == pytest.approx(expected.high, abs=1e-12)


@settings(max_examples=300)
@given(data=st.data(), n=st.integers(min_value=1, max_value=100_000))
def test_wilson_contains_the_estimate_and_lies_in_the_unit_interval(data: st.DataObject, n: int) -> None:
    k = data.draw(st.integers(min_value=0, max_value=n))
    low, high = (float(x) for x in wilson_interval(k, n))
    assert 0.0 <= low <= k / n <= high <= 1.0
    assert low < high


@settings(max_examples=100)
@given(data=st.data(), n=st.integers(min_value=1, max_value=2000))
def test_wilson_agrees_with_scipy_everywhere(data: st.DataObject, n: int) -> None:
    k = data.draw(st.integers(min_value=0, max_value=n))
    expected = binomtest(k, n).proportion_ci(method="wilson")
    low, high = wilson_interval(k, n)
    assert float(low) == pytest.approx(expected.low, abs=1e-9)
    assert float(high) == pytest.approx(expected.high, abs=1e-9)


def test_wilson_is_vectorised_and_nan_without_trials() -> None:
    low, high = wilson_interval(np.array([0, 2, 0]), np.array([4, 4, 0]))
    assert low.shape == (3,) and low[0] == 0.0 and 0 < low[1] < 0.5 < high[1] < 1
    assert np.isnan(low[2]) and np.isnan(high[2])


def test_share_counts_only_valid_entries() -> None:
    flags = np.array([[True, False], [True, True], [False, True]])
    valid = np.array([[True, True], [True, False], [True, True]])
    k, n, p, (low, high) = share(flags, valid)
    assert k.tolist() == [2, 1] and n.tolist() == [3, 2]
    np.testing.assert_allclose(p, [2 / 3, 0.5])
    assert np.all(low <= p) and np.all(p <= high)


def test_interval_is_median_and_5th_95th_percentiles() -> None:
    x = np.arange(101, dtype=float)[:, None] * np.array([1.0, 2.0])
    median, p5, p95 = interval(x)
    np.testing.assert_allclose(median, [50, 100])
    np.testing.assert_allclose(p5, [5, 10])
    np.testing.assert_allclose(p95, [95, 190])
    median, p5, p95 = interval(np.array([[1.0, np.nan], [3.0, np.nan]]))
    assert median[0] == 2.0 and np.isnan(median[1])


# --- outcomes on hand-made arrays -----------------------------------------------------------


def test_outcomes_hit_gap_and_keeping_pace() -> None:
    years = 5
    start = np.full((2, len(CLUSTERS)), 100.0)
    growth = np.full((2, len(CLUSTERS)), 5.0)  # % a year
    growth[0, CLUSTER_INDEX["soft"]] = 12.0  # hits 10 %
    growth[1, CLUSTER_INDEX["soft"]] = 9.0  # misses
    growth[0, CLUSTER_INDEX["tex"]] = 3.5  # gap -1.5 against a city at 5 %: falls behind
    growth[1, CLUSTER_INDEX["tex"]] = 4.2  # gap -0.8: keeps pace within 1 pp
    end = start * (1 + growth / 100) ** years
    city = np.stack([np.full(2, 1000.0), 1000.0 * 1.05**years * np.ones(2)], axis=1)
    out = outcomes(np.stack([start, end], axis=1), city, years, emerging_cagr=10.0, pillar_tolerance=1.0)
    np.testing.assert_allclose(out.cluster_cagr, growth)
    np.testing.assert_allclose(out.city_cagr, [5.0, 5.0])
    soft, tex = CLUSTER_INDEX["soft"], CLUSTER_INDEX["tex"]
    assert out.hit[:, soft].tolist() == [True, False]
    np.testing.assert_allclose(out.gap[:, tex], [-1.5, -0.8])
    assert out.keeps_pace[:, tex].tolist() == [False, True]
    assert out.keeps_pace[:, CLUSTER_INDEX["ngei"]].all()  # gap 0


def test_hit_at_exactly_the_target_counts() -> None:
    rev = np.array([[[100.0], [100.0 * 1.1**5]]])
    out = outcomes(rev, np.array([[1.0, 1.0]]), 5, emerging_cagr=10.0 - 1e-9, pillar_tolerance=0.0)
    assert out.hit.all()


# --- summarise on synthetic replicates ------------------------------------------------------


def _synthetic(growth: np.ndarray, seed: int, start_year: int = 2020, years: int = 5, spy: int = 4) -> ReplicateResult:
    """Above-scale revenue constant within each year and growing at ``growth`` % a year."""
    steps = years * spy
    year_of_step = np.concatenate([[0], np.repeat(np.arange(1, years + 1), spy)])
    start = 100.0 * (1 + np.arange(len(CLUSTERS)))
    revenue = start[None, :] * (1 + growth[None, :] / 100) ** year_of_step[:, None]
    cluster = np.ones((steps + 1, len(CLUSTERS), len(CLUSTER_METRICS)))
    cluster[:, :, list(CLUSTER_METRICS).index("revenue")] = revenue
    city = np.ones((steps + 1, len(CITY_METRICS)))
    industrial = [CLUSTER_INDEX[c] for c in INDUSTRIAL]
    city[:, list(CITY_METRICS).index("industrial_revenue")] = revenue[:, industrial].sum(axis=1)
    town = np.ones((steps + 1, 34, len(TOWN_METRICS)))
    return ReplicateResult(seed, start_year, spy, cluster, town, city, {"a": float(seed)})


@pytest.fixture(scope="module")
def spec():
    return load_scenario(BASELINE).spec


def test_summarise_recovers_known_growth(spec) -> None:
    rng = np.random.default_rng(1)
    growths = [rng.uniform(0, 20, len(CLUSTERS)) for _ in range(50)]
    results = [_synthetic(g, i) for i, g in enumerate(growths)]
    summary = summarise(results, spec)
    table = summary.table.set_index("cluster")
    assert list(summary.table.columns) == list(COLUMNS)
    assert list(table.index) == [*CLUSTERS, "city"]
    g = np.array(growths)
    np.testing.assert_allclose(table.loc[list(CLUSTERS), "cagr_median"], np.median(g, axis=0))
    np.testing.assert_allclose(table.loc[list(CLUSTERS), "cagr_p5"], np.percentile(g, 5, axis=0))
    np.testing.assert_allclose(table.loc[list(CLUSTERS), "cagr_p95"], np.percentile(g, 95, axis=0))
    for c in EMERGING:
        k = int((g[:, CLUSTER_INDEX[c]] >= spec.targets.emerging_cagr).sum())
        assert table.loc[c, "hits"] == k
        assert table.loc[c, "p_hit"] == pytest.approx(k / 50)
        ci = binomtest(k, 50).proportion_ci(method="wilson")
        assert table.loc[c, "p_hit_low"] == pytest.approx(ci.low)
        assert table.loc[c, "p_hit_high"] == pytest.approx(ci.high)
        assert math.isnan(table.loc[c, "gap_median"])
    city = summary.outcomes.city_cagr
    for c in PILLARS:
        gap = g[:, CLUSTER_INDEX[c]] - city
        assert table.loc[c, "gap_median"] == pytest.approx(np.median(gap))
        assert table.loc[c, "keeps_pace"] == int((gap >= -spec.targets.pillar_tolerance).sum())
        assert math.isnan(table.loc[c, "p_hit"])
    assert table.loc["city", "cagr_median"] == pytest.approx(np.median(city))
    assert table.loc["other", "kind"] == "other" and math.isnan(table.loc["other", "p_hit"])
    assert table.loc["ngei", "name_zh"] == "新一代电子信息"
    assert table.loc["soft", "revenue_start_median"] == pytest.approx(500.0)


def test_summary_data_is_strict_json(spec) -> None:
    results = [_synthetic(np.full(len(CLUSTERS), 8.0), i) for i in range(3)]
    data = summarise(results, spec).data
    text = json.dumps(data, allow_nan=False, ensure_ascii=False)
    back = json.loads(text)
    assert back["replicates"] == 3 and back["start_year"] == 2020 and back["end_year"] == 2025
    kinds = {row["cluster"]: row for row in back["clusters"]}
    assert set(kinds) == set(CLUSTERS)
    assert "hit" in kinds["semi"] and "gap" not in kinds["semi"]
    assert "gap" in kinds["ngei"] and "keeps_pace" in kinds["ngei"] and "hit" not in kinds["ngei"]
    assert kinds["semi"]["hit"]["p"] == 0.0  # 8 % < 10 %
    assert back["city"]["cagr"]["median"] == pytest.approx(8.0)


def test_summarise_uses_the_scenario_years(spec) -> None:
    short = spec.model_copy(update={"simulation": spec.simulation.model_copy(update={"end_year": 2023})})
    results = [_synthetic(np.full(len(CLUSTERS), 6.0), i, years=3) for i in range(2)]
    summary = summarise(results, short)
    assert summary.data["end_year"] == 2023
    np.testing.assert_allclose(summary.table["cagr_median"], 6.0)


def test_a_zero_start_is_left_out_not_counted_as_a_miss(spec) -> None:
    results = [_synthetic(np.full(len(CLUSTERS), 12.0), i) for i in range(4)]
    j = list(CLUSTER_METRICS).index("revenue")
    results[0].cluster[0, CLUSTER_INDEX["semi"], j] = 0.0
    row = summarise(results, spec).table.set_index("cluster").loc["semi"]
    assert row["n"] == 3 and row["hits"] == 3 and row["p_hit"] == 1.0
