"""Experiment files: what a sweep varies, how, and what it records.

An experiment file is TOML (see ``docs/SWEEPS.md`` and the commented files in ``experiments/``)::

    description = "Land x talent support"
    scenario = "../scenarios/baseline.toml"   # the base scenario, relative to this file
    replicates = 40                           # runs per design point (the same seeds at every point)
    seed = 20210118                           # optional root seed; default the scenario's
    outcomes = ["cagr", "hit", "city_cagr", "fiscal_cost"]   # optional; default every group

    [design]
    method = "grid"                           # grid | lhs | sobol | morris
    # size = 64                               # lhs: points; sobol: base sample (power of 2); morris: trajectories
    # seed = 0                                # seed of the sampler (lhs, sobol, morris)
    # levels = 4                              # morris: grid levels
    # second_order = false                    # sobol: also sample for second-order indices

    [set]                                     # optional: fixed values for every run, as --set would set them
    "simulation.below_scale_ratio" = 0.5

    [parameters]                              # dotted scenario keys, each a lever or an uncertainty
    "levers.land.redevelopment_mu_per_year" = { levels = [2500, 7500, 15000] }
    "levers.talent.subsidy" = { range = [0.0, 0.06] }
    "uncertainties.behaviour.spinoff_rate" = "scenario"   # the scenario's own distribution
    "uncertainties.demand.growth.semi" = { dist = "triangular", low = 3, mode = 8, high = 14 }

    [analysis]                                # optional: defaults of `simulate analyze`
    outcomes = ["cagr_semi", "p_hit_semi"]
    frontier = 0.5                            # grid designs: P(hit) a combination must reach

Problems become one :class:`ExperimentError` line naming the file, the key, its line and what
is allowed (the same form as scenario errors; ``simulate`` prints it and exits with 2). Every
varied key is checked against the scenario schema, and its lowest and highest values are
applied to the base scenario as ``--set`` overrides through :func:`load_scenario`, so an
out-of-range value is reported with the scenario's own bounds before anything runs. Keys that a
check across keys reads together (a fund's mandate shares, an event's dates and the horizon)
are checked in every combination the design makes (:mod:`simulation.experiments.combinations`), so no run fails
for a combination of values each fine on its own.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any


from simulation.experiments.combinations import check_combinations, with_values
from simulation.experiments.design import METHODS, Design, Parameter, make_design, point_count
from simulation.experiments.seeds import replicate_seeds
from simulation.experiments.sweep_outcomes import OUTCOME_GROUPS, outcome_columns
from simulation.scenario import Scenario, ScenarioError, load_scenario, parse_set_option
from simulation.scenario.bounds import allowed, refusal
from simulation.scenario.distributions import DISTRIBUTIONS, Distribution, parse_distribution
from simulation.scenario.loader import bounds_of, is_model, schema_type
from simulation.scenario.toml_files import file_problem, find_line, other_kind, parse_toml, read_text_file, scan_keys
from simulation.scenario.toml_files import show, toml_inline
from simulation.scenario.schema import ScenarioSpec

TOP_KEYS = ("description", "scenario", "replicates", "seed", "outcomes", "design", "set", "parameters", "analysis")
DESIGN_KEYS = ("method", "size", "seed", "levels", "second_order")
ANALYSIS_KEYS = ("outcomes", "frontier")
SPEC_KEYS = ("levels", "range", "dist")
#: Scenario keys a sweep sets itself (replicates and seeds come from the experiment).
RESERVED = ("simulation.replicates", "simulation.seed")
#: A design of more points is refused: its design file, and the plan held in memory, grow with the points.
MAX_POINTS = 1_000_000
MAX_LEVELS = 1_000  # levels of one parameter: each is checked against the scenario before the sweep
ALLOWED_SPEC = (
    '{ levels = [...] }, { range = [low, high] }, { dist = "uniform" | "triangular" | "normal", ... }'
    ', or "scenario" (an uncertainty\'s own distribution)'
)


class ExperimentError(ScenarioError):
    """A problem in an experiment file, worded for its author (same form as a ScenarioError)."""


@dataclass(frozen=True)
class Experiment:
    """A loaded, validated experiment."""

    path: Path
    name: str
    description: str
    text: str  # the file as written
    scenario: Scenario  # the base scenario, with [set] and command-line overrides applied
    parameters: tuple[Parameter, ...]
    method: str
    size: int | None
    design_seed: int
    levels: int
    second_order: bool
    replicates: int
    root_seed: int
    outcome_groups: tuple[str, ...]
    analysis_outcomes: tuple[str, ...]
    frontier: float | None

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(name for name, _ in outcome_columns(self.outcome_groups))

    @property
    def n_points(self) -> int:
        return point_count(self.method, self.parameters, self.size, self.second_order)

    @property
    def n_runs(self) -> int:
        return self.n_points * self.replicates

    def design(self) -> Design:
        return make_design(self.parameters, self.method, self.size, self.design_seed, self.levels, self.second_order)

    def seeds(self) -> list[int]:
        return replicate_seeds(self.root_seed, self.replicates)

    def fingerprint(self) -> str:
        """Identifies what the runs are: the same for any file that would give the same runs."""
        what = {
            "scenario_sha256": self.scenario.sha256,
            "design": {
                "method": self.method, "size": self.size, "seed": self.design_seed,
                "levels": self.levels if self.method == "morris" else None,
                "second_order": self.second_order if self.method == "sobol" else None,
                "parameters": [p.describe() for p in self.parameters],
            },
            "replicates": self.replicates,
            "root_seed": self.root_seed,
            "columns": list(self.columns),
        }  # fmt: skip
        return hashlib.sha256(json.dumps(what, sort_keys=True).encode("utf-8")).hexdigest()


def load_experiment(
    path: str | Path,
    overrides: tuple[str, ...] | list[str] = (),
    replicates: int | None = None,
    seed: int | None = None,
) -> Experiment:
    """Read and validate an experiment file; ``overrides`` are ``--set`` options on the base scenario.

    ``replicates`` and ``seed`` (from the command line) replace the file's. Raises
    ExperimentError (or ScenarioError for a problem in the scenario itself) on any problem.
    """
    path = Path(path)
    text, data, f = open_file(path, "an experiment file")
    inline = f.inline
    if any(k in data for k in ("simulation", "levers", "uncertainties", "extends")):
        raise f.error("is a scenario file, not an experiment file: run it with simulate run")
    kind = other_kind(data)
    if kind and "calibration" in kind:
        raise f.error(f"is {kind}, not an experiment file")
    f.unknown(data, TOP_KEYS, ())
    replicate_bounds, seed_bounds = bounds_of(("simulation", "replicates")), bounds_of(("simulation", "seed"))
    for option, value, bounds in (("--replicates", replicates, replicate_bounds), ("--seed", seed, seed_bounds)):
        if value is not None and not bounds["ge"] <= value <= bounds["le"]:
            raise ExperimentError(refusal(allowed(**bounds), str(value)), key=option)

    description = data.get("description", "")
    if not isinstance(description, str):
        raise f.error(f"expected a string in quotes; got {show(description)}", ("description",))

    # --- the base scenario, with [set] and the command line's --set -----------------------
    scenario, scenario_path, base_overrides, fixed_items = base_scenario(f, data, overrides)
    spec = scenario.spec

    # --- replicates, seed, outcomes ----------------------------------------------------------
    if replicates is None:
        if "replicates" not in data:
            raise f.error("missing required key: the number of runs per design point, e.g. replicates = 20",
                          ("replicates",))  # fmt: skip
        replicates = _whole(f, data["replicates"], ("replicates",), replicate_bounds["ge"], replicate_bounds["le"])
    if seed is None:
        seed = spec.simulation.seed if "seed" not in data else _whole(f, data["seed"], ("seed",), seed_bounds["ge"],
                                                                      seed_bounds["le"])  # fmt: skip
    groups = tuple(OUTCOME_GROUPS)
    if "outcomes" in data:
        groups = tuple(_names(f, data["outcomes"], ("outcomes",), tuple(OUTCOME_GROUPS)))
        if not groups:
            raise f.error(f"list at least one outcome group; allowed: {', '.join(OUTCOME_GROUPS)}", ("outcomes",))

    # --- the design ----------------------------------------------------------------------------
    design = _table(f, data, "design")
    if not design:
        raise f.error(f'missing [design] table; it needs method = {" | ".join(map(repr, METHODS))}', ("design",))
    f.unknown(design, DESIGN_KEYS, ("design",))
    method = design.get("method")
    if method not in METHODS:
        raise f.error(f"must be one of {', '.join(map(repr, METHODS))}; got {show(method)}", ("design", "method"))
    size = design.get("size")
    if method == "grid":
        if size is not None:
            raise f.error("a grid has no size (it is the product of the levels); remove this key", ("design", "size"))
    else:
        if size is None:
            what = {"lhs": "the number of points", "sobol": "the base sample N (a power of 2; N x (D + 2) points)",
                    "morris": "the number of trajectories r (r x (D + 1) points)"}[method]  # fmt: skip
            raise f.error(f"missing required key: {what}", ("design", "size"))
        size = _whole(f, size, ("design", "size"), least=1 if method == "lhs" else 2, most=10**7)
        if method == "sobol" and size & (size - 1):
            raise f.error(f"a sobol design's size must be a power of 2, such as 64 or 256; got {size}",
                          ("design", "size"))  # fmt: skip
    design_seed = _whole(f, design.get("seed", 0), ("design", "seed"), 0, 2**32 - 1)
    levels = _whole(f, design.get("levels", 4), ("design", "levels"), 2, 1000)
    if "levels" in design and method != "morris":
        raise f.error("levels is a Morris setting; give a grid's levels per parameter", ("design", "levels"))
    second_order = design.get("second_order", False)
    if not isinstance(second_order, bool):
        raise f.error(f"expected true or false; got {show(second_order)}", ("design", "second_order"))
    if "second_order" in design and method != "sobol":
        raise f.error("second_order is a sobol setting", ("design", "second_order"))

    # --- the parameters --------------------------------------------------------------------------
    table = _table(f, data, "parameters")
    items = _flatten(table, ("parameters",), inline, leaf=_is_spec_leaf(inline))
    if not items:
        raise f.error('list the scenario keys to vary, e.g. "levers.talent.subsidy" = { range = [0.0, 0.06] }',
                      ("parameters",))  # fmt: skip
    fixed_keys = {".".join(k[1:]) for k, _ in fixed_items}
    option_keys = {".".join(parse_set_option(o)[0]): o for o in overrides}
    parameters: list[Parameter] = []
    seen: set[str] = set()
    for keys, value in items:
        key = ".".join(keys[1:])
        if key in seen:
            raise f.error("this key is listed twice", keys)
        seen.add(key)
        clash = next((k for k in fixed_keys if _overlap(k, key)), None)
        if clash is not None:
            raise f.error(f"is varied here and fixed in [set] ({clash}); remove one", keys)
        clash = next((k for k in option_keys if _overlap(k, key)), None)
        if clash is not None:
            raise f.error(f"is varied by the experiment, so --set {option_keys[clash]} would be ignored; remove "
                          "the --set, or the parameter", keys)  # fmt: skip
        parameter = _parameter(f, keys, key, value, spec)
        if method == "grid" and parameter.kind != "levels":
            raise f.error("a grid design needs levels = [...] for every parameter", keys)
        parameters.append(parameter)
    n_points = point_count(method, tuple(parameters), size, second_order)
    if n_points > MAX_POINTS:
        raise f.error(f"the design has {n_points:,} points; at most {MAX_POINTS:,} (its design file and plan grow "
                      "with the points): use fewer levels or a smaller size", ("design",))  # fmt: skip
    for keys, parameter in zip((k for k, _ in items), parameters):
        _check_values(f, keys, parameter, scenario_path, base_overrides, scenario)

    # --- analysis defaults ---------------------------------------------------------------------
    groups_columns = [name for name, _ in outcome_columns(groups)]
    analysis = _table(f, data, "analysis")
    f.unknown(analysis, ANALYSIS_KEYS, ("analysis",))
    analysis_outcomes: tuple[str, ...] = ()
    if "outcomes" in analysis:
        names_allowed = analysis_names(groups_columns)
        analysis_outcomes = tuple(_names(f, analysis["outcomes"], ("analysis", "outcomes"), names_allowed))
    frontier = analysis.get("frontier")
    if frontier is not None:
        if isinstance(frontier, bool) or not isinstance(frontier, (int, float)) or not 0 < frontier <= 1:
            raise f.error(f"expected a probability in (0, 1]; got {show(frontier)}", ("analysis", "frontier"))
        if "hit" not in groups:
            raise f.error('a frontier needs the "hit" outcome group recorded', ("analysis", "frontier"))
        frontier = float(frontier)

    experiment = Experiment(
        path=path, name=path.stem, description=description, text=text, scenario=scenario,
        parameters=tuple(parameters), method=method, size=size, design_seed=design_seed, levels=levels,
        second_order=second_order, replicates=replicates, root_seed=seed, outcome_groups=groups,
        analysis_outcomes=analysis_outcomes, frontier=frontier,
    )  # fmt: skip
    try:
        design = experiment.design()  # SALib or scipy may still refuse (e.g. too few parameters)
    except ValueError as exc:
        raise f.error(str(exc), ("design",)) from None
    check_combinations(design, scenario, lambda message, key: f.error(message, _param_keys(items, key)))
    return experiment


def base_scenario(f: _File, data: dict[str, Any], overrides: tuple[str, ...] | list[str]
                  ) -> tuple[Scenario, Path, tuple[str, ...], list[tuple[tuple[str, ...], Any]]]:  # fmt: skip
    """The file's ``scenario`` with its ``[set]`` values and the command line's ``--set`` applied.

    Returns the scenario, its path, every override applied, and the ``[set]`` items (keys, value).
    """
    path, inline = f.path, f.inline
    if "scenario" not in data:
        raise f.error('missing required key; name the base scenario, e.g. scenario = "../scenarios/baseline.toml"',
                      ("scenario",))  # fmt: skip
    target = data["scenario"]
    if not isinstance(target, str):
        raise f.error(f'expected a file name in quotes, like "../scenarios/baseline.toml"; got {show(target)}',
                      ("scenario",))  # fmt: skip
    scenario_path = path.parent / target
    problem = file_problem(scenario_path, "a scenario file")
    if problem == "file not found":
        raise f.error(f"scenario file not found: {scenario_path} (the path is relative to the experiment file)",
                      ("scenario",))  # fmt: skip
    if problem:
        raise f.error(f"{scenario_path} {problem}", ("scenario",))
    fixed = _table(f, data, "set")
    fixed_items = _flatten(fixed, ("set",), inline, leaf=lambda k, v: not isinstance(v, dict) or k in inline)
    fixed_options = []
    for keys, value in fixed_items:
        key = ".".join(keys[1:])
        if key in RESERVED:
            raise f.error(_reserved(key), keys)
        fixed_options.append(f"{key}={_toml(value)}")
    base_overrides = (*fixed_options, *overrides)
    try:
        scenario = load_scenario(scenario_path, base_overrides)
    except ScenarioError as exc:
        if exc.override in fixed_options:
            keys = fixed_items[fixed_options.index(exc.override)][0]
            raise f.error(exc.message, keys) from None
        if exc.file == scenario_path and exc.key is None and exc.line is None:  # the file as a whole
            raise f.error(f"{scenario_path}: {exc.message}", ("scenario",)) from None
        raise
    return scenario, scenario_path, base_overrides, fixed_items


def analysis_names(columns: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Outcomes `simulate analyze` accepts: recorded columns, and P(hit) / P(keeps pace) names."""
    names = [c for c in columns if not c.startswith(("hit_", "keeps_pace_"))]
    names += [f"p_{c}" for c in columns if c.startswith(("hit_", "keeps_pace_"))]
    return tuple(names)


# --- parameters -------------------------------------------------------------------------------


def _is_spec_leaf(inline: set[tuple[str, ...]]):
    def leaf(keys: tuple[str, ...], value: Any) -> bool:
        if not isinstance(value, dict):
            return True
        return keys in inline or any(k in value for k in SPEC_KEYS) or not all(isinstance(v, dict) for v in value.values())

    return leaf


def _parameter(f: _File, keys: tuple[str, ...], key: str, value: Any, spec: ScenarioSpec) -> Parameter:
    """Check the key against the schema and the scenario, and the variation against the key's type."""
    parts = tuple(key.split("."))
    if key in RESERVED:
        raise f.error(_reserved(key), keys)
    tp, _ = schema_type(parts)
    if tp is None:
        raise f.error(_not_a_key(parts), keys)
    current = _current(spec, parts)
    if current is _MISSING:
        raise f.error(_not_in_scenario(spec, parts), keys)
    if is_model(tp) or isinstance(current, dict):
        inner = list(tp.model_fields) if is_model(tp) else sorted(current)
        raise f.error(f"is a table, not a value; vary one of its keys: {', '.join(inner)}", keys)
    dtype = {bool: "bool", int: "int", float: "float", Distribution: "float"}.get(tp)
    if dtype is None:
        raise f.error("only numbers and true/false can be varied", keys)
    uncertain = tp is Distribution

    if value == "scenario":
        if not uncertain:
            raise f.error('"scenario" (the scenario\'s own distribution) is only for uncertainties; '
                          "give levels or a range for a lever", keys)  # fmt: skip
        if current.dist == "fixed":
            raise f.error(f"is fixed at {current.central:g} in the scenario, so it has no distribution to "
                          "sample; give levels, a range or a dist", keys)  # fmt: skip
        _bounded(f, keys, current)
        return Parameter(key, "dist", dtype, dist=current, from_scenario=True)
    if not isinstance(value, dict):
        hint = " (to fix a value for every run, put it in [set])" if isinstance(value, (int, float)) else ""
        raise f.error(f"expected {ALLOWED_SPEC}; got {show(value)}{hint}", keys)
    given = [k for k in SPEC_KEYS if k in value]
    if len(given) != 1:
        raise f.error(f"give exactly one of levels, range or dist; expected {ALLOWED_SPEC}", keys)
    kind = given[0]
    if kind == "levels":
        levels = value["levels"]
        extra = sorted(set(value) - {"levels"})
        if extra:
            raise f.error(f"unknown key(s) {extra} next to levels", keys)
        if not isinstance(levels, list) or not levels:
            raise f.error(f"levels must be a non-empty list; got {show(levels)}", keys)
        if len(levels) > MAX_LEVELS:
            raise f.error(f"{len(levels):,} levels; at most {MAX_LEVELS:,} (a range or a distribution covers more)",
                          keys)  # fmt: skip
        for v in levels:
            _check_type(f, keys, v, dtype)
        if len(set(levels)) != len(levels):
            raise f.error("a level is listed twice", keys)
        if dtype == "float":
            levels = [float(v) for v in levels]
        return Parameter(key, "levels", dtype, levels=tuple(levels))
    if dtype == "bool":
        raise f.error("a true/false key takes levels = [true, false]", keys)
    if kind == "range":
        bounds = value["range"]
        extra = sorted(set(value) - {"range"})
        if extra:
            raise f.error(f"unknown key(s) {extra} next to range", keys)
        if not (isinstance(bounds, list) and len(bounds) == 2 and all(_is_number(b) for b in bounds)):
            raise f.error(f"range must be [low, high], two numbers; got {show(bounds)}", keys)
        low, high = (float(b) for b in bounds)
        if not low < high:
            raise f.error(f"range needs low < high; got [{low:g}, {high:g}]", keys)
        return Parameter(key, "range", dtype, low=low, high=high)
    try:
        dist = parse_distribution(dict(value))
    except ValueError as exc:
        raise f.error(str(exc), keys) from None
    if dist.dist == "fixed":
        allowed = ", ".join(repr(d) for d in DISTRIBUTIONS if d != "fixed")
        raise f.error(f"a fixed value does not vary; 'dist' must be one of {allowed}", keys)
    _bounded(f, keys, dist)
    return Parameter(key, "dist", dtype, dist=dist)


def _overlap(a: str, b: str) -> bool:
    """Do dotted keys ``a`` and ``b`` set the same value (one is the other, or inside it)?"""
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


def _param_keys(items: list[tuple[tuple[str, ...], Any]], key: str) -> tuple[str, ...]:
    return next(k for k, _ in items if ".".join(k[1:]) == key)


def _bounded(f: _File, keys: tuple[str, ...], dist: Distribution) -> None:
    low, high = dist.support
    if not (math.isfinite(low) and math.isfinite(high)):
        raise f.error("a sweep needs a bounded distribution: give the normal low and high (truncation)", keys)


def _check_type(f: _File, keys: tuple[str, ...], v: Any, dtype: str) -> None:
    if dtype == "bool" and not isinstance(v, bool):
        raise f.error(f"levels of a true/false key must be true or false; got {show(v)}", keys)
    if dtype == "int" and (isinstance(v, bool) or not isinstance(v, int)):
        raise f.error(f"levels of this key must be whole numbers (no decimal point); got {show(v)}", keys)
    if dtype == "float" and not _is_number(v):
        raise f.error(f"levels must be numbers; got {show(v)}", keys)
    if dtype == "float" and not math.isfinite(v):
        raise f.error(f"levels must be finite numbers; got {show(v)}", keys)


def _check_values(
    f: _File, keys: tuple[str, ...], p: Parameter, scenario_path: Path, base: tuple[str, ...], scenario: Scenario
) -> None:
    """Apply the parameter's extreme values to the scenario, as --set would, to check them."""
    data = tomllib.loads(scenario.text)
    for value in p.extremes():
        trial = with_values(data, {p.key: value})
        try:
            ScenarioSpec.model_validate(trial)
            continue  # fine: skip the slower load that words the error
        except Exception:
            pass
        option = f"{p.key}={_toml(value)}"
        try:
            load_scenario(scenario_path, (*base, option))
        except ScenarioError as exc:
            if exc.override == option:
                raise f.error(f"{exc.message} (at the value {_toml(value)})", keys) from None
            raise f.error(f"at the value {_toml(value)}: {exc}", keys) from None


# --- helpers ------------------------------------------------------------------------------------


def open_file(path: Path, what: str) -> tuple[str, dict[str, Any], _File]:
    """The text, the parsed table and a line-pointing error maker of an experiment or optimisation
    file (``what``: "an experiment file"); an empty file is an error."""
    text = read_text_file(path, what, ExperimentError)
    data = parse_toml(text, path, ExperimentError)
    f = _File(path, *scan_keys(text))
    if not data:
        raise f.error("the file is empty; start it with scenario = \"../scenarios/baseline.toml\"")
    return text, data, f


class _File:
    """Errors that point at a key's line in the experiment file."""

    def __init__(self, path: Path, lines: dict[tuple[str, ...], int], inline: set[tuple[str, ...]]) -> None:
        self.path, self.lines, self.inline = path, lines, inline

    def error(self, message: str, keys: tuple[str, ...] = ()) -> ExperimentError:
        line = find_line(self.lines, keys) if keys else None
        label = ".".join(keys) if keys else None
        return ExperimentError(message, self.path, label, line)

    def unknown(self, table: dict[str, Any], allowed: tuple[str, ...], where: tuple[str, ...]) -> None:
        for k in table:
            if k not in allowed:
                close = difflib.get_close_matches(k, allowed, n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"allowed here: {', '.join(allowed)}"
                raise self.error(f"unknown key; {hint}", (*where, k))


def _table(f: _File, data: dict[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise f.error(f"expected a table [{name}]; got {show(value)}", (name,))
    return value


def _flatten(table: dict[str, Any], prefix: tuple[str, ...], inline: set, leaf) -> list[tuple[tuple[str, ...], Any]]:
    """(keys, value) of every leaf; written ``"a.b.c" = ...`` or as nested tables, the same."""
    out = []
    for k, v in table.items():
        keys = (*prefix, k)
        if leaf(keys, v):
            out.append((keys, v))
        else:
            out.extend(_flatten(v, keys, inline, leaf))
    return out


def _names(f: _File, value: Any, keys: tuple[str, ...], allowed: tuple[str, ...]) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise f.error(f"expected a list of names in quotes; got {show(value)}", keys)
    for v in value:
        if v not in allowed:
            close = difflib.get_close_matches(v, allowed, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise f.error(f"unknown name {v!r}; {hint}allowed: {', '.join(allowed)}", keys)
    if len(set(value)) != len(value):
        raise f.error("a name is listed twice", keys)
    return value


def _whole(f: _File, value: Any, keys: tuple[str, ...], least: int, most: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise f.error(f"expected a whole number (no decimal point); got {show(value)}", keys)
    if not least <= value <= most:
        raise f.error(f"must be at least {least} and at most {most}; got {value}", keys)
    return value


_MISSING = object()


def _current(spec: ScenarioSpec, parts: tuple[str, ...]) -> Any:
    node: Any = spec
    for k in parts:
        if isinstance(node, dict):
            node = node.get(k, _MISSING)
        else:
            node = getattr(node, k, _MISSING)
        if node is _MISSING:
            return _MISSING
    return node


def _not_a_key(parts: tuple[str, ...]) -> str:
    """Name the first wrong part and what is allowed there."""
    for i in range(len(parts)):
        tp, _ = schema_type(parts[: i + 1])
        if tp is None:
            parent, _ = schema_type(parts[:i])
            allowed = list(parent.model_fields) if is_model(parent) else []
            close = difflib.get_close_matches(parts[i], allowed, n=1)
            where = ".".join(parts[:i]) or "the top level"
            if close:
                return f"not a scenario key: no {parts[i]!r} in {where}; did you mean {close[0]!r}?"
            shown = f"; allowed there: {', '.join(allowed)}" if allowed else ""
            return f"not a scenario key: no {parts[i]!r} in {where}{shown}"
    return "not a scenario key"


def _not_in_scenario(spec: ScenarioSpec, parts: tuple[str, ...]) -> str:
    node: Any = spec
    for i, k in enumerate(parts):
        nxt = node.get(k, _MISSING) if isinstance(node, dict) else getattr(node, k, _MISSING)
        if nxt is _MISSING:
            names = ", ".join(sorted(node)) if isinstance(node, dict) else ""
            where = ".".join(parts[:i])
            return f"the scenario has no {k!r} in {where}" + (f"; it has: {names}" if names else "")
        node = nxt
    return "not in the scenario"


def _reserved(key: str) -> str:
    return f"{key} is set by the experiment (use its replicates and seed keys), not varied or fixed"


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _toml(value: Any) -> str:
    return toml_inline(value)


__all__ = ["Experiment", "ExperimentError", "load_experiment", "analysis_names"]
