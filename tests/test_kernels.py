"""The compiled firm rules (numba, the default) agree with the NumPy reference rules.

Rule by rule on the same state: each model is stepped a few quarters, copied, and one rule is applied
to each copy, once with :mod:`simulation.model.fused_rules` and once with
:mod:`simulation.model.firm_rules`; every firm column (live rows), the towns' pools and what the
rule returns must agree to 1e-12 (relative to the value, or to the column's largest value where a
difference cancels to near zero, as cash does), and the random numbers the kernels use must be the
NumPy rules' to the bit. The sums over live firms (cells, annual revenue and the statistics' year,
fund candidates, above-scale flags) and the queue that houses and staffs entrants must agree exactly. Then whole runs: the two paths give the same series to
floating-point rounding, and the NumPy path stays available through ``SIMULATE_KERNELS=numpy``.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from simulation.model import cells, entry, firm_rules, fused_rules, investors
from simulation.model.firm_table import COLUMNS
from simulation.model.kernels import ENV, chosen
from simulation.model.model import ClusterModel
from simulation.scenario import load_scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
SMALL = ["simulation.below_scale_ratio=0.5", "simulation.end_year=2023"]
RTOL = 1e-12


@lru_cache(maxsize=None)
def spec(name: str):
    return load_scenario(SCENARIOS / f"{name}.toml", SMALL).spec


def stepped(name: str, seed: int, steps: int) -> ClusterModel:
    m = ClusterModel(spec(name), rng=seed, firm_agents=False, kernels="numpy")
    for _ in range(steps):
        m.step()
    return m


def assert_same_state(a: ClusterModel, b: ClusterModel, what: str) -> None:
    """Live rows of every firm column, the scratch columns and the towns' pools agree to RTOL."""
    assert a.firms.n == b.firms.n
    live = np.flatnonzero(a.firms.alive[: a.firms.n])
    np.testing.assert_array_equal(live, np.flatnonzero(b.firms.alive[: b.firms.n]), err_msg=what)
    for column in [*COLUMNS, "relative", "productivity_change", "competitiveness"]:
        x, y = getattr(a.firms, column)[live], getattr(b.firms, column)[live]
        if x.dtype == np.float64:  # relative to each value, or to the column's scale (cash near zero cancels)
            np.testing.assert_allclose(x, y, rtol=RTOL, atol=RTOL * np.abs(y).max(initial=0.0), err_msg=f"{what}: {column}")
        else:
            np.testing.assert_array_equal(x, y, err_msg=f"{what}: {column}")
    np.testing.assert_allclose(a.towns.vacant, b.towns.vacant, rtol=RTOL, err_msg=f"{what}: vacant floor")
    np.testing.assert_allclose(a.towns.talent_free, b.towns.talent_free, rtol=RTOL, err_msg=f"{what}: talent")
    assert a.talent_unfilled == pytest.approx(b.talent_unfilled, rel=RTOL, abs=1e-300), what


CASES = [("baseline", 1, 3), ("baseline", 2, 6), ("no_policy", 3, 4), ("land_squeeze", 4, 5), ("demand_shock", 5, 7)]


@pytest.mark.parametrize("name, seed, steps", CASES)
def test_each_compiled_rule_agrees_with_the_numpy_rule(name: str, seed: int, steps: int) -> None:
    m = stepped(name, seed, steps)
    m.steps += 1  # as step() would, before the rules run: the review quarter and the streams' counter
    numpy_model, fused_model = copy.deepcopy(m), copy.deepcopy(m)
    for model, rules in ((numpy_model, firm_rules), (fused_model, fused_rules)):
        model.rules = copy.copy(model.rules)
        model.rules.name = "numba" if rules is fused_rules else "numpy"
    numpy_model.rules.census = firm_rules.census
    fused_model.rules.census = fused_rules.census
    assert_same_state(numpy_model, fused_model, "before")

    for rule in ("update_productivity", "rd_and_subsidies"):
        getattr(firm_rules, rule)(numpy_model)
        getattr(fused_rules, rule)(fused_model)
        assert_same_state(numpy_model, fused_model, rule)
    np.testing.assert_array_equal(numpy_model.activity, fused_model.activity)  # the same draws, to the bit
    census_a, census_b = firm_rules.census(numpy_model), fused_rules.census(fused_model)
    np.testing.assert_array_equal(census_a.small, census_b.small)
    np.testing.assert_array_equal(census_a.constrained, census_b.constrained)
    np.testing.assert_allclose(census_a.small_revenue, census_b.small_revenue, rtol=RTOL)

    wanted_a, wanted_b = firm_rules.desired_revenue(numpy_model), fused_rules.desired_revenue(fused_model)
    live = numpy_model.firms.live
    np.testing.assert_allclose(wanted_b[live], wanted_a[live], rtol=RTOL, err_msg="desired revenue")
    assert (wanted_b[live] > 0).all() and np.isfinite(wanted_b).all()
    firm_rules.expand_and_produce(numpy_model, wanted_a)
    fused_rules.expand_and_produce(fused_model, wanted_b)
    assert_same_state(numpy_model, fused_model, "expand_and_produce")

    exits_a, exits_b = firm_rules.account_and_exit(numpy_model), fused_rules.account_and_exit(fused_model)
    np.testing.assert_array_equal(exits_a, exits_b)
    assert numpy_model.insolvencies == fused_model.insolvencies
    assert_same_state(numpy_model, fused_model, "account_and_exit")


@pytest.mark.parametrize("name, seed, steps", CASES[:3])
def test_the_scans_over_live_firms_are_exact(name: str, seed: int, steps: int) -> None:
    """Cell sums, annual revenue, fund candidates and above-scale flags: the same numbers, not close ones."""
    m = stepped(name, seed, steps)
    numpy_model, fused_model = copy.deepcopy(m), copy.deepcopy(m)
    fused_model.rules = copy.copy(fused_model.rules)
    fused_model.rules.name = "numba"
    a, b = cells.aggregate(numpy_model), cells.aggregate(fused_model)
    for key in vars(a):
        np.testing.assert_array_equal(getattr(a, key), getattr(b, key), err_msg=key)
    for fund_a, fund_b in zip(numpy_model.funds, fused_model.funds):
        np.testing.assert_array_equal(fund_a.candidates(), fund_b.candidates())
    numpy_model.recorder.record()
    fused_model.recorder.record()
    for column in ("revenue_year", "nominal_year"):
        np.testing.assert_array_equal(getattr(numpy_model.firms, column), getattr(fused_model.firms, column))
    np.testing.assert_array_equal(numpy_model.recorder.cluster, fused_model.recorder.cluster)
    numpy_model.firms.revenue[: m.firms.n] *= 1.3  # some firms cross the threshold
    fused_model.firms.revenue[: m.firms.n] *= 1.3
    numpy_model._designate()
    fused_model._designate()
    for column in ("above_scale", "rewarded", "cash", "public_cash"):
        np.testing.assert_array_equal(getattr(numpy_model.firms, column), getattr(fused_model.firms, column))


@pytest.mark.parametrize("name, seed, steps", CASES[:3])
def test_compiled_admission_is_exact(name: str, seed: int, steps: int) -> None:
    """Housing and staffing entrants in the compiled queue gives the NumPy queue's result, to the bit."""
    m = stepped(name, seed, steps)
    m.steps += 1
    scarce = np.arange(m.towns.n) % 3 == 0  # some towns short of floor and talent: entrants turned away
    m.towns.vacant[scarce] *= 0.02
    m.towns.talent_free[scarce[::-1]] *= 0.02
    numpy_model, fused_model = copy.deepcopy(m), copy.deepcopy(m)
    fused_model.rules = copy.copy(fused_model.rules)
    fused_model.rules.name = "numba"
    admitted = []
    for model in (numpy_model, fused_model):
        spinoffs = entry.admit(model, entry.spinoffs(model), "spinoffs")
        won = entry.admit(model, investors.pipeline(model), "investors")
        admitted.append((spinoffs, won))
    np.testing.assert_array_equal(admitted[0][0], admitted[1][0])
    np.testing.assert_array_equal(admitted[0][1], admitted[1][1])
    assert admitted[0][0].size > 0
    np.testing.assert_array_equal(numpy_model.towns.vacant, fused_model.towns.vacant)
    np.testing.assert_array_equal(numpy_model.towns.talent_free, fused_model.towns.talent_free)
    assert numpy_model.talent_unfilled == fused_model.talent_unfilled > 0
    for column in COLUMNS:
        np.testing.assert_array_equal(getattr(numpy_model.firms, column), getattr(fused_model.firms, column))


@pytest.mark.parametrize("name, seed", [("baseline", 11), ("demand_shock", 12), ("no_policy", 13)])
def test_whole_runs_agree(name: str, seed: int) -> None:
    a = ClusterModel(spec(name), rng=seed, firm_agents=False, kernels="numpy").run()
    b = ClusterModel(spec(name), rng=seed, firm_agents=False, kernels="numba").run()
    for part in ("cluster", "town", "city"):
        np.testing.assert_allclose(getattr(b, part), getattr(a, part), rtol=1e-9, atol=1e-9, err_msg=part)


def test_the_environment_chooses_the_kernels(monkeypatch) -> None:
    monkeypatch.setenv(ENV, "numpy")
    assert ClusterModel(spec("baseline"), rng=1, firm_agents=False).rules.name == "numpy"
    assert ClusterModel(spec("baseline"), rng=1, firm_agents=False, kernels="numba").rules.name == "numba"
    monkeypatch.setenv(ENV, "fortran")
    with pytest.raises(ValueError, match=f"{ENV} must be one of 'numba', 'numpy'; got 'fortran'"):
        chosen()
    monkeypatch.delenv(ENV)
    assert chosen() == "numba"


def test_the_kernels_follow_the_rules_constants(monkeypatch) -> None:
    """The constants are arguments, not frozen into the compiled (and cached) code: a change to
    firm_rules.py reaches both paths."""
    monkeypatch.setattr(firm_rules, "IDLE_COST", 0.5)
    monkeypatch.setattr(firm_rules, "MIN_REVENUE", 3.0)
    assert fused_rules.constants().idle_cost == 0.5
    test_each_compiled_rule_agrees_with_the_numpy_rule("baseline", 7, 3)
