"""Robust lever optimisation under a budget: pymoo's NSGA-II/III on a fixed ensemble of futures.

A *design* is a set of lever magnitudes (and splits of shares across clusters, such as a fund's
mandate). Every design is run in the same *futures*: the ensemble's replicate seeds, each drawing
every uncertainty of the base scenario from its distribution, the same draws for every design
(common random numbers, see docs/SWEEPS.md). Its runs are reduced to robustness metrics
(:mod:`simulation.experiments.robustness`), the objectives; the mean public cost a year must stay
within the budget (an inequality constraint). pymoo's NSGA-II (or NSGA-III for many objectives)
proposes designs through its ask-and-tell interface; the runs go to the sweep backends (local
worker processes or a Dask cluster, :mod:`simulation.experiments.sweep`).

**Every run is stored.** Each (design, future) run is a row appended to Parquet parts in
``runs/`` as runs finish (written whole or not at all, as in a sweep). **Resume is replay**: the
optimiser is deterministic given its seed and the objective values it is told, so a resumed run
starts the optimiser again from the same seed and, generation by generation, looks each proposed
design up in the stored rows, runs only the (design, future) pairs that are missing, and tells the
optimiser the same values as before. A run killed at any moment (SIGKILL included) therefore
continues to the same Pareto set it would have reached uninterrupted.

The results folder::

    manifest.json    the file, scenario hash, settings, seeds, versions, sessions, status
    optimise.toml    the optimisation file as written; scenario.toml the resolved base scenario
    runs/part-*.parquet   one row per (design, future) run: design, generation, future (replicate), seed,
                          the design's lever values, the run's outcomes
    designs.parquet  one row per evaluated design: its values, every metric, feasible, pareto
    pareto.parquet   the Pareto set: the feasible designs no other evaluated design dominates
    briefing.json    the three designs a briefing shows, and the reference designs
"""

from __future__ import annotations

import hashlib
import json
import shlex
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from simulation.experiments import interrupts
from simulation.experiments.optimise_file import Allocation, LeverRange, OptimiseFile
from simulation.experiments.progress import Progress
from simulation.experiments.robustness import METRICS, evaluate, metric
from simulation.experiments.seeds import replicate_seeds
from simulation.experiments.sweep import (
    FORMAT, MANIFEST, MANIFEST_RESERVE, PARQUET_OPTIONS, Backend, LocalBackend, RowBuffer, SweepError, SweepStore, _atomic,
    _atomic_text, _chunks, _git, _jsonable, _now, _versions, chunk_size,
)  # fmt: skip
from simulation.experiments.sweep_outcomes import KEY_COLUMNS, SweepContext, outcome_columns

OUTCOME_GROUPS = ("hit", "all_hit", "city_cagr", "fiscal_cost", "money")
FILE, SCENARIO = "optimise.toml", "scenario.toml"
DESIGNS, PARETO, BRIEFING = "designs.parquet", "pareto.parquet", "briefing.json"
INFEASIBLE = 1e9  # objective value told for a design without a usable run
EPS = 1e-3  # added to each raw share of an allocation
MIN_EXTRA_COST = 1.0  # 亿元 a year: "per 亿" is measured only against at least this much extra money


# --- what to optimise -------------------------------------------------------------------------


@dataclass
class OptimisationPlan:
    """Decision variables, the ensemble, the objectives and the optimiser's settings."""

    name: str
    levers: tuple[LeverRange, ...]
    allocations: tuple[Allocation, ...]
    seeds: list[int]  # one per future
    context: SweepContext
    outcome_types: list[tuple[str, pa.DataType]]
    objectives: tuple[tuple[str, str], ...]  # (metric, "max" | "min")
    budget: float | None = None  # the budget metric must stay at most this
    budget_metric: str = "cost_per_year"
    years: float = 5.0
    algorithm: str = "nsga2"
    population: int = 12
    generations: int = 6
    seed: int = 0
    probability: float | str = 0.5  # or "as_written": what the policy as written reaches in the same futures
    identity: dict[str, Any] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)  # files to write as they are

    @classmethod
    def from_file(cls, loaded: OptimiseFile) -> OptimisationPlan:
        types = outcome_columns(OUTCOME_GROUPS)
        keys = tuple([lv.key for lv in loaded.levers] + [k for a in loaded.allocations for k in a.keys])
        context = SweepContext(loaded.scenario.text, keys, tuple(n for n, _ in types))
        plan = cls(loaded.name, loaded.levers, loaded.allocations, replicate_seeds(loaded.seed, loaded.futures), context,
                   types, loaded.objectives, loaded.budget, "cost_per_year", loaded.years, loaded.algorithm,
                   loaded.population, loaded.generations, loaded.seed, loaded.probability)  # fmt: skip
        plan.identity = plan._identity(scenario_sha256=loaded.scenario.sha256)
        plan.info = {"file": {"name": loaded.name, "path": str(loaded.path), "description": loaded.description},
                     "scenario": {"name": loaded.scenario.name, "path": str(loaded.scenario.path),
                                  "sha256": loaded.scenario.sha256}}  # fmt: skip
        plan.texts = {FILE: loaded.text, SCENARIO: loaded.scenario.text}
        return plan

    @classmethod
    def custom(cls, name: str, levers: list[LeverRange], evaluator: Callable[[dict[str, Any], int], dict[str, Any]],
               outcomes: list[str], objectives: list[tuple[str, str]], seeds: list[int], **settings: Any
               ) -> OptimisationPlan:  # fmt: skip
        """Optimise any function ``evaluator(values, seed) -> {outcome: number}`` (tests, toy problems)."""
        context = SweepContext("", tuple(lv.key for lv in levers), tuple(outcomes), evaluator)
        plan = cls(name, tuple(levers), (), list(seeds), context, [(o, pa.float64()) for o in outcomes],
                   tuple(objectives), **settings)  # fmt: skip
        plan.identity = plan._identity(evaluator=f"{evaluator.__module__}.{evaluator.__qualname__}")
        return plan

    def _identity(self, **what: Any) -> dict[str, Any]:
        return {**what, "levers": [[lv.key, lv.low, lv.high, lv.dtype] for lv in self.levers],
                "allocations": [[a.key, list(a.parts), list(a.base)] for a in self.allocations],
                "seeds": [int(s) for s in self.seeds], "objectives": [list(o) for o in self.objectives],
                "budget": self.budget, "budget_metric": self.budget_metric, "algorithm": self.algorithm,
                "population": self.population, "generations": self.generations, "seed": self.seed,
                "columns": [n for n, _ in self.outcome_types]}  # fmt: skip

    # decision vectors and values
    @property
    def keys(self) -> tuple[str, ...]:
        return self.context.keys

    @property
    def n_var(self) -> int:
        return len(self.levers) + sum(len(a.parts) for a in self.allocations)

    def values(self, x: np.ndarray) -> tuple[Any, ...]:
        """The scenario values of a decision vector in [0, 1]^n_var (rounded: 6 significant figures, shares to 1e-4)."""
        x = np.clip(np.asarray(x, dtype=float), 0.0, 1.0)
        out: list[Any] = []
        for i, lv in enumerate(self.levers):
            v = lv.low + x[i] * (lv.high - lv.low)
            out.append(int(round(v)) if lv.dtype == "int" else float(f"{v:.6g}"))
        j = len(self.levers)
        for a in self.allocations:
            raw = x[j : j + len(a.parts)] + EPS  # a split of nothing is an even split
            out.extend(_shares(raw / raw.sum() * a.total, a.total))
            j += len(a.parts)
        return tuple(out)

    def unit(self, values: tuple[Any, ...]) -> np.ndarray:
        """A decision vector that gives ``values`` (for the reference designs)."""
        x = []
        for lv, v in zip(self.levers, values):
            x.append((float(v) - lv.low) / (lv.high - lv.low))
        j = len(self.levers)
        for a in self.allocations:  # the inverse of values(): (x + eps) / sum(x + eps) = share / total
            share = np.asarray(values[j : j + len(a.parts)], dtype=float) / a.total
            x.extend(share * (1 + EPS) / max(share.max(), 1e-12) - EPS)
            j += len(a.parts)
        return np.clip(np.asarray(x, dtype=float), 0.0, 1.0)

    def references(self) -> dict[str, tuple[Any, ...]]:
        """The policy as written (the base scenario's values) and the least support (every lever at its low end)."""
        written = [lv.base for lv in self.levers] + [v for a in self.allocations for v in a.base]
        least = [lv.low for lv in self.levers] + [v for a in self.allocations for v in a.base]
        return {"as_written": self.values(self.unit(tuple(written))), "least": self.values(self.unit(tuple(least)))}

    def metric_names(self) -> list[str]:
        """Every metric the runs' columns allow, then the objectives and the budget's."""
        columns = {n for n, _ in self.outcome_types}
        names = [m.name for m in METRICS.values() if set(m.columns) <= columns]
        for name in [o for o, _ in self.objectives] + [self.budget_metric]:
            if name not in names and set(metric(name).columns) <= columns:
                names.append(name)
        return names

    def schema(self) -> pa.Schema:
        params = [(lv.key, pa.int64() if lv.dtype == "int" else pa.float64()) for lv in self.levers]
        params += [(k, pa.float64()) for a in self.allocations for k in a.keys]
        extra = [("design", pa.string()), ("generation", pa.int32())]
        return pa.schema([*KEY_COLUMNS, *extra, *params, *self.outcome_types])


def _shares(x: np.ndarray, total: float) -> list[float]:
    """Shares rounded to 1e-4 that add up to at most ``total`` (the largest gives way)."""
    rounded = np.round(x, 4)
    excess = round(float(rounded.sum()) - total, 4)
    if excess > 0:
        rounded[int(np.argmax(rounded))] -= excess
    return [float(round(v, 4)) for v in rounded]


def design_id(values: tuple[Any, ...]) -> str:
    """A design's identity: a hash of its values (the same values are the same design, whatever the vector)."""
    return hashlib.sha256(json.dumps([_plain(v) for v in values]).encode()).hexdigest()[:16]


def _plain(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v


# --- running ------------------------------------------------------------------------------------


@dataclass
class OptimisationResult:
    folder: Path
    designs: pd.DataFrame  # every evaluated design
    pareto: pd.DataFrame
    briefing: dict[str, Any]
    ran: int  # runs made in this session
    stored: int  # runs found stored (replayed)
    wall_time: float
    backend: str
    failed: int = 0


def run_optimisation(plan: OptimisationPlan, folder: str | Path | SweepStore, backend: Backend | None = None, *,
                     resume: bool = False, overwrite: bool = False, progress: bool | str = True,
                     checkpoint: float = 5.0, command: list[str] | None = None, new: bool = False
                     ) -> OptimisationResult:  # fmt: skip
    """Optimise into ``folder`` (see the module docstring); ``resume`` replays the stored runs first.

    Ctrl-C, SIGTERM or a lost backend writes every finished run, marks the folder interrupted and
    re-raises; ``resume=True`` then continues where it stopped, to the same Pareto set.
    """
    backend = backend or LocalBackend(1)
    store = folder if isinstance(folder, SweepStore) else SweepStore(folder)
    started, clock = _now(), time.perf_counter()
    try:
        backend.connect()
        if resume and (store.folder / MANIFEST).exists():
            store.claim(resume=True)
            manifest = _check_same(store, plan)
            store.clean()
        else:
            store.claim(overwrite, new=new)
            manifest = _create(store, plan)
        return _optimise(plan, store, manifest, backend, started, clock, progress, checkpoint, command)
    finally:
        backend.close()
        store.release()


def _create(store: SweepStore, plan: OptimisationPlan) -> dict[str, Any]:
    import shutil

    for entry in list(store.folder.iterdir()):  # the folder itself stays: its lock is ours
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    store.runs.mkdir(parents=True)
    for name, text in plan.texts.items():
        _atomic_text(store.folder / name, text)
    manifest = {"format": FORMAT, "kind": "optimisation", "name": plan.name, **plan.info, "identity": plan.identity,
                "seeds": [int(s) for s in plan.seeds], "versions": _versions(), "git": _git(), "started": _now(),
                "status": "created", "sessions": []}  # fmt: skip
    store.write_manifest(manifest)
    return manifest


def _check_same(store: SweepStore, plan: OptimisationPlan) -> dict[str, Any]:
    manifest = store.manifest()
    if manifest.get("kind") != "optimisation":
        raise SweepError(f"{store.folder} is not an optimisation's results folder")
    stored = manifest.get("identity", {})
    for key, value in plan.identity.items():
        if _jsonable(stored.get(key)) != _jsonable(value):
            raise SweepError(f"{store.folder} was made by a different optimisation ({key} changed since). Run it into "
                             "a new folder (--out), or start over with --overwrite")  # fmt: skip
    return manifest


def _read_stored(store: SweepStore) -> dict[str, dict[int, dict[str, Any]]]:
    """design id -> future -> the stored run's row."""
    out: dict[str, dict[int, dict[str, Any]]] = {}
    if not store.parts():
        return out
    for row in pd.read_parquet(store.runs).to_dict("records"):
        out.setdefault(row["design"], {})[int(row["replicate"])] = row
    return out


def _algorithm(plan: OptimisationPlan, n_obj: int) -> Any:
    """pymoo's NSGA-II or NSGA-III, started from the reference designs and a Latin hypercube."""
    from scipy.stats import qmc

    references = [plan.unit(v) for v in plan.references().values()]
    try:
        sampler = qmc.LatinHypercube(d=plan.n_var, rng=np.random.default_rng(plan.seed))
    except TypeError:  # scipy < 1.15 calls it seed
        sampler = qmc.LatinHypercube(d=plan.n_var, seed=np.random.default_rng(plan.seed))
    lhs = sampler.random(plan.population)
    start = np.vstack([*references, lhs])[: plan.population]
    if plan.algorithm == "nsga3":
        from pymoo.algorithms.moo.nsga3 import NSGA3
        from pymoo.util.ref_dirs import get_reference_directions

        directions = get_reference_directions("energy", n_obj, plan.population, seed=plan.seed % 2**32)
        return NSGA3(ref_dirs=directions, pop_size=plan.population, sampling=start, eliminate_duplicates=True)
    from pymoo.algorithms.moo.nsga2 import NSGA2

    return NSGA2(pop_size=plan.population, sampling=start, eliminate_duplicates=True)


def _optimise(plan: OptimisationPlan, store: SweepStore, manifest: dict[str, Any], backend: Backend, started: str,
              clock: float, progress: bool | str, checkpoint: float, command: list[str] | None
              ) -> OptimisationResult:  # fmt: skip
    from pymoo.core.problem import Problem

    stored = _read_stored(store)
    before = sum(len(v) for v in stored.values())
    session = {"started": started, "backend": backend.description, "command": shlex.join(command or sys.argv),
               "hostname": socket.gethostname(), "stored_runs": before}  # fmt: skip
    manifest["sessions"].append(session)
    manifest["status"] = "running"
    store.write_manifest(manifest, reserve=MANIFEST_RESERVE)

    n_obj = len(plan.objectives)
    problem = Problem(n_var=plan.n_var, n_obj=n_obj, n_ieq_constr=0 if plan.budget is None else 1, xl=0.0, xu=1.0)
    algorithm = _algorithm(plan, n_obj)
    algorithm.setup(problem, termination=("n_gen", plan.generations), seed=plan.seed % 2**32, verbose=False)
    schema, names = plan.schema(), plan.metric_names()
    designs: dict[str, dict[str, Any]] = {}  # id -> number, generation, values (in the order first proposed)
    buffer = RowBuffer(store, schema, checkpoint)
    ran = failed = 0
    interrupted = False
    estimate = plan.population * plan.generations * len(plan.seeds)
    bar = Progress(f"Optimise {plan.name}", estimate, unit="runs", mode=progress)
    started_backend = False

    try:
        generation = 0
        while algorithm.has_next():
            population = algorithm.ask()
            proposed = [plan.values(x) for x in population.get("X")]
            ids = [design_id(v) for v in proposed]
            tasks, queued = [], set()
            for values, did in zip(proposed, ids):
                if did not in designs:
                    designs[did] = {"design": len(designs), "id": did, "generation": generation, "values": values}
                have = stored.setdefault(did, {})
                for r, seed in enumerate(plan.seeds):
                    if r not in have and (did, r) not in queued:
                        queued.add((did, r))
                        tasks.append((designs[did]["design"], r, seed, values))
            bar.advance(len(set(ids)) * len(plan.seeds) - len(tasks))  # stored runs: replayed, not run
            if tasks:
                if not started_backend:
                    backend.start(plan.context)
                    session["backend"] = backend.description
                    started_backend = True
                number_to_id = {d["design"]: d["id"] for d in designs.values()}
                for _chunk, rows in backend.run(_chunks(tasks, chunk_size(len(tasks), backend.slots))):
                    for row in rows:
                        trace = row.pop("traceback", None)
                        row["design"], row["generation"] = number_to_id[row["point"]], generation
                        stored[row["design"]][int(row["replicate"])] = row
                        if row["status"] == "failed":
                            failed += 1
                            store.log_failure(row, trace or row["error"])
                    ran += len(rows)
                    bar.advance(len(rows), failed=sum(r["status"] == "failed" for r in rows))
                    buffer.add(rows)
                buffer.flush()
            objectives, constraints = _tell_values(plan, [stored[d] for d in ids], names)
            population.set("F", objectives)
            if plan.budget is not None:
                population.set("G", constraints)
            algorithm.tell(infills=population)
            generation += 1
    except BaseException:
        interrupted = True
        with interrupts.deferred(second_stops=False):
            backend.close()
            buffer.save_what_is_done()
        raise
    finally:
        with interrupts.deferred(second_stops=False):
            backend.close()
            bar.close()
            session.update(ended=_now(), ran=ran, failed=failed, wall_time_seconds=round(time.perf_counter() - clock, 3),
                           status="interrupted" if interrupted else "finished")  # fmt: skip
            manifest.update(status="interrupted" if interrupted else "complete", ended=_now())
            try:
                store.write_manifest(manifest)
            except Exception:
                pass
    from simulation.experiments.pareto import briefing, design_table, pareto_set

    table = design_table(plan, designs, stored, names)
    front = pareto_set(table, plan.objectives)
    table["pareto"] = table["design"].isin(front["design"])
    brief = briefing(plan, table, front)
    _atomic(store.folder / DESIGNS, lambda tmp: table.to_parquet(tmp, index=False, **PARQUET_OPTIONS))
    _atomic(store.folder / PARETO, lambda tmp: front.to_parquet(tmp, index=False, **PARQUET_OPTIONS))
    _atomic_text(store.folder / BRIEFING, json.dumps(brief, indent=2, ensure_ascii=False, allow_nan=False) + "\n")
    return OptimisationResult(store.folder, table, front, brief, ran, before, time.perf_counter() - clock,
                              backend.description, failed)  # fmt: skip


def _tell_values(plan: OptimisationPlan, runs_by_design: list[dict[int, dict[str, Any]]], names: list[str]
                 ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Objectives (to minimise) and the budget constraint (<= 0 is feasible) of each design."""
    objectives, constraints = [], []
    for runs in runs_by_design:
        values = design_metrics(plan, runs, names)
        row = []
        for name, sense in plan.objectives:
            v = values[name]
            row.append(INFEASIBLE if not np.isfinite(v) else (-v if sense == "max" else v))
        objectives.append(row)
        if plan.budget is not None:
            cost = values[plan.budget_metric]
            constraints.append([cost - plan.budget if np.isfinite(cost) else INFEASIBLE])
    return np.asarray(objectives, dtype=float), np.asarray(constraints, dtype=float).reshape(len(objectives), -1)


def design_metrics(plan: OptimisationPlan, runs: dict[int, dict[str, Any]], names: list[str]) -> dict[str, float]:
    """Every metric of one design from its runs (one per future)."""
    frame = pd.DataFrame([runs[r] for r in sorted(runs)])
    return evaluate(frame, names, plan.years)
