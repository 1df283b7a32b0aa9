"""Scenario comparison: each cluster's chance of meeting its target, across scenarios (dot plot).

From each results folder's summary.json: for the pillars P(keeps pace with city industry)
(left panel), for the emerging clusters P(CAGR >= 10 %) (right panel), each with its
Monte-Carlo 95 % CI; one colour and marker per scenario (the shipped scenarios keep theirs in
every chart), in the order the folders were given (for a ``simulate compare`` folder: A then
B). The title counts, per scenario, the emerging clusters whose interval supports "likely"
or better (:mod:`simulation.reporting.wording`). Made from two or more results folders
(``simulate chart A B C``) or from a comparison folder.

Errorbars have gids ``<scenario index>:emerging`` and ``<scenario index>:pillar``; their x data
are the probabilities in the row order of each panel's y axis (top to bottom).
"""

from __future__ import annotations

import numpy as np

from simulation.reporting import labels, wording
from simulation.reporting.charts import Chart, Inputs, NotApplicable, summary_rows
from simulation.reporting.charts.layout import finish, new_figure, scenario_tag, source_line
from simulation.reporting.charts.style import KIND_COLOURS, MUTED, scenario_styles, sizes, tr

PANELS = (("pillar", "keeps_pace"), ("emerging", "hit"))


def scenario_names(runs) -> list[str]:
    """Scenario names, made unique with #2, #3 where two folders ran the same scenario."""
    names, seen = [], {}
    for r in runs:
        name = r.scenario_name
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name} #{seen[name]}")
    return names


def _chances(run, block: str) -> dict[str, wording.Chance]:
    out = {}
    for row in run.summary_data["clusters"]:
        chance = wording.Chance.from_block(row.get(block))
        if chance is not None:
            out[row["cluster"]] = chance
    return out


def make(inputs: Inputs, lang: str) -> list[Chart]:
    runs = inputs.runs
    if len(runs) < 2:
        raise NotApplicable("the scenario comparison needs two or more results folders (or a `simulate compare` folder)")
    for r in runs:
        if not r.has_summary:
            raise NotApplicable(f"{r.path} has no summary.csv / summary.json")
    names = scenario_names(runs)
    shown = [labels.scenario(n, lang) for n in names]
    styles = scenario_styles(names)
    target = float(runs[0].summary_data["targets"]["emerging_cagr"])
    k = len(runs)
    s = sizes(lang)
    fig, axes = new_figure("double", 5.0 + 0.3 * k, ncols=2)
    dodge = np.linspace(-0.28, 0.28, k) if k > 1 else np.zeros(1)
    likely = []
    for (kind, block), ax in zip(PANELS, axes):
        clusters = list(summary_rows(runs[0], kind).index)
        y = np.arange(len(clusters))[::-1].astype(float)
        for i, r in enumerate(runs):
            chances = _chances(r, block)
            p = np.array([chances[c].p if c in chances else np.nan for c in clusters])
            lo = np.array([chances[c].low if c in chances else np.nan for c in clusters])
            hi = np.array([chances[c].high if c in chances else np.nan for c in clusters])
            colour, marker = styles[i]
            ax.errorbar(p, y - dodge[i], xerr=np.vstack([p - lo, hi - p]), fmt=marker, color=colour,
                        markeredgecolor="#333333" if colour == "#F0E442" else colour, elinewidth=0.9,
                        capsize=0, markersize=3.8, gid=f"{i}:{kind}", label=shown[i], zorder=3)
            if kind == "emerging":
                likely.append(sum(wording.verdict(ch) in wording.AT_LEAST_LIKELY for ch in chances.values()))
        ax.axvline(0.5, color=MUTED, lw=0.7, ls=(0, (3, 2)), zorder=1)
        ax.set_yticks(y, [labels.cluster(c, lang) for c in clusters])
        for tick in ax.get_yticklabels():
            tick.set_color(KIND_COLOURS[kind])
        for yi in y[:-1]:
            ax.axhline(yi - 0.5, color="#EEEEEE", lw=0.6, zorder=0)
        ax.set_ylim(-0.6, len(clusters) - 0.4)
        ax.set_xlim(-0.02, 1.02)
        ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0], ["0", "0.25", "0.5", "0.75", "1"])
        ax.spines["left"].set_visible(False)
        ax.tick_params(axis="y", length=0)
        ax.xaxis.grid(True)
        if kind == "emerging":
            ax.set_title(tr(lang, f"Emerging: P(growth ≥ {wording.pct(target, 'en', 0)} a year)",
                            f"新兴产业：P（年均增长 ≥ {wording.pct(target, 'zh', 0)}）"), loc="left",
                         color=KIND_COLOURS[kind], fontsize=s.base)
        else:
            ax.set_title(tr(lang, "Pillars: P(keeps pace with city industry)", "支柱产业：P（与全市工业同步增长）"),
                         loc="left", color=KIND_COLOURS[kind], fontsize=s.base)
        ax.set_xlabel(tr(lang, f"P, with its {wording.interval_name('en')}", f"P 及其{wording.interval_name('zh')}"))
    handles, legend_labels = axes[0].get_legend_handles_labels()
    n_emerging = len(summary_rows(runs[0], "emerging"))
    counts = [f"{wording.count(m, 'en')} under {shown[i]}" for i, m in enumerate(likely)]
    title = tr(
        lang,
        f"Emerging clusters likely or better to grow {wording.pct(target, 'en', 0)} a year (of "
        f"{wording.count(n_emerging, 'en')}): " + ", ".join(counts),
        f"{wording.count(n_emerging, 'zh')}个新兴产业中至少“较有可能”实现年均增长{wording.pct(target, 'zh', 0)}的个数："
        + "，".join(f"{shown[i]}{wording.count(m, 'zh')}个" for i, m in enumerate(likely)),
    )
    subtitle = tr(lang, f"{scenario_tag(names, 'en')}. Share of model runs meeting each cluster's target, per scenario",
                  f"{scenario_tag(names, 'zh')}。各情景下各产业达标模拟所占比例")
    finish(fig, title, subtitle, source_line(runs, lang, paired=inputs.comparison is not None), lang,
           legend=(handles, legend_labels, min(k, 4)))
    caption = tr(lang, "Chances of meeting the targets across scenarios.", "各情景的达标概率对比。")
    return [Chart("scenario_comparison", fig, title, caption)]
