"""Lever-response curves from a grid sweep, with the 10 % line.

Input: ``response.csv`` in a results folder (or ``simulate chart --response FILE``), one row
per (parameter, value, cluster):

============ ========================================================================
parameter    the lever varied, a dotted scenario key (``levers.land.floor_multiplier``)
value        its level at this grid point
cluster      a cluster id (``ene``, ``ngei``, ...) or ``city``
cagr_median  median CAGR 2020->end year across the point's replicates, % a year
cagr_p5      optional: 5th percentile (with cagr_p95, drawn as a band)
cagr_p95     optional: 95th percentile
p_hit        optional: share of replicates with CAGR >= the target (emerging clusters)
============ ========================================================================

For a grid over several levers, write one curve per lever with the other levers at their
base level (or averaged over them; say which in the sweep's documentation): the chart draws
what the table holds. One panel per parameter (at most six); emerging clusters in vermillion,
pillars in blue, each cluster with its own marker and a direct label; the dashed line is the
emerging target (``targets.emerging_cagr`` of the results folder, else 10 %). Lines have gids
``<parameter>:<cluster>``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulation.datapack import EMERGING, PILLARS, clusters
from simulation.reporting.charts import Chart, Inputs, NotApplicable
from simulation.reporting.charts.style import (
    KIND_COLOURS, TARGET_COLOUR, end_labels, finish, new_figure, pct, short_name, source_line, tr,
)  # fmt: skip
from simulation.reporting.charts.tornado import label
from simulation.reporting.results_folder import ResultsError

REQUIRED = ("parameter", "value", "cluster", "cagr_median")
MARKERS = ("o", "s", "D", "^", "v", "P", "X", "<", ">", "h")
MAX_PANELS = 6


def check_table(table: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in REQUIRED if c not in table.columns]
    if missing:
        raise ResultsError(f"response table lacks the column(s) {', '.join(missing)} "
                           f"(needs {', '.join(REQUIRED)}; optional: cagr_p5, cagr_p95, p_hit)")
    table = table.copy()
    for col in ("value", "cagr_median", "cagr_p5", "cagr_p95", "p_hit"):
        if col in table.columns:
            table[col] = pd.to_numeric(table[col], errors="coerce")
    table["cluster"] = table["cluster"].astype(str)
    return table


def _kind(cluster: str) -> str:
    return "emerging" if cluster in EMERGING else "pillar" if cluster in PILLARS else "city" if cluster == "city" else "other"


def make(inputs: Inputs, lang: str) -> list[Chart]:
    if inputs.response is None:
        raise NotApplicable("no grid-sweep results (response.csv)")
    table = check_table(inputs.response)
    target = 10.0
    runs = [r for r in inputs.runs if r.has_summary]
    if runs:
        target = float(runs[0].summary_data["targets"]["emerging_cagr"])
    rows = {r.cluster_id: {"name_en": r.name_en, "name_zh": r.name_zh} for r in clusters()}
    rows["city"] = {"name_en": "City industry", "name_zh": "全市工业"}
    parameters = list(dict.fromkeys(table["parameter"]))[:MAX_PANELS]
    ncols = min(len(parameters), 3)
    nrows = -(-len(parameters) // ncols)
    width = "single" if len(parameters) == 1 else "double"
    fig, axes = new_figure(width, 6.5 * nrows + 1.5, nrows=nrows, ncols=ncols, squeeze=False)
    reached_any: dict[str, list[tuple[str, float]]] = {}
    for ax, parameter in zip(axes.ravel(), parameters):
        part = table[table["parameter"] == parameter]
        order = [c for c in (*EMERGING, *PILLARS, "city", "other") if c in set(part["cluster"])]
        ends: list[tuple[float, str, str, bool]] = []
        end_x = 0.0
        for i, cluster in enumerate(order):
            line = part[part["cluster"] == cluster].sort_values("value")
            x, ymed = line["value"].to_numpy(float), line["cagr_median"].to_numpy(float)
            colour = KIND_COLOURS[_kind(cluster)]
            if len(order) <= 2 and {"cagr_p5", "cagr_p95"} <= set(line.columns) and line["cagr_p5"].notna().any():
                ax.fill_between(x, line["cagr_p5"], line["cagr_p95"], color=colour, alpha=0.07, lw=0)
            ax.plot(x, ymed, color=colour, marker=MARKERS[i % len(MARKERS)], markersize=3, lw=1.0,
                    gid=f"{parameter}:{cluster}", markerfacecolor="white" if _kind(cluster) == "pillar" else colour)
            ends.append((float(ymed[-1]), short_name(cluster, rows.get(cluster, {"name_en": cluster, "name_zh": cluster}),
                                                     lang), colour, False))
            end_x = float(x[-1])
            if _kind(cluster) == "emerging":
                hit = np.flatnonzero(ymed >= target)
                if hit.size:
                    reached_any.setdefault(cluster, []).append((parameter, float(x[hit[0]])))
        ax.axhline(target, color=TARGET_COLOUR, lw=0.8, ls=(0, (4, 2)), gid="target")
        end_labels(ax, end_x, ends, size=5.2)
        ax.set_title(label(parameter), loc="left", fontsize=7)
        ax.set_xlabel(tr(lang, "Lever level", "政策工具取值"))
        ax.margins(x=0.05)
        xmin, xmax = ax.get_xlim()
        ax.set_xlim(xmin, xmax + 0.35 * (xmax - xmin))
        ax.yaxis.grid(True)
    for ax in axes[:, 0]:
        ax.set_ylabel(tr(lang, "Revenue growth, % a year (median)", "营业收入年均增长（%，中位数）"))
    for ax in axes.ravel()[len(parameters):]:
        ax.axis("off")
    emerging = [c for c in EMERGING if c in set(table["cluster"])]
    title = tr(
        lang,
        f"{'All' if len(reached_any) == len(emerging) else f'{len(reached_any)} of'} {len(emerging)} emerging clusters reach {pct(target, 0)} a year within the levers' range",
        f"在政策工具取值范围内，{len(emerging)} 个新兴产业中有 {len(reached_any)} 个年均增长达到{pct(target, 0, 'zh')}",
    )
    subtitle = tr(lang, f"Median growth at each grid level; dashed: the {pct(target, 0)} target",
                  f"各网格取值下的年均增长中位数；虚线：{pct(target, 0, 'zh')}目标")
    provenance = inputs.provenance
    finish(fig, title, subtitle, source_line(provenance, lang) if provenance is not None else "")
    return [Chart("lever_response", fig, title, tr(lang, "How growth responds to the levers.", "增长对政策工具的响应。"))]
