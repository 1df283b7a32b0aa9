"""The counterfactual a scenario names: the same scenario run with another scenario's levers.

"What the policy adds" holds the world fixed: the counterfactual keeps the scenario's own
uncertainties, years, seed and targets, and takes only the ``[levers]`` of the file the scenario
names in ``counterfactual`` (``business_as_usual.toml`` for the baseline: the programmes that
predate 10号文). Run with the same replicate seeds, each replicate's difference is the policy's
effect in that replicate (common random numbers).
"""

from __future__ import annotations

from simulation.scenario import Scenario, ScenarioError, load_scenario
from simulation.scenario.schema import ScenarioSpec


def counterfactual_spec(scenario: Scenario) -> tuple[str, ScenarioSpec] | None:
    """(name, spec) of the scenario's counterfactual, or None when it names none."""
    if scenario.counterfactual is None:
        return None
    if not scenario.counterfactual.is_file():
        raise ScenarioError(f"counterfactual scenario not found: {scenario.counterfactual}", scenario.path,
                            "counterfactual")
    other = load_scenario(scenario.counterfactual)
    spec = scenario.spec.model_copy(update={"levers": other.spec.levers, "counterfactual": ""})
    return other.name, spec
