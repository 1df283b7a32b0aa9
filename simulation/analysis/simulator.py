"""The validation simulator: steps a replicate, keeps the firm table after every step, computes moments.

Firm-level moments (the growth-rate distribution, entrant failure, productivity dispersion) need
the firm table during the run, which a :class:`~simulation.model.results.ReplicateResult` does not
hold, so validation runs its own loop: ``ClusterModel(spec, rng=seed, firm_agents=False)``, one
``step()`` per quarter exactly as ``ClusterModel.run`` does, a copy of four firm columns after
each step (a few MB a replicate), then :func:`simulation.analysis.moments.compute_moments` on the
panel and the recorder's series. The dynamics are the model's own: the same seed gives the same
run as ``simulate run``.

Tasks ``(spec, seed)`` run in worker processes started with ``spawn`` (as in
:mod:`simulation.experiments.runner`), in chunks; only the moment dictionaries come back, in task
order, so results do not depend on the number of workers. ``workers=1`` runs in this process
(which is what a test that monkeypatches the model needs).
"""

from __future__ import annotations

import multiprocessing
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor

import numpy as np

from simulation.analysis.moments import FirmPanel, compute_moments
from simulation.experiments.runner import (
    ReplicateError,
    chunked,
    collect_in_order,
    describe_error,
    run_here,
    sigint_ignored,
    stop_pool,
)
from simulation.experiments.progress import Progress
from simulation.model.model import ClusterModel
from simulation.model.parameters import flatten
from simulation.model.results import ReplicateResult
from simulation.scenario.schema import ScenarioSpec

Task = tuple[ScenarioSpec, int]
MAX_CHUNK = 4


def run_panel(spec: ScenarioSpec, seed: int) -> tuple[FirmPanel, ReplicateResult]:
    """One replicate, stepped here, with the firm panel and the recorded series."""
    model = ClusterModel(spec, rng=int(seed), firm_agents=False)
    f = model.firms
    n_initial = f.n
    # row 0 holds each firm's 2020 annual revenue (the statistics' base), as the recorder's start row
    # does; the model's own start state is the end-2020 run-rate (ClusterModel.run_rate_2020)
    revenue, alive, logprod = [f.revenue_last[: f.n].copy()], [f.alive[: f.n].copy()], [f.logprod[: f.n].copy()]
    for _ in range(model.n_steps):
        model.step()
        revenue.append(f.revenue[: f.n].copy())
        alive.append(f.alive[: f.n].copy())
        logprod.append(f.logprod[: f.n].copy())
    n = f.n

    def stack(rows: list[np.ndarray], dtype: type) -> np.ndarray:
        out = np.zeros((len(rows), n), dtype=dtype)
        for i, r in enumerate(rows):
            out[i, : r.size] = r
        return out

    panel = FirmPanel(
        start_year=model.start_year,
        steps_per_year=model.steps_per_year,
        n_initial=n_initial,
        revenue=stack(revenue, np.float64),
        alive=stack(alive, np.bool_),
        logprod=stack(logprod, np.float64),
        cluster=f.cluster[:n].copy(),
        birth_step=f.birth_step[:n].astype(np.int64),
    )
    result = model.recorder.result(seed=int(seed), parameters=flatten(model.p))
    return panel, result


def replicate_moments(spec: ScenarioSpec, seed: int) -> dict[str, float]:
    """The moments of one replicate (see :mod:`simulation.analysis.moments`)."""
    panel, result = run_panel(spec, seed)
    return compute_moments(panel, result)


def run_moments(
    tasks: Sequence[Task], workers: int, progress: bool | str = False, label: str = "Replicates"
) -> list[dict[str, float]]:
    """Moments of every ``(spec, seed)`` task, in task order, identical for any ``workers``.

    A failing task raises :class:`~simulation.experiments.runner.ReplicateError` naming its index
    and seed. With ``workers > 1`` a calling script needs the ``if __name__ == "__main__":`` guard.
    """
    with MomentPool(min(workers, max(len(tasks), 1))) as pool:
        return pool.run(tasks, progress, label)


class MomentPool:
    """Worker processes kept for several batches of tasks (a calibration's design stages).

    ``with MomentPool(workers) as pool: pool.run(tasks)``; ``workers=1`` runs in this process.
    """

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1; got {workers}")
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> MomentPool:
        if self.workers > 1:
            with sigint_ignored():  # workers inherit the ignore: Ctrl-C is for the parent
                self._pool = ProcessPoolExecutor(
                    max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
                    initializer=_init_worker,
                )
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        if self._pool is None:
            return
        if kind is None:
            self._pool.shutdown(wait=True)
        else:
            stop_pool(self._pool)
        self._pool = None

    def run(
        self, tasks: Sequence[Task], progress: bool | str = False, label: str = "Replicates"
    ) -> list[dict[str, float]]:
        tasks = [(spec, int(seed)) for spec, seed in tasks]
        with Progress(label, len(tasks), mode=progress, transient=True) as bar:
            if self._pool is None or len(tasks) <= 1:
                return run_here(tasks, replicate_moments, bar.advance)
            return _run_pool(self._pool, tasks, self.workers, bar.advance)


def _run_chunk(chunk: list[tuple[int, ScenarioSpec, int]]) -> list[dict[str, float]]:
    out = []
    for i, spec, seed in chunk:
        try:
            out.append(replicate_moments(spec, seed))
        except Exception as exc:
            raise ReplicateError(i, seed, describe_error(exc), traceback.format_exc()) from None
    return out


def _init_worker() -> None:
    from simulation.experiments.runner import become_worker

    become_worker()


def _run_pool(
    pool: ProcessPoolExecutor, tasks: list[Task], workers: int, advance: Callable[[int], None]
) -> list[dict[str, float]]:
    pending: dict[Future, range] = {}
    try:
        for chunk in chunked(len(tasks), workers, MAX_CHUNK):
            pending[pool.submit(_run_chunk, [(i, *tasks[i]) for i in chunk])] = chunk
        return collect_in_order(pending, len(tasks), lambda i: tasks[i][1], advance)
    except BaseException:
        for future in pending:
            future.cancel()
        raise
