"""The vectorised engine against the same firm rules in Mesa's per-agent style, in one run.

    python benchmarks/compare_engines.py                       # 5 k, 12 k, 50 k, 200 k firms
    python benchmarks/compare_engines.py --sizes 12000 --steps 20 --budget 60

For each population size both models start from the same initial state (same scenario and
seed: the same firms, parameters, towns, funds; checked column by column) and step through the
baseline's quarters. The engine is ``ClusterModel`` (batch mode, as ``simulate`` runs it); the
reference is ``benchmarks/reference_model.py``, whose firms are ``mesa.Agent`` objects stepping
with scalar Python. Everything that is not a firm rule (towns, demand, agencies, funds, entry,
designations, recorder) is the same code in both.

A firm-step is one live firm for one quarter; firm-steps per second are the firm counts at the
start of each timed step, summed, over the CPU time of those steps (this process's CPU time:
robust to other work on the machine, and per core, as the model is single-threaded). Both
models step in lockstep, so whatever else the machine does hits both alike. The reference is
slow at large sizes, so it is timed over its first steps only, until ``--budget`` CPU seconds
have passed (at least one step); ratios compare both over exactly those steps (the engine's
figure over all steps is shown too). The engine's figure is the median of ``--repeats`` models.

The reference is made fair: it reads employment densities from the model's cell sums, which the
shared schedule computes anyway, instead of summing them a second time; and the time it spends
copying its agents' state into the table for the shared vectorised code (``sync``) is an
artefact of running per-agent rules inside the engine's schedule, so the headline ratios leave
it out.

Columns: ``engine/s`` and ``ref/s`` in firm-steps a second (k = thousand, M = million), the
reference's without its copying; ``ratio`` whole steps (the schedule as a user runs it), fair;
``+sync`` the same ratio with the copying counted against the reference; ``rules ratio`` the six
firm-rule calls only (the part that differs), fair; ``sync`` the copying's share of the
reference's step time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from reference_model import ReferenceModel  # noqa: E402
from firm_populations import BASELINE, spec_for  # noqa: E402

from simulation.model.kernels import RULES  # noqa: E402
from simulation.model.firm_table import COLUMNS  # noqa: E402
from simulation.model.model import ClusterModel  # noqa: E402



class TimedRules:
    """Wraps a firm-rules object; the time spent in its calls adds up in ``seconds``."""

    def __init__(self, inner: object) -> None:
        self.seconds = 0.0
        self.name = inner.name
        for name in RULES:
            setattr(self, name, self._timed(getattr(inner, name)))

    def _timed(self, fn):
        def call(*args, **kwargs):
            started = clock()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds += clock() - started

        return call


class TimedEngine(ClusterModel):
    """The engine, its firm-rule calls timed (a handful of clock reads a step)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.rules = TimedRules(self.rules)


def clock() -> float:
    """CPU seconds of this process: robust to other work on the machine, and 'per core'."""
    return time.process_time()


class Stepper:
    """Steps a model one quarter at a time, recording per step: (live firms at its start,
    seconds, seconds in the firm rules, seconds syncing agents to the table)."""

    def __init__(self, model) -> None:
        self.model = model
        self.rows: list[tuple[int, float, float, float]] = []

    def step(self) -> float:
        m = self.model
        alive = m.firms.n_alive
        rules0, sync0 = m.rules.seconds, getattr(m, "sync_seconds", 0.0)
        t0 = clock()
        m.step()
        seconds = clock() - t0
        self.rows.append((alive, seconds, m.rules.seconds - rules0, getattr(m, "sync_seconds", 0.0) - sync0))
        return seconds


def same_initial_state(a: ClusterModel, b: ClusterModel) -> bool:
    n = a.firms.n
    return n == b.firms.n and all(
        np.array_equal(getattr(a.firms, c)[:n], getattr(b.firms, c)[:n]) for c in COLUMNS
    ) and np.array_equal(a.towns.vacant, b.towns.vacant)


def rate(rows: list[tuple], column: int = 1) -> float:
    return sum(r[0] for r in rows) / sum(r[column] for r in rows)


def fmt(x: float) -> str:
    return f"{x / 1e6:.2f} M" if x >= 1e6 else f"{x / 1e3:.0f} k"


def compare(firms: int, seed: int, steps: int, budget: float, repeats: int) -> dict:
    spec = spec_for(firms, BASELINE)
    steps = min(steps, (spec.simulation.end_year - spec.simulation.start_year) * spec.simulation.steps_per_year)

    engines = [Stepper(TimedEngine(spec, rng=seed, firm_agents=False)) for _ in range(repeats)]
    reference = ReferenceModel(spec, rng=seed)
    if not same_initial_state(engines[0].model, reference):
        raise SystemExit(f"{firms} firms: the reference does not start from the engine's initial state")
    reference.rules = TimedRules(reference.rules)
    ref_stepper = Stepper(reference)
    spent = 0.0
    for _ in range(steps):  # in lockstep, so that load on the machine hits both alike
        for engine in engines:
            engine.step()
        if spent < budget:
            spent += ref_stepper.step()
    engine_runs = [e.rows for e in engines]
    ref = ref_stepper.rows
    k = len(ref)

    def median_over(first: int, column: int) -> float:  # of the engine's repeats
        return statistics.median(rate(run[:first], column) for run in engine_runs)

    fair = [(alive, total - sync, rules - sync, sync) for alive, total, rules, sync in ref]  # copying left out
    engine_k = median_over(k, 1)
    ref_total, ref_sync = sum(r[1] for r in ref), sum(r[3] for r in ref)
    return dict(
        firms=ref[0][0],
        steps=steps,
        ref_steps=k,
        engine_all=median_over(steps, 1),
        engine=engine_k,
        reference=rate(fair),
        ratio=engine_k / rate(fair),
        ratio_sync=engine_k / rate(ref),
        rules_ratio=median_over(k, 2) / rate(fair, 2),
        sync=ref_sync / ref_total,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="5000,12000,50000,200000",
                        help="start-year firm counts, comma-separated [%(default)s]")
    parser.add_argument("--steps", type=int, default=20, help="quarters to time the engine over [%(default)s]")
    parser.add_argument("--budget", type=float, default=30.0,
                        help="seconds of reference stepping per size, at least one step [%(default)s]")
    parser.add_argument("--repeats", type=int, default=3, help="engine runs per size; the median counts [%(default)s]")
    parser.add_argument("--seed", type=int, default=20210118)
    args = parser.parse_args()

    print(f"baseline scenario, seed {args.seed}; engine median of {args.repeats} runs; firm-steps per second")
    head = (f"{'firms':>8} {'steps':>9} {'engine/s':>10} {'(all)':>9} {'ref/s':>8} {'ratio':>7} "
            f"{'+sync':>7} {'rules ratio':>11} {'sync':>5}")
    print(head)
    print("-" * len(head))
    for size in (int(s) for s in args.sizes.split(",")):
        r = compare(size, args.seed, args.steps, args.budget, args.repeats)
        print(f"{r['firms']:>8,} {r['ref_steps']:>4}/{r['steps']:<4} {fmt(r['engine']):>10} {fmt(r['engine_all']):>9} "
              f"{fmt(r['reference']):>8} {r['ratio']:>6.0f}x {r['ratio_sync']:>6.0f}x {r['rules_ratio']:>10.0f}x "
              f"{r['sync']:>5.0%}", flush=True)
    print("steps: reference steps timed / engine steps; ratios over the reference's steps.")


if __name__ == "__main__":
    main()
