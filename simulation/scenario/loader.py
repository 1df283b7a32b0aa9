"""Read a scenario file: follow ``extends``, apply ``--set`` overrides, validate, hash.

Scenario files are written by hand, so every problem becomes one :class:`ScenarioError`
line naming the file, the key, the line and what is allowed, never a traceback. The
resolved scenario is also written back out as TOML text; its hash identifies a run.

Merging: a child file's tables merge key by key into its parent's, and any other value
replaces the parent's. An inline table (``mandate = { semi = 1.0 }``, a distribution) is a
single value in TOML, so it replaces the parent's whole table rather than merging into it;
a distribution or a fund mandate can therefore be rewritten, not just patched.
"""

from __future__ import annotations

import difflib
import hashlib
import math
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, get_args, get_origin

import tomlkit
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from simulation.scenario.bounds import At, Support, Why, allowed, refusal
from simulation.scenario.schema import ScenarioSpec
from simulation.scenario.toml_files import (
    MAX_DEPTH,
    Keys,
    ScenarioError,
    file_problem,
    find_line,
    other_kind,
    parse_toml,
    read_text_file,
    scan_keys,
    show,
    too_deep,
)



@dataclass(frozen=True)
class Scenario:
    """A loaded scenario: the validated spec plus what is needed to record and reproduce it."""

    path: Path
    name: str
    spec: ScenarioSpec
    text: str
    sha256: str
    sources: tuple[Path, ...]
    overrides: tuple[str, ...]
    counterfactual: Path | None = None  # the scenario "what the policy adds" is measured against


def load_scenario(path: str | Path, overrides: Iterable[str] = (), calibrated: bool = True) -> Scenario:
    """Load, merge, override and validate a scenario; raise ScenarioError on any problem.

    A file's ``[calibration]`` section (written by ``simulate calibrate``) replaces the values
    it names right after that file is merged, so a child file can still change them and
    ``--set`` always wins. ``calibrated=False`` leaves every calibration section out: the
    priors, as the calibration itself starts from them.
    """
    path = Path(path)
    overrides = tuple(overrides)
    chain = _read_chain(path)
    data: dict[str, Any] = {}
    origins: dict[Keys, _Origin] = {}
    for rank, source in enumerate(reversed(chain)):
        own = source.data
        if not calibrated:
            own = {k: v for k, v in own.items() if k != "calibration"}
        _merge(data, own, (), (rank, source), origins)
        if calibrated:
            _apply_calibration(data, source, (rank, source), origins)
    for rank, option in enumerate(overrides, len(chain)):
        keys, value = parse_set_option(option)
        _apply_override(data, keys, value, (rank, option), origins, path)
    locate = _Locator(path, origins)
    deep = too_deep(data)
    if deep is not None:
        raise locate.error(f"values are nested too deeply (more than {MAX_DEPTH} levels)", deep[:MAX_DEPTH + 1])
    _check_finite(data, (), locate)
    try:
        spec = ScenarioSpec.model_validate(data)
    except ValidationError as exc:
        raise _explain(first_error(exc.errors()), locate, extended=len(chain) > 1) from None
    text = _to_toml(data)
    if spec.posterior:
        spec = spec.model_copy(update={"posterior": str(_posterior(spec, origins.get(("posterior",)), path, locate))})
    return Scenario(
        path=path,
        name=path.stem,
        spec=spec,
        text=text,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        sources=tuple(s.path for s in chain),
        overrides=overrides,
        counterfactual=_counterfactual(spec.counterfactual, origins.get(("counterfactual",)), path, locate),
    )


def _relative_to_origin(name: str, origin: _Origin | None, path: Path) -> Path:
    """``name`` relative to the file that set it (or to the scenario, for a --set option)."""
    where = origin[1] if origin is not None else None
    return (where.path.parent if isinstance(where, _Source) else path.parent) / name


def _posterior(spec: ScenarioSpec, origin: _Origin | None, path: Path, locate: _Locator) -> Path:
    """The posterior folder, resolved; it must exist and name only uncertain values of the scenario."""
    from simulation.scenario.posterior import PosteriorError, load, names_uncertain_value

    folder = _relative_to_origin(spec.posterior, origin, path).resolve()
    try:
        keys, _, _ = load(folder)
    except PosteriorError as exc:
        raise locate.error(str(exc), ("posterior",)) from None
    unknown = [k for k in keys if not names_uncertain_value(spec, k)]
    if unknown:
        raise locate.error(f"{folder}: {unknown[0]}: no such uncertain value in the scenario", ("posterior",))
    return folder


def _counterfactual(name: str, origin: _Origin | None, path: Path, locate: _Locator) -> Path | None:
    """The counterfactual scenario's path, relative to the file that names it ("" = none).

    Whether it exists is checked where it is run (a copied scenario need not bring it along).
    """
    if not name:
        return None
    target = _relative_to_origin(name, origin, path)
    if target.resolve() == path.resolve():
        raise locate.error("a scenario cannot be its own counterfactual; use \"\" for none", ("counterfactual",))
    return target


def parse_set_option(option: str) -> tuple[tuple[str, ...], Any]:
    """Split ``a.b.c=value`` into keys and a value: TOML if it parses as TOML, else a string."""
    key, sep, raw = option.partition("=")
    keys = tuple(k.strip() for k in key.split("."))
    if not sep or not all(keys):
        example = "levers.land.floor_multiplier=3.0"
        raise ScenarioError(f"expected KEY=VALUE, such as {example}", override=option)
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    except RecursionError:
        raise ScenarioError(f"the value is nested too deeply (more than {MAX_DEPTH} levels)", override=option) from None
    return keys, _Inline(value) if isinstance(value, dict) else value


# --- reading files ------------------------------------------------------------------------


class _Inline(dict):
    """A table written inline: one value, replaced whole when a child file sets it."""


@dataclass
class _Source:
    path: Path
    data: dict[str, Any]
    lines: dict[tuple[str, ...], int]  # where each table header or key is set


_Origin = tuple[int, _Source | str]  # (order applied, the file or --set option that set a key)


def _read_chain(path: Path) -> list[_Source]:
    """The file and its ``extends`` ancestors, child first."""
    chain: list[_Source] = []
    while True:
        source = _read_source(path)
        chain.append(source)
        target = source.data.pop("extends", None)
        if target is None:
            return chain
        line = source.lines.get(("extends",))
        if not isinstance(target, str) or not target.strip():
            message = f'must be a file name in quotes, like "baseline.toml"; got {show(target)}'
            raise ScenarioError(message, path, "extends", line)
        parent = path.parent / target
        seen = [s.path.resolve() for s in chain]
        if parent.resolve() in seen:
            cycle = [s.path.name for s in chain[seen.index(parent.resolve()) :]] + [parent.name]
            raise ScenarioError(f"circular extends: {' -> '.join(cycle)}", path, "extends", line)
        problem = file_problem(parent, "a scenario file")
        if problem == "file not found":
            raise ScenarioError(f"file to extend not found: {parent}", path, "extends", line)
        if problem:
            raise ScenarioError(f"cannot extend {parent}: it {problem}", path, "extends", line)
        path = parent


def _read_source(path: Path) -> _Source:
    text = read_text_file(path, "a scenario file")
    data = parse_toml(text, path)
    if not data:
        raise ScenarioError('the file is empty; start it with extends = "baseline.toml"', path)
    other = other_kind(data)
    if other:
        raise ScenarioError(f"is {other}, not a scenario file", path)
    lines, inline = scan_keys(text)
    for keys in inline:
        _mark_inline(data, keys)
    return _Source(path, data, lines)


def _mark_inline(data: dict[str, Any], keys: tuple[str, ...]) -> None:
    *parents, last = keys
    for k in parents:
        data = data.get(k)
        if not isinstance(data, dict):
            return
    if isinstance(data.get(last), dict):
        data[last] = _Inline(data[last])


# --- merging ------------------------------------------------------------------------------


def _merge(base: dict, update: dict, prefix: Keys, where: _Origin, origins: dict) -> None:
    """Merge ``update`` into ``base`` in place, remembering which file set each key."""
    for k, v in update.items():
        keys = (*prefix, k)
        origins[keys] = where
        if isinstance(base.get(k), dict) and _is_table(v):
            _merge(base[k], v, keys, where, origins)
        else:
            base[k] = v
            _record(v, keys, where, origins)


def _record(value: Any, keys: Keys, where: _Origin, origins: dict) -> None:
    """Note who set ``keys`` and everything in it, forgetting who set what it replaced."""
    for old in [k for k in origins if k[: len(keys)] == keys]:
        del origins[old]
    stack = [(keys, value)]
    while stack:
        keys, value = stack.pop()
        origins[keys] = where
        if isinstance(value, dict):
            stack.extend(((*keys, k), v) for k, v in value.items())


def _apply_calibration(data: dict, source: _Source, where: _Origin, origins: dict) -> None:
    """Replace the values a file's ``[calibration.values]`` names (dotted keys) with the fitted ones."""
    section = source.data.get("calibration")
    values = section.get("values") if isinstance(section, dict) else None
    if not isinstance(values, dict):
        return  # nothing to apply, or the schema reports the wrong type
    # problems with a calibrated value point at its line in the calibration section
    shadow = _Source(source.path, source.data, dict(source.lines))
    for dotted in values:
        line = find_line(source.lines, ("calibration", "values", dotted))
        if line is not None:
            shadow.lines[tuple(dotted.split("."))] = line
    for dotted, value in values.items():
        keys = tuple(dotted.split("."))
        node: Any = data
        for k in keys:
            if not isinstance(node, dict) or k not in node:
                raise ScenarioError(
                    "names no value of the scenario; a calibrated value must replace one that the "
                    "scenario (or a file it extends) sets", source.path, f"calibration.values.{dotted}",
                    shadow.lines.get(keys))
            node = node[k]
        _apply_override(data, keys, value, (where[0], shadow), origins, source.path)


def _apply_override(
    data: dict, keys: tuple[str, ...], value: Any, where: _Origin, origins: dict, path: Path
) -> None:
    node = data
    for i, k in enumerate(keys[:-1]):
        if k not in node:
            node[k] = {}
            if get_origin(schema_type(keys[:i])[0]) is dict:  # a new entry (a fund) is the option's own
                origins[keys[: i + 1]] = where
        node = node[k]
        if not isinstance(node, dict):
            message = f"cannot set {keys[i + 1]!r} inside {_dotted(keys[: i + 1])}, which is not a table"
            raise ScenarioError(message, path, _dotted(keys), override=where[1])
    node[keys[-1]] = value
    _record(value, keys, where, origins)


# --- explaining problems ------------------------------------------------------------------


class _Locator:
    """Finds the file and line (or the --set option) that set a key.

    A problem in a table (a mandate's shares add up to more than 1) is put on the last file
    or option that set anything in it; a missing key on the file that set its table.
    """

    def __init__(self, path: Path, origins: dict[Keys, _Origin]) -> None:
        self.path, self.origins = path, origins

    def error(self, message: str, keys: Keys, scope: Keys | None = None, blame: tuple[Keys, ...] = ()) -> ScenarioError:
        """An error about ``keys``, put on whatever last set something in ``scope`` (default: keys),
        or in any of the ``blame`` keys (the other keys a check across keys read)."""
        scope = keys if scope is None else scope
        setters = [v for k, v in self.origins.items() for s in (scope, *blame) if k[: len(s)] == s]
        enclosing = [scope[:i] for i in range(len(scope) - 1, 0, -1) if scope[:i] in self.origins]
        if not setters and enclosing:
            setters = [self.origins[enclosing[0]]]
        where = max(setters, key=lambda origin: origin[0])[1] if setters else None
        if isinstance(where, str):
            return ScenarioError(message, self.path, _dotted(keys), override=where)
        if where is None:
            return ScenarioError(message, self.path, _dotted(keys))
        return ScenarioError(message, where.path, _dotted(keys), find_line(where.lines, keys))

    def missing(self, keys: Keys, extended: bool) -> ScenarioError:
        """A missing key: the file's fault, unless a --set option made the table that lacks it."""
        enclosing = next((keys[:i] for i in range(len(keys) - 1, 0, -1) if keys[:i] in self.origins), None)
        where = self.origins[enclosing][1] if enclosing else None
        if isinstance(where, str):  # the option made the table (a new fund) or set it whole (an inline table)
            model = schema_type(enclosing)[0]
            needed = ", ".join(model.model_fields) if is_model(model) else ""
            new = get_origin(schema_type(enclosing[:-1])[0]) is dict and "=" in where and \
                where.partition("=")[0].strip() != _dotted(enclosing)
            how = "is new" if new else "is set whole by this option"
            message = f"missing required key; {_dotted(enclosing)} {how}, so it needs every key ({needed})"
            if new:
                message += f": give it whole as --set '{_dotted(enclosing)}={{ ... }}'"
            return ScenarioError(message, self.path, _dotted(keys), override=where)
        hint = "" if extended else '; start the file with extends = "baseline.toml"'
        if isinstance(where, _Source):
            return ScenarioError(f"missing required key{hint}", where.path, _dotted(keys), find_line(where.lines, keys))
        return ScenarioError(f"missing required key{hint}", self.path, _dotted(keys))


def _dotted(keys: Keys) -> str:
    return "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in keys).lstrip(".")


def _check_finite(value: Any, keys: Keys, locate: _Locator) -> None:
    """Reject nan and inf anywhere (TOML allows them; the schema and distributions do not)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise locate.error(f"must be a finite number; got {show(value)}", keys)
    if isinstance(value, dict):
        for k, v in value.items():
            _check_finite(v, (*keys, k), locate)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_finite(v, (*keys, i), locate)


_EXPECTED = {
    "int_type": "a whole number (no decimal point)",
    "float_type": "a number",
    "bool_type": "true or false",
    "string_type": "a string in quotes",
    "list_type": "a list [...]",
    "dict_type": "a table",
    "model_type": "a table",
}
_BOUNDS = ("ge", "gt", "le", "lt")


def first_error(errors: list[dict[str, Any]]) -> dict[str, Any]:
    """The error to report: an unknown key first (a misspelt key also leaves one missing), else the first."""
    return next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])


def _explain(error: dict[str, Any], locate: _Locator, extended: bool) -> ScenarioError:
    """One pydantic error as a ScenarioError that says what is allowed."""
    keys, kind, value = tuple(error["loc"]), error["type"], error.get("input")
    if kind == "missing":
        return locate.missing(keys, extended)
    if kind == "extra_forbidden":
        return locate.error(_unknown_key(keys), keys)
    if kind in _EXPECTED:
        return locate.error(f"expected {_EXPECTED[kind]}; got {show(value)}{_type_hint(keys, kind, value)}", keys)
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        bounds = {**_field_bounds(keys), **error["ctx"]}
        return locate.error(refusal(allowed(**bounds), show(value), why(keys)), keys)
    if kind == "value_error":
        problem = error["ctx"]["error"]
        if isinstance(problem, At):  # a check across keys says which key it is about
            return locate.error(str(problem), (*keys, *problem.keys), blame=tuple((*keys, *k) for k in problem.also))
        message = str(problem)
        return locate.error(message, _blame(keys, message), scope=keys)
    return locate.error(error["msg"], keys)


def _type_hint(keys: Keys, kind: str, value: Any) -> str:
    """What the person probably meant, for a value of the wrong type."""
    if kind in ("float_type", "int_type") and isinstance(value, dict) and "dist" in value:
        return ("; a lever takes a plain number (it is a choice): to vary it, sweep it with an experiment file "
                "(docs/SWEEPS.md)")  # fmt: skip
    if kind in ("dict_type", "model_type") and isinstance(value, list) and value and isinstance(value[0], dict):
        name = _dotted(keys)
        return f"; write [{name}] (a table), not [[{name}]] (an array of tables)"
    return ""


def why(keys: Keys) -> str:
    """The schema's reason for the bounds of the key at ``keys`` ('' if it gives none)."""
    return next((m.text for m in schema_type(keys)[1] if isinstance(m, Why)), "")


def bounds_of(keys: Keys) -> dict[str, float]:
    """The bounds (ge, gt, le, lt) of the number at ``keys``, or of an uncertain key's support."""
    out = _field_bounds(keys)
    for m in schema_type(keys)[1]:
        if isinstance(m, Support):
            out.update(ge=m.ge, le=m.le)
    return out


def _unknown_key(keys: Keys) -> str:
    model = schema_type(keys[:-1])[0]
    allowed = list(model.model_fields) if is_model(model) else []
    close = difflib.get_close_matches(str(keys[-1]), allowed, n=1)
    if close:
        return f"unknown key; did you mean {close[0]!r}?"
    return f"unknown key; allowed here: {', '.join(allowed)}" if allowed else "unknown key"


def _blame(keys: Keys, message: str) -> Keys:
    """A table-level check that names one of the table's keys first is about that key."""
    model = schema_type(keys)[0]
    first = re.match(r"\w+", message)
    if first and is_model(model) and first[0] in model.model_fields:
        return (*keys, first[0])
    return keys


def schema_type(keys: Keys) -> tuple[Any, list[Any]]:
    """The schema type at ``keys`` and its constraints (Ge, Le, ...); (None, []) if off-schema."""
    tp, meta = ScenarioSpec, []
    for k in keys:
        if is_model(tp):
            if k not in tp.model_fields:
                return None, []
            field = tp.model_fields[k]
            tp, meta = _unwrap(field.annotation, list(field.metadata))
        elif get_origin(tp) in (dict, list):
            tp, meta = _unwrap(get_args(tp)[-1], [])
        else:
            return None, []
    return tp, meta


def is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _unwrap(tp: Any, meta: list[Any]) -> tuple[Any, list[Any]]:
    if get_origin(tp) is Annotated:
        tp, *extras = get_args(tp)
        for extra in extras:
            meta = meta + (extra.metadata if isinstance(extra, FieldInfo) else [extra])
    return tp, meta


def _field_bounds(keys: Keys) -> dict[str, Any]:
    constraints = schema_type(keys)[1]
    return {b: getattr(m, b) for m in constraints for b in _BOUNDS if getattr(m, b, None) is not None}


# --- writing ------------------------------------------------------------------------------


def _to_toml(data: dict[str, Any]) -> str:
    doc = tomlkit.document()
    _fill(doc, data)
    return tomlkit.dumps(doc)


def _fill(container: Any, data: dict[str, Any]) -> None:
    """Values first, then sub-tables (TOML needs that order); inline tables stay inline."""
    tables = {k: v for k, v in data.items() if _is_table(v)}
    for k, v in data.items():
        if k not in tables:
            container.add(k, _inline(v) if isinstance(v, dict) else v)
    for k, v in tables.items():
        table = tomlkit.table(is_super_table=bool(v) and all(map(_is_table, v.values())))
        _fill(table, v)
        container.add(k, table)


def _is_table(value: Any) -> bool:
    return isinstance(value, dict) and not isinstance(value, _Inline)


def _inline(data: dict[str, Any]) -> Any:
    table = tomlkit.inline_table()
    table.update({k: _inline(v) if isinstance(v, dict) else v for k, v in data.items()})
    return table
