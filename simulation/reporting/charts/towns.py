"""Where growth happens: a schematic tile map of the 34 towns, streets and parks.

Each town is one square tile placed by ``simulation/data/town_tiles.csv`` (a hand-made layout,
roughly by geography: not a map; see that file). Two charts, from the town rows of the data:

``towns_growth``
    revenue growth of all modelled firms in the town (``revenue_all``), CAGR from the start
    year to the end year in % a year, per replicate; the tile shows the median across replicates.
``towns_floor``
    new industrial floor space delivered in the town (``floor_delivered``), summed over the
    years after the start year, per replicate; median across replicates, in million m² (English)
    or 万 m² (Chinese). The title states the city's total, which differs between scenarios.

Colour ranges are fixed across scenarios (:mod:`.scales`); tiles shade in greys (hues have
meanings elsewhere), brown to teal around zero if some town shrinks. A title names the first town only
when it comes first in a "likely" share of replicates against every other town
(:func:`simulation.reporting.wording.beats`); otherwise it names the towns that are too close
to rank. The tiles are one PatchCollection (gid ``tiles``) whose ``get_array()`` holds the
tile values in the order of :func:`tile_layout`.
"""

from __future__ import annotations

import csv
import warnings
from functools import cache
from importlib import resources

import numpy as np
from matplotlib import colormaps
from matplotlib.collections import PatchCollection
from matplotlib.colors import LinearSegmentedColormap, Normalize, TwoSlopeNorm
from matplotlib.patches import FancyBboxPatch

from simulation.reporting import labels, wording
from simulation.reporting.charts import Chart, Inputs, NotApplicable
from simulation.reporting.charts.layout import finish, new_figure, scenario_tag, source_line
from simulation.reporting.charts.style import sizes, tr
from simulation.reporting.results_folder import ResultsError, ResultsFolder

TILES_FILE = "town_tiles.csv"
#: Tiles shade from light to dark grey: blue and vermillion mean pillar and emerging clusters, the
#: other hues scenarios, so a magnitude takes none of them (and prints in black and white).
SEQUENTIAL = LinearSegmentedColormap.from_list("house_grey", ["#F4F4F4", "#B8B8B8", "#6E6E6E", "#262626"])
MAX_NAMED = 3  # towns named in a title when several are too close to rank


@cache
def tile_layout() -> tuple[tuple[str, int, int], ...]:
    """(town_id, row, col) of every town, from ``simulation/data/town_tiles.csv``."""
    with resources.files("simulation.data").joinpath(TILES_FILE).open(encoding="utf-8") as fh:
        lines = [line for line in fh if not line.startswith("#")]
    return tuple((r["town_id"], int(r["row"]), int(r["col"])) for r in csv.DictReader(lines))


def town_samples(results: ResultsFolder, what: str) -> tuple[list[str], np.ndarray]:
    """Town ids and a (replicate, town) array: revenue CAGR (``growth``, % a year) or new floor (``floor``, m²)."""
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
    return units, values


def town_values(results: ResultsFolder, what: str) -> dict[str, float]:
    """Median across replicates of a town's revenue CAGR (``growth``) or new floor m² (``floor``)."""
    units, values = town_samples(results, what)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        medians = np.nanmedian(values, axis=0)
    return dict(zip(units, medians.tolist()))


def first_towns(units: list[str], values: np.ndarray) -> list[str]:
    """The town with the highest median, and every town it does not beat in a 'likely' share of replicates."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        medians = np.nanmedian(values, axis=0)
    order = [i for i in np.argsort(-np.nan_to_num(medians, nan=-np.inf)) if np.isfinite(medians[i])]
    if not order:
        return []
    top = order[0]
    tied = [units[top]]
    for i in order[1:]:
        ok = np.isfinite(values[:, top]) & np.isfinite(values[:, i])
        k = int((values[ok, top] > values[ok, i]).sum())
        if not wording.beats(wording.share_chance(k, int(ok.sum()))):
            tied.append(units[i])
    return tied


def _text_colour(rgba) -> str:
    r, g, b = rgba[:3]
    return "#111111" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.5 else "white"


def _tile_map(values: dict[str, float], lang: str, label_format, cbar_label: str, norm, cmap):
    layout = [t for t in tile_layout() if t[0] in values]
    rows = max(r for _, r, _ in layout) + 1
    cols = max(c for _, _, c in layout) + 1
    s = sizes(lang)
    fig, ax = new_figure("double", 1.4 + 2.0 * rows)
    data = np.array([values[t] for t, _, _ in layout], dtype=float)
    gap = 0.05
    patches = [
        FancyBboxPatch((c + gap, rows - 1 - r + gap), 1 - 2 * gap, 1 - 2 * gap, boxstyle="round,pad=0,rounding_size=0.06")
        for _, r, c in layout
    ]
    tiles = PatchCollection(patches, cmap=cmap, norm=norm, edgecolor="white", linewidth=0.5, gid="tiles")
    tiles.set_array(np.ma.masked_invalid(data))
    ax.add_collection(tiles)
    for (town, r, c), value in zip(layout, data):
        colour = _text_colour(cmap(norm(value))) if np.isfinite(value) else "#111111"
        name = labels.town(town, lang)
        if lang != "zh" and len(name) > 11 and " " in name:
            name = name.replace(" ", "\n", 1)
        ax.text(c + 0.5, rows - 1 - r + 0.64, name, ha="center", va="center", fontsize=s.small, color=colour,
                linespacing=1.0)
        ax.text(c + 0.5, rows - 1 - r + 0.26, label_format(value) if np.isfinite(value) else "–", ha="center",
                va="center", fontsize=s.base + 0.5, color=colour)
    ax.set_xlim(0, cols)
    ax.set_ylim(0, rows)
    ax.set_aspect("equal")
    ax.axis("off")
    cax = ax.inset_axes([0.3, -0.085, 0.4, 0.028])  # below the tiles (the box is the tiles: aspect "equal")
    bar = fig.colorbar(tiles, cax=cax, orientation="horizontal")
    bar.set_label(cbar_label, fontsize=s.small)
    bar.ax.tick_params(labelsize=s.small)
    bar.outline.set_linewidth(0.4)
    return fig, layout, data


def _names(towns: list[str], lang: str) -> str:
    shown = [labels.town(t, lang) for t in towns[:MAX_NAMED]]
    more = len(towns) - len(shown)
    if more:
        shown.append(tr(lang, f"{wording.count(more, 'en')} more", f"另外{wording.count(more, 'zh')}个镇街"))
    return wording.join(shown, lang)


def make(inputs: Inputs, lang: str) -> list[Chart]:
    results = inputs.focus
    if results is None:
        raise NotApplicable("the town tile maps are made for one run's results folder")
    if not results.has_data:
        raise NotApplicable(f"{results.path} has no data.parquet nor data.csv")
    try:
        units, growth_runs = town_samples(results, "growth")
        floor_units, floor_runs = town_samples(results, "floor")
    except ResultsError:
        raise NotApplicable("the results have no town series (the scenario's [outputs] towns = false)") from None
    growth, floor = town_values(results, "growth"), town_values(results, "floor")
    source = source_line(results, lang)
    years = results.series("town", "revenue_all")[2]
    end_year = results.summary_data.get("end_year", int(years[-1])) if results.has_summary else int(years[-1])
    start_year = int(years[0])
    tag = scenario_tag([results.scenario_name], lang)
    schematic = tr(lang, "schematic: one tile per town, north at the top, not a map",
                   "示意图：每个镇街一格，上为北，非地图")
    charts = []

    # growth
    lo, hi = inputs.scales.town_growth()
    norm, cmap = (TwoSlopeNorm(0.0, lo, hi), colormaps["BrBG"]) if lo < 0 < hi else (Normalize(lo, hi), SEQUENTIAL)
    fig, _, _ = _tile_map(growth, lang, lambda v: wording.pct(v, lang), labels.outcome("cagr", lang).unit.text, norm, cmap)
    finite = {t: v for t, v in growth.items() if np.isfinite(v)}
    median = float(np.median(list(finite.values())))
    first = first_towns(units, growth_runs)
    if len(first) == 1:
        head = tr(lang, f"Fastest growth in {labels.town(first[0], 'en')} ({wording.pct(finite[first[0]])} a year)",
                  f"{labels.town(first[0], 'zh')}增长最快（年均{wording.pct(finite[first[0]], 'zh')}）")
    else:
        vals = [finite[t] for t in first]
        head = tr(lang, f"{_names(first, 'en')} grow fastest ({min(vals):.1f}–{wording.pct(max(vals))} a year), "
                        "too close to rank",
                  f"{_names(first, 'zh')}增长最快（年均{min(vals):.1f}%–{wording.pct(max(vals), 'zh')}），"
                  "彼此难分先后")
    title = head + tr(lang, f"; the median town grows {wording.pct(median)}", f"；镇街中位数为{wording.pct(median, 'zh')}")
    subtitle = tr(lang, f"{tag}. Revenue growth of all modelled firms by town, {start_year}–{end_year}, % a year "
                        f"(median of model runs); {schematic}",
                  f"{tag}。各镇街全部模拟企业营业收入年均增长，{start_year}–{end_year} 年（%，模拟结果中位数）；{schematic}")
    finish(fig, title, subtitle, source, lang)
    charts.append(Chart("towns_growth", fig, title, tr(lang, "Revenue growth by town (schematic tile map).",
                                                        "各镇街营业收入增长（示意格网图）。")))

    # new floor space
    floor_label = labels.outcome("floor_delivered", lang)
    scale = floor_label.unit.scale / 1e6  # m² -> million m² (en) or 万 m² (zh)
    scaled = {t: v * scale for t, v in floor.items()}
    fmt = (lambda v: f"{v:,.0f}") if lang == "zh" else (lambda v: f"{v:.2f}")
    top = inputs.scales.town_floor() * scale
    fig, _, _ = _tile_map(scaled, lang, fmt, floor_label.unit.text, Normalize(0.0, top), SEQUENTIAL)
    totals = np.nansum(floor_runs, axis=1) * scale
    t_med, t_lo, t_hi = np.nanpercentile(totals, [50, 5, 95])
    unit = floor_label.unit.text
    first = first_towns(floor_units, floor_runs)
    most = {t: scaled[t] for t in first}
    if len(first) == 1:
        where = tr(lang, f"most in {labels.town(first[0], 'en')} ({fmt(most[first[0]])} {unit})",
                   f"{labels.town(first[0], 'zh')}最多（{fmt(most[first[0]])} {unit}）")
    else:
        where = tr(lang, f"most in {_names(first, 'en')}, too close to rank",
                   f"{_names(first, 'zh')}最多，彼此难分先后")
    total = (lambda v: f"{v:,.0f}") if lang == "zh" else (lambda v: f"{v:.1f}")
    title = tr(lang, f"{total(t_med)} {unit} of new industrial floor across the city, {start_year + 1}–{end_year}; {where}",
               f"{start_year + 1}–{end_year} 年全市新增产业用房 {total(t_med)} {unit}；{where}")
    subtitle = tr(lang, f"{tag}. New industrial floor space delivered by town (median of model runs); city total: "
                        f"middle 90 % of model runs {total(t_lo)}–{total(t_hi)} {unit}; {schematic}",
                  f"{tag}。各镇街新增交付产业用房（模拟结果中位数）；全市合计居中 90% 的模拟结果为 "
                  f"{total(t_lo)}–{total(t_hi)} {unit}；{schematic}")
    finish(fig, title, subtitle, source, lang)
    charts.append(Chart("towns_floor", fig, title, tr(lang, "New floor space by town (schematic tile map).",
                                                       "各镇街新增产业用房（示意格网图）。")))
    return charts
