"""A pyabc sampler whose result depends only on the seed, on any number of worker processes.

pyabc's own parallel samplers reseed every task from the operating system, so two runs differ.
This one hands task ``i`` of generation ``t`` a generator seeded from (seed, t, i): the task draws
its proposals and its model seeds from it and samples until it has one accepted particle, as
pyabc's MappingSampler does; results come back in task order. The same seed therefore gives the
same populations, whatever the number of workers and whatever order they finish in.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import cloudpickle
import numpy as np
from pyabc.sampler import MappingSampler


def seeded_task(task: tuple[bytes, int, int, int]) -> tuple[object, int]:
    """Sample until one particle is accepted, with numpy's and Python's generators seeded for the task."""
    payload, seed, generation, index = task
    simulate_one = cloudpickle.loads(payload)
    sequence = np.random.SeedSequence([seed, generation + 1, index])  # pyabc numbers its first sample -1
    np.random.seed(sequence.generate_state(1, np.uint32)[0])
    random.seed(int(sequence.generate_state(1, np.uint64)[0]))
    sample = None
    evaluations = 0
    while True:
        particle = simulate_one()
        evaluations += 1
        if sample is None:
            sample = [particle]
        else:
            sample.append(particle)
        if particle.accepted:
            return sample, evaluations


class SeededMappingSampler(MappingSampler):
    """pyabc MappingSampler with per-task seeds (see the module docstring)."""

    def __init__(self, map_: Callable = map, seed: int = 0, progress: Callable[[int, int], None] | None = None):
        super().__init__(map_=map_, mapper_pickles=False)
        self.seed = int(seed)
        self.progress = progress

    def __getstate__(self):
        return (*super().__getstate__(), self.seed)

    def __setstate__(self, state):
        super().__setstate__(state[:-1])
        self.seed = state[-1]
        self.progress = None

    def sample_until_n_accepted(self, n, simulate_one, t, *, max_eval=np.inf, all_accepted=False, ana_vars=None):  # noqa: ARG002
        payload = cloudpickle.dumps(simulate_one)
        tasks = [(payload, self.seed, int(t), i) for i in range(n)]
        sample = self._create_empty_sample()
        total = 0
        for done, (particles, evaluations) in enumerate(self.map_(seeded_task, tasks), 1):
            for particle in particles:
                sample.append(particle)
            total += evaluations
            if self.progress is not None:
                self.progress(done, n)
        self.nr_evaluations_ = total
        return sample
