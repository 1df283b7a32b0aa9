"""What the replicates say about the policy's targets: growth rates, hits, gaps, probabilities.

Per replicate, from annual above-scale revenue (CLUSTER_METRICS ``revenue``, 亿元 a year):

* a cluster's CAGR from the start year to the end year, ``(R_end / R_start) ** (1 / years) - 1``
  in % (the start year's value is the start state, the end year's the mean of its steps);
* the city's industrial CAGR, the same from CITY_METRICS ``industrial_revenue``;
* an emerging cluster *hits* its target when its CAGR >= ``targets.emerging_cagr``;
* a pillar's *gap* is its CAGR minus the city's, and it *keeps pace* when
  gap >= -``targets.pillar_tolerance``;
* *all five* emerging clusters hit in a replicate when each of them does;
* the public cost is the fiscal ledger's total from the first simulated year to the end year
  (亿元, net of fund proceeds returned), and revenue and value added are the nine policy
  clusters' current-price totals over the same years.

With a counterfactual (the scenario run with another scenario's levers, the same seeds), each
replicate's difference is the policy's effect in that replicate (common random numbers): mean
effects with paired t intervals, the 5th-95th percentiles of the effect across replicates, the
change in P(hit) with Newcombe's paired interval, the extra public cost, and the extra revenue
and value added per 亿 of extra public money (ratio of mean effects, delta-method interval).

Across replicates: medians and 90 % intervals (5th and 95th percentiles, numpy's default
linear interpolation) of revenue, CAGR and gap, and the share of replicates that hit or keep
pace with a Wilson 95 % confidence interval. A CAGR is undefined (NaN) when the start revenue
is not positive; such replicates are left out of that cluster's statistics, and ``n`` says
how many were used.

Everything but :func:`summarise` is a pure function of arrays.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtri

from simulation.datapack import CLUSTERS, EMERGING, PILLARS, clusters
from simulation.experiments.parameter_uncertainty import drawn_values, interval_columns
from simulation.model.results import CITY_METRICS, CLUSTER_METRICS, ReplicateResult, annualise
from simulation.scenario.schema import ScenarioSpec

LOWER, UPPER = 5.0, 95.0  # percentiles of the 90 % interval
CONFIDENCE = 0.95  # of the Wilson intervals

CITY_NAME_EN = "City industry (all clusters but software)"
CITY_NAME_ZH = "全市规模以上工业"

#: Columns of the summary table, in order.
COLUMNS = (
    "cluster", "kind", "name_en", "name_zh", "n",
    "revenue_start_median", "revenue_end_median",
    "cagr_median", "cagr_p5", "cagr_p95",
    "hits", "p_hit", "p_hit_low", "p_hit_high",
    "gap_median", "gap_p5", "gap_p95",
    "keeps_pace", "p_keeps_pace", "p_keeps_pace_low", "p_keeps_pace_high",
)  # fmt: skip


# --- pure functions -------------------------------------------------------------------------


def cagr(start: np.ndarray, end: np.ndarray, years: float) -> np.ndarray:
    """Compound annual growth rate in % a year; NaN where ``start`` is not positive."""
    if years <= 0:
        raise ValueError(f"years must be positive; got {years}")
    start, end = np.asarray(start, dtype=float), np.asarray(end, dtype=float)
    ok = start > 0
    ratio = np.divide(end, start, out=np.full(np.broadcast(start, end).shape, np.nan), where=ok)
    with np.errstate(invalid="ignore"):
        return (np.power(np.maximum(ratio, 0.0), 1.0 / years) - 1.0) * 100.0


def wilson_interval(k: Any, n: Any, confidence: float = CONFIDENCE) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a binomial proportion ``k / n`` (NaN where n == 0).

    The same as ``scipy.stats.binomtest(k, n).proportion_ci(method="wilson")``, vectorised.
    """
    k, n = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    z = ndtri(0.5 + confidence / 2.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1.0 + z * z / n
        centre = (p + z * z / (2.0 * n)) / denom
        half = z * np.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n)) / denom
        low, high = np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)
    # exact at the ends (rounding can leave 1e-17 where 0 belongs)
    low = np.where(k == 0, 0.0, np.minimum(low, p))
    high = np.where(k == n, 1.0, np.maximum(high, p))
    bad = ~(n > 0)
    return np.where(bad, np.nan, low), np.where(bad, np.nan, high)


def interval(x: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Median, 5th and 95th percentiles along ``axis``, ignoring NaN."""
    x = np.asarray(x, dtype=float)
    if x.shape[axis] == 0:
        nan = np.full(np.delete(np.array(x.shape), axis), np.nan)
        return nan, nan.copy(), nan.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN column gives NaN, as it should
        p5, median, p95 = np.nanpercentile(x, [LOWER, 50.0, UPPER], axis=axis)
    return median, p5, p95


def share(flags: np.ndarray, valid: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Count of true flags among valid entries, n, proportion, and (low, high) Wilson CI."""
    k = (np.asarray(flags, bool) & valid).sum(axis=axis)
    n = np.asarray(valid, bool).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(n > 0, k / np.maximum(n, 1), np.nan)
    low, high = wilson_interval(k, n)
    return k, n, p, (low, high)


@dataclass(frozen=True)
class Outcomes:
    """Per-replicate outcomes: arrays with replicates on axis 0, clusters in CLUSTERS order."""

    revenue_start: np.ndarray  # (R, C) 亿元
    revenue_end: np.ndarray  # (R, C)
    cluster_cagr: np.ndarray  # (R, C) %/yr
    city_start: np.ndarray  # (R,)
    city_end: np.ndarray  # (R,)
    city_cagr: np.ndarray  # (R,)
    hit: np.ndarray  # (R, C) bool: CAGR >= emerging target (any cluster; used for emerging ones)
    gap: np.ndarray  # (R, C) pp: CAGR - city CAGR
    keeps_pace: np.ndarray  # (R, C) bool: gap >= -tolerance
    all_hit: np.ndarray | None = None  # (R,) bool: every emerging cluster hits (NaN CAGR counts as a miss)
    public_cost: np.ndarray | None = None  # (R,) 亿元 over the run
    revenue_total: np.ndarray | None = None  # (R,) 亿元, nine policy clusters, current prices, over the run
    value_added_total: np.ndarray | None = None  # (R,) 亿元, the same for value added


def outcomes(
    cluster_revenue: np.ndarray,
    city_revenue: np.ndarray,
    years: float,
    emerging_cagr: float,
    pillar_tolerance: float,
) -> Outcomes:
    """Outcomes from annual revenue at the start and end years.

    ``cluster_revenue`` is (replicate, 2, cluster) or (replicate, year, cluster) and
    ``city_revenue`` (replicate, 2) or (replicate, year): the first and last years are used.
    """
    cluster_revenue = np.asarray(cluster_revenue, dtype=float)
    city_revenue = np.asarray(city_revenue, dtype=float)
    start, end = cluster_revenue[:, 0], cluster_revenue[:, -1]
    c_start, c_end = city_revenue[:, 0], city_revenue[:, -1]
    growth = cagr(start, end, years)
    city = cagr(c_start, c_end, years)
    gap = growth - city[:, None]
    emerging = [CLUSTERS.index(c) for c in EMERGING]
    every_cluster = growth.shape[1] == len(CLUSTERS)  # (tests pass single-cluster arrays)
    with np.errstate(invalid="ignore"):
        hit = growth >= emerging_cagr
        return Outcomes(
            revenue_start=start,
            revenue_end=end,
            cluster_cagr=growth,
            city_start=c_start,
            city_end=c_end,
            city_cagr=city,
            hit=hit,
            gap=gap,
            keeps_pace=gap >= -pillar_tolerance,
            all_hit=hit[:, emerging].all(axis=1) if every_cluster else None,
        )


# --- from replicate results -----------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    """The summary as a table (one row per cluster, then the city) and as JSON-ready data."""

    table: pd.DataFrame
    data: dict[str, Any]
    outcomes: Outcomes


def annual_series(results: Sequence[ReplicateResult], scope: str, metric: str) -> np.ndarray:
    """(replicate, year, unit) annual values of one cluster metric, or (replicate, year) of a city metric."""
    spy = results[0].steps_per_year
    registry = CLUSTER_METRICS if scope == "cluster" else CITY_METRICS
    j = list(registry).index(metric)
    if scope == "cluster":
        series = np.stack([r.cluster[:, :, j : j + 1] for r in results], axis=1)  # (step, R, C, 1)
        return annualise(series, [registry[metric][0]], spy)[..., 0].transpose(1, 0, 2)
    series = np.stack([r.city[:, j : j + 1] for r in results], axis=1)  # (step, R, 1)
    return annualise(series, [registry[metric][0]], spy)[..., 0].T


def money_totals(results: Sequence[ReplicateResult], end_index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per replicate, over the simulated years to ``end_index``: public cost, and the nine policy
    clusters' revenue and value added (亿元, current prices)."""
    policy = [c != "other" for c in CLUSTERS]
    cost = annual_series(results, "city", "public_cost")[:, 1 : end_index + 1].sum(axis=1)
    revenue = annual_series(results, "cluster", "revenue")[:, 1 : end_index + 1][..., policy].sum(axis=(1, 2))
    va = annual_series(results, "cluster", "value_added")[:, 1 : end_index + 1][..., policy].sum(axis=(1, 2))
    return cost, revenue, va


def annual_revenue(results: Sequence[ReplicateResult]) -> tuple[np.ndarray, np.ndarray]:
    """(replicate, year, cluster) above-scale revenue and (replicate, year) city industrial revenue."""
    spy = results[0].steps_per_year
    j = list(CLUSTER_METRICS).index("revenue")
    cluster_kinds = [CLUSTER_METRICS["revenue"][0]]
    cluster = np.stack([r.cluster[:, :, j : j + 1] for r in results], axis=1)  # (step, R, C, 1)
    k = list(CITY_METRICS).index("industrial_revenue")
    city = np.stack([r.city[:, k : k + 1] for r in results], axis=1)  # (step, R, 1)
    cluster_annual = annualise(cluster, cluster_kinds, spy)[..., 0].transpose(1, 0, 2)
    city_annual = annualise(city, [CITY_METRICS["industrial_revenue"][0]], spy)[..., 0].T
    return cluster_annual, city_annual


def summarise(
    results: Sequence[ReplicateResult],
    spec: ScenarioSpec,
    counterfactual: tuple[str, Sequence[ReplicateResult]] | None = None,
    parameter_intervals: bool = True,
) -> Summary:
    """Per-cluster and city summary of the replicates (see the module docstring).

    ``counterfactual`` is (name, results of the same seeds with the counterfactual's levers).
    ``parameter_intervals`` adds to each chance the interval of P(target | the drawn values)
    (:mod:`simulation.experiments.parameter_uncertainty`; a second or two a chance).
    """
    if not results:
        raise ValueError("no replicate results to summarise")
    spec = getattr(spec, "spec", spec)  # a loaded Scenario works too
    sim, targets = spec.simulation, spec.targets
    cluster_rev, city_rev = annual_revenue(results)
    start_year = results[0].start_year
    end_index = sim.end_year - start_year
    if not 0 < end_index < cluster_rev.shape[1]:
        raise ValueError(f"results do not reach the end year {sim.end_year}")
    years = float(end_index)
    out = outcomes(
        cluster_rev[:, [0, end_index]], city_rev[:, [0, end_index]], years,
        targets.emerging_cagr, targets.pillar_tolerance,
    )  # fmt: skip
    cost, revenue_total, va_total = money_totals(results, end_index)
    out = replace(out, public_cost=cost, revenue_total=revenue_total, value_added_total=va_total)

    valid = np.isfinite(out.cluster_cagr)
    rev0, _, _ = interval(out.revenue_start)
    rev1, _, _ = interval(out.revenue_end)
    g_med, g_lo, g_hi = interval(out.cluster_cagr)
    gap_med, gap_lo, gap_hi = interval(np.where(valid & np.isfinite(out.city_cagr)[:, None], out.gap, np.nan))
    gap_valid = valid & np.isfinite(out.city_cagr)[:, None]
    hits, n_hit, p_hit, (hit_lo, hit_hi) = share(out.hit, valid)
    keeps, n_keep, p_keep, (keep_lo, keep_hi) = share(out.keeps_pace, gap_valid)
    drawn = drawn_values([r.parameters for r in results]) if parameter_intervals else np.empty((len(results), 0))
    hit_plo, hit_phi = interval_columns(out.hit, valid, drawn)
    keep_plo, keep_phi = interval_columns(out.keeps_pace, gap_valid, drawn)

    rows = []
    for c, row in enumerate(clusters()):
        assert row.cluster_id == CLUSTERS[c]
        kind = "pillar" if row.cluster_id in PILLARS else "emerging" if row.cluster_id in EMERGING else "other"
        record: dict[str, Any] = dict.fromkeys(COLUMNS)
        record.update(
            cluster=row.cluster_id, kind=kind, name_en=row.name_en, name_zh=row.name_zh, n=int(valid[:, c].sum()),
            revenue_start_median=rev0[c], revenue_end_median=rev1[c],
            cagr_median=g_med[c], cagr_p5=g_lo[c], cagr_p95=g_hi[c],
        )  # fmt: skip
        if kind == "emerging":
            record.update(hits=int(hits[c]), p_hit=p_hit[c], p_hit_low=hit_lo[c], p_hit_high=hit_hi[c],
                          p_hit_parameter_low=hit_plo[c], p_hit_parameter_high=hit_phi[c])
        if kind == "pillar":
            record.update(
                gap_median=gap_med[c], gap_p5=gap_lo[c], gap_p95=gap_hi[c], keeps_pace=int(keeps[c]),
                p_keeps_pace=p_keep[c], p_keeps_pace_low=keep_lo[c], p_keeps_pace_high=keep_hi[c],
                p_keeps_pace_parameter_low=keep_plo[c], p_keeps_pace_parameter_high=keep_phi[c],
            )  # fmt: skip
        rows.append(record)
    city_med, city_lo, city_hi = interval(out.city_cagr)
    rows.append(
        {
            **dict.fromkeys(COLUMNS),
            "cluster": "city", "kind": "city", "name_en": CITY_NAME_EN, "name_zh": CITY_NAME_ZH,
            "n": int(np.isfinite(out.city_cagr).sum()),
            "revenue_start_median": interval(out.city_start)[0], "revenue_end_median": interval(out.city_end)[0],
            "cagr_median": city_med, "cagr_p5": city_lo, "cagr_p95": city_hi,
        }
    )  # fmt: skip
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    for col in COLUMNS[5:]:
        if col in ("hits", "keeps_pace"):
            table[col] = table[col].astype("Int64")
        else:
            table[col] = table[col].astype(float)

    data = {
        "start_year": int(start_year),
        "end_year": int(sim.end_year),
        "replicates": len(results),
        "targets": {"emerging_cagr": targets.emerging_cagr, "pillar_tolerance": targets.pillar_tolerance},
        "definitions": {
            "revenue": "above-scale operating revenue, 100 million CNY (亿元) a year; medians across replicates",
            "cagr": "compound annual growth of revenue from start_year to end_year, % a year",
            "interval": f"{LOWER:g}th and {UPPER:g}th percentiles across replicates (90 % interval)",
            "p_hit": "share of replicates where an emerging cluster's CAGR >= targets.emerging_cagr",
            "gap": "pillar CAGR minus the city's industrial CAGR, percentage points",
            "p_keeps_pace": "share of replicates where a pillar's gap >= -targets.pillar_tolerance",
            "ci": f"Wilson {CONFIDENCE:.0%} confidence interval of a share",
        },
        "clusters": [_json_row(r) for r in rows[:-1]],
        "city": _json_row(rows[-1]),
        "all_emerging": _share_block(out.all_hit, np.ones_like(out.all_hit, dtype=bool), drawn),
        "statistics_basis": _statistics_basis(results, out, end_index, targets.emerging_cagr),
        "conditioning": _conditioning(spec, start_year, sim.end_year),
        "public_cost": _money_block(cost, revenue_total, va_total, results, end_index),
        "uncertainty": UNCERTAINTY_COVERED,
    }
    data["definitions"].update(
        all_emerging="share of replicates where all five emerging clusters reach targets.emerging_cagr",
        statistics_basis="emerging clusters' CAGR and P(hit) as the statistics measure revenue: firms above scale for "
        "the year, current prices, with software's change of statistical scope",
        conditioning="with a posterior: the years whose uncertain values were conditioned on observed statistics "
        "and the years that are simulated only",
        public_cost="public money spent from the first simulated year to end_year, 亿元, net of fund proceeds "
        "returned (the fiscal ledger; by programme: medians); fund_holdings_end_median: the funds' stakes at "
        "cost and proceeds they still hold at end_year, an asset the outlay bought",
        revenue_per_yi="the nine policy clusters' current-price revenue over the same years per 亿 of public "
        "money (a ratio of totals, not an effect; the effect per 亿 is in the counterfactual block)",
    )
    if counterfactual is not None:
        from simulation.experiments.compare import effects_block  # compare builds on this module

        name, cf_results = counterfactual
        cf = summarise(cf_results, spec, parameter_intervals=False)
        data["counterfactual"] = effects_block(name, out, cf.outcomes)
        table = _with_effects(table, data["counterfactual"])
    return Summary(table=table, data=data, outcomes=out)


def _with_effects(table: pd.DataFrame, block: dict[str, Any]) -> pd.DataFrame:
    """summary.csv columns for the effect against the counterfactual, per cluster."""
    table = table.copy()
    by_cluster = {row["cluster"]: row for row in block["clusters"]}
    by_cluster["city"] = block["city"]
    for col in EFFECT_COLUMNS:
        table[col] = np.nan
    for i, cluster in enumerate(table["cluster"]):
        row = by_cluster.get(cluster)
        if row is None:
            continue
        c = row["cagr"]
        target = row.get("p_hit") or row.get("p_keeps_pace")
        values = [c["mean"], c["ci_low"], c["ci_high"], c["p5"], c["p95"]]
        values += [target["diff"], target["ci_low"], target["ci_high"]] if target else [None] * 3
        for col, v in zip(EFFECT_COLUMNS, values):
            table.loc[i, col] = np.nan if v is None else v
    return table


#: summary.csv columns added when a counterfactual was run.
EFFECT_COLUMNS = (
    "effect_cagr", "effect_cagr_low", "effect_cagr_high", "effect_cagr_p5", "effect_cagr_p95",
    "effect_p", "effect_p_low", "effect_p_high",
)  # fmt: skip


#: What a P(hit) interval and the 90 % intervals cover, in words (summary.json "uncertainty").
UNCERTAINTY_COVERED = {
    "p_hit_ci": "Monte-Carlo precision only: the Wilson interval says how well the replicates pin down the "
    "share; it does not widen with what is unknown about the world",
    "across_replicates": "each replicate draws every uncertain value of the scenario (2020 levels, demand trends "
    "and shocks including the yearly common city-wide factor, prices after the last observed year, firm behaviour, "
    "land, talent, funds and policy-response parameters, the scales on the clusters' technology table, value-added "
    "ratios and software's change of statistical scope, and with a posterior the conditioned values of a posterior "
    "particle) and its own random history, so P(hit) and the 90 % intervals of growth integrate over parameter and "
    "stochastic uncertainty within the ranges the scenario gives",
    "parameter_interval": "parameter_low-parameter_high of a chance: the central 95 % across replicates of "
    "P(target | the uncertain values the replicate drew), estimated by a cross-validated logistic regression of "
    "the outcome on those values; how far P would move if those values were known. Conservative where the "
    "replicates cannot separate the values' effect from the shocks'; absent with under 40 replicates or under 5 "
    "of the rarer outcome",
    "not_covered": "structural uncertainty (other mechanisms than the model's), ranges that are themselves "
    "wrong, and events no scenario names",
}


def _statistics_basis(results: Sequence[ReplicateResult], out: Outcomes, end_index: int,
                      target: float) -> dict[str, Any]:
    """Each emerging cluster's CAGR and P(hit) as the statistics would measure them.

    The end year's revenue of the firms above scale *for the year*, in current prices, with any
    change of statistical scope (software's), against the start year's figures. Where the scope
    did not change this is close to the model's own measure; for software it is what the
    published statistics report, scope change included.
    """
    end = annual_series(results, "cluster", "revenue_stat")[:, end_index]
    growth = cagr(out.revenue_start, end, float(end_index))
    block = {}
    for cluster in EMERGING:
        c = CLUSTERS.index(cluster)
        valid = np.isfinite(growth[:, c])
        med, lo, hi = interval(growth[valid, c])
        k, n, p, (ci_lo, ci_hi) = share(growth[:, c] >= target, valid)
        num = lambda x: None if not np.isfinite(x) else float(x)  # noqa: E731
        block[cluster] = {"cagr": {"median": num(med), "p5": num(lo), "p95": num(hi)},
                          "hit": {"count": int(k), "p": num(p), "ci_low": num(ci_lo), "ci_high": num(ci_hi)}}
    return block


def _conditioning(spec: ScenarioSpec, start_year: int, end_year: int) -> dict[str, Any] | None:
    """Which years a posterior conditions on observed statistics, and which are simulated only."""
    if not getattr(spec, "posterior", ""):
        return None
    import json
    from pathlib import Path

    try:
        through = int(json.loads((Path(spec.posterior) / "posterior.json").read_text(encoding="utf-8"))["through"])
    except (OSError, ValueError, KeyError):
        return {"posterior": spec.posterior, "observed_years": [], "simulated_years": list(range(start_year + 1, end_year + 1))}
    return {
        "posterior": spec.posterior,
        "observed_years": list(range(start_year + 1, min(through, end_year) + 1)),
        "simulated_years": list(range(max(through, start_year) + 1, end_year + 1)),
    }


def _share_block(flags: np.ndarray, valid: np.ndarray, drawn: np.ndarray | None = None) -> dict[str, Any]:
    k, n, p, (low, high) = share(flags, valid)
    num = lambda x: None if not np.isfinite(x) else float(x)  # noqa: E731
    block = {"count": int(k), "n": int(n), "p": num(p), "ci_low": num(low), "ci_high": num(high)}
    return block | (_parameter_bounds(*interval_columns(flags, valid, drawn)) if drawn is not None else {})


def _parameter_bounds(low: Any, high: Any) -> dict[str, float]:
    """``parameter_low``/``parameter_high`` of a chance block, left out where there is no such interval."""
    low, high = float(np.ravel(low)[0]), float(np.ravel(high)[0])
    return {"parameter_low": low, "parameter_high": high} if np.isfinite(low) and np.isfinite(high) else {}


def _money_block(cost: np.ndarray, revenue: np.ndarray, va: np.ndarray, results: Sequence[ReplicateResult],
                 end_index: int) -> dict[str, Any]:
    from simulation.model.ledger import PROGRAMMES

    med, lo, hi = interval(cost)
    by = {
        name: float(np.median(annual_series(results, "city", f"cost_{name}")[:, 1 : end_index + 1].sum(axis=1)))
        for name in PROGRAMMES
    }
    with np.errstate(divide="ignore", invalid="ignore"):
        r_med = interval(np.where(cost > 0, revenue / cost, np.nan))[0]
        v_med = interval(np.where(cost > 0, va / cost, np.nan))[0]
    holdings = annual_series(results, "city", "fund_holdings")[:, end_index]
    num = lambda x: None if not np.isfinite(x) else float(x)  # noqa: E731
    return {
        "total": {"median": num(med), "p5": num(lo), "p95": num(hi)},
        "fund_holdings_end_median": num(float(np.median(holdings))),
        "per_year_median": num(med / max(end_index, 1)),
        "by_programme": by,
        "revenue_per_yi": num(r_med),
        "value_added_per_yi": num(v_med),
    }


def _json_row(row: dict[str, Any]) -> dict[str, Any]:
    """A table row as nested JSON: numbers as float/int, NaN as null, unused blocks left out."""

    def num(x: Any) -> float | None:
        return None if x is None or not np.isfinite(x) else float(x)

    out: dict[str, Any] = {k: row[k] for k in ("cluster", "kind", "name_en", "name_zh", "n")}
    out["revenue_start_median"] = num(row["revenue_start_median"])
    out["revenue_end_median"] = num(row["revenue_end_median"])
    out["cagr"] = {"median": num(row["cagr_median"]), "p5": num(row["cagr_p5"]), "p95": num(row["cagr_p95"])}
    if row["kind"] == "emerging":
        out["hit"] = {
            "count": row["hits"], "p": num(row["p_hit"]),
            "ci_low": num(row["p_hit_low"]), "ci_high": num(row["p_hit_high"]),
            **_parameter_bounds(row.get("p_hit_parameter_low", np.nan), row.get("p_hit_parameter_high", np.nan)),
        }  # fmt: skip
    if row["kind"] == "pillar":
        out["gap"] = {"median": num(row["gap_median"]), "p5": num(row["gap_p5"]), "p95": num(row["gap_p95"])}
        out["keeps_pace"] = {
            "count": row["keeps_pace"], "p": num(row["p_keeps_pace"]),
            "ci_low": num(row["p_keeps_pace_low"]), "ci_high": num(row["p_keeps_pace_high"]),
            **_parameter_bounds(row.get("p_keeps_pace_parameter_low", np.nan),
                                row.get("p_keeps_pace_parameter_high", np.nan)),
        }  # fmt: skip
    return out
