"""``simulate``: the command-line interface (see :mod:`simulation.cli.base`).

Every module of this package defines one or a few subcommands on ``main``; importing the package
imports them all, so a new command is a new module and nothing else changes.
"""

from __future__ import annotations

import importlib
import pkgutil

from simulation.cli.base import main

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    if _module != "base":
        importlib.import_module(f"{__name__}.{_module}")

__all__ = ["main"]
