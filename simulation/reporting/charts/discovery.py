"""Scenario-discovery charts: PRIM's peeling trade-off and the box it chose.

Input: a discovery folder written by ``simulate discover`` (:func:`simulation.analysis.discovery.write`):
``trajectory.csv`` (id, coverage, density, mass, res_dim, chosen, step), ``box.csv`` (one row per varied
parameter: parameter, low, high, range_low, range_high, restricted_low, restricted_high, quasi_p) and
``findings.json`` (the failure, the base rate, the finding in words, the sweep's provenance).
Parameters are named from the label table (:mod:`simulation.reporting.labels`), values in the
reader's units.

* ``discovery_tradeoff``: each box of the peeling trajectory as coverage (x) against density (y),
  coloured by its number of restricted parameters; the chosen box ringed and labelled; the share
  of all futures that fail (the base rate) as a dashed line: a box is worth reporting only well
  above it. Artists' gids: ``trajectory``, ``boxes``, ``chosen``, ``base_rate``.
* ``discovery_box``: each restricted parameter's whole range in the sweep as a grey bar and the
  box's part of it in dark grey (gids ``range``, ``box``), the range's ends written under the
  bar, the box's limits over it (numbers in the unit named with the parameter), and each
  restriction's quasi-p-value on the right.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation.reporting import labels, wording
from simulation.reporting.charts import Chart
from simulation.reporting.charts.layout import finish, new_figure, run_facts, scenario_tag, source_of, wrap
from simulation.reporting.charts.style import GRID_COLOUR, LEVER_COLOUR, MUTED, TEXT, bold, sizes, tr

#: Neutral greys only: blue and vermillion mean pillar and emerging clusters, the other hues scenarios.
BOX_COLOUR = LEVER_COLOUR
CHOSEN_COLOUR = "#000000"
RANGE_COLOUR = "#E3E3E3"


def read(folder: str | Path) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    folder = Path(folder)
    trajectory = pd.read_csv(folder / "trajectory.csv")
    box = pd.read_csv(folder / "box.csv")
    findings = json.loads((folder / "findings.json").read_text(encoding="utf-8"))
    return trajectory, box, findings


def sweep_source(sweep: dict[str, Any], lang: str) -> str:
    """The source line of a chart made from a sweep: its design points, runs, seed and date."""
    points, replicates, runs = sweep.get("points"), sweep.get("replicates"), sweep.get("runs")
    if points and replicates:
        what = tr(lang, f"sweep of {points} design points × {replicates} model run{'s' if replicates != 1 else ''}",
                  f"参数扫描 {points} 个设计点 × {replicates} 次模拟")
    else:
        what = tr(lang, f"sweep of {runs} model runs", f"参数扫描 {runs} 次模拟")
    return source_of([run_facts(lang, what, sweep.get("root_seed"), sweep.get("date") or "")], lang)


def _tag(sweep: dict[str, Any], lang: str) -> str:
    """'Baseline scenario. ' when the sweep names its base scenario."""
    name = sweep.get("scenario")
    return scenario_tag([name], lang) + tr(lang, ". ", "。") if name else ""


def make(folder: str | Path, lang: str) -> list[Chart]:
    trajectory, box, findings = read(folder)
    return [tradeoff_chart(trajectory, findings, lang), box_chart(box, findings, lang)]


def tradeoff_chart(trajectory: pd.DataFrame, findings: dict[str, Any], lang: str) -> Chart:
    from matplotlib.ticker import MaxNLocator

    s = sizes(lang)
    fig, ax = new_figure("single", 6.2)
    base = float(findings["base_rate"])
    dims = trajectory["res_dim"].astype(int).to_numpy()
    peel = trajectory[trajectory["step"] == "peel"] if "step" in trajectory else trajectory
    ax.plot(peel["coverage"], peel["density"], color=GRID_COLOUR, lw=0.8, zorder=1, gid="trajectory")
    dots = ax.scatter(trajectory["coverage"], trajectory["density"], c=dims, cmap=_res_dim_colours(), vmin=0,
                      vmax=max(int(dims.max()), 1), s=9, zorder=2, gid="boxes", linewidths=0)  # fmt: skip
    chosen = trajectory[trajectory["chosen"].astype(bool)].iloc[0]
    density, coverage, k = float(chosen["density"]), float(chosen["coverage"]), int(chosen["res_dim"])
    ax.scatter([coverage], [density], s=60, facecolors="none", edgecolors=CHOSEN_COLOUR, lw=1.1, zorder=3, gid="chosen")
    label = tr(lang, f"chosen box: {wording.count(k, 'en')} condition{'' if k == 1 else 's'}",
               f"选定区域：{wording.count(k, 'zh')}个条件")
    left = coverage > 0.5  # the label on the side with room
    ax.annotate(label, (coverage, density), xytext=(-7 if left else 7, -4), textcoords="offset points",
                ha="right" if left else "left", va="top", fontsize=s.small, color=CHOSEN_COLOUR,
                path_effects=bold(CHOSEN_COLOUR, 0.2))  # fmt: skip
    ax.axhline(base, color="#000000", ls=(0, (4, 2)), lw=0.7, gid="base_rate")
    ax.annotate(tr(lang, f"all futures: {labels.share(base, 'en')} fail", f"全部未来情景：{labels.share(base, 'zh')}失败"),
                (0.0, base), xytext=(2, -3) if base > 0.85 else (2, 3), textcoords="offset points", ha="left",
                va="top" if base > 0.85 else "bottom", fontsize=s.small, color=MUTED)  # fmt: skip
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(tr(lang, "Coverage: share of all failures inside the box (%)", "覆盖率：区域内失败情景占全部失败情景的比例（%）"))
    ax.set_ylabel(tr(lang, "Density: share failing in the box (%)", "密度：区域内失败情景的比例（%）"))
    ax.xaxis.set_major_formatter(_percent())
    ax.yaxis.set_major_formatter(_percent())
    ax.grid(True)
    bar = fig.colorbar(dots, ax=ax, shrink=0.85, aspect=25, pad=0.02)
    bar.set_label(tr(lang, "Restricted parameters", "受限参数个数"), fontsize=s.small)
    bar.ax.tick_params(labelsize=s.small, length=2)
    bar.ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    bar.outline.set_linewidth(0.4)
    times = density / base if base > 0 else float("nan")
    title = tr(lang, f"Inside the chosen box {labels.share(density, 'en')} of futures fail, {times:.1f} times the "
                     f"{labels.share(base, 'en')} of all futures; the box holds {labels.share(coverage, 'en')} of the "
                     "failures",
               f"选定区域内 {labels.share(density, 'zh')} 的未来情景失败，是全部情景（{labels.share(base, 'zh')}）的 "
               f"{times:.1f} 倍；区域包含 {labels.share(coverage, 'zh')} 的失败情景")  # fmt: skip
    failure = findings["failure"][lang]
    subtitle = _tag(findings.get("sweep", {}), lang) + tr(
        lang, f"Failing: {wording.lower_first(failure)}, in {findings['futures']} futures. Each dot is a box of PRIM's "
              "peeling trajectory; peeling trades coverage for density",
        f"失败定义：{failure}；共 {findings['futures']} 个未来情景。每个点为 PRIM 剥离路径上的一个区域；剥离以覆盖率换取密度")
    finish(fig, title, subtitle, sweep_source(findings.get("sweep", {}), lang), lang)
    caption = tr(lang, "How PRIM trades coverage for density, and the box it chose.", "PRIM 在覆盖率与密度之间的权衡及选定区域。")
    return Chart("discovery_tradeoff", fig, title, caption)


def box_chart(box: pd.DataFrame, findings: dict[str, Any], lang: str) -> Chart:
    s = sizes(lang)
    restricted = box[box["restricted_low"].astype(bool) | box["restricted_high"].astype(bool)].reset_index(drop=True)
    n = max(len(restricted), 1)
    fig, ax = new_figure("single", 0.8 + 1.25 * n)
    y = np.arange(len(restricted))[::-1].astype(float)
    names = []
    for yi, (_, r) in zip(y, restricted.iterrows()):
        key = str(r["parameter"])
        label = labels.parameter(key, lang)
        names.append(label.with_unit(lang))
        shown = lambda v: labels.number(v * label.unit.scale)  # noqa: E731  (the unit is in the name)
        lo0, hi0 = float(r["range_low"]), float(r["range_high"])
        span = hi0 - lo0 if hi0 > lo0 else 1.0
        a, b = (float(r["low"]) - lo0) / span, (float(r["high"]) - lo0) / span
        ax.barh(yi, 1.0, left=0.0, height=0.34, color=RANGE_COLOUR, lw=0, gid="range")
        ax.barh(yi, b - a, left=a, height=0.34, color=BOX_COLOUR, alpha=0.85, lw=0, gid="box")
        for x, v, ha in ((0.0, lo0, "left"), (1.0, hi0, "right")):  # the range's ends, under the bar
            ax.annotate(shown(v), (x, yi - 0.17), xytext=(0, -1.5), textcoords="offset points", ha=ha,
                        va="top", fontsize=s.small, color=MUTED)  # fmt: skip
        for side, x, v in (("restricted_low", a, float(r["low"])), ("restricted_high", b, float(r["high"]))):
            if bool(r[side]):  # the box's limit, over the bar, kept inside the axis
                ha = "left" if x < 0.15 else "right" if x > 0.85 else "center"
                ax.annotate(shown(v), (x, yi + 0.17), xytext=(0, 1.5), textcoords="offset points", ha=ha,
                            va="bottom", fontsize=s.small, color=BOX_COLOUR, path_effects=bold(BOX_COLOUR, 0.2))
        qp = float(r["quasi_p"]) if pd.notna(r["quasi_p"]) else float("nan")
        text = "" if not np.isfinite(qp) else ("p < 0.001" if qp < 0.001 else f"p = {qp:.3f}")
        ax.annotate(text, (1.0, yi), xytext=(6, 0), textcoords="offset points", ha="left", va="center",
                    fontsize=s.small, color=TEXT, annotation_clip=False)  # fmt: skip
    width = fig.get_size_inches()[0] * 72 * 0.36  # the names take at most a good third of the width
    ax.set_yticks(y, [wrap(t, s.small, width) for t in names])
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.7, len(restricted) - 0.3)
    ax.set_xticks([])
    for side in ("bottom", "left"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="y", length=0)
    stats = findings["box"]
    title = (findings.get("headline") or findings["sentence"])[lang]
    subtitle = _tag(findings.get("sweep", {}), lang) + tr(
        lang, f"Each bar is a parameter's whole range in the sweep's {findings['futures']} futures, the coloured part "
              f"the box: {labels.share(stats['density'], 'en')} of its futures fail, against "
              f"{labels.share(findings['base_rate'], 'en')} of all; it holds {labels.share(stats['coverage'], 'en')} of "
              "the failures. Right: each restriction's quasi-p-value",
        f"每条为参数在扫描 {findings['futures']} 个未来情景中的全部取值范围，着色部分为选定区域：区域内失败比例 "
        f"{labels.share(stats['density'], 'zh')}，全部情景中为 {labels.share(findings['base_rate'], 'zh')}；区域包含 "
        f"{labels.share(stats['coverage'], 'zh')} 的失败情景。右侧：各限制条件的准 p 值")  # fmt: skip
    finish(fig, title, subtitle, sweep_source(findings.get("sweep", {}), lang), lang)
    caption = tr(lang, "The conditions under which the target fails most often.", "目标最常失败的条件。")
    return Chart("discovery_box", fig, title, caption)


def _res_dim_colours() -> Any:
    """A light-to-dark grey ramp: more restricted parameters, darker (greys carry no other meaning)."""
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list("res_dim", ["#D4D4D4", "#8A8A8A", "#3A3A3A", "#000000"])


def _percent() -> Any:
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _: f"{v * 100:.0f}")
