"""One replicate's parameters: every uncertain scenario value drawn once.

Each distribution is sampled from a stream keyed by the replicate and the value's dotted
name, so two scenarios run with the same seed draw the same values for the uncertainties
they share (common random numbers).
"""

from __future__ import annotations

from types import SimpleNamespace

from pydantic import BaseModel

from simulation.model.streams import Streams
from simulation.scenario.distributions import Distribution


def draw_parameters(uncertainties: BaseModel, streams: Streams) -> SimpleNamespace:
    """Replace every Distribution in the uncertainty tables by one draw."""
    return _draw(uncertainties, streams, "")


def _draw(node: object, streams: Streams, path: str) -> object:
    if isinstance(node, Distribution):
        # one uniform per value from a stream keyed by the value's name: the same draw in every
        # scenario that has this key, whatever else the scenario adds or removes
        return float(node.ppf(streams.get(f"parameter:{path}").random()))
    if isinstance(node, BaseModel):
        return SimpleNamespace(**{k: _draw(getattr(node, k), streams, f"{path}.{k}") for k in type(node).model_fields})
    if isinstance(node, dict):
        return {k: _draw(v, streams, f"{path}.{k}") for k, v in sorted(node.items())}
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
