"""Every number a scenario sets is bounded, and the model stays finite at every bound.

The bounds are the mechanism that keeps hostile or careless values (a budget of 1e300, projects
of 1e-300 mu) from crashing or stalling the model, so they are tested as a whole: every numeric
key of the baseline, including keys added later, must have a lower and an upper bound, a large
bound must give its reason, and one replicate at each bound must either be refused with a
message (a check across keys) or run to the end with finite numbers and no overflow.
"""

from __future__ import annotations

import math
import tomllib
import warnings
from pathlib import Path

import numpy as np
import pytest

from simulation.experiments.runner import run_replicate
from simulation.scenario import ScenarioError, load_scenario
from simulation.scenario.loader import bounds_of, schema_type, why

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml"
SHORT = ["simulation.end_year=2021", "simulation.below_scale_ratio=0.1", "simulation.replicates=1"]
# the run's length and seeds: bounded too, but they make a run longer or different, not unstable
NOT_RUN = {"simulation.start_year", "simulation.end_year", "simulation.steps_per_year", "simulation.replicates",
           "simulation.seed"}  # fmt: skip


def numeric_keys() -> list[tuple[str, ...]]:
    """Every number (or distribution) the resolved baseline sets, outside its calibration record."""
    data = tomllib.loads(load_scenario(BASELINE).text)
    out, stack = [], [((), data)]
    while stack:
        keys, value = stack.pop()
        if isinstance(value, dict) and "dist" not in value:
            stack.extend(((*keys, k), v) for k, v in value.items() if keys or k != "calibration")
        elif isinstance(value, dict) or (isinstance(value, (int, float)) and not isinstance(value, bool)):
            out.append(keys)
    return sorted(out)


KEYS = numeric_keys()


def test_the_walk_finds_the_keys_of_every_table() -> None:
    found = {".".join(k) for k in KEYS}
    assert {"levers.agencies.budget", "levers.land.min_project_mu", "levers.funds.ic.max_ticket",
            "uncertainties.baseline.revenue_2020.semi", "uncertainties.policy.promotion_effect",
            "uncertainties.baseline.shutdown_shortfall", "uncertainties.demand.macro_shocks.2022",
            "simulation.below_scale_ratio"} <= found
    assert len(found) > 150


@pytest.mark.parametrize("keys", KEYS, ids=[".".join(k) for k in KEYS])
def test_every_number_has_bounds_and_a_large_bound_its_reason(keys: tuple[str, ...]) -> None:
    bounds = bounds_of(keys)
    low = bounds.get("ge", bounds.get("gt"))
    high = bounds.get("le", bounds.get("lt"))
    assert low is not None and high is not None, f"{'.'.join(keys)} needs a lower and an upper bound"
    assert math.isfinite(low) and math.isfinite(high)
    if max(abs(low), abs(high)) > 100:  # money, counts, sizes: say why the bound is where it is
        assert why(keys), f"{'.'.join(keys)}: a bound of {high:g} needs its reason (see simulation/scenario/bounds.py)"


def extremes(keys: tuple[str, ...]) -> list[float | int]:
    bounds = bounds_of(keys)
    whole = schema_type(keys)[0] is int
    values = []
    for name, nudge in (("ge", 0), ("gt", 1), ("le", 0), ("lt", -1)):
        if name in bounds:
            x = bounds[name]
            x = x + nudge if whole else (x + nudge * max(abs(x), 1.0) * 1e-9)
            values.append(int(x) if whole else float(x))
    return values


CASES = [(k, v) for k in KEYS if ".".join(k) not in NOT_RUN for v in extremes(k)]


@pytest.mark.parametrize("keys, value", CASES, ids=[f"{'.'.join(k)}={v!r}" for k, v in CASES])
def test_the_model_stays_finite_at_every_bound(keys: tuple[str, ...], value: float) -> None:
    option = f"{'.'.join(keys)}={value!r}"
    try:
        scenario = load_scenario(BASELINE, [*SHORT, option])
    except ScenarioError as exc:  # refused by a check across keys (an event outside the run, shares over 1)
        assert exc.message and "\n" not in str(exc)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # overflow, invalid values
        result = run_replicate(scenario.spec, 20210118)
    for name, series in vars(result).items():
        if isinstance(series, np.ndarray) and series.dtype.kind == "f":
            assert not np.isinf(series).any(), f"{option}: {name} is infinite"


CORNERS = {  # the products the model forms of two or more keys, at their worst
    "agencies attract the most firms": ["levers.agencies.budget=10.0", "levers.agencies.attraction_share=1.0",
                                        "levers.agencies.matchmaking_share=0.0", "levers.agencies.finance_share=0.0",
                                        "levers.agencies.incentive_share=1.0",
                                        "uncertainties.policy.promotion_effect=10.0",
                                        "uncertainties.policy.promotion_half_cost=0.001",
                                        "uncertainties.policy.incentive_elasticity=20.0",
                                        "uncertainties.policy.base_win_share=0.99",
                                        "uncertainties.policy.investment_inflow=100.0",
                                        "uncertainties.policy.attracted_firm_size=1.0"],
    "investment flows in fastest": ["uncertainties.policy.investment_inflow=100.0",
                                    "uncertainties.policy.zone_entry_multiplier=10.0",
                                    "uncertainties.policy.zone_diminishing=1.0"],
    "most base land": ["levers.land.emerging_base_mu_per_year=100000.0", "levers.land.min_project_mu=1.0",
                       "levers.land.floor_multiplier=20.0", "uncertainties.land.city_floor_million_m2=1.0"],
    "market builds fastest": ["uncertainties.land.background_mu_per_year=100000.0",
                              "uncertainties.land.supply_elasticity=10.0", "uncertainties.land.rent_elasticity=10.0",
                              "uncertainties.land.market_floor_multiplier=20.0",
                              "uncertainties.land.city_floor_million_m2=1.0"],
    "most redevelopment projects": ["levers.land.redevelopment_mu_per_year=100000.0", "levers.land.min_project_mu=1.0",
                                    "levers.land.floor_multiplier=20.0", "uncertainties.land.city_floor_million_m2=1.0",
                                    "uncertainties.land.pipeline_conversion=1.0"],
    "most spin-offs with room for them": ["uncertainties.behaviour.spinoff_rate=1.0",
                                          "uncertainties.policy.zone_entry_multiplier=10.0",
                                          "uncertainties.land.initial_vacancy=0.5"],
    "most firms": ["simulation.below_scale_ratio=20.0",
                   *[f"uncertainties.baseline.abovescale_firms_2020.{c}=3000.0" for c in
                     ("ngei", "hem", "tex", "food", "soft", "mat", "ene", "bio", "semi", "other")]],
    "largest talent pull": ["levers.talent.subsidy=10.0", "uncertainties.talent.skilled_income=0.001",
                            "uncertainties.talent.location_choice_beta=50.0", "uncertainties.talent.outside_match=0.0",
                            "levers.talent.budget_cap=1000.0"],
    "smallest tickets of the largest fund": ["levers.funds.guidance.max_ticket=0.01",
                                             "levers.funds.guidance.target_size=1000.0",
                                             "uncertainties.funds.private_coinvest=10.0"],
}  # fmt: skip


@pytest.mark.parametrize("options", CORNERS.values(), ids=CORNERS.keys())
def test_the_model_stays_finite_at_the_worst_corners(options: list[str]) -> None:
    scenario = load_scenario(BASELINE, [*SHORT, *options])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        result = run_replicate(scenario.spec, 20210118)
    for name, series in vars(result).items():
        if isinstance(series, np.ndarray) and series.dtype.kind == "f":
            assert not np.isinf(series).any(), f"{name} is infinite"
