"""The vectorised engine implements the firm rules it claims: it agrees with a per-agent reference.

``benchmarks/reference_model.py`` runs the same schedule with each firm a Mesa agent doing its
own scalar arithmetic. Two checks:

1. Oracle (exact). With ``shared_draws`` the reference's firms take the numbers the engine
   draws for their rows, so both must follow the same path: every recorded series agrees to
   floating-point rounding over the whole horizon, in several scenarios (one run to 2029).
2. Distribution. With its own draws (Python's ``random``) the reference can only agree in
   distribution. Replicates are paired by seed: a seed fixes the drawn parameters, the initial
   firms and every non-firm random stream (demand, redevelopment, entry, ...), so within a pair
   only the firms' own draws differ, and under the hypothesis "same rules" the difference of any
   outcome between the two is symmetric around zero. A Wilcoxon signed-rank test per outcome
   (Bonferroni over the outcomes) then has far more power than an unpaired two-sample test, whose
   spread would be dominated by parameter uncertainty (an unpaired Kolmogorov-Smirnov test is run
   too, as a weak sanity check). The power check: the same test, same seeds, rejects deliberately
   broken references (no activity mixing, so both innovations are Gaussian, with the growth
   shock twice as large; selection strength doubled).

Sized for CI: about 1,900 firms (the above-scale firm counts and revenues scaled by 0.15, and
0.05 below-scale firms per above-scale firm: the smallest ``below_scale_ratio`` alone still leaves
12,000 above-scale firms), 2021-2023 (12 quarters), 20 seeds; about 35 s of one core, nearly all
of it in the per-agent reference. With these seeds the paired p-values were 0.2-0.7 for the
reference; the smallest was 2e-6 (the smallest possible with 20 pairs) for the Gaussian shock and
for doubled selection alike, against a threshold of 0.0025. The test is not sensitive to everything: Gaussian
innovations of the right variance (the shape alone) gave p = 0.003, just above the threshold.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from scipy import stats

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

from reference_model import ReferenceModel  # noqa: E402
from firm_populations import population_overrides  # noqa: E402

from simulation.model.model import ClusterModel  # noqa: E402
from simulation.model.results import CLUSTER_METRICS  # noqa: E402
from simulation.scenario import load_scenario  # noqa: E402

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
SMALL = population_overrides(below_scale_ratio=0.05, scale=0.15)  # about 1,900 firms
SEEDS = range(20)
ALPHA = 0.01  # family-wise, over the outcomes below
OUTCOMES = ("log revenue", "log firms", "log above-scale firms", "sd of log firm revenue")


@lru_cache(maxsize=None)
def spec(name: str = "baseline", end_year: int | None = None):
    extra = [f"simulation.end_year={end_year}"] if end_year else []
    return load_scenario(SCENARIOS / f"{name}.toml", [*SMALL, *extra]).spec


# --- 1. oracle ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name, seed, end_year, kernels", [
    # to 2029: young firms' target sizes expire after five years, which no firm reaches by 2025,
    # and the order in which base and reserved floor are served first changes the path
    ("baseline", 1, 2029, "numba"),
    ("baseline", 2, None, "numba"),
    ("baseline", 2, None, "numpy"),  # the engine's NumPy reference rules too
    ("no_policy", 3, None, "numba"),
    ("land_squeeze", 4, None, "numba"),
])
def test_reference_with_the_engines_draws_follows_the_same_path(name: str, seed: int, end_year: int | None,
                                                               kernels: str) -> None:
    s = spec(name, end_year)
    engine = ClusterModel(s, rng=seed, firm_agents=False, kernels=kernels).run()
    reference = ReferenceModel(s, rng=seed, shared_draws=True).run()
    sim = s.simulation
    assert engine.cluster.shape[0] == (sim.end_year - sim.start_year) * sim.steps_per_year + 1  # the whole horizon
    for part in ("cluster", "town", "city"):
        a, b = getattr(engine, part), getattr(reference, part)
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-6, err_msg=f"{name}, seed {seed}: {part} series differ")


# --- 2. distribution -----------------------------------------------------------------------------


def outcomes(model: ClusterModel) -> np.ndarray:
    """What the test compares, at the end of a run."""
    result = model.run()
    last = result.cluster[-1]
    names = list(CLUSTER_METRICS)
    f, n = model.firms, model.firms.n
    alive = f.alive[:n]
    return np.array([
        np.log(last[:, names.index("revenue_all")].sum()),
        np.log(last[:, names.index("firms")].sum()),
        np.log(last[:, names.index("abovescale_firms")].sum()),
        np.log(f.revenue[:n][alive]).std(),
    ])


@lru_cache(maxsize=None)
def sample(kind: str) -> np.ndarray:
    """(seed, outcome) for the engine or one of the references."""
    make = {"engine": lambda s, seed: ClusterModel(s, rng=seed, firm_agents=False), **REFERENCES}[kind]
    return np.array([outcomes(make(spec(end_year=2023), seed)) for seed in SEEDS])


def paired_p_values(kind: str) -> np.ndarray:
    """Wilcoxon signed-rank p-value per outcome for reference minus engine, seed by seed."""
    d = sample(kind) - sample("engine")
    return np.array([stats.wilcoxon(d[:, j]).pvalue for j in range(d.shape[1])])


class GaussianShock(ReferenceModel):
    """Broken on purpose: no activity mixing (both innovations Gaussian), the growth shock twice as large."""

    def draw_activity(self, row: int) -> float:
        return 1.0

    def growth_innovation(self, firm) -> float:
        return 2.0 * self.random.gauss(0.0, 1.0)


class DoubleSelection(ReferenceModel):
    """Broken on purpose: demand moves twice as strongly towards more productive firms."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.b = SimpleNamespace(**{**vars(self.b), "selection_strength": 2.0 * self.b.selection_strength})


REFERENCES = {
    "reference": lambda s, seed: ReferenceModel(s, rng=seed),
    "gaussian shock": lambda s, seed: GaussianShock(s, rng=seed),
    "double selection": lambda s, seed: DoubleSelection(s, rng=seed),
}


def test_engine_and_reference_agree_in_distribution() -> None:
    p = paired_p_values("reference")
    report = ", ".join(f"{o}: p = {x:.3g}" for o, x in zip(OUTCOMES, p))
    assert p.min() >= ALPHA / len(OUTCOMES), f"engine and per-agent reference differ ({report})"
    ks = [stats.ks_2samp(sample("reference")[:, j], sample("engine")[:, j]).pvalue for j in range(len(OUTCOMES))]
    assert min(ks) >= ALPHA / len(OUTCOMES), f"unpaired KS rejects: {ks}"


@pytest.mark.parametrize("broken", ["gaussian shock", "double selection"])
def test_the_agreement_test_detects_broken_rules(broken: str) -> None:
    p = paired_p_values(broken)
    report = ", ".join(f"{o}: p = {x:.3g}" for o, x in zip(OUTCOMES, p))
    assert p.min() < ALPHA / len(OUTCOMES), f"the test cannot tell {broken!r} from the engine ({report})"
