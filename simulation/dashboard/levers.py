"""The dashboard's inputs: one switch per kind of lever and a slider for its main magnitude.

Each input is keyed by the scenario key it sets (``levers.land.floor_multiplier``), which
``ClusterModel`` takes as a keyword override, so SolaraViz rebuilds the model with the new value
on Reset exactly as ``--set`` would. Slider ranges are set here by hand around the policy's
magnitudes and widened to include the scenario's own value; every value stays inside the
schema's bounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mesa.visualization import Slider

from simulation.scenario.loader import Scenario
from simulation.reporting import labels


@dataclass(frozen=True)
class LeverSlider:
    key: str  # inside [levers]
    label: str
    low: float
    high: float
    step: float


SWITCHES = (
    ("subsidy", "R&D subsidies and rewards"),
    ("land", "Land redevelopment"),
    ("talent", "Talent incentives"),
    ("core_zones", "Core zones"),
    ("agencies", "Promotion agencies"),
)

SLIDERS = (
    LeverSlider("subsidy.rd_budget", "R&D subsidy budget, 100 M CNY/yr", 0.0, 30.0, 1.0),
    LeverSlider("land.redevelopment_mu_per_year", "Land redeveloped, mu/yr", 0.0, 20_000.0, 500.0),
    LeverSlider("land.floor_multiplier", "Floor space per m² of land", 1.0, 6.0, 0.1),
    LeverSlider("talent.subsidy", "Talent subsidy, M CNY per worker/yr", 0.0, 0.08, 0.005),
    LeverSlider("core_zones.matching_money", "Core-zone money, M CNY per town/yr", 0.0, 40.0, 1.0),
    LeverSlider("agencies.budget", "Agency budget, 100 M CNY/yr each", 0.0, 1.5, 0.05),
)
FUND_SIZE = LeverSlider("funds.{name}.target_size", "{name}: target size, 100 M CNY", 0.0, 300.0, 10.0)
SEED_RANGE = (0, 99)


def lever_value(scenario: Scenario, key: str) -> Any:
    node: Any = scenario.spec.levers
    for part in key.split("."):
        node = node[part] if isinstance(node, dict) else getattr(node, part)
    return node


def model_params(scenario: Scenario, seed: int) -> dict[str, Any]:
    """SolaraViz ``model_params``: the fixed arguments of ClusterModel, then the inputs."""
    params: dict[str, Any] = {
        "spec": str(scenario.path),
        "firm_agents": False,
        "collect_data": True,
        "rng": Slider("Seed", value=int(seed), min=SEED_RANGE[0], max=max(SEED_RANGE[1], int(seed)), step=1),
    }
    for name, label in SWITCHES:
        key = f"levers.{name}.enabled"
        params[key] = {"type": "Checkbox", "value": bool(lever_value(scenario, f"{name}.enabled")), "label": label}
    sliders = list(SLIDERS)
    for fund in sorted(scenario.spec.levers.funds):
        sliders.append(LeverSlider(FUND_SIZE.key.format(name=fund), FUND_SIZE.label.format(name=labels.fund(fund, "en")),
                                   FUND_SIZE.low, FUND_SIZE.high, FUND_SIZE.step))
    for s in sliders:
        value = float(lever_value(scenario, s.key))
        params[f"levers.{s.key}"] = Slider(s.label, value=value, min=min(s.low, value), max=max(s.high, value),
                                           step=s.step, dtype=float)
    return params


def lever_rows(scenario_levers: Any, funds: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) of every dashboard input, from a model's levers, for the panel of the run shown."""
    rows = []
    for name, label in SWITCHES:
        rows.append((label, "on" if getattr(scenario_levers, name).enabled else "off"))
    for s in SLIDERS:
        part, field = s.key.split(".")
        rows.append((s.label, f"{getattr(getattr(scenario_levers, part), field):g}"))
    for name, fund in sorted(funds.items()):
        rows.append((FUND_SIZE.label.format(name=labels.fund(name, "en")), f"{fund.target_size:g}" + ("" if fund.enabled else " (off)")))
    return rows
