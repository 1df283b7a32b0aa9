"""Key findings of a run as sentences, written from summary.json by the wording rules.

Every sentence judges chances and rankings with :mod:`simulation.reporting.wording`, so the
findings agree with each other and with the charts' titles: a cluster called "likely" in one
place is "likely" everywhere, and "least likely" is said only when its interval sets it apart.
Each :class:`Finding` carries the numbers it states (tests compare them with summary.json).

Optional blocks of summary.json are read when present and skipped when absent:
``all_emerging`` (P that all five emerging clusters hit the target), ``public_cost``
(:func:`money_findings`) and ``counterfactual`` (:func:`policy_findings`); a ``simulate compare``
folder gives the same policy findings from comparison.json.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simulation.reporting import labels, wording
from simulation.reporting.charts.style import CLUSTER_ORDER, tr
from simulation.reporting.results_folder import ResultsError, ResultsFolder


@dataclass
class Finding:
    """One key finding: the sentence and the numbers it states (for checks)."""

    text: str
    numbers: dict[str, Any] = field(default_factory=dict)


def _rows(data: dict, kind: str) -> list[dict]:
    rows = [r for r in data["clusters"] if r["kind"] == kind]
    order = {c: i for i, c in enumerate(CLUSTER_ORDER)}
    return sorted(rows, key=lambda r: order.get(r["cluster"], 99))


def _range(g: dict, lang: str) -> str:
    """'median 11.0 % a year; 90 % of model runs 5.0–16.8 %'."""
    return tr(lang, f"{wording.pct(g['median'])} a year (median; 90 % of model runs {g['p5']:.1f}–{wording.pct(g['p95'])})",
              f"年均增长{wording.pct(g['median'], 'zh')}（中位数；90% 的模拟结果介于 {g['p5']:.1f}%–{wording.pct(g['p95'], 'zh')}）")


def emerging_findings(data: dict, lang: str) -> list[Finding]:
    from simulation.reporting.charts.target import extremes

    target = float(data["targets"]["emerging_cagr"])
    start, end = data["start_year"], data["end_year"]
    rows = [r for r in _rows(data, "emerging") if r.get("hit", {}).get("p") is not None]
    if not rows:
        return []
    chances = {r["cluster"]: wording.Chance.from_block(r["hit"]) for r in rows}
    goal = tr(lang, f"grow at least {wording.pct(target, 'en', 0)} a year from {start} to {end}",
              f"在 {start}–{end} 年实现年均增长不低于{wording.pct(target, 'zh', 0)}")
    items = [(labels.cluster(c, lang), ch) for c, ch in chances.items()]
    parameter = any(ch.has_parameter_interval for ch in chances.values())
    basis = tr(lang, f" (judged by each share's {wording.interval_name('en', parameter)})",
               f"（依据各比例的{wording.interval_name('zh', parameter)}判断）")
    if lang == "zh":
        sentence = wording.group_claims(items, goal, lang, f"{wording.count(len(rows), 'zh')}个战略性新兴产业") + basis + "。"
    else:
        sentence = f"Of the {wording.count(len(rows), 'en')} emerging clusters, " + wording.group_claims(items, goal, lang) \
            + basis + "."
    out = [Finding(sentence, {"verdicts": {c: wording.verdict(ch) for c, ch in chances.items()},
                              "p": {c: ch.p for c, ch in chances.items()}})]
    top, bottom = extremes(chances, lang)
    if len(bottom) == 1 and len(bottom) < len(rows) and bottom[0] not in top:
        r = next(r for r in rows if r["cluster"] == bottom[0])
        ch = chances[bottom[0]]
        out.append(Finding(tr(
            lang,
            f"{labels.cluster(r['cluster'], 'en')} is the least likely to reach the target: {wording.chance_text(ch, 'en')}; "
            f"it grows {_range(r['cagr'], 'en')}.",
            f"{labels.cluster(r['cluster'], 'zh')}达标的可能性最低：{wording.chance_text(ch, 'zh')}；"
            f"{_range(r['cagr'], 'zh')}。",
        ), {"cluster": r["cluster"], "p": ch.p, "ci_low": ch.low, "ci_high": ch.high, **r["cagr"]}))
    all_five = wording.Chance.from_block(data.get("all_emerging"))
    if all_five is not None:
        subject = tr(lang, f"All {wording.count(len(rows), 'en')} together", f"{wording.count(len(rows), 'zh')}个产业同时")
        goal_all = tr(lang, f"reach {wording.pct(target, 'en', 0)} a year", f"达标")
        out.append(Finding(wording.claim(all_five, subject, goal_all, lang, plural=True)
                           + tr(lang, f": {wording.chance_text(all_five, 'en')}.", f"：{wording.chance_text(all_five, 'zh')}。"),
                           {"all_emerging": all_five.p, "ci_low": all_five.low, "ci_high": all_five.high,
                            "verdict": wording.verdict(all_five)}))
    return out


def city_finding(data: dict, lang: str) -> list[Finding]:
    city = data["city"]
    g = city["cagr"]
    if g.get("median") is None:
        return []
    start, end = data["start_year"], data["end_year"]
    r0, r1 = city["revenue_start_median"], city["revenue_end_median"]
    return [Finding(tr(
        lang,
        f"City industry grows {_range(g, 'en')}: above-scale revenue rises from {wording.money(r0, 'en')} in {start} to "
        f"{wording.money(r1, 'en')} in {end} (medians).",
        f"全市规模以上工业{_range(g, 'zh')}：营业收入中位数由 {start} 年的 {wording.money(r0, 'zh')}增至 {end} 年的 "
        f"{wording.money(r1, 'zh')}。",
    ), {**g, "start": r0, "end": r1})]


def pillar_findings(data: dict, lang: str) -> list[Finding]:
    rows = [r for r in _rows(data, "pillar") if r.get("keeps_pace", {}).get("p") is not None]
    if not rows:
        return []
    tolerance = float(data["targets"]["pillar_tolerance"])
    chances = {r["cluster"]: wording.Chance.from_block(r["keeps_pace"]) for r in rows}
    items = [(labels.cluster(c, lang), ch) for c, ch in chances.items()]
    goal = tr(lang, f"keep pace with city industry (grow at most {tolerance:g} pp a year slower in the same model run)",
              f"与全市工业同步增长（同一次模拟中增速低不超过 {tolerance:g} 个百分点）")
    if lang == "zh":
        text = wording.group_claims(items, goal, lang, f"{wording.count(len(rows), 'zh')}大支柱产业") + "。"
    else:
        text = "Among the pillars, " + wording.group_claims(items, goal, lang) + "."
    return [Finding(text, {"verdicts": {c: wording.verdict(ch) for c, ch in chances.items()},
                           "p": {c: ch.p for c, ch in chances.items()}})]


def town_findings(results: ResultsFolder, lang: str) -> list[Finding]:
    from simulation.reporting.charts.towns import first_towns, town_samples

    try:
        units, growth = town_samples(results, "growth")
        floor_units, floor = town_samples(results, "floor")
    except ResultsError:
        return []
    first = first_towns(units, growth)
    if not first:
        return []
    medians = dict(zip(units, np.nanmedian(growth, axis=0).tolist()))
    totals = np.nansum(floor, axis=1) / 1e6  # million m²
    t_med, t_lo, t_hi = (float(x) for x in np.nanpercentile(totals, [50, 5, 95]))
    data = results.summary_data
    years = f"{data['start_year'] + 1}–{data['end_year']}"
    if lang == "zh":
        towns = "、".join(labels.town(t, "zh") for t in first[:3]) + (f"等{wording.count(len(first), 'zh')}个镇街" if len(first) > 3 else "")
        lead = (f"{towns}增长最快（年均{wording.pct(medians[first[0]], 'zh')}，中位数）" if len(first) == 1 else
                f"{towns}增长最快，彼此难分先后（年均 {min(medians[t] for t in first):.1f}%–"
                f"{wording.pct(max(medians[t] for t in first), 'zh')}，中位数）")
        text = (f"分镇街看，{lead}；{years} 年全市新增产业用房 {t_med * 100:,.0f} 万平方米"
                f"（90% 的模拟结果介于 {t_lo * 100:,.0f}–{t_hi * 100:,.0f} 万平方米）。")
    else:
        towns = wording.join([labels.town(t, "en") for t in first[:3]] + (
            [f"{wording.count(len(first) - 3, 'en')} more"] if len(first) > 3 else []), "en")
        lead = (f"revenue grows fastest in {towns} ({wording.pct(medians[first[0]])} a year, median)" if len(first) == 1 else
                f"{towns} grow fastest, too close to rank ({min(medians[t] for t in first):.1f}–"
                f"{wording.pct(max(medians[t] for t in first))} a year, medians)")
        text = (f"By town, {lead}; {t_med:.1f} million m² of new industrial floor is delivered across the city in "
                f"{years} (90 % of model runs {t_lo:.1f}–{t_hi:.1f} million m²).")
    return [Finding(text, {"first": first, "floor_median": t_med, "floor_p5": t_lo, "floor_p95": t_hi})]


def _num(block: Any, key: str = "median") -> float:
    """A number from a summary block that is either a number or {median, p5, p95}."""
    if isinstance(block, dict):
        block = block.get(key)
    try:
        return float(block)
    except (TypeError, ValueError):
        return math.nan


def policy_findings(effects, a: str, b: str, lang: str) -> list[Finding]:
    """What the policy adds: the paired effects' headline (as the paired chart's title). Its cost and
    what each extra yuan buys are :mod:`simulation.reporting.cost_effectiveness`'s sentences."""
    from simulation.reporting.charts.paired import headline

    cagr = effects[effects["measure"] == "cagr"]
    text = headline(cagr.reset_index(drop=True), a, b, lang) + tr(lang, ".", "。")
    return [Finding(text, {"effects": {r.cluster: (r.diff, r.low, r.high) for r in cagr.itertuples()}})]


def money_findings(data: dict, lang: str) -> list[Finding]:
    """Public cost, what it goes with, and (with a counterfactual) what each extra yuan adds."""
    from simulation.reporting import cost_effectiveness

    return [Finding(text, numbers) for text, numbers in cost_effectiveness.findings(data, lang)]


def findings(results: ResultsFolder, lang: str = "en") -> list[Finding]:
    """Key findings of one run, in the order a briefing reads them."""
    data = results.summary_data
    return [*emerging_findings(data, lang), *pillar_findings(data, lang), *city_finding(data, lang),
            *money_findings(data, lang), *town_findings(results, lang)]
