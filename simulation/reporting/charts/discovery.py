"""Scenario-discovery charts: PRIM's peeling trade-off and the box it chose.

Input: a discovery folder written by ``simulate discover`` (:func:`simulation.analysis.discovery.write`):
``trajectory.csv`` (id, coverage, density, mass, res_dim, chosen, step), ``box.csv`` (one row per varied
parameter: label_en, label_zh, low, high, range_low, range_high, restricted_low, restricted_high,
quasi_p) and ``findings.json`` (the failure, the base rate, the sentence, the sweep's provenance).

* ``discovery_tradeoff``: each box of the peeling trajectory as coverage (x) against density (y),
  coloured by its number of restricted dimensions; the chosen box ringed and labelled; the share of
  all futures that fail (the base rate) as a dashed line: a box is worth reporting only well above it.
* ``discovery_box``: each restricted parameter's whole range as a grey bar and the box's part of
  it in vermillion, the limits written at the ends, and the quasi-p-value on the right.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation.reporting.charts import Chart
from simulation.reporting.charts.style import GRID_COLOUR, KIND_COLOURS, MUTED, OKABE_ITO, bold, finish, new_figure, tr
from simulation.reporting.labels import key_value as value
from simulation.reporting.labels import share

BOX_COLOUR = KIND_COLOURS["emerging"]


def read(folder: str | Path) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    folder = Path(folder)
    trajectory = pd.read_csv(folder / "trajectory.csv")
    box = pd.read_csv(folder / "box.csv")
    findings = json.loads((folder / "findings.json").read_text(encoding="utf-8"))
    return trajectory, box, findings


def sweep_source(sweep: dict[str, Any], lang: str) -> str:
    """The source line of a chart made from a sweep."""
    name, seed, runs, date = sweep.get("name") or "?", sweep.get("root_seed"), sweep.get("runs"), sweep.get("date")
    if lang == "zh":
        seeded = f"随机种子 {seed}，" if seed is not None else ""
        return f"来源：东莞产业集群模型；参数扫描 {name}，{seeded}{runs} 次运行，运行于 {date}。"
    seeded = f"seed {seed}, " if seed is not None else ""
    return f"Source: Dongguan industrial-cluster model; sweep {name}, {seeded}{runs} runs, run {date}."


def make(folder: str | Path, lang: str) -> list[Chart]:
    trajectory, box, findings = read(folder)
    return [tradeoff_chart(trajectory, findings, lang), box_chart(box, findings, lang)]


def tradeoff_chart(trajectory: pd.DataFrame, findings: dict[str, Any], lang: str) -> Chart:
    fig, ax = new_figure("single", 7.6)
    base = float(findings["base_rate"])
    dims = trajectory["res_dim"].astype(int).to_numpy()
    peel = trajectory[trajectory["step"] == "peel"]
    ax.plot(peel["coverage"], peel["density"], color=GRID_COLOUR, lw=0.8, zorder=1, gid="trajectory")
    cmap = _res_dim_colours()
    dots = ax.scatter(trajectory["coverage"], trajectory["density"], c=dims, cmap=cmap, vmin=0,
                      vmax=max(int(dims.max()), 1), s=9, zorder=2, gid="boxes", linewidths=0)  # fmt: skip
    chosen = trajectory[trajectory["chosen"].astype(bool)].iloc[0]
    ax.scatter([chosen["coverage"]], [chosen["density"]], s=60, facecolors="none", edgecolors=BOX_COLOUR, lw=1.1,
               zorder=3, gid="chosen")  # fmt: skip
    k = int(chosen["res_dim"])
    label = tr(lang, f"chosen box: {k} condition{'' if k == 1 else 's'}", f"选定区域：{k} 个条件")
    ax.annotate(label, (chosen["coverage"], chosen["density"]), xytext=(-8, -3), textcoords="offset points",
                ha="right", va="top", fontsize=6, color=BOX_COLOUR, path_effects=bold(BOX_COLOUR, 0.2))  # fmt: skip
    ax.axhline(base, color="#000000", ls="--", lw=0.7, gid="base_rate")
    ax.annotate(tr(lang, f"all futures: {share(base, lang)} fail", f"全部情景：{share(base, lang)} 失败"), (0.0, base),
                xytext=(2, 3), textcoords="offset points", ha="left", va="bottom", fontsize=6, color=MUTED)
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(tr(lang, "Coverage: share of all failures inside the box", "覆盖率：区域内失败情景占全部失败情景的比例"))
    ax.set_ylabel(tr(lang, "Density: share failing in the box", "密度：区域内失败情景的比例"))
    ax.xaxis.set_major_formatter(_percent())
    ax.yaxis.set_major_formatter(_percent())
    ax.grid(True)
    bar = fig.colorbar(dots, ax=ax, shrink=0.8, aspect=25, pad=0.02)
    bar.set_label(tr(lang, "restricted parameters", "受限参数个数"), fontsize=6)
    bar.ax.tick_params(labelsize=5.5)
    bar.outline.set_linewidth(0.4)
    density, coverage = float(chosen["density"]), float(chosen["coverage"])
    title = tr(lang, f"Inside the chosen box {share(density, lang)} of futures fail, {density / base:.1f} times the "
                     f"{share(base, lang)} of all futures; it holds {share(coverage, lang)} of the failures",
               f"选定区域内 {share(density, lang)} 的情景失败，是全部情景（{share(base, lang)}）的 {density / base:.1f} 倍；"
               f"区域包含 {share(coverage, lang)} 的失败情景")  # fmt: skip
    subtitle = tr(lang, f"PRIM peeling trajectory for: {findings['failure']['en']}. Each dot is a box; peeling "
                        "trades coverage for density",
                  f"PRIM 剥离路径，失败定义：{findings['failure']['zh']}。每个点是一个区域；剥离以覆盖率换取密度")
    finish(fig, title, subtitle, sweep_source(findings.get("sweep", {}), lang))
    caption = tr(lang, "How PRIM trades coverage for density, and the box it chose.", "PRIM 在覆盖率与密度之间的权衡及选定区域。")
    return Chart("discovery_tradeoff", fig, title, caption)


def box_chart(box: pd.DataFrame, findings: dict[str, Any], lang: str) -> Chart:
    restricted = box[box["restricted_low"].astype(bool) | box["restricted_high"].astype(bool)]
    n = max(len(restricted), 1)
    fig, ax = new_figure("single", 4.6 + 1.05 * n)
    y = np.arange(len(restricted))[::-1].astype(float)
    for yi, (_, r) in zip(y, restricted.iterrows()):
        lo0, hi0 = float(r["range_low"]), float(r["range_high"])
        span = hi0 - lo0 if hi0 > lo0 else 1.0
        a, b = (float(r["low"]) - lo0) / span, (float(r["high"]) - lo0) / span
        ax.barh(yi, 1.0, left=0.0, height=0.5, color="#E6E6E6", gid="range")
        ax.barh(yi, b - a, left=a, height=0.5, color=BOX_COLOUR, alpha=0.85, gid="box")
        key = r["parameter"]
        ax.annotate(value(key, lo0, lang), (0, yi - 0.25), xytext=(0, -2), textcoords="offset points", ha="left",
                    va="top", fontsize=5.5, color=MUTED)
        ax.annotate(value(key, hi0, lang), (1, yi - 0.25), xytext=(0, -2), textcoords="offset points", ha="right",
                    va="top", fontsize=5.5, color=MUTED)
        if r["restricted_low"]:
            ax.annotate(value(key, float(r["low"]), lang), (a, yi + 0.25), xytext=(0, 2), textcoords="offset points",
                        ha="center", va="bottom", fontsize=6, color=BOX_COLOUR)  # fmt: skip
        if r["restricted_high"]:
            ax.annotate(value(key, float(r["high"]), lang), (b, yi + 0.25), xytext=(0, 2), textcoords="offset points",
                        ha="center", va="bottom", fontsize=6, color=BOX_COLOUR)  # fmt: skip
        qp = float(r["quasi_p"]) if pd.notna(r["quasi_p"]) else float("nan")
        text = "" if not np.isfinite(qp) else (f"p < 0.001" if qp < 0.001 else f"p = {qp:.3f}")
        ax.annotate(text, (1.02, yi), ha="left", va="center", fontsize=6, color="#222222", annotation_clip=False)
    ax.set_yticks(y, [r["label_zh"] if lang == "zh" else r["label_en"] for _, r in restricted.iterrows()])
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.8, len(restricted) - 0.2)
    ax.set_xticks([])
    for side in ("bottom", "left"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="y", length=0)
    stats = findings["box"]
    title = findings["sentence"][lang]
    subtitle = tr(lang, f"Each bar is a parameter's whole range in the sweep; the coloured part is the box. Right: "
                        f"quasi-p-value of each restriction. Density {share(stats['density'], lang)}, coverage "
                        f"{share(stats['coverage'], lang)}, {findings['futures']} futures",
                  f"每条为参数在扫描中的全部取值范围，着色部分为选定区域；右侧为各限制条件的准 p 值。密度 "
                  f"{share(stats['density'], lang)}，覆盖率 {share(stats['coverage'], lang)}，{findings['futures']} 个未来情景")  # fmt: skip
    finish(fig, title, subtitle, sweep_source(findings.get("sweep", {}), lang))
    caption = tr(lang, "The conditions under which the target fails most often.", "目标最常失败的条件。")
    return Chart("discovery_box", fig, title, caption)


def _res_dim_colours() -> Any:
    """A light-to-dark blue ramp: more restricted parameters, darker (blue is not the box's vermillion)."""
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list("res_dim", ["#CFE8F7", OKABE_ITO["sky_blue"], OKABE_ITO["blue"], "#0B2545"])


def _percent() -> Any:
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(1.0, decimals=0)
