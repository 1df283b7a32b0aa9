"""Charts of a lever optimisation: the cost-probability frontier and the Pareto set's lever mixes.

Input: an optimisation folder written by ``simulate optimise`` (:mod:`simulation.experiments.optimise`):
``designs.parquet`` (every evaluated design: lever values, metrics, feasible, pareto, reference),
``briefing.json`` (the three picks and the reference designs) and ``manifest.json``.

* ``pareto_frontier``: public cost a year (x) against P(all five emerging clusters hit) (y) for
  every evaluated design (grey; hollow if over the budget), the Pareto set in vermillion with the
  cost-probability frontier as a step line, the policy as written and the least support in black,
  the three briefing designs numbered, the budget and the stated probability as dashed lines.
  Without those two metrics, the first two objectives.
* ``pareto_parallel``: one line per Pareto design across the decision variables and the
  objectives, each axis from its lowest to its highest value (ends written), the three briefing
  designs in colour and the policy as written dashed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation.reporting.charts import Chart
from simulation.reporting.charts.style import KIND_COLOURS, MUTED, OKABE_ITO, bold, finish, new_figure, tr
from simulation.reporting.labels import name as key_label
from simulation.reporting.labels import unit_text as key_unit

PICKS = {  # pick -> (number, colour, en, zh)
    "cheapest_meeting_probability": ("1", OKABE_ITO["bluish_green"], "cheapest meeting the probability", "达到概率要求的最低成本方案"),
    "most_robust_at_todays_budget": ("2", OKABE_ITO["blue"], "most robust at today's budget", "现有预算内最稳健方案"),
    "best_per_yi": ("3", OKABE_ITO["orange"], "best per 亿", "每亿元效益最高方案"),
}  # fmt: skip
PARETO_COLOUR = KIND_COLOURS["emerging"]


def read(folder: str | Path) -> tuple[pd.DataFrame, dict[str, Any], dict[str, Any]]:
    folder = Path(folder)
    designs = pd.read_parquet(folder / "designs.parquet")
    briefing = json.loads((folder / "briefing.json").read_text(encoding="utf-8"))
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return designs, briefing, manifest


def make(folder: str | Path, lang: str) -> list[Chart]:
    designs, briefing, manifest = read(folder)
    return [frontier_chart(designs, briefing, manifest, lang), parallel_chart(designs, briefing, manifest, lang)]


def metric_label(name: str, lang: str) -> str:
    from simulation.experiments.robustness import metric
    from simulation.reporting.labels import cluster as cluster_label

    if name.startswith("p_hit_"):
        c = cluster_label(name[6:], lang)
        return f"{c}达标概率" if lang == "zh" else f"P({c} hits)"
    try:
        m = metric(name)
    except KeyError:
        return name
    text, unit = (m.zh, m.unit_zh) if lang == "zh" else (m.en, m.unit_en)
    return f"{text}（{unit}）" if unit and lang == "zh" else f"{text}, {unit}" if unit else text


def source(manifest: dict[str, Any], designs: pd.DataFrame, lang: str) -> str:
    name, seeds = manifest.get("name", "?"), len(manifest.get("seeds", []))
    seed = manifest.get("identity", {}).get("seed")
    date = str(manifest.get("ended") or manifest.get("started") or "")[:10]
    if lang == "zh":
        return (f"来源：东莞产业集群模型；政策优化 {name}，随机种子 {seed}，{len(designs)} 个方案 × {seeds} 个未来情景"
                f"（共同随机数），运行于 {date}。")  # fmt: skip
    return (f"Source: Dongguan industrial-cluster model; optimisation {name}, seed {seed}, {len(designs)} designs x "
            f"{seeds} futures (common random numbers), run {date}.")  # fmt: skip


def _axes_metrics(manifest: dict[str, Any], designs: pd.DataFrame) -> tuple[str, str]:
    objectives = [o for o, _ in manifest.get("identity", {}).get("objectives", [])]
    x = "cost_per_year" if "cost_per_year" in designs else objectives[0]
    y = "p_all_hit" if "p_all_hit" in designs else next(o for o in objectives if o != x)
    return x, y


def frontier_chart(designs: pd.DataFrame, briefing: dict[str, Any], manifest: dict[str, Any], lang: str) -> Chart:
    xm, ym = _axes_metrics(manifest, designs)
    fig, ax = new_figure("single", 8.2)
    d = designs[np.isfinite(designs[xm].astype(float)) & np.isfinite(designs[ym].astype(float))]
    feasible, pareto = d["feasible"].astype(bool), d["pareto"].astype(bool)
    ax.scatter(d.loc[feasible & ~pareto, xm], d.loc[feasible & ~pareto, ym], s=7, color="#9A9A9A", linewidths=0,
               gid="evaluated", label=tr(lang, "evaluated design", "已评估方案"))  # fmt: skip
    if (~feasible).any():
        ax.scatter(d.loc[~feasible, xm], d.loc[~feasible, ym], s=7, facecolors="none", edgecolors="#9A9A9A", lw=0.5,
                   gid="over_budget", label=tr(lang, "over the budget", "超出预算"))  # fmt: skip
    ax.scatter(d.loc[pareto, xm], d.loc[pareto, ym], s=11, color=PARETO_COLOUR, linewidths=0, zorder=3, gid="pareto",
               label=tr(lang, "Pareto set", "帕累托方案"))  # fmt: skip
    envelope = _envelope(d.loc[feasible, [xm, ym]].to_numpy(dtype=float))
    if len(envelope):
        ax.step(envelope[:, 0], envelope[:, 1], where="post", color=PARETO_COLOUR, lw=0.9, zorder=2, gid="frontier")
    refs = briefing.get("references", {})
    marks = [("as_written", "D", tr(lang, "policy as written", "政策原文方案")),
             ("least", "s", tr(lang, "least support", "最低支持方案"))]
    for name, marker, text in marks:
        ref = refs.get(name)
        if ref and ref["metrics"].get(xm) is not None and ref["metrics"].get(ym) is not None:
            ax.scatter([ref["metrics"][xm]], [ref["metrics"][ym]], marker=marker, s=20, color="#000000", zorder=4,
                       gid=name, label=text)  # fmt: skip
    for pick, (number, colour, _, _) in PICKS.items():
        chosen = briefing.get("picks", {}).get(pick)
        if chosen and chosen.get("design") is not None:
            px, py = chosen["metrics"][xm], chosen["metrics"][ym]
            ax.scatter([px], [py], s=55, facecolors="none", edgecolors=colour, lw=1.2, zorder=5, gid=f"pick_{pick}")
            ax.annotate(number, (px, py), xytext=(5, 4), textcoords="offset points", fontsize=7, color=colour,
                        path_effects=bold(colour, 0.3))  # fmt: skip
    budget, probability = briefing.get("budget"), briefing.get("probability")
    if budget is not None and xm == "cost_per_year":
        ax.axvline(budget, color="#000000", ls="--", lw=0.6, gid="budget")
        ax.annotate(tr(lang, f"budget {budget:g}", f"预算 {budget:g}"), (budget, 0.0), xycoords=("data", "axes fraction"),
                    xytext=(-2, 2), textcoords="offset points", ha="right", va="bottom", fontsize=6, color=MUTED)
    if probability is not None and ym == "p_all_hit":
        ax.axhline(probability, color="#000000", ls=":", lw=0.6, gid="probability")
    ax.set_xlabel(_capital(metric_label(xm, lang)))
    ax.set_ylabel(_capital(metric_label(ym, lang)))
    ax.grid(True)
    handles, names = ax.get_legend_handles_labels()
    title = _frontier_title(briefing, lang)
    subtitle = tr(lang, "Each dot is a design (a lever mix) evaluated on the same futures; the line is the frontier: "
                        "the most P(all five) for a given cost. Numbers: " + "; ".join(
                            f"{n} {en}" for n, _, en, _ in PICKS.values()),
                  "每个点为一个方案（政策工具组合），在相同的未来情景下评估；折线为前沿：给定成本下最高的全部达标概率。编号："
                  + "；".join(f"{n} {zh}" for n, _, _, zh in PICKS.values()))  # fmt: skip
    finish(fig, title, subtitle, source(manifest, designs, lang), legend=(handles, names, 3))
    caption = tr(lang, "The cost of robustness: public money against the chance that all five emerging clusters hit.",
                 "稳健的代价：财政支出与五个新兴产业全部达标的概率。")
    return Chart("pareto_frontier", fig, title, caption)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


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


def _frontier_title(briefing: dict[str, Any], lang: str) -> str:
    picks, refs = briefing.get("picks", {}), briefing.get("references", {})
    cheap = picks.get("cheapest_meeting_probability") or {}
    written = refs.get("as_written") or {}
    p = briefing.get("probability")
    wm = written.get("metrics", {})
    if cheap.get("design") is not None and wm.get("cost_per_year") is not None:
        c = cheap["metrics"]
        if briefing.get("probability_rule") == "as_written":
            return tr(lang, f"The policy as written reaches P(all five) = {p:.2f} for {wm['cost_per_year']:.0f} 亿元 a "
                            f"year; the cheapest design doing as well costs {c['cost_per_year']:.0f}",
                      f"政策原文方案每年 {wm['cost_per_year']:.0f} 亿元，全部达标概率 {p:.2f}；达到同样概率的最低成本方案每年 "
                      f"{c['cost_per_year']:.0f} 亿元")  # fmt: skip
        return tr(lang, f"P(all five) of at least {p:g} costs {c['cost_per_year']:.0f} 亿元 a year at the cheapest; the "
                        f"policy as written costs {wm['cost_per_year']:.0f} and reaches {wm.get('p_all_hit', 0):.2f}",
                  f"全部达标概率至少 {p:g} 的最低成本为每年 {c['cost_per_year']:.0f} 亿元；政策原文方案每年 "
                  f"{wm['cost_per_year']:.0f} 亿元，概率 {wm.get('p_all_hit', 0):.2f}")  # fmt: skip
    if wm.get("cost_per_year") is not None and wm.get("p_all_hit") is not None:
        best = max((v.get("metrics", {}).get("p_all_hit") or 0 for v in picks.values() if v.get("design") is not None),
                   default=wm["p_all_hit"])  # fmt: skip
        return tr(lang, f"No design reaches P(all five) of {p:g}; the best reach {best:.2f}, the policy as written "
                        f"{wm['p_all_hit']:.2f} at {wm['cost_per_year']:.0f} 亿元 a year",
                  f"没有方案使全部达标概率达到 {p:g}；最好的方案为 {best:.2f}，政策原文方案为 {wm['p_all_hit']:.2f}"
                  f"（每年 {wm['cost_per_year']:.0f} 亿元）")  # fmt: skip
    return tr(lang, "The trade-off between the objectives", "各目标之间的权衡")


def parallel_chart(designs: pd.DataFrame, briefing: dict[str, Any], manifest: dict[str, Any], lang: str) -> Chart:
    identity = manifest.get("identity", {})
    feasible = designs[designs["feasible"].astype(bool)]
    axes = [(k, float(lo), float(hi)) for k, lo, hi, _ in identity.get("levers", [])]  # a lever: its range
    measured = [f"{key}.{p}" for key, parts, _ in identity.get("allocations", []) for p in parts]
    objectives = [o for o, _ in identity.get("objectives", [])]
    for k in [*measured, *objectives]:  # shares and objectives: lowest to highest among the feasible designs
        v = feasible[k].astype(float) if len(feasible) else pd.Series([0.0, 1.0])
        axes.append((k, float(v.min()), float(v.max())))
    front = designs[designs["pareto"].astype(bool)]
    n = len(axes)
    fig, ax = new_figure("double", 9.5)
    xs = np.arange(n)

    def scaled(row: Any) -> np.ndarray:
        return np.array([(float(row[k]) - lo) / (hi - lo) if hi > lo else 0.5 for k, lo, hi in axes])

    for _, row in front.iterrows():
        ax.plot(xs, scaled(row), color="#B0B0B0", lw=0.6, alpha=0.8, zorder=1, gid="pareto_design")
    written = designs[designs["reference"] == "as_written"]
    if len(written):
        ax.plot(xs, scaled(written.iloc[0]), color="#000000", lw=1.0, ls="--", zorder=3, gid="as_written",
                label=tr(lang, "policy as written", "政策原文方案"))  # fmt: skip
    for pick, (number, colour, en, zh) in PICKS.items():
        chosen = briefing.get("picks", {}).get(pick) or {}
        if chosen.get("design") is not None:
            row = designs[designs["design"] == chosen["design"]].iloc[0]
            ax.plot(xs, scaled(row), color=colour, lw=1.5, zorder=4, gid=f"pick_{pick}",
                    label=f"{number} {tr(lang, en, zh)}")  # fmt: skip
    for i, (k, lo, hi) in enumerate(axes):
        ax.axvline(i, color="#444444", lw=0.6, zorder=0)
        ends = [(0.5, lo, "center")] if hi <= lo else [(0.0, lo, "top"), (1.0, hi, "bottom")]
        for y, v, va in ends:
            offset = {"top": -3, "bottom": 3, "center": 0}[va]
            ax.annotate(_short(v), (i, y), xytext=(2 if va == "center" else 0, offset), textcoords="offset points",
                        ha="left" if va == "center" else "center", va=va, fontsize=5, color=MUTED)  # fmt: skip
    names = []
    for k, _, _ in axes:
        if k in objectives:
            names.append(metric_label(k, lang))
        else:
            unit = key_unit(k, lang)
            names.append(key_label(k, lang) + (f" ({unit})" if unit and lang == "en" else f"（{unit}）" if unit else ""))
    ax.set_xticks(xs, [_wrap(t) for t in names], fontsize=5.2)
    ax.set_yticks([])
    ax.set_ylim(-0.08, 1.08)
    ax.set_xlim(-0.4, n - 0.6)
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="x", length=0, pad=8)
    handles, labels = ax.get_legend_handles_labels()
    title = tr(lang, f"{len(front)} lever mixes are Pareto-optimal; no one of them is best on every objective",
               f"{len(front)} 个政策工具组合为帕累托最优；没有一个组合在所有目标上都最好")
    subtitle = tr(lang, "Each grey line is a Pareto design: its levers (left; each axis the lever's whole range), the "
                        "fund's split and the objectives (right; each axis from the lowest to the highest value among "
                        "the designs within the budget)",
                  "每条灰线为一个帕累托方案：左为政策工具取值（各轴为其全部取值范围），右为基金分配与目标值（各轴从预算内方案的"
                  "最低值到最高值）")  # fmt: skip
    finish(fig, title, subtitle, source(manifest, designs, lang), legend=(handles, labels, 4))
    caption = tr(lang, "The lever mixes of the Pareto set.", "帕累托方案的政策工具组合。")
    return Chart("pareto_parallel", fig, title, caption)


def _short(v: float) -> str:
    """An axis end: three significant figures, thousands with a comma."""
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"


def _wrap(text: str, width: int = 14) -> str:
    if any("\u4e00" <= ch <= "\u9fff" for ch in text):
        return "\n".join(text[i : i + 5] for i in range(0, len(text), 5))
    words, lines, line = text.split(), [], ""
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    lines.append(line)
    return "\n".join(lines)
