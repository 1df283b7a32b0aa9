"""Optimisation files: which levers to choose, on which futures, for which objectives, within which budget.

An optimisation file is TOML (see ``docs/POLICY_DESIGN.md`` and ``experiments/optimise.toml``)::

    description = "Robust lever mix within the budget"
    scenario = "../scenarios/baseline.toml"   # the base scenario, relative to this file
    seed = 20210118                           # root seed of the ensemble and of the optimiser

    [set]                                     # optional: fixed values for every run, as --set would set them
    "simulation.below_scale_ratio" = 1.0

    [ensemble]
    futures = 8                               # replicate seeds: every design runs in the same futures

    [levers]                                  # decision variables: lever magnitudes, each a range
    "levers.agencies.budget" = { range = [0.05, 0.8] }

    [allocations]                             # shares the optimiser re-splits (their sum kept as in the scenario)
    "levers.funds.guidance.mandate" = ["soft", "mat", "ene", "bio", "semi"]

    [objectives]                              # robustness metrics (simulation.experiments.robustness): "max" or "min"
    p_all_hit = "max"
    cost_per_year = "min"

    [constraints]
    budget = 40.0                             # 亿元 a year: mean public cost over the ensemble at most this

    [optimiser]
    algorithm = "nsga2"                       # nsga2 | nsga3 (pymoo)
    population = 12
    generations = 6

    [briefing]
    probability = 0.5                         # "the cheapest design with P(all five hit) >= 0.5"; or "as_written"

Problems become one :class:`~simulation.experiments.experiment_file.ExperimentError` line
naming the file, the key, its line and what is allowed. Every lever range's ends are applied to
the base scenario as ``--set`` would, so an out-of-range value is reported before anything runs.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulation.experiments.combinations import with_values
from simulation.experiments.experiment_file import (
    _check_values, _File, _flatten, _is_spec_leaf, _parameter, _table, _whole, base_scenario,
    open_file,
)  # fmt: skip
from simulation.experiments.robustness import METRICS, metric
from simulation.scenario import Scenario
from simulation.scenario.schema import ScenarioSpec
from simulation.scenario.toml_files import other_kind, show

TOP_KEYS = ("description", "scenario", "seed", "set", "ensemble", "levers", "allocations", "objectives",
            "constraints", "optimiser", "briefing")  # fmt: skip
ALGORITHMS = ("nsga2", "nsga3")
MAX_RUNS = 1_000_000  # population x generations x futures


@dataclass(frozen=True)
class LeverRange:
    """A decision variable: one lever magnitude between ``low`` and ``high``."""

    key: str
    low: float
    high: float
    dtype: str  # "float" | "int"
    base: float  # the value in the base scenario (the policy as written)


@dataclass(frozen=True)
class Allocation:
    """Shares the optimiser re-splits among ``parts`` of the table ``key``, keeping their ``total``."""

    key: str
    parts: tuple[str, ...]
    base: tuple[float, ...]  # the shares in the base scenario

    @property
    def total(self) -> float:
        return float(sum(self.base))

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(f"{self.key}.{p}" for p in self.parts)


@dataclass(frozen=True)
class OptimiseFile:
    """A loaded, validated optimisation file."""

    path: Path
    name: str
    description: str
    text: str
    scenario: Scenario
    seed: int
    futures: int
    levers: tuple[LeverRange, ...]
    allocations: tuple[Allocation, ...]
    objectives: tuple[tuple[str, str], ...]  # (metric, "max" | "min")
    budget: float | None
    algorithm: str
    population: int
    generations: int
    probability: float | str  # or "as_written"

    @property
    def years(self) -> float:
        sim = self.scenario.spec.simulation
        return float(sim.end_year - sim.start_year)

    @property
    def n_runs(self) -> int:
        return self.population * self.generations * self.futures


def load_optimise_file(path: str | Path, overrides: tuple[str, ...] | list[str] = ()) -> OptimiseFile:
    """Read and validate an optimisation file; ``overrides`` are ``--set`` options on the base scenario."""
    path = Path(path)
    text, data, f = open_file(path, "an optimisation file")
    inline = f.inline
    if any(k in data for k in ("simulation", "extends", "uncertainties")):
        raise f.error("is a scenario file, not an optimisation file: run it with simulate run")
    if "design" in data or "parameters" in data:
        raise f.error("is a sweep's experiment file, not an optimisation file: run it with simulate sweep")
    kind = other_kind(data)
    if kind and "calibration" in kind:
        raise f.error(f"is {kind}, not an optimisation file")
    f.unknown(data, TOP_KEYS, ())
    description = data.get("description", "")
    if not isinstance(description, str):
        raise f.error(f"expected a string in quotes; got {show(description)}", ("description",))
    scenario, scenario_path, base_overrides, _ = base_scenario(f, data, overrides)
    spec = scenario.spec
    seed = _whole(f, data["seed"], ("seed",), 0, 2**63 - 1) if "seed" in data else spec.simulation.seed

    ensemble = _table(f, data, "ensemble")
    f.unknown(ensemble, ("futures",), ("ensemble",))
    if "futures" not in ensemble:
        raise f.error("missing required key: the number of futures every design runs in, e.g. futures = 8",
                      ("ensemble", "futures"))  # fmt: skip
    futures = _whole(f, ensemble["futures"], ("ensemble", "futures"), 1, 10_000)

    levers = _levers(f, data, inline, spec, scenario_path, base_overrides, scenario)
    allocations = _allocations(f, data, scenario)
    if not levers and not allocations:
        raise f.error('list the levers to choose, e.g. "levers.agencies.budget" = { range = [0.05, 0.8] }',
                      ("levers",))  # fmt: skip
    split = {k for a in allocations for k in a.keys}
    clash = next((lv.key for lv in levers if lv.key in split), None)
    if clash:
        raise f.error("is re-split by [allocations] too; remove one", ("levers", clash))

    objectives_table = _table(f, data, "objectives")
    if not objectives_table:
        raise f.error('list at least two objectives, e.g. p_all_hit = "max" and cost_per_year = "min"',
                      ("objectives",))  # fmt: skip
    objectives = []
    for name, sense in objectives_table.items():
        try:
            metric(name)
        except KeyError:
            raise f.error(f"unknown objective; allowed: {', '.join(METRICS)}, mean:<column>, median:<column>",
                          ("objectives", name)) from None  # fmt: skip
        if sense not in ("max", "min"):
            raise f.error(f'expected "max" or "min"; got {show(sense)}', ("objectives", name))
        objectives.append((name, sense))
    if len(objectives) < 2:
        raise f.error("a trade-off needs at least two objectives (e.g. add cost_per_year = \"min\")", ("objectives",))

    constraints = _table(f, data, "constraints")
    f.unknown(constraints, ("budget",), ("constraints",))
    budget = constraints.get("budget")
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, (int, float))
                               or not math.isfinite(budget) or budget <= 0):  # fmt: skip
        raise f.error(f"expected 亿元 a year, a positive number; got {show(budget)}", ("constraints", "budget"))

    optimiser = _table(f, data, "optimiser")
    f.unknown(optimiser, ("algorithm", "population", "generations"), ("optimiser",))
    algorithm = optimiser.get("algorithm", "nsga2")
    if algorithm not in ALGORITHMS:
        raise f.error(f"must be one of {', '.join(map(repr, ALGORITHMS))}; got {show(algorithm)}",
                      ("optimiser", "algorithm"))  # fmt: skip
    population = _whole(f, optimiser.get("population", 12), ("optimiser", "population"), 4, 10_000)
    generations = _whole(f, optimiser.get("generations", 6), ("optimiser", "generations"), 1, 10_000)
    if population * generations * futures > MAX_RUNS:
        raise f.error(f"population x generations x futures is {population * generations * futures:,} runs; at most "
                      f"{MAX_RUNS:,}", ("optimiser",))  # fmt: skip

    briefing = _table(f, data, "briefing")
    f.unknown(briefing, ("probability",), ("briefing",))
    probability = briefing.get("probability", 0.5)
    if probability != "as_written" and (isinstance(probability, bool) or not isinstance(probability, (int, float))
                                        or not 0 < probability <= 1):  # fmt: skip
        raise f.error(f'expected a probability in (0, 1], or "as_written" (what the policy as written reaches in '
                      f"the same futures); got {show(probability)}", ("briefing", "probability"))  # fmt: skip

    return OptimiseFile(path, path.stem, description, text, scenario, seed, futures, tuple(levers),
                        tuple(allocations), tuple(objectives), None if budget is None else float(budget), algorithm,
                        population, generations,
                        probability if probability == "as_written" else float(probability))  # fmt: skip


def _levers(f: _File, data: dict[str, Any], inline: set, spec: ScenarioSpec, scenario_path: Path,
            base_overrides: tuple[str, ...], scenario: Scenario) -> list[LeverRange]:  # fmt: skip
    table = _table(f, data, "levers")
    items = _flatten(table, ("levers",), inline, leaf=_is_spec_leaf(inline))
    out = []
    for keys, value in items:
        key = ".".join(keys[1:])
        if not key.startswith("levers."):
            raise f.error("a decision variable is a lever (levers.*); uncertainties belong to the ensemble", keys)
        if not (isinstance(value, dict) and set(value) == {"range"}):
            raise f.error("expected { range = [low, high] }", keys)
        parameter = _parameter(f, keys, key, value, spec)
        if parameter.dtype == "bool":
            raise f.error("a switch cannot be optimised here; choose a magnitude", keys)
        _check_values(f, keys, parameter, scenario_path, base_overrides, scenario)
        base = _current(spec, key)
        out.append(LeverRange(key, float(parameter.low), float(parameter.high), parameter.dtype, float(base)))
    return out


def _allocations(f: _File, data: dict[str, Any], scenario: Scenario) -> list[Allocation]:
    table = _table(f, data, "allocations")
    out = []
    resolved = scenario.spec.model_dump()
    for key, parts in _flatten(table, ("allocations",), set(), leaf=lambda k, v: not isinstance(v, dict)):
        name = ".".join(key[1:])
        if not isinstance(parts, list) or len(parts) < 2 or not all(isinstance(p, str) for p in parts):
            raise f.error("expected a list of at least two keys of the table, e.g. [\"soft\", \"semi\"]", key)
        node = _node(resolved, name)
        if not isinstance(node, dict):
            raise f.error("not a table of the scenario (e.g. levers.funds.guidance.mandate)", key)
        missing = [p for p in parts if p not in node]
        if missing:
            raise f.error(f"the scenario's {name} has no {', '.join(missing)}; it has: {', '.join(node)}", key)
        base = tuple(node[p] for p in parts)
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 1 for v in base):
            raise f.error("only shares (numbers between 0 and 1) can be re-split", key)
        if sum(base) <= 0:
            raise f.error("these shares add up to 0 in the scenario: nothing to re-split", key)
        allocation = Allocation(name, tuple(parts), tuple(float(v) for v in base))
        even = {k: allocation.total / len(parts) for k in allocation.keys}
        try:  # an even split must be a valid scenario (the optimiser may propose any split)
            ScenarioSpec.model_validate(with_values(tomllib.loads(scenario.text), even))
        except Exception as exc:
            raise f.error(f"cannot be re-split: {str(exc).splitlines()[-1].strip()}", key) from None
        out.append(allocation)
    return out


def _node(data: dict[str, Any], key: str) -> Any:
    node: Any = data
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _current(spec: ScenarioSpec, key: str) -> float:
    node: Any = spec
    for part in key.split("."):
        node = node[part] if isinstance(node, dict) else getattr(node, part)
    return float(node)
