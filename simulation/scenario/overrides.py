"""Overrides given as Python values (the API, Mesa keyword arguments), turned into ``--set`` options.

``{"levers.land.floor_multiplier": 3.0}`` and ``{"levers": {"land": {"floor_multiplier": 3.0}}}``
both become ``levers.land.floor_multiplier=3.0``, which the loader validates and records exactly
as it would a command-line ``--set``: the same checks, the same one-line errors, and the resolved
scenario (``scenario.toml``, its hash) says what was changed.

A nested dict is followed key by key while the schema has a table there (``levers``,
``levers.land``, ``levers.funds``, a fund), so it changes only the keys it names. Where the
schema expects a value that is itself a table (a fund's ``mandate``, a distribution such as
``{ dist = "normal", ... }``), the dict is that value and replaces the old one whole, as an
inline table in a scenario file does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, get_args, get_origin

import numpy as np
import tomlkit

from simulation.scenario.loader import Scenario, ScenarioError, is_model, load_scenario, schema_type

#: Where ``simulate`` and the API look for the baseline when no scenario is named.
BASELINE = Path("scenarios") / "baseline.toml"


def default_scenario() -> Path:
    """``scenarios/baseline.toml`` in the current folder, else in the clone this package runs from."""
    if BASELINE.is_file():
        return BASELINE
    clone = Path(__file__).resolve().parents[2] / BASELINE
    return clone if clone.is_file() else BASELINE


def set_options(overrides: Mapping[str, Any]) -> list[str]:
    """``KEY=VALUE`` options (TOML values) for Python overrides with dotted keys or nested dicts."""
    options: list[str] = []
    for key, value in overrides.items():
        _flatten(tuple(str(key).split(".")), value, options)
    return options


def _flatten(keys: tuple[str, ...], value: Any, out: list[str]) -> None:
    if isinstance(value, Mapping) and value and _is_table(keys):
        for k, v in value.items():
            _flatten((*keys, str(k)), v, out)
        return
    out.append(f"{'.'.join(keys)}={_toml(value, keys)}")


def _is_table(keys: tuple[str, ...]) -> bool:
    """True where the schema has a table of keys (a section, or a dict of sections)."""
    tp = schema_type(keys)[0]
    if is_model(tp):
        return True
    return get_origin(tp) is dict and is_model(get_args(tp)[-1])


def _toml(value: Any, keys: tuple[str, ...]) -> str:
    try:
        return tomlkit.item(_plain(value)).as_string()
    except Exception:  # tomlkit cannot write it (None, an object, ...)
        dotted = ".".join(keys)
        raise ScenarioError(f"cannot be set to {value!r}: use a number, true/false, a string, a list or a dict",
                            key=dotted) from None


def _plain(value: Any) -> Any:
    """NumPy scalars and arrays, tuples and mappings as the plain Python values TOML takes."""
    if isinstance(value, np.generic | np.ndarray):
        return value.tolist()
    if isinstance(value, Mapping):
        table = tomlkit.inline_table()
        table.update({str(k): _plain(v) for k, v in value.items()})
        return table
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def load_with(path: str | Path, overrides: Mapping[str, Any] | None = None, calibrated: bool = True,
              extra: Iterable[str] = ()) -> Scenario:
    """``load_scenario`` with Python overrides (after any ``extra`` ``--set`` options).

    A problem with an override names it as ``override KEY=VALUE`` (not ``--set``).
    """
    options = [*extra, *set_options(overrides or {})]
    try:
        return load_scenario(path, options, calibrated=calibrated)
    except ScenarioError as exc:
        if exc.override is None:
            raise
        raise ScenarioError(f"{exc.message} (override {exc.override})", exc.file, exc.key, exc.line) from None


def with_overrides(scenario: Scenario, overrides: Mapping[str, Any]) -> Scenario:
    """A loaded scenario reloaded from its file with more overrides (its own come first)."""
    if not overrides:
        return scenario
    calibrated = scenario.spec.calibration is not None  # loaded with calibrated=False leaves it out
    return load_with(scenario.path, overrides, calibrated, extra=scenario.overrides)


def resolve_spec(spec: Any, overrides: Mapping[str, Any] | None = None) -> Any:
    """The ScenarioSpec of a path, a loaded Scenario or a ScenarioSpec (None: the baseline), with overrides."""
    from simulation.scenario.schema import ScenarioSpec

    overrides = overrides or {}
    if spec is None:
        spec = default_scenario()
    if isinstance(spec, str | Path):
        return load_with(spec, overrides).spec
    if isinstance(spec, Scenario):
        return with_overrides(spec, overrides).spec
    if isinstance(spec, ScenarioSpec):
        if overrides:
            raise TypeError("overrides need a scenario file or a loaded Scenario, not a ScenarioSpec; "
                            f"got {', '.join(overrides)}")
        return spec
    raise TypeError(f"expected a scenario file, a loaded Scenario or a ScenarioSpec; got {type(spec).__name__}")
