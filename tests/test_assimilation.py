"""Data assimilation and the backtest: ABC-SMC recovers what it should, the same seed gives the same
posterior on any number of workers, scenarios use posteriors, and a small backtest runs end to end.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from simulation.assimilation.abc import Settings, Simulator, run_abc
from simulation.assimilation.observables import MEASURES, observed, simulated
from simulation.assimilation.posterior_folder import parameter_summary, write_posterior
from simulation.cli import main
from simulation.forecasting.observations import observations
from simulation.model.model import ClusterModel
from simulation.scenario import load_scenario
from simulation.scenario.distributions import parse_distribution

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"
SMALL = ["simulation.below_scale_ratio=0.1"]


class NormalMean:
    """A toy simulator: x ~ N(theta, 0.5) with theta uniform on [-5, 5]."""

    keys = ["theta"]
    priors = [parse_distribution({"dist": "uniform", "low": -5.0, "high": 5.0})]

    def __call__(self, parameters: dict[str, float]) -> dict[str, float]:
        theta = self.priors[0].ppf(parameters["q00"])
        return {"x": float(theta + 0.5 * np.random.standard_normal())}


def test_abc_recovers_a_known_parameter_and_narrows_the_prior() -> None:
    result = run_abc(NormalMean(), {"x": 2.0}, Settings(population=60, max_generations=4, seed=3))
    theta, w = result.values[:, 0], result.weights
    mean = float(np.sum(w * theta))
    sd = float(np.sqrt(np.sum(w * (theta - mean) ** 2)))
    assert abs(mean - 2.0) < 0.6 and sd < 1.2  # prior: mean 0, sd 2.9
    assert len(result.generations) >= 2
    assert all(0 < g["acceptance_rate"] <= 1.0 and g["effective_sample_size"] > 1 for g in result.generations)


class Drowned:
    """theta shows in one figure; fifteen more figures are noise and a second unknown shows in none."""

    keys = ["theta", "nuisance"]
    priors = [parse_distribution({"dist": "uniform", "low": -5.0, "high": 5.0})] * 2

    def __call__(self, parameters: dict[str, float]) -> dict[str, float]:
        theta = self.priors[0].ppf(parameters["q00"])
        figures = {"x": float(theta + 0.5 * np.random.standard_normal())}
        figures.update({f"noise{i}": float(np.random.standard_normal()) for i in range(15)})
        return figures


def test_regression_summaries_hear_the_one_informative_figure_among_noise() -> None:
    """Semi-automatic ABC (Fearnhead & Prangle 2012): the regression weighs figures by what they tell."""
    observed = {"x": 2.0, **{f"noise{i}": 0.0 for i in range(15)}}
    width = {}
    for summary in ("figures", "regression"):
        settings = Settings(population=50, max_generations=1, epsilon_quantile=0.05, seed=3, summary=summary, pilot=400)
        theta = run_abc(Drowned(), observed, settings).values[:, 0]
        low, median, high = np.percentile(theta, [5, 50, 95])
        width[summary] = high - low
        if summary == "regression":
            assert abs(median - 2.0) < 0.6
    assert width["regression"] < 0.5 * width["figures"]  # prior 90 % width: 9


def test_an_unknown_summary_is_a_one_line_user_error(tmp_path: Path) -> None:
    text = (ROOT / "experiments" / "assimilate.toml").read_text(encoding="utf-8")
    bad = tmp_path / "assimilate.toml"
    bad.write_text(text.replace('"../scenarios/baseline.toml"', json.dumps(str(BASELINE)))
                   .replace('summary = "figures"', 'summary = "lasso"'), encoding="utf-8")
    result = CliRunner().invoke(main, ["assimilate", str(bad), "--through", "2021"])
    assert result.exit_code == 2
    assert "assimilate.toml: abc: summary must be one of figures, regression; got 'lasso'" in result.output


@pytest.mark.parametrize("summary", ["figures", "regression"])
def test_the_same_seed_gives_the_same_posterior_on_any_number_of_workers(summary: str) -> None:
    settings = Settings(population=20, max_generations=2, seed=7, summary=summary, pilot=60)
    one = run_abc(NormalMean(), {"x": 1.0}, settings, workers=1)
    two = run_abc(NormalMean(), {"x": 1.0}, settings, workers=2)
    again = run_abc(NormalMean(), {"x": 1.0}, settings, workers=1)
    for other in (two, again):
        np.testing.assert_array_equal(one.values, other.values)
        np.testing.assert_array_equal(one.weights, other.weights)
    different = run_abc(NormalMean(), {"x": 1.0}, Settings(population=20, max_generations=2, seed=8, summary=summary,
                                                              pilot=60))
    assert not np.array_equal(one.values, different.values)


def test_the_model_measures_every_observed_series() -> None:
    assert set(MEASURES) == set(observations()["series"])
    spec = load_scenario(BASELINE, [*SMALL, "simulation.end_year=2023"]).spec
    wanted = observed(2023)
    values = simulated(ClusterModel(spec, rng=1, firm_agents=False).run(), list(wanted))
    assert set(values) == set(wanted) and all(np.isfinite(v) for v in values.values())
    assert 5_000 < values["abovescale_firms:2022"] < 30_000 and -30 < values["city_va_growth:2022"] < 30


def test_a_scenario_draws_its_replicates_values_from_the_posterior(tmp_path: Path) -> None:
    spec = load_scenario(BASELINE, SMALL).spec
    keys = ["uncertainties.demand.macro_shocks.2022", "uncertainties.prices.passthrough"]
    particles = np.array([[-2.0, 0.31], [1.5, 0.77]])
    from simulation.assimilation.abc import Result

    result = Result(keys, particles, np.full_like(particles, 0.5), np.array([0.25, 0.75]), {"x:2022": 1.0})
    folder = write_posterior(tmp_path / "post", result, spec,
                             {"through": 2022, "scenario": "baseline", "command": "test", "settings": {"seed": 1}})
    rows = list(csv.reader((folder / "particles.csv").open()))
    assert rows[0] == ["weight", *keys] and len(rows) == 3
    summary = json.loads((folder / "posterior.json").read_text())
    assert [p["key"] for p in summary["parameters"]] == keys and summary["effective_sample_size"] == pytest.approx(1.6)
    scenario = tmp_path / "posterior.toml"
    scenario.write_text(f'extends = "{BASELINE}"\nposterior = "post"\n', encoding="utf-8")
    loaded = load_scenario(scenario, SMALL).spec
    drawn = [ClusterModel(loaded, rng=seed, firm_agents=False) for seed in range(40)]
    picked = [(m.p.demand.macro_shocks["2022"], m.p.prices.passthrough) for m in drawn]
    assert set(picked) <= {(-2.0, 0.31), (1.5, 0.77)}
    assert 0.5 < np.mean([p[0] == 1.5 for p in picked]) < 0.95  # about the weight, 0.75
    # the same replicate draws the same particle in another scenario (common random numbers)
    other = ClusterModel(loaded.model_copy(update={"levers": load_scenario(BASELINE.with_name("no_policy.toml")).spec.levers}),
                         rng=3, firm_agents=False)
    assert other.p.prices.passthrough == drawn[3].p.prices.passthrough


def test_a_posterior_naming_an_unknown_value_is_a_user_error(tmp_path: Path) -> None:
    (tmp_path / "post").mkdir()
    (tmp_path / "post" / "particles.csv").write_text("weight,uncertainties.demand.nothing\n1,0.5\n", encoding="utf-8")
    scenario = tmp_path / "s.toml"
    scenario.write_text(f'extends = "{BASELINE}"\nposterior = "post"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(scenario)])
    assert result.exit_code == 2 and "posterior" in result.output and "no such uncertain value" in result.output


def test_parameter_summary_says_what_moved() -> None:
    spec = load_scenario(BASELINE, SMALL).spec
    key = "uncertainties.prices.passthrough"
    from simulation.assimilation.abc import Result

    narrow = Result([key], np.full((50, 1), 0.4) + np.linspace(-0.01, 0.01, 50)[:, None], np.zeros((50, 1)),
                    np.full(50, 1 / 50), {})
    row = parameter_summary(narrow, spec)[0]
    assert row["moved"] and row["contraction"] < 0.1 and row["posterior"]["median"] == pytest.approx(0.4, abs=0.01)


def test_a_small_backtest_runs_end_to_end_and_scores_the_model_and_the_benchmarks(tmp_path: Path) -> None:
    scenario = tmp_path / "small.toml"
    scenario.write_text(f'extends = "{BASELINE}"\n[simulation]\nbelow_scale_ratio = 0.1\n', encoding="utf-8")
    config = tmp_path / "assimilate.toml"
    config.write_text(
        'scenario = "small.toml"\nout = "posteriors"\nseed = 5\n[abc]\npopulation = 10\nmax_generations = 1\n'
        '[parameters]\nkeys = ["uncertainties.demand.macro_shocks.2021", "uncertainties.demand.macro_shocks.2022", '
        '"uncertainties.prices.passthrough"]\n', encoding="utf-8")
    out = tmp_path / "bt"
    result = CliRunner().invoke(main, ["backtest", str(config), "--origin", "2020", "--origin", "2021", "-n", "4",
                                       "-j", "1", "--out", str(out), "--no-charts", "--quiet"])
    assert result.exit_code == 0, result.output
    post = json.loads((tmp_path / "posteriors" / "through-2021" / "posterior.json").read_text())
    assert post["through"] == 2021 and [p["key"] for p in post["parameters"]] == [
        "uncertainties.demand.macro_shocks.2021", "uncertainties.prices.passthrough"]  # 2022 not yet observed
    import pandas as pd

    table = pd.read_csv(out / "backtest.csv")
    model = table[table["source"] == "model"]
    assert set(model["origin"]) == {2020, 2021} and (model["year"] > model["origin"]).all()
    assert model["crps"].notna().any() and set(table["source"]) > {"model"}
    scored = model.dropna(subset=["crps"])
    assert (scored["q05"] <= scored["q95"]).all()
    # a second run reuses the posterior made from the same scenario and settings
    again = CliRunner().invoke(main, ["backtest", str(config), "--origin", "2021", "-n", "4", "-j", "1",
                                      "--out", str(tmp_path / "bt2"), "--no-charts"])
    assert again.exit_code == 0 and "reusing the posterior" in again.output


def test_simulator_maps_quantiles_through_the_scenarios_priors() -> None:
    spec = load_scenario(BASELINE, SMALL).spec
    sim = Simulator(spec, ["uncertainties.prices.passthrough", "uncertainties.demand.macro_shocks.2023"], [])
    values = sim.values([0.5, 0.5])
    assert values["uncertainties.prices.passthrough"] == pytest.approx(spec.uncertainties.prices.passthrough.ppf(0.5))
    assert values["uncertainties.demand.macro_shocks.2023"] == pytest.approx(0.0, abs=1e-9)  # its standard normal prior
