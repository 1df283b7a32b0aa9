"""One replicate's parameters: every uncertain scenario value drawn once.

Uncertainty tables are walked in a fixed order and each distribution is sampled from the
replicate's parameter stream, so two scenarios run with the same seed draw the same values
for the uncertainties they share (common random numbers).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from pydantic import BaseModel

from simulation.scenario.distributions import Distribution


def draw_parameters(uncertainties: BaseModel, rng: np.random.Generator) -> SimpleNamespace:
    """Replace every Distribution in the uncertainty tables by one draw."""
    return _draw(uncertainties, rng)


def _draw(node: object, rng: np.random.Generator) -> object:
    if isinstance(node, Distribution):
        # one uniform per value whatever the distribution, so streams stay aligned across scenarios
        return float(node.ppf(rng.random()))
    if isinstance(node, BaseModel):
        return SimpleNamespace(**{k: _draw(getattr(node, k), rng) for k in type(node).model_fields})
    if isinstance(node, dict):
        return {k: _draw(v, rng) for k, v in sorted(node.items())}
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
