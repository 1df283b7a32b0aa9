"""The model in EMA Workbench: two levers, two uncertainties, a small experiment (python examples/ema_experiment.py)."""

import pandas as pd
from ema_workbench import Model, RealParameter, ScalarOutcome, perform_experiments

import simulation as sim

# EMA Workbench name -> (scenario key inside [levers] or [uncertainties], low, high)
LEVERS = {"floor_multiplier": ("land.floor_multiplier", 2.0, 5.0), "talent_subsidy": ("talent.subsidy", 0.0, 0.06)}
UNCERTAINTIES = {"demand_volatility": ("demand.volatility", 2.0, 7.0),
                 "pipeline_conversion": ("land.pipeline_conversion", 0.5, 0.8)}
OUTCOMES = ("hit_p_semi", "cagr_median_city", "fiscal_cost")


def dongguan(seed: int = 1, **values: float) -> dict[str, float]:
    """One replicate of the baseline at these values (the same seed: common random numbers)."""
    levers = {key: values[name] for name, (key, _, _) in LEVERS.items()}
    return sim.evaluate(levers, {key: values[name] for name, (key, _, _) in UNCERTAINTIES.items()}, seed=seed)


model = Model("dongguan", function=dongguan)
model.levers = [RealParameter(name, low, high) for name, (_, low, high) in LEVERS.items()]
model.uncertainties = [RealParameter(name, low, high) for name, (_, low, high) in UNCERTAINTIES.items()]
model.outcomes = [ScalarOutcome(name) for name in OUTCOMES]

if __name__ == "__main__":
    experiments, outcomes = perform_experiments(model, scenarios=4, policies=2)
    print(pd.concat([experiments[[*LEVERS, *UNCERTAINTIES]], pd.DataFrame(outcomes)], axis=1).round(3).to_string())
