"""A briefing report: one self-contained HTML file, and Markdown beside it, from a results folder.

Read top to bottom as a briefing: key findings (:mod:`simulation.reporting.findings`), what
the policy adds (from a ``simulate compare`` folder, or a run's ``counterfactual`` block), the
charts (each once), the summary tables, the public cost (when the results carry it), the
levers as run in the reader's language, limitations and validation (the scorecard and the
backtest, when given), and a short provenance (scenario and its hash, root seed, code).

The HTML file needs nothing else: styles are inline, charts are inline SVG (text as paths),
text uses a subset of the CJK font embedded as a data: URL, there is no script, and a
Content-Security-Policy forbids loading anything, so it opens offline and makes no request.
The Markdown file links the charts as PNG files in ``figures/<lang>/`` beside it. Charts that
``simulate chart`` already wrote for the same results and code are reused, not drawn again.

Everything comes from the results folder's files, never from the model.
"""

from __future__ import annotations

import html
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from simulation.reporting import cost_effectiveness, labels, wording
from simulation.reporting.charts import Inputs
from simulation.reporting.charts.layout import scenario_tag
from simulation.reporting.charts.render import Written, reuse, write_charts
from simulation.reporting.charts.style import tr
from simulation.reporting.findings import Finding, findings, policy_findings
from simulation.reporting.report_tables import (
    Table, backtest_table, cost_table, effects_table, lever_tables, provenance_rows, summary_tables, validation_table,
)  # fmt: skip
from simulation.reporting.results_folder import ResultsError, ResultsFolder

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:"
FONT_FAMILY = "Report Sans"
#: The kinds of chart a report shows, and the charts it shows of them (each chart once).
KINDS = ("fan", "target_probability", "pillars_vs_city", "towns", "scenario_comparison", "paired_differences")
RUN_CHARTS = ("fan_emerging", "target_probability", "pillars_vs_city", "towns_growth", "towns_floor")
POLICY_CHARTS = ("paired_differences", "scenario_comparison")
SCORECARD = "scorecard.csv"


@dataclass
class Report:
    html: Path
    markdown: Path
    findings: list[Finding]
    charts: list[str]
    reused: bool = False


@dataclass
class Briefing:
    """Everything a report says, in one language, before it is written as HTML or Markdown."""

    title: str
    lede: str
    meta: str
    findings: list[Finding]
    policy: list[Finding] = field(default_factory=list)
    policy_table: Table | None = None
    tables: list[Table] = field(default_factory=list)
    cost: Table | None = None
    money: Table | None = None
    levers: list[Table] = field(default_factory=list)
    limits: list[str] = field(default_factory=list)
    validation: list[Table] = field(default_factory=list)
    validation_note: str = ""
    provenance: list[tuple[str, str]] = field(default_factory=list)
    run_charts: list[tuple[str, str]] = field(default_factory=list)
    policy_charts: list[tuple[str, str]] = field(default_factory=list)


# --- inputs and charts ----------------------------------------------------------------------


def report_inputs(folder: str | Path) -> tuple[Inputs, ResultsFolder]:
    """The chart inputs of a report, and the run it is about (a comparison: its scenario A)."""
    r = ResultsFolder(folder)
    if r.is_comparison:
        runs = [ResultsFolder(r.path / sub) for sub in r.comparison["folders"].values()]
        if not runs or not runs[0].has_summary:
            raise ResultsError(f"{r.path}: the comparison's scenario folders lack their summaries")
        return Inputs(runs=runs, comparison=r, focus_run=runs[0], fan_singles=False), runs[0]
    if not r.is_run or not r.has_summary:
        raise ResultsError(f"{r.path} is not a run's results folder with a summary (summary.json, manifest.json) "
                           "nor a `simulate compare` folder")
    return Inputs(runs=[r], focus_run=r, fan_singles=False), r


def report_charts(inputs: Inputs, folder: Path, out: Path, lang: str) -> tuple[Written, bool]:
    """The report's charts: those `simulate chart` already wrote for the same inputs, else drawn now."""
    figures = out / "figures"
    for place in (folder / "charts", figures):
        found = reuse(inputs, place, [lang], KINDS, need=("svg", "png"))
        if found is not None:
            if place != figures:  # the Markdown links PNGs beside it: copy them
                for key, files in found.files.items():
                    png = [p for p in files if p.suffix == ".png"][0]
                    target = figures / lang / png.name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(png, target)
                    found.files[key] = [target, *[p for p in files if p.suffix != ".png"]]
            return found, True
    return write_charts(inputs, figures, [lang], ["png", "svg"], only=KINDS, keep_svg=True), False


# --- the briefing ---------------------------------------------------------------------------


def _limits(inputs: Inputs, run: ResultsFolder, lang: str, b_name: str | None) -> list[str]:
    data = run.summary_data
    parameter = any(r.get("hit", {}).get("parameter_low") is not None for r in data["clusters"])
    out = [tr(lang,
              "P is the share of model runs in which a cluster meets its target. Its Monte-Carlo interval says how "
              "precisely the runs pin that share down; more runs narrow it. It does not widen for what the model "
              "leaves out." + (" Intervals marked “incl. parameter uncertainty” also carry the uncertainty of the "
                               "model's fitted parameters." if parameter else ""),
              "P 为达标模拟所占比例。蒙特卡洛置信区间反映模拟次数对该比例的估计精度，模拟越多越窄；"
              "它不包含模型未考虑的因素。" + ("标注“含参数不确定性”的区间还包含模型拟合参数的不确定性。" if parameter else "")),
           tr(lang,
              "Each run draws its starting point (2020 revenue and firm counts), market growth and firm behaviour from "
              "the ranges in the scenario file. Ranges graded ASSUMPTION in the data pack are judgement, not "
              "measurement (docs/ODD.md gives each one's source).",
              "每次模拟从情景文件给定的区间中抽取起点（2020 年营业收入和企业数）、市场增长和企业行为参数。"
              "数据包中标为 ASSUMPTION 的区间是判断而非测量（各项来源见 docs/ODD.md）。"),
           tr(lang,
              "Revenue is the nominal above-scale operating revenue of the modelled firms. Published growth figures are "
              "real value added on a comparable-firm basis, so they are not directly comparable.",
              "营业收入为模拟企业的名义规模以上营业收入；统计公报的增速为同口径可比价增加值，二者不能直接比较。"),
           tr(lang, "The town maps are schematic: one tile per town, not geography.",
              "镇街图为示意图：每个镇街一格，不代表实际地理位置。")]
    if b_name == "no_policy":
        out.append(tr(lang, "“No policy” switches every lever off, including programmes that existed before 2021, so "
                            "it overstates what the 2021 policy itself adds.",
                      "“无政策”情景关闭全部政策工具，包括 2021 年前已有的政策，因此会高估 2021 年政策本身的作用。"))
    return out


def briefing(inputs: Inputs, run: ResultsFolder, written: Written, lang: str, scorecard: Path | None = None) -> Briefing:
    from simulation.reporting.charts.paired import effects
    from simulation.reporting.charts import NotApplicable

    data = run.summary_data
    names = [r.scenario_name for r in inputs.runs] if inputs.comparison is not None else [run.scenario_name]
    title = tr(lang, f"Dongguan's industrial clusters under 东府〔2021〕10号: {scenario_tag(names, 'en')}",
               f"东府〔2021〕10号下的东莞产业集群：{scenario_tag(names, 'zh')}")
    what = labels.scenario_what(run.scenario_name, lang) or run.manifest.get("scenario", {}).get("description", "")
    lede = tr(lang, f"{labels.scenario(run.scenario_name, 'en')}: {what}." if what else "",
              f"{labels.scenario(run.scenario_name, 'zh')}：{what}。" if what else "")
    meta = tr(lang, f"{run.replicates} model runs, {data['start_year']}–{data['end_year']}, run on {run.date}.",
              f"{run.replicates} 次模拟，{data['start_year']}–{data['end_year']} 年，运行于 {run.date}。")
    b = Briefing(title, lede, meta, findings(run, lang))
    b_name = None
    try:
        table, a_name, b_name, _, _ = effects(inputs)
    except NotApplicable:
        table = None
    if table is not None and len(table):
        b.policy = policy_findings(table, a_name, b_name, lang)
        b.policy_table = effects_table(table, a_name, b_name, lang)
        b.findings = [*b.findings[:1], *b.policy[:1], *b.findings[1:]]
    b.tables = summary_tables(run, lang)
    b.cost = cost_table(run, lang)
    money = cost_effectiveness.table(data, lang)
    b.money = Table(*money) if money else None
    b.levers = lever_tables(run, lang)
    b.limits = _limits(inputs, run, lang, b_name)
    card = validation_table(scorecard, lang)
    backtest = backtest_table(run, lang)
    b.validation = [t for t in (card, backtest) if t is not None]
    if card is None:
        b.validation_note = tr(lang, "No validation scorecard came with these results: `simulate validate` scores the "
                                     "scenario against stylised facts of firm dynamics and 2021 data (docs/VALIDATION.md); "
                                     "give its folder to `simulate report --validation`.",
                               "本结果未附验证记分卡：`simulate validate` 将情景与企业动态的典型事实和 2021 年数据"
                               "对照打分（见 docs/VALIDATION.md），可用 `simulate report --validation` 指定其结果目录。")
    b.provenance = provenance_rows(run, lang)
    keys = [k for k in written.files if k[1] == lang]
    b.run_charts = [k for k in keys if k[0] in RUN_CHARTS]
    b.policy_charts = [k for k in keys if k[0] in POLICY_CHARTS]
    return b


def write_report(folder: str | Path, out: str | Path | None = None, lang: str = "en",
                 validation: str | Path | None = None) -> Report:
    """Write ``report.<lang>.html`` and ``report.<lang>.md`` (default: into ``folder/report``).

    ``validation`` is a scorecard.csv or a `simulate validate` folder; without it, a scorecard.csv
    in the results folder is used if there is one.
    """
    inputs, run = report_inputs(folder)
    folder = Path(folder)
    out = Path(out) if out is not None else folder / "report"
    out.mkdir(parents=True, exist_ok=True)
    scorecard = _scorecard(folder, validation)
    written, reused = report_charts(inputs, folder, out, lang)
    b = briefing(inputs, run, written, lang, scorecard)
    html_path = out / f"report.{lang}.html"
    md_path = out / f"report.{lang}.md"
    html_path.write_text(_html(b, written, lang), encoding="utf-8")
    md_path.write_text(_markdown(b, written, lang, out), encoding="utf-8")
    return Report(html_path, md_path, b.findings, [n for n, _ in b.policy_charts + b.run_charts], reused)


def _scorecard(folder: Path, validation: str | Path | None) -> Path | None:
    if validation is not None:
        path = Path(validation)
        path = path / SCORECARD if path.is_dir() else path
        if not path.is_file():
            raise ResultsError(f"{validation}: no {SCORECARD} there (give a `simulate validate` folder or its {SCORECARD})")
        return path
    return folder / SCORECARD if (folder / SCORECARD).is_file() else None


# --- HTML -----------------------------------------------------------------------------------


def _clean_svg(svg: str) -> str:
    """An SVG document as an element to inline in HTML (no XML declaration, no DOCTYPE)."""
    svg = re.sub(r"<\?xml[^>]*\?>\s*", "", svg)
    svg = re.sub(r"<!DOCTYPE[^>]*>\s*", "", svg)
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    return svg.strip()


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


def _headings(lang: str) -> dict[str, str]:
    return {
        "findings": tr(lang, "Key findings", "主要发现"),
        "policy": tr(lang, "What the policy adds", "政策带来的变化"),
        "charts": tr(lang, "Charts", "图表"),
        "tables": tr(lang, "Summary tables", "汇总表"),
        "cost": tr(lang, "Public cost", "财政成本"),
        "levers": tr(lang, "The levers as run", "本次运行的政策设定"),
        "limits": tr(lang, "Limitations and validation", "局限与验证"),
        "provenance": tr(lang, "Provenance", "来源"),
        "notes": tr(lang, "Revenue: above-scale operating revenue, medians across model runs (billion CNY). Growth: "
                          "compound annual growth from the start to the end year. P: share of model runs meeting a "
                          "target, with its Monte-Carlo 95 % confidence interval; “in words” follows that interval.",
                    "营业收入：规模以上企业营业收入，为各次模拟的中位数（亿元）。年均增长：起止年间的复合年均增长率。"
                    "P：达标模拟所占比例及其蒙特卡洛 95% 置信区间；“判断”依据该区间给出。"),
    }


def _table_html(t: Table, kind: str = "") -> list[str]:
    e = html.escape
    parts = [f"<table{f' class={chr(34)}{kind}{chr(34)}' if kind else ''}><caption>{e(t.caption)}</caption><thead><tr>",
             *[f"<th>{e(c)}</th>" for c in t.header],
             "</tr></thead><tbody>"]
    for row in t.rows:
        parts.append("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>")
    parts.append("</tbody></table>")
    if t.note:
        parts.append(f'<p class="note">{e(t.note)}</p>')
    return parts


def _figure_html(written: Written, key: tuple[str, str]) -> str:
    """A chart inline, at its printed proportions: single-column charts half as wide as double ones."""
    e = html.escape
    svg = _clean_svg(written.svg[key])
    m = re.search(r'<svg[^>]*\swidth="([\d.]+)pt"', svg)
    single = m is not None and float(m.group(1)) < 300  # 8.5 cm = 241 pt; 17.5 cm = 496 pt
    return (f'<figure id="chart-{e(key[0])}" class="{"single" if single else "double"}">{svg}'
            f"<figcaption>{e(written.captions.get(key, ''))}</figcaption></figure>")


def _all_text(b: Briefing, written: Written, h: dict[str, str]) -> str:
    texts = [b.title, b.lede, b.meta, *(f.text for f in b.findings + b.policy), *h.values(), *b.limits,
             b.validation_note, *(written.captions.get(k, "") for k in b.run_charts + b.policy_charts)]
    for t in [*b.tables, *b.levers, *b.validation, *(x for x in (b.cost, b.money, b.policy_table) if x)]:
        texts += [t.caption, t.note, *t.header, *(c for row in t.rows for c in row)]
    texts += [k + v for k, v in b.provenance]
    return " ".join(texts)


def _html(b: Briefing, written: Written, lang: str) -> str:
    e = html.escape
    h = _headings(lang)
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(b.title)}</title>",
        f"<style>{_font_face(_all_text(b, written, h))}{STYLE}</style>",
        "</head>",
        "<body>",
        "<main>",
        f"<h1>{e(b.title)}</h1>",
        f'<p class="lede">{e(b.lede)}</p>' if b.lede else "",
        f'<p class="meta">{e(b.meta)}</p>',
        f'<section id="findings"><h2>{e(h["findings"])}</h2><ul class="findings">',
        *[f"<li>{e(f.text)}</li>" for f in b.findings],
        "</ul></section>",
    ]
    if b.policy_table is not None:
        parts.append(f'<section id="policy"><h2>{e(h["policy"])}</h2>')
        parts += [f"<p>{e(f.text)}</p>" for f in b.policy]
        parts += [_figure_html(written, k) for k in b.policy_charts]
        parts += _table_html(b.policy_table)
        parts.append("</section>")
    parts.append(f'<section id="charts"><h2>{e(h["charts"])}</h2>')
    parts += [_figure_html(written, k) for k in b.run_charts]
    parts.append("</section>")
    parts.append(f'<section id="tables"><h2>{e(h["tables"])}</h2>')
    for t in b.tables:
        parts += _table_html(t)
    parts.append(f'<p class="note">{e(h["notes"])}</p></section>')
    if b.cost is not None:
        parts.append(f'<section id="cost"><h2>{e(h["cost"])}</h2>')
        for t in (b.cost, b.money):
            if t is not None:
                parts += _table_html(t)
        parts.append("</section>")
    parts.append(f'<section id="levers"><h2>{e(h["levers"])}</h2>')
    for t in b.levers:
        parts += _table_html(t, "settings")
    parts.append("</section>")
    parts.append(f'<section id="limits"><h2>{e(h["limits"])}</h2><ul>')
    parts += [f"<li>{e(x)}</li>" for x in b.limits]
    parts.append("</ul>")
    for t in b.validation:
        parts += _table_html(t)
    if b.validation_note:
        parts.append(f'<p class="note">{e(b.validation_note)}</p>')
    parts.append("</section>")
    parts.append(f'<section id="provenance"><h2>{e(h["provenance"])}</h2><table class="kv"><tbody>')
    parts += [f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in b.provenance]
    parts.append("</tbody></table></section>")
    parts += ["</main>", "</body>", "</html>", ""]
    return "\n".join(p for p in parts if p != "")


# --- Markdown -------------------------------------------------------------------------------


def _table_md(t: Table) -> list[str]:
    cell = lambda c: str(c).replace("|", "\\|")  # noqa: E731
    lines = [f"**{t.caption}**", "", "| " + " | ".join(map(cell, t.header)) + " |", "|" + "---|" * len(t.header)]
    lines += ["| " + " | ".join(map(cell, row)) + " |" for row in t.rows]
    return [*lines, "", *([t.note, ""] if t.note else [])]


def _markdown(b: Briefing, written: Written, lang: str, out: Path) -> str:
    h = _headings(lang)

    def figure(key: tuple[str, str]) -> list[str]:
        png = [p for p in written.files[key] if p.suffix == ".png"][0]
        return [f"![{written.titles.get(key, key[0])}]({png.relative_to(out).as_posix()})", ""]

    lines = [f"# {b.title}", ""]
    if b.lede:
        lines += [b.lede, ""]
    lines += [b.meta, "", f"## {h['findings']}", "", *[f"- {f.text}" for f in b.findings], ""]
    if b.policy_table is not None:
        lines += [f"## {h['policy']}", "", *[x for f in b.policy for x in (f.text, "")]]
        for key in b.policy_charts:
            lines += figure(key)
        lines += _table_md(b.policy_table)
    lines += [f"## {h['charts']}", ""]
    for key in b.run_charts:
        lines += figure(key)
    lines += [f"## {h['tables']}", ""]
    for t in b.tables:
        lines += _table_md(t)
    lines += [h["notes"], ""]
    if b.cost is not None:
        lines += [f"## {h['cost']}", "", *_table_md(b.cost), *(_table_md(b.money) if b.money else [])]
    lines += [f"## {h['levers']}", ""]
    for t in b.levers:
        lines += _table_md(t)
    lines += [f"## {h['limits']}", "", *[f"- {x}" for x in b.limits], ""]
    for t in b.validation:
        lines += _table_md(t)
    if b.validation_note:
        lines += [b.validation_note, ""]
    lines += [f"## {h['provenance']}", "", *[f"- **{k}**: {v}" for k, v in b.provenance], ""]
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
ul.findings li { margin: .45rem 0; }
figure { margin: 1.5rem 0; }
figure svg { width: 100%; height: auto; display: block; }
figure.single { max-width: 30rem; }
table { border-collapse: collapse; margin: 1rem 0 .4rem; font-size: .9rem; width: 100%; }
caption { text-align: left; font-weight: 600; margin-bottom: .3rem; }
th, td { padding: .3rem .5rem; border-bottom: 1px solid #e5e5e5; text-align: right; vertical-align: top; }
th:first-child, td:first-child { text-align: left; }
table.kv th { text-align: left; width: 14rem; font-weight: 600; }
table.kv td { text-align: left; word-break: break-all; }
table.settings th, table.settings td { text-align: left; }
table.settings td:first-child { width: 55%; }
"""
