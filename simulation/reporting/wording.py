"""Words from numbers, with rules: a claim is made only when its interval supports it.

Every title, finding and caption that judges a probability or a ranking gets its words here,
so one rule holds everywhere:

* **Chances** (P that a cluster meets its target, keeps pace, that all five do): the verdict
  follows the IPCC's calibrated language, applied to the whole *interval*, not the point
  estimate. "Likely" needs the interval's lower end at 0.66 or above, "more likely than not"
  above 0.5; "unlikely" needs the upper end at 0.33 or below, "less likely than not" below
  0.5. An interval that straddles 0.5 within [0.33, 0.66] is "about as likely as not" (P =
  0.56 with a 95 % CI of 0.46–0.65 is about even, not "more likely than not"); one that
  straddles 0.5 more widely is "uncertain", and the text says the range instead.
* **Which interval**: a share of replicates has a Monte-Carlo interval (Wilson, 95 %): how
  precisely the replicates pin down the model's probability, which more replicates narrow.
  Where the results also give an interval that includes parameter uncertainty (a posterior),
  the verdict uses the wider of the two. Texts label each interval for what it is
  (:func:`interval_name`).
* **Rankings** ("ranks above", "fastest", "matters most"): A ranks above B only when their
  intervals do not overlap (:func:`ranks_above`), or, for outcomes paired within replicates,
  when A beats B in a share of replicates whose verdict is at least "likely"
  (:func:`beats`). Otherwise the text names the leaders together (:func:`leaders`).

Number formats live here too: percentages, percentage points, money ("2.93 trillion CNY",
"2.93 万亿元（29,311 亿元）"), counts in words and lists.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# --- chances --------------------------------------------------------------------------------

#: Verdicts from most to least likely, with the interval each needs (see the module docstring).
VERDICTS = (
    "virtually_certain", "very_likely", "likely", "more_likely_than_not", "about_even", "uncertain",
    "less_likely_than_not", "unlikely", "very_unlikely", "exceptionally_unlikely",
)  # fmt: skip
POSITIVE = ("virtually_certain", "very_likely", "likely", "more_likely_than_not")
AT_LEAST_LIKELY = ("virtually_certain", "very_likely", "likely")


@dataclass(frozen=True)
class Chance:
    """A probability with its Monte-Carlo interval and, where the results give one, an interval
    that includes parameter uncertainty."""

    p: float
    low: float
    high: float
    parameter_low: float | None = None
    parameter_high: float | None = None

    @property
    def has_parameter_interval(self) -> bool:
        return self.parameter_low is not None and self.parameter_high is not None

    @property
    def bounds(self) -> tuple[float, float]:
        """The interval a verdict must respect: the wider of those given."""
        if self.has_parameter_interval:
            return min(self.low, self.parameter_low), max(self.high, self.parameter_high)  # type: ignore[type-var]
        return self.low, self.high

    @classmethod
    def from_block(cls, block: Mapping[str, Any] | None) -> Chance | None:
        """From a summary.json block ``{p, ci_low, ci_high[, parameter_low, parameter_high]}``."""
        if not block or block.get("p") is None:
            return None
        p = float(block["p"])
        low = _num(block.get("ci_low"), p)
        high = _num(block.get("ci_high"), p)
        pl, ph = block.get("parameter_low"), block.get("parameter_high")
        return cls(p, low, high, None if pl is None else float(pl), None if ph is None else float(ph))


def _num(x: Any, default: float) -> float:
    return default if x is None or not math.isfinite(float(x)) else float(x)


def verdict(chance: Chance) -> str:
    """The strongest verdict the chance's interval supports (one of VERDICTS)."""
    low, high = chance.bounds
    if low >= 0.99:
        return "virtually_certain"
    if low >= 0.90:
        return "very_likely"
    if low >= 0.66:
        return "likely"
    if low > 0.5:
        return "more_likely_than_not"
    if high <= 0.01:
        return "exceptionally_unlikely"
    if high <= 0.10:
        return "very_unlikely"
    if high <= 0.33:
        return "unlikely"
    if high < 0.5:
        return "less_likely_than_not"
    if low >= 0.33 and high <= 0.66:
        return "about_even"
    return "uncertain"


_EN = {
    "virtually_certain": "virtually certain", "very_likely": "very likely", "likely": "likely",
    "more_likely_than_not": "more likely than not", "about_even": "about as likely as not",
    "less_likely_than_not": "less likely than not", "unlikely": "unlikely", "very_unlikely": "very unlikely",
    "exceptionally_unlikely": "exceptionally unlikely",
}  # fmt: skip
#: Chinese: (before the goal, after the goal) for "{subject}{before}{goal}{after}".
_ZH = {
    "virtually_certain": ("几乎肯定能", ""), "very_likely": ("很可能", ""), "likely": ("较有可能", ""),
    "more_likely_than_not": ("多半能", ""), "about_even": ("", "的可能性约为一半"),
    "uncertain": ("能否", "尚难判断"), "less_likely_than_not": ("", "的可能性不到一半"),
    "unlikely": ("不太可能", ""), "very_unlikely": ("很难", ""), "exceptionally_unlikely": ("几乎不可能", ""),
}  # fmt: skip


def claim(chance: Chance, subject: str, goal: str, lang: str, plural: bool = False, title: bool = False) -> str:
    """'{subject} is likely to {goal}' / '{subject}较有可能{goal}', the verdict the interval supports.

    ``goal`` is a verb phrase ('grow at least 10 % a year' / '实现年均增长10%');
    ``title`` gives the headline form ('Biomedicine: likely to grow ...').
    """
    return claim_words(verdict(chance), subject, goal, lang, plural, title)


def claim_words(v: str, subject: str, goal: str, lang: str, plural: bool = False, title: bool = False) -> str:
    if lang == "zh":
        before, after = _ZH[v]
        return f"{subject}{'：' if title else ''}{before}{goal}{after}"
    if v == "uncertain":
        return f"{subject}{':' if title else ''} may or may not {goal}"
    if title:
        return f"{subject}: {_EN[v]} to {goal}"
    return f"{subject} {'are' if plural else 'is'} {_EN[v]} to {goal}"


_ZH_NAMES = {
    "virtually_certain": "几乎肯定", "very_likely": "很可能", "likely": "较有可能", "more_likely_than_not": "可能性过半",
    "about_even": "可能性约为一半", "uncertain": "尚难判断", "less_likely_than_not": "可能性不到一半",
    "unlikely": "不太可能", "very_unlikely": "很难", "exceptionally_unlikely": "几乎不可能",
}  # fmt: skip


def verdict_name(v: str, lang: str) -> str:
    """The verdict alone, as a predicate for headlines and tables: 'likely', '较有可能'."""
    if lang == "zh":
        return _ZH_NAMES[v]
    return "may or may not" if v == "uncertain" else _EN[v]


def verdict_groups(items: Sequence[tuple[str, Chance]]) -> list[tuple[str, list[str]]]:
    """(verdict, names) for each verdict the items reach, strongest first."""
    groups: dict[str, list[str]] = {}
    for name, chance in items:
        groups.setdefault(verdict(chance), []).append(name)
    return [(v, groups[v]) for v in VERDICTS if v in groups]


def group_headline(items: Sequence[tuple[str, Chance]], question: str, lang: str) -> str:
    """A headline: the question, then each group and its verdict.

    'Will the four pillars keep pace with city industry? High-end equipment very likely; ...' /
    '四大支柱产业能否与全市工业同步增长：高端装备很可能；...'.
    """
    parts = [f"{join(names, lang)}{'' if lang == 'zh' else ' '}{verdict_name(v, lang)}" for v, names in verdict_groups(items)]
    return question + ("：" if lang == "zh" else " ") + ("；" if lang == "zh" else "; ").join(parts)


def group_claims(items: Sequence[tuple[str, Chance]], goal: str, lang: str, subject: str = "") -> str:
    """One sentence grouping subjects by verdict, strongest first.

    English: 'Software & IT services and Semiconductors are very likely to grow ..., New energy is
    likely to, and Biomedicine is about as likely as not to.' Chinese states the goal once:
    '{subject}能否{goal}：软件与信息服务很可能；新材料和新能源较有可能；生物医药可能性约为一半'.
    """
    ordered = verdict_groups(items)
    if lang == "zh":
        return f"{subject}能否{goal}：" + "；".join(f"{join(names, 'zh')}{_ZH_NAMES[v]}" for v, names in ordered)
    parts = []
    for i, (v, names) in enumerate(ordered):
        who = join(names, lang)
        if i == 0:
            parts.append(claim_words(v, who, goal, lang, plural=len(names) > 1))
        elif v == "uncertain":
            parts.append(f"{who} may or may not")
        else:
            parts.append(f"{who} {'are' if len(names) > 1 else 'is'} {_EN[v]} to")
    return join(parts, lang, final=", and " if len(parts) > 2 else " and ") if len(parts) > 1 else parts[0]


#: z of a two-sided 95 % interval (statistics.NormalDist().inv_cdf(0.975)).
Z95 = 1.959963984540054


def share_chance(k: int, n: int) -> Chance:
    """A share of replicates with its Wilson 95 % interval (for rankings judged per replicate).

    The interval of :func:`simulation.experiments.summary.wilson_interval` (a test checks they
    agree), for one share in plain floats: charts need not import the model to rank towns.
    """
    if n <= 0:
        return Chance(math.nan, math.nan, math.nan)
    p, z2 = k / n, Z95 * Z95
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    low = 0.0 if k == 0 else min(max(centre - half, 0.0), p)
    high = 1.0 if k == n else max(min(centre + half, 1.0), p)
    return Chance(p, low, high)


# --- rankings -------------------------------------------------------------------------------


def ranks_above(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """A ranks above B when A's interval lies wholly above B's: (low, high) pairs."""
    return a[0] > b[1]


def beats(chance: Chance) -> bool:
    """A paired comparison (the share of replicates where A beats B) supports 'A ranks above B'."""
    return verdict(chance) in AT_LEAST_LIKELY


def leaders(intervals: Mapping[str, tuple[float, float, float]]) -> list[str]:
    """The names tied for first: every one whose interval reaches the top one's lower end.

    ``intervals`` maps a name to (estimate, low, high); the top is the highest estimate. A name
    with no interval (NaN) counts as tied with the top, since nothing separates them.
    """
    if not intervals:
        return []
    top = max(intervals, key=lambda k: intervals[k][0])
    floor = intervals[top][1]
    if not math.isfinite(floor):
        return list(intervals)
    out = [top]
    for name, (est, low, high) in sorted(intervals.items(), key=lambda kv: -kv[1][0]):
        if name != top and (not math.isfinite(high) or not ranks_above(intervals[top][1:], (low, high))):
            out.append(name)
    return out


# --- numbers --------------------------------------------------------------------------------


def minus(text: str) -> str:
    """A typographic minus in place of a hyphen before a digit."""
    import re

    return re.sub(r"(?<![\w.])-(?=\d)", "\u2212", text)


def pct(x: float, lang: str = "en", digits: int = 1) -> str:
    """'13.3 %' (en) or '13.3%' (zh)."""
    return minus(f"{x:.{digits}f}{'%' if lang == 'zh' else ' %'}")


def signed(x: float, digits: int = 1) -> str:
    return minus(f"{x:+.{digits}f}")


def pp(x: float, lang: str = "en", digits: int = 1) -> str:
    """'+1.2 pp' / '+1.2 个百分点'."""
    return f"{signed(x, digits)} {'个百分点' if lang == 'zh' else 'pp'}"


def prob(p: float) -> str:
    return f"{p:.2f}"


def interval_name(lang: str, parameter: bool = False) -> str:
    """What an interval is, in words: the Monte-Carlo CI or the one with parameter uncertainty."""
    if parameter:
        return "95 % interval incl. parameter uncertainty" if lang == "en" else "含参数不确定性的 95% 区间"
    return "Monte-Carlo 95 % CI" if lang == "en" else "蒙特卡洛 95% 置信区间"


def chance_text(chance: Chance, lang: str) -> str:
    """'P = 0.56 (Monte-Carlo 95 % CI 0.46–0.65)', with the parameter interval when there is one."""
    sep = "；" if lang == "zh" else "; "
    inner = f"{interval_name(lang)} {prob(chance.low)}–{prob(chance.high)}"
    if chance.has_parameter_interval:
        inner += f"{sep}{interval_name(lang, True)} {prob(chance.parameter_low)}–{prob(chance.parameter_high)}"
    return f"P = {prob(chance.p)}" + (f"（{inner}）" if lang == "zh" else f" ({inner})")


def _short(x: float) -> str:
    """'12', '1.5', '1,250': thousands separators, one decimal under 100, no trailing '.0'."""
    text = f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.1f}".removesuffix(".0")
    return minus(text)


def money(yi: float, lang: str) -> str:
    """An amount given in 亿元: '2.93 trillion CNY' / '2.93 万亿元（29,311 亿元）', '45.6 billion CNY' / '456 亿元'."""
    if yi is None or not math.isfinite(yi):
        return "–"
    a = abs(yi)
    if lang == "zh":
        if a >= 10_000:
            return minus(f"{yi / 10_000:.2f} 万亿元（{yi:,.0f} 亿元）")
        if a >= 1:
            return f"{_short(yi)} 亿元"
        return f"{_short(yi * 10_000)} 万元"
    if a >= 10_000:
        return minus(f"{yi / 10_000:.2f} trillion CNY")
    if a >= 10:
        return f"{_short(yi / 10)} billion CNY"
    return f"{_short(yi * 100)} million CNY"


_EN_COUNT = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
_ZH_COUNT = ("零", "一", "两", "三", "四", "五", "六", "七", "八", "九", "十")


def count(n: int, lang: str) -> str:
    """A small count in words ('four', '四'); larger counts as digits."""
    if 0 <= n <= 10:
        return _ZH_COUNT[n] if lang == "zh" else _EN_COUNT[n]
    return str(n)


def join(items: Iterable[str], lang: str, final: str | None = None) -> str:
    """'A, B and C' / 'A、B和C'."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    if lang == "zh":
        return "、".join(items[:-1]) + "和" + items[-1]
    return ", ".join(items[:-1]) + (final if final is not None else " and ") + items[-1]


def capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def lower_first(text: str) -> str:
    """'Growth of city industry' -> 'growth of city industry' mid-sentence; 'P(...)' and 'R&D ...' stay."""
    word = text.split(" ", 1)[0]
    if not word or word.startswith("P(") or (len(word) > 1 and word[1:2].isupper()) or "&" in word:
        return text
    return text[:1].lower() + text[1:]
