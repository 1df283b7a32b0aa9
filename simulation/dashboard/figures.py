"""The dashboard's figures, drawn with matplotlib from a running model's collected series.

Pure functions of a model: what it has run so far (``model.datacollector``) and its towns. The
charts of briefing papers are in :mod:`simulation.reporting.charts`, from results folders.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.collections import PatchCollection
from matplotlib.colors import Normalize, TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from simulation.datapack import EMERGING, PILLARS, clusters, towns
from simulation.model.results import TOWN_METRICS
from simulation.reporting.charts.towns import tile_layout

TOWN_VIEWS = {
    "growth": "revenue growth of the town's firms since the start, % a year",
    "vacancy": "vacant industrial floor space, % of the town's stock",
}


def step_times(model: Any, n: int) -> np.ndarray:
    """Decimal year of the first ``n`` recorded steps, each at its middle.

    Step 0 is the start year (its annual value, so the middle of that year); step k >= 1 is the
    k-th quarter after it (``ClusterModel.step``), e.g. the first quarter of 2021 at 2021.125.
    """
    k = np.arange(n)
    return np.where(k == 0, model.start_year + 0.5, model.start_year + 1 + (k - 0.5) / model.steps_per_year)


def revenue_paths(model: Any, kind: str) -> Figure:
    """Revenue of the emerging clusters against the target path, or of the pillars against the city.

    Revenue is each step's annualised above-scale revenue as an index (start year = 100), each
    quarter at its middle (:func:`step_times`); the dashed line is the emerging target (``targets.emerging_cagr`` a year, 10 % in the policy) for
    ``kind="emerging"`` and the city's industrial revenue for ``kind="pillar"``.
    """
    frame = model.datacollector.get_model_vars_dataframe()
    names = {c.cluster_id: c.name_en for c in clusters()}
    years = step_times(model, len(frame))
    start, end = model.start_year, model.spec.simulation.end_year
    fig = Figure(figsize=(4.8, 3.3), layout="constrained")
    ax = fig.subplots()
    if kind == "emerging":
        target = model.spec.targets.emerging_cagr
        horizon = np.linspace(start + 0.5, end + 0.5, 50)  # from the start year's value to the end year's
        ax.plot(horizon, 100 * (1 + target / 100) ** (horizon - start - 0.5), "--", color="#444444", lw=1.4,
                label=f"target: {target:g} % a year")
        group, title = EMERGING, "Emerging clusters against the target path"
    elif kind == "pillar":
        city = frame["industrial_revenue"].to_numpy()
        ax.plot(years, 100 * city / city[0], "--", color="#444444", lw=1.4, label="city industry")
        group, title = PILLARS, "Pillars against the city's industry"
    else:
        raise ValueError(f"kind must be 'emerging' or 'pillar'; got {kind!r}")
    for cid in group:
        series = frame[f"revenue_{cid}"].to_numpy()
        if series[0] > 0:
            ax.plot(years, 100 * series / series[0], lw=1.6, marker="o" if len(years) == 1 else None,
                    label=names.get(cid, cid))
    ax.set_xlim(start, end + 1)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6.5, loc="upper left", frameon=False)
    ax.set_xlabel("year", fontsize=8)
    ax.set_ylabel(f"above-scale revenue, {start} = 100", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.set_title(title, fontsize=9)
    return fig


def town_values(model: Any, view: str) -> dict[str, float]:
    """Per town: revenue CAGR since the start (``growth``, % a year) or vacancy (``vacancy``, %)."""
    town = model.recorder.town
    row = min(model.steps, town.shape[0] - 1)
    metric = list(TOWN_METRICS)
    if view == "growth":
        start, now = town[0, :, metric.index("revenue_all")], town[row, :, metric.index("revenue_all")]
        times = step_times(model, row + 1)
        years = times[-1] - times[0]
        with np.errstate(invalid="ignore", divide="ignore"):
            growth = (np.maximum(now / start, 0) ** (1 / max(years, 1e-9)) - 1) * 100
            values = np.where((start > 0) & (years > 0), growth, np.nan)
    elif view == "vacancy":
        stock, occupied = town[row, :, metric.index("floor_stock")], town[row, :, metric.index("floor_occupied")]
        with np.errstate(invalid="ignore", divide="ignore"):
            values = np.where(stock > 0, (1 - occupied / stock) * 100, np.nan)
    else:
        raise ValueError(f"view must be one of {', '.join(TOWN_VIEWS)}; got {view!r}")
    ids = [t.town_id for t in towns()]
    return dict(zip(ids, values.tolist()))


def town_map(values: dict[str, float], view: str) -> Figure:
    """A schematic tile map (``simulation/data/town_tiles.csv``: one square per town, not a map)."""
    layout = [t for t in tile_layout() if t[0] in values]
    names = {t.town_id: t.name_en for t in towns()}
    rows = max(r for _, r, _ in layout) + 1
    cols = max(c for _, _, c in layout) + 1
    data = np.array([values[t] for t, _, _ in layout], dtype=float)
    finite = data[np.isfinite(data)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if view == "growth" and lo < 0 < hi:
        norm, cmap = TwoSlopeNorm(0.0, lo, hi), colormaps["PuOr_r"]
    else:
        norm, cmap = Normalize(lo, hi if hi > lo else lo + 1.0), colormaps["YlGnBu" if view == "growth" else "OrRd"]
    fig = Figure(figsize=(4.8, 3.6), layout="constrained")
    ax = fig.subplots()
    tiles = PatchCollection([Rectangle((c + 0.04, rows - 1 - r + 0.04), 0.92, 0.92) for _, r, c in layout],
                            cmap=cmap, norm=norm, edgecolor="white", linewidth=0.5)
    tiles.set_array(np.ma.masked_invalid(data))
    ax.add_collection(tiles)
    for (town, r, c), value in zip(layout, data):
        dark = np.isfinite(value) and sum(np.array(cmap(norm(value))[:3]) * (0.2126, 0.7152, 0.0722)) < 0.5
        colour = "white" if dark else "#111111"
        label = names.get(town, town)
        ax.text(c + 0.5, rows - 1 - r + 0.62, label if len(label) <= 10 else label[:9] + "…", ha="center",
                va="center", fontsize=5.5, color=colour)
        ax.text(c + 0.5, rows - 1 - r + 0.3, f"{value:.1f}" if np.isfinite(value) else "–", ha="center",
                va="center", fontsize=6.5, color=colour, fontweight="bold")
    ax.set_xlim(0, cols)
    ax.set_ylim(0, rows)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("Towns (schematic: one tile per town, north at the top)" if finite.size else
                 "No growth yet: Step the model, or show vacancy", fontsize=8)
    bar = fig.colorbar(tiles, ax=ax, shrink=0.7, orientation="horizontal", pad=0.02)
    bar.set_label(TOWN_VIEWS[view], fontsize=7)
    bar.ax.tick_params(labelsize=6)
    return fig
