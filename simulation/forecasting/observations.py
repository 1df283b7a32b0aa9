"""The observed series a backtest scores, as one tidy table built from the shipped data pack.

Two files hold what the statistics said: ``city.csv`` (2019–2021, what was known when the
model starts at the end of 2020 and one year after) and ``observed.csv`` (2021–2023, published
after the policy started). :data:`SERIES` maps their metrics onto the series a forecast is
made for; :data:`NOT_SCORED` lists every other metric and why it is not a forecast target.
The values, units, grades and sources are copied, never edited; the table adds:

* ``period``: ``"year"`` for a full-year figure, else the months the figure covers (the bureau
  publishes year-to-date growth; ``2022Q1-Q3`` in the file is period ``Q1–Q3`` of 2022);
* ``bound``: ``"point"``, or ``"lower"`` for a figure that only bounds the quantity from below
  (semiconductor revenue of one park, Songshan Lake, is a lower bound for the whole cluster);
* ``basis``: what the figure measures (real or nominal, which firms), from the series;
* ``note``: the caveat a reader needs for this one figure.

| series | file: metric | kind |
|---|---|---|
| ``city_va_growth`` | both: abovescale_industrial_va_growth | growth |
| ``abovescale_firms`` | both: abovescale_industrial_firms | count |
| ``upgrades`` | observed: small_to_abovescale_upgrades | count |
| ``city_va`` | both: abovescale_industrial_va | level |
| ``va_growth_electronics`` | both: va_growth_electronics_group | growth |
| ``va_growth_electrical_machinery`` | both: va_growth_electrical_machinery_group | growth |
| ``va_growth_textiles`` | both: va_growth_textiles_group | growth |
| ``va_growth_food`` | both: va_growth_food_group | growth |
| ``va_growth_pharma`` | observed: va_growth_pharma | growth |
| ``software_revenue_growth`` | observed: revenue_growth_software_and_it_services | growth |
| ``semi_revenue`` | city: semiconductor_revenue; observed: semiconductor_revenue_songshan_lake_only (lower bound) | level |

``kind`` decides how a benchmark is fitted (growth series on their rates, counts and levels on
their levels) and whether the sign of the forecast is checked (growth series only).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

import pandas as pd

CITY, OBSERVED = "city.csv", "observed.csv"
KINDS = ("growth", "count", "level")
COLUMNS = ("series", "year", "period", "value", "unit", "basis", "grade", "bound", "source", "file", "metric",
           "note")  # fmt: skip


@dataclass(frozen=True)
class Series:
    """One observed series: what it measures and which data-pack metrics hold it."""

    id: str
    label_en: str
    label_zh: str
    kind: str  # growth (a rate in % a year: its sign is checked), count or level
    unit_en: str  # for tables and chart axes
    unit_zh: str
    basis: str
    metrics: tuple[tuple[str, str], ...]  # (file, metric)
    cluster: str  # the model's cluster id the series describes, or "city"
    note: str = ""  # the caveat that holds for every figure of the series
    note_zh: str = ""

    def caveat(self, lang: str) -> str:
        return self.note_zh if lang == "zh" else self.note

    def label(self, lang: str) -> str:
        return self.label_zh if lang == "zh" else self.label_en

    def unit(self, lang: str) -> str:
        return self.unit_zh if lang == "zh" else self.unit_en


_REAL_COMPARABLE = "real value added, comparable firms (同口径), above-scale industry"
_GROUP = "real value added of the statistical industry group (above-scale firms)"

SERIES: tuple[Series, ...] = (
    Series("city_va_growth", "City industry, value-added growth", "全市规上工业增加值增速", "growth",
           "% a year, real", "%，实际", _REAL_COMPARABLE,
           ((CITY, "abovescale_industrial_va_growth"), (OBSERVED, "abovescale_industrial_va_growth")), "city"),
    Series("abovescale_firms", "Above-scale industrial firms", "规上工业企业数", "count", "firms", "家",
           "industrial firms with annual revenue of at least 20 million CNY",
           ((CITY, "abovescale_industrial_firms"), (OBSERVED, "abovescale_industrial_firms")), "city"),
    Series("upgrades", "Small firms upgraded to above-scale", "小升规企业数", "count", "firms a year", "家/年",
           "small firms passing the 20 million CNY threshold in the year",
           ((OBSERVED, "small_to_abovescale_upgrades"),), "city"),
    Series("city_va", "City industry, value added", "全市规上工业增加值", "level",
           "100 million CNY, current prices", "亿元，现价",
           "value added of above-scale industry at current prices (the set of firms changes from year to year)",
           ((CITY, "abovescale_industrial_va"), (OBSERVED, "abovescale_industrial_va")), "city",
           note="a level at current prices over a changing set of firms: its year-on-year change is not the "
                "real comparable-firm growth",
           note_zh="现价总量，企业范围逐年变化：其逐年变化不等于同口径实际增速"),
    Series("va_growth_electronics", "Electronics, value-added growth", "电子信息制造业增加值增速", "growth",
           "% a year, real", "%，实际", _GROUP,
           ((CITY, "va_growth_electronics_group"), (OBSERVED, "va_growth_electronics_group")), "ngei"),
    Series("va_growth_electrical_machinery", "Electrical machinery, value-added growth",
           "电气机械及设备制造业增加值增速", "growth", "% a year, real", "%，实际", _GROUP,
           ((CITY, "va_growth_electrical_machinery_group"), (OBSERVED, "va_growth_electrical_machinery_group")), "hem"),
    Series("va_growth_textiles", "Textiles and apparel, value-added growth", "纺织服装鞋帽制造业增加值增速", "growth",
           "% a year, real", "%，实际", _GROUP,
           ((CITY, "va_growth_textiles_group"), (OBSERVED, "va_growth_textiles_group")), "tex"),
    Series("va_growth_food", "Food and beverages, value-added growth", "食品饮料加工制造业增加值增速", "growth",
           "% a year, real", "%，实际", _GROUP,
           ((CITY, "va_growth_food_group"), (OBSERVED, "va_growth_food_group")), "food"),
    Series("va_growth_pharma", "Pharmaceuticals, value-added growth", "医药制造业增加值增速", "growth",
           "% a year, real", "%，实际", "real value added of pharmaceutical manufacturing (press figure)",
           ((OBSERVED, "va_growth_pharma"),), "bio"),
    Series("software_revenue_growth", "Software and IT services, revenue growth", "软件和信息技术服务业营业收入增速",
           "growth", "% a year, nominal", "%，名义", "nominal revenue, year to date",
           ((OBSERVED, "revenue_growth_software_and_it_services"),), "soft",
           note="very likely includes a change of statistical scope (large firms registering software arms in "
                "the city), not only organic growth",
           note_zh="很可能包含统计口径变化（大企业在本市注册软件子公司），并非全为内生增长"),
    Series("semi_revenue", "Semiconductors and ICs, revenue", "半导体及集成电路营业收入", "level",
           "100 million CNY", "亿元", "nominal revenue",
           ((CITY, "semiconductor_revenue"), (OBSERVED, "semiconductor_revenue_songshan_lake_only")), "semi"),
)
SERIES_BY_ID: dict[str, Series] = {s.id: s for s in SERIES}

#: Metrics that bound their quantity from below instead of measuring it.
LOWER_BOUNDS: dict[tuple[str, str], str] = {
    (OBSERVED, "semiconductor_revenue_songshan_lake_only"):
        "Songshan Lake only: a lower bound for the whole cluster, not its revenue",
}

#: Every other metric of the two files, and why no forecast is scored against it.
NOT_SCORED: dict[tuple[str, str], str] = {
    (CITY, "gdp"): "GDP includes services and agriculture, which the model does not simulate",
    (CITY, "gdp_growth"): "GDP includes services and agriculture, which the model does not simulate",
    (OBSERVED, "gdp_growth"): "GDP includes services and agriculture, which the model does not simulate",
    (OBSERVED, "ppi_national"): "an input of the model (producer prices), not a forecast",
    (CITY, "abovescale_industrial_revenue_assumed"): "an ASSUMPTION of the data pack, not an observation",
    (CITY, "va_five_pillar_groups"): "one 2021 level of a group total, with no later figure to score",
    (CITY, "va_four_specialty_groups"): "one 2021 level of a group total, with no later figure to score",
    (CITY, "high_tech_enterprises"): "the model has no high-tech status; one year only",
}

_PERIOD = re.compile(r"^(\d{4})(.*)$")


def _read(name: str) -> pd.DataFrame:
    with resources.files("simulation.data").joinpath(name).open(encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False)


def parse_period(text: str) -> tuple[int, str]:
    """'2022Q1-Q3' → (2022, 'Q1–Q3'); '2023' → (2023, 'year')."""
    match = _PERIOD.match(text.strip())
    if not match:
        raise ValueError(f"period {text!r} does not start with a year")
    rest = match.group(2).strip()
    return int(match.group(1)), (rest.replace("-", "–") if rest else "year")


@cache
def _table() -> pd.DataFrame:
    files = {CITY: _read(CITY).rename(columns={"year": "period"}), OBSERVED: _read(OBSERVED)}
    rows = []
    for spec in SERIES:
        for file, metric in spec.metrics:
            raw = files[file]
            for _, r in raw[raw["metric"] == metric].iterrows():
                year, period = parse_period(r["period"])
                bound_note = LOWER_BOUNDS.get((file, metric))
                notes = [n for n in (bound_note, spec.note, _row_note(r["grade"], period, r["unit"])) if n]
                rows.append(dict(
                    series=spec.id, year=year, period=period, value=float(r["value"]), unit=r["unit"],
                    basis=spec.basis, grade=r["grade"], bound="lower" if bound_note else "point",
                    source=r["source"], file=file, metric=metric, note="; ".join(notes),
                ))  # fmt: skip
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    order = {s.id: i for i, s in enumerate(SERIES)}
    table = table.sort_values(["series", "year"], key=lambda c: c.map(order) if c.name == "series" else c)
    duplicated = table.duplicated(["series", "year"])
    if duplicated.any():
        raise ValueError(f"two figures for one series and year: {table[duplicated][['series', 'year']].values}")
    return table.reset_index(drop=True)


def _row_note(grade: str, period: str, unit: str) -> str:
    notes = []
    if "preliminary" in unit:
        notes.append("preliminary figure")
    if period != "year":
        notes.append(f"{period} only, not the full year")
    if grade == "DERIVED":
        notes.append("derived arithmetically from other published figures")
    if grade == "B":
        notes.append("secondary press source (grade B)")
    return "; ".join(notes)


def observations() -> pd.DataFrame:
    """The observed series as a tidy table (one row per series and year), a fresh copy each call."""
    return _table().copy()


def series(series_id: str) -> Series:
    """The description of one series; a one-line error names the known ones."""
    try:
        return SERIES_BY_ID[series_id]
    except KeyError:
        raise KeyError(f"unknown series {series_id!r}; known: {', '.join(SERIES_BY_ID)}") from None
