"""Target probability: P(CAGR >= 10 %) of each emerging cluster, with its intervals.

From summary.json: ``hit.p`` (dot) and its Monte-Carlo (Wilson) 95 % confidence interval
``ci_low`` - ``ci_high`` (thick line); where the summary also gives an interval that includes
parameter uncertainty (``parameter_low`` - ``parameter_high``) it is drawn as a thin, longer
line behind. One row per emerging cluster in the house order; the dashed line at 0.5
separates "more likely than not" from the rest. The title names the most and least likely
clusters only when their intervals set them apart (:func:`simulation.reporting.wording.leaders`).
The Monte-Carlo errorbar's gid is ``p_hit`` (data in y-axis order, top to bottom); the
parameter one's ``p_hit_parameter``.
"""

from __future__ import annotations

import numpy as np

from simulation.reporting import labels, wording
from simulation.reporting.charts import Chart, Inputs, require_summary
from simulation.reporting.charts.fan import chance
from simulation.reporting.charts.layout import finish, new_figure, scenario_tag, source_line
from simulation.reporting.charts.style import KIND_COLOURS, MUTED, TEXT, bold, sizes, tr


def extremes(chances: dict[str, wording.Chance], lang: str) -> tuple[list[str], list[str]]:
    """(the clusters tied for most likely, those tied for least likely), by their intervals."""
    top = wording.leaders({c: (p.p, *p.bounds) for c, p in chances.items()})
    bottom = wording.leaders({c: (-p.p, -p.bounds[1], -p.bounds[0]) for c, p in chances.items()})
    return top, bottom


def ranking_title(chances: dict[str, wording.Chance], goal_en: str, goal_zh: str, lang: str) -> str:
    """'A most likely to {goal} (P = 0.97), B least (0.59)': only as far as the intervals set them apart."""
    top, bottom = extremes(chances, lang)
    name = lambda cs: wording.join([labels.cluster(c, lang) for c in cs], lang)  # noqa: E731
    ps = lambda cs: ", ".join(wording.prob(chances[c].p) for c in cs)  # noqa: E731
    if len(top) == len(chances):
        return tr(lang, f"No emerging cluster is set apart: the intervals of all {wording.count(len(top), 'en')} overlap",
                  f"各新兴产业的区间相互重叠，无法排出先后")
    en = f"{name(top)} {'are' if len(top) > 1 else 'is'} most likely to {goal_en} (P = {ps(top)})"
    zh = f"{name(top)}最有可能{goal_zh}（P = {ps(top)}）"
    if len(bottom) < len(chances) and not set(bottom) & set(top):
        en += f"; {name(bottom)} least (P = {ps(bottom)})"
        zh += f"；{name(bottom)}可能性最低（P = {ps(bottom)}）"
    return tr(lang, en, zh)


def make(inputs: Inputs, lang: str) -> list[Chart]:
    from simulation.reporting.charts import summary_rows

    results = require_summary(inputs.focus, "the target-probability chart")
    rows = summary_rows(results, "emerging")
    target = float(results.summary_data["targets"]["emerging_cagr"])
    chances = {c: p for c in rows.index if (p := chance(results, c)) is not None}
    clusters = list(chances)
    n = len(clusters)
    y = np.arange(n)[::-1].astype(float)  # first row at the top
    p = np.array([chances[c].p for c in clusters])
    low, high = np.array([chances[c].low for c in clusters]), np.array([chances[c].high for c in clusters])
    s = sizes(lang)
    fig, ax = new_figure("single", 1.6 + 0.8 * n)
    colour = KIND_COLOURS["emerging"]
    ax.axvline(0.5, color=MUTED, lw=0.8, ls=(0, (3, 2)), gid="half", zorder=1)
    with_parameter = [c for c in clusters if chances[c].has_parameter_interval]
    if with_parameter:
        idx = [clusters.index(c) for c in with_parameter]
        plo = np.array([chances[c].parameter_low for c in with_parameter])
        phi = np.array([chances[c].parameter_high for c in with_parameter])
        ax.errorbar(p[idx], y[idx], xerr=np.vstack([p[idx] - plo, phi - p[idx]]), fmt="none", ecolor=colour,
                    alpha=0.45, elinewidth=0.8, capsize=0, gid="p_hit_parameter", zorder=2)
    ax.errorbar(p, y, xerr=np.vstack([p - low, high - p]), fmt="o", color=colour, ecolor=colour,
                elinewidth=1.6, capsize=2.5, markersize=4.5, gid="p_hit", zorder=3)
    ax.set_yticks(y, [labels.cluster(c, lang) for c in clusters])
    ax.set_ylim(-0.7, n - 0.2)
    ax.set_xlim(0, 1.36)
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.set_xticklabels(["0", "0.25", "0.5", "0.75", "1"])
    ax.spines["left"].set_visible(False)
    ax.spines["bottom"].set_bounds(0, 1)
    ax.tick_params(axis="y", length=0)
    ax.xaxis.grid(True)
    for yi, c in zip(y, clusters):
        ch = chances[c]
        ax.annotate(wording.prob(ch.p), (1.04, yi), xytext=(0, 0.55 * s.base), textcoords="offset points",
                    va="center", ha="left", fontsize=s.base, color=TEXT, path_effects=bold(TEXT))
        ax.annotate(f"{wording.prob(ch.low)}–{wording.prob(ch.high)}", (1.04, yi), xytext=(0, -0.6 * s.small),
                    textcoords="offset points", va="center", ha="left", fontsize=s.small, color=MUTED)
    ax.annotate("P", (1.04, y[0]), xytext=(0, 1.3 * s.base), textcoords="offset points", fontsize=s.small,
                color=MUTED, ha="left", va="bottom")
    ax.set_xlabel(tr(lang, f"P(growth ≥ {wording.pct(target, 'en', 0)} a year, 2020–2025)",
                     f"P（2020–2025 年均增长 ≥ {wording.pct(target, 'zh', 0)}）"), x=0.5 / 1.36, ha="center")
    title = ranking_title(chances, f"grow {wording.pct(target, 'en', 0)} a year",
                          f"实现年均增长{wording.pct(target, 'zh', 0)}", lang)
    tag = scenario_tag([results.scenario_name], lang)
    interval = wording.interval_name(lang)
    extra = tr(lang, "; thin line: 95 % interval incl. parameter uncertainty",
               "；细线：含参数不确定性的 95% 区间") if with_parameter else ""
    subtitle = tr(lang, f"{tag}. Share of model runs meeting the target; thick line and numbers: its {interval} "
                        f"(how precisely {results.replicates} runs pin it down){extra}",
                  f"{tag}。达标模拟所占比例；粗线及数字：{interval}（反映 {results.replicates} 次模拟的抽样精度）{extra}")
    finish(fig, title, subtitle, source_line(results, lang), lang)
    caption = tr(lang, "Probability that each emerging cluster meets the growth target.",
                 "各战略性新兴产业实现增长目标的概率。")
    return [Chart("target_probability", fig, title, caption)]
