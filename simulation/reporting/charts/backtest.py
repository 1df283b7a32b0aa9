"""Backtest fan charts: each series' forecasts from every origin, with what was then observed.

Made from a backtest table file (:func:`simulation.forecasting.backtest_table.write_table`)
and the shipped observations, never from the model. One double-column chart per series
(``backtest_<series>``), one panel per forecast origin, all panels on one y scale:

* the model's forecast as a fan from the origin: the 90 % band (5th–95th percentile), the
  50 % band (25th–75th) and the median, in the series' cluster colour (city industry grey);
* each benchmark's 90 % band as two thin dashed lines and its median dotted, lighter;
* observations known at the origin as small dots on a thin line, later ones as white
  diamonds; a year-to-date figure is labelled with its months, a lower bound is a triangle.

Artists carry gids ``model_band90``, ``model_band50``, ``model_median``, ``<source>_band90``,
``<source>_median``, ``history`` and ``observed`` (tests read them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation.datapack import CLUSTERS, clusters
from simulation.forecasting.backtest_table import MODEL, read_table, sources_in
from simulation.forecasting.observations import SERIES_BY_ID
from simulation.forecasting.observations import observations as observed_table
from simulation.reporting.charts import Chart
from simulation.reporting.charts.layout import finish, new_figure, run_facts, source_of
from simulation.reporting.charts.render import render
from simulation.reporting.charts.style import KIND_COLOURS, MUTED, OKABE_ITO, house_style, sizes, tr

SOURCE_NAMES = {
    "model": ("Model", "模型"),
    "rw": ("Random walk", "随机游走"),
    "rw_drift": ("Random walk with drift", "带漂移的随机游走"),
    "ar1": ("AR(1)", "一阶自回归"),
}
BENCHMARK_COLOURS = (OKABE_ITO["sky_blue"], OKABE_ITO["orange"], OKABE_ITO["bluish_green"],
                     OKABE_ITO["reddish_purple"])  # fmt: skip
PERIODS_ZH = {"Q1–Q3": "前三季度", "Jan–Nov": "1–11月", "Jan–Sep": "1–9月"}
CITY_FAN = "#595959"


def source_name(source: str, lang: str) -> str:
    en, zh = SOURCE_NAMES.get(source, (source.replace("_", " "), source.replace("_", " ")))
    return tr(lang, en, zh)


def _colour(series: str) -> str:
    cluster = SERIES_BY_ID[series].cluster
    if cluster not in CLUSTERS:
        return CITY_FAN
    return KIND_COLOURS[clusters()[CLUSTERS.index(cluster)].kind]


def _fan(rows: pd.DataFrame, anchor: tuple[int, float] | None) -> dict[str, np.ndarray]:
    """Years and quantiles of one source from one origin, starting at the origin's observation."""
    rows = rows[rows["kind"] != "none"].sort_values("year")
    out = {k: rows[k].to_numpy(float) for k in ("median", "q05", "q25", "q75", "q95")}
    out["year"] = rows["year"].to_numpy(float)
    if anchor is not None and len(rows):
        out = {k: np.concatenate([[anchor[0] if k == "year" else anchor[1]], v]) for k, v in out.items()}
    return out


def _period_label(period: str, lang: str) -> str:
    return PERIODS_ZH.get(period, period) if lang == "zh" else period


def _panel(ax: Any, table: pd.DataFrame, obs: pd.DataFrame, origin: int, lang: str, colour: str) -> None:
    s = sizes(lang)
    known = obs[obs["year"] <= origin]
    anchor_rows = known[(known["year"] == origin) & (known["bound"] == "point")]
    anchor = (origin, float(anchor_rows["value"].iloc[0])) if len(anchor_rows) else None
    benchmarks = [s for s in sources_in(table) if s != MODEL]
    for i, source in enumerate(benchmarks):
        fan = _fan(table[(table["origin"] == origin) & (table["source"] == source)], anchor)
        if fan["year"].size == 0:
            continue
        c = BENCHMARK_COLOURS[i % len(BENCHMARK_COLOURS)]
        ax.plot(fan["year"], fan["q05"], color=c, lw=0.8, ls=(0, (4, 2)), gid=f"{source}_band90",
                label=source_name(source, lang))
        ax.plot(fan["year"], fan["q95"], color=c, lw=0.8, ls=(0, (4, 2)), gid=f"{source}_band90")
        ax.plot(fan["year"], fan["median"], color=c, lw=0.9, ls=(0, (1, 1.5)), gid=f"{source}_median")
    fan = _fan(table[(table["origin"] == origin) & (table["source"] == MODEL)], anchor)
    if fan["year"].size:
        ax.fill_between(fan["year"], fan["q05"], fan["q95"], color=colour, alpha=0.18, lw=0, gid="model_band90",
                        label=tr(lang, "Model: 90 % band", "模型：90% 区间"))
        ax.fill_between(fan["year"], fan["q25"], fan["q75"], color=colour, alpha=0.38, lw=0, gid="model_band50",
                        label=tr(lang, "Model: 50 % band", "模型：50% 区间"))
        ax.plot(fan["year"], fan["median"], color=colour, lw=1.4, gid="model_median",
                label=tr(lang, "Model: median", "模型：中位数"))
    points = known[known["bound"] == "point"]
    ax.plot(points["year"], points["value"], color="#111111", lw=0.7, marker="o", markersize=2.6, gid="history",
            label=tr(lang, "Observed, known at the origin", "观测值（起点时已知）"), zorder=4)
    later = obs[obs["year"] > origin]
    for bound, marker in (("point", "D"), ("lower", "^")):
        rows = later[later["bound"] == bound]
        if rows.empty:
            continue
        label = (tr(lang, "Observed later", "观测值（起点后公布）") if bound == "point"
                 else tr(lang, "Observed lower bound", "观测下限"))
        ax.plot(rows["year"], rows["value"], ls="none", marker=marker, markersize=4.2, markerfacecolor="white",
                markeredgecolor="#111111", markeredgewidth=0.9, gid="observed", label=label, zorder=5)
    for _, r in obs[obs["period"] != "year"].iterrows():
        ax.annotate(_period_label(r["period"], lang), (r["year"], r["value"]), xytext=(4, -2),
                    textcoords="offset points", fontsize=s.small, color=MUTED, va="top", zorder=5)
    ax.axvline(origin, color=MUTED, lw=0.5, ls=(0, (1, 2)), zorder=0)
    ax.set_title(tr(lang, f"From the end of {origin}", f"{origin} 年底起预测"), loc="left", fontsize=s.base)
    ax.yaxis.grid(True)


def _title(series: str, table: pd.DataFrame, lang: str) -> str:
    spec = SERIES_BY_ID[series]
    name = spec.label(lang)
    model = table[(table["source"] == MODEL) & table["inside_90"].notna()]
    if model.empty:
        return tr(lang, f"{name}: forecasts from each origin against the observations",
                  f"{name}：各起点的预测与观测值")
    inside, n = int(model["inside_90"].sum()), len(model)
    return tr(lang, f"{name}: the observation fell inside the model's 90 % band in {inside} of {n} forecasts",
              f"{name}：{n} 次预测中观测值有 {inside} 次落在模型 90% 区间内")


def _y_range(rows: pd.DataFrame, obs: pd.DataFrame) -> tuple[float, float]:
    """The panels' y range: the observations, the model's 90 % bands and every median (benchmark bands may be cut)."""
    model = rows[rows["source"] == MODEL]
    values = np.concatenate([obs["value"].to_numpy(float), model[["q05", "q95"]].to_numpy(float).ravel(),
                             rows["median"].to_numpy(float)])
    values = values[np.isfinite(values)]
    low, high = float(values.min()), float(values.max())
    if model.empty:  # only benchmarks: show their bands whole
        bands = rows[["q05", "q95"]].to_numpy(float).ravel()
        bands = bands[np.isfinite(bands)]
        low, high = min(low, float(bands.min(initial=low))), max(high, float(bands.max(initial=high)))
    pad = 0.12 * (high - low) if high > low else max(abs(high), 1.0) * 0.1
    return low - pad, high + pad


def make_series(table: pd.DataFrame, series: str, lang: str, provenance: dict[str, Any] | None = None) -> Chart:
    """The fan chart of one series: a panel per origin; ``provenance`` (replicates, root_seed, date) for
    the source line."""
    spec = SERIES_BY_ID[series]
    rows = table[table["series"] == series]
    obs = observed_table()
    obs = obs[obs["series"] == series]
    origins = sorted(int(o) for o in rows["origin"].unique())
    fig, axes = new_figure("double", 5.2, ncols=len(origins), sharey=True, squeeze=False)
    colour = _colour(series)
    first = int(min(obs["year"].min(), min(origins)))
    last = int(rows["year"].max())
    for ax, origin in zip(axes[0], origins):
        _panel(ax, rows, obs, origin, lang, colour)
        ax.set_xlim(first - 0.3, last + 0.6)
        ax.set_xticks(range(first, last + 1))
        ax.set_xticklabels([str(y) if (y - first) % 2 == 0 or len(origins) == 1 else ""
                            for y in range(first, last + 1)])
    axes[0][0].set_ylabel(spec.unit(lang))
    low, high = _y_range(rows, obs)
    clipped = bool(((rows["q05"] < low) | (rows["q95"] > high)).any())
    axes[0][0].set_ylim(low, high)
    handles, labels = {}, []
    for ax in axes[0]:
        for h, label in zip(*ax.get_legend_handles_labels()):
            if label not in handles:
                handles[label] = h
                labels.append(label)
    subtitle = tr(
        lang,
        f"{spec.label_en} ({spec.unit_en}), forecast from the end of each origin year with only what was known "
        f"then: the model's median and 50 %/90 % bands; the statistical benchmarks' 90 % bands dashed, their medians dotted",
        f"{spec.label_zh}（单位：{spec.unit_zh}），各起点年底仅凭当时已知信息所作预测：模型中位数及 50%/90% 区间；"
        f"统计基准的 90% 区间为虚线，中位数为点线",
    )
    if spec.caveat(lang):
        subtitle += tr(lang, f". Caveat: {spec.caveat(lang)}", f"。注意：{spec.caveat(lang)}")
    if clipped:
        subtitle += tr(lang, " (bands wider than the panel run off its edge)", "（超出图幅的区间在边缘截断）")
    source = source_of([tr(lang, "backtest forecasts; observations from the Dongguan statistics bureau and the "
                                 "Guangdong Statistical Yearbook (the model's data pack)",
                           "回测预测；观测值取自东莞市统计局及《广东统计年鉴》（模型数据包）"), _facts(provenance, lang)], lang)
    title = _title(series, rows, lang)
    finish(fig, title, subtitle, source, lang, legend=(list(handles.values()), labels, 3 if len(labels) <= 6 else 4))
    caption = tr(lang, f"Backtest forecasts of {spec.label_en.lower()}.", f"{spec.label_zh}回测预测。")
    return Chart(f"backtest_{series}", fig, title, caption)


def _facts(provenance: dict[str, Any] | None, lang: str) -> str:
    """'50 model runs per origin, root seed 20210118, run 2026-12-01' from the backtest's manifest."""
    if not provenance:
        return ""
    n = provenance.get("replicates")
    runs = tr(lang, f"{n} model run{'s' if n != 1 else ''} per origin", f"每个起点 {n} 次模拟") if n else \
        tr(lang, "model runs from each origin", "各起点的模拟")
    return run_facts(lang, runs, provenance.get("root_seed"), str(provenance.get("date") or "")[:10])


def make(table: pd.DataFrame, lang: str, provenance: dict[str, Any] | None = None) -> list[Chart]:
    """A chart per series that has at least one forecast in the table."""
    made = table[table["kind"] != "none"]
    return [make_series(table, s, lang, provenance) for s in SERIES_BY_ID if (made["series"] == s).any()]


def write(table_path: str | Path, out: str | Path, langs: tuple[str, ...] = ("en", "zh"),
          formats: tuple[str, ...] = ("png", "svg", "pdf"), provenance: dict[str, Any] | None = None,
          ) -> dict[tuple[str, str], list[Path]]:
    """Read a backtest table file and save its charts as ``out/<lang>/backtest_<series>.<format>``."""
    table = read_table(table_path)
    written = {}
    for lang in langs:
        with house_style(lang):
            for chart in make(table, lang, provenance):
                written[(chart.name, lang)] = render(chart.figure, Path(out) / lang / chart.name, formats)[0]
    return written
