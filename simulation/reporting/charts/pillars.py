"""Pillars against city industry: each pillar's CAGR 2020-2025 beside the city's.

From summary.csv: per pillar the median CAGR (square) and its 90 % interval across
replicates (5th-95th percentiles, line); the city's industrial CAGR as a black diamond with
its interval, its median as a vertical line, and the grey band below it is the tolerance
(``targets.pillar_tolerance``) within which a pillar still "keeps pace". On the right,
P(keeps pace) per pillar. The errorbars have gids ``pillars`` and ``city``; the vertical line
``city_median``.
"""

from __future__ import annotations

import numpy as np

from simulation.reporting.charts import Chart, Inputs, require_summary, summary_rows
from simulation.reporting.charts.style import (
    KIND_COLOURS, KIND_MARKERS, MUTED, bold, finish, new_figure, pct, short_name, source_line, tr,
)  # fmt: skip


def make(inputs: Inputs, lang: str) -> list[Chart]:
    results = require_summary(inputs.single, "the pillars chart")
    pillars = summary_rows(results, "pillar")
    city = results.summary.loc["city"]
    tolerance = float(results.summary_data["targets"]["pillar_tolerance"])
    n = len(pillars)
    y = np.arange(n + 1)[::-1]  # pillars from the top, the city last
    fig, ax = new_figure("single", 3.0 + 0.7 * (n + 1))
    cm = float(city["cagr_median"])
    ax.axvspan(cm - tolerance, cm, color="#E6E6E6", lw=0, zorder=0, gid="tolerance")
    ax.axvline(cm, color=KIND_COLOURS["city"], lw=0.8, ls=(0, (3, 2)), zorder=1, gid="city_median")
    med = pillars["cagr_median"].to_numpy(float)
    lo, hi = pillars["cagr_p5"].to_numpy(float), pillars["cagr_p95"].to_numpy(float)
    ax.errorbar(med, y[:n], xerr=np.vstack([med - lo, hi - med]), fmt=KIND_MARKERS["pillar"],
                color=KIND_COLOURS["pillar"], elinewidth=1.3, capsize=2, markersize=4.5, gid="pillars", zorder=3)
    ax.errorbar([cm], [y[n]], xerr=[[cm - city["cagr_p5"]], [city["cagr_p95"] - cm]], fmt=KIND_MARKERS["city"],
                color=KIND_COLOURS["city"], elinewidth=1.3, capsize=2, markersize=4, gid="city", zorder=3)
    labels = [short_name(c, row, lang) for c, row in pillars.iterrows()] + [short_name("city", city, lang)]
    ax.set_yticks(y, labels)
    for tick, colour in zip(ax.get_yticklabels(), [KIND_COLOURS["pillar"]] * n + [KIND_COLOURS["city"]]):
        tick.set_color(colour)
    ax.set_ylim(-0.6, n + 0.6)
    xmin = min(np.nanmin(lo), float(city["cagr_p5"]), cm - tolerance)
    xmax = max(np.nanmax(hi), float(city["cagr_p95"]))
    span = xmax - xmin
    right = xmax + 0.36 * span
    ax.set_xlim(xmin - 0.05 * span, right)
    ticks = [t for t in ax.get_xticks() if xmin - 0.05 * span <= t <= xmax + 0.02 * span]
    ax.set_xticks(ticks)
    ax.spines["bottom"].set_bounds(xmin - 0.05 * span, ticks[-1] if ticks else xmax)
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0)
    ax.xaxis.grid(True)
    xtext = xmax + 0.06 * span
    ax.text(xtext, n + 0.45, tr(lang, "P(keeps pace)", "P(同步增长)"), fontsize=5.5, color=MUTED, va="bottom")
    keep = pillars["p_keeps_pace"].to_numpy(float)
    for yi, pk in zip(y[:n], keep):
        ax.text(xtext, yi, f"{pk:.2f}", va="center", ha="left", fontsize=6.5, color="#222222", path_effects=bold("#222222"))
    ax.set_xlabel(tr(lang, "Revenue growth 2020–2025, % a year", "2020–2025 年营业收入年均增长（%）"),
                  x=(xmax - xmin + 0.05 * span) / 2 / (right - xmin + 0.05 * span))
    keeping = int((keep >= 0.5).sum())
    best = pillars.index[int(np.nanargmax(med))]
    best_name = short_name(best, pillars.loc[best], lang)
    title = tr(
        lang,
        f"{'All' if keeping == n else f'{keeping} of'} {n} pillars more likely than not to keep pace with city "
        f"industry ({pct(cm)} a year); {best_name} fastest ({pct(float(pillars.loc[best, 'cagr_median']))})",
        f"{n} 个支柱产业中有 {keeping} 个与全市工业同步增长（年均{pct(cm, 1, 'zh')}）的概率过半；"
        f"{best_name}增长最快（{pct(float(pillars.loc[best, 'cagr_median']), 1, 'zh')}）",
    )
    subtitle = tr(
        lang,
        f"Median and 90 % of replicates. Keeps pace: growth at most {tolerance:g} pp below the city's in the "
        f"same replicate; grey band: {tolerance:g} pp below the city's median",
        f"中位数及 90% 重复区间。同步增长：同一重复中年均增速比全市工业低不超过 {tolerance:g} 个百分点；"
        f"灰带：全市中位数以下 {tolerance:g} 个百分点以内",
    )
    finish(fig, title, subtitle, source_line(results, lang))
    caption = tr(lang, "Growth of the four pillar clusters against city industry.", "四大支柱产业与全市工业增长对比。")
    return [Chart("pillars_vs_city", fig, title, caption)]
