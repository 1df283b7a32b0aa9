"""The unit of work of a sweep: one (design point, replicate) run, reduced to a row of outcomes.

A run builds the point's scenario (the experiment's resolved base scenario with the point's
values set, exactly as ``--set`` would), runs ``ClusterModel(spec, rng=seed)`` and keeps only a
small dict: per-cluster CAGR, hit and gap from :mod:`simulation.experiments.summary`, the city's
CAGR, and the fiscal costs summed from the city series. Full series are never kept.

Outcome columns (what an experiment's ``outcomes`` list selects, by group):

==================  ===============================================================  ========
group               columns                                                          type
==================  ===============================================================  ========
``cagr``            ``cagr_<cluster>``: CAGR of above-scale revenue, start to end    %/yr
``hit``             ``hit_<emerging>``: CAGR >= targets.emerging_cagr; the mean      bool
                    over replicates is P(hit)
``gap``             ``gap_<pillar>``: pillar CAGR minus the city's                   pp
``keeps_pace``      ``keeps_pace_<pillar>``: gap >= -targets.pillar_tolerance       bool
``city_cagr``       ``city_cagr``: CAGR of the city's industrial revenue             %/yr
``revenue``         ``revenue_end_<cluster>``: end-year above-scale revenue          亿元/yr
``all_hit``         ``hit_all``: every emerging cluster hits; the mean is P(all five) bool
``fiscal_cost``     ``cost_<programme>`` per programme of the fiscal ledger over the   亿元
                    horizon (simulation/model/ledger.py), and their sum ``fiscal_cost``
``money``           ``revenue_total``, ``value_added_total``: the nine policy        亿元
                    clusters over the horizon (current prices), and ``revenue_per_yi``,
                    ``value_added_per_yi`` per 亿 of public money (ratios of totals)
``fund_investment`` ``fund_investment``: fund equity invested over the horizon       亿元
==================  ===============================================================  ========
"""

from __future__ import annotations

import copy
import hashlib
import threading
import tomllib
import traceback
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from simulation.datapack import CLUSTERS, EMERGING, PILLARS
from simulation.experiments.summary import annual_revenue, money_totals, outcomes
from simulation.model.ledger import PROGRAMMES
from simulation.model.results import CITY_METRICS, CLUSTER_METRICS, ReplicateResult
from simulation.scenario.schema import ScenarioSpec

#: group -> description
OUTCOME_GROUPS: dict[str, str] = {
    "cagr": "CAGR of above-scale revenue per cluster, %/yr",
    "hit": "emerging cluster meets the growth target (mean over replicates = P(hit))",
    "gap": "pillar CAGR minus the city's, percentage points",
    "keeps_pace": "pillar gap >= -pillar_tolerance (mean over replicates = P(keeps pace))",
    "city_cagr": "CAGR of the city's industrial revenue, %/yr",
    "revenue": "end-year above-scale revenue per cluster, 100 million CNY a year",
    "all_hit": "all five emerging clusters meet the growth target (mean over replicates = P(all five))",
    "fiscal_cost": "public money by programme of the fiscal ledger, and in total, 100 million CNY",
    "money": "the nine policy clusters' revenue and value added over the run, and per 亿 of public money",
    "fund_investment": "fund equity invested, 100 million CNY",
}
COSTS = {f"cost_{name}": f"cost_{name}" for name in PROGRAMMES}  # column -> city metric
MONEY = ("revenue_total", "value_added_total", "revenue_per_yi", "value_added_per_yi")

#: Columns every row has, before the parameters and the outcomes.
KEY_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("point", pa.int64()),
    ("replicate", pa.int32()),
    ("seed", pa.int64()),
    ("status", pa.string()),  # "ok" or "failed"
    ("error", pa.string()),  # "ExceptionType: message" for a failed run, else null
)


def outcome_columns(groups: Sequence[str]) -> list[tuple[str, pa.DataType]]:
    """(name, Arrow type) of the outcome columns of ``groups``, in a fixed order."""
    unknown = [g for g in groups if g not in OUTCOME_GROUPS]
    if unknown:
        raise ValueError(f"unknown outcome group(s) {unknown}; allowed: {', '.join(OUTCOME_GROUPS)}")
    f64, boolean = pa.float64(), pa.bool_()
    columns: list[tuple[str, pa.DataType]] = []
    for g in OUTCOME_GROUPS:  # fixed order whatever the order in the file
        if g not in groups:
            continue
        if g == "cagr":
            columns += [(f"cagr_{c}", f64) for c in CLUSTERS]
        elif g == "hit":
            columns += [(f"hit_{c}", boolean) for c in EMERGING]
        elif g == "gap":
            columns += [(f"gap_{c}", f64) for c in PILLARS]
        elif g == "keeps_pace":
            columns += [(f"keeps_pace_{c}", boolean) for c in PILLARS]
        elif g == "city_cagr":
            columns.append(("city_cagr", f64))
        elif g == "revenue":
            columns += [(f"revenue_end_{c}", f64) for c in CLUSTERS]
        elif g == "all_hit":
            columns.append(("hit_all", boolean))
        elif g == "fiscal_cost":
            columns += [(name, f64) for name in (*COSTS, "fiscal_cost")]
        elif g == "money":
            columns += [(name, f64) for name in MONEY]
        elif g == "fund_investment":
            columns.append(("fund_investment", f64))
    return columns


def outcome_row(result: ReplicateResult, spec: ScenarioSpec) -> dict[str, Any]:
    """Every outcome column of one replicate (callers keep the columns they record)."""
    sim, targets = spec.simulation, spec.targets
    cluster_rev, city_rev = annual_revenue([result])
    end = sim.end_year - result.start_year
    out = outcomes(cluster_rev[:, [0, end]], city_rev[:, [0, end]], float(end),
                   targets.emerging_cagr, targets.pillar_tolerance)  # fmt: skip
    row: dict[str, Any] = {}
    for c, cid in enumerate(CLUSTERS):
        row[f"cagr_{cid}"] = _num(out.cluster_cagr[0, c])
        row[f"revenue_end_{cid}"] = _num(out.revenue_end[0, c])
        if cid in EMERGING:
            row[f"hit_{cid}"] = bool(out.hit[0, c]) if np.isfinite(out.cluster_cagr[0, c]) else None
        if cid in PILLARS:
            ok = np.isfinite(out.gap[0, c])
            row[f"gap_{cid}"] = _num(out.gap[0, c])
            row[f"keeps_pace_{cid}"] = bool(out.keeps_pace[0, c]) if ok else None
    row["city_cagr"] = _num(out.city_cagr[0])
    emerging = [CLUSTERS.index(c) for c in EMERGING]
    cagr_emerging = out.cluster_cagr[0, emerging]
    row["hit_all"] = bool(out.all_hit[0]) if np.isfinite(cagr_emerging).all() else None
    steps = end * result.steps_per_year
    names = list(CITY_METRICS)
    flow = lambda metric: float(result.city[1 : steps + 1, names.index(metric)].sum())  # noqa: E731
    for column, metric in COSTS.items():
        row[column] = flow(metric)
    row["fiscal_cost"] = flow("public_cost")
    cost, revenue, va = money_totals([result], end)
    row["revenue_total"], row["value_added_total"] = float(revenue[0]), float(va[0])
    row["revenue_per_yi"] = float(revenue[0] / cost[0]) if cost[0] > 0 else None
    row["value_added_per_yi"] = float(va[0] / cost[0]) if cost[0] > 0 else None
    fund = list(CLUSTER_METRICS).index("fund_investment")
    row["fund_investment"] = float(result.cluster[1 : steps + 1, :, fund].sum())
    return row


def _num(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


# --- running a chunk of runs (in a worker) ---------------------------------------------------

#: An evaluator other than the model: ``f(values: dict[key, value], seed: int) -> dict[column, value]``.
Evaluator = Callable[[dict[str, Any], int], dict[str, Any]]


@dataclass(frozen=True)
class SweepContext:
    """What every worker needs to run any (point, replicate) of a sweep; sent once per worker."""

    scenario_text: str  # the resolved base scenario (after extends and the experiment's [set])
    keys: tuple[str, ...]  # varied scenario keys, in design order
    columns: tuple[str, ...]  # outcome columns to record
    evaluator: Evaluator | None = None  # None: the model
    fingerprint: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.fingerprint:
            digest = hashlib.sha256(self.scenario_text.encode("utf-8"))
            digest.update(repr((self.keys, self.columns, _name(self.evaluator))).encode())
            object.__setattr__(self, "fingerprint", digest.hexdigest())


#: One run: (point, replicate, seed, the point's values in design order).
Task = tuple[int, int, int, tuple[Any, ...]]


def run_chunk(context: SweepContext, chunk: Sequence[Task]) -> list[dict[str, Any]]:
    """Run each task; a run that raises gives a failed row with its error instead of raising."""
    rows = []
    for point, replicate, seed, values in chunk:
        row: dict[str, Any] = {"point": point, "replicate": replicate, "seed": seed}
        row.update(zip(context.keys, values))
        try:
            if context.evaluator is not None:
                result = context.evaluator(dict(zip(context.keys, values)), seed)
            else:
                spec = point_spec(context, values)
                result = outcome_row(_run_model(spec, seed), spec)
            row.update({c: result.get(c) for c in context.columns})
            row.update(status="ok", error=None)
        except Exception as exc:  # recorded, not raised: the sweep goes on
            row.update(dict.fromkeys(context.columns))
            row.update(status="failed", error=describe(exc))
            row["traceback"] = traceback.format_exc(limit=-8)
        rows.append(row)
    return rows


def _run_model(spec: ScenarioSpec, seed: int) -> ReplicateResult:
    from simulation.experiments.runner import run_replicate

    return run_replicate(spec, seed)


def describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


# --- a point's scenario -------------------------------------------------------------------

_CACHE_SIZE = 32
_cache: OrderedDict[tuple[str, tuple[Any, ...]], ScenarioSpec] = OrderedDict()
_base: dict[str, dict[str, Any]] = {}
_lock = threading.Lock()  # dask workers may run tasks in threads


def point_spec(context: SweepContext, values: tuple[Any, ...]) -> ScenarioSpec:
    """The scenario of one design point: the base scenario with ``key = value`` for each key.

    The same as ``load_scenario(base, overrides=[f"{key}={value}", ...]).spec`` (the parent
    validated the experiment that way), without reading files: the resolved scenario text
    travels with the context, so workers on other machines need no copy of the scenario files.
    """
    cache_key = (context.fingerprint, values)
    with _lock:
        spec = _cache.get(cache_key)
        if spec is not None:
            _cache.move_to_end(cache_key)
            return spec
        base = _base.get(context.fingerprint)
        if base is None:
            base = _base[context.fingerprint] = tomllib.loads(context.scenario_text)
            while len(_base) > 4:
                _base.pop(next(iter(_base)))
        data = copy.deepcopy(base)
    for key, value in zip(context.keys, values):
        _set(data, key.split("."), value)
    try:
        spec = ScenarioSpec.model_validate(data)
    except Exception as exc:
        errors = getattr(exc, "errors", None)
        if errors is None:
            raise
        first = errors()[0]
        where = ".".join(str(k) for k in first["loc"])
        raise ValueError(f"invalid scenario at this point: {where}: {first['msg']}") from None
    with _lock:
        _cache[cache_key] = spec
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return spec


def _set(data: dict[str, Any], keys: list[str], value: Any) -> None:
    for k in keys[:-1]:
        data = data.setdefault(k, {})
    data[keys[-1]] = value


def _name(fn: object) -> str | None:
    return None if fn is None else f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"
