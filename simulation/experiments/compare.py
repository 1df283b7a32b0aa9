"""Paired comparison of two scenarios with common random numbers.

Both scenarios run the *same* replicate seeds (A's root seed and replicate count), so replicate
``i`` of A and of B draw the same uncertain parameters and, through the model's keyed random
streams, the same shocks wherever the policy does not change what happens. The difference
A - B within a replicate is then mostly the policy's effect, and its spread across replicates
is far smaller than the spread of either scenario: paired intervals are narrower than the
intervals an unpaired comparison (independent runs) would give for the same number of runs.

Per cluster (and for the city's industrial growth), with ``n`` replicates valid in both:

``cagr``
    the mean CAGR 2020->end year of A and of B (% a year) and their difference A - B
    (percentage points a year). Paired CI: mean of the per-replicate differences ± t(n-1)
    standard errors. Unpaired CI: Welch's t interval for the difference of two independent
    means (what two separately seeded runs would give). Spread: the 5th and 95th
    percentiles of the per-replicate differences (the CI shrinks with more replicates; the
    spread does not).
``p_hit`` (emerging clusters) / ``p_keeps_pace`` (pillars)
    the share of replicates meeting the target in A and in B and the difference A - B.
    Paired CI: Newcombe's hybrid score interval for paired proportions (Newcombe 1998,
    Statistics in Medicine 17:2635, method 10, in the form given by Altman et al. 2000,
    *Statistics with Confidence*, ch. 6: the phi coefficient's positive numerator is reduced by
    n/2), which combines the Wilson intervals of both shares with the correlation of the paired
    outcomes. Unpaired CI: Newcombe's hybrid score interval
    for independent proportions (method 10 of Newcombe 1998, Statistics in Medicine 17:873):
    the same with the correlation set to 0.

All intervals are 95 %. :func:`paired_mean`, :func:`welch`, :func:`newcombe_paired` and
:func:`newcombe_unpaired` are pure functions of arrays; :func:`compare_outcomes` builds the
comparison from two :class:`simulation.experiments.summary.Outcomes`; :func:`run_comparison`
runs both scenarios.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from simulation.datapack import CLUSTERS, EMERGING, PILLARS, clusters
from simulation.experiments.summary import CITY_NAME_EN, CITY_NAME_ZH, Outcomes, wilson_interval

CONFIDENCE = 0.95
NUMERIC = ("cagr", "public_cost", "revenue_total", "value_added_total")  # measures compared as means

#: Columns of comparison.csv, in order.
COLUMNS = (
    "cluster", "kind", "name_en", "name_zh", "measure", "n",
    "a", "b", "diff", "paired_low", "paired_high", "unpaired_low", "unpaired_high",
    "paired_width", "unpaired_width", "width_ratio", "a_only", "b_only", "spread_p5", "spread_p95",
)  # fmt: skip


# --- pure functions -------------------------------------------------------------------------


def paired_mean(a: np.ndarray, b: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """Mean of the paired differences a - b and its t interval (NaN pairs dropped)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    ok = np.isfinite(a) & np.isfinite(b)
    d = a[ok] - b[ok]
    n = d.size
    if n == 0:
        return math.nan, math.nan, math.nan
    mean = float(d.mean())
    if n == 1:
        return mean, math.nan, math.nan
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * d.std(ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half


def welch(a: np.ndarray, b: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """Difference of means a - b of two independent samples and its Welch t interval."""
    a = np.asarray(a, float)[np.isfinite(a)]
    b = np.asarray(b, float)[np.isfinite(b)]
    if a.size < 2 or b.size < 2:
        diff = float(a.mean() - b.mean()) if a.size and b.size else math.nan
        return diff, math.nan, math.nan
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    diff = float(a.mean() - b.mean())
    se = math.sqrt(va + vb)
    if se == 0:
        return diff, diff, diff
    df = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    half = float(stats.t.ppf(0.5 + confidence / 2, df) * se)
    return diff, diff - half, diff + half


def _wilson(k: float, n: float, confidence: float) -> tuple[float, float]:
    low, high = wilson_interval(k, n, confidence)
    return float(low), float(high)


def newcombe_paired(
    a: np.ndarray, b: np.ndarray, confidence: float = CONFIDENCE
) -> tuple[float, float, float, int, int]:
    """Difference of paired proportions P(a) - P(b) with Newcombe's hybrid score interval.

    ``a`` and ``b`` are boolean outcomes of the same units. Returns the difference, its
    interval, and the discordant counts (a only, b only).
    """
    a, b = np.asarray(a, bool), np.asarray(b, bool)
    n = a.size
    if n == 0:
        return math.nan, math.nan, math.nan, 0, 0
    e = int((a & b).sum())
    f = int((a & ~b).sum())
    g = int((~a & b).sum())
    h = n - e - f - g
    p1, p2 = (e + f) / n, (e + g) / n
    l1, u1 = _wilson(e + f, n, confidence)
    l2, u2 = _wilson(e + g, n, confidence)
    denom = (e + f) * (g + h) * (e + g) * (f + h)
    cross = e * h - f * g  # the phi coefficient's numerator, shrunk towards 0 by n/2 when positive
    cross = cross - n / 2 if cross > n / 2 else cross if cross < 0 else 0.0
    phi = cross / math.sqrt(denom) if denom > 0 else 0.0
    d = p1 - p2
    delta = math.sqrt(max((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2, 0.0))
    epsilon = math.sqrt(max((u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2, 0.0))
    return d, max(d - delta, -1.0), min(d + epsilon, 1.0), f, g


def newcombe_unpaired(
    a: np.ndarray, b: np.ndarray, confidence: float = CONFIDENCE
) -> tuple[float, float, float]:
    """Difference of independent proportions P(a) - P(b) with Newcombe's hybrid score interval."""
    a, b = np.asarray(a, bool), np.asarray(b, bool)
    if a.size == 0 or b.size == 0:
        return math.nan, math.nan, math.nan
    k1, n1, k2, n2 = int(a.sum()), a.size, int(b.sum()), b.size
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = _wilson(k1, n1, confidence)
    l2, u2 = _wilson(k2, n2, confidence)
    d = p1 - p2
    delta = math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    epsilon = math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return d, max(d - delta, -1.0), min(d + epsilon, 1.0)


def ratio_of_means(y: np.ndarray, x: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """mean(y) / mean(x) of paired samples and its delta-method interval (NaN pairs dropped).

    The effect per 亿: y is each replicate's extra revenue, x its extra public cost. NaN when the
    mean of x is not clearly away from zero (its own interval includes 0).
    """
    y, x = np.asarray(y, float), np.asarray(x, float)
    ok = np.isfinite(y) & np.isfinite(x)
    y, x = y[ok], x[ok]
    n = y.size
    if n < 2:
        return math.nan, math.nan, math.nan
    mx, my = float(x.mean()), float(y.mean())
    t = float(stats.t.ppf(0.5 + confidence / 2, n - 1))
    if abs(mx) <= t * x.std(ddof=1) / math.sqrt(n) or mx == 0:
        return math.nan, math.nan, math.nan
    r = my / mx
    # var(mean(y) - r mean(x)) / mean(x)^2
    half = t * float(np.std(y - r * x, ddof=1)) / math.sqrt(n) / abs(mx)
    return r, r - half, r + half


def effects_block(name: str, a: Outcomes, b: Outcomes) -> dict[str, Any]:
    """What scenario A adds over its counterfactual B (same seeds), for summary.json."""

    def num(x: Any) -> Any:
        return None if x is None or not np.isfinite(x) else float(x)

    def mean_block(x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
        d = np.asarray(x, float) - np.asarray(y, float)
        mean, lo, hi = paired_mean(x, y)
        ok = d[np.isfinite(d)]
        p5, p95 = (np.percentile(ok, [5, 95]) if ok.size else (math.nan, math.nan))
        return {"mean": num(mean), "ci_low": num(lo), "ci_high": num(hi), "p5": num(p5), "p95": num(p95)}

    def share_block(x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
        d, lo, hi, _, _ = newcombe_paired(np.asarray(x, bool), np.asarray(y, bool))
        return {"diff": num(d), "ci_low": num(lo), "ci_high": num(hi), "a": num(np.mean(x)), "b": num(np.mean(y))}

    rows = []
    for c, info in enumerate(clusters()):
        cluster = CLUSTERS[c]
        kind = "pillar" if cluster in PILLARS else "emerging" if cluster in EMERGING else "other"
        valid = np.isfinite(a.cluster_cagr[:, c]) & np.isfinite(b.cluster_cagr[:, c])
        row = {"cluster": cluster, "kind": kind, "cagr": mean_block(a.cluster_cagr[valid, c], b.cluster_cagr[valid, c])}
        if kind == "emerging":
            row["p_hit"] = share_block(a.hit[valid, c], b.hit[valid, c])
        elif kind == "pillar":
            row["p_keeps_pace"] = share_block(a.keeps_pace[valid, c], b.keeps_pace[valid, c])
        rows.append(row)
    d_cost = a.public_cost - b.public_cost
    r, r_lo, r_hi = ratio_of_means(a.revenue_total - b.revenue_total, d_cost)
    v, v_lo, v_hi = ratio_of_means(a.value_added_total - b.value_added_total, d_cost)
    return {
        "scenario": name,
        "definitions": {
            "cagr": "paired difference of CAGR, percentage points a year: mean with 95 % t interval (Monte-Carlo "
            "precision of the mean effect) and the 5th-95th percentiles of the effect across replicates "
            "(its spread over the uncertain world)",
            "p_hit": "change in the share of replicates meeting the target, with Newcombe's paired 95 % interval",
            "extra_cost": "extra public money over the run, 亿元",
            "revenue_per_yi": "extra revenue of the nine policy clusters over the run per 亿 of extra public money "
            "(ratio of mean effects, 95 % delta-method interval; null when the extra cost is not clearly positive)",
        },
        "clusters": rows,
        "city": {"cagr": mean_block(a.city_cagr, b.city_cagr)},
        "all_emerging": share_block(a.all_hit, b.all_hit),
        "extra_cost": mean_block(a.public_cost, b.public_cost),
        "extra_revenue": mean_block(a.revenue_total, b.revenue_total),
        "extra_value_added": mean_block(a.value_added_total, b.value_added_total),
        "revenue_per_yi": {"ratio": num(r), "ci_low": num(r_lo), "ci_high": num(r_hi)},
        "value_added_per_yi": {"ratio": num(v), "ci_low": num(v_lo), "ci_high": num(v_hi)},
    }


# --- the comparison -------------------------------------------------------------------------


def _row(cluster: str, kind: str, name_en: str, name_zh: str, measure: str, a: np.ndarray, b: np.ndarray,
         valid: np.ndarray) -> dict[str, Any]:  # fmt: skip
    a, b = a[valid], b[valid]
    n = int(valid.sum())
    spread = (math.nan, math.nan)
    if measure in NUMERIC:
        diff, p_lo, p_hi = paired_mean(a, b)
        _, u_lo, u_hi = welch(a, b)
        a_value, b_value = (float(a.mean()), float(b.mean())) if n else (math.nan, math.nan)
        a_only = b_only = None
        if n:
            spread = tuple(float(x) for x in np.percentile(a - b, [5.0, 95.0]))
    else:
        diff, p_lo, p_hi, a_only, b_only = newcombe_paired(a, b)
        _, u_lo, u_hi = newcombe_unpaired(a, b)
        a_value, b_value = (float(a.mean()), float(b.mean())) if n else (math.nan, math.nan)
    pw, uw = p_hi - p_lo, u_hi - u_lo
    return {
        "cluster": cluster, "kind": kind, "name_en": name_en, "name_zh": name_zh, "measure": measure, "n": n,
        "a": a_value, "b": b_value, "diff": diff,
        "paired_low": p_lo, "paired_high": p_hi, "unpaired_low": u_lo, "unpaired_high": u_hi,
        "paired_width": pw, "unpaired_width": uw,
        "width_ratio": pw / uw if uw and np.isfinite(uw) and uw > 0 else math.nan,
        "a_only": a_only, "b_only": b_only, "spread_p5": spread[0], "spread_p95": spread[1],
    }  # fmt: skip


def compare_outcomes(a: Outcomes, b: Outcomes) -> pd.DataFrame:
    """The comparison table (COLUMNS) of two scenarios' per-replicate outcomes, paired by replicate."""
    if a.cluster_cagr.shape != b.cluster_cagr.shape:
        raise ValueError("the two scenarios must have the same replicates and clusters")
    rows = []
    for c, info in enumerate(clusters()):
        cluster = CLUSTERS[c]
        kind = "pillar" if cluster in PILLARS else "emerging" if cluster in EMERGING else "other"
        valid = np.isfinite(a.cluster_cagr[:, c]) & np.isfinite(b.cluster_cagr[:, c])
        common = (cluster, kind, info.name_en, info.name_zh)
        rows.append(_row(*common, "cagr", a.cluster_cagr[:, c], b.cluster_cagr[:, c], valid))
        if kind == "emerging":
            rows.append(_row(*common, "p_hit", a.hit[:, c], b.hit[:, c], valid))
        elif kind == "pillar":
            both = valid & np.isfinite(a.gap[:, c]) & np.isfinite(b.gap[:, c])
            rows.append(_row(*common, "p_keeps_pace", a.keeps_pace[:, c], b.keeps_pace[:, c], both))
    valid = np.isfinite(a.city_cagr) & np.isfinite(b.city_cagr)
    rows.append(_row("city", "city", CITY_NAME_EN, CITY_NAME_ZH, "cagr", a.city_cagr, b.city_cagr, valid))
    if a.all_hit is not None and b.all_hit is not None:
        every = np.ones(a.all_hit.shape, dtype=bool)
        rows.append(_row("emerging", "all", "All five emerging clusters", "五个新兴产业集群全部", "p_all_hit",
                         a.all_hit, b.all_hit, every))
    if a.public_cost is not None and b.public_cost is not None:
        every = np.ones(a.public_cost.shape, dtype=bool)
        for measure, x, y in (("public_cost", a.public_cost, b.public_cost),
                              ("revenue_total", a.revenue_total, b.revenue_total),
                              ("value_added_total", a.value_added_total, b.value_added_total)):
            rows.append(_row("policy", "money", "Nine policy clusters", "九个政策集群", measure, x, y, every))
        for measure, y in (("revenue_per_yi", a.revenue_total - b.revenue_total),
                           ("value_added_per_yi", a.value_added_total - b.value_added_total)):
            ratio, lo, hi = ratio_of_means(y, a.public_cost - b.public_cost)
            rows.append({**dict.fromkeys(COLUMNS), "cluster": "policy", "kind": "money", "name_en": "Nine policy clusters",
                         "name_zh": "九个政策集群", "measure": measure, "n": len(y), "diff": ratio,
                         "paired_low": lo, "paired_high": hi, "paired_width": hi - lo})
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    for col in ("a_only", "b_only"):
        table[col] = table[col].astype("Int64")
    return table


@dataclass
class Comparison:
    """Both scenarios' results and the comparison table."""

    a: Any  # loaded Scenario
    b: Any
    seeds: list[int]
    results_a: list
    results_b: list
    summary_a: Any  # Summary
    summary_b: Any
    table: pd.DataFrame
    notes: list[str]


def run_comparison(a: Any, b: Any, workers: int = 1, progress: bool = False,
                   replicates: int | None = None) -> Comparison:  # fmt: skip
    """Run loaded scenarios ``a`` and ``b`` with A's replicate seeds and compare them.

    ``replicates`` defaults to A's ``simulation.replicates``; B's own seed and replicate
    count are not used (the notes say so when they differ).
    """
    from simulation.experiments.runner import ReplicatePool
    from simulation.experiments.seeds import replicate_seeds
    from simulation.experiments.summary import summarise

    sim_a, sim_b = a.spec.simulation, b.spec.simulation
    n = replicates if replicates is not None else sim_a.replicates
    seeds = replicate_seeds(sim_a.seed, n)
    notes = []
    if sim_b.seed != sim_a.seed:
        notes.append(f"{b.name} has its own root seed {sim_b.seed}; both ran {a.name}'s seed {sim_a.seed}")
    if sim_b.replicates != n:
        notes.append(f"{b.name} asks for {sim_b.replicates} replicates; both ran {n}")
    for field in ("start_year", "end_year"):
        if getattr(sim_a, field) != getattr(sim_b, field):
            raise ValueError(f"the scenarios differ in simulation.{field} "
                             f"({getattr(sim_a, field)} and {getattr(sim_b, field)}); they cannot be compared")
    if a.spec.targets != b.spec.targets:
        notes.append("the scenarios have different [targets]; each scenario's hits use its own")
    with ReplicatePool(min(workers, max(n, 1)) if workers >= 1 else workers) as pool:  # one set for both scenarios
        results_a = pool.run(a.spec, seeds, progress=progress, label=f"Compare: {a.name}")
        results_b = pool.run(b.spec, seeds, progress=progress, label=f"Compare: {b.name}")
    summary_a, summary_b = summarise(results_a, a.spec), summarise(results_b, b.spec)
    table = compare_outcomes(summary_a.outcomes, summary_b.outcomes)
    return Comparison(a, b, seeds, results_a, results_b, summary_a, summary_b, table, notes)


def comparison_data(comp: Comparison, folders: dict[str, str]) -> dict[str, Any]:
    """comparison.json: the scenarios, seeds, definitions and the rows of the table."""

    def num(x: Any) -> Any:
        if x is None or x is pd.NA:
            return None
        if isinstance(x, (int, np.integer)):
            return int(x)
        return None if not np.isfinite(x) else float(x)

    rows = []
    for record in comp.table.to_dict("records"):
        rows.append({k: (v if k in ("cluster", "kind", "name_en", "name_zh", "measure") else num(v)) for k, v in record.items()})
    sim = comp.a.spec.simulation
    return {
        "a": {"name": comp.a.name, "path": str(comp.a.path), "sha256": comp.a.sha256},
        "b": {"name": comp.b.name, "path": str(comp.b.path), "sha256": comp.b.sha256},
        "folders": folders,
        "root_seed": sim.seed,
        "replicates": len(comp.seeds),
        "start_year": sim.start_year,
        "end_year": sim.end_year,
        "targets": {"emerging_cagr": comp.a.spec.targets.emerging_cagr,
                    "pillar_tolerance": comp.a.spec.targets.pillar_tolerance},
        "confidence": CONFIDENCE,
        "definitions": {
            "diff": "A minus B: percentage points a year for cagr, a difference of shares for p_hit / p_keeps_pace",
            "a, b": "cagr: mean across replicates, % a year; p_hit / p_keeps_pace: share of replicates",
            "paired": "cagr: mean paired difference ± t interval; shares: Newcombe's paired hybrid score interval",
            "unpaired": "cagr: Welch t interval; shares: Newcombe's hybrid score interval for independent samples",
            "width_ratio": "paired CI width / unpaired CI width (< 1: pairing narrows the interval)",
            "a_only, b_only": "replicates meeting the target in A but not B, and in B but not A",
            "spread_p5, spread_p95": "cagr: 5th and 95th percentiles of the per-replicate differences A - B "
                                     "(how much the effect varies between replicates; the CI is of their mean)",
        },
        "notes": comp.notes,
        "rows": rows,
    }


def sentence(row: dict[str, Any] | pd.Series, a_name: str, b_name: str) -> str:
    """One comparison row in words (English), e.g. for a terminal."""
    if row["measure"] == "cagr":
        unit, digits = " pp a year", 2
    else:
        unit, digits = "", 2
    return (f"{row['name_en']}, {row['measure']}: {a_name} − {b_name} = {row['diff']:+.{digits}f}{unit} "
            f"(paired 95 % CI {row['paired_low']:+.{digits}f} to {row['paired_high']:+.{digits}f}; "
            f"unpaired {row['unpaired_low']:+.{digits}f} to {row['unpaired_high']:+.{digits}f})")


def measures(table: pd.DataFrame, measure: str | Sequence[str]) -> pd.DataFrame:
    wanted = [measure] if isinstance(measure, str) else list(measure)
    return table[table["measure"].isin(wanted)]
