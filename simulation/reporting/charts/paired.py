"""Paired differences between two scenarios (``simulate compare``), with both kinds of interval.

From comparison.json (:mod:`simulation.experiments.compare`): per cluster the difference A - B
(dot), its paired 95 % CI (thick line, in the cluster kind's colour) and the CI an unpaired
comparison would give (thin grey line just below). Left panel: CAGR difference in percentage
points a year (every cluster and the city); right panel: difference in the chance of meeting
the target (P(hit) for emerging clusters, P(keeps pace) for pillars).

Errorbars have gids ``paired:cagr``, ``unpaired:cagr``, ``paired:target`` and ``unpaired:target``;
their x data are the differences in the row order of each panel's y axis (top to bottom).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulation.reporting.charts import Chart, Inputs, NotApplicable
from simulation.reporting.charts.style import (
    KIND_COLOURS, KIND_MARKERS, finish, new_figure, scenario_label, short_name, signed, source_line, tr,
)  # fmt: skip

UNPAIRED_COLOUR = "#A6A6A6"


def comparison_table(comparison: dict) -> pd.DataFrame:
    return pd.DataFrame(comparison["rows"]).astype({"diff": float, "paired_low": float, "paired_high": float,
                                                    "unpaired_low": float, "unpaired_high": float})


def _panel(ax, rows: pd.DataFrame, measure: str, lang: str, scale: float) -> None:
    n = len(rows)
    y = np.arange(n)[::-1].astype(float)
    d = rows["diff"].to_numpy(float) * scale
    plo, phi = rows["paired_low"].to_numpy(float) * scale, rows["paired_high"].to_numpy(float) * scale
    ulo, uhi = rows["unpaired_low"].to_numpy(float) * scale, rows["unpaired_high"].to_numpy(float) * scale
    ax.axvline(0, color="#444444", lw=0.6, zorder=1)
    ax.errorbar(d, y - 0.22, xerr=np.vstack([d - ulo, uhi - d]), fmt="none", ecolor=UNPAIRED_COLOUR,
                elinewidth=0.9, capsize=1.5, gid=f"unpaired:{measure}",
                label=tr(lang, "Unpaired 95 % CI", "非配对 95% 置信区间"), zorder=2)
    colours = [KIND_COLOURS.get(k, KIND_COLOURS["other"]) for k in rows["kind"]]
    for kind in dict.fromkeys(rows["kind"]):
        mask = (rows["kind"] == kind).to_numpy()
        ax.errorbar(d[mask], y[mask], xerr=np.vstack([d[mask] - plo[mask], phi[mask] - d[mask]]),
                    fmt=KIND_MARKERS.get(kind, "o"), color=KIND_COLOURS.get(kind, KIND_COLOURS["other"]),
                    elinewidth=2.0, capsize=0, markersize=3.6, gid=f"paired:{measure}:{kind}", zorder=3)
    # one invisible errorbar over all rows in axis order: what tests and readers of the figure use
    ax.errorbar(d, y, xerr=np.vstack([d - plo, phi - d]), fmt="none", alpha=0, gid=f"paired:{measure}",
                label=tr(lang, "Paired 95 % CI (same seeds)", "配对 95% 置信区间（相同随机种子）"))
    ax.set_yticks(y, [short_name(c, r, lang) for c, r in zip(rows["cluster"], rows.to_dict("records"))])
    for tick, colour in zip(ax.get_yticklabels(), colours):
        tick.set_color(colour)
    ax.set_ylim(-0.7, n - 0.4)
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0)
    ax.xaxis.grid(True)


def make(inputs: Inputs, lang: str) -> list[Chart]:
    if inputs.comparison is None:
        raise NotApplicable("paired differences are charted from a `simulate compare` folder")
    comparison = inputs.comparison.comparison
    table = comparison_table(comparison)
    a_name, b_name = comparison["a"]["name"], comparison["b"]["name"]
    a_label, b_label = scenario_label(a_name, lang, short=True), scenario_label(b_name, lang, short=True)
    cagr = table[table["measure"] == "cagr"].reset_index(drop=True)
    target = table[table["measure"].isin(["p_hit", "p_keeps_pace"])]
    target = pd.concat([target[target["kind"] == "emerging"], target[target["kind"] == "pillar"]]).reset_index(drop=True)
    fig, axes = new_figure("double", 10.0, ncols=2)
    _panel(axes[0], cagr, "cagr", lang, 1.0)
    _panel(axes[1], target, "target", lang, 1.0)
    axes[0].set_xlabel(tr(lang, f"Growth difference, {a_label} − {b_label}, pp a year",
                          f"年均增速差（{a_label} − {b_label}，百分点）"))
    axes[1].set_xlabel(tr(lang, f"Difference in P(target met), {a_label} − {b_label}",
                          f"达标概率之差（{a_label} − {b_label}）"))
    axes[0].set_title(tr(lang, "CAGR 2020–2025", "2020–2025 年均增速"), loc="left")
    axes[1].set_title(tr(lang, "Emerging: P(hit); pillars: P(keeps pace)", "新兴产业：P(达标)；支柱产业：P(同步增长)"),
                      loc="left")
    handles, labels = axes[0].get_legend_handles_labels()
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color="#333333", lw=2.0, marker="o", markersize=3.6), handles[0]]
    labels = [tr(lang, "Paired 95 % CI (same seeds)", "配对 95% 置信区间（相同随机种子）"), labels[0]]
    clusters = cagr[cagr["cluster"] != "city"]
    i = int(np.nanargmax(np.abs(clusters["diff"].to_numpy(float))))
    top = clusters.iloc[i]
    ratio = float(np.nanmedian(table["width_ratio"].to_numpy(float)))
    name = short_name(top["cluster"], top, lang)
    title = tr(
        lang,
        f"{a_label.capitalize()} vs {b_label}: largest growth difference in {name}, "
        f"{signed(top['diff'], 2)} pp a year (paired 95 % CI {signed(top['paired_low'], 2)} to {signed(top['paired_high'], 2)})",
        f"{a_label}与{b_label}相比：{name}年均增速差异最大，{signed(top['diff'], 2)} 个百分点"
        f"（配对 95% 置信区间 {signed(top['paired_low'], 2)} 至 {signed(top['paired_high'], 2)}）",
    )
    subtitle = tr(
        lang,
        f"{comparison['replicates']} paired replicates with the same seeds; paired intervals are "
        f"{1 / ratio:.1f}× narrower than unpaired ones (median)" if ratio > 0 else "",
        f"{comparison['replicates']} 对相同随机种子的重复；非配对置信区间宽度约为配对的 {1 / ratio:.1f} 倍（中位数）"
        if ratio > 0 else "",
    )
    finish(fig, title, subtitle, source_line(inputs.runs, lang) if inputs.runs else "", legend=(handles, labels, 2))
    caption = tr(lang, f"Paired differences between {a_label} and {b_label}.", f"{a_label}与{b_label}的配对差异。")
    return [Chart("paired_differences", fig, title, caption)]
