"""Cluster promotion agencies (集群促进机构), one per policy cluster (policy 三(六), 三(三), 四(四)).

An agency has a budget, and every service it offers is paid from it, with diminishing returns to
spending (each service's effect is ``effect_max × (1 − 2^(−spend / half_cost))``, spending counted per
firm or per project served, so doubling a budget less than doubles what it buys):

- investment promotion from the target-investor list (客商库): raises the odds that Dongguan wins
  a project from the region's finite pipeline of mobile investment (:mod:`simulation.model.investors`);
  the city also pays every investor it wins through the agency an incentive package;
- matchmaking along the value chain: a small demand uplift for the cluster's small members;
- finance matching (guarantees, introductions to banks): more credit access for its
  finance-constrained members;
- innovation services (what is left of the budget): common-technology and R&D support that raises
  small members' own R&D (more than one yuan of private R&D per yuan of public aid for small
  firms, weak or no effects on sales: Ben Hassine & Mathieu 2017; France Stratégie 2021);
- screening of R&D-subsidy applicants: a noisy ranking whose accuracy is ``screening_quality``
  (decentralised screening raised grant effects, Guo, Guo & Jiang 2016), only where the agency
  has a budget to do it with.

An agency with no budget does nothing at all.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING

import mesa
import numpy as np

from simulation.datapack import CLUSTERS

if TYPE_CHECKING:
    from simulation.model.model import ClusterModel

SME_REVENUE = 400.0  # M CNY a year: members below this are small (matchmaking, innovation services)


def saturating(spend_per_unit: float | np.ndarray, half_cost: float) -> float | np.ndarray:
    """Share of a service's largest effect that ``spend_per_unit`` buys: 1 − 2^(−spend / half_cost).

    Nothing at no spending, half at ``half_cost``, three quarters at twice it: diminishing returns.
    """
    return 1.0 - np.exp2(-np.asarray(spend_per_unit) / half_cost)


class PromotionAgency(mesa.Agent):
    def __init__(self, model: ClusterModel, cluster: int, lever: SimpleNamespace, policy: SimpleNamespace) -> None:
        super().__init__(model)
        self.cluster = cluster
        self.budget = lever.budget * 100.0  # M CNY a year
        self.lever = lever
        self.policy = policy
        self.spent = 0.0  # M CNY, cumulative
        # what this step's spending buys (read by the investor pipeline and the firm rules)
        self.promotion_spend = 0.0  # M CNY a year
        self.matchmaking_uplift = 0.0  # demand growth a year for small members
        self.credit_boost = 0.0  # extra credit access for constrained members
        self.services_spend = 0.0  # M CNY a year of innovation services

    @property
    def cluster_id(self) -> str:
        return CLUSTERS[self.cluster]

    @property
    def active(self) -> bool:
        return self.budget > 0

    @property
    def offers_incentives(self) -> bool:
        """Incentive packages are offered through the agency's promotion, so only when it promotes."""
        return self.promotion_spend > 0 and self.lever.incentive_share > 0

    def step(self) -> None:
        """Split this step's budget among the services and work out what each buys."""
        m, lever, pol = self.model, self.lever, self.policy
        dt, c = m.dt, self.cluster
        census = m.census()  # live members per cluster, counted once a step for all agencies
        n_small, n_constrained = int(census.small[c]), int(census.constrained[c])

        self.promotion_spend = self.budget * lever.attraction_share
        matchmaking = self.budget * lever.matchmaking_share if n_small else 0.0
        finance = self.budget * lever.finance_share if n_constrained else 0.0
        self.services_spend = self.budget * (1.0 - lever.attraction_share - lever.matchmaking_share - lever.finance_share)
        if not n_small:
            self.services_spend = 0.0
        self.matchmaking_uplift = pol.matchmaking_effect * saturating(matchmaking / max(n_small, 1), pol.matchmaking_half_cost)
        self.credit_boost = pol.finance_matching_effect * saturating(finance / max(n_constrained, 1), pol.finance_half_cost)

        for programme, rate in (
            ("agency_attraction", self.promotion_spend),
            ("agency_matchmaking", matchmaking),
            ("agency_finance", finance),
            ("agency_services", self.services_spend),
        ):
            if rate > 0:
                m.ledger.book(programme, c, rate * dt)
                self.spent += rate * dt


def screen(true_score: np.ndarray, quality: float, rng: np.random.Generator) -> np.ndarray:
    """Ranking score a screener sees: a mix of the truth and noise (0 = lottery, 1 = exact)."""
    return quality * true_score + (1.0 - quality) * rng.standard_normal(len(true_score))
