"""Target probability: P(CAGR >= 10 %) of each emerging cluster, with its 95 % CI.

From summary.csv: ``p_hit`` (dot) and its Wilson 95 % confidence interval ``p_hit_low`` -
``p_hit_high`` (error bar), one row per emerging cluster, most likely at the top; the dashed
line at 0.5 separates "more likely than not" from the rest. The errorbar's gid is
``p_hit`` and its data are in the row order of the y axis (top to bottom).
"""

from __future__ import annotations

import numpy as np

from simulation.reporting.charts import Chart, Inputs, require_summary, summary_rows
from simulation.reporting.charts.style import KIND_COLOURS, MUTED, bold, finish, new_figure, pct, short_name, source_line, tr


def target_table(results) -> tuple:
    """Emerging rows sorted by p_hit (highest first) and the target CAGR."""
    rows = summary_rows(results, "emerging").sort_values("p_hit", ascending=False, kind="stable")
    return rows, float(results.summary_data["targets"]["emerging_cagr"])


def make(inputs: Inputs, lang: str) -> list[Chart]:
    results = require_summary(inputs.single, "the target-probability chart")
    rows, target = target_table(results)
    n = len(rows)
    y = np.arange(n)[::-1]  # first row at the top
    p = rows["p_hit"].to_numpy(float)
    low, high = rows["p_hit_low"].to_numpy(float), rows["p_hit_high"].to_numpy(float)
    fig, ax = new_figure("single", 2.6 + 0.75 * n)
    colour = KIND_COLOURS["emerging"]
    ax.axvline(0.5, color=MUTED, lw=0.8, ls=(0, (3, 2)), gid="half", zorder=1)
    ax.errorbar(p, y, xerr=np.vstack([p - low, high - p]), fmt="o", color=colour, ecolor=colour,
                elinewidth=1.4, capsize=2.5, markersize=4.5, gid="p_hit", zorder=3)
    labels = [short_name(c, row, lang) for c, row in rows.iterrows()]
    ax.set_yticks(y, labels)
    ax.set_ylim(-0.6, n - 0.4)
    ax.set_xlim(0, 1.27)
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0)
    ax.xaxis.grid(True)
    for yi, pi, lo, hi in zip(y, p, low, high):
        ax.text(1.03, yi + 0.08, f"{pi:.2f}", va="center", ha="left", fontsize=6.5, color="#222222", path_effects=bold("#222222"))
        ax.text(1.03, yi - 0.30, f"[{lo:.2f}, {hi:.2f}]", va="center", ha="left", fontsize=5.2, color=MUTED)
    ax.text(0.5, n - 0.45, tr(lang, " even odds", " 五五开"), fontsize=5.5, color=MUTED, ha="left", va="bottom")
    ax.spines["bottom"].set_bounds(0, 1)
    ax.set_xlabel(tr(lang, f"P(growth ≥ {pct(target, 0)} a year, 2020–2025)",
                     f"P(2020–2025 年均增长 ≥ {pct(target, 0, 'zh')})"), x=0.5 / 1.27, ha="center")
    best = rows.index[0]
    name = short_name(best, rows.loc[best], lang)
    title = tr(lang, f"{name} most likely to reach {pct(target, 0)} a year: P = {p[0]:.2f}",
               f"{name}最有可能实现年均增长{pct(target, 0, 'zh')}：P = {p[0]:.2f}")
    subtitle = tr(lang, "Share of replicates meeting the target, with 95 % confidence intervals (Wilson)",
                  "达标重复所占比例及 95% 置信区间（Wilson）")
    finish(fig, title, subtitle, source_line(results, lang))
    caption = tr(lang, "Probability that each emerging cluster meets the growth target.",
                 "各战略性新兴产业实现增长目标的概率。")
    return [Chart("target_probability", fig, title, caption)]
