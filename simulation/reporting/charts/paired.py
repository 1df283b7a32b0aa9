"""What the policy adds: paired effects between two scenarios, the spread beside the mean's CI.

Two scenarios run with the same seeds differ, replicate by replicate, by the policy's effect.
Left panel, per cluster and the city: the per-replicate difference in growth A - B (pp a year):
its middle 90 % across replicates (wide light bar: how much the effect varies between possible
futures) and the mean effect with its paired 95 % CI (dark dot and line: how precisely the runs
pin the mean down; it narrows with more replicates, the spread does not). Right panel: the
difference in the chance of meeting the target (emerging: P(hit); pillars: P(keeps pace)),
with its paired 95 % CI.

Made from a ``simulate compare`` folder (comparison.json; the spread needs its ``spread_p5``
and ``spread_p95`` columns) or from a run whose summary.json has a ``counterfactual`` block
(:func:`effects_from_counterfactual` documents the keys it reads). Errorbars have gids
``paired:cagr`` and ``paired:target`` (x in y-axis order, top to bottom); the spread bars
``spread:cagr``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from simulation.reporting import labels, wording
from simulation.reporting.charts import Chart, Inputs, NotApplicable
from simulation.reporting.charts.layout import finish, new_figure, scenario_tag, source_line
from simulation.reporting.charts.style import CLUSTER_ORDER, KIND_COLOURS, KIND_MARKERS, kind_of, sizes, tr

COLUMNS = ("cluster", "kind", "measure", "diff", "low", "high", "spread_low", "spread_high")


def _f(x: Any) -> float:
    return math.nan if x is None else float(x)


def effects_from_comparison(comparison: dict) -> pd.DataFrame:
    """The effects table (COLUMNS) of a comparison.json; measure 'cagr' or 'target'."""
    rows = []
    for r in comparison["rows"]:
        if r["measure"] not in ("cagr", "p_hit", "p_keeps_pace") or r["kind"] not in ("emerging", "pillar", "city"):
            continue  # the money rows and P(all five) are read elsewhere
        measure = "cagr" if r["measure"] == "cagr" else "target"
        rows.append((r["cluster"], r["kind"], measure, _f(r["diff"]), _f(r["paired_low"]), _f(r["paired_high"]),
                     _f(r.get("spread_p5")), _f(r.get("spread_p95"))))
    return _ordered(pd.DataFrame(rows, columns=list(COLUMNS)))


def effects_from_counterfactual(block: dict) -> pd.DataFrame:
    """The effects table of summary.json's ``counterfactual`` block.

    Reads, per entry of ``clusters`` (and ``city``): ``cluster``, ``kind``, ``cagr`` = {``mean``,
    ``ci_low``, ``ci_high``, ``p5``, ``p95``} (pp a year; p5/p95 the spread of the paired
    differences), and ``p_hit`` or ``p_keeps_pace`` = {``diff``, ``ci_low``, ``ci_high``}.
    """
    rows = []
    entries = list(block.get("clusters", []))
    if block.get("city"):
        entries.append({"cluster": "city", "kind": "city", **block["city"]})
    for e in entries:
        g = e.get("cagr") or {}
        if g.get("mean") is not None:
            rows.append((e["cluster"], e.get("kind", kind_of(e["cluster"])), "cagr", _f(g["mean"]), _f(g.get("ci_low")),
                         _f(g.get("ci_high")), _f(g.get("p5")), _f(g.get("p95"))))
        t = e.get("p_hit") or e.get("p_keeps_pace") or e.get("hit") or e.get("keeps_pace")
        if t and t.get("diff") is not None:
            rows.append((e["cluster"], e.get("kind", kind_of(e["cluster"])), "target", _f(t["diff"]),
                         _f(t.get("ci_low")), _f(t.get("ci_high")), math.nan, math.nan))
    return _ordered(pd.DataFrame(rows, columns=list(COLUMNS)))


def _ordered(table: pd.DataFrame) -> pd.DataFrame:
    order = {c: i for i, c in enumerate([*CLUSTER_ORDER, "other", "city"])}
    table = table[table["cluster"] != "other"]
    return table.sort_values("cluster", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)


def effects(inputs: Inputs) -> tuple[pd.DataFrame, str, str, int, list]:
    """(effects table, scenario A's name, B's name, replicates, runs for the source line)."""
    if inputs.comparison is not None:
        c = inputs.comparison.comparison
        return effects_from_comparison(c), c["a"]["name"], c["b"]["name"], int(c["replicates"]), inputs.runs
    run = inputs.focus
    block = run.summary_data.get("counterfactual") if run is not None and run.has_summary else None
    if not block:
        raise NotApplicable("paired effects need a `simulate compare` folder or a run with a counterfactual")
    name = block.get("scenario") or block.get("name") or "counterfactual"
    return effects_from_counterfactual(block), run.scenario_name, str(name), int(block.get("replicates") or
                                                                                 run.replicates or 0), [run]


def _panel(ax, rows: pd.DataFrame, measure: str, lang: str) -> np.ndarray:
    n = len(rows)
    y = np.arange(n)[::-1].astype(float)
    d = rows["diff"].to_numpy(float)
    lo, hi = rows["low"].to_numpy(float), rows["high"].to_numpy(float)
    s_lo, s_hi = rows["spread_low"].to_numpy(float), rows["spread_high"].to_numpy(float)
    ax.axvline(0, color="#444444", lw=0.6, zorder=1)
    has_spread = np.isfinite(s_lo) & np.isfinite(s_hi)
    if has_spread.any():
        ax.barh(y[has_spread], (s_hi - s_lo)[has_spread], left=s_lo[has_spread], height=0.5, color="#DADADA",
                lw=0, zorder=2, gid=f"spread:{measure}")
    colours = [KIND_COLOURS.get(k, KIND_COLOURS["other"]) for k in rows["kind"]]
    for kind in dict.fromkeys(rows["kind"]):
        mask = (rows["kind"] == kind).to_numpy()
        ax.errorbar(d[mask], y[mask], xerr=np.vstack([d[mask] - lo[mask], hi[mask] - d[mask]]),
                    fmt=KIND_MARKERS.get(kind, "o"), color=KIND_COLOURS.get(kind, KIND_COLOURS["other"]),
                    elinewidth=2.0, capsize=0, markersize=3.8, zorder=3)
    # one invisible errorbar over all rows in axis order: what tests and readers of the figure use
    ax.errorbar(d, y, xerr=np.vstack([d - lo, hi - d]), fmt="none", alpha=0, gid=f"paired:{measure}")
    ax.set_yticks(y, [labels.cluster(c, lang) for c in rows["cluster"]])
    for tick, colour in zip(ax.get_yticklabels(), colours):
        tick.set_color(colour)
    ax.set_ylim(-0.7, n - 0.3)
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0)
    ax.xaxis.grid(True)
    ends = np.concatenate([lo, hi, s_lo[has_spread], s_hi[has_spread], [0.0]])
    left, right = float(np.nanmin(ends)), float(np.nanmax(ends))
    pad = 0.06 * (right - left) if right > left else 1.0
    ax.set_xlim(left - pad, right + pad)  # zero always in view, no empty half
    return has_spread


def headline(cagr: pd.DataFrame, a: str, b: str, lang: str) -> str:
    """Where the policy lifts growth (paired CI above zero), and where most: only as far as the CIs separate them."""
    clusters = cagr[cagr["cluster"] != "city"]
    up = clusters[clusters["low"] > 0]
    down = clusters[clusters["high"] < 0]
    n = len(clusters)
    a_name, b_name = labels.scenario(a, lang), labels.scenario(b, lang)
    rest = n - len(up) - len(down)

    def how_many(k: int, lang_: str) -> str:
        if k == n:
            return tr(lang_, f"all {wording.count(n, 'en')}", f"全部{wording.count(n, 'zh')}个")
        return tr(lang_, f"{wording.count(k, 'en')} of {wording.count(n, 'en')}", f"{wording.count(n, 'zh')}个中的{wording.count(k, 'zh')}个")

    en, zh = [], []
    if len(up):
        en.append(f"growth is higher in {how_many(len(up), 'en')} clusters")
        zh.append(f"{how_many(len(up), 'zh')}产业增速更高")
    if len(down):
        en.append(f"lower in {wording.count(len(down), 'en')}")
        zh.append(f"{wording.count(len(down), 'zh')}个更低")
    if rest:
        en.append(f"{'not clearly different' if not en else 'unclear'} in {wording.count(rest, 'en')}")
        zh.append(f"{wording.count(rest, 'zh')}个差异不明确")
    text_en = f"{a_name} against {b_name}: " + ", ".join(en) + " (paired 95 % CIs)"
    text_zh = f"{a_name}相对{b_name}：" + "，".join(zh) + "（配对 95% 置信区间）"
    if len(up):
        by = up.set_index("cluster")
        top = wording.leaders({r.cluster: (r.diff, r.low, r.high) for r in up.itertuples()})
        names = wording.join([labels.cluster(c, lang) for c in top], lang)
        if len(top) == 1:
            text_en += f"; most in {names}, by {by.loc[top[0], 'diff']:.2f} pp a year"
            text_zh += f"；{names}提高最多，年均高 {by.loc[top[0], 'diff']:.2f} 个百分点"
        elif len(top) < len(up):
            text_en += f"; most in {names}, too close to rank"
            text_zh += f"；{names}提高最多，彼此难分先后"
    return text_en if lang == "en" else text_zh


def make(inputs: Inputs, lang: str) -> list[Chart]:
    table, a, b, replicates, runs = effects(inputs)
    cagr = table[table["measure"] == "cagr"].reset_index(drop=True)
    target = table[table["measure"] == "target"].reset_index(drop=True)
    s = sizes(lang)
    fig, axes = new_figure("double", 7.5, ncols=2)
    has_spread = _panel(axes[0], cagr, "cagr", lang)
    _panel(axes[1], target, "target", lang)
    a_name, b_name = labels.scenario(a, lang), labels.scenario(b, lang)
    axes[0].set_xlabel(tr(lang, f"Growth, {a_name} minus {b_name}, pp a year",
                          f"年均增速之差（{a_name}减{b_name}，百分点）"))
    axes[1].set_xlabel(tr(lang, f"P(target), {a_name} minus {b_name}", f"达标概率之差（{a_name}减{b_name}）"))
    axes[0].set_title(tr(lang, "Growth 2020–2025", "2020–2025 年均增速"), loc="left", fontsize=s.base)
    axes[1].set_title(tr(lang, "Pillars: P(keeps pace); emerging: P(meets target)",
                         "支柱产业：P（同步增长）；新兴产业：P（达标）"), loc="left", fontsize=s.base)
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [Line2D([], [], color="#333333", lw=2.0, marker="o", markersize=3.8)]
    names = [tr(lang, "Mean effect, paired 95 % CI", "平均效应及配对 95% 置信区间")]
    if has_spread.any():
        handles.append(Patch(color="#DADADA"))
        names.append(tr(lang, "Middle 90 % of the effects in single model runs", "单次模拟效应的居中 90%"))
    title = headline(cagr, a, b, lang)
    tag = scenario_tag([a, b], lang)
    subtitle = tr(lang, f"{tag}, {replicates} paired model runs with the same seeds: each pair differs only by the "
                        "policy. The CI shows how precisely the mean effect is known (it narrows with more runs); the "
                        "grey bar how much the effect varies between runs",
                  f"{tag}，{replicates} 对使用相同随机种子的配对模拟，每对之间只差政策。置信区间反映平均效应的估计精度"
                  "（模拟越多越窄）；灰条反映效应在不同模拟之间的差异")
    finish(fig, title, subtitle, source_line(runs, lang, paired=True), lang, legend=(handles, names, len(names)))
    caption = tr(lang, f"What {a_name} adds to {b_name}, cluster by cluster.", f"{a_name}相对{b_name}的逐产业效应。")
    return [Chart("paired_differences", fig, title, caption)]
