"""Charts of a lever optimisation: the cost-probability frontier and the Pareto set's lever mixes.

Input: an optimisation folder written by ``simulate optimise`` (:mod:`simulation.experiments.optimise`):
``designs.parquet`` (every evaluated design: lever values, metrics, feasible, pareto, reference),
``briefing.json`` (the three picks and the reference designs) and ``manifest.json``. Levers and
metrics are named from the label table (:mod:`simulation.reporting.labels`), values in the
reader's units (English: billion CNY; Chinese: 亿元).

* ``pareto_frontier``: public money a year (x) against P(all five emerging clusters hit) (y) for
  every evaluated design (light grey; hollow if over the budget), the Pareto set (on all the
  objectives) in dark grey with the cost-probability frontier as a step line, the policy as
  written in its scenario's colour, the least support in black, the three briefing designs
  numbered, the budget and the probability the first pick must reach as dashed lines. Without
  those two metrics, the first two objectives. Gids: ``evaluated``, ``over_budget``, ``pareto``,
  ``frontier``, ``as_written``, ``least``, ``pick_<pick>``, ``budget``, ``probability``.
* ``pareto_parallel``: one line per Pareto design across the levers (each axis the lever's
  whole range), the fund's split and the objectives (each axis from the lowest to the highest
  value among the designs within the budget), ends written; the three briefing designs and the
  policy as written in colour, with their markers.

Designs are policy variants, so they take scenario colours and markers
(:func:`simulation.reporting.charts.style.scenario_styles`): the policy as written its base
scenario's, the three picks the free ones; never blue or vermillion (pillar and emerging clusters).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation.reporting import labels, wording
from simulation.reporting.charts import Chart
from simulation.reporting.charts.layout import finish, new_figure, run_facts, scenario_tag, source_of, text_width, wrap
from simulation.reporting.charts.style import LEVER_COLOUR, MUTED, TEXT, bold, scenario_styles, sizes, tr

PICKS = {  # pick -> (number, en, zh)
    "cheapest_meeting_probability": ("1", "cheapest meeting the probability", "达到概率要求的最低成本方案"),
    "most_robust_at_todays_budget": ("2", "most robust at today's budget", "现有预算内最稳健方案"),
    "best_per_yi": ("3", "most value added per extra 100 million CNY", "每亿元新增投入带来增加值最多的方案"),
}  # fmt: skip
PARETO_COLOUR = LEVER_COLOUR
EVALUATED_COLOUR = "#B3B3B3"


def read(folder: str | Path) -> tuple[pd.DataFrame, dict[str, Any], dict[str, Any]]:
    folder = Path(folder)
    designs = pd.read_parquet(folder / "designs.parquet")
    briefing = json.loads((folder / "briefing.json").read_text(encoding="utf-8"))
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return designs, briefing, manifest


def make(folder: str | Path, lang: str) -> list[Chart]:
    designs, briefing, manifest = read(folder)
    return [frontier_chart(designs, briefing, manifest, lang), parallel_chart(designs, briefing, manifest, lang)]


# --- names, units and styles ------------------------------------------------------------------


def metric_label(name: str, lang: str) -> labels.Label:
    """A robustness metric's label; ``mean:<column>`` and ``median:<column>`` from the column's."""
    stat, sep, column = name.partition(":")
    if sep:
        inner = labels.outcome(column, lang)
        text = tr(lang, f"{'Mean' if stat == 'mean' else 'Median'} of {wording.lower_first(inner.text)}",
                  f"{inner.text}{'均值' if stat == 'mean' else '中位数'}")
        return labels.Label(text, inner.unit, inner.code)
    return labels.outcome(name, lang)


def axis_label(key: str, lang: str) -> labels.Label:
    """A lever's or a metric's label (a design's columns are levers, shares and metrics)."""
    return labels.parameter(key, lang) if key.startswith("levers.") else metric_label(key, lang)


def styles(manifest: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Colour and marker of the policy as written (its scenario's) and of each pick (the free ones)."""
    base = (manifest.get("scenario") or {}).get("name") or "baseline"
    picked = scenario_styles([base, *PICKS])
    return {"as_written": picked[0], **dict(zip(PICKS, picked[1:]))}


def source(manifest: dict[str, Any], designs: pd.DataFrame, lang: str) -> str:
    futures = len(manifest.get("seeds") or manifest.get("identity", {}).get("seeds") or [])
    seed = manifest.get("identity", {}).get("seed")
    date = str(manifest.get("ended") or manifest.get("started") or "")[:10]
    what = tr(lang, f"optimisation, {len(designs)} designs × {futures} futures (the same for every design)",
              f"政策优化，{len(designs)} 个方案 × {futures} 个未来情景（各方案相同）")
    return source_of([run_facts(lang, what, seed, date)], lang)


def _tag(manifest: dict[str, Any], lang: str) -> str:
    name = (manifest.get("scenario") or {}).get("name")
    return scenario_tag([name], lang) + tr(lang, ". ", "。") if name else ""


def _axes_metrics(manifest: dict[str, Any], designs: pd.DataFrame) -> tuple[str, str]:
    objectives = [o for o, _ in manifest.get("identity", {}).get("objectives", [])]
    x = "cost_per_year" if "cost_per_year" in designs else objectives[0]
    y = "p_all_hit" if "p_all_hit" in designs else next(o for o in objectives if o != x)
    return x, y


def _picked(briefing: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The picks that found a design."""
    return {k: v for k, v in (briefing.get("picks") or {}).items() if k in PICKS and v and v.get("design") is not None}


# --- the frontier -------------------------------------------------------------------------------


def frontier_chart(designs: pd.DataFrame, briefing: dict[str, Any], manifest: dict[str, Any], lang: str) -> Chart:
    from matplotlib.lines import Line2D

    s = sizes(lang)
    xm, ym = _axes_metrics(manifest, designs)
    xl, yl = metric_label(xm, lang), metric_label(ym, lang)
    xs, ys = xl.unit.scale, yl.unit.scale
    fig, ax = new_figure("single", 6.4)
    d = designs[np.isfinite(designs[xm].astype(float)) & np.isfinite(designs[ym].astype(float))]
    x, y = d[xm].astype(float) * xs, d[ym].astype(float) * ys
    feasible, pareto = d["feasible"].astype(bool), d["pareto"].astype(bool)
    handles, names = [], []
    dots = ax.scatter(x[feasible & ~pareto], y[feasible & ~pareto], s=7, color=EVALUATED_COLOUR, linewidths=0,
                      gid="evaluated")  # fmt: skip
    handles.append(dots)
    names.append(tr(lang, "Design evaluated", "已评估方案"))
    if (~feasible).any():
        handles.append(ax.scatter(x[~feasible], y[~feasible], s=7, facecolors="none", edgecolors=EVALUATED_COLOUR,
                                  lw=0.6, gid="over_budget"))  # fmt: skip
        names.append(tr(lang, "Over the budget", "超出预算"))
    envelope = _envelope(np.column_stack([x[feasible], y[feasible]]))
    if len(envelope):
        ax.step(envelope[:, 0], envelope[:, 1], where="post", color=PARETO_COLOUR, lw=0.8, zorder=2, gid="frontier")
    handles.append(ax.scatter(x[pareto], y[pareto], s=10, color=PARETO_COLOUR, linewidths=0, zorder=3, gid="pareto"))
    names.append(tr(lang, "Pareto set (on all objectives)", "帕累托方案（就全部目标而言）"))
    look = styles(manifest)
    refs = briefing.get("references", {})
    marks = [("as_written", look["as_written"][0], look["as_written"][1], tr(lang, "Policy as written", "政策原文方案")),
             ("least", "#000000", "s", tr(lang, "Least support", "最低支持方案"))]
    for name, colour, marker, text in marks:
        m = (refs.get(name) or {}).get("metrics", {})
        if m.get(xm) is not None and m.get(ym) is not None:
            handles.append(ax.scatter([m[xm] * xs], [m[ym] * ys], marker=marker, s=22, facecolors="none",
                                      edgecolors=colour, lw=1.0, zorder=4, gid=name))  # fmt: skip
            names.append(text)
    at: dict[tuple[float, float], list[str]] = {}  # picks at the same point share one label
    for pick, chosen in _picked(briefing).items():
        number, en, zh = PICKS[pick]
        colour, marker = look[pick]
        px, py = chosen["metrics"][xm] * xs, chosen["metrics"][ym] * ys
        ax.scatter([px], [py], marker=marker, s=26, color=colour, edgecolors="#000000", lw=0.4, zorder=5,
                   gid=f"pick_{pick}")  # fmt: skip
        at.setdefault((px, py), []).append(pick)
        handles.append(Line2D([], [], ls="none", marker=marker, markersize=4.5, color=colour,
                              markeredgecolor="#000000", markeredgewidth=0.4))  # fmt: skip
        names.append(f"{number} {tr(lang, en, zh)}")
    for (px, py), picks in at.items():
        colour = look[picks[0]][0] if len(picks) == 1 else TEXT
        ax.annotate(", ".join(PICKS[p][0] for p in picks), (px, py), xytext=(4, 3), textcoords="offset points",
                    fontsize=s.base, color=colour, path_effects=bold(colour, 0.3), zorder=6)  # fmt: skip
    budget, probability = briefing.get("budget"), briefing.get("probability")
    if budget is not None and xm == "cost_per_year":
        ax.axvline(budget * xs, color="#000000", ls=(0, (4, 2)), lw=0.6, gid="budget")
        ax.annotate(tr(lang, f"Budget {xl.value(budget, 'en')}", f"预算 {xl.value(budget, 'zh')}"), (budget * xs, 1.0),
                    xycoords=("data", "axes fraction"), xytext=(-2, -2), textcoords="offset points", ha="right",
                    va="top", fontsize=s.small, color=MUTED)  # fmt: skip
    if probability is not None and ym == "p_all_hit":
        ax.axhline(probability * ys, color="#000000", ls=(0, (1, 1.5)), lw=0.6, gid="probability")
    ax.set_xlabel(xl.with_unit(lang))
    ax.set_ylabel(wrap(yl.with_unit(lang), s.base, 150))
    if yl.code == "probability":
        ax.set_ylim(-0.03, 1.03)
    ax.set_xlim(left=0)
    ax.grid(True)
    title = _frontier_title(briefing, manifest, lang)
    futures = len(manifest.get("seeds") or [])
    rule = tr(lang, "what the policy as written reaches", "政策原文方案的概率") \
        if briefing.get("probability_rule") == "as_written" else wording.prob(probability or 0)
    dotted = tr(lang, f"; dotted: the P(all five) design 1 must reach ({rule})",
                f"；点线：方案 1 须达到的全部达标概率（{rule}）") if probability is not None and ym == "p_all_hit" else ""  # fmt: skip
    subtitle = _tag(manifest, lang) + tr(
        lang, f"Each dot is a design (a lever mix) run in the same {futures} futures; the line is the frontier: the "
              f"highest {wording.lower_first(yl.text)} for the money{dotted}",
        f"每个点为一个方案（政策工具组合），在相同的 {futures} 个未来情景中运行；折线为前沿：给定支出下最高的"
        f"{yl.text}{dotted}")  # fmt: skip
    finish(fig, title, subtitle, source(manifest, designs, lang), lang, legend=(handles, names, 2))
    caption = tr(lang, "The cost of robustness: public money against the chance that all five emerging clusters hit.",
                 "稳健的代价：财政支出与五个新兴产业全部达标的概率。")
    return Chart("pareto_frontier", fig, title, caption)


def _envelope(points: np.ndarray) -> np.ndarray:
    """The points no cheaper point beats on the y metric (more is better): the step frontier, by cost."""
    if not len(points):
        return points
    order = np.lexsort((-points[:, 1], points[:, 0]))
    best, out = -np.inf, []
    for x, y in points[order]:
        if y > best + 1e-12:
            out.append((x, y))
            best = y
    return np.asarray(out)


def _frontier_title(briefing: dict[str, Any], manifest: dict[str, Any], lang: str) -> str:
    picks, refs = _picked(briefing), briefing.get("references", {})
    cost = metric_label("cost_per_year", lang)
    money = lambda v: cost.value(v, lang)  # noqa: E731
    written = (refs.get("as_written") or {}).get("metrics", {})
    p = briefing.get("probability")
    if written.get("cost_per_year") is None or written.get("p_all_hit") is None or p is None:
        return tr(lang, "The trade-off between the objectives", "各目标之间的权衡")
    wc, wp = written["cost_per_year"], written["p_all_hit"]
    cheap = picks.get("cheapest_meeting_probability")
    if cheap is not None:
        c = cheap["metrics"]["cost_per_year"]
        if briefing.get("probability_rule") == "as_written":
            if c >= wc - 1e-9:
                return tr(lang, f"No design found reaches the P(all five) of the policy as written, "
                                f"{wording.prob(wp)}, for less than its {money(wc)}",
                          f"没有方案以低于政策原文方案（{money(wc)}）的支出达到其全部达标概率 {wording.prob(wp)}")
            return tr(lang, f"The policy as written reaches P(all five) = {wording.prob(wp)} for {money(wc)}; the "
                            f"cheapest design doing as well in the same futures costs {money(c)}",
                      f"政策原文方案支出 {money(wc)}，全部达标概率 {wording.prob(wp)}；在相同未来情景中达到同样概率的最低"
                      f"成本方案支出 {money(c)}")  # fmt: skip
        return tr(lang, f"P(all five) of at least {wording.prob(p)} costs {money(c)} at the cheapest; the policy as "
                        f"written costs {money(wc)} and reaches {wording.prob(wp)}",
                  f"全部达标概率至少 {wording.prob(p)} 的最低支出为 {money(c)}；政策原文方案支出 {money(wc)}，概率 "
                  f"{wording.prob(wp)}")  # fmt: skip
    best = max((v["metrics"].get("p_all_hit") or 0 for v in picks.values()), default=wp)
    return tr(lang, f"No design found reaches P(all five) of {wording.prob(p)}; the best reach {wording.prob(best)}, "
                    f"the policy as written {wording.prob(wp)} for {money(wc)}",
              f"没有方案使全部达标概率达到 {wording.prob(p)}；最好的方案为 {wording.prob(best)}，政策原文方案为 "
              f"{wording.prob(wp)}（支出 {money(wc)}）")  # fmt: skip


# --- the lever mixes ----------------------------------------------------------------------------


def _axes(designs: pd.DataFrame, manifest: dict[str, Any]) -> tuple[list[tuple[str, float, float]], list[tuple]]:
    """(key, low, high) of each axis, and the groups of axes: (first, last, header)."""
    identity = manifest.get("identity", {})
    feasible = designs[designs["feasible"].astype(bool)]
    axes = [(k, float(lo), float(hi)) for k, lo, hi, _ in identity.get("levers", [])]  # a lever: its range
    groups = [(0, len(axes) - 1, "levers")] if axes else []
    for key, parts, _ in identity.get("allocations", []):
        first = len(axes)
        for p in parts:
            axes.append((f"{key}.{p}", *_span(feasible, f"{key}.{p}")))
        groups.append((first, len(axes) - 1, key))
    first = len(axes)
    for o, _ in identity.get("objectives", []):
        axes.append((o, *_span(feasible, o)))
    groups.append((first, len(axes) - 1, "objectives"))
    return axes, groups


def _span(feasible: pd.DataFrame, key: str) -> tuple[float, float]:
    """The lowest and highest value among the designs within the budget."""
    v = feasible[key].astype(float).dropna() if len(feasible) else pd.Series([0.0, 1.0])
    return (float(v.min()), float(v.max())) if len(v) else (0.0, 1.0)


def _group_header(header: str, lang: str) -> str:
    if header == "levers":
        return tr(lang, "Levers (each axis its whole range)", "政策工具（各轴为全部取值范围）")
    if header == "objectives":
        return tr(lang, "Objectives (lowest to highest within the budget)", "目标（预算内最低值至最高值）")
    label = labels.parameter(header, lang)  # an allocation: "Guidance fund: shares by cluster"
    part = labels.parameter(f"{header}.{'semi'}", lang).unit
    return label.text + tr(lang, f" ({part.text})", f"（{part.text}）") if part.text else label.text


def _staggered(texts: list[str], size: float, column: float) -> list[str]:
    """Axis names under their axes. When a word is wider than an axis's column (English
    'Semiconductors'), every second name goes one row lower, so each may take nearly two columns;
    a name is never broken inside a word (Chinese breaks between characters, as it may)."""

    words = [w for t in texts for w in t.split() if not any("\u4e00" <= ch <= "\u9fff" for ch in w)]
    if not any(text_width(w, size) > column * 0.92 for w in words):
        return [wrap(t, size, column * 0.92) for t in texts]
    wide = [wrap(t, size, column * 1.8) for t in texts]
    first_row = max(t.count("\n") + 1 for t in wide[::2])
    return [t if i % 2 == 0 else "\n" * (first_row + 1) + t for i, t in enumerate(wide)]


def parallel_chart(designs: pd.DataFrame, briefing: dict[str, Any], manifest: dict[str, Any], lang: str) -> Chart:
    s = sizes(lang)
    axes, groups = _axes(designs, manifest)
    front = designs[designs["pareto"].astype(bool)]
    n = len(axes)
    fig, ax = new_figure("double", 7.0)
    xs = np.arange(n)

    def scaled(row: Any) -> np.ndarray:
        return np.array([(float(row[k]) - lo) / (hi - lo) if hi > lo else 0.5 for k, lo, hi in axes])

    handles, names = [], []
    for i, (_, row) in enumerate(front.iterrows()):
        (line,) = ax.plot(xs, scaled(row), color=EVALUATED_COLOUR, lw=0.6, zorder=1, gid="pareto_design")
        if i == 0:
            handles.append(line)
            names.append(tr(lang, "Pareto design", "帕累托方案"))
    look = styles(manifest)
    written = designs[designs["reference"] == "as_written"]
    if len(written):
        colour, marker = look["as_written"]
        (line,) = ax.plot(xs, scaled(written.iloc[0]), color=colour, lw=1.0, ls=(0, (4, 2)), marker=marker,
                          markersize=3, markerfacecolor="white", zorder=3, gid="as_written")  # fmt: skip
        handles.append(line)
        names.append(tr(lang, "Policy as written", "政策原文方案"))
    for pick, chosen in _picked(briefing).items():
        number, en, zh = PICKS[pick]
        colour, marker = look[pick]
        row = designs[designs["design"] == chosen["design"]].iloc[0]
        (line,) = ax.plot(xs, scaled(row), color=colour, lw=1.3, marker=marker, markersize=3.5, zorder=4,
                          gid=f"pick_{pick}")  # fmt: skip
        handles.append(line)
        names.append(f"{number} {tr(lang, en, zh)}")
    from matplotlib import patheffects
    from matplotlib.transforms import ScaledTranslation, blended_transform_factory

    halo = [patheffects.withStroke(linewidth=2.0, foreground="white")]
    for i, (k, lo, hi) in enumerate(axes):
        ax.plot([i, i], [0.0, 1.0], color="#444444", lw=0.6, zorder=0)  # the axis: its numbers sit past its ends
        scale = axis_label(k, lang).unit.scale
        ends = [(1.0, lo, "bottom")] if hi <= lo else [(0.0, lo, "top"), (1.0, hi, "bottom")]  # flat: one value
        for y, v, va in ends:
            ax.annotate(labels.number(v * scale), (i, y), xytext=(0, -3 if va == "top" else 3),
                        textcoords="offset points", ha="center", va=va, fontsize=s.small, color=MUTED,
                        path_effects=halo)  # fmt: skip
    column = fig.get_size_inches()[0] * 72 / n  # the width of one axis's column, in points
    texts = []
    for k, _, _ in axes:
        allocation = any(k.startswith(g + ".") for _, _, g in groups if g not in ("levers", "objectives"))
        texts.append(labels.cluster(k.rsplit(".", 1)[1], lang) if allocation else axis_label(k, lang).with_unit(lang))
    ax.set_xticks(xs, _staggered(texts, s.small, column), fontsize=s.small)
    ax.set_yticks([])
    ax.set_ylim(-0.1, 1.12)
    ax.set_xlim(-0.5, n - 0.5)
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="x", length=0, pad=4)
    top = ax.secondary_xaxis("top")  # the groups' headers over their axes
    top.set_xticks([(a + b) / 2 for a, b, _ in groups],
                   [wrap(_group_header(g, lang), s.small, column * (b - a + 1) * 0.92) for a, b, g in groups])  # fmt: skip
    top.tick_params(length=0, pad=8, labelsize=s.small, labelcolor=TEXT)
    top.spines["top"].set_visible(False)
    above = blended_transform_factory(ax.transData, ax.transAxes) + ScaledTranslation(0, 3 / 72, fig.dpi_scale_trans)
    for a, b, _ in groups:  # a bracket under each header, above the axes' top numbers
        ax.plot([a - 0.3, b + 0.3], [1.0, 1.0], transform=above, color=MUTED, lw=0.6, clip_on=False)
    k = len(front)
    title = tr(lang, f"{wording.capital(wording.count(k, 'en'))} lever mix{'es are' if k != 1 else ' is'} Pareto-optimal"
                     + ("; none is best on every objective" if k > 1 else ""),
               f"{wording.count(k, 'zh')}个政策工具组合为帕累托最优" + ("；没有一个组合在所有目标上都最好" if k > 1 else ""))
    subtitle = _tag(manifest, lang) + tr(
        lang, "Each grey line is a design on the Pareto set: its levers, the fund's split and its objectives; the "
              "numbers at each axis's ends are its lowest and highest values",
        "每条灰线为一个帕累托方案：其政策工具取值、基金分配与目标值；各轴两端数字为该轴的最低值与最高值")
    finish(fig, title, subtitle, source(manifest, designs, lang), lang, legend=(handles, names, len(names)))
    caption = tr(lang, "The lever mixes of the Pareto set.", "帕累托方案的政策工具组合。")
    return Chart("pareto_parallel", fig, title, caption)
