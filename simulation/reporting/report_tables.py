"""The tables of a briefing report, in the reader's language, from the results files.

Each function returns :class:`Table` rows ready to print (numbers formatted, names from the
label table): the summary per cluster, the levers as run (instead of the scenario file), what
the policy adds, the public cost, the validation scorecard and backtest, and a short
provenance. A table whose data are absent is None: the report skips it.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulation.reporting import labels, wording
from simulation.reporting.charts.style import CLUSTER_ORDER, tr
from simulation.reporting.results_folder import ResultsFolder


@dataclass
class Table:
    caption: str
    header: list[str]
    rows: list[list[str]]
    note: str = ""


def _num(x: Any, digits: int = 1) -> str:
    try:
        x = float(x)
    except (TypeError, ValueError):
        return "–"
    return "–" if not math.isfinite(x) else wording.minus(f"{x:,.{digits}f}")


def _revenue(x: Any, lang: str) -> str:
    """Revenue in the table's unit: billion CNY (English) or 亿元 (Chinese)."""
    try:
        x = float(x)
    except (TypeError, ValueError):
        return "–"
    return _num(x / 10 if lang == "en" else x, 0)


def _spread(g: dict | None) -> str:
    if not g or g.get("median") is None:
        return "–"
    return f"{_num(g['median'])} [{_num(g['p5'])}, {_num(g['p95'])}]"


def _chance(block: dict | None) -> str:
    ch = wording.Chance.from_block(block)
    if ch is None:
        return "–"
    text = f"{wording.prob(ch.p)} [{wording.prob(ch.low)}, {wording.prob(ch.high)}]"
    if ch.has_parameter_interval:
        text += f" ({wording.prob(ch.parameter_low)}–{wording.prob(ch.parameter_high)})"
    return text


def _verdict(block: dict | None, lang: str) -> str:
    ch = wording.Chance.from_block(block)
    return "–" if ch is None else wording.verdict_name(wording.verdict(ch), lang)


def summary_tables(results: ResultsFolder, lang: str) -> list[Table]:
    """The pillars, the emerging clusters, and other industry with the city."""
    data = results.summary_data
    start, end = data["start_year"], data["end_year"]
    order = {c: i for i, c in enumerate(CLUSTER_ORDER)}
    rows = sorted(data["clusters"], key=lambda r: order.get(r["cluster"], 99))
    unit = tr(lang, "billion CNY", "亿元")
    name_h = tr(lang, "Cluster", "产业")
    rev0, rev1 = tr(lang, f"{start}, {unit}", f"{start} 年（{unit}）"), tr(lang, f"{end}, {unit}", f"{end} 年（{unit}）")
    cagr_h = tr(lang, "Growth, % a year: median [90 % of runs]", "年均增长（%）：中位数 [90% 模拟区间]")
    target = data["targets"]["emerging_cagr"]
    mc = tr(lang, "[Monte-Carlo 95 % CI]", "[蒙特卡洛 95% 置信区间]")
    blocks = [r.get(b) or {} for r in rows for b in ("hit", "keeps_pace")]
    if any(b.get("parameter_low") is not None for b in blocks):
        mc += tr(lang, " (95 % interval incl. parameter uncertainty)", "（含参数不确定性的 95% 区间）")

    def base(r: dict) -> list[str]:
        return [labels.cluster(r["cluster"], lang), _revenue(r["revenue_start_median"], lang),
                _revenue(r["revenue_end_median"], lang), _spread(r["cagr"])]

    pillars = [[*base(r), _spread(r.get("gap")), _chance(r.get("keeps_pace")), _verdict(r.get("keeps_pace"), lang)]
               for r in rows if r["kind"] == "pillar"]
    emerging = [[*base(r), _chance(r.get("hit")), _verdict(r.get("hit"), lang)] for r in rows if r["kind"] == "emerging"]
    others = [base(r) for r in [*[r for r in rows if r["kind"] == "other"], data["city"]]]
    words = tr(lang, "In words", "判断")
    tables = [
        Table(tr(lang, "Pillar clusters", "支柱产业"),
              [name_h, rev0, rev1, cagr_h, tr(lang, "Gap to the city, pp a year [90 %]", "与全市增速差（百分点）[90%]"),
               tr(lang, f"P(keeps pace) {mc}", f"P（同步增长）{mc}"), words], pillars),
        Table(tr(lang, "Emerging clusters", "战略性新兴产业"),
              [name_h, rev0, rev1, cagr_h, tr(lang, f"P(growth ≥ {target:g} %) {mc}", f"P（年均增长 ≥ {target:g}%）{mc}"),
               words], emerging),
        Table(tr(lang, "Other industry and the city", "其他工业与全市"), [name_h, rev0, rev1, cagr_h], others),
    ]
    all_five = data.get("all_emerging")
    if all_five and all_five.get("p") is not None:
        tables[1].note = tr(lang, f"All five together: P = {_chance(all_five)}, {_verdict(all_five, 'en')}.",
                            f"五个产业同时达标：P = {_chance(all_five)}，{_verdict(all_five, 'zh')}。")
    return tables


# --- the levers as run ----------------------------------------------------------------------

LEVER_SECTIONS = ("subsidy", "land", "talent", "funds", "core_zones", "agencies")


def lever_tables(results: ResultsFolder, lang: str) -> list[Table]:
    """One table per kind of lever: each setting's name, value and unit in the reader's language."""
    levers = results.scenario.get("levers", {})
    tables = []
    head = [tr(lang, "Setting", "设定"), tr(lang, "Value", "取值")]
    for section in LEVER_SECTIONS:
        block = levers.get(section)
        if not block:
            continue
        parts = [(f"levers.funds.{f}", v) for f, v in block.items()] if section == "funds" else [(f"levers.{section}", block)]
        rows = []
        on = False
        for prefix, values in parts:
            on = on or bool(values.get("enabled", False))
            for key, value in values.items():
                if key == "zones" and isinstance(value, dict):
                    for cluster, towns in value.items():
                        label = labels.parameter(f"{prefix}.zones.{cluster}", lang)
                        rows.append([label.text, label.value(towns, lang)])
                    continue
                label = labels.parameter(f"{prefix}.{key}", lang)
                rows.append([label.text, label.value(value, lang)])
        status = tr(lang, "on" if on else "off", "启用" if on else "未启用")
        tables.append(Table(f"{labels.lever(section, lang)}（{status}）" if lang == "zh"
                            else f"{labels.lever(section, lang)} ({status})", head, rows))
    targets = results.scenario.get("targets")
    if targets:
        rows = [[labels.parameter(f"targets.{k}", lang).text, labels.parameter(f"targets.{k}", lang).value(v, lang)]
                for k, v in targets.items()]
        tables.append(Table(tr(lang, "Targets", "目标"), head, rows))
    return tables


# --- what the policy adds -------------------------------------------------------------------


def effects_table(effects, a: str, b: str, lang: str) -> Table:
    """Per cluster: the mean paired effect on growth [95 % CI], its spread across runs, and the target effect."""
    rows = []
    for cluster in dict.fromkeys(effects["cluster"]):
        part = effects[effects["cluster"] == cluster].set_index("measure")
        g = part.loc["cagr"] if "cagr" in part.index else None
        t = part.loc["target"] if "target" in part.index else None
        rows.append([
            labels.cluster(cluster, lang),
            "–" if g is None else f"{wording.signed(g['diff'], 2)} [{wording.signed(g['low'], 2)}, {wording.signed(g['high'], 2)}]",
            "–" if g is None or not math.isfinite(g["spread_low"]) else
            f"{wording.signed(g['spread_low'], 1)} – {wording.signed(g['spread_high'], 1)}",
            "–" if t is None else f"{wording.signed(t['diff'], 2)} [{wording.signed(t['low'], 2)}, {wording.signed(t['high'], 2)}]",
        ])
    a_name, b_name = labels.scenario(a, lang), labels.scenario(b, lang)
    header = [tr(lang, "Cluster", "产业"),
              tr(lang, "Growth effect, pp a year [paired 95 % CI]", "增速效应（百分点/年）[配对 95% 置信区间]"),
              tr(lang, "Effect in single runs, middle 90 %", "单次模拟效应（居中 90%）"),
              tr(lang, "Effect on P(target) [paired 95 % CI]", "对达标概率的效应 [配对 95% 置信区间]")]
    note = tr(lang, f"{a_name} minus {b_name}, run with the same seeds. Target: pillars keep pace with city "
                    "industry; emerging clusters meet the growth target.",
              f"{a_name}减{b_name}，两者使用相同随机种子。达标：支柱产业与全市工业同步增长；新兴产业实现增长目标。")
    return Table(tr(lang, f"What {a_name} adds to {b_name}", f"{a_name}相对{b_name}的效应"), header, rows, note)


# --- public cost ----------------------------------------------------------------------------


def _fmt_money(block: Any, lang: str) -> str:
    from simulation.reporting.findings import _num as number

    med, lo, hi = number(block), number(block, "p5"), number(block, "p95")
    if not math.isfinite(med):
        return "–"
    text = wording.money(med, lang)
    if math.isfinite(lo) and math.isfinite(hi):
        text += f" [{wording.money(lo, lang)} – {wording.money(hi, lang)}]"
    return text


def cost_table(results: ResultsFolder, lang: str) -> Table | None:
    cost = results.summary_data.get("public_cost")
    if not cost or not cost.get("by_programme"):
        return None
    rows = [[labels.programme(name, lang), _fmt_money(block, lang)] for name, block in cost["by_programme"].items()]
    if "total" in cost:
        rows.append([tr(lang, "Total", "合计"), _fmt_money(cost["total"], lang)])
    data = results.summary_data
    return Table(tr(lang, f"Public cost by programme, {data['start_year'] + 1}–{data['end_year']}",
                    f"各项政策财政支出，{data['start_year'] + 1}–{data['end_year']} 年"),
                 [tr(lang, "Programme", "政策"), tr(lang, "Median [90 % of runs]", "中位数 [90% 模拟区间]")], rows)


# --- validation -----------------------------------------------------------------------------


def scorecard_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def validation_table(scorecard: Path | None, lang: str) -> Table | None:
    """The validation scorecard (scorecard.csv of `simulate validate`), or None without one."""
    if scorecard is None or not scorecard.is_file():
        return None
    rows = scorecard_rows(scorecard)
    out = []
    for r in rows:
        passed = str(r.get("passed", "")).lower() == "true"
        out.append([labels.moment(r["moment"], lang, r.get("label", "")),
                    f"{_num(r['target'], 2)} ({_num(r['low'], 2)} – {_num(r['high'], 2)})",
                    f"{_num(r['median'], 2)} [{_num(r['p5'], 2)}, {_num(r['p95'], 2)}]",
                    tr(lang, "pass" if passed else "fail", "通过" if passed else "未通过")])
    n_pass = sum(str(r.get("passed", "")).lower() == "true" for r in rows)
    caption = tr(lang, f"Validation scorecard: {n_pass} of {len(rows)} pass",
                 f"验证记分卡：{len(rows)} 项中 {n_pass} 项通过")
    header = [tr(lang, "Pattern or data point", "模式或数据"), tr(lang, "Target (band)", "目标（区间）"),
              tr(lang, "Simulated median [90 % of runs]", "模拟中位数 [90% 模拟区间]"), tr(lang, "Result", "结果")]
    note = tr(lang, "A moment passes when the median across runs lies in its band.", "模拟中位数落在区间内即为通过。")
    return Table(caption, header, out, note)


def backtest_table(results: ResultsFolder, lang: str) -> Table | None:
    """summary.json's ``backtest`` block: ``rows`` of {``label``, ``year``, ``observed``, ``median``,
    ``p5``, ``p95``, ``inside_90``}, or None without one."""
    block = results.summary_data.get("backtest")
    if not block or not block.get("rows"):
        return None
    rows = []
    for r in block["rows"]:
        inside = r.get("inside_90")
        rows.append([str(r.get("label", "")), str(r.get("year", "")), _num(r.get("observed"), 1),
                     f"{_num(r.get('median'), 1)} [{_num(r.get('p5'), 1)}, {_num(r.get('p95'), 1)}]",
                     "–" if inside is None else tr(lang, "yes" if inside else "no", "是" if inside else "否")])
    header = [tr(lang, "Series", "指标"), tr(lang, "Year", "年份"), tr(lang, "Observed", "实际"),
              tr(lang, "Forecast median [90 %]", "预测中位数 [90%]"), tr(lang, "Inside the 90 % band", "落在 90% 区间内")]
    return Table(tr(lang, "Backtest: forecasts against what happened", "回测：预测与实际对比"), header, rows,
                 str(block.get(f"note_{lang}", "")))


# --- provenance -----------------------------------------------------------------------------


def provenance_rows(results: ResultsFolder, lang: str) -> list[tuple[str, str]]:
    m = results.manifest
    sc = m.get("scenario", {})
    git = m.get("git", {})
    commit = str(git.get("commit") or "")[:12]
    rows = [
        (tr(lang, "Scenario", "情景"), f"{labels.scenario(results.scenario_name, lang)} ({sc.get('path', '')})"),
        (tr(lang, "Scenario hash (SHA-256)", "情景文件哈希（SHA-256）"), str(sc.get("sha256", ""))[:12]),
        (tr(lang, "Root seed", "随机种子"), str(m.get("root_seed", ""))),
        (tr(lang, "Model runs", "模拟次数"), str(m.get("replicates", ""))),
        (tr(lang, "Run on", "运行日期"), results.date),
        (tr(lang, "Code", "代码版本"), commit + (tr(lang, " (with uncommitted changes)", "（含未提交的修改）")
                                               if git.get("dirty") is True else "")),
    ]
    if sc.get("overrides"):
        rows.insert(2, (tr(lang, "Changed for this run", "本次运行修改的设定"), "; ".join(_override(o, lang) for o in sc["overrides"])))
    return rows


def _override(text: str, lang: str) -> str:
    """'levers.land.floor_multiplier=3.0' as 'New floor per unit of land = 3 m² of floor per m² of land'."""
    import tomllib

    key, _, value = str(text).partition("=")
    label = labels.parameter(key.strip(), lang)
    try:
        parsed = tomllib.loads(f"v = {value.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        parsed = value.strip()
    return f"{label.text} = {label.value(parsed, lang)}"
