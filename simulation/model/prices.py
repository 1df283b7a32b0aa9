"""Producer prices: the model runs in constant 2020 prices and converts at the statistics' border.

Firms' revenue, capacity, cash and capital are real (2020 yuan). Prices matter where the rules or
the statistics use current yuan: the above-scale threshold (20 M CNY of *current* annual revenue,
so inflation lifts firms over it and deflation drops them), and the nominal operating revenue the
policy's targets are written in. The price level of the industrial clusters follows the national
industrial producer price index (PPI, an input by year; ``later`` for years not listed) with a pass-through below one where
Dongguan's prices moved less than the nation's; software (a service) keeps 2020 prices.
Within a year the level moves by equal quarterly steps, so the mean of a year's four quarters
grows at about that year's rate.
"""

from __future__ import annotations

import numpy as np

from simulation.datapack import CLUSTERS, INDUSTRIAL


class PriceIndex:
    def __init__(self, ppi: dict[str, float], later: float, passthrough: float, start_year: int, steps_per_year: int,
                 n_steps: int):
        exposed = np.array([c in INDUSTRIAL for c in CLUSTERS], dtype=float) * passthrough
        log_level = np.zeros(n_steps + 1)  # step 0 is the start year, level 1
        for step in range(1, n_steps + 1):
            year = start_year + 1 + (step - 1) // steps_per_year
            rate = ppi.get(str(year), later)
            log_level[step] = log_level[step - 1] + np.log1p(rate / 100.0) / steps_per_year
        #: (step, cluster) price level, 2020 = 1
        self.level = np.exp(log_level[:, None] * exposed[None, :])

    def at(self, step: int) -> np.ndarray:
        """Each cluster's price level at ``step`` (2020 = 1)."""
        return self.level[step]
