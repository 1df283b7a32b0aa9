"""Market demand for each cluster: trend growth, a common city-wide factor, persistent shocks,
named events and input-output links.

A cluster's demand growth (real, in % a year) is its market's trend growth plus its exposure to a
common factor (the domestic cycle and export demand that move every cluster together) plus an
AR(1) surprise of its own, plus any named shock event a scenario sets (for example a year-long
electronics slump), plus a share of its buyer clusters' surprises passed up the value chain
(semiconductors, materials and software supply electronics and new energy;
``simulation/data/io_links.csv``). Exposures to the common factor are per cluster
(``simulation/data/cluster_traits.csv``, ``macro_loading``). Without the common factor the
clusters' shocks would be independent and the city's growth would be narrowed by diversification.

The common factor is yearly: m_y = ρ m_{y−1} + sqrt(1 − ρ²) σ z_y, from a start-year state σ z_start
drawn from its stationary spread (it is not applied to the start year, whose figures are data), with
``macro_volatility`` σ and ``macro_persistence`` ρ. Its standardised innovations z_y are
uncertain values of their own (``macro_shocks``, one per year, standard normal unless a scenario
or a posterior says otherwise; a year not listed draws one from its own keyed stream), so data
assimilation can condition the years already observed.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from simulation.datapack import CLUSTER_INDEX, CLUSTERS, cluster_traits, io_links


class MarketDemand:
    def __init__(self, demand: SimpleNamespace, events: dict, steps_per_year: int, rng: np.random.Generator,
                 years: range, draw_shock=None):
        self.dt = 1.0 / steps_per_year
        self.trend = np.array([getattr(demand.growth, c) for c in CLUSTERS]) / 100.0
        self.persistence = demand.persistence
        # innovation sd such that the stationary sd of the surprise equals `volatility`
        self.innovation_sd = demand.volatility / 100.0 * np.sqrt(1.0 - demand.persistence**2)
        self.loading = np.array(cluster_traits().macro_loading)
        self.surprise = rng.standard_normal(len(CLUSTERS)) * demand.volatility / 100.0
        rho, sd = demand.macro_persistence, demand.macro_volatility / 100.0
        self.macro_by_year: dict[int, float] = {}
        # the factor's start-year state, drawn from its stationary spread, carries into the first year
        first = years[0] - 1
        z0 = demand.macro_shocks.get(str(first))
        if z0 is None:
            z0 = draw_shock(first) if draw_shock is not None else 0.0
        level = sd * z0
        for year in years:
            z = demand.macro_shocks.get(str(year))
            if z is None:
                z = draw_shock(year) if draw_shock is not None else 0.0
            level = rho * level + np.sqrt(1.0 - rho * rho) * sd * z
            self.macro_by_year[year] = level
        self.macro = 0.0
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
        self.surprise = self.persistence * self.surprise + self.innovation_sd * rng.standard_normal(len(CLUSTERS))
        self.macro = self.macro_by_year.get(int(np.floor(time + 1e-9)), 0.0)
        own = self.surprise + self.loading * self.macro + self.event_effect(time)
        self.growth = self.trend + own + self.links @ own
        return self.growth
