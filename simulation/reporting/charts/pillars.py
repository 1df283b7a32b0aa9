"""Pillars against city industry, judged within each replicate.

A pillar "keeps pace" in a replicate when its growth 2020-2025 is at most
``targets.pillar_tolerance`` points below the city's industrial growth *in the same replicate*.
So the chart shows that gap, not the two growth rates side by side: per pillar (from
summary.json) the median gap (square) and the 5th-95th percentiles of the gap across
replicates (line); the dashed line at minus the tolerance is the threshold, and the share of
replicates right of it is P(keeps pace), printed on the right with its Monte-Carlo 95 % CI.
The gap axis is fixed across scenarios (:mod:`.scales`). Errorbar gid ``gaps`` (x in y-axis
order, top to bottom); the threshold line ``threshold``.
"""

from __future__ import annotations

import numpy as np

from simulation.reporting import labels, wording
from simulation.reporting.charts import Chart, Inputs, require_summary, summary_rows
from simulation.reporting.charts.layout import finish, new_figure, scenario_tag, source_line
from simulation.reporting.charts.style import KIND_COLOURS, KIND_MARKERS, MUTED, TARGET_COLOUR, TEXT, bold, sizes, tr


def keeps_pace(results, cluster: str) -> wording.Chance | None:
    for row in results.summary_data["clusters"]:
        if row["cluster"] == cluster:
            return wording.Chance.from_block(row.get("keeps_pace"))
    return None


def make(inputs: Inputs, lang: str) -> list[Chart]:
    results = require_summary(inputs.focus, "the pillars chart")
    pillars = summary_rows(results, "pillar")
    city = results.summary_data["city"]["cagr"]
    tolerance = float(results.summary_data["targets"]["pillar_tolerance"])
    n = len(pillars)
    s = sizes(lang)
    y = np.arange(n)[::-1].astype(float)
    fig, ax = new_figure("single", 1.7 + 0.85 * n)
    lo_lim, hi_lim = inputs.scales.gap_limits()
    ax.axvspan(lo_lim, -tolerance, color="#EFEFEF", lw=0, zorder=0)
    ax.axvline(0, color="#444444", lw=0.6, zorder=1)
    ax.axvline(-tolerance, color=TARGET_COLOUR, lw=0.9, ls=(0, (4, 2)), zorder=1, gid="threshold")
    med = pillars["gap_median"].to_numpy(float)
    lo, hi = pillars["gap_p5"].to_numpy(float), pillars["gap_p95"].to_numpy(float)
    ax.errorbar(med, y, xerr=np.vstack([med - lo, hi - med]), fmt=KIND_MARKERS["pillar"], color=KIND_COLOURS["pillar"],
                elinewidth=1.4, capsize=2, markersize=4.5, gid="gaps", zorder=3)
    ax.set_yticks(y, [labels.cluster(c, lang) for c in pillars.index])
    ax.set_ylim(-0.7, n - 0.1)
    span = hi_lim - lo_lim
    right = hi_lim + 0.42 * span
    ax.set_xlim(lo_lim, right)
    ticks = np.arange(lo_lim, hi_lim + 1e-9, 5.0)
    ax.set_xticks(ticks, [wording.signed(t, 0) if t else "0" for t in ticks])
    ax.spines["bottom"].set_bounds(lo_lim, hi_lim)
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0)
    ax.xaxis.grid(True)
    xtext = hi_lim + 0.05 * span
    ax.annotate(tr(lang, "P(keeps pace)", "P（同步增长）"), (xtext, y[0]), xytext=(0, 1.3 * s.base),
                textcoords="offset points", fontsize=s.small, color=MUTED, va="bottom")
    chances = {c: keeps_pace(results, c) for c in pillars.index}
    for yi, c in zip(y, pillars.index):
        ch = chances[c]
        if ch is None:
            continue
        ax.annotate(wording.prob(ch.p), (xtext, yi), xytext=(0, 0.55 * s.base), textcoords="offset points",
                    va="center", ha="left", fontsize=s.base, color=TEXT, path_effects=bold(TEXT))
        ax.annotate(f"{wording.prob(ch.low)}–{wording.prob(ch.high)}", (xtext, yi), xytext=(0, -0.6 * s.small),
                    textcoords="offset points", va="center", ha="left", fontsize=s.small, color=MUTED)
    ax.set_xlabel(tr(lang, "Pillar's growth minus city industry's, same model run, pp a year",
                     "支柱产业年均增速减全市工业增速（同一次模拟，百分点）"), x=0.5 * span / (right - lo_lim), ha="center")
    known = [(labels.cluster(c, lang), ch) for c, ch in chances.items() if ch is not None]
    question = tr(lang, f"Will the {wording.count(n, 'en')} pillars keep pace with city industry?",
                  f"{wording.count(n, 'zh')}大支柱产业能否与全市工业同步增长")
    title = wording.group_headline(known, question, lang)
    tag = scenario_tag([results.scenario_name], lang)
    subtitle = tr(
        lang,
        f"{tag}. Keeps pace: growth 2020–2025 at most {tolerance:g} pp a year below city industry's in the same "
        f"model run (dashed line). City industry grows {wording.pct(city['median'])} a year (median). Square and line: "
        f"median and middle 90 % of model runs; numbers: P with its {wording.interval_name('en')}",
        f"{tag}。同步增长：同一次模拟中，2020–2025 年均增速比全市工业低不超过 {tolerance:g} 个百分点（虚线）。"
        f"全市工业年均增长{wording.pct(city['median'], 'zh')}（中位数）。方块与横线：中位数及居中 90% 的模拟结果；"
        f"数字：P 及其{wording.interval_name('zh')}",
    )
    finish(fig, title, subtitle, source_line(results, lang), lang)
    caption = tr(lang, "How far each pillar's growth falls short of, or exceeds, city industry's.",
                 "各支柱产业增速与全市工业增速之差。")
    return [Chart("pillars_vs_city", fig, title, caption)]
