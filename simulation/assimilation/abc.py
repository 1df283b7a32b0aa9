"""Condition a scenario's uncertain values on the observed statistics with ABC (pyabc).

The unknowns are a set of the scenario's uncertain values (the common demand shocks of the
observed years, structural demand and price parameters, the statistics' scope): each is given
to pyabc as a uniform quantile ``q`` in [0, 1] and mapped through the scenario's own distribution
(``value = ppf(q)``), so the ABC prior is exactly the scenario's prior. A common shock of a year
the scenario does not list has the model's default prior, a standard normal.

For a proposed particle the model runs once (every other uncertain value drawn, as in any run,
from a seed the task's generator gives) to the last assimilated year, and reports the observed
figures on the statistics' basis (:mod:`simulation.assimilation.observables`). The distance is
pyabc's adaptive p-norm on the figures (Prangle 2017: each scaled by its spread among the
simulations, refitted every generation) or, with ``summary="regression"``, the Euclidean distance
between the unknowns a linear regression predicts from them (:func:`_distance`); the tolerance is
the ``epsilon_quantile`` of the last generation's distances (pyabc's ``QuantileEpsilon``; the first
from a sample of ``pilot`` prior simulations). Stops after
``max_generations`` or when fewer than ``min_acceptance_rate`` of the proposals are accepted.

One generation with a small quantile is rejection ABC: the particles are the prior draws whose
figures came closest, all of equal weight. Later generations propose from a kernel around the last
population and weight by prior over proposal density; with many unknowns (17 here) and a few
hundred particles those weights can collapse onto a handful of particles (an effective sample
size of 2 of 150 in a four-generation run of ``experiments/assimilate.toml``), which would make the
posterior look far surer than the data allow; the shipped file therefore uses one generation.

Everything random derives from the seed through :class:`SeededMappingSampler`; the posterior does
not depend on the number of workers.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from simulation.assimilation.observables import simulated
from simulation.scenario.distributions import Distribution, parse_distribution
from simulation.scenario.schema import ScenarioSpec

STANDARD_NORMAL = {"dist": "normal", "mean": 0.0, "sd": 1.0}


SUMMARIES = ("figures", "regression")


@dataclass(frozen=True)
class Settings:
    population: int = 200
    max_generations: int = 8
    min_acceptance_rate: float = 0.02
    epsilon_quantile: float = 0.5  # the tolerance: this quantile of the distances (0.5: pyabc's median epsilon)
    seed: int = 20210118
    summary: str = "figures"  # what the distance compares: the figures themselves, or the values they predict
    pilot: int = 0  # prior simulations that fit the regression and set the first tolerance (0: one population)


@dataclass
class Result:
    """The last population and how the run got there."""

    keys: list[str]
    values: np.ndarray  # (particle, key) scenario values
    quantiles: np.ndarray  # (particle, key) prior quantiles
    weights: np.ndarray  # (particle,) sum to 1
    observed: dict[str, float]
    generations: list[dict[str, float]] = field(default_factory=list)  # epsilon, acceptance, ESS, simulations
    wall_time: float = 0.0


def prior_of(spec: ScenarioSpec, key: str) -> Distribution:
    """The scenario's distribution of an uncertain value (a standard normal for an unlisted common shock)."""
    node: Any = spec
    for part in key.split("."):
        node = node.get(part) if isinstance(node, dict) else getattr(node, part, None)
        if node is None:
            break
    if isinstance(node, Distribution):
        return node
    if node is None and key.startswith("uncertainties.demand.macro_shocks."):
        return parse_distribution(STANDARD_NORMAL)
    raise KeyError(f"{key}: not an uncertain value of the scenario")


class Simulator:
    """pyabc's model: quantiles in, the model's observed figures out (picklable, for worker processes)."""

    def __init__(self, spec: ScenarioSpec, keys: Sequence[str], wanted: Sequence[str]):
        self.spec = spec
        self.keys = list(keys)
        self.wanted = list(wanted)
        self.priors = [prior_of(spec, k) for k in self.keys]

    def values(self, quantiles: Sequence[float]) -> dict[str, float]:
        return {k: float(d.ppf(min(max(q, 1e-12), 1 - 1e-12))) for k, d, q in zip(self.keys, self.priors, quantiles)}

    def __call__(self, parameters: dict[str, float]) -> dict[str, float]:
        from simulation.model.model import ClusterModel

        quantiles = [parameters[_name(i)] for i in range(len(self.keys))]
        seed = int(np.random.randint(2**31 - 1))  # the task's generator: reproducible
        result = ClusterModel(self.spec, rng=seed, firm_agents=False, fixed=self.values(quantiles)).run()
        out = simulated(result, self.wanted)
        # a statistic the run could not compute counts as far from anything observed
        return {k: (v if math.isfinite(v) else 1e6) for k, v in out.items()}


def _name(i: int) -> str:
    return f"q{i:02d}"


def run_abc(simulator: Simulator, observed: dict[str, float], settings: Settings, workers: int = 1) -> Result:
    """ABC (rejection, or SMC with more generations) of the simulator's values given ``observed`` (any picklable simulator with ``keys``,
    ``priors`` and ``__call__(parameters) -> statistics`` works, e.g. a toy model in a test)."""
    import pyabc

    from simulation.assimilation.sampler import SeededMappingSampler

    logging.getLogger("ABC").setLevel(logging.WARNING)  # pyabc reports every generation at INFO
    started = time.perf_counter()
    keys = simulator.keys
    prior = pyabc.Distribution(**{_name(i): pyabc.RV("uniform", 0.0, 1.0) for i in range(len(keys))})
    executor = None
    if workers > 1:
        executor = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
    try:
        sampler = SeededMappingSampler(map_=executor.map if executor else map, seed=settings.seed)
        abc = pyabc.ABCSMC(
            simulator, prior, _distance(settings), population_size=pyabc.ConstantPopulationSize(
                settings.population, nr_calibration_particles=settings.pilot or None),
            sampler=sampler, eps=pyabc.QuantileEpsilon(alpha=settings.epsilon_quantile),
        )
        with tempfile.TemporaryDirectory() as folder:
            abc.new(f"sqlite:///{Path(folder) / 'abc.db'}", observed)
            history = abc.run(max_nr_populations=settings.max_generations,
                              min_acceptance_rate=settings.min_acceptance_rate)
            generations = _generations(history)
            frame, weights = history.get_distribution(m=0, t=history.max_t)
    finally:
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
    quantiles = frame[[_name(i) for i in range(len(keys))]].to_numpy()
    weights = np.asarray(weights, float) / np.sum(weights)
    values = np.array([[d.ppf(min(max(q, 1e-12), 1 - 1e-12)) for d, q in zip(simulator.priors, row)]
                       for row in quantiles])
    return Result(list(keys), values, quantiles, weights, dict(observed), generations,
                  time.perf_counter() - started)


def _distance(settings: Settings):
    """How far a simulation's figures are from the observed ones.

    ``figures``: pyabc's adaptive p-norm on the figures, each scaled by its spread among the
    simulations (Prangle 2017). Every figure weighs alike, however little it says about the
    unknowns, so with many noisy figures the informative ones are drowned out.

    ``regression``: semi-automatic ABC (Fearnhead & Prangle 2012; pyabc's ``PredictorSumstat``
    with ``LinearPredictor``, Schälte & Hasenauer 2022). A linear regression of each unknown's
    prior quantile on all figures is fitted to the pilot sample of prior simulations; a
    simulation's summary is the unknowns its figures predict, and the distance is the Euclidean
    distance between those predictions and the ones the observed figures give. A figure counts as
    much as it tells about some unknown; an unknown the figures do not predict adds almost nothing.
    """
    import pyabc

    if settings.summary == "figures":
        return pyabc.AdaptivePNormDistance(p=2)
    sumstat = pyabc.PredictorSumstat(pyabc.LinearPredictor(), fit_ixs={0}, all_particles=True,
                                     normalize_labels=False)
    return pyabc.PNormDistance(p=2, sumstat=sumstat)


def assimilate(spec: ScenarioSpec, keys: Sequence[str], observed: dict[str, float], settings: Settings,
               workers: int = 1) -> Result:
    """Condition ``keys`` of a scenario (run to the last observed year) on ``observed``."""
    return run_abc(Simulator(spec, keys, list(observed)), observed, settings, workers)


def _generations(history) -> list[dict[str, float]]:
    populations = history.get_all_populations()
    out = []
    for _, row in populations.iterrows():
        t = int(row["t"])
        if t < 0:
            continue  # pyabc's calibration population
        _, w = history.get_distribution(m=0, t=t)
        w = np.asarray(w, float) / np.sum(w)
        out.append({
            "generation": t,
            "epsilon": float(row["epsilon"]),
            "simulations": int(row["samples"]),
            "accepted": int(row["particles"]),
            "acceptance_rate": float(row["particles"]) / max(float(row["samples"]), 1.0),
            "effective_sample_size": float(1.0 / np.sum(w**2)),
        })
    return out
