"""From evaluated designs to the Pareto set and the three designs a briefing shows.

* The **Pareto set**: the feasible designs (mean public cost within the budget, every objective
  defined) that no other feasible evaluated design dominates on the objectives, all measured on
  the same ensemble of futures (pymoo's non-dominated sorting).
* The **briefing**: among the Pareto set,

  1. the *cheapest design that meets the stated probability*: the lowest cost a year among those
     with P(all five emerging clusters hit) >= ``probability`` (ties: the higher probability);
     ``probability = "as_written"`` states the probability the policy as written reaches in the
     same futures: the cheapest design that does at least as well;
  2. the *most robust design at today's budget*: the highest P(all five) (ties: the better worst
     cluster, then the faster median city growth, then the cheaper) among those costing no more
     than the policy as written does in the same futures;
  3. the *best design per 亿*: the most extra value added per extra 亿 of public money against the
     least-support design (every lever at the low end of its range) in the same futures, among
     those spending at least ``MIN_EXTRA_COST`` 亿元 a year more (a paired effect per 亿, not a
     ratio of totals).

  Each comes with its lever values, its metrics and its cost; a pick that no design qualifies for
  says so instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from simulation.experiments.optimise import OptimisationPlan


def design_table(plan: OptimisationPlan, designs: dict[str, dict[str, Any]], stored: dict[str, dict[int, dict]],
                 names: list[str]) -> pd.DataFrame:  # fmt: skip
    """One row per evaluated design, in the order first proposed: values, metrics, runs, feasible."""
    from simulation.experiments.optimise import design_metrics, design_id

    references = {design_id(v): name for name, v in plan.references().items()}
    rows = []
    for d in sorted(designs.values(), key=lambda d: d["design"]):
        runs = stored.get(d["id"], {})
        row = {"design": d["design"], "id": d["id"], "generation": d["generation"],
               "reference": references.get(d["id"], "")}  # fmt: skip
        row.update(zip(plan.keys, d["values"]))
        row.update(design_metrics(plan, runs, names) if runs else dict.fromkeys(names, np.nan))
        row["runs_ok"] = sum(r["status"] == "ok" for r in runs.values())
        rows.append(row)
    table = pd.DataFrame(rows)
    finite = np.isfinite(table[[o for o, _ in plan.objectives]].to_numpy(dtype=float)).all(axis=1)
    within = np.ones(len(table), bool) if plan.budget is None else \
        (table[plan.budget_metric].to_numpy(dtype=float) <= plan.budget)  # fmt: skip
    table["feasible"] = finite & within
    table["extra_cost_per_year"], table["extra_va_per_extra_yi"] = _per_yi(plan, table, stored)
    return table


def _per_yi(plan: OptimisationPlan, table: pd.DataFrame, stored: dict[str, dict[int, dict]]
            ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Extra cost a year and extra value added per extra 亿 against the least-support design, paired by future."""
    from simulation.experiments.optimise import MIN_EXTRA_COST

    nan = np.full(len(table), np.nan)
    least = table.index[table["reference"] == "least"]
    if not len(least) or "value_added_total" not in {n for n, _ in plan.outcome_types}:
        return nan, nan.copy()
    base = stored[table.loc[least[0], "id"]]
    cost, per = nan.copy(), nan.copy()
    for i, did in enumerate(table["id"]):
        pairs = [(r, base[f]) for f, r in stored[did].items() if f in base and r["status"] == "ok"
                 and base[f]["status"] == "ok" and r.get("value_added_total") is not None
                 and base[f].get("value_added_total") is not None]  # fmt: skip
        if not pairs:
            continue
        d_cost = np.mean([r["fiscal_cost"] - b["fiscal_cost"] for r, b in pairs])
        d_va = np.mean([r["value_added_total"] - b["value_added_total"] for r, b in pairs])
        cost[i] = d_cost / plan.years
        per[i] = d_va / d_cost if d_cost / plan.years >= MIN_EXTRA_COST else np.nan
    return cost, per


def pareto_set(table: pd.DataFrame, objectives: tuple[tuple[str, str], ...]) -> pd.DataFrame:
    """The feasible designs no other feasible design dominates (every objective as good, one better)."""
    from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

    feasible = table[table["feasible"]]
    if feasible.empty:
        return feasible.copy()
    f = minimised(feasible, objectives)
    front = NonDominatedSorting().do(f, only_non_dominated_front=True)
    return feasible.iloc[np.sort(front)].reset_index(drop=True)


def minimised(table: pd.DataFrame, objectives: tuple[tuple[str, str], ...]) -> np.ndarray:
    """The objectives as columns to minimise (a "max" objective negated)."""
    return np.column_stack([table[o].to_numpy(dtype=float) * (-1.0 if s == "max" else 1.0) for o, s in objectives])


def dominated(f: np.ndarray) -> np.ndarray:
    """Which rows of ``f`` (to minimise) another row dominates: a brute-force check of the Pareto set."""
    out = np.zeros(len(f), bool)
    for i in range(len(f)):
        better_eq = np.all(f <= f[i], axis=1)
        strictly = np.any(f < f[i], axis=1)
        out[i] = bool(np.any(better_eq & strictly))
    return out


def briefing(plan: OptimisationPlan, table: pd.DataFrame, front: pd.DataFrame) -> dict[str, Any]:
    """The three designs a briefing shows (see the module docstring), and the reference designs."""
    refs = {name: _design(plan, table[table["reference"] == name].iloc[0]) for name in ("as_written", "least")
            if (table["reference"] == name).any()}  # fmt: skip
    today = refs.get("as_written", {}).get("metrics", {}).get("cost_per_year")
    probability = plan.probability
    if probability == "as_written":
        probability = refs.get("as_written", {}).get("metrics", {}).get("p_all_hit")
    out: dict[str, Any] = {"probability": probability, "probability_rule": "as_written" if plan.probability ==
                           "as_written" else "stated", "budget": plan.budget, "today_cost_per_year": today,
                           "references": refs, "pareto_designs": len(front), "evaluated_designs": len(table)}  # fmt: skip
    has = set(front.columns)
    picks: dict[str, Any] = {}
    if {"p_all_hit", "cost_per_year"} <= has and probability is not None:
        meets = front[front["p_all_hit"] >= probability - 1e-12]
        picks["cheapest_meeting_probability"] = _pick(plan, meets.sort_values(["cost_per_year", "p_all_hit"],
                                                                              ascending=[True, False], kind="stable"),
                                                      f"no design on the Pareto set reaches P(all five) >= "
                                                      f"{probability:g}")  # fmt: skip
        if today is not None:
            within = front[front["cost_per_year"] <= today + 1e-9]
            order = [c for c in ("p_all_hit", "worst_p_hit", "city_cagr_median", "cost_per_year") if c in has]
            asc = [c == "cost_per_year" for c in order]
            picks["most_robust_at_todays_budget"] = _pick(plan, within.sort_values(order, ascending=asc, kind="stable"),
                                                          "no design on the Pareto set costs no more than the policy "
                                                          "as written")  # fmt: skip
    if "value_added_total" in {n for n, _ in plan.outcome_types}:
        per = front[np.isfinite(front["extra_va_per_extra_yi"].to_numpy(dtype=float))]
        picks["best_per_yi"] = _pick(plan, per.sort_values("extra_va_per_extra_yi", ascending=False, kind="stable"),
                                     "no design on the Pareto set spends at least 1 亿元 a year more than the least "
                                     "support")  # fmt: skip
    out["picks"] = picks
    return out


def _pick(plan: OptimisationPlan, ordered: pd.DataFrame, none: str) -> dict[str, Any]:
    if ordered.empty:
        return {"design": None, "why_none": none}
    return _design(plan, ordered.iloc[0])


def _design(plan: OptimisationPlan, row: pd.Series) -> dict[str, Any]:
    metrics = [c for c in row.index if c not in ("design", "id", "generation", "reference", "feasible", "pareto",
                                                   "runs_ok", *plan.keys)]  # fmt: skip
    return {"design": int(row["design"]), "id": row["id"], "reference": row["reference"] or None,
            "values": {k: _num(row[k]) for k in plan.keys}, "metrics": {m: _num(row[m]) for m in metrics}}


def _num(x: Any) -> Any:
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    try:
        v = float(x)
    except (TypeError, ValueError):
        return x
    if not np.isfinite(v):
        return None
    return int(v) if isinstance(x, (int, np.integer)) else v
