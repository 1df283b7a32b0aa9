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
what the table holds. One panel per parameter (at most six), titled and scaled from the label
table (a lever's name, its unit on the axis); emerging clusters in vermillion, pillars in blue,
each cluster with its own marker, named in one legend; the dashed line is the emerging target
(``targets.emerging_cagr`` of the results folder, else 10 %). Lines have gids
``<parameter>:<cluster>``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulation.datapack import EMERGING, PILLARS
from simulation.reporting import labels, wording
from simulation.reporting.charts import Chart, Inputs, NotApplicable
from matplotlib.ticker import FuncFormatter

from simulation.reporting.charts.layout import finish, new_figure, scenario_tag, source_line
from simulation.reporting.charts.style import KIND_COLOURS, TARGET_COLOUR, kind_of, sizes, tr
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


def make(inputs: Inputs, lang: str) -> list[Chart]:
    if inputs.response is None:
        raise NotApplicable("no grid-sweep results (response.csv)")
    table = check_table(inputs.response)
    target = 10.0
    runs = [r for r in inputs.runs if r.has_summary]
    if runs:
        target = float(runs[0].summary_data["targets"]["emerging_cagr"])
    s = sizes(lang)
    parameters = list(dict.fromkeys(table["parameter"]))[:MAX_PANELS]
    ncols = min(len(parameters), 3)
    nrows = -(-len(parameters) // ncols)
    width = "single" if len(parameters) == 1 else "double"
    fig, axes = new_figure(width, 6.5 * nrows + 0.5, nrows=nrows, ncols=ncols, squeeze=False)
    reached_any: dict[str, list[tuple[str, float]]] = {}
    for ax, parameter in zip(axes.ravel(), parameters):
        part = table[table["parameter"] == parameter]
        label = labels.parameter(parameter, lang)
        scale = label.unit.scale
        order = [c for c in (*PILLARS, *EMERGING, "city", "other") if c in set(part["cluster"])]
        end_x = 0.0
        for i, cluster in enumerate(order):
            line = part[part["cluster"] == cluster].sort_values("value")
            x, ymed = line["value"].to_numpy(float) * scale, line["cagr_median"].to_numpy(float)
            colour = KIND_COLOURS[kind_of(cluster)]
            if len(order) <= 2 and {"cagr_p5", "cagr_p95"} <= set(line.columns) and line["cagr_p5"].notna().any():
                ax.fill_between(x, line["cagr_p5"], line["cagr_p95"], color=colour, alpha=0.07, lw=0)
            ax.plot(x, ymed, color=colour, marker=MARKERS[i % len(MARKERS)], markersize=3, lw=1.0,
                    gid=f"{parameter}:{cluster}", markerfacecolor="white" if kind_of(cluster) == "pillar" else colour,
                    label=labels.cluster(cluster, lang))
            end_x = float(x[-1])
            if kind_of(cluster) == "emerging":
                hit = np.flatnonzero(ymed >= target)
                if hit.size:
                    reached_any.setdefault(cluster, []).append((parameter, float(x[hit[0]])))
        ax.axhline(target, color=TARGET_COLOUR, lw=0.8, ls=(0, (4, 2)), gid="target")
        ax.set_title(label.text, loc="left", fontsize=s.base)
        ax.set_xlabel(label.unit.text or tr(lang, "setting", "取值"))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: labels.number(v)))
        ax.margins(x=0.06)
        ax.yaxis.grid(True)
    for ax in axes[:, 0]:
        ax.set_ylabel(tr(lang, "Growth, % a year (median)", "年均增长（%，中位数）"))
    for ax in axes.ravel()[len(parameters):]:
        ax.axis("off")
    emerging = [c for c in EMERGING if c in set(table["cluster"])]
    reached, n = len(reached_any), len(emerging)
    how_many = tr(lang, f"all {wording.count(n, 'en')}" if reached == n else
                  f"{wording.count(reached, 'en')} of {wording.count(n, 'en')}",
                  f"全部{wording.count(n, 'zh')}个" if reached == n else
                  f"{wording.count(n, 'zh')}个中的{wording.count(reached, 'zh')}个")
    title = tr(
        lang,
        f"Within the levers' range, median growth reaches {wording.pct(target, 'en', 0)} a year for {how_many} "
        "emerging clusters",
        f"在政策工具取值范围内，{how_many}新兴产业的年均增长中位数达到{wording.pct(target, 'zh', 0)}",
    )
    provenance = inputs.provenance
    tag = ""
    if provenance is not None:
        try:
            many = provenance if isinstance(provenance, list) else [provenance]
            tag = scenario_tag(list(dict.fromkeys(r.scenario_name for r in many)), lang) + tr(lang, ". ", "。")
        except ResultsError:
            tag = ""
    subtitle = tag + tr(lang, f"Median growth at each level of the lever (other levers averaged over the grid); "
                              f"dashed: the {wording.pct(target, 'en', 0)} target",
                        f"各政策工具取值下的年均增长中位数（其余工具在网格上取平均）；虚线：{wording.pct(target, 'zh', 0)}目标")
    handles, names = axes.ravel()[0].get_legend_handles_labels()
    finish(fig, title, subtitle, source_line(provenance, lang), lang, legend=(handles, names, 6))
    return [Chart("lever_response", fig, title, tr(lang, "How growth responds to the levers.", "增长对政策工具的响应。"))]
