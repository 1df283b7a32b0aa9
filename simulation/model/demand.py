"""Market demand for each cluster: trend growth, persistent shocks, named events, IO links.

A cluster's demand growth (in % a year) is its market's trend growth plus an AR(1) surprise,
plus any named shock event a scenario sets (for example a year-long electronics slump), plus a
share of its buyer clusters' surprises passed up the value chain (semiconductors, materials and
software supply electronics and new energy; ``simulation/data/io_links.csv``).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from simulation.datapack import CLUSTER_INDEX, CLUSTERS, io_links


class MarketDemand:
    def __init__(self, demand: SimpleNamespace, events: dict, steps_per_year: int, rng: np.random.Generator):
        self.dt = 1.0 / steps_per_year
        self.trend = np.array([getattr(demand.growth, c) for c in CLUSTERS]) / 100.0
        self.persistence = demand.persistence
        # innovation sd such that the stationary sd of the surprise equals `volatility`
        self.innovation_sd = demand.volatility / 100.0 * np.sqrt(1.0 - demand.persistence**2)
        self.surprise = rng.standard_normal(len(CLUSTERS)) * demand.volatility / 100.0
        links = np.zeros((len(CLUSTERS), len(CLUSTERS)))
        for supplier, buyer, weight in io_links():
            links[CLUSTER_INDEX[supplier], CLUSTER_INDEX[buyer]] = weight
        self.links = demand.io_strength * links
        self.events = [
            (CLUSTER_INDEX[e.cluster], e.start, e.start + e.duration_years, e.growth_change / 100.0)
            for _, e in sorted(events.items())
        ]
        self.growth = self.trend.copy()

    def event_effect(self, time: float) -> np.ndarray:
        """Sum of named shocks active at ``time`` (decimal year at the start of the step)."""
        effect = np.zeros(len(CLUSTERS))
        for c, start, end, change in self.events:
            if start <= time < end:
                effect[c] += change
        return effect

    def step(self, time: float, rng: np.random.Generator) -> np.ndarray:
        """Advance one step; return each cluster's demand growth, a year-rate fraction."""
        self.surprise = self.persistence * self.surprise + self.innovation_sd * rng.standard_normal(
            len(CLUSTERS)
        )
        own = self.surprise + self.event_effect(time)
        self.growth = self.trend + own + self.links @ own
        return self.growth
