"""Which implementation of the per-firm rules a model runs: compiled kernels or the NumPy reference.

``numba`` (the default): :mod:`simulation.model.fused_rules`, the rules compiled with numba, each a
pass or two over the live rows. ``numpy``: :mod:`simulation.model.firm_rules`, the rules written
once in vectorised NumPy over every row, kept as the reference the kernels are tested against.
The environment variable ``SIMULATE_KERNELS`` sets the default (CI runs the tests both ways).
"""

from __future__ import annotations

import os
from types import SimpleNamespace

ENV = "SIMULATE_KERNELS"
CHOICES = ("numba", "numpy")
RULES = ("update_productivity", "rd_and_subsidies", "desired_revenue", "expand_and_produce", "account_and_exit",
         "release_inputs", "census")


def chosen(name: str | None = None) -> str:
    """``name``, else ``$SIMULATE_KERNELS``, else ``numba``; a one-line error for anything else."""
    value = name if name is not None else os.environ.get(ENV, "").strip() or "numba"
    if value not in CHOICES:
        source = "kernels" if name is not None else f"the environment variable {ENV}"
        raise ValueError(f"{source} must be one of {', '.join(map(repr, CHOICES))}; got {value!r}")
    return value


def rules_module(name: str | None = None) -> SimpleNamespace:
    """The firm-rule functions the model's schedule calls (a namespace, so that models deep-copy and pickle)."""
    if chosen(name) == "numpy":
        from simulation.model import firm_rules as module
    else:
        from simulation.model import fused_rules as module
    return SimpleNamespace(name=chosen(name), **{rule: getattr(module, rule) for rule in RULES})
