"""Validation and calibration: moments on hand-made data, the scorecard, `simulate validate`,
a mechanism broken on purpose, and calibration reproducibility."""

from __future__ import annotations

import csv
import json
import math
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from simulation.analysis import calibration as cal
from simulation.analysis import moments as mo
from simulation.analysis import scorecard as sc
from simulation.cli import main
from simulation.experiments.seeds import replicate_seeds
from simulation.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"
TINY = ["simulation.below_scale_ratio=0.1", "simulation.end_year=2023"]
TINY_SET = [a for s in TINY for a in ("--set", s)]


def invoke(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


# --- moments on hand-made data --------------------------------------------------------------


@pytest.fixture(scope="module")
def samples() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(20210118)
    return {"laplace": rng.laplace(size=200_000), "gauss": rng.standard_normal(200_000)}


def test_kurtosis_tells_laplace_from_gaussian(samples) -> None:
    assert mo.kurtosis(samples["laplace"]) == pytest.approx(6.0, abs=0.3)
    assert mo.kurtosis(samples["gauss"]) == pytest.approx(3.0, abs=0.1)
    assert math.isnan(mo.kurtosis(np.ones(3)))


def test_likelihood_ratio_verdicts(samples) -> None:
    lap, gauss = mo.laplace_gaussian_lr(samples["laplace"]), mo.laplace_gaussian_lr(samples["gauss"])
    assert lap > 0 > gauss
    assert lap == pytest.approx(0.5 * math.log(4 * math.pi * math.e) - 1 - math.log(2), abs=0.01)
    assert gauss == pytest.approx(0.5 * math.log(2 * math.pi * math.e) - math.log(2 * math.sqrt(2 / math.pi)) - 1,
                                  abs=0.01)
    # scale and location do not matter
    assert mo.laplace_gaussian_lr(3.0 + 0.1 * samples["laplace"]) == pytest.approx(lap, abs=1e-9)


def test_subbotin_shape_recovers_known_shapes(samples) -> None:
    from scipy import stats

    assert mo.subbotin_shape(samples["laplace"]) == pytest.approx(1.0, abs=0.05)
    assert mo.subbotin_shape(samples["gauss"]) == pytest.approx(2.0, abs=0.1)
    x = stats.gennorm.rvs(1.5, size=100_000, random_state=np.random.default_rng(1))
    assert mo.subbotin_shape(x) == pytest.approx(1.5, abs=0.07)
    # the kurtosis band is the shape band: kurtosis(b) = Γ(5/b)Γ(1/b)/Γ(3/b)²
    from scipy.special import gamma

    def kurt(b: float) -> float:
        return gamma(5 / b) * gamma(1 / b) / gamma(3 / b) ** 2

    t_k, t_b = sc.TARGET_BY_ID["growth_kurtosis"], sc.TARGET_BY_ID["growth_subbotin_shape"]
    assert kurt(t_b.high) == pytest.approx(t_k.low, abs=0.05)
    assert kurt(t_b.low) == pytest.approx(t_k.high, abs=0.05)


def test_standardised_growth_removes_the_size_mixture() -> None:
    """Gaussian growth whose width falls with size looks fat-tailed pooled, Gaussian per size."""
    rng = np.random.default_rng(3)
    n = 60_000
    size = np.exp(rng.uniform(np.log(20), np.log(20_000), n))
    sd = 0.4 * (size / 20) ** -0.3
    annual = np.vstack([size, size * np.exp(sd * rng.standard_normal(n))])
    cluster = rng.integers(0, 3, n)
    raw = np.log(annual[1] / annual[0])
    assert mo.kurtosis(raw) > 4.0
    z = mo.standardised_growth(annual, cluster)
    assert z.size == n
    assert mo.kurtosis(z) == pytest.approx(3.0, abs=0.2)
    assert mo.subbotin_shape(z) > 1.7
    # firms below the threshold in the first year, or gone in the second, are left out
    annual[0, :10] = 5.0
    annual[1, 10:20] = np.nan
    assert mo.standardised_growth(annual, cluster).size == n - 20


def test_annual_revenue_needs_the_whole_year() -> None:
    revenue = np.array([[10.0, 10.0], [1, 2], [3, 4], [5, 0], [7, 0]])  # step 0 + 2 years of 2 steps
    alive = revenue > 0
    alive[0] = True
    out = mo.annual_revenue(revenue, alive, 2)
    assert out.shape == (2, 2)
    assert out[0].tolist() == [2.0, 3.0]
    assert out[1, 0] == 6.0 and math.isnan(out[1, 1])


def test_turnover_entrant_failure_dispersion_tfp() -> None:
    # (entrants + exits) / firms at the start of the year, first year a burn-in
    assert mo.turnover_rate([50, 10, 20], [0, 10, 20], [100, 100, 200, 200]) == pytest.approx((20 / 100 + 40 / 200) / 2 * 100)
    assert mo.turnover_rate([10], [10], [100, 100]) == pytest.approx(20.0)  # one year: no burn-in left out
    alive = np.array([
        [1, 0, 0, 0],
        [1, 1, 0, 0],
        [1, 1, 1, 0],
        [1, 0, 1, 1],
        [0, 0, 1, 1],
    ], dtype=bool)  # fmt: skip
    death = mo.death_steps(alive)
    assert death.tolist() == [4, 3, -1, -1]
    birth = np.array([-5, 1, 2, 3])
    is_entrant = np.array([False, True, True, True])
    # horizon 2 steps, last step 4: entrants born at steps 1..2 are observed; firm 1 died after 2 steps
    assert mo.entrant_failure_share(birth, death, is_entrant, 4, 2) == pytest.approx(50.0)
    assert math.isnan(mo.entrant_failure_share(birth, death, is_entrant, 2, 2))
    # 90-10: uniform log-TFP 0..1 in two clusters of different sizes
    lp = np.concatenate([np.linspace(0, 1, 101), np.linspace(0, 2, 301)])
    cl = np.concatenate([np.zeros(101, int), np.ones(301, int)])
    mask = np.ones(lp.size, bool)
    expected = math.exp((0.8 * 101 + 1.6 * 301) / 402)
    assert mo.dispersion_90_10(lp, cl, mask, np.array([0, 1])) == pytest.approx(expected)
    assert math.isnan(mo.dispersion_90_10(lp, cl, mask, np.array([5])))
    # revenue-weighted annual log change, in %
    assert mo.incumbent_tfp_growth(np.zeros(2), np.array([0.1, 0.3]), np.array([3.0, 1.0]), 5.0) == pytest.approx(
        (0.75 * 0.1 + 0.25 * 0.3) / 5 * 100)
    assert mo.comparable_growth(np.array([10.0, 10, 5]), np.array([11.0, 12, 0]), np.array([True, True, False])) \
        == pytest.approx(15.0)


# --- the scorecard --------------------------------------------------------------------------


def _values(**changes: float) -> list[dict[str, float]]:
    base = {t.moment: t.value for t in sc.TARGETS}
    base.update(changes)
    return [dict(base), dict(base), dict(base)]


def test_a_moment_passes_when_the_median_is_in_the_band() -> None:
    card = sc.score(_values(), "x", 1)
    assert card.passed and card.failed == []
    card = sc.score(_values(turnover=35.0, growth_laplace_lr=-0.01), "x", 1)
    assert card.failed == ["growth_laplace_lr", "turnover"]
    # one outlier among three does not move the median
    values = _values()
    values[0]["turnover"] = 80.0
    row = {r.target.moment: r for r in sc.score(values, "x", 1).rows}["turnover"]
    assert row.passed and row.p_in_band == pytest.approx(2 / 3) and row.p95 > 30
    # a moment no replicate could compute fails
    card = sc.score(_values(entrant_failure_2y=math.nan), "x", 1)
    assert card.failed == ["entrant_failure_2y"]


def test_every_band_is_explicit_and_sourced() -> None:
    assert [t.moment for t in sc.TARGETS] == list(mo.MOMENT_IDS)
    for t in sc.TARGETS:
        assert t.low < t.high and t.low <= t.value <= t.high, t.moment
        assert t.source and t.why and t.distance_scale > 0


def test_markdown_csv_and_document_block() -> None:
    card = sc.score(_values(turnover=35.0), "baseline", 7, command="simulate validate x")
    text = sc.to_markdown(card)
    assert "**FAIL**" in text and text.count("| pass |") == len(sc.TARGETS) - 1
    rows = list(csv.DictReader(sc.to_csv(card).splitlines()))
    assert [r["moment"] for r in rows] == list(mo.MOMENT_IDS)
    assert rows[3]["passed"] == "False" and float(rows[3]["median"]) == 35.0
    doc = f"intro\n{sc.DOC_START}\nold table\n{sc.DOC_END}\nafter\n"
    new = sc.update_document(doc, card)
    assert new.startswith("intro\n") and new.endswith("after\n") and "old table" not in new
    assert "simulate validate x" in new and sc.update_document(new, card) == new
    with pytest.raises(ValueError):
        sc.update_document("no block", card)


# --- simulate validate ----------------------------------------------------------------------


def test_validate_runs_and_writes_its_files(tmp_path: Path) -> None:
    docs = tmp_path / "VALIDATION.md"
    docs.write_text(f"# V\n\n{sc.DOC_START}\n{sc.DOC_END}\n", encoding="utf-8")
    result = invoke("validate", BASELINE, "-n", "2", "-j", "1", "--out", tmp_path / "v", *TINY_SET,
                    "--update-docs", "--docs", docs)
    assert result.exit_code in (0, 1), result.output
    assert {p.name for p in (tmp_path / "v").iterdir()} == {"scorecard.csv", "scorecard.md", "replicates.csv"}
    rows = list(csv.DictReader((tmp_path / "v" / "scorecard.csv").open(encoding="utf-8")))
    assert [r["moment"] for r in rows] == list(mo.MOMENT_IDS)
    passed = all(r["passed"] == "True" for r in rows)
    assert result.exit_code == (0 if passed else 1)
    assert ("PASS" if passed else "FAIL") in result.output and "Validation scorecard: baseline" in result.output
    reps = list(csv.DictReader((tmp_path / "v" / "replicates.csv").open(encoding="utf-8")))
    assert [int(r["seed"]) for r in reps] == replicate_seeds(20210118, 2)
    assert "Growth rates: Subbotin shape b" in docs.read_text(encoding="utf-8")


# --- a mechanism broken on purpose ----------------------------------------------------------


def _growth_rows(spec) -> dict[str, sc.Row]:
    card = sc.run_scorecard(spec, "x", replicate_seeds(11, 2), 11, workers=1)
    return {r.target.moment: r for r in card.rows}


def test_gaussian_growth_shocks_fail_the_scorecard(monkeypatch) -> None:
    spec = load_scenario(BASELINE, TINY).spec  # the calibrated baseline
    growth = ("growth_kurtosis", "growth_laplace_lr", "growth_subbotin_shape")
    rows = _growth_rows(spec)
    assert all(rows[k].passed for k in growth), {k: rows[k].median for k in growth}
    from simulation.model import firm_rules

    # every firm-year equally eventful: the innovations become Gaussian (a normal variance mixture
    # with no mixing), and so do the growth rates
    monkeypatch.setattr(firm_rules, "activity", lambda stream, k: np.ones(k))
    broken = _growth_rows(spec)
    assert not any(broken[k].passed for k in growth), {k: broken[k].median for k in growth}
    assert broken["growth_subbotin_shape"].median > 1.3 and broken["growth_laplace_lr"].median < 0
    # the other moments hardly notice
    assert broken["turnover"].median == pytest.approx(rows["turnover"].median, rel=0.15)


# --- calibration ----------------------------------------------------------------------------


def _tiny_config(folder: Path) -> Path:
    """A tiny calibration of a copy of the baseline (in place, as the real one), in ``folder``."""
    shutil.copy(BASELINE, folder / "base.toml")
    path = folder / "calibrate.toml"
    path.write_text(
        'scenario = "base.toml"\n'
        f"set = {json.dumps(TINY)}\n"
        "seed = 3\nreplicates = 1\n"
        'record = "out/record.json"\n'
        "[design]\npoints = 4\nrefine_rounds = 1\nrefine_points = 2\nvalidation_replicates = 1\n"
        '[parameters.spinoff_rate]\nkey = "uncertainties.behaviour.spinoff_rate"\nlow = 0.04\nhigh = 0.2\n'
        '[parameters.productivity_volatility]\nkey = "uncertainties.behaviour.productivity_volatility"\n'
        "low = 0.04\nhigh = 0.3\n",
        encoding="utf-8",
    )
    return path


def _above_section(text: str) -> list[str]:
    lines = text.splitlines()
    cut = next((i for i, line in enumerate(lines) if line.startswith(cal.SECTION_MARKER)), len(lines))
    kept = [line for line in lines[:cut] if not line.startswith("# ---")]
    while kept and not kept[-1].strip():
        kept.pop()
    return kept


@pytest.fixture(scope="module")
def tiny_calibration(tmp_path_factory) -> tuple[Path, object]:
    """The tiny calibration, run by the command: it writes base.toml's calibration section."""
    folder = tmp_path_factory.mktemp("calibration")
    config = _tiny_config(folder)
    result = invoke("calibrate", config, "-j", "1")
    assert result.exit_code == 0, result.output
    return folder, result


def test_calibrate_command_writes_section_and_record(tiny_calibration) -> None:
    folder, result = tiny_calibration
    assert {p.name for p in (folder / "out").iterdir()} == {"record.json", "record.md"}
    assert "Calibration section written:" in result.output and "Wall time:" in result.output
    record = json.loads((folder / "out" / "record.json").read_text(encoding="utf-8"))
    assert [p["name"] for p in record["parameters"]] == ["spinoff_rate", "productivity_volatility"]
    assert {f["moment"] for f in record["fit"]} == set(mo.MOMENT_IDS)
    assert len(record["points"]) == 1 + 4 + 3 + 4  # central + design, refinement, finite differences
    assert record["distance_estimate"] <= record["distance_before"]

    # everything above the section is the baseline's text, comments included
    text = (folder / "base.toml").read_text(encoding="utf-8")
    assert _above_section(text) == _above_section(BASELINE.read_text(encoding="utf-8"))
    section = load_scenario(folder / "base.toml").spec.calibration
    assert section.seed == 3 and section.experiment == "calibrate.toml" and section.record == "out/record.md"
    assert list(section.values) == [*(t.split("=")[0] for t in TINY), *(p["key"] for p in record["parameters"])]

    # runs use the written values; the calibration's own view (calibrated=False) is the priors
    calibrated = load_scenario(folder / "base.toml").spec.uncertainties.behaviour
    priors = load_scenario(folder / "base.toml", calibrated=False).spec.uncertainties.behaviour
    baseline_priors = load_scenario(BASELINE, calibrated=False).spec.uncertainties.behaviour
    assert priors == baseline_priors
    for p in record["parameters"]:
        name = p["key"].rsplit(".", 1)[1]
        value = getattr(calibrated, name)
        if isinstance(p["written_as"], dict):
            assert value.dist == p["written_as"]["dist"]
            assert dict(value.params).items() >= {k: v for k, v in p["written_as"].items() if k != "dist"}.items()
        else:
            assert value == getattr(priors, name)


def test_calibration_rerun_reproduces_the_committed_section(tiny_calibration) -> None:
    """Rerun on the already-calibrated file (same seed): the same record and the same section.

    The rerun starts from the priors, so the section the first run wrote does not feed back.
    """
    folder, _ = tiny_calibration
    config = cal.load_config(folder / "calibrate.toml")
    again = cal.run_calibration(config, workers=1)
    recorded = json.loads((folder / "out" / "record.json").read_text(encoding="utf-8"))
    fresh = json.loads(json.dumps(cal.record_data(again), ensure_ascii=False))
    recorded.pop("timing"), fresh.pop("timing")
    assert fresh == recorded
    before = (folder / "base.toml").read_text(encoding="utf-8")
    cal.write_scenario(again)
    assert (folder / "base.toml").read_text(encoding="utf-8") == before

    # --out: a copy elsewhere, with the same section
    (folder / "elsewhere").mkdir()
    copy = folder / "elsewhere" / "copy.toml"
    copy.write_text(cal.calibrated_scenario_text(replace(config, output=copy), again.status, again.written,
                                                 again.prior), encoding="utf-8")
    assert load_scenario(copy).spec.uncertainties == load_scenario(folder / "base.toml").spec.uncertainties
    assert load_scenario(copy).spec.calibration.record == "../out/record.md"


def test_a_hand_written_calibration_section_is_not_overwritten(tmp_path: Path) -> None:
    text = BASELINE.read_text(encoding="utf-8")
    text = "\n".join(_above_section(text)) + '\n[calibration]\nexperiment = "x"\nrecord = "y"\nseed = 1\nvalues = {}\n'
    with pytest.raises(cal.CalibrationError, match="did not write"):
        cal.with_calibration_section(text, "new")


def test_calibrate_bad_file_is_a_user_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("seed = 1\n", encoding="utf-8")
    result = invoke("calibrate", bad)
    assert result.exit_code == 2 and "scenario is missing" in result.output
    bad.write_text('scenario = "x.toml"\nseed = 1\nreplicates = 1\n[parameters.a]\nkey = "a.b"\nlow = 0\nhigh = 1\n',
                   encoding="utf-8")
    assert invoke("calibrate", bad).exit_code == 2


def test_validation_doc_table_is_the_current_scorecard() -> None:
    """docs/VALIDATION.md's table is what `simulate validate --update-docs` writes for the baseline now.

    Fails when the model, the baseline or its calibration changed without the docs being regenerated.
    """
    docs = ROOT / "docs" / "VALIDATION.md"
    text = docs.read_text(encoding="utf-8")
    command = "simulate validate scenarios/baseline.toml --replicates 40 --seed 20210118"
    assert f"<!-- generated by `{command}`" in text
    spec = load_scenario(BASELINE).spec
    card = sc.run_scorecard(spec, "baseline", replicate_seeds(20210118, 40), 20210118, workers=2, command=command)
    assert card.passed, card.failed
    assert sc.update_document(text, card) == text, "regenerate: simulate validate --update-docs"
