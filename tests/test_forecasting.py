"""Forecast evaluation: scores against closed forms, benchmarks on synthetic series, the observed
series against the data-pack files, the backtest table and its Markdown, and the fan charts.

Expected values are computed here independently (closed forms, numerical integrals, the CSV
files read with the csv module), not through the code under test.
"""

from __future__ import annotations

import csv
import math
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.text import Text
from scipy import integrate, stats

from simulation.forecasting import backtest_table as bt
from simulation.forecasting import benchmarks as bm
from simulation.forecasting import scores
from simulation.forecasting.observations import NOT_SCORED, SERIES, SERIES_BY_ID, observations
from simulation.forecasting.predictive import (
    Ensemble, NoForecast, StudentT, forecasts_from_draws, forecasts_table, from_row, normal,
)  # fmt: skip

DATA = Path(__file__).resolve().parents[1] / "simulation" / "data"
CJK = re.compile(r"[\u4e00-\u9fff]")


def crps_normal_closed_form(y: float, mu: float, sigma: float) -> float:
    """Gneiting & Raftery (2007): σ [z(2Φ(z) − 1) + 2φ(z) − 1/√π], z = (y − μ)/σ."""
    z = (y - mu) / sigma
    return sigma * (z * (2 * stats.norm.cdf(z) - 1) + 2 * stats.norm.pdf(z) - 1 / math.sqrt(math.pi))


def crps_by_integral(cdf, y: float, lo: float, hi: float) -> float:
    """∫ (F(x) − 1{y ≤ x})² dx, split at the observation."""
    left = integrate.quad(lambda x: cdf(x) ** 2, lo, y, limit=200)[0]
    right = integrate.quad(lambda x: (1 - cdf(x)) ** 2, y, hi, limit=200)[0]
    return left + right


def energy_form(y: float, x: np.ndarray, w: np.ndarray) -> float:
    w = w / w.sum()
    return float(np.sum(w * np.abs(x - y)) - 0.5 * np.sum(np.outer(w, w) * np.abs(x[:, None] - x[None, :])))


# --- scores ---------------------------------------------------------------------------------


def test_crps_of_a_point_mass_is_the_absolute_error() -> None:
    assert scores.crps_ensemble(2.5, [4.0]) == pytest.approx(1.5)
    assert scores.crps_ensemble(-1.0, [3.0, 3.0, 3.0]) == pytest.approx(4.0)
    assert scores.crps_ensemble(7.0, [7.0] * 5) == 0.0


def test_crps_of_a_normal_sample_matches_the_closed_form() -> None:
    rng = np.random.default_rng(11)
    sample = rng.normal(1.0, 2.0, 40_000)
    for y in (-3.0, 1.0, 4.5):
        exact = crps_normal_closed_form(y, 1.0, 2.0)
        assert scores.crps_normal(y, 1.0, 2.0) == pytest.approx(exact, rel=1e-9)
        assert scores.crps_ensemble(y, sample) == pytest.approx(exact, rel=0.02)


def test_weighted_crps_equals_repeated_members_and_the_energy_form() -> None:
    x = np.array([-1.0, 0.5, 2.0, 4.0])
    w = np.array([1.0, 2.0, 3.0, 0.0])
    repeated = np.repeat(x, w.astype(int))
    for y in (-2.0, 0.7, 3.0):
        assert scores.crps_ensemble(y, x, w) == pytest.approx(scores.crps_ensemble(y, repeated), rel=1e-12)
        assert scores.crps_ensemble(y, x, w) == pytest.approx(energy_form(y, x, w), rel=1e-12)
        assert scores.crps_ensemble(y, x, 10 * w) == pytest.approx(scores.crps_ensemble(y, x, w), rel=1e-12)
    assert not scores.crps_ensemble(0.7, x, w) == pytest.approx(scores.crps_ensemble(0.7, x))  # weights matter


def test_student_t_crps_matches_the_integral_and_refuses_an_infinite_mean() -> None:
    for df, y in ((3.0, 0.4), (2.0, -2.5), (7.0, 5.0)):
        exact = crps_by_integral(lambda v: stats.t.cdf(v, df, 1.0, 1.5), y, -np.inf, np.inf)
        assert scores.crps_student_t(y, df, 1.0, 1.5) == pytest.approx(exact, rel=1e-6)
    assert scores.crps_student_t(0.3, 1e8, 0.0, 1.0) == pytest.approx(crps_normal_closed_form(0.3, 0, 1), rel=1e-6)
    with pytest.raises(ValueError, match="finite mean"):
        scores.crps_student_t(0.0, 1.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="df > 1"):
        StudentT(1.0, 0.0, 1.0)


def test_ensemble_quantiles_are_those_of_the_weighted_empirical_distribution() -> None:
    x = [4.0, 1.0, 3.0, 2.0]
    assert list(scores.ensemble_quantiles(x, [0.25, 0.5, 0.75, 1.0])) == [1.0, 2.0, 3.0, 4.0]
    assert list(scores.ensemble_quantiles(x, [0.5], [1, 1, 1, 1])) == [2.0]
    assert list(scores.ensemble_quantiles(x, [0.5], [5, 1, 1, 1])) == [4.0]  # 4 carries 5/8 of the mass
    assert scores.ensemble_cdf(x, 2.0, [5, 1, 1, 1]) == pytest.approx(2 / 8)
    assert Ensemble(np.array(x), np.array([5.0, 1, 1, 1])).prob_at_least(4.0) == pytest.approx(5 / 8)
    assert Ensemble(np.array(x), np.array([5.0, 1, 1, 1])).ess == pytest.approx(64 / 28)


@pytest.mark.parametrize("samples, weights, message", [
    ([1.0, np.nan], None, "non-finite"),
    ([], None, "at least one"),
    ([1.0, 2.0], [1.0], "2 samples"),
    ([1.0, 2.0], [1.0, -1.0], "non-negative"),
    ([1.0, 2.0], [0.0, 0.0], "sum to zero"),
])  # fmt: skip
def test_bad_ensembles_are_refused(samples, weights, message) -> None:
    with pytest.raises(ValueError, match=message):
        scores.crps_ensemble(0.0, samples, weights)


def test_coverage_counts_the_bounds_and_the_sign_check_has_no_sign_for_zero() -> None:
    assert scores.central_bounds(0.9) == pytest.approx((0.05, 0.95))
    assert scores.inside(1.0, 1.0, 2.0) and scores.inside(2.0, 1.0, 2.0) and scores.inside(1.5, 1.0, 2.0)
    assert not scores.inside(2.0000001, 1.0, 2.0) and not scores.inside(0.999, 1.0, 2.0)
    with pytest.raises(ValueError):
        scores.inside(math.nan, 0.0, 1.0)
    assert scores.sign_right(-1.3, -0.2) is True and scores.sign_right(-1.3, 7.5) is False
    assert scores.sign_right(2.0, 0.0) is False  # a median of 0 forecasts no sign
    assert scores.sign_right(0.0, 3.0) is None


# --- benchmarks -----------------------------------------------------------------------------


def _pivot_coverage(predictives: list[StudentT], outcomes: np.ndarray, level: float) -> float:
    df = np.array([p.df for p in predictives])
    z = np.abs(outcomes - np.array([p.loc for p in predictives])) / np.array([p.scale for p in predictives])
    return float(np.mean(z <= stats.t.ppf((1 + level) / 2, df)))


def test_random_walk_with_drift_intervals_are_calibrated_on_four_points() -> None:
    """Gaussian increments, drift 3, σ 2: the central intervals are exact, so coverage is 90 % ± MC error."""
    rng = np.random.default_rng(3)
    reps, n = 6000, 4
    paths = 100 + np.cumsum(np.c_[np.zeros(reps), 3 + 2 * rng.standard_normal((reps, n + 1))], axis=1)
    for h in (1, 2):
        preds = [bm.random_walk_drift(p[:n], [h])[0] for p in paths]
        assert all(p.df == n - 2 for p in preds)
        for level in (0.5, 0.9):
            se = math.sqrt(level * (1 - level) / reps)
            assert abs(_pivot_coverage(preds, paths[:, n - 1 + h], level) - level) < 4 * se, (h, level)


def test_random_walk_with_drift_recovers_the_drift_and_random_walk_its_scale() -> None:
    rng = np.random.default_rng(4)
    m = 400
    y = 50 + np.cumsum(np.r_[0.0, 3 + 2 * rng.standard_normal(m)])
    for h, p in zip((1, 3), bm.random_walk_drift(y, [1, 3])):
        assert (p.loc - y[-1]) / h == pytest.approx(3.0, abs=4 * 2 / math.sqrt(m))
        assert p.scale == pytest.approx(2 * math.sqrt(h + h * h / m), rel=0.15)
    walk = np.cumsum(rng.standard_normal(m + 1))
    (p,) = bm.random_walk(walk, [4])
    assert p.loc == walk[-1] and p.df == m and p.scale == pytest.approx(2.0, rel=0.15)  # σ √4


def test_random_walk_intervals_are_calibrated_on_three_points() -> None:
    rng = np.random.default_rng(5)
    reps = 6000
    paths = np.cumsum(rng.standard_normal((reps, 4)), axis=1)
    preds = [bm.random_walk(p[:3], [1])[0] for p in paths]
    assert {p.df for p in preds} == {2}
    assert abs(_pivot_coverage(preds, paths[:, 3], 0.9) - 0.9) < 4 * math.sqrt(0.09 / reps)


def test_ar1_recovers_a_known_process_and_its_intervals_are_roughly_calibrated() -> None:
    rng = np.random.default_rng(6)
    y = [5.0]
    for _ in range(300):
        y.append(2.0 + 0.6 * y[-1] + rng.standard_normal())
    y = np.array(y)
    (p,) = bm.ar1(y, [1], rng)
    assert p.quantile([0.5])[0] == pytest.approx(2.0 + 0.6 * y[-1], abs=0.25)
    lo, hi = p.quantile([0.05, 0.95])
    assert hi - lo == pytest.approx(2 * 1.645, rel=0.1)
    # short series (10 points) from random stationary processes: coverage near 90 %
    hits = []
    for _ in range(300):
        phi, c = rng.uniform(-0.9, 0.9), rng.normal(0, 2)
        z = [rng.normal(c / (1 - phi), 1)]
        for _ in range(10):
            z.append(c + phi * z[-1] + rng.standard_normal())
        (q,) = bm.ar1(np.array(z[:10]), [1], rng, draws=1500)
        lo, hi = q.quantile([0.05, 0.95])
        hits.append(lo <= z[10] <= hi)
    assert 0.84 <= np.mean(hits) <= 0.96  # 300 draws: MC error ± 0.017, plus the small-sample approximation


def test_short_histories_give_no_forecast_with_the_reason() -> None:
    rng = np.random.default_rng(0)
    for values, name in (([1.0], "rw"), ([1.0, 2.0], "rw"), ([1.0, 2.0, 4.0], "rw_drift"), ([1.0, 2.0, 4.0], "ar1")):
        (p,) = bm.forecast(name, values, [1], rng)
        assert isinstance(p, NoForecast) and f"needs {bm.MIN_POINTS[name]}" in p.reason
    assert isinstance(bm.forecast("rw", [1.0, 2.0, 4.0], [1], rng)[0], StudentT)
    assert isinstance(bm.forecast("ar1", [1.0, 2.0, 4.0, 3.0], [1], rng)[0], Ensemble)
    with pytest.raises(ValueError, match="unknown benchmark"):
        bm.forecast("arima", [1.0] * 5, [1], rng)


def test_history_is_the_consecutive_run_of_point_figures_up_to_the_origin() -> None:
    table = observations()
    years, values = bm.history(table, "va_growth_food", 2023)  # 2021 and 2023: a gap
    assert list(years) == [2023] and list(values) == [10.0]
    years, _ = bm.history(table, "semi_revenue", 2023)  # the 2023 lower bound is not history
    assert list(years) == [2021]
    years, values = bm.history(table, "city_va_growth", 2021)
    assert list(years) == [2019, 2020, 2021] and list(values) == [7.8, -1.1, 10.2]


def test_benchmarks_on_the_shipped_series() -> None:
    fc = bm.benchmark_forecasts([2020, 2022])
    assert (fc.loc[fc["origin"] == 2020, "kind"] == "none").all()  # two points at most by the end of 2020
    row = fc[(fc["origin"] == 2022) & (fc["series"] == "city_va_growth") & (fc["source"] == "rw_drift")].iloc[0]
    d = np.diff([7.8, -1.1, 10.2, -1.3])
    assert row["year"] == 2023 and row["df"] == 2
    assert row["loc"] == pytest.approx(-1.3 + d.mean())
    assert row["scale"] == pytest.approx(d.std(ddof=1) * math.sqrt(1 + 1 / 3))
    again = bm.benchmark_forecasts([2022], table=observations()[observations()["series"] == "city_va_growth"])
    ar = lambda t: t[(t["series"] == "city_va_growth") & (t["source"] == "ar1")].iloc[0]["samples"]  # noqa: E731
    np.testing.assert_array_equal(ar(fc[fc["origin"] == 2022]), ar(again))  # own stream per series


# --- observations ---------------------------------------------------------------------------


def _csv_rows(name: str) -> list[dict[str, str]]:
    with open(DATA / name, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_observations_copy_the_data_pack_figures_unchanged() -> None:
    table = observations()
    assert not table.duplicated(["series", "year"]).any()
    mapped = {(f, m): s.id for s in SERIES for f, m in s.metrics}
    used = 0
    for name in ("city.csv", "observed.csv"):
        for r in _csv_rows(name):
            key = (name, r["metric"])
            assert (key in mapped) != (key in NOT_SCORED), f"{key} must be mapped or listed as not scored"
            if key not in mapped:
                continue
            period = r.get("year") or r["period"]
            (row,) = table[(table["file"] == name) & (table["metric"] == r["metric"])
                           & (table["year"] == int(period[:4]))].to_dict("records")
            assert row["series"] == mapped[key]
            assert row["value"] == float(r["value"]) and row["grade"] == r["grade"]
            assert row["source"] == r["source"] and row["unit"] == r["unit"]
            used += 1
    assert used == len(table)


def test_observations_hold_the_documented_figures_with_their_caveats() -> None:
    t = observations().set_index(["series", "year"])
    growth = t.loc["city_va_growth"]
    assert list(growth.index) == [2019, 2020, 2021, 2022, 2023]
    assert list(growth["value"]) == [7.8, -1.1, 10.2, -1.3, -1.9]
    assert list(growth["grade"]) == ["B", "DERIVED", "A", "A", "A"]
    assert "preliminary" in growth.loc[2019, "note"]
    assert t.loc[("abovescale_firms", 2019), "value"] == 10658 and t.loc[("abovescale_firms", 2023), "value"] == 14180
    assert t.loc[("upgrades", 2023), "value"] == 1797
    assert t.loc[("city_va", 2020), "value"] == 4145.7 and t.loc[("city_va", 2023), "value"] == 5171
    for s in ("va_growth_electronics", "va_growth_electrical_machinery", "va_growth_textiles"):
        assert t.loc[(s, 2022), "period"] == "Q1–Q3" and "not the full year" in t.loc[(s, 2022), "note"]
        assert t.loc[(s, 2021), "period"] == "year"
    soft = t.loc["software_revenue_growth"]
    assert list(soft["period"]) == ["Jan–Nov", "Jan–Sep"] and list(soft["value"]) == [120.3, 82.3]
    assert all("scope" in n for n in soft["note"])
    assert t.loc[("semi_revenue", 2023), "bound"] == "lower" and t.loc[("semi_revenue", 2023), "value"] == 144
    assert (t.drop(index=("semi_revenue", 2023))["bound"] == "point").all()


# --- the backtest table ---------------------------------------------------------------------


def _forecasts() -> pd.DataFrame:
    """Hand-made forecasts with known scores."""
    rows = [
        dict(origin=2021, series="city_va_growth", year=2022, source="model", predictive=Ensemble(np.array([0.7]))),
        dict(origin=2021, series="city_va_growth", year=2022, source="rw", predictive=normal(1.0, 2.0)),
        dict(origin=2021, series="city_va_growth", year=2023, source="model",
             predictive=Ensemble(np.array([-3.0, -2.0, 5.0, 9.0]), np.array([1.0, 1.0, 1.0, 5.0]))),
        dict(origin=2021, series="city_va_growth", year=2023, source="rw", predictive=normal(10.2, 3.0)),
        dict(origin=2021, series="abovescale_firms", year=2022, source="model",
             predictive=StudentT(4.0, 13_000.0, 500.0)),
        dict(origin=2021, series="abovescale_firms", year=2022, source="rw_drift",
             predictive=NoForecast("3 consecutive observed years; rw_drift needs 4")),
        dict(origin=2022, series="semi_revenue", year=2023, source="model", predictive=Ensemble(np.arange(100.0, 300.0))),
        dict(origin=2022, series="city_va_growth", year=2025, source="model", predictive=normal(3.0, 1.0)),
    ]
    return forecasts_table(rows)


def test_scored_table_holds_the_known_scores() -> None:
    table = bt.score(_forecasts()).set_index(["origin", "series", "year", "source"])
    point = table.loc[(2021, "city_va_growth", 2022, "model")]
    assert point["observed"] == -1.3 and point["crps"] == pytest.approx(2.0)
    assert point["sign_right"] == False and point["inside_90"] == False  # noqa: E712
    assert point["p_sign"] == 0.0  # the one member, 0.7, has the wrong sign
    rw = table.loc[(2021, "city_va_growth", 2022, "rw")]
    assert rw["crps"] == pytest.approx(crps_normal_closed_form(-1.3, 1.0, 2.0))
    assert rw["q05"] == pytest.approx(1.0 - 1.644854 * 2.0, rel=1e-5) and rw["inside_90"] == True  # noqa: E712
    weighted = table.loc[(2021, "city_va_growth", 2023, "model")]
    x, w = np.array([-3.0, -2.0, 5.0, 9.0]), np.array([1.0, 1.0, 1.0, 5.0])
    assert weighted["crps"] == pytest.approx(energy_form(-1.9, x, w))
    assert weighted["median"] == 9.0 and weighted["ess"] == pytest.approx(64 / 28)
    assert weighted["p_sign"] == pytest.approx(2 / 8)  # weight of the negative members, observed −1.9
    assert table.loc[(2021, "city_va_growth", 2022, "rw"), "p_sign"] == pytest.approx(stats.norm.cdf(0.0, 1.0, 2.0))
    firms = table.loc[(2021, "abovescale_firms", 2022, "model")]
    assert pd.isna(firms["sign_right"]) and math.isnan(firms["p_sign"])  # a count has no sign to check
    assert firms["inside_90"] == (stats.t.ppf(0.05, 4, 13_000, 500) <= 13_844 <= stats.t.ppf(0.95, 4, 13_000, 500))
    none = table.loc[(2021, "abovescale_firms", 2022, "rw_drift")]
    assert none["kind"] == "none" and "needs 4" in none["note"] and math.isnan(none["crps"])
    bound = table.loc[(2022, "semi_revenue", 2023, "model")]
    assert math.isnan(bound["crps"]) and bound["p_bound"] == pytest.approx(156 / 200)
    future = table.loc[(2022, "city_va_growth", 2025, "model")]
    assert math.isnan(future["observed"]) and future["median"] == pytest.approx(3.0)


def test_summary_skill_is_computed_on_the_forecasts_both_made() -> None:
    table = bt.score(_forecasts())
    summary = bt.summarise(table).set_index(["source", "series"])
    model = summary.loc[("model", "city_va_growth")]
    crps_model = [2.0, energy_form(-1.9, np.array([-3.0, -2.0, 5.0, 9.0]), np.array([1.0, 1.0, 1.0, 5.0]))]
    crps_rw = [crps_normal_closed_form(-1.3, 1.0, 2.0), crps_normal_closed_form(-1.9, 10.2, 3.0)]
    assert model["skill_vs_rw"] == pytest.approx(1 - np.mean(crps_model) / np.mean(crps_rw))
    assert model["n_vs_rw"] == 2 and model["n"] == 2
    assert summary.loc[("model", "abovescale_firms"), "n_vs_rw"] == 0
    overall = summary.loc[("model", bt.ALL)]
    assert overall["n"] == 3 and math.isnan(overall["mean_crps"])  # no mean across units
    assert overall["sign_right"] == 0.0 and overall["n_sign"] == 2  # medians 0.7 and 9.0 against −1.3 and −1.9


def test_forecasts_table_errors_are_one_line_messages() -> None:
    good = _forecasts()
    early = good.copy()
    early.loc[0, "year"] = 2021
    with pytest.raises(bt.TableError, match="up to its origin"):
        bt.score(early)
    with pytest.raises(bt.TableError, match="two forecasts"):
        bt.score(pd.concat([good, good.iloc[:1]]))
    unknown = good.copy()
    unknown.loc[0, "series"] = "gdp"
    with pytest.raises(bt.TableError, match="unknown series gdp"):
        bt.score(unknown)
    bad = good.copy()
    bad.loc[0, "kind"] = "histogram"
    with pytest.raises(ValueError, match="kind must be one of"):
        bt.score(bad)


def test_forecasts_from_draws_keep_the_weights() -> None:
    draws = pd.DataFrame(dict(origin=2021, series="city_va_growth", year=2022, source="model",
                              value=[1.0, 2.0, 3.0], weight=[0.2, 0.2, 0.6]))  # fmt: skip
    (row,) = forecasts_from_draws(draws).to_dict("records")
    p = from_row(row)
    assert isinstance(p, Ensemble) and p.quantile([0.5])[0] == 3.0


def test_table_file_and_markdown_round_trip(tmp_path) -> None:
    table = bt.score(_forecasts())
    path = bt.write_table(table, tmp_path / "backtest.csv")
    back = bt.read_table(path)
    pd.testing.assert_frame_equal(back, table, check_dtype=False)
    earlier = tmp_path / "earlier.csv"  # a table written before `p_sign` existed still reads
    pd.read_csv(path).drop(columns=["p_sign"]).to_csv(earlier, index=False)
    assert bt.read_table(earlier)["p_sign"].isna().all()
    (tmp_path / "x.csv").write_text("a,b\n1,2\n")
    with pytest.raises(bt.TableError, match="lacks the columns"):
        bt.read_table(tmp_path / "x.csv")

    doc = f"# Forecasting\n\nBefore.\n\n{bt.DOC_START}\nold\n{bt.DOC_END}\n\nAfter.\n"
    once = bt.update_document(doc, back)
    assert once.startswith("# Forecasting\n\nBefore.\n\n") and once.endswith(f"{bt.DOC_END}\n\nAfter.\n")
    assert "old" not in once and bt.update_document(once, back) == once
    block = once[once.index(bt.DOC_START):once.index(bt.DOC_END)]
    cells = {}
    for line in block.splitlines():
        parts = [p.strip() for p in line.strip("|").split("|")]
        if len(parts) > 3 and "→" in parts[1]:
            cells[(parts[0], parts[1])] = parts
    label = f"{SERIES_BY_ID['city_va_growth'].label_en} ({SERIES_BY_ID['city_va_growth'].unit_en})"
    row = cells[(label, "2021 → 2023")]
    assert row[2] == "−1.9"
    crps = energy_form(-1.9, np.array([-3.0, -2.0, 5.0, 9.0]), np.array([1.0, 1.0, 1.0, 5.0]))
    assert row[3] == f"9.0 [−3.0, 9.0] · {crps:.2f} **sign** (P 0.25)"  # inside the 90 % band, the wrong sign
    assert row[4].startswith("10.2 [") and "**out**" in row[4] and "**sign**" in row[4]
    assert all("2025" not in key[1] for key in cells)  # unobserved years are not in the document table
    with pytest.raises(ValueError, match="backtest:start"):
        bt.update_document("no markers", back)
    created = bt.update_file(tmp_path / "FORECASTING.md", back)  # a missing file is created
    assert bt.DOC_START in created.read_text(encoding="utf-8") and "−1.9" in created.read_text(encoding="utf-8")


# --- charts ---------------------------------------------------------------------------------

IDENTIFIERS = re.compile(r"\b[a-z0-9]+_[a-z0-9_]+\b")


@pytest.fixture(scope="module")
def chart_table(tmp_path_factory) -> Path:
    rng = np.random.default_rng(1)
    obs = observations()
    rows = []
    for origin in (2020, 2021, 2022):
        for series in ("city_va_growth", "va_growth_electronics"):
            for year in obs.loc[(obs["series"] == series) & (obs["year"] > origin), "year"]:
                rows.append(dict(origin=origin, series=series, year=int(year), source="model",
                                 predictive=Ensemble(rng.normal(3.0, 2.0, 200), rng.random(200))))
    model = forecasts_table(rows)
    benchmarks = bm.benchmark_forecasts([2020, 2021, 2022], table=obs[obs["series"].isin(
        ["city_va_growth", "va_growth_electronics"])])  # fmt: skip
    table = bt.score(pd.concat([model, benchmarks], ignore_index=True))
    return bt.write_table(table, tmp_path_factory.mktemp("backtest") / "backtest.csv")


def test_fan_charts_draw_the_table_in_both_languages_without_raw_identifiers(chart_table, tmp_path) -> None:
    from simulation.reporting.charts import backtest
    from simulation.reporting.charts.render import render
    from simulation.reporting.charts.style import house_style

    table = bt.read_table(chart_table)
    with house_style("en"):
        charts = {c.name: c for c in backtest.make(table, "en")}
    assert set(charts) == {"backtest_city_va_growth", "backtest_va_growth_electronics"}
    with house_style("zh"), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        chinese = backtest.make_series(table, "city_va_growth", "zh")
        (png,), _ = render(chinese.figure, tmp_path / "zh" / chinese.name, ("png",))
    assert not [w for w in caught if "Glyph" in str(w.message) or "missing from" in str(w.message)]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    row = table[(table["origin"] == 2021) & (table["series"] == "city_va_growth") & (table["source"] == "model")
                & (table["year"] == 2023)].iloc[0]
    for lang, fig in (("en", charts["backtest_city_va_growth"].figure), ("zh", chinese.figure)):
        texts = [t.get_text() for t in fig.findobj(Text) if t.get_text()]
        assert not [t for t in texts if IDENTIFIERS.search(t)], texts
        if lang == "zh":
            title = [t for t in fig.findobj(Text) if t.get_gid() == "title"][0].get_text()
            assert CJK.search(title) and CJK.search(fig.axes[0].get_ylabel())
        # the model's 90 % band in the 2021 panel spans the table's 5th to 95th percentiles
        (band,) = [a for a in fig.axes[1].findobj(PolyCollection) if a.get_gid() == "model_band90"]
        vertices = band.get_paths()[0].vertices
        at_2023 = vertices[np.isclose(vertices[:, 0], 2023), 1]
        assert at_2023.min() == pytest.approx(row["q05"]) and at_2023.max() == pytest.approx(row["q95"])
        assert [a for a in fig.axes[2].get_lines() if a.get_gid() == "rw_drift_band90"]  # a benchmark from 2022
        assert not [a for a in fig.axes[0].get_lines() if a.get_gid() == "rw_band90"]  # none from 2020
