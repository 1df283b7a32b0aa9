"""Run a sweep: every (design point, replicate) of an experiment, streamed to a results folder.

A sweep folder holds::

    manifest.json     what was run: experiment, scenario hash, design settings, seeds, versions,
                      git commit, and one entry per session (started, ended, backend, runs, failures)
    design.parquet    one row per design point: point, each parameter's value and unit coordinate
    experiment.toml   the experiment file as written
    scenario.toml     the resolved base scenario every run starts from (rerunnable as it is)
    failures.log      the traceback of every failed run (only if a run failed)
    runs/part-*.parquet   one row per finished run (see below), written as runs finish

Read every run with one line: ``pandas.read_parquet("results/<sweep>/runs")``. A row has
``point, replicate, seed, status, error``, the point's parameter values (one column per varied
key, named by the key), and the outcome columns of :mod:`simulation.experiments.sweep_outcomes`.
A failed run has ``status = "failed"``, its error, and null outcomes.

**Common random numbers.** Replicate ``r`` of every point uses seed ``replicate_seeds(root, R)[r]``.

**Streaming and memory.** Results go to disk in Parquet part files at least every ``checkpoint``
seconds (each written to a hidden temporary file, then renamed into place: a part is whole or
absent). The parent holds only the design, the runs in flight and the rows not yet written, so
memory stays flat however many runs there are.

**Resume.** ``resume=True`` reads the (point, replicate) pairs already in the parts and runs only
the others, after checking the folder was made by the same experiment (scenario hash, design,
replicates, seeds, outcomes). A run killed mid-way is simply missing, and is run again; a part is
renamed into place only when whole, so no run is ever recorded twice. ``retry_failed=True``
also removes failed runs from the parts and runs them again.

**Backends.** :class:`LocalBackend` runs in worker processes started through a ``spawn`` context
object (the global start method is left alone), or in this process with one worker;
:class:`DaskBackend` sends the same chunks of runs to an existing Dask distributed cluster.
Both yield finished chunks in completion order; results do not depend on the backend, the
number of workers or the order runs finish in.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import multiprocessing.connection
import os
import shlex
import shutil
import socket
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from simulation.experiments import interrupts
from simulation.experiments.design import UNIT_PREFIX, Design
from simulation.experiments.progress import Progress
from simulation.experiments.sweep_outcomes import KEY_COLUMNS, SweepContext, Task, describe, outcome_columns, run_chunk

MANIFEST, DESIGN, RUNS = "manifest.json", "design.parquet", "runs"
EXPERIMENT, SCENARIO, FAILURES = "experiment.toml", "scenario.toml", "failures.log"
FORMAT = 1
PARQUET_OPTIONS = {"compression": "zstd", "compression_level": 3}
CHECKPOINT_SECONDS = 5.0  # write finished runs to disk at least this often
MANIFEST_RESERVE = 2048  # bytes of spaces after a running sweep's manifest (see SweepStore.write_manifest)
PART_ROWS = 5000  # ... and whenever this many are waiting
MAX_CHUNK = 4  # runs sent to a worker at once (small: workers finish together at the end)
CHUNKS_PER_SLOT = 8  # aim for at least this many chunks per worker (load balance, a moving bar)
IN_FLIGHT_PER_SLOT = 2  # chunks queued or running per worker
MAX_ATTEMPTS = 3  # a chunk whose worker process dies is tried this many times
EXTRA_VERSIONS = ("SALib", "dask", "distributed")
CONNECT_TIMEOUT = 30.0  # seconds to reach a Dask scheduler (or for its scheduler file to appear)


class SweepError(Exception):
    """The sweep cannot start or resume (folder in use, made by another experiment, ...)."""


class BackendError(RuntimeError):
    """The backend was lost mid-sweep (e.g. the Dask scheduler went away); finished runs are saved."""


# --- what to run --------------------------------------------------------------------------------


@dataclass
class SweepPlan:
    """The runs of a sweep: design points x replicate seeds, and what each run records."""

    name: str
    design: Design
    seeds: list[int]
    context: SweepContext
    outcome_types: list[tuple[str, pa.DataType]]
    identity: dict[str, Any]  # what must match for --resume (compared key by key)
    info: dict[str, Any] = field(default_factory=dict)  # more manifest entries
    experiment_text: str | None = None
    scenario_text: str | None = None

    @property
    def replicates(self) -> int:
        return len(self.seeds)

    @property
    def n_runs(self) -> int:
        return self.design.n_points * self.replicates

    @classmethod
    def from_experiment(cls, experiment: Any) -> SweepPlan:
        """The plan of a loaded :class:`~simulation.experiments.experiment_file.Experiment`."""
        design = experiment.design()
        types = outcome_columns(experiment.outcome_groups)
        context = SweepContext(experiment.scenario.text, design.keys, tuple(n for n, _ in types))
        scenario = experiment.scenario
        identity = {
            "scenario_sha256": scenario.sha256,
            "design": design.describe(),
            "replicates": experiment.replicates,
            "root_seed": experiment.root_seed,
            "columns": [n for n, _ in types],
        }
        info = {
            "experiment": {"name": experiment.name, "path": str(experiment.path),
                           "description": experiment.description, "fingerprint": experiment.fingerprint()},
            "scenario": {"name": scenario.name, "path": str(scenario.path), "sha256": scenario.sha256,
                         "sources": [str(p) for p in scenario.sources], "overrides": list(scenario.overrides),
                         "description": scenario.spec.description},
            "outcome_groups": list(experiment.outcome_groups),
            "analysis": {"outcomes": list(experiment.analysis_outcomes), "frontier": experiment.frontier},
        }  # fmt: skip
        return cls(experiment.name, design, experiment.seeds(), context, types, identity, info,
                   experiment.text, scenario.text)  # fmt: skip

    @classmethod
    def custom(
        cls,
        name: str,
        design: Design,
        seeds: list[int],
        evaluator: Callable[[dict[str, Any], int], dict[str, Any]],
        outcomes: list[str],
    ) -> SweepPlan:
        """A sweep of any function ``evaluator(values, seed) -> {outcome: number}`` (tests, benchmarks)."""
        context = SweepContext("", design.keys, tuple(outcomes), evaluator)
        identity = {"evaluator": f"{evaluator.__module__}.{evaluator.__qualname__}", "design": design.describe(),
                    "replicates": len(seeds), "root_seed": None, "columns": list(outcomes)}  # fmt: skip
        return cls(name, design, list(seeds), context, [(o, pa.float64()) for o in outcomes], identity,
                   {"analysis": {"outcomes": list(outcomes), "frontier": None}})  # fmt: skip

    def schema(self) -> pa.Schema:
        params = []
        for p in self.design.parameters:
            params.append((p.key, {"float": pa.float64(), "int": pa.int64(), "bool": pa.bool_()}[p.dtype]))
        return pa.schema([*KEY_COLUMNS, *params, *self.outcome_types])

    def run_id(self, point: int, replicate: int) -> int:
        return point * self.replicates + replicate

    def tasks(self, skip: set[int] | frozenset[int] = frozenset()) -> Iterator[Task]:
        """(point, replicate, seed, values) of every run not in ``skip``, point by point."""
        for point in range(self.design.n_points):
            values = None
            for replicate, seed in enumerate(self.seeds):
                if self.run_id(point, replicate) in skip:
                    continue
                if values is None:
                    values = self.design.point(point)
                yield point, replicate, seed, values


# --- the results folder ----------------------------------------------------------------------


class SweepStore:
    """A sweep's results folder: design, manifest, and the runs in Parquet parts."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.runs = self.folder / RUNS
        self._next_part = 0
        self.claimed: Any = None  # the folder's claim (simulation.reporting.claim) while a sweep writes to it

    # creating and reopening
    def claim(self, overwrite: bool = False, resume: bool = False, new: bool = False) -> None:
        """Claim (make and lock) the folder for this process: no other sweep or run can write to it meanwhile.

        ``new``: a default folder, with -2, -3, ... if the name is taken.
        """
        from simulation.reporting.claim import ResultsFolderError, claim, claim_new

        try:
            self.claimed = claim_new(self.folder) if new else claim(self.folder, overwrite, resume)
        except ResultsFolderError as exc:
            raise SweepError(str(exc)) from None
        self.folder, self.runs = self.claimed.folder, self.claimed.folder / RUNS

    def release(self) -> None:
        if self.claimed is not None:
            self.claimed.release()
            self.claimed = None

    def create(self, plan: SweepPlan, overwrite: bool = False) -> None:
        """Start the sweep in the claimed folder (emptied first: with --overwrite it held earlier results)."""
        if self.claimed is None:
            self.claim(overwrite)
        for entry in list(self.folder.iterdir()):  # the folder itself stays: its lock is this sweep's
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        self.runs.mkdir(parents=True)
        frame = plan.design.frame()
        _atomic(self.folder / DESIGN, lambda tmp: frame.to_parquet(tmp, index=False, **PARQUET_OPTIONS))
        if plan.experiment_text is not None:
            _atomic_text(self.folder / EXPERIMENT, plan.experiment_text)
        if plan.scenario_text is not None:
            _atomic_text(self.folder / SCENARIO, plan.scenario_text)
        manifest = {
            "format": FORMAT,
            "kind": "sweep",
            "name": plan.name,
            **plan.info,
            "identity": plan.identity,
            "design": plan.design.describe(),
            "root_seed": plan.identity.get("root_seed"),
            "replicates": plan.replicates,
            "seeds": [int(s) for s in plan.seeds],
            "runs": plan.n_runs,
            "columns": {"parameters": list(plan.design.keys), "outcomes": [n for n, _ in plan.outcome_types]},
            "versions": _versions(),
            "git": _git(),
            "started": _now(),  # the first session; "ended": the last one
            "status": "created",
            "sessions": [],
        }
        self.write_manifest(manifest)

    def manifest(self) -> dict[str, Any]:
        try:
            return json.loads((self.folder / MANIFEST).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SweepError(f"{self.folder} is not a sweep results folder (no {MANIFEST})") from None
        except (OSError, ValueError) as exc:
            raise SweepError(f"cannot read {self.folder / MANIFEST}: {exc}") from None

    def write_manifest(self, manifest: dict[str, Any], reserve: int = 0) -> None:
        """Write the manifest atomically; if that fails (a full disk), over the old one in place if it fits.

        ``reserve``: pad with that many spaces (JSON allows them), so that a later manifest fits in
        place when the disk has no room for a new file: a sweep stopped by a full disk is still
        marked interrupted.
        """
        text = json.dumps(manifest, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
        try:
            _atomic_text(self.folder / MANIFEST, text + (" " * reserve + "\n" if reserve else ""))
        except OSError:
            if not _overwrite_in_place(self.folder / MANIFEST, text):
                raise

    def check_same(self, plan: SweepPlan) -> dict[str, Any]:
        """Refuse to resume into a folder made by a different experiment; return its manifest."""
        manifest = self.manifest()
        stored = manifest.get("identity", {})
        for key, value in plan.identity.items():
            if _jsonable(stored.get(key)) != _jsonable(value):
                what = {"scenario_sha256": "the base scenario (or a [set] / --set value)", "design": "the design",
                        "replicates": "the number of replicates", "root_seed": "the seed",
                        "columns": "the outcomes recorded", "evaluator": "the evaluated function"}.get(key, key)  # fmt: skip
                raise SweepError(
                    f"{self.folder} was made by a different experiment: {what} changed since. "
                    "Run it into a new folder (--out), or start over with --overwrite"
                )
        return manifest

    def stored_design(self, plan: SweepPlan) -> Design:
        """The design as stored (so a resumed sweep runs exactly the points it started with)."""
        frame = pd.read_parquet(self.folder / DESIGN)
        unit = frame[[UNIT_PREFIX + k for k in plan.design.keys]].to_numpy(dtype=float)
        d = plan.design
        return Design(d.method, d.parameters, unit, d.size, d.seed, d.levels, d.second_order)

    def clean(self) -> None:
        """Remove temporary files a killed process left behind."""
        for tmp in self.folder.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)
        if self.runs.is_dir():
            for tmp in self.runs.glob(".*.tmp"):
                tmp.unlink(missing_ok=True)

    # the runs
    def parts(self) -> list[Path]:
        return sorted(self.runs.glob("part-*.parquet")) if self.runs.is_dir() else []

    def recorded(self, replicates: int) -> tuple[np.ndarray, np.ndarray]:
        """Run ids (point * replicates + replicate) in the parts, and which of them failed."""
        ids, failed = [], []
        for part in self.parts():
            t = pq.read_table(part, columns=["point", "replicate", "status"])
            point = t.column("point").to_numpy().astype(np.int64)
            rep = t.column("replicate").to_numpy().astype(np.int64)
            ids.append(point * replicates + rep)
            failed.append(np.asarray(t.column("status").to_pylist(), dtype=object) == "failed")
        if not ids:
            return np.zeros(0, np.int64), np.zeros(0, bool)
        return np.concatenate(ids), np.concatenate(failed)

    def drop_failed(self) -> int:
        """Rewrite each part holding failed runs without them; return how many were dropped."""
        dropped = 0
        for part in self.parts():
            t = pq.read_table(part)
            keep = pc.not_equal(t.column("status"), "failed")
            n = t.num_rows - pc.sum(keep).as_py()
            if n:
                dropped += n
                kept = t.filter(keep)
                if kept.num_rows:
                    _atomic(part, lambda tmp: pq.write_table(kept, tmp, **PARQUET_OPTIONS))
                else:
                    part.unlink()
        return dropped

    def append(self, rows: list[dict[str, Any]], schema: pa.Schema) -> Path:
        """Write rows as a new part (atomically: the part appears whole or not at all)."""
        if not self._next_part:
            existing = [int(p.stem.split("-")[1]) for p in self.parts()]
            self._next_part = max(existing, default=-1) + 1
        rows = sorted(rows, key=lambda r: (r["point"], r["replicate"]))
        table = pa.Table.from_pylist(rows, schema=schema)
        path = self.runs / f"part-{self._next_part:06d}.parquet"
        _atomic(path, lambda tmp: pq.write_table(table, tmp, **PARQUET_OPTIONS))
        self._next_part += 1
        return path

    def log_failure(self, row: dict[str, Any], trace: str) -> None:
        with open(self.folder / FAILURES, "a", encoding="utf-8") as fh:
            fh.write(f"--- point {row['point']} replicate {row['replicate']} seed {row['seed']} ({_now()})\n")
            fh.write(trace.rstrip() + "\n")

    def read(self, columns: list[str] | None = None) -> pd.DataFrame:
        """Every recorded run, sorted by point and replicate."""
        if not self.parts():
            raise SweepError(f"{self.folder} has no runs yet")
        frame = pd.read_parquet(self.runs, columns=columns)
        return frame.sort_values(["point", "replicate"], kind="stable").reset_index(drop=True)



class RowBuffer:
    """Finished runs held in memory and written to a store as a part at checkpoints (every
    ``max_rows`` rows or ``seconds``), so that an interruption loses at most one checkpoint's runs."""

    def __init__(self, store: SweepStore, schema: pa.Schema, seconds: float, max_rows: int | None = None) -> None:
        self.store, self.schema, self.seconds, self.max_rows = store, schema, seconds, max_rows
        self.rows: list[dict[str, Any]] = []
        self.last_write = time.monotonic()

    def add(self, rows: list[dict[str, Any]]) -> None:
        self.rows.extend(rows)
        full = self.max_rows is not None and len(self.rows) >= self.max_rows
        if full or time.monotonic() - self.last_write >= self.seconds:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            self.store.append(self.rows, self.schema)
            self.rows = []
        self.last_write = time.monotonic()

    def save_what_is_done(self) -> None:
        """On an interruption: write what is held; on a full disk drop it (those runs rerun on --resume)."""
        try:
            self.flush()
        except OSError:
            self.rows = []

def _overwrite_in_place(path: Path, text: str) -> bool:
    """Write ``text`` over the file's own blocks, padded with spaces; False if it does not fit."""
    data = text.encode("utf-8")
    try:
        with open(path, "r+b") as fh:
            size = os.fstat(fh.fileno()).st_size
            if len(data) > size:
                return False
            fh.write(data + b" " * (size - len(data)))
            fh.flush()
            os.fsync(fh.fileno())
    except OSError:
        return False
    return True


def _atomic(path: Path, write: Callable[[Path], None]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _atomic_text(path: Path, text: str) -> None:
    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)

    _atomic(path, write)


# --- running ------------------------------------------------------------------------------------


@dataclass
class SweepSummary:
    folder: Path
    total: int  # runs in the sweep
    before: int  # recorded before this session
    ran: int  # finished in this session
    ok: int  # ok runs in the folder now
    failed: int  # failed runs in the folder now
    wall_time: float
    backend: str
    interrupted: bool = False
    failures: list[dict[str, Any]] = field(default_factory=list)  # a few failed runs of this session

    @property
    def missing(self) -> int:
        return self.total - self.ok - self.failed

    @property
    def complete(self) -> bool:
        return self.missing == 0


def run_sweep(
    plan: SweepPlan,
    folder: str | Path | SweepStore,
    backend: Backend | None = None,
    *,
    resume: bool = False,
    retry_failed: bool = False,
    overwrite: bool = False,
    progress: bool | str = True,
    checkpoint: float = CHECKPOINT_SECONDS,
    command: list[str] | None = None,
    new: bool = False,
) -> SweepSummary:
    """Run the plan's missing runs into ``folder`` and return what the folder now holds.

    ``progress``: True (a bar on a terminal or in Jupyter, else a line every 10 %), "bar",
    "notebook", "lines" or False (see :mod:`simulation.experiments.progress`).
    ``new``: ``folder`` is a default name; take ``folder-2``, ... if it is in use (``folder`` may be
    a SweepStore, whose ``folder`` then says which). The backend is connected before the folder is
    made or claimed, so an unreachable scheduler leaves nothing behind. Ctrl-C (KeyboardInterrupt),
    a lost backend or a failed write (a full disk) writes every finished run it can, marks the
    manifest interrupted and re-raises; the sweep can then be resumed.
    """
    backend = backend or LocalBackend(1)
    store = folder if isinstance(folder, SweepStore) else SweepStore(folder)
    started, clock = _now(), time.perf_counter()
    try:
        backend.connect()
        if resume and (store.folder / MANIFEST).exists():
            store.claim(resume=True)
            manifest = store.check_same(plan)
            store.clean()
            plan = replace(plan, design=store.stored_design(plan))
            if retry_failed:
                store.drop_failed()
        else:
            store.claim(overwrite, new=new)
            store.create(plan, overwrite)
            manifest = store.manifest()
        return _run(plan, store, manifest, backend, started, clock, progress, checkpoint, command)
    finally:
        backend.close()
        store.release()


def _run(plan: SweepPlan, store: SweepStore, manifest: dict[str, Any], backend: Backend, started: str,
         clock: float, progress: bool | str, checkpoint: float, command: list[str] | None) -> SweepSummary:  # fmt: skip
    ids, failed_flags = store.recorded(plan.replicates)
    if len(np.unique(ids)) != len(ids):  # cannot happen with whole parts; refuse to make it worse
        raise SweepError(f"{store.folder} records some runs twice; it was edited by hand?")
    done = set(ids.tolist())
    before, failed_before = len(done), int(failed_flags.sum())
    remaining = plan.n_runs - before

    session = {"started": started, "backend": backend.description, "command": shlex.join(command or sys.argv),
               "hostname": socket.gethostname(), "to_run": remaining}  # fmt: skip
    manifest["sessions"].append(session)
    manifest["status"] = "running"
    store.write_manifest(manifest, reserve=MANIFEST_RESERVE)

    buffer = RowBuffer(store, plan.schema(), checkpoint, max_rows=PART_ROWS)
    ok_now = failed_now = 0
    failures: list[dict[str, Any]] = []
    interrupted = False
    bar = Progress(f"Sweep {plan.name}", plan.n_runs, unit="runs", mode=progress, done=before, failed=failed_before)

    try:
        if remaining > 0:
            backend.start(plan.context)
            session["backend"] = backend.description  # a Dask cluster's address is known now
            size = chunk_size(remaining, backend.slots)
            for _chunk, rows in backend.run(_chunks(plan.tasks(done), size)):
                for row in rows:
                    trace = row.pop("traceback", None)
                    if row["status"] == "failed":
                        failed_now += 1
                        if len(failures) < 5:
                            failures.append({k: row[k] for k in ("point", "replicate", "seed", "error")})
                        store.log_failure(row, trace or row["error"])
                    else:
                        ok_now += 1
                bar.advance(len(rows), failed=sum(r["status"] == "failed" for r in rows))
                buffer.add(rows)
        buffer.flush()
    except BaseException:  # Ctrl-C, SIGTERM, a lost backend, a full disk: keep every finished run
        interrupted = True
        with interrupts.deferred(second_stops=False):  # saving takes a moment: let it finish
            backend.close()
            buffer.save_what_is_done()
        raise
    finally:
        with interrupts.deferred(second_stops=False):
            backend.close()
            bar.close()
            ids, failed_flags = store.recorded(plan.replicates)
            n_failed = int(failed_flags.sum())
            wall = time.perf_counter() - clock
            session.update(ended=_now(), ran=ok_now + failed_now, failed=failed_now, wall_time_seconds=round(wall, 3),
                           status="interrupted" if interrupted else "finished")  # fmt: skip
            missing = plan.n_runs - len(ids)
            manifest.update(status="complete" if missing == 0 else "interrupted" if interrupted else "incomplete",
                            ok=len(ids) - n_failed, failed=n_failed, missing=missing, ended=_now())  # fmt: skip
            try:
                store.write_manifest(manifest)
            except Exception:
                pass
    return SweepSummary(store.folder, plan.n_runs, before, ok_now + failed_now, len(ids) - n_failed, n_failed,
                        wall, backend.description, interrupted, failures)  # fmt: skip


def chunk_size(runs: int, slots: int) -> int:
    """Runs per chunk: at least CHUNKS_PER_SLOT chunks per worker, at most MAX_CHUNK runs."""
    return max(1, min(math.ceil(runs / (max(slots, 1) * CHUNKS_PER_SLOT)), MAX_CHUNK))


def _chunks(tasks: Iterable[Task], size: int) -> Iterator[list[Task]]:
    chunk: list[Task] = []
    for task in tasks:
        chunk.append(task)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def failed_rows(context: SweepContext, chunk: list[Task], error: str) -> list[dict[str, Any]]:
    rows = []
    for point, replicate, seed, values in chunk:
        row = {"point": point, "replicate": replicate, "seed": seed, **dict(zip(context.keys, values))}
        row.update(dict.fromkeys(context.columns))
        row.update(status="failed", error=error)
        rows.append(row)
    return rows


# --- backends -------------------------------------------------------------------------------


class Backend:
    """Runs chunks of runs somewhere; yields (chunk, rows) as chunks finish, in any order."""

    description = "?"
    slots = 1  # runs that can go on at once

    def connect(self) -> None:
        """Reach the workers (a scheduler); raise SweepError if they cannot be reached. Before any folder is made."""

    def start(self, context: SweepContext) -> None:
        self.context = context

    def run(self, chunks: Iterator[list[Task]]) -> Iterator[tuple[list[Task], list[dict[str, Any]]]]:
        raise NotImplementedError

    def close(self) -> None:
        pass


class LocalBackend(Backend):
    """Worker processes on this machine (``spawn`` context object), or this process for 1 worker."""

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1; got {workers}")
        self.workers = self.slots = workers
        self.description = "this process" if workers == 1 else f"{workers} local worker processes"
        self._pool: ProcessPoolExecutor | None = None

    def start(self, context: SweepContext) -> None:
        super().start(context)
        if self.workers > 1:
            self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(self.context,),
        )

    def run(self, chunks: Iterator[list[Task]]) -> Iterator[tuple[list[Task], list[dict[str, Any]]]]:
        if self.workers == 1:
            for chunk in chunks:
                yield chunk, run_chunk(self.context, chunk)
            return
        from simulation.experiments.runner import sigint_ignored

        pending: dict[Future, tuple[list[Task], int]] = {}
        retry: deque[tuple[list[Task], int]] = deque()
        source = iter(chunks)

        def refill() -> None:
            while len(pending) < self.slots * IN_FLIGHT_PER_SLOT:
                if retry:
                    chunk, attempt = retry.popleft()
                else:
                    chunk = next(source, None)
                    if chunk is None:
                        return
                    attempt = 1
                with sigint_ignored():  # the pool may start a replacement worker
                    pending[self._pool.submit(_worker_chunk, chunk)] = (chunk, attempt)

        refill()
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            broken = False
            for future in done:
                chunk, attempt = pending.pop(future)
                exc = future.exception()
                if exc is None:
                    yield chunk, future.result()
                elif isinstance(exc, BrokenProcessPool):
                    broken = True
                    retry.append((chunk, attempt))
                else:  # e.g. a result that cannot be pickled: record, go on
                    yield chunk, failed_rows(self.context, chunk, describe(exc))
            if broken:  # a worker process died: every run in flight is lost; start a new pool
                lost = [(c, a) for c, a in pending.values()]
                pending.clear()
                self._restart()
                again = [(c, a + 1) for c, a in [*retry, *lost]]
                retry.clear()
                for chunk, attempt in again:
                    if attempt > MAX_ATTEMPTS:
                        message = f"a worker process died running this run's chunk {MAX_ATTEMPTS} times"
                        yield chunk, failed_rows(self.context, chunk, message)
                    else:
                        retry.append((chunk, attempt))
            refill()

    def _restart(self) -> None:
        from simulation.experiments.runner import stop_pool

        if self._pool is not None:
            stop_pool(self._pool)
        self._pool = self._new_pool()

    def close(self) -> None:
        from simulation.experiments.runner import stop_pool

        pool, self._pool = self._pool, None
        if pool is not None:
            stop_pool(pool)


_context: SweepContext | None = None


def _init_worker(context: SweepContext) -> None:
    """Runs once in each local worker: keep the context; Ctrl-C is for the parent; die with it."""
    from simulation.experiments.runner import become_worker

    global _context
    _context = context
    become_worker()


def _worker_chunk(chunk: list[Task]) -> list[dict[str, Any]]:
    assert _context is not None, "worker not initialised"
    return run_chunk(_context, chunk)


class DaskBackend(Backend):
    """An existing Dask distributed cluster, by scheduler address or scheduler file.

    Chunks are submitted as tasks (``pure=False``) with at most twice as many in flight as the
    cluster has threads; results are collected as they complete and released at once. A worker
    that dies takes its tasks with it and the scheduler runs them elsewhere (Dask retries a task
    up to ``distributed.scheduler.allowed-failures`` worker deaths; past that its runs are
    recorded as failed).
    """

    def __init__(self, address: str | None = None, scheduler_file: str | Path | None = None,
                 timeout: float | None = None) -> None:  # fmt: skip
        if (address is None) == (scheduler_file is None):
            raise ValueError("give a scheduler address or a scheduler file, not both")
        self.address, self.scheduler_file = address, scheduler_file
        self.timeout = CONNECT_TIMEOUT if timeout is None else timeout
        where = address or f"scheduler file {scheduler_file}"
        self.description = f"Dask cluster at {where}"
        self.client = None

    def connect(self) -> None:
        """Find the scheduler (waiting up to ``timeout`` for a scheduler file to appear) and check that it answers.

        The scheduler is asked who it is before a Client is made: a Client that fails to connect
        hangs on its way out, while this check fails within ``timeout`` with one line.
        """
        if self.client is not None:
            return
        try:
            from distributed import Client
        except ImportError:
            raise SweepError("--scheduler needs Dask distributed: pip install 'dask[distributed]'") from None
        address = self.address if self.scheduler_file is None else _scheduler_file_address(Path(self.scheduler_file),
                                                                                            self.timeout)  # fmt: skip
        where = f"{address} (from {self.scheduler_file})" if self.scheduler_file else address
        try:
            import asyncio

            identity = asyncio.run(asyncio.wait_for(_identity(address, self.timeout), self.timeout + 5))
        except Exception as exc:  # refused, timed out, a bad address, or something that is not a scheduler
            reason = "no answer within {:g} s".format(self.timeout) if isinstance(exc, TimeoutError) else describe(exc)
            raise SweepError(f"cannot connect to the Dask scheduler at {where}: {reason}") from None
        if not isinstance(identity, dict) or identity.get("type") != "Scheduler":
            raise SweepError(f"{where} answers, but is not a Dask scheduler")
        try:
            self.client = Client(address, timeout=self.timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise SweepError(f"cannot connect to the Dask scheduler at {where}: {describe(exc)}") from None
        self.description = f"Dask cluster at {self.client.scheduler.address}"

    def start(self, context: SweepContext) -> None:
        super().start(context)
        self.connect()
        self.slots = self._threads()

    def _threads(self) -> int:
        return max(1, sum(self.client.nthreads().values()))

    def run(self, chunks: Iterator[list[Task]]) -> Iterator[tuple[list[Task], list[dict[str, Any]]]]:
        from distributed import as_completed

        source = iter(chunks)
        batches = as_completed(loop=self.client.loop)
        meta: dict[str, list[Task]] = {}
        checked = time.monotonic()

        def submit() -> bool:
            chunk = next(source, None)
            if chunk is None:
                return False
            future = self.client.submit(run_chunk, self.context, chunk, pure=False)
            meta[future.key] = chunk
            batches.add(future)
            return True

        while len(meta) < self.slots * IN_FLIGHT_PER_SLOT and submit():
            pass
        from distributed import KilledWorker

        for future in batches:
            chunk = meta.pop(future.key)
            try:
                rows = future.result()
            except KilledWorker as exc:  # the chunk's workers died again and again: the runs' fault
                rows = failed_rows(self.context, chunk, f"on the Dask cluster: {describe(exc)}")
            except Exception as exc:  # cancelled (the scheduler went away), or the workers cannot run it
                hint = "; is the project installed on every worker?" if isinstance(exc, ImportError) else ""
                raise BackendError(f"the Dask cluster could not run the sweep ({describe(exc)}){hint}") from None
            future.release()
            yield chunk, rows
            if time.monotonic() - checked > 10:  # workers come and go (dask-jobqueue scaling)
                self.slots, checked = self._threads(), time.monotonic()
            while len(meta) < self.slots * IN_FLIGHT_PER_SLOT and submit():
                pass

    def close(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            try:
                client.close(timeout=10)
            except Exception:
                pass


async def _identity(address: str, timeout: float) -> Any:
    """What the Dask server at ``address`` says it is (``{"type": "Scheduler", ...}``)."""
    from distributed.core import rpc

    async with rpc(address, timeout=timeout) as remote:
        return await remote.identity()


def _scheduler_file_address(path: Path, timeout: float) -> str:
    """The address in a scheduler file (dask scheduler --scheduler-file), waiting up to ``timeout`` for the file.

    A scheduler started at the same time as the sweep writes its file a few seconds later.
    """
    from simulation.scenario.toml_files import ScenarioError, read_text_file

    deadline = time.monotonic() + timeout
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    if not path.exists():
        raise SweepError(f"--scheduler-file {path}: file not found (waited {timeout:g} s for the scheduler to "
                         "write it)")  # fmt: skip
    try:
        text = read_text_file(path, "a scheduler file")
    except ScenarioError as exc:
        raise SweepError(f"--scheduler-file {exc}") from None
    try:
        address = json.loads(text).get("address")
    except (ValueError, AttributeError):
        address = None
    if not isinstance(address, str) or not address:
        raise SweepError(f"--scheduler-file {path}: not a scheduler file (JSON with the scheduler's \"address\", "
                         "as dask scheduler --scheduler-file writes it)")  # fmt: skip
    return address


# --- provenance -------------------------------------------------------------------------------


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def _versions() -> dict[str, str]:
    from importlib import metadata

    from simulation.reporting.writer import versions

    out = versions()
    for name in EXTRA_VERSIONS:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _git() -> dict[str, Any]:
    from simulation.reporting.writer import git_state

    return git_state()


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value))
