"""Checking, before a sweep starts, every combination of values its design makes.

Each varied key's own values are checked alone when the experiment is loaded. What can still fail
is a combination of values each allowed alone: the shares of one fund's mandate adding up to more
than 1, or an event dated after a shortened horizon. Only keys that some validator reads together
can fail that way: keys inside one table with a model validator, inside a validated table (a
mandate), or read by a validator declared with :func:`simulation.scenario.bounds.reads`. For each
group of such keys, every distinct combination the design makes is validated, on the innermost
table that holds all the group's checks (so a mandate's shares cost microseconds each).
"""

from __future__ import annotations

import tomllib
from typing import Any

from simulation.experiments.design import Design
from simulation.scenario import Scenario, ScenarioError, load_scenario
from simulation.scenario.bounds import declared_reads, reads_key
from simulation.scenario.loader import is_model, schema_type
from simulation.scenario.schema import ScenarioSpec
from simulation.scenario.toml_files import toml_inline


def check_combinations(design: Design, scenario: Scenario, error: Any) -> None:
    """Check every combination the design makes of keys that a check across keys reads together.

    Each key's own values were checked alone (:func:`_check_values`); only groups of keys that a
    validator reads together (a table's model validator, a validated table such as a mandate, or a
    validator declared with :func:`simulation.scenario.bounds.reads`) can fail in combination.
    ``error(message, key)`` makes the exception to raise.
    """
    keys = list(design.keys)
    groups = _interacting(keys)
    if not groups:
        return
    data = tomllib.loads(scenario.text)
    for group, scope in groups:
        columns = [design.values(keys[i]) for i in group]
        seen: set[tuple] = set()
        for point, combo in enumerate(zip(*columns)):
            combo = tuple(_plain(v) for v in combo)
            if combo in seen:
                continue
            seen.add(combo)
            trial = with_values(data, {keys[i]: v for i, v in zip(group, combo)})
            model, sub = ScenarioSpec, trial
            if scope:  # every check involved lies in this table: validate just it
                model = schema_type(scope)[0]
                for k in scope:
                    sub = sub[k]
            try:
                model.model_validate(sub)
                continue
            except Exception:
                pass
            options = [f"{keys[i]}={toml_inline(v)}" for i, v in zip(group, combo)]
            try:
                load_scenario(scenario.path, (*scenario.overrides, *options))
                message = "these values are invalid together"
            except ScenarioError as exc:
                message = exc.message if exc.override in options else str(exc)
            sets = ", ".join(f"{keys[i]} = {toml_inline(v)}" for i, v in zip(group, combo))
            raise error(f"design point {point} combines {sets}, which is invalid: {message}", keys[group[0]])


def _interacting(keys: list[str]) -> list[tuple[list[int], tuple[str, ...]]]:
    """Groups of (indices of) varied keys that some validator reads together, each with the innermost
    table that holds all its validators (() for the whole scenario)."""
    checks: list[set[tuple]] = []
    for key in keys:
        parts = tuple(key.split("."))
        found = set()
        for i in range(len(parts)):
            table = parts[:i]
            model = schema_type(table)[0] if table else ScenarioSpec
            if not is_model(model):
                continue
            decorators = model.__pydantic_decorators__
            for name, dec in decorators.model_validators.items():
                if declared_reads(dec.func) is None or reads_key(dec.func, key):
                    found.add((table, name))
            for name, dec in decorators.field_validators.items():
                if parts[i] in dec.info.fields and i + 1 < len(parts):  # the key is inside a validated table
                    found.add((table, name))
        checks.append(found)
    parent = list(range(len(keys)))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for i in range(len(keys)):
        for j in range(i + 1, len(keys)):
            if checks[i] & checks[j]:
                parent[root(j)] = root(i)
    groups: dict[int, list[int]] = {}
    for i in range(len(keys)):
        groups.setdefault(root(i), []).append(i)
    out = []
    for members in groups.values():
        if len(members) < 2:
            continue
        tables = [table for i in members for table, _ in checks[i]]
        scope = tables[0]
        for table in tables:  # the innermost table holding every check: validating it runs them all
            while table[: len(scope)] != scope:
                scope = scope[:-1]
        out.append((members, scope))
    return out


def with_values(data: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """``data`` with dotted keys set, copying only the tables on the way (the rest is shared)."""
    out = dict(data)
    for key, value in values.items():
        node = out
        *parents, last = key.split(".")
        for k in parents:
            node[k] = dict(node[k])
            node = node[k]
        node[last] = value
    return out


def _plain(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v
