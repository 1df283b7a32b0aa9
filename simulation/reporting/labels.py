"""What readers see instead of identifiers: one label table (en/zh, with units) for everything.

The table is ``labels.toml`` beside this module. Charts, ``simulate analyze`` and the report
ask it for the name of a scenario key (``levers.land.floor_multiplier``), an outcome
(``p_hit_semi``, ``cagr.city``), a cluster, scenario, lever, fund, shock event, sensitivity
index or validation moment, and for how a value is shown in each language (English in billion
CNY, Chinese in 亿元 or 万元). Keys with ``{cluster}``, ``{fund}``, ``{event}`` or ``{year}`` in them stand
for a family of keys (``uncertainties.demand.growth.{cluster}``).

A key the table does not know gets a humanised fallback (so a new model key never breaks a
chart), but :func:`has_parameter` tells tests which keys are missing: the schema test asks for
every key of every shipped scenario.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from simulation.datapack import CLUSTERS

LANGS = ("en", "zh")
_PLACEHOLDER = re.compile(r"\{(cluster|fund|event|year|programme)\}")


@cache
def table() -> dict[str, Any]:
    """The whole label table (``labels.toml``)."""
    with resources.files("simulation.reporting").joinpath("labels.toml").open("rb") as fh:
        return tomllib.load(fh)


def _lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"language must be one of {', '.join(LANGS)}; got {lang!r}")
    return lang


# --- units and values -----------------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    """How a value in the model's unit is shown: ``scale`` times the value, then ``text``."""

    text: str
    scale: float = 1.0
    money: str | None = None  # for amounts in 亿元: what follows the amount in words ('' or ' a year')


def unit(code: str, lang: str) -> Unit:
    row = table()["units"].get(code)
    if row is None:
        return Unit("")
    money = row.get(f"money_{_lang(lang)}") if row.get("money") else None
    return Unit(row[lang], float(row.get(f"scale_{lang}", 1.0)), money)


@dataclass(frozen=True)
class Label:
    """A reader's name for something, its unit, and the unit's code in the table."""

    text: str
    unit: Unit
    code: str = ""

    def with_unit(self, lang: str) -> str:
        """'R&D subsidy budget, billion CNY a year' / '研发补贴预算（亿元/年）'."""
        if not self.unit.text or self.unit.text == "%":
            return self.text + (f" ({self.unit.text})" if self.unit.text and lang == "en" else
                                f"（{self.unit.text}）" if self.unit.text else "")
        return f"{self.text}（{self.unit.text}）" if lang == "zh" else f"{self.text}, {self.unit.text}"

    def value(self, x: Any, lang: str) -> str:
        """A value of this quantity as readers see it: '1.0 billion CNY a year', '10 万元/家', 'on'."""
        return format_value(x, self.unit, self.code, lang)


def number(x: float, digits: int | None = None) -> str:
    """A number with thousands separators and a sensible number of decimals."""
    if x is None or not math.isfinite(x):
        return "–"
    if digits is None:
        a = abs(x)
        digits = 0 if a >= 100 or float(x).is_integer() else 1 if a >= 10 else 2 if a >= 0.1 else 3
    text = f"{x:,.{digits}f}"
    if digits and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace("-", "\u2212")


def format_value(x: Any, u: Unit, code: str, lang: str) -> str:
    if isinstance(x, bool) or code == "flag":
        return ("on" if x else "off") if lang == "en" else ("是" if x else "否")
    if isinstance(x, (list, tuple)):
        return ("、" if lang == "zh" else ", ").join(town(t, lang) for t in x)
    if isinstance(x, dict):
        sep = "，" if lang == "zh" else ", "
        return sep.join(f"{cluster(k, lang)} {number(100 * float(v))}%" for k, v in x.items())
    if isinstance(x, str):
        return x
    if u.money is not None:
        from simulation.reporting.wording import money

        return money(float(x), lang) + u.money
    value = number(float(x) * u.scale)
    if not u.text:
        return value
    if u.text.startswith("%"):
        return value + (u.text if lang == "zh" else " " + u.text)
    return f"{value} {u.text}"


# --- names ----------------------------------------------------------------------------------


def cluster(cluster_id: str, lang: str) -> str:
    """A cluster's short name ('Semiconductors', '半导体'); 'city' is city industry."""
    row = table()["clusters"].get(cluster_id)
    return row[_lang(lang)] if row else humanise(cluster_id)


def cluster_long(row: Any, lang: str) -> str:
    """A cluster's full name from a summary row (name_en / name_zh)."""
    return str(row["name_zh"] if lang == "zh" else row["name_en"])


def kind(kind_id: str, lang: str) -> str:
    return table()["kinds"][kind_id][_lang(lang)]


def scenario(name: str, lang: str) -> str:
    """A scenario's name for readers ('Baseline', '基准情景'); unknown names are humanised."""
    base, _, suffix = name.partition(" #")
    row = table()["scenarios"].get(base)
    text = row[_lang(lang)] if row else humanise(base).capitalize()
    return f"{text} #{suffix}" if suffix else text


def scenario_what(name: str, lang: str) -> str:
    """One line on what a shipped scenario assumes ('' for others)."""
    row = table()["scenarios"].get(name.partition(" #")[0])
    return row.get(f"what_{_lang(lang)}", "") if row else ""


def lever(section: str, lang: str) -> str:
    row = table()["levers"].get(section)
    return row[_lang(lang)] if row else humanise(section)


def fund(fund_id: str, lang: str) -> str:
    row = table()["funds"].get(fund_id)
    return row[_lang(lang)] if row else humanise(fund_id).capitalize() + (" fund" if lang == "en" else "基金")


def event(event_id: str, lang: str) -> str:
    found = _match(table()["events"], event_id)
    if found is None:
        return humanise(event_id).capitalize()
    row, groups = found
    return _fill(row[_lang(lang)], groups, lang)


def index(name: str, lang: str, short: bool = False) -> str:
    row = table()["indices"].get(name)
    if row is None:
        return name
    return row.get(f"short_{lang}", row[_lang(lang)]) if short else row[_lang(lang)]


def moment(moment_id: str, lang: str, fallback: str = "") -> str:
    row = table()["moments"].get(moment_id)
    return row[_lang(lang)] if row else (fallback or humanise(moment_id))


def programme(name: str, lang: str) -> str:
    row = table()["programmes"].get(name)
    return row[_lang(lang)] if row else humanise(name).capitalize()


def town(town_id: str, lang: str) -> str:
    from simulation.datapack import towns

    names = {t.town_id: (t.name_zh if lang == "zh" else t.name_en) for t in towns()}
    return names.get(town_id, humanise(town_id).title())


def humanise(key: str) -> str:
    """The last part(s) of a dotted key in words: a fallback, never what a shipped key shows."""
    parts = str(key).split(".")
    tail = parts[-2:] if len(parts) > 2 else parts[-1:]
    return " ".join(p.replace("_", " ") for p in tail)


# --- parameters and outcomes ----------------------------------------------------------------


@cache
def _patterns(section: str) -> list[tuple[re.Pattern[str], str]]:
    rows = table()[section]
    clusters = "|".join(sorted([*CLUSTERS, "city"], key=len, reverse=True))

    def compile_key(key: str) -> re.Pattern[str]:
        out, pos, seen = [], 0, set()
        for m in _PLACEHOLDER.finditer(key):
            out.append(re.escape(key[pos : m.start()]))
            name = m.group(1)
            group = f"(?P<{name}>{clusters})" if name == "cluster" else f"(?P<{name}>[A-Za-z0-9_]+?)"
            out.append(group if name not in seen else f"(?P={name})")
            seen.add(name)
            pos = m.end()
        out.append(re.escape(key[pos:]))
        return re.compile("".join(out) + r"\Z")

    exact_first = sorted(rows, key=lambda k: ("{" in k, -len(k)))
    return [(compile_key(k), k) for k in exact_first]


def _match(rows: dict[str, Any], key: str) -> tuple[dict[str, Any], dict[str, str]] | None:
    if key in rows:
        return rows[key], {}
    section = next(name for name, value in table().items() if value is rows)
    for pattern, k in _patterns(section):
        m = pattern.match(key)
        if m:
            return rows[k], m.groupdict()
    return None


def _fill(text: str, groups: dict[str, str], lang: str) -> str:
    names = {"cluster": cluster, "fund": fund, "event": event, "year": lambda value, lang: value,
             "programme": lambda value, lang: programme(value, lang).lower() if lang == "en" else programme(value, lang)}
    for name, value in groups.items():
        text = text.replace("{" + name + "}", names[name](value, lang))
    return text


def has_parameter(key: str) -> bool:
    """Whether the table names this scenario key (tests ask for every key of every scenario)."""
    found = _match(table()["parameters"], key)
    if found is None:
        return False
    groups = found[1]
    return all(v in table()["funds"] for k, v in groups.items() if k == "fund") and all(
        _match(table()["events"], v) is not None for k, v in groups.items() if k == "event"
    )


def parameter(key: str, lang: str) -> Label:
    """The label of a scenario key (``levers.land.floor_multiplier``)."""
    key = str(key)
    if key.startswith("unit:"):  # a sweep's unit-quantile column
        key = key[5:]
    return _label("parameters", key, lang)


def _label(section: str, key: str, lang: str) -> Label:
    found = _match(table()[section], key)
    if found is None:
        return Label(humanise(key).capitalize(), Unit(""))
    row, groups = found
    code = row.get("unit", "")
    return Label(_fill(row[_lang(lang)], groups, lang), unit(code, lang), code)


def is_lever(key: str) -> bool:
    return str(key).startswith("levers.")


def _outcome_key(name: str) -> str:
    """'p_hit.ene' -> 'p_hit_ene', 'cagr.city' -> 'city_cagr': sweep, summary and table spellings alike."""
    key = str(name).replace(".", "_")
    return "city_cagr" if key == "cagr_city" else key


def outcome(name: str, lang: str) -> Label:
    """The label of an outcome (``p_hit_semi``, ``cagr.city``, ``fiscal_cost``)."""
    return _label("outcomes", _outcome_key(name), lang)


def has_outcome(name: str) -> bool:
    found = _match(table()["outcomes"], _outcome_key(name))
    return found is not None and all(v in table()["programmes"] for k, v in found[1].items() if k == "programme")


def index_unit(index_name: str, outcome_name: str | None, lang: str) -> str:
    """What a sensitivity index is measured in: indices S1/ST are shares of variance; μ* and σ
    are in the outcome's unit (change over the parameter's whole range)."""
    if index_name in ("S1", "ST"):
        return "share of variance" if lang == "en" else "方差占比"
    if outcome_name is None:
        return "outcome's unit" if lang == "en" else "结果变量单位"
    u = outcome(outcome_name, lang).unit
    code = outcome(outcome_name, lang).code
    if code == "probability":
        return "change in probability" if lang == "en" else "概率变化"
    if code == "pct_per_year":
        return "pp a year" if lang == "en" else "个百分点/年"
    return u.text


# --- in sentences (scenario discovery, optimisation) ------------------------------------------


def _of_key(key: str, lang: str) -> Label:
    """A scenario key's label, or else an outcome column's (sweeps mix both)."""
    key = str(key)
    if key.startswith(("levers.", "uncertainties.", "simulation.", "targets.", "unit:")) or not has_outcome(key):
        return parameter(key, lang)
    return outcome(key, lang)


def name(key: str, lang: str = "en") -> str:
    """A key's name inside a sentence: 'market growth for Biomedicine', 'R&D subsidy budget'."""
    text = _of_key(key, lang).text
    if lang == "en" and text[1:2].islower():
        text = text[:1].lower() + text[1:]
    return text


def unit_text(key: str, lang: str = "en") -> str:
    """A key's unit as readers see it ('% a year', '亿元'); '' for a number without one."""
    return _of_key(key, lang).unit.text


def key_value(key: str, x: Any, lang: str = "en") -> str:
    """A value of a key with its unit, as readers see it: '6.02 % a year', '7,500 mu a year'."""
    return _of_key(key, lang).value(x, lang)


def share(x: float, lang: str = "en") -> str:
    """A share as a percentage: '84 %' (en), '84%' (zh)."""
    return f"{x * 100:.0f}{'%' if lang == 'zh' else ' %'}"


def sentence_start(text: str) -> str:
    """The text with its first letter a capital (English)."""
    return text[:1].upper() + text[1:]
