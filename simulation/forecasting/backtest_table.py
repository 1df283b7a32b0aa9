"""The backtest table: every forecast scored against what was observed, its summary, and its Markdown.

:func:`score` takes a forecasts table (layout in :mod:`simulation.forecasting.predictive`) and
the observations table (:func:`simulation.forecasting.observations.observations`) and returns
one row per forecast (:data:`COLUMNS`): the observation and its period, the predictive's
median and 5/25/75/95 % quantiles, the CRPS, whether the observation lies inside the central
50 % and 90 % bands, and, for growth series, whether the median has the observed sign.
Forecasts of years with no observation keep their quantiles and leave the scores empty (fan
charts draw them); a lower-bound observation is not scored by CRPS or coverage, but
``p_bound`` gives the forecast's probability of reaching the bound. "No forecast" rows keep
their reason in ``note``.

:func:`summarise` gives, per source and series (and per source over all series), the number of
scored forecasts, the mean CRPS (per series only: series have different units), the coverage
of the 50 % and 90 % bands, the share of right signs, and on the model's rows the skill score
against each benchmark, 1 − mean CRPS(model) / mean CRPS(benchmark), over the forecasts both
made (positive: the model is better). :func:`update_document` writes both as Markdown between
``<!-- backtest:start -->`` and ``<!-- backtest:end -->``.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation.forecasting import scores
from simulation.forecasting.observations import SERIES, SERIES_BY_ID
from simulation.forecasting.observations import observations as observed_table
from simulation.forecasting.predictive import KEYS, Ensemble, NoForecast, from_row

QUANTILES = {"q05": 0.05, "q25": 0.25, "median": 0.5, "q75": 0.75, "q95": 0.95}
COLUMNS = (
    *KEYS, "period", "observed", "bound", "median", "q05", "q25", "q75", "q95", "crps", "inside_50", "inside_90",
    "sign_right", "p_sign", "p_bound", "kind", "members", "ess", "note",
)  # fmt: skip
BOOLEAN = ("inside_50", "inside_90", "sign_right")
ADDED_LATER = ("p_sign",)  # columns a table from an earlier version may lack (read as missing values)
MODEL = "model"
SOURCE_ORDER = ("model", "rw", "rw_drift", "ar1")
SOURCE_LABELS = {
    "model": "model",
    "rw": "random walk",
    "rw_drift": "random walk with drift",
    "ar1": "AR(1)",
}
DOC_START, DOC_END = "<!-- backtest:start -->", "<!-- backtest:end -->"


class TableError(ValueError):
    """A forecasts or backtest table that does not have the documented layout; the message says what."""


# --- scoring --------------------------------------------------------------------------------


def score(forecasts: pd.DataFrame, observations: pd.DataFrame | None = None) -> pd.DataFrame:
    """Score every forecast against the observation of its series and year (see the module docstring)."""
    observations = observed_table() if observations is None else observations
    missing = [c for c in (*KEYS, "kind") if c not in forecasts]
    if missing:
        raise TableError(f"the forecasts table lacks the columns {', '.join(missing)}")
    duplicated = forecasts.duplicated(list(KEYS))
    if duplicated.any():
        first = tuple(forecasts.loc[duplicated, list(KEYS)].iloc[0])
        raise TableError(f"two forecasts for {first} (origin, series, year, source)")
    early = forecasts["year"].astype(int) <= forecasts["origin"].astype(int)
    if early.any():
        first = tuple(forecasts.loc[early, list(KEYS)].iloc[0])
        raise TableError(f"forecast {first} is for a year up to its origin: not a forecast")
    unknown = sorted(set(forecasts["series"]) - set(SERIES_BY_ID))
    if unknown:
        raise TableError(f"unknown series {', '.join(map(str, unknown))}; known: {', '.join(SERIES_BY_ID)}")
    by_key = {(r.series, int(r.year)): r for r in observations.itertuples(index=False)}
    rows = [_score_row(row, by_key.get((row["series"], int(row["year"]))))
            for row in forecasts.to_dict("records")]
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    for column in BOOLEAN:
        table[column] = table[column].astype("boolean")
    return _sorted(table)


def _score_row(row: dict[str, Any], obs: Any) -> dict[str, Any]:
    out: dict[str, Any] = {k: row[k] for k in KEYS}
    out.update(origin=int(row["origin"]), year=int(row["year"]), period="", observed=math.nan, bound="",
               crps=math.nan, inside_50=None, inside_90=None, sign_right=None, p_sign=math.nan, p_bound=math.nan,
               note="")
    if obs is not None:
        out.update(period=obs.period, observed=float(obs.value), bound=obs.bound)
    predictive = from_row(row)
    out.update(kind=predictive.kind, members=predictive.members if not isinstance(predictive, NoForecast) else 0,
               ess=predictive.ess if isinstance(predictive, Ensemble) else math.nan)
    if isinstance(predictive, NoForecast):
        out.update({name: math.nan for name in QUANTILES}, note=predictive.reason)
        return out
    q = predictive.quantile(list(QUANTILES.values()))
    out.update(dict(zip(QUANTILES, (float(v) for v in q))))
    if obs is None:
        out["note"] = "no observation"
        return out
    y = float(obs.value)
    if obs.bound == "lower":
        out.update(p_bound=predictive.prob_at_least(y), note="lower bound: scored by P(forecast ≥ bound) only")
        return out
    out["crps"] = predictive.crps(y)
    for level in scores.BANDS:
        low, high = predictive.quantile(scores.central_bounds(level))
        out[f"inside_{round(level * 100)}"] = scores.inside(y, float(low), float(high))
    if SERIES_BY_ID[row["series"]].kind == "growth" and y != 0:
        out["sign_right"] = scores.sign_right(y, out["median"])
        # how much of the forecast had the observed sign: how surprised the forecaster should be
        at_least_zero = predictive.prob_at_least(0.0)
        out["p_sign"] = at_least_zero if y > 0 else 1.0 - at_least_zero
    return out


def _sorted(table: pd.DataFrame) -> pd.DataFrame:
    series_order = {s.id: i for i, s in enumerate(SERIES)}
    source_order = {s: i for i, s in enumerate(SOURCE_ORDER)}

    def key(column: pd.Series) -> pd.Series:
        if column.name == "series":
            return column.map(series_order)
        if column.name == "source":
            return column.map(lambda s: (source_order.get(s, len(source_order))))
        return column

    return table.sort_values(["series", "origin", "year", "source"], key=key, kind="stable").reset_index(drop=True)


def scored_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Rows with a CRPS: a forecast, scored against a point observation."""
    return table[np.isfinite(table["crps"].to_numpy(float))]


# --- summary --------------------------------------------------------------------------------

ALL = "all series"


def sources_in(table: pd.DataFrame) -> list[str]:
    """The sources of a table, the model and the documented benchmarks first."""
    present = list(dict.fromkeys(table["source"]))
    return [s for s in SOURCE_ORDER if s in present] + [s for s in present if s not in SOURCE_ORDER]


def summarise(table: pd.DataFrame) -> pd.DataFrame:
    """Per source and series, and per source over all series: counts, mean CRPS, coverage, signs, skill."""
    scored = scored_rows(table)
    benchmarks = [s for s in sources_in(table) if s != MODEL]
    rows = []
    for source in sources_in(table):
        mine = scored[scored["source"] == source]
        groups = [(s.id, mine[mine["series"] == s.id]) for s in SERIES if (mine["series"] == s.id).any()]
        for series, group in [*groups, (ALL, mine)]:
            row: dict[str, Any] = dict(
                source=source, series=series, n=len(group),
                mean_crps=float(group["crps"].mean()) if series != ALL and len(group) else math.nan,
                inside_50=_rate(group["inside_50"]), inside_90=_rate(group["inside_90"]),
                n_sign=int(group["sign_right"].notna().sum()), sign_right=_rate(group["sign_right"]),
            )  # fmt: skip
            for bench in benchmarks:
                row[f"skill_vs_{bench}"], row[f"n_vs_{bench}"] = (
                    skill(table, bench, series) if source == MODEL and series != ALL else (math.nan, 0)
                )
            rows.append(row)
    return pd.DataFrame(rows)


def _rate(column: pd.Series) -> float:
    known = column.dropna()
    return float(known.astype(float).mean()) if len(known) else math.nan


def skill(table: pd.DataFrame, benchmark: str, series: str) -> tuple[float, int]:
    """1 − mean CRPS(model) / mean CRPS(benchmark) over the forecasts of ``series`` both scored, and their number."""
    scored = scored_rows(table)
    scored = scored[scored["series"] == series]
    keys = ["origin", "series", "year"]
    model = scored[scored["source"] == MODEL].set_index(keys)["crps"]
    bench = scored[scored["source"] == benchmark].set_index(keys)["crps"]
    both = model.index.intersection(bench.index)
    if len(both) == 0:
        return math.nan, 0
    denominator = float(bench.loc[both].mean())
    if denominator == 0:
        return math.nan, len(both)
    return 1.0 - float(model.loc[both].mean()) / denominator, len(both)


# --- files ----------------------------------------------------------------------------------


def write_table(table: pd.DataFrame, path: str | Path) -> Path:
    """Write a backtest table as CSV (booleans as true/false, missing as empty)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = table.copy()
    for column in BOOLEAN:
        out[column] = out[column].map(lambda v: "" if pd.isna(v) else ("true" if v else "false"))
    out.to_csv(path, index=False, float_format="%.10g")
    return path


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a backtest table written by :func:`write_table`; a one-line error if it is not one."""
    path = Path(path)
    if not path.is_file():
        raise TableError(f"{path}: no such file")
    text_columns = ("series", "source", "period", "bound", "kind", "note", *BOOLEAN)
    try:
        table = pd.read_csv(path, dtype={c: str for c in text_columns})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise TableError(f"{path} is not a readable CSV table ({exc})") from None
    for column in ADDED_LATER:
        if column not in table:
            table[column] = math.nan  # a table written before the column existed
    missing = [c for c in COLUMNS if c not in table]
    if missing:
        raise TableError(f"{path} is not a backtest table: it lacks the columns {', '.join(missing)}")
    for column in text_columns:
        table[column] = table[column].fillna("")
    for column in BOOLEAN:
        values = table[column].str.lower()
        if not values.isin(["", "true", "false"]).all():
            raise TableError(f"{path}: column {column} holds values other than true, false or empty")
        table[column] = values.map({"": pd.NA, "true": True, "false": False}).astype("boolean")
    try:
        for column in ("origin", "year", "members"):
            table[column] = table[column].astype(int)
        for column in ("observed", *QUANTILES, "crps", "p_sign", "p_bound", "ess"):
            table[column] = table[column].astype(float)
    except (TypeError, ValueError) as exc:
        raise TableError(f"{path}: a numeric column holds text ({exc})") from None
    return table[list(COLUMNS)]


# --- Markdown -------------------------------------------------------------------------------


def _num(x: float, digits: int) -> str:
    if x is None or not math.isfinite(x):
        return "–"
    return f"{x:,.{digits}f}".replace("-", "−")


def _digits(series: str) -> int:
    return 0 if SERIES_BY_ID[series].kind == "count" else 1


def _false(value: Any) -> bool:
    return not pd.isna(value) and not bool(value)


def _cell(row: pd.Series | None, digits: int) -> str:
    if row is None:
        return ""
    if row["kind"] == "none":
        return "no forecast"
    text = f"{_num(row['median'], digits)} [{_num(row['q05'], digits)}, {_num(row['q95'], digits)}]"
    if math.isfinite(row["crps"]):
        text += f" · {_num(row['crps'], digits + 1)}"
        if _false(row["inside_90"]):
            text += " **out**"
        if _false(row["sign_right"]):
            text += f" **sign** (P {row['p_sign']:.2f})"
    elif math.isfinite(row["p_bound"]):
        text += f" · P(≥ bound) {row['p_bound']:.2f}"
    return text


def markdown_forecasts(table: pd.DataFrame) -> str:
    """One Markdown row per observed (series, origin, year): the observation and each source's forecast."""
    sources = sources_in(table)
    head = "| series | origin → year | observed | " + " | ".join(SOURCE_LABELS.get(s, s) for s in sources) + " |"
    lines = [head, "|---|---|---:|" + "---:|" * len(sources)]
    observed = table[np.isfinite(table["observed"].to_numpy(float))]
    for (series, origin, year), group in observed.groupby(["series", "origin", "year"], sort=False):
        spec, digits = SERIES_BY_ID[series], _digits(series)
        by_source = {r["source"]: r for _, r in group.iterrows()}
        first = group.iloc[0]
        value = _num(first["observed"], digits)
        if first["bound"] == "lower":
            value = f"≥ {value}"
        if first["period"] not in ("", "year"):
            value += f" ({first['period']})"
        cells = [_cell(by_source.get(s), digits) for s in sources]
        lines.append(f"| {spec.label_en} ({spec.unit_en}) | {origin} → {year} | {value} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _pct(x: float) -> str:
    return "–" if not math.isfinite(x) else f"{x:.0%}"


def markdown_summary(summary: pd.DataFrame) -> str:
    """Coverage and signs per source, then mean CRPS and skill per series."""
    overall = summary[summary["series"] == ALL]
    lines = ["| source | forecasts scored | inside 50 % band | inside 90 % band | sign right (growth) |",
             "|---|---:|---:|---:|---:|"]
    for _, r in overall.iterrows():
        sign = f"{_pct(r['sign_right'])} of {r['n_sign']}" if r["n_sign"] else "–"
        lines.append(f"| {SOURCE_LABELS.get(r['source'], r['source'])} | {r['n']} | {_pct(r['inside_50'])} | "
                     f"{_pct(r['inside_90'])} | {sign} |")
    per_series = summary[summary["series"] != ALL]
    sources = list(dict.fromkeys(per_series["source"]))
    benchmarks = [s for s in sources if s != MODEL]
    lines += ["", "| series | " + " | ".join(f"CRPS {SOURCE_LABELS.get(s, s)}" for s in sources)
              + "".join(f" | skill vs {SOURCE_LABELS.get(b, b)}" for b in benchmarks if MODEL in sources) + " |",
              "|---|" + "---:|" * (len(sources) + (len(benchmarks) if MODEL in sources else 0))]
    for series in dict.fromkeys(per_series["series"]):
        spec, digits = SERIES_BY_ID[series], _digits(series) + 1
        rows = {r["source"]: r for _, r in per_series[per_series["series"] == series].iterrows()}
        cells = [f"{_num(rows[s]['mean_crps'], digits)} (n = {rows[s]['n']})" if s in rows else "–" for s in sources]
        if MODEL in sources:
            model = rows.get(MODEL)
            for b in benchmarks:
                value, n = (model[f"skill_vs_{b}"], model[f"n_vs_{b}"]) if model is not None else (math.nan, 0)
                cells.append(f"{_num(value, 2)} (n = {n})" if n else "–")
        lines.append(f"| {spec.label_en} ({spec.unit_en}) | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


LEGEND = (
    "Each cell: median [5 %, 95 %] of the predictive distribution · CRPS (in the series' unit; lower is "
    "better). **out**: the observation lies outside the central 90 % band; **sign** (P p): the median has the "
    "wrong sign, and p of the forecast had the observed one. \"no forecast\": the benchmark had too little history for a predictive with a finite mean "
    "(random walk: 3 consecutive observed years; with drift and AR(1): 4). A period such as Q1–Q3 marks a "
    "year-to-date figure scored as the year's. ≥: a lower bound, scored only by the forecast's probability "
    "of reaching it. Skill: 1 − CRPS(model) / CRPS(benchmark) over the forecasts both made (positive: the "
    "model is better)."
)


def markdown(table: pd.DataFrame, summary: pd.DataFrame | None = None) -> str:
    """The whole backtest block: the summary, the per-forecast table and its legend."""
    summary = summarise(table) if summary is None else summary
    return f"{markdown_summary(summary)}\n{markdown_forecasts(table)}\n{LEGEND}\n"


def update_document(text: str, table: pd.DataFrame, command: str = "simulate backtest",
                    summary: pd.DataFrame | None = None) -> str:
    """Replace the block between DOC_START and DOC_END with the backtest tables (a ValueError if absent)."""
    pattern = re.compile(re.escape(DOC_START) + r".*?" + re.escape(DOC_END), re.S)
    if not pattern.search(text):
        raise ValueError(f"no {DOC_START} … {DOC_END} block")
    note = f"<!-- generated by `{command}`; do not edit by hand -->\n"
    block = f"{DOC_START}\n{note}\n{markdown(table, summary)}{DOC_END}"
    return pattern.sub(lambda _: block, text, count=1)


def update_file(path: str | Path, table: pd.DataFrame, command: str = "simulate backtest",
                summary: pd.DataFrame | None = None) -> Path:
    """Rewrite the block in ``path`` in place; a missing file is created with a heading and the block."""
    path = Path(path)
    text = path.read_text(encoding="utf-8") if path.is_file() else f"# Forecasting\n\n{DOC_START}\n{DOC_END}\n"
    path.write_text(update_document(text, table, command, summary), encoding="utf-8")
    return path

