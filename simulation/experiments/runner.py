"""Run a scenario's replicates, in parallel worker processes or in this one.

Replicate ``i`` is ``ClusterModel(spec, rng=seeds[i]).run()`` and depends on nothing else, so
the results are bit-identical whatever the number of workers and whatever order the workers
finish in; they are returned in replicate order.

Workers are started with the ``spawn`` method (a fresh interpreter each, no state inherited
from this process) through a context passed to the pool, leaving the global start method
alone. A :class:`ReplicatePool` starts its workers once and keeps them warm for every scenario
it runs (``simulate run`` runs a scenario and its counterfactual through one pool: the workers'
imports and compiled kernels are paid for once). Work goes out in chunks of replicates, each
with its scenario (at least about four chunks per worker, so a slow chunk does not leave the
others idle at the end, and at most ``MAX_CHUNK`` replicates, so the progress bar moves).
``workers=1`` runs everything in this process, without a pool.
"""

from __future__ import annotations

import math
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from typing import TypeVar

from simulation.experiments.progress import Progress
from simulation.model.model import ClusterModel
from simulation.model.results import ReplicateResult
from simulation.scenario.schema import ScenarioSpec

CHUNKS_PER_WORKER = 4
MAX_CHUNK = 8
T = TypeVar("T")


class ReplicateError(RuntimeError):
    """A replicate raised: which one, its seed, and what went wrong (worker traceback kept)."""

    def __init__(self, replicate: int, seed: int, error: str, details: str = "") -> None:
        super().__init__(replicate, seed, error, details)
        self.replicate, self.seed, self.error, self.details = replicate, seed, error, details

    def __str__(self) -> str:
        return f"replicate {self.replicate} (seed {self.seed}) failed: {self.error}"


class WorkerError(ReplicateError):
    """A worker process died (killed, out of memory, ...) while running a chunk of replicates."""

    def __init__(self, replicate: int, seed: int, error: str, details: str = "", last: int | None = None) -> None:
        super().__init__(replicate, seed, error, details)
        self.last = replicate if last is None else last

    def __str__(self) -> str:
        return (
            f"a worker process stopped while running replicates {self.replicate}-{self.last} "
            f"(first seed {self.seed}): {self.error}"
        )


def run_replicate(spec: ScenarioSpec, seed: int) -> ReplicateResult:
    """One replicate."""
    return ClusterModel(spec, rng=int(seed), firm_agents=False).run()  # views on demand: see ClusterModel


def run_replicates(
    spec: ScenarioSpec, seeds: Sequence[int], workers: int, progress: bool | str = True, label: str = "Replicates"
) -> list[ReplicateResult]:
    """Run one replicate per seed; results in seed order, identical for any ``workers``.

    ``progress`` shows the replicates done under ``label``: a bar in a terminal or in Jupyter,
    plain lines in a log (see :mod:`simulation.experiments.progress`). A failing replicate
    raises :class:`ReplicateError` after the remaining work is cancelled (a worker process that
    dies, :class:`WorkerError`); Ctrl-C stops the workers at once and re-raises
    KeyboardInterrupt. With ``workers > 1`` a calling script needs the usual
    ``if __name__ == "__main__":`` guard, since spawned workers import the main module.
    """
    with ReplicatePool(min(workers, max(len(seeds), 1)) if workers >= 1 else workers) as pool:
        return pool.run(spec, seeds, progress=progress, label=label)


class ReplicatePool:
    """Worker processes that start once and run the replicates of any number of scenarios in turn.

    ``with ReplicatePool(workers) as pool: a = pool.run(spec_a, seeds); b = pool.run(spec_b, seeds)``.
    Results are those of :func:`run_replicates` (identical for any ``workers``). The workers start
    at the first ``run`` that needs them and stop when the block ends; a failure, Ctrl-C or SIGTERM
    stops them at once (see :func:`stop_pool`).
    """

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1; got {workers}")
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> ReplicatePool:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self._pool is None:
            return
        pool, self._pool = self._pool, None
        if exc_type is None:
            pool.shutdown(wait=True)
        else:
            stop_pool(pool)

    def run(
        self, spec: ScenarioSpec, seeds: Sequence[int], progress: bool | str = True, label: str = "Replicates"
    ) -> list[ReplicateResult]:
        """One replicate of ``spec`` per seed, in seed order; see :func:`run_replicates`."""
        seeds = [int(s) for s in seeds]
        with Progress(label, len(seeds), mode=progress, transient=True) as bar:
            if self.workers == 1 or len(seeds) <= 1:
                return run_here([(spec, s) for s in seeds], run_replicate, bar.advance)
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"), initializer=become_worker
                )
            try:
                return _run_pool(self._pool, spec, seeds, self.workers, bar.advance)
            except BaseException:
                pool, self._pool = self._pool, None
                stop_pool(pool)
                raise


# --- in this process ------------------------------------------------------------------------


def run_here(
    tasks: Sequence[tuple[ScenarioSpec, int]], one: Callable[[ScenarioSpec, int], T], advance: Callable[[int], None]
) -> list[T]:
    """``one(spec, seed)`` for each task in this process, in order; a failure is a ReplicateError."""
    out = []
    for i, (spec, seed) in enumerate(tasks):
        try:
            out.append(one(spec, seed))
        except Exception as exc:
            raise ReplicateError(i, seed, describe_error(exc), traceback.format_exc()) from exc
        advance(1)
    return out


# --- in worker processes --------------------------------------------------------------------

def become_worker() -> None:
    """In a worker process: Ctrl-C is for the parent (which stops the workers), and die with the parent.

    A terminal sends Ctrl-C to the whole process group; the parent stops its workers itself (see
    stop_pool). A parent killed outright (SIGKILL, out of memory) cannot, so a thread here waits
    for the parent's end and ends this process too: no worker runs on as an orphan.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = multiprocessing.parent_process()
    if parent is not None:

        def watch() -> None:
            multiprocessing.connection.wait([parent.sentinel])
            os._exit(1)

        threading.Thread(target=watch, name="watch-parent", daemon=True).start()


def _run_chunk(spec: ScenarioSpec, chunk: list[tuple[int, int]]) -> list[ReplicateResult]:
    """Replicates ``(index, seed)`` of ``spec`` in a worker; a failure names the replicate that raised."""
    results = []
    for i, seed in chunk:
        try:
            results.append(run_replicate(spec, seed))
        except Exception as exc:
            raise ReplicateError(i, seed, describe_error(exc), traceback.format_exc()) from None
    return results


def chunked(n: int, workers: int, max_chunk: int = MAX_CHUNK) -> list[range]:
    """Replicate indices ``0..n-1`` in consecutive chunks for ``workers`` workers."""
    size = max(1, min(math.ceil(n / (workers * CHUNKS_PER_WORKER)), max_chunk))
    return [range(start, min(start + size, n)) for start in range(0, n, size)]


def _run_pool(
    pool: ProcessPoolExecutor, spec: ScenarioSpec, seeds: list[int], workers: int, advance: Callable[[int], None]
) -> list[ReplicateResult]:
    pending: dict[Future, range] = {}
    with sigint_ignored():  # workers start here and inherit the ignore: Ctrl-C is for the parent
        for chunk in chunked(len(seeds), workers):
            pending[pool.submit(_run_chunk, spec, [(i, seeds[i]) for i in chunk])] = chunk
    return collect_in_order(pending, len(seeds), seeds.__getitem__, advance)


def collect_in_order(
    pending: dict[Future, range], n: int, seed_of: Callable[[int], int], advance: Callable[[int], None]
) -> list:
    """Wait for submitted chunks of items ``0..n-1`` and return their results in item order.

    A replicate that raised re-raises its ReplicateError; a worker that died (killed, out of
    memory, ...) raises WorkerError. Finished chunks leave ``pending``, so the caller can cancel
    what is left.
    """
    results: list = [None] * n
    while pending:
        done, _ = wait(pending, return_when=FIRST_COMPLETED)
        for future in sorted(done, key=lambda f: pending[f].start):
            chunk = pending.pop(future)
            exc = future.exception()
            if isinstance(exc, ReplicateError):
                raise exc
            if exc is not None:
                raise WorkerError(chunk.start, seed_of(chunk.start), describe_error(exc), last=chunk[-1]) from exc
            for i, result in zip(chunk, future.result()):
                results[i] = result
            advance(len(chunk))
    return results


@contextmanager
def sigint_ignored() -> Iterator[None]:
    """Ignore SIGINT while worker processes are started, so they never see Ctrl-C.

    A terminal sends Ctrl-C to the whole process group; a worker still importing the model
    would die with a traceback. Processes inherit an ignored signal, and Python leaves it
    ignored at start-up; the parent stops the workers itself (see stop_pool). A Ctrl-C during the
    few milliseconds of submitting is lost.
    """
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: cannot touch signals; nothing to restore
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def stop_pool(pool: ProcessPoolExecutor) -> None:
    """Cancel queued work and end the workers now, without waiting for running replicates."""
    if hasattr(pool, "terminate_workers"):  # Python >= 3.14
        pool.terminate_workers()
        return
    processes = list((getattr(pool, "_processes", None) or {}).values())  # shutdown() forgets them
    for process in processes:
        try:
            process.terminate()
        except Exception:  # already gone
            pass
    pool.shutdown(wait=False, cancel_futures=True)


def describe_error(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
