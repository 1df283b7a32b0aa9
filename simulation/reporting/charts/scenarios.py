"""Scenario comparison: each cluster's chance of meeting its target, across scenarios (dot plot).

From each results folder's summary.csv: for the emerging clusters P(CAGR >= 10 %) (left
panel), for the pillars P(keeps pace with city industry) (right panel), each with its Wilson
95 % CI; one colour and marker per scenario, in the order the folders were given (for a
``simulate compare`` folder: A then B). Made from two or more results folders
(``simulate chart A B C``) or from a comparison folder.

Errorbars have gids ``<scenario index>:emerging`` and ``<scenario index>:pillar``; their x data
are the probabilities in the row order of each panel's y axis (top to bottom).
"""

from __future__ import annotations

import numpy as np

from simulation.reporting.charts import Chart, Inputs, NotApplicable, summary_rows
from simulation.reporting.charts.style import (
    KIND_COLOURS, MUTED, finish, new_figure, pct, scenario_label, scenario_style, short_name, source_line, tr,
)  # fmt: skip

PANELS = (("emerging", "p_hit"), ("pillar", "p_keeps_pace"))


def scenario_names(runs) -> list[str]:
    """Scenario names, made unique with #2, #3 where two folders ran the same scenario."""
    names, seen = [], {}
    for r in runs:
        name = r.scenario_name
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name} #{seen[name]}")
    return names


def make(inputs: Inputs, lang: str) -> list[Chart]:
    runs = inputs.runs
    if len(runs) < 2:
        raise NotApplicable("the scenario comparison needs two or more results folders (or a `simulate compare` folder)")
    for r in runs:
        if not r.has_summary:
            raise NotApplicable(f"{r.path} has no summary.csv / summary.json")
    names = scenario_names(runs)
    labels = [scenario_label(n, lang) for n in names]
    target = float(runs[0].summary_data["targets"]["emerging_cagr"])
    k = len(runs)
    fig, axes = new_figure("double", 5.0 + 0.5 * max(5, 4) + 0.25 * k, ncols=2)
    dodge = np.linspace(-0.28, 0.28, k) if k > 1 else np.zeros(1)
    means = []
    for (kind, column), ax in zip(PANELS, axes):
        rows = summary_rows(runs[0], kind)
        clusters = list(rows.index)
        y = np.arange(len(clusters))[::-1].astype(float)
        for i, r in enumerate(runs):
            table = r.summary.reindex(clusters)
            p = table[column].to_numpy(float)
            lo, hi = table[f"{column}_low"].to_numpy(float), table[f"{column}_high"].to_numpy(float)
            colour, marker = scenario_style(i)
            ax.errorbar(p, y - dodge[i], xerr=np.vstack([p - lo, hi - p]), fmt=marker, color=colour,
                        markeredgecolor="#333333" if colour in ("#F0E442",) else colour, elinewidth=0.9,
                        capsize=0, markersize=3.8, gid=f"{i}:{kind}", label=labels[i], zorder=3)
            if kind == "emerging":
                means.append(float(np.nanmean(p)))
        ax.axvline(0.5, color=MUTED, lw=0.7, ls=(0, (3, 2)), zorder=1)
        ax.set_yticks(y, [short_name(c, rows.loc[c], lang) for c in clusters])
        for tick in ax.get_yticklabels():
            tick.set_color(KIND_COLOURS[kind])
        for yi in y[:-1]:
            ax.axhline(yi - 0.5, color="#EEEEEE", lw=0.6, zorder=0)
        ax.set_ylim(-0.6, len(clusters) - 0.4)
        ax.set_xlim(-0.02, 1.02)
        ax.spines["left"].set_visible(False)
        ax.tick_params(axis="y", length=0)
        ax.xaxis.grid(True)
        if kind == "emerging":
            ax.set_title(tr(lang, f"Emerging: P(growth ≥ {pct(target, 0)} a year)",
                            f"战略性新兴产业：P(年均增长 ≥ {pct(target, 0, 'zh')})"), loc="left", color=KIND_COLOURS[kind])
        else:
            ax.set_title(tr(lang, "Pillars: P(keeps pace with city industry)", "支柱产业：P(与全市工业同步增长)"),
                         loc="left", color=KIND_COLOURS[kind])
        ax.set_xlabel(tr(lang, "Probability (95 % CI)", "概率（95% 置信区间）"))
    handles, legend_labels = axes[0].get_legend_handles_labels()
    best, worst = int(np.argmax(means)), int(np.argmin(means))
    title = tr(
        lang,
        f"{scenario_label(names[best], lang, short=True).capitalize()} gives the emerging clusters the best odds "
        f"(mean P = {means[best]:.2f}); {scenario_label(names[worst], lang, short=True)} the worst ({means[worst]:.2f})",
        f"{labels[best]}情景下新兴产业达标概率最高（平均 P = {means[best]:.2f}）；{labels[worst]}最低（{means[worst]:.2f}）",
    )
    subtitle = tr(lang, "Share of replicates meeting each cluster's target, per scenario, with 95 % confidence intervals",
                  "各情景下各产业达标重复所占比例及 95% 置信区间")
    finish(fig, title, subtitle, source_line(runs, lang), legend=(handles, legend_labels, min(k, 4)))
    caption = tr(lang, "Chances of meeting the targets across scenarios.", "各情景的达标概率对比。")
    return [Chart("scenario_comparison", fig, title, caption)]
