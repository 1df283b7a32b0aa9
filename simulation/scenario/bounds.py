"""Bounds on the numbers a scenario sets, each with its reason: one mechanism for every key.

Every number in a scenario has a lower and an upper bound, and a bound that is not obvious (a
share lies in 0..1) has a reason, which the schema states next to the key and the loader shows
when it refuses a value. A bound either says what the quantity can be, or keeps the model finite
and its run time in proportion: no amount of money, land or firms so large that the model would
draw more firms or projects in a quarter than it can hold, nor so small that a ratio explodes.
``tests/test_model_properties.py`` runs the model with each key at each of its bounds.

In the schema::

    budget: number(0.0, 10.0, "亿元 a year per agency; ...")           # a plain number (a lever)
    volatility: uncertain(0.0, 50.0, "% a year")                       # a number or a distribution
    little_giants_per_year: number(0, 10_000, "...", whole=True)       # a whole number

A check across keys (an event inside the simulated years) raises :class:`At`, naming the key the
problem is about, so the loader points at that key's line, not at the table that holds it. A
check that reads keys outside its own table declares them with :func:`reads`, so that a sweep
can check the combinations of those keys its design makes before it starts.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

from simulation.scenario.distributions import Distribution, parse_distribution


@dataclass(frozen=True)
class Why:
    """The reason for a key's bounds, shown after the message that refuses a value."""

    text: str


@dataclass(frozen=True)
class Support:
    """The bounds the whole support of an uncertain key's distribution must lie in."""

    ge: float
    le: float


class At(ValueError):
    """A problem found by a check across keys, about the key at ``keys`` (relative to the table checked).

    ``also``: the other keys the check read; the message is put on whichever of them was set last
    (a --set option that broke the check, rather than the file line it broke).
    """

    def __init__(self, keys: tuple[str | int, ...], message: str, also: tuple[tuple[str | int, ...], ...] = ()) -> None:
        super().__init__(message)
        self.keys, self.also = tuple(keys), tuple(also)


def number(
    ge: float | None = None,
    le: float | None = None,
    why: str = "",
    *,
    gt: float | None = None,
    lt: float | None = None,
    whole: bool = False,
) -> Any:
    """A plain number (``whole``: an integer) within the bounds, for the reason ``why``."""
    return Annotated[int if whole else float, Field(ge=ge, gt=gt, le=le, lt=lt), Why(why)]


def uncertain(ge: float, le: float, why: str = "") -> Any:
    """A number or a distribution whose whole support lies in [ge, le], for the reason ``why``."""

    def check(value: object) -> Distribution:
        if isinstance(value, Distribution):
            return value
        d = parse_distribution(value)
        lo, hi = d.support
        if lo < ge or hi > le:
            what = "" if d.dist == "fixed" else " (the whole distribution)"
            raise ValueError(refusal(f"{allowed(ge=ge, le=le)}{what}", show_value(value), why))
        return d

    return Annotated[Distribution, BeforeValidator(check), Support(ge, le), Why(why)]


def at_most(most: int, tp: Any, what: str) -> Any:
    """A table of named entries (funds, events) with at most ``most`` of them: the model steps each one."""

    def check(value: dict) -> dict:
        if len(value) > most:
            raise ValueError(f"at most {most} {what}; got {len(value)}")
        return value

    return Annotated[tp, AfterValidator(check)]


def reads(*patterns: str) -> Callable[[Callable], Callable]:
    """Declare the dotted keys (``*`` matches one part) a model validator reads beyond its own table."""

    def mark(validator: Callable) -> Callable:
        target = getattr(validator, "__func__", validator)
        target.__reads__ = patterns
        return validator

    return mark


def reads_key(validator: Any, key: str) -> bool:
    """Does a validator declared with :func:`reads` read the dotted ``key`` (or something inside it)?"""
    patterns = getattr(getattr(validator, "__func__", validator), "__reads__", None)
    if patterns is None:
        return False
    parts = key.split(".")
    for pattern in patterns:
        wanted = pattern.split(".")
        if len(parts) >= len(wanted) and all(fnmatch.fnmatchcase(p, w) for p, w in zip(parts, wanted)):
            return True
    return False


def declared_reads(validator: Any) -> tuple[str, ...] | None:
    return getattr(getattr(validator, "__func__", validator), "__reads__", None)


# --- words ---------------------------------------------------------------------------------

_WORDS = {"ge": "at least", "gt": "greater than", "le": "at most", "lt": "less than"}


def allowed(**bounds: float | None) -> str:
    """'must be at least 0 and at most 10' for the bounds given (ge, gt, le, lt)."""
    parts = [f"{_WORDS[b]} {show_number(bounds[b])}" for b in _WORDS if bounds.get(b) is not None]
    return "must be " + " and ".join(parts)


def refusal(rule: str, got: str, why: str = "") -> str:
    """'must be ...; got X (reason)': the one form every refused number takes."""
    return f"{rule}; got {got}" + (f" ({why})" if why else "")


def show_number(x: float) -> str:
    """A bound as written in the schema, without a needless '.0'."""
    if isinstance(x, int):
        return str(x)
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e18 else repr(float(x))


def show_value(value: object) -> str:
    """A scenario value (number or distribution table) in TOML-like form, on one line."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {show_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, str):
        return '"' + value + '"'
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if value != value else ("inf" if value > 0 else "-inf")
    return repr(value)
