"""A briefing report from a results folder: one self-contained HTML file and Markdown beside it.

The report holds the key findings written as sentences from the summary's numbers, the charts
(:mod:`simulation.reporting.charts`), the summary tables, the assumptions (the resolved
scenario.toml) and the run's manifest. The HTML file needs nothing else: styles are inline,
charts are inline SVG (text as paths, so no fonts are needed), there is no script, and a
Content-Security-Policy forbids loading anything, so it opens offline and makes no request.
The Markdown file links the charts as PNG files in ``figures/<lang>/`` beside it.

Everything comes from the results folder's files, never from the model.
"""

from __future__ import annotations

import html
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from simulation.reporting.charts import Inputs, write_charts
from simulation.reporting.charts.style import pct, scenario_label, tr
from simulation.reporting.results_folder import ResultsError, ResultsFolder

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:"
FONT_FAMILY = "Report Sans"


@dataclass
class Finding:
    """One key finding: the sentence and the numbers it states (for checks)."""

    text: str
    numbers: dict[str, float] = field(default_factory=dict)


# --- findings -------------------------------------------------------------------------------


def _f(x: Any) -> float:
    return float("nan") if x is None else float(x)


def findings(results: ResultsFolder, lang: str = "en") -> list[Finding]:
    """Key findings as sentences, from summary.json (and the town series, if there are any)."""
    data = results.summary_data
    target = float(data["targets"]["emerging_cagr"])
    tolerance = float(data["targets"]["pillar_tolerance"])
    start, end = data["start_year"], data["end_year"]
    emerging = [r for r in data["clusters"] if r["kind"] == "emerging" and r["hit"]["p"] is not None]
    pillars = [r for r in data["clusters"] if r["kind"] == "pillar" and r["cagr"]["median"] is not None]
    city = data["city"]
    out: list[Finding] = []

    if emerging:
        likely = sum(r["hit"]["p"] >= 0.5 for r in emerging)
        out.append(Finding(tr(
            lang,
            f"{'All' if likely == len(emerging) else f'{likely} of the'} {len(emerging)} emerging clusters are more likely "
            f"than not to grow at least "
            f"{pct(target, 0)} a year from {start} to {end}.",
            f"{len(emerging)} 个战略性新兴产业中，有 {likely} 个在 {start}–{end} 年实现年均增长不低于"
            f"{pct(target, 0, 'zh')}的概率过半。",
        ), {"likely": likely, "emerging": len(emerging)}))
        ranked = sorted(emerging, key=lambda r: r["hit"]["p"], reverse=True)
        for r, en_word, zh_word in ((ranked[0], "most", "最有可能"), (ranked[-1], "least", "最不可能")):
            hit, g = r["hit"], r["cagr"]
            out.append(Finding(tr(
                lang,
                f"{r['name_en']} is the emerging cluster {en_word} likely to reach the target: P = {hit['p']:.2f} "
                f"(95 % CI {hit['ci_low']:.2f}–{hit['ci_high']:.2f}), with median growth of {g['median']:.1f} % a year "
                f"(90 % of replicates between {g['p5']:.1f} % and {g['p95']:.1f} %).",
                f"{r['name_zh']}是{zh_word}达标的新兴产业：P = {hit['p']:.2f}（95% 置信区间 {hit['ci_low']:.2f}–"
                f"{hit['ci_high']:.2f}），年均增长中位数 {g['median']:.1f}%（90% 的重复介于 {g['p5']:.1f}% 与 "
                f"{g['p95']:.1f}% 之间）。",
            ), {"p": hit["p"], "ci_low": hit["ci_low"], "ci_high": hit["ci_high"], "median": g["median"],
                "p5": g["p5"], "p95": g["p95"], "cluster": r["cluster"]}))
            if len(ranked) == 1:
                break
    if city["cagr"]["median"] is not None:
        g = city["cagr"]
        out.append(Finding(tr(
            lang,
            f"City industry grows {g['median']:.1f} % a year (median; 90 % of replicates between {g['p5']:.1f} % and "
            f"{g['p95']:.1f} %), from {city['revenue_start_median']:,.0f} to {city['revenue_end_median']:,.0f} "
            f"100 million CNY (亿元) of above-scale revenue.",
            f"全市规模以上工业年均增长 {g['median']:.1f}%（中位数；90% 的重复介于 {g['p5']:.1f}% 与 {g['p95']:.1f}% "
            f"之间），营业收入由 {city['revenue_start_median']:,.0f} 亿元增至 {city['revenue_end_median']:,.0f} 亿元。",
        ), {"median": g["median"], "p5": g["p5"], "p95": g["p95"],
            "start": city["revenue_start_median"], "end": city["revenue_end_median"]}))
    if pillars:
        best = max(pillars, key=lambda r: r["cagr"]["median"])
        worst = min(pillars, key=lambda r: r["keeps_pace"]["p"])
        out.append(Finding(tr(
            lang,
            f"Among the pillars, {best['name_en']} grows fastest ({best['cagr']['median']:.1f} % a year, "
            f"{best['gap']['median']:+.1f} pp against city industry); {worst['name_en']} is the least likely to keep pace "
            f"(within {tolerance:g} pp of the city's growth): P = {worst['keeps_pace']['p']:.2f} "
            f"(95 % CI {worst['keeps_pace']['ci_low']:.2f}–{worst['keeps_pace']['ci_high']:.2f}).",
            f"支柱产业中，{best['name_zh']}增长最快（年均 {best['cagr']['median']:.1f}%，比全市工业高 "
            f"{best['gap']['median']:+.1f} 个百分点）；{worst['name_zh']}与全市工业同步增长（差距不超过 {tolerance:g} "
            f"个百分点）的可能性最低：P = {worst['keeps_pace']['p']:.2f}（95% 置信区间 "
            f"{worst['keeps_pace']['ci_low']:.2f}–{worst['keeps_pace']['ci_high']:.2f}）。",
        ), {"best_median": best["cagr"]["median"], "best_gap": best["gap"]["median"],
            "worst_p": worst["keeps_pace"]["p"], "worst_low": worst["keeps_pace"]["ci_low"],
            "worst_high": worst["keeps_pace"]["ci_high"], "best": best["cluster"], "worst": worst["cluster"]}))
    out.extend(_town_findings(results, lang))
    return out


def _town_findings(results: ResultsFolder, lang: str) -> list[Finding]:
    from simulation.datapack import towns
    from simulation.reporting.charts.towns import town_values

    try:
        growth = town_values(results, "growth")
        floor = town_values(results, "floor")
    except ResultsError:
        return []
    names = {t.town_id: (t.name_zh if lang == "zh" else t.name_en) for t in towns()}
    growth = {k: v for k, v in growth.items() if np.isfinite(v)}
    floor = {k: v for k, v in floor.items() if np.isfinite(v)}
    if not growth or not floor:
        return []
    fastest = max(growth, key=growth.get)
    most = max(floor, key=floor.get)
    return [Finding(tr(
        lang,
        f"By town, revenue grows fastest in {names[fastest]} ({growth[fastest]:.1f} % a year, median), and the most "
        f"new industrial floor space is delivered in {names[most]} ({floor[most] / 1e6:.2f} million m², median).",
        f"分镇街看，{names[fastest]}营业收入增长最快（年均 {growth[fastest]:.1f}%，中位数），{names[most]}新增交付产业"
        f"用房最多（{floor[most] / 1e4:,.0f} 万平方米，中位数）。",
    ), {"fastest": growth[fastest], "floor": floor[most], "fastest_town": fastest, "most_town": most})]


# --- tables ---------------------------------------------------------------------------------


def _num(x: Any, digits: int = 1) -> str:
    try:
        x = float(x)
    except (TypeError, ValueError):
        return "–"
    return "–" if not math.isfinite(x) else f"{x:,.{digits}f}"


def summary_tables(results: ResultsFolder, lang: str) -> list[tuple[str, list[str], list[list[str]]]]:
    """(caption, header, rows) of the emerging, pillar and city tables, formatted."""
    data = results.summary_data
    start, end = data["start_year"], data["end_year"]
    rows = data["clusters"]
    cagr_h = tr(lang, "CAGR, % a year: median [5–95 %]", "年均增长（%）：中位数 [5–95%]")
    rev0, rev1 = tr(lang, f"{start}, 亿元", f"{start} 年（亿元）"), tr(lang, f"{end}, 亿元", f"{end} 年（亿元）")
    name_h = tr(lang, "Cluster", "产业")

    def cagr(r: dict) -> str:
        g = r["cagr"]
        return f"{_num(g['median'])} [{_num(g['p5'])}, {_num(g['p95'])}]"

    def chance(block: dict | None) -> str:
        if not block or block.get("p") is None:
            return "–"
        return f"{block['p']:.2f} [{block['ci_low']:.2f}, {block['ci_high']:.2f}]"

    def nm(r: dict) -> str:
        return r["name_zh"] if lang == "zh" else r["name_en"]

    target = data["targets"]["emerging_cagr"]
    emerging = [[nm(r), _num(r["revenue_start_median"], 0), _num(r["revenue_end_median"], 0), cagr(r), chance(r.get("hit"))]
                for r in rows if r["kind"] == "emerging"]
    pillars = [[nm(r), _num(r["revenue_start_median"], 0), _num(r["revenue_end_median"], 0), cagr(r),
                f"{_num(r['gap']['median'])} [{_num(r['gap']['p5'])}, {_num(r['gap']['p95'])}]", chance(r.get("keeps_pace"))]
               for r in rows if r["kind"] == "pillar"]
    others = [[nm(r), _num(r["revenue_start_median"], 0), _num(r["revenue_end_median"], 0), cagr(r)]
              for r in [*[r for r in rows if r["kind"] == "other"], data["city"]]]
    return [
        (tr(lang, "Emerging clusters", "战略性新兴产业"),
         [name_h, rev0, rev1, cagr_h, tr(lang, f"P(CAGR ≥ {pct(target, 0)}) [95 % CI]", f"P(年均增长 ≥ {pct(target, 0, 'zh')}) [95% 置信区间]")],
         emerging),
        (tr(lang, "Pillar clusters", "支柱产业"),
         [name_h, rev0, rev1, cagr_h, tr(lang, "Gap to city, pp [5–95 %]", "与全市差距（百分点）[5–95%]"),
          tr(lang, "P(keeps pace) [95 % CI]", "P(同步增长) [95% 置信区间]")],
         pillars),
        (tr(lang, "Other industry and the city", "其他工业与全市"), [name_h, rev0, rev1, cagr_h], others),
    ]


# --- writing --------------------------------------------------------------------------------


def _clean_svg(svg: str) -> str:
    """An SVG document as an element to inline in HTML (no XML declaration, no DOCTYPE)."""
    svg = re.sub(r"<\?xml[^>]*\?>\s*", "", svg)
    svg = re.sub(r"<!DOCTYPE[^>]*>\s*", "", svg)
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    return svg.strip()


@dataclass
class Report:
    html: Path
    markdown: Path
    findings: list[Finding]
    charts: list[str]


def _manifest_rows(results: ResultsFolder, lang: str) -> list[tuple[str, str]]:
    m = results.manifest
    sc = m.get("scenario", {})
    git = m.get("git", {})
    versions = m.get("versions", {})
    return [
        (tr(lang, "Scenario", "情景"), f"{sc.get('name', '')} ({sc.get('path', '')})"),
        (tr(lang, "Scenario hash", "情景哈希"), str(sc.get("sha256", ""))),
        (tr(lang, "Overrides", "覆盖参数"), ", ".join(sc.get("overrides", [])) or "–"),
        (tr(lang, "Root seed", "随机种子"), str(m.get("root_seed", ""))),
        (tr(lang, "Replicates", "重复次数"), str(m.get("replicates", ""))),
        (tr(lang, "Run", "运行时间"), f"{m.get('started', '')} → {m.get('ended', '')}"),
        (tr(lang, "Wall time", "耗时"), f"{m.get('wall_time_seconds', '')} s"),
        (tr(lang, "Command", "命令"), str(m.get("command", ""))),
        (tr(lang, "Code", "代码版本"), f"{git.get('commit', '')}{' (modified)' if git.get('dirty') is True else ''}"),
        (tr(lang, "Versions", "软件版本"), ", ".join(f"{k} {v}" for k, v in versions.items())),
    ]


def write_report(folder: str | Path, out: str | Path | None = None, lang: str = "en") -> Report:
    """Write ``report.<lang>.html`` and ``report.<lang>.md`` (default: into ``folder/report``)."""
    results = ResultsFolder(folder)
    if not results.is_run or not results.has_summary:
        raise ResultsError(f"{results.path} is not a run's results folder with a summary (summary.json, manifest.json)")
    out = Path(out) if out is not None else results.path / "report"
    out.mkdir(parents=True, exist_ok=True)
    written = write_charts(Inputs(runs=[results]), out / "figures", [lang], ["png"], keep_svg=True)
    found = findings(results, lang)
    tables = summary_tables(results, lang)
    name = scenario_label(results.scenario_name, lang)
    title = tr(lang, f"Dongguan industrial clusters under 东府〔2021〕10号: scenario {name}",
               f"东府〔2021〕10号下的东莞产业集群：{name}情景")
    description = results.manifest.get("scenario", {}).get("description", "")
    meta = tr(lang, f"{results.replicates} replicates, root seed {results.root_seed}, run {results.date}.",
              f"{results.replicates} 次重复，随机种子 {results.root_seed}，运行于 {results.date}。")
    charts = [key for key in written.files]  # (name, lang) in chart order
    headings = {
        "findings": tr(lang, "Key findings", "主要发现"),
        "charts": tr(lang, "Charts", "图表"),
        "tables": tr(lang, "Summary tables", "汇总表"),
        "assumptions": tr(lang, "Assumptions: the scenario as run", "假设：本次运行的情景设定"),
        "manifest": tr(lang, "Provenance: the run's manifest", "来源：运行清单"),
        "notes": tr(lang, "Revenue: above-scale operating revenue, 100 million CNY (亿元) a year, medians across "
                          "replicates. CAGR: compound annual growth from the start to the end year. P: share of replicates "
                          "meeting a target, with its Wilson 95 % confidence interval.",
                    "营业收入：规模以上企业营业收入（亿元/年），为各重复的中位数。年均增长：起止年间的复合年均增长率。"
                    "P：达标重复所占比例及其 Wilson 95% 置信区间。"),
        "full": tr(lang, "Full manifest (JSON)", "完整清单（JSON）"),
    }
    html_path = out / f"report.{lang}.html"
    md_path = out / f"report.{lang}.md"
    html_path.write_text(_html(title, description, meta, found, charts, written, tables, results, lang, headings),
                         encoding="utf-8")
    md_path.write_text(_markdown(title, description, meta, found, charts, written, tables, results, lang, headings, out),
                       encoding="utf-8")
    return Report(html_path, md_path, found, [n for n, _ in charts])


def _font_face(text: str) -> str:
    """An @font-face with the CJK font cut down to the characters of ``text``, as a data: URL.

    The report then looks the same on every machine, with or without Chinese fonts installed,
    and still loads nothing. Empty when the font (or fontTools) is not available.
    """
    import base64
    import io

    from simulation.reporting.charts.fonts import FontError, cjk_font_path

    try:
        from fontTools import subset
        from fontTools.ttLib import TTFont

        path = cjk_font_path()
    except (ImportError, FontError):
        return ""
    if path is None:
        return ""
    options = subset.Options()
    options.layout_features = ["*"]
    options.notdef_outline = True
    font = TTFont(str(path), lazy=True)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(set(text) | set("0123456789–—·…"))))
    subsetter.subset(font)
    buffer = io.BytesIO()
    font.save(buffer)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'@font-face {{ font-family: "{FONT_FAMILY}"; src: url(data:font/otf;base64,{data}) format("opentype"); }}\n'


def _html(title, description, meta, found, charts, written, tables, results, lang, h) -> str:
    e = html.escape
    body_text = " ".join([title, description, meta, *(f.text for f in found), *h.values(), results.scenario_text,
                          json.dumps(results.manifest, ensure_ascii=False),
                          *(written.captions.get(k, "") for k in charts),
                          *(c for caption, header, rows in tables for c in [caption, *header, *sum(rows, [])]),
                          *(k + v for k, v in _manifest_rows(results, lang))])
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}</title>",
        f"<style>{_font_face(body_text)}{STYLE}</style>",
        "</head>",
        "<body>",
        "<main>",
        f"<h1>{e(title)}</h1>",
        f'<p class="lede">{e(description)}</p>' if description else "",
        f'<p class="meta">{e(meta)}</p>',
        f'<section id="findings"><h2>{e(h["findings"])}</h2><ul class="findings">',
        *[f"<li>{e(f.text)}</li>" for f in found],
        "</ul></section>",
        f'<section id="charts"><h2>{e(h["charts"])}</h2>',
    ]
    for key in charts:
        parts.append(f'<figure id="chart-{e(key[0])}">{_clean_svg(written.svg[key])}'
                     f"<figcaption>{e(written.captions.get(key, ''))}</figcaption></figure>")
    parts.append("</section>")
    parts.append(f'<section id="tables"><h2>{e(h["tables"])}</h2>')
    for caption, header, rows in tables:
        parts.append(f"<table><caption>{e(caption)}</caption><thead><tr>")
        parts.extend(f"<th>{e(c)}</th>" for c in header)
        parts.append("</tr></thead><tbody>")
        for row in rows:
            parts.append("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>")
        parts.append("</tbody></table>")
    parts.append(f'<p class="note">{e(h["notes"])}</p></section>')
    parts.append(f'<section id="assumptions"><h2>{e(h["assumptions"])}</h2><pre>{e(results.scenario_text)}</pre></section>')
    parts.append(f'<section id="manifest"><h2>{e(h["manifest"])}</h2><table class="kv"><tbody>')
    for k, v in _manifest_rows(results, lang):
        parts.append(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>")
    parts.append(f"</tbody></table><details><summary>{e(h['full'])}</summary><pre>"
                 f"{e(json.dumps(results.manifest, indent=2, ensure_ascii=False))}</pre></details></section>")
    parts += ["</main>", "</body>", "</html>", ""]
    return "\n".join(p for p in parts if p != "")


def _markdown(title, description, meta, found, charts, written, tables, results, lang, h, out: Path) -> str:
    lines = [f"# {title}", ""]
    if description:
        lines += [description, ""]
    lines += [meta, "", f"## {h['findings']}", ""]
    lines += [f"- {f.text}" for f in found]
    lines += ["", f"## {h['charts']}", ""]
    for key in charts:
        png = [p for p in written.files[key] if p.suffix == ".png"][0]
        lines += [f"![{written.titles.get(key, key[0])}]({png.relative_to(out).as_posix()})", ""]
    lines += [f"## {h['tables']}", ""]
    for caption, header, rows in tables:
        lines += [f"**{caption}**", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
        lines += [""]
    lines += [h["notes"], "", f"## {h['assumptions']}", "", "```toml", results.scenario_text.rstrip(), "```", "",
              f"## {h['manifest']}", ""]
    lines += [f"- **{k}**: {v}" for k, v in _manifest_rows(results, lang)]
    lines += ["", "```json", json.dumps(results.manifest, indent=2, ensure_ascii=False), "```", ""]
    return "\n".join(lines)


STYLE = """
:root { color-scheme: light; }
body { margin: 0; background: #fff; color: #1a1a1a;
  font-family: "Report Sans", "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", system-ui, sans-serif;
  line-height: 1.5; }
main { max-width: 60rem; margin: 0 auto; padding: 2rem 1.25rem 4rem; }
h1 { font-size: 1.6rem; line-height: 1.25; margin: 0 0 .5rem; }
h2 { font-size: 1.2rem; margin: 2.2rem 0 .8rem; border-bottom: 1px solid #ddd; padding-bottom: .25rem; }
.lede { font-size: 1.05rem; color: #333; margin: 0 0 .25rem; }
.meta, .note, figcaption { color: #595959; font-size: .9rem; }
ul.findings li { margin: .35rem 0; }
figure { margin: 1.5rem 0; }
figure svg { width: 100%; height: auto; display: block; }
table { border-collapse: collapse; margin: 1rem 0; font-size: .9rem; width: 100%; }
caption { text-align: left; font-weight: 600; margin-bottom: .3rem; }
th, td { padding: .3rem .5rem; border-bottom: 1px solid #e5e5e5; text-align: right; vertical-align: top; }
th:first-child, td:first-child { text-align: left; }
table.kv th { text-align: left; width: 12rem; font-weight: 600; }
table.kv td { text-align: left; word-break: break-all; }
pre { background: #f6f6f6; padding: .8rem; overflow-x: auto; font-size: .8rem; line-height: 1.35; }
details summary { cursor: pointer; color: #0072B2; margin: .5rem 0; }
"""
