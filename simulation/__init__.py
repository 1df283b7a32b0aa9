"""Agent-based model of Dongguan's industrial clusters under 东府〔2021〕10号.

The Python API (see :mod:`simulation.api`)::

    import simulation as sim

    results = sim.run("scenarios/baseline.toml", replicates=40, seed=7)
    results.summary                      # per cluster: growth, P(hit), P(keeps pace) (DataFrame)
    sim.evaluate({"land.floor_multiplier": 3.0}, {}, seed=1)   # a flat dict of outcomes

``ClusterModel`` is the Mesa model itself (``ClusterModel(rng=1).run()``, ``mesa.batch_run``).
Names are imported on first use, so ``simulate`` starts without loading the model.
"""

from importlib import import_module
from typing import Any

_EXPORTS = {
    "load_scenario": "simulation.api",
    "run": "simulation.api",
    "compare": "simulation.api",
    "evaluate": "simulation.api",
    "Results": "simulation.api",
    "ClusterModel": "simulation.model.model",
    "Scenario": "simulation.scenario.loader",
    "ScenarioError": "simulation.scenario.loader",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'simulation' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
