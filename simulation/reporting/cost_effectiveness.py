"""Cost-effectiveness in words and a table, from a run's summary.json: what the public money buys.

For the briefing report (:mod:`simulation.reporting.report` calls :func:`findings` and
:func:`table`), beside the growth findings:

* the public cost over the run (the fiscal ledger: median and 90 % interval, and a year);
* revenue and value added of the nine policy clusters per yuan of public money: *ratios of totals*,
  said to be so (most of that revenue would be there without the policy);
* with a counterfactual, the *effect* per yuan: extra value added and revenue per extra yuan of public
  money against the counterfactual in the same futures (ratio of mean paired effects, 95 %
  delta-method interval), beside the effect on the city's growth; no number when the extra cost
  is not clearly positive.

Everything comes from summary.json (``public_cost`` and ``counterfactual`` blocks), never from the model.
"""

from __future__ import annotations

import math
from typing import Any

from simulation.reporting import labels, wording
from simulation.reporting.charts.style import tr

#: (sentence, the numbers it states) pairs: the report wraps them as its findings.
Sentence = tuple[str, dict[str, float]]


def _ok(*xs: Any) -> bool:
    return all(x is not None and math.isfinite(float(x)) for x in xs)


def _money(x: float, lang: str) -> str:
    return wording.money(float(x), lang)


def findings(summary: dict[str, Any], lang: str = "en") -> list[Sentence]:
    """Sentences about public cost and what it buys (see the module docstring); [] if the summary has no cost."""
    cost = summary.get("public_cost")
    if not cost or not _ok((cost.get("total") or {}).get("median")):
        return []
    start, end = summary["start_year"], summary["end_year"]
    t = cost["total"]
    spread = _ok(t.get("p5"), t.get("p95"))
    out: list[Sentence] = [(tr(
        lang,
        f"Public money spent on the programmes in {start + 1}–{end}: {_money(t['median'], 'en')} (median"
        + (f"; 90 % of model runs {_money(t['p5'], 'en')}–{_money(t['p95'], 'en')}" if spread else "")
        + (f"), about {_money(cost['per_year_median'], 'en')} a year." if _ok(cost.get("per_year_median")) else ")."),
        f"{start + 1}–{end} 年各项政策的财政支出为 {_money(t['median'], 'zh')}（中位数"
        + (f"；90% 的模拟结果介于 {_money(t['p5'], 'zh')}–{_money(t['p95'], 'zh')}" if spread else "")
        + (f"），约每年 {_money(cost['per_year_median'], 'zh')}。" if _ok(cost.get("per_year_median")) else "）。"),
    ), {"median": t["median"], "p5": t.get("p5"), "p95": t.get("p95"), "per_year": cost.get("per_year_median")})]
    r, v = cost.get("revenue_per_yi"), cost.get("value_added_per_yi")
    if _ok(r, v):
        out.append((tr(
            lang,
            f"Each yuan of it goes with {r:,.0f} yuan of the nine policy clusters' revenue and {v:,.0f} yuan of their "
            "value added (medians of ratios of totals, not effects: most of it would be there without the policy).",
            f"每 1 元财政资金对应九个政策集群营业收入 {r:,.0f} 元、增加值 {v:,.0f} 元（总量之比的中位数，并非政策效果："
            "其中大部分没有政策也会存在）。",
        ), {"revenue_per_yi": r, "value_added_per_yi": v}))
    block = summary.get("counterfactual")
    if block:
        out.append(_effect_sentence(block, lang))
    return out


def _effect_sentence(block: dict[str, Any], lang: str) -> Sentence:
    name = labels.scenario(str(block.get("scenario", "?")), lang)
    extra = block.get("extra_cost") or {}
    va, rev = block.get("value_added_per_yi") or {}, block.get("revenue_per_yi") or {}
    city = ((block.get("city") or {}).get("cagr")) or {}
    numbers = {"extra_cost": extra.get("mean"), "va_per_yi": va.get("ratio"), "revenue_per_yi": rev.get("ratio"),
               "city_effect": city.get("mean")}  # fmt: skip
    growth_en = growth_zh = ""
    if _ok(city.get("mean"), city.get("ci_low"), city.get("ci_high")):
        growth_en = (f"; city industry's growth changes by {city['mean']:+.2f} pp a year (95 % CI {city['ci_low']:+.2f} "
                     f"to {city['ci_high']:+.2f})")  # fmt: skip
        growth_zh = f"；全市工业增长变化 {city['mean']:+.2f} 个百分点/年（95% 置信区间 {city['ci_low']:+.2f} 至 {city['ci_high']:+.2f}）"
    if not _ok(va.get("ratio"), va.get("ci_low"), va.get("ci_high"), extra.get("mean")):
        cost_en = f"the extra public money ({_money(extra['mean'], 'en')})" if _ok(extra.get("mean")) else "the extra public money"
        cost_zh = f"额外财政支出（{_money(extra['mean'], 'zh')}）" if _ok(extra.get("mean")) else "额外财政支出"
        return (tr(lang, f"Against {name}, {cost_en} is not clearly positive, so no effect per yuan is stated{growth_en}.",
                   f"与{name}相比，{cost_zh}并非明显为正，因此不给出每元效果{growth_zh}。"), numbers)  # fmt: skip
    ci = _ok(extra.get("ci_low"), extra.get("ci_high"))
    text = tr(
        lang,
        f"Against {name} (the same futures), the policy spends {_money(extra['mean'], 'en')} more public money"
        + (f" (95 % CI {_money(extra['ci_low'], 'en')}–{_money(extra['ci_high'], 'en')})" if ci else "")
        + f"; each extra yuan adds {va['ratio']:.2f} yuan of value added (95 % CI {va['ci_low']:.2f} to {va['ci_high']:.2f})"
        + (f" and {rev['ratio']:.2f} yuan of revenue" if _ok(rev.get("ratio")) else "") + f"{growth_en}.",
        f"与{name}相比（相同的未来情景），政策多支出财政资金 {_money(extra['mean'], 'zh')}"
        + (f"（95% 置信区间 {_money(extra['ci_low'], 'zh')}–{_money(extra['ci_high'], 'zh')}）" if ci else "")
        + f"，每多支出 1 元带来增加值 {va['ratio']:.2f} 元（95% 置信区间 {va['ci_low']:.2f} 至 {va['ci_high']:.2f}）"
        + (f"、营业收入 {rev['ratio']:.2f} 元" if _ok(rev.get("ratio")) else "") + f"{growth_zh}。",
    )
    return text, numbers


def table(summary: dict[str, Any], lang: str = "en") -> tuple[str, list[str], list[list[str]]] | None:
    """(caption, header, rows) of the money: cost, per-yuan ratios and, with a counterfactual, effects per yuan."""
    cost = summary.get("public_cost")
    if not cost or not _ok((cost.get("total") or {}).get("median")):
        return None

    def num(x: Any, digits: int = 0) -> str:
        return f"{float(x):,.{digits}f}" if _ok(x) else "–"

    def money(x: Any) -> str:
        return _money(x, lang) if _ok(x) else "–"

    t = cost["total"]
    rows = [
        [tr(lang, "Public cost over the run", "期内财政支出"), f"{money(t['median'])} [{money(t.get('p5'))}, {money(t.get('p95'))}]"],
        [tr(lang, "Public cost a year", "年均财政支出"), money(cost.get("per_year_median"))],
        [tr(lang, "Revenue per yuan (ratio of totals)", "每元对应营业收入（总量之比）"), num(cost.get("revenue_per_yi"))],
        [tr(lang, "Value added per yuan (ratio of totals)", "每元对应增加值（总量之比）"), num(cost.get("value_added_per_yi"))],
    ]  # fmt: skip
    block = summary.get("counterfactual")
    if block:
        other = labels.scenario(str(block.get("scenario")), lang)
        for key, en, zh in (("value_added_per_yi", "Extra value added per extra yuan", "每多支出 1 元带来的增加值"),
                            ("revenue_per_yi", "Extra revenue per extra yuan", "每多支出 1 元带来的营业收入")):  # fmt: skip
            b = block.get(key) or {}
            rows.append([tr(lang, f"{en} vs {other} [95 % CI]", f"{zh}（对比{other}）[95% 置信区间]"),
                         f"{num(b.get('ratio'), 2)} [{num(b.get('ci_low'), 2)}, {num(b.get('ci_high'), 2)}]"])  # fmt: skip
    caption = tr(lang, "Public money and what it buys", "财政资金及其效益")
    return caption, [tr(lang, "Measure", "指标"), tr(lang, "Median [5–95 %] or value", "中位数 [5–95%] 或数值")], rows
