"""The shipped Dongguan data pack: clusters, towns, city figures and lever magnitudes.

The CSV files in ``simulation/data`` are copies of the project's data pack, with their
sources and grades (see ``simulation/data/SOURCES.md``). Everything else in the model reads
the data through this module, so the identifiers below are the single source of truth.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

#: The year the data describe: the model starts from the state at the end of this year.
DATA_YEAR = 2020
#: Cluster identifiers in the order used by every array in the model.
CLUSTERS: tuple[str, ...] = ("ngei", "hem", "tex", "food", "soft", "mat", "ene", "bio", "semi", "other")
PILLARS: tuple[str, ...] = ("ngei", "hem", "tex", "food")
EMERGING: tuple[str, ...] = ("soft", "mat", "ene", "bio", "semi")
#: Clusters whose revenue counts as industry (software is a services industry).
INDUSTRIAL: tuple[str, ...] = tuple(c for c in CLUSTERS if c != "soft")
CLUSTER_INDEX: dict[str, int] = {c: i for i, c in enumerate(CLUSTERS)}


@dataclass(frozen=True)
class ClusterRow:
    cluster_id: str
    name_zh: str
    name_en: str
    kind: str
    revenue_2020: tuple[float, float, float]  # low, central, high (100 million CNY)
    abovescale_firms_2020: tuple[float, float, float]  # low, central, high
    basis: str


@dataclass(frozen=True)
class TownRow:
    town_id: str
    name_zh: str
    name_en: str
    kind: str
    specialisations: tuple[str, ...]  # cluster ids, strongest first
    notes: str


def _rows(name: str) -> list[dict[str, str]]:
    with resources.files("simulation.data").joinpath(name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@cache
def clusters() -> tuple[ClusterRow, ...]:
    """The ten clusters (nine policy clusters plus ``other``) in ``CLUSTERS`` order."""
    by_id = {}
    for r in _rows("clusters.csv"):
        by_id[r["cluster_id"]] = ClusterRow(
            cluster_id=r["cluster_id"],
            name_zh=r["name_zh"],
            name_en=r["name_en"],
            kind=r["kind"],
            revenue_2020=tuple(float(r[f"revenue_2020_{k}"]) for k in ("low", "central", "high")),
            abovescale_firms_2020=tuple(
                float(r[f"abovescale_firms_2020_{k}"]) for k in ("low", "central", "high")
            ),
            basis=r["basis"],
        )
    return tuple(by_id[c] for c in CLUSTERS)


@cache
def towns() -> tuple[TownRow, ...]:
    """The 34 towns, streets and parks in file order."""
    return tuple(
        TownRow(
            town_id=r["town_id"],
            name_zh=r["name_zh"],
            name_en=r["name_en"],
            kind=r["kind"],
            specialisations=tuple(s for s in r["specialisations"].split(";") if s),
            notes=r["notes"],
        )
        for r in _rows("towns.csv")
    )


@cache
def town_ids() -> tuple[str, ...]:
    return tuple(t.town_id for t in towns())


@cache
def city_figures() -> dict[tuple[int, str], float]:
    """City-wide figures keyed by (year, metric)."""
    return {(int(r["year"]), r["metric"]): float(r["value"]) for r in _rows("city.csv")}


@cache
def lever_magnitudes() -> dict[str, float]:
    """Published lever magnitudes from ``levers.csv`` keyed by lever name."""
    return {r["lever"]: float(r["value"]) for r in _rows("levers.csv")}


MU_M2 = 666.7  # square metres per mu (亩)
ABOVE_SCALE_THRESHOLD = 20.0  # million CNY a year (national statistical rule, levers.csv)


@dataclass(frozen=True)
class ClusterTraits:
    """Per-cluster technology assumptions (``cluster_traits.csv``), arrays in ``CLUSTERS`` order."""

    floor_per_revenue: tuple[float, ...]  # m2 per M CNY of annual revenue
    talent_share: tuple[float, ...]  # skilled share of employees
    revenue_per_employee: tuple[float, ...]  # M CNY a year
    rd_intensity: tuple[float, ...]  # R&D / revenue
    needs_modern_floor: tuple[bool, ...]  # cannot use old village-park floor
    macro_loading: tuple[float, ...]  # exposure to the common demand factor (1 = average)
    va_ratio: tuple[float, ...]  # value added per yuan of revenue (central)
    va_ratio_low: tuple[float, ...]
    va_ratio_high: tuple[float, ...]


@cache
def cluster_traits() -> ClusterTraits:
    rows = {r["cluster_id"]: r for r in _rows("cluster_traits.csv")}
    col = lambda k: tuple(float(rows[c][k]) for c in CLUSTERS)  # noqa: E731
    return ClusterTraits(
        col("floor_per_revenue"),
        col("talent_share"),
        col("revenue_per_employee"),
        col("rd_intensity"),
        tuple(v > 0 for v in col("needs_modern_floor")),
        col("macro_loading"),
        col("va_ratio"),
        col("va_ratio_low"),
        col("va_ratio_high"),
    )


@cache
def io_links() -> tuple[tuple[str, str, float], ...]:
    """Input-output links (supplier, buyer, weight): a buyer's demand surprise reaches its suppliers."""
    return tuple((r["supplier"], r["buyer"], float(r["weight"])) for r in _rows("io_links.csv"))


@cache
def town_weights() -> tuple[float, ...]:
    """Relative industrial size of each town (1.0 where nothing is known), in ``town_ids()`` order."""
    known = {r["town_id"]: float(r["industrial_weight"]) for r in _rows("town_weights.csv")}
    return tuple(known.get(t, 1.0) for t in town_ids())
