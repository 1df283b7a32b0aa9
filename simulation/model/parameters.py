"""One replicate's parameters: every uncertain scenario value drawn once.

Each distribution is sampled from a stream keyed by the replicate and the value's dotted
name, so two scenarios run with the same seed draw the same values for the uncertainties
they share (common random numbers).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import SimpleNamespace

import numpy as np
from pydantic import BaseModel

from simulation.model.streams import Streams
from simulation.scenario.distributions import Distribution, normal_ppf_many


def draw_parameters(uncertainties: BaseModel, streams: Streams, fixed: Mapping[str, float] | None = None) -> SimpleNamespace:
    """Replace every Distribution in the uncertainty tables by one draw, then set the ``fixed`` values.

    ``fixed`` maps scenario keys (``uncertainties.demand.macro_volatility``, or a table entry such
    as ``uncertainties.demand.macro_shocks.2022`` that the scenario need not list) to values: a
    posterior particle or a point an inference evaluates. The other draws are unchanged by it
    (each value has its own keyed stream).
    """
    uniforms: dict[str, float] = {}
    _uniforms(uncertainties, streams, "", uniforms)
    values = _quantiles(uncertainties, uniforms)
    drawn = _draw(uncertainties, values, "")
    for key, value in (fixed or {}).items():
        set_value(drawn, key, float(value))
    return drawn


def set_value(drawn: SimpleNamespace, key: str, value: float) -> None:
    """Set one drawn value by its scenario key; a table (dict) may gain an entry, nothing else may."""
    parts = key.split(".")
    if parts[0] != "uncertainties" or len(parts) < 3:
        raise KeyError(f"{key}: not an uncertain value (keys start with uncertainties.)")
    node: object = drawn
    for part in parts[1:-1]:
        node = node.get(part) if isinstance(node, dict) else getattr(node, part, None)
        if node is None:
            raise KeyError(f"{key}: no such uncertain value")
    last = parts[-1]
    if isinstance(node, dict):
        node[last] = value
    elif isinstance(node, SimpleNamespace) and isinstance(getattr(node, last, None), float):
        setattr(node, last, value)
    else:
        raise KeyError(f"{key}: no such uncertain value")


def _uniforms(node: object, streams: Streams, path: str, out: dict[str, float]) -> None:
    """One uniform per uncertain value from a stream keyed by the value's name: the same draw in every
    scenario that has this key, whatever else the scenario adds or removes."""
    if isinstance(node, Distribution):
        out[path] = streams.get(f"parameter:{path}").random()
    elif isinstance(node, BaseModel):
        for k in type(node).model_fields:
            _uniforms(getattr(node, k), streams, f"{path}.{k}", out)
    elif isinstance(node, dict):
        for k, v in sorted(node.items()):
            _uniforms(v, streams, f"{path}.{k}", out)


def _quantiles(uncertainties: BaseModel, uniforms: dict[str, float]) -> dict[str, float]:
    """Each uncertain value's quantile of its uniform: closed forms, and the normals in one SciPy call."""
    dists = dict(_distributions(uncertainties, ""))
    values = {path: dists[path].ppf_closed_form(u) for path, u in uniforms.items()}
    normals = [path for path, v in values.items() if v is None]
    if normals:
        drawn = normal_ppf_many([dists[path] for path in normals], np.array([uniforms[path] for path in normals]))
        values.update(zip(normals, (float(x) for x in drawn)))
    return values


def _distributions(node: object, path: str):
    if isinstance(node, Distribution):
        yield path, node
    elif isinstance(node, BaseModel):
        for k in type(node).model_fields:
            yield from _distributions(getattr(node, k), f"{path}.{k}")
    elif isinstance(node, dict):
        for k, v in node.items():
            yield from _distributions(v, f"{path}.{k}")


def _draw(node: object, values: dict[str, float], path: str) -> object:
    if isinstance(node, Distribution):
        return float(values[path])
    if isinstance(node, BaseModel):
        return SimpleNamespace(**{k: _draw(getattr(node, k), values, f"{path}.{k}") for k in type(node).model_fields})
    if isinstance(node, dict):
        return {k: _draw(v, values, f"{path}.{k}") for k, v in sorted(node.items())}
    return node


def flatten(ns: object, prefix: str = "") -> dict[str, float]:
    """Dotted-name view of the drawn numbers, for the results files."""
    out: dict[str, float] = {}
    items = vars(ns).items() if isinstance(ns, SimpleNamespace) else ns.items() if isinstance(ns, dict) else ()
    for k, v in items:
        name = f"{prefix}{k}"
        if isinstance(v, (SimpleNamespace, dict)):
            out.update(flatten(v, name + "."))
        elif isinstance(v, float):
            out[name] = v
    return out
