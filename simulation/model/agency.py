"""Cluster promotion agencies (集群促进机构), one per policy cluster (policy 三(六), 四(四)).

Each agency spends its budget on the services the policy names:
- investment attraction from its target-investor list (客商库): attracted entrants;
- matchmaking along the value chain: extra demand for its cluster's small firms;
- finance matching: looser credit limits for its cluster's young and small firms;
- screening of subsidy applicants: a noisy ranking whose accuracy is ``screening_quality``
  (decentralised screening raised grant effects, Guo, Guo & Jiang 2016).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING

import mesa
import numpy as np

from simulation.datapack import CLUSTERS

if TYPE_CHECKING:
    from simulation.model.model import ClusterModel


class PromotionAgency(mesa.Agent):
    def __init__(self, model: ClusterModel, cluster: int, lever: SimpleNamespace, policy: SimpleNamespace) -> None:
        super().__init__(model)
        self.cluster = cluster
        self.budget = lever.budget * 100.0  # M CNY a year
        self.lever = lever
        self.policy = policy
        self.attracted_total = 0
        self.spent = 0.0  # M CNY, cumulative

    @property
    def cluster_id(self) -> str:
        return CLUSTERS[self.cluster]

    @property
    def matchmaking_uplift(self) -> float:
        """Extra demand growth a year for the cluster's small firms."""
        return self.policy.matchmaking_effect if self.lever.matchmaking else 0.0

    @property
    def credit_boost(self) -> float:
        """Added credit access for the cluster's finance-constrained firms."""
        return self.policy.finance_matching_effect if self.lever.finance_matching else 0.0

    def step(self) -> None:
        """Spend this step's budget; attracted investors become entrants in the model."""
        dt = self.model.dt
        self.spent += self.budget * dt
        if self.lever.investment_attraction:
            expected = self.budget / 100.0 * dt / self.policy.attraction_cost
            n = int(self.model.stream(f"attraction-{self.cluster_id}").poisson(expected))
            if n:
                self.attracted_total += n
                self.model.attract_investment(self.cluster, n)


def screen(true_score: np.ndarray, quality: float, rng: np.random.Generator) -> np.ndarray:
    """Ranking score a screener sees: a mix of the truth and noise (0 = lottery, 1 = exact)."""
    return quality * true_score + (1.0 - quality) * rng.standard_normal(len(true_score))
