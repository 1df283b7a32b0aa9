"""Where growth happens: a schematic tile map of the 34 towns, streets and parks.

Each town is one square tile placed by ``simulation/data/town_tiles.csv`` (a hand-made layout,
roughly by geography: not a map; see that file). Two charts, from the town rows of the data:

``towns_growth``
    revenue growth of all modelled firms in the town (``revenue_all``), CAGR from the start
    year to the end year in % a year, per replicate; the tile shows the median across replicates.
``towns_floor``
    new industrial floor space delivered in the town (``floor_delivered``), summed over the
    years after the start year, per replicate; median across replicates, in million m2 (English)
    or 万 m2 (Chinese).

The tiles are one PatchCollection (gid ``tiles``) whose ``get_array()`` holds the tile values
in the order of :func:`tile_layout`.
"""

from __future__ import annotations

import csv
import warnings
from functools import cache
from importlib import resources

import numpy as np
from matplotlib import colormaps
from matplotlib.collections import PatchCollection
from matplotlib.colors import Normalize, TwoSlopeNorm
from matplotlib.patches import FancyBboxPatch

from simulation.datapack import towns
from simulation.reporting.charts import Chart, Inputs, NotApplicable
from simulation.reporting.charts.style import bold, finish, new_figure, pct, source_line, tr
from simulation.reporting.results_folder import ResultsError, ResultsFolder

TILES_FILE = "town_tiles.csv"


@cache
def tile_layout() -> tuple[tuple[str, int, int], ...]:
    """(town_id, row, col) of every town, from ``simulation/data/town_tiles.csv``."""
    with resources.files("simulation.data").joinpath(TILES_FILE).open(encoding="utf-8") as fh:
        lines = [line for line in fh if not line.startswith("#")]
    return tuple((r["town_id"], int(r["row"]), int(r["col"])) for r in csv.DictReader(lines))


def town_values(results: ResultsFolder, what: str) -> dict[str, float]:
    """Median across replicates of a town's revenue CAGR (``growth``) or new floor m2 (``floor``)."""
    end_year = results.summary_data.get("end_year") if results.has_summary else None
    if what == "growth":
        revenue, units, years = results.series("town", "revenue_all")
        end = len(years) - 1 if end_year is None else int(np.flatnonzero(years == end_year)[0])
        start, stop = revenue[:, :, 0], revenue[:, :, end]
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(start > 0, stop / start, np.nan)
            values = (np.power(np.maximum(ratio, 0.0), 1.0 / (years[end] - years[0])) - 1.0) * 100.0
    else:
        floor, units, years = results.series("town", "floor_delivered")
        keep = (years > years[0]) & (years <= (end_year or years[-1]))
        values = np.nansum(floor[:, :, keep], axis=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        medians = np.nanmedian(values, axis=0)
    return dict(zip(units, medians.tolist()))


def _text_colour(rgba) -> str:
    r, g, b = rgba[:3]
    return "#111111" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.5 else "white"


def _tile_map(values: dict[str, float], lang: str, label_format, cbar_label: str, diverging: bool):
    layout = [t for t in tile_layout() if t[0] in values]
    names = {t.town_id: (t.name_zh if lang == "zh" else t.name_en) for t in towns()}
    rows = max(r for _, r, _ in layout) + 1
    cols = max(c for _, _, c in layout) + 1
    fig, ax = new_figure("double", 2.6 + 1.45 * rows + 1.2)
    data = np.array([values[t] for t, _, _ in layout], dtype=float)
    finite = data[np.isfinite(data)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if diverging and lo < 0 < hi:
        norm, cmap = TwoSlopeNorm(0.0, lo, hi), colormaps["PuOr_r"]
    else:
        norm, cmap = Normalize(min(lo, 0.0) if not diverging else lo, hi if hi > lo else lo + 1), colormaps["YlGnBu"]
    gap = 0.06
    patches = [
        FancyBboxPatch((c + gap, rows - 1 - r + gap), 1 - 2 * gap, 1 - 2 * gap, boxstyle="round,pad=0,rounding_size=0.06")
        for _, r, c in layout
    ]
    tiles = PatchCollection(patches, cmap=cmap, norm=norm, edgecolor="white", linewidth=0.5, gid="tiles")
    tiles.set_array(np.ma.masked_invalid(data))
    ax.add_collection(tiles)
    for (town, r, c), value in zip(layout, data):
        colour = _text_colour(cmap(norm(value))) if np.isfinite(value) else "#111111"
        name = names.get(town, town)
        if lang != "zh" and len(name) > 11 and " " in name:
            name = name.replace(" ", "\n", 1)
        ax.text(c + 0.5, rows - 1 - r + 0.60, name, ha="center", va="center", fontsize=6 if lang == "zh" else (5.4 if len(name) <= 9 else 5.0),
                color=colour, linespacing=1.0)
        ax.text(c + 0.5, rows - 1 - r + 0.24, label_format(value) if np.isfinite(value) else "–", ha="center",
                va="center", fontsize=6.2, color=colour, path_effects=bold(colour))
    ax.set_xlim(0, cols)
    ax.set_ylim(0, rows)
    ax.set_aspect("equal")
    ax.axis("off")
    cax = ax.inset_axes([0.3, -0.075, 0.4, 0.025])  # below the tiles (the box is the tiles: aspect "equal")
    bar = fig.colorbar(tiles, cax=cax, orientation="horizontal")
    bar.set_label(cbar_label, fontsize=6.5)
    bar.ax.tick_params(labelsize=6)
    bar.outline.set_linewidth(0.4)
    return fig, layout, data


def make(inputs: Inputs, lang: str) -> list[Chart]:
    results = inputs.single
    if results is None:
        raise NotApplicable("the town tile maps are made for one run's results folder")
    if not results.has_data:
        raise NotApplicable(f"{results.path} has no data.parquet nor data.csv")
    try:
        growth = town_values(results, "growth")
        floor = town_values(results, "floor")
    except ResultsError:
        raise NotApplicable("the results have no town series (the scenario's [outputs] towns = false)") from None
    names = {t.town_id: (t.name_zh if lang == "zh" else t.name_en) for t in towns()}
    source = source_line(results, lang)
    years = results.series("town", "revenue_all")[2]
    end_year = results.summary_data.get("end_year", int(years[-1])) if results.has_summary else int(years[-1])
    start_year = int(years[0])
    charts = []

    # growth
    fig, _, data = _tile_map(growth, lang, lambda v: pct(v, 1, lang), tr(lang, "% a year", "年均增长（%）"), True)
    finite = {t: v for t, v in growth.items() if np.isfinite(v)}
    fastest, slowest = max(finite, key=finite.get), min(finite, key=finite.get)
    median = float(np.median(list(finite.values())))
    title = tr(
        lang,
        f"Fastest growth in {names[fastest]} ({pct(finite[fastest], 1)} a year), slowest in "
        f"{names[slowest]} ({pct(finite[slowest], 1)}); the median town grows {pct(median, 1)}",
        f"{names[fastest]}增长最快（年均{pct(finite[fastest], 1, 'zh')}），{names[slowest]}最慢"
        f"（{pct(finite[slowest], 1, 'zh')}）；镇街中位数为{pct(median, 1, 'zh')}",
    )
    subtitle = tr(
        lang,
        f"Revenue growth of all modelled firms by town, {start_year}–{end_year}, % a year (median of replicates); "
        "schematic: one tile per town, north at the top, not a map",
        f"各镇街全部模拟企业营业收入年均增长，{start_year}–{end_year} 年（%，重复中位数）；示意图：每镇街一格，上为北，非地图",
    )
    finish(fig, title, subtitle, source)
    charts.append(Chart("towns_growth", fig, title, tr(lang, "Revenue growth by town (schematic tile map).",
                                                        "各镇街营业收入增长（示意格网图）。")))

    # new floor space
    scale = 1e4 if lang == "zh" else 1e6
    scaled = {t: v / scale for t, v in floor.items()}
    fmt = (lambda v: f"{v:,.0f}") if lang == "zh" else (lambda v: f"{v:.2f}")
    unit = tr(lang, "million m²", "万平方米")
    fig, _, data = _tile_map(scaled, lang, fmt, unit, False)
    finite = {t: v for t, v in scaled.items() if np.isfinite(v)}
    most = max(finite, key=finite.get)
    total = float(sum(finite.values()))
    top5 = sorted(finite.values(), reverse=True)[:5]
    share5 = sum(top5) / total if total > 0 else float("nan")
    title = tr(
        lang,
        f"Most new floor space in {names[most]} ({fmt(finite[most])} million m²); "
        f"five towns get {share5 * 100:.0f} % of the city's",
        f"{names[most]}新增厂房最多（{fmt(finite[most])} 万平方米）；前五个镇街占全市的 {share5:.0%}",
    )
    subtitle = tr(
        lang,
        f"New industrial floor space delivered, {start_year + 1}–{end_year} (median of replicates); "
        "schematic: one tile per town, north at the top, not a map",
        f"新增交付产业用房面积，{start_year + 1}–{end_year} 年（重复中位数）；示意图：每镇街一格，上为北，非地图",
    )
    finish(fig, title, subtitle, source)
    charts.append(Chart("towns_floor", fig, title, tr(lang, "New floor space by town (schematic tile map).",
                                                       "各镇街新增产业用房（示意格网图）。")))
    return charts
