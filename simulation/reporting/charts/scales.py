"""Fixed axes: the same scale for the same quantity in every scenario.

A reader laying the baseline's chart beside another scenario's must compare like with like, so
axes are not fitted to one run's data. Each scale is set by a rule (a floor that does not depend
on the results, such as twice the target path for a fan chart) and only grows, in coarse "nice"
steps, when some run's data go beyond it; when a chart or report covers several runs, every
chart takes the widest scale among them (:class:`Scales`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from simulation.reporting.results_folder import ResultsError

if TYPE_CHECKING:
    from simulation.reporting.results_folder import ResultsFolder

NICE = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)

#: Fan charts: the y axis reaches at least this multiple of the target path's end.
FAN_HEADROOM = 2.0
#: Pillars: the gap axis spans at least ± this many percentage points.
GAP_LIMIT = 10.0
#: Town growth tiles: at least 0-10 % a year, in steps of 5.
TOWN_GROWTH = (0.0, 10.0)
#: Town floor tiles: at least 0 to this many m2 of new floor per town.
TOWN_FLOOR = 2.5e6


def nice_ceiling(x: float) -> float:
    """The smallest 'nice' number (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times a power of ten) >= x."""
    if not math.isfinite(x) or x <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(x))
    for step in NICE:
        if step * power >= x * (1 - 1e-12):
            return step * power
    return 10.0 * power


def _step_out(lo: float, hi: float, step: float, floor: tuple[float, float]) -> tuple[float, float]:
    low = min(floor[0], math.floor(lo / step) * step) if math.isfinite(lo) else floor[0]
    high = max(floor[1], math.ceil(hi / step) * step) if math.isfinite(hi) else floor[1]
    return low, high


@dataclass
class Scales:
    """Axis limits shared by every chart made from the same inputs."""

    runs: Sequence[ResultsFolder] = ()
    _cache: dict = field(default_factory=dict)

    def _memo(self, key, compute):
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def fan_top(self, cluster: str) -> float:
        """Top of a fan chart's revenue axis (亿元 a year)."""
        from simulation.reporting.charts.fan import fan_data

        def compute() -> float:
            top = 0.0
            for r in self.runs:
                if not r.has_data:
                    continue
                years, quantiles, target = fan_data(r)
                if cluster in quantiles:
                    q = quantiles[cluster]
                    path_end = q[2][0] * (1 + target / 100.0) ** (years[-1] - years[0])
                    top = max(top, FAN_HEADROOM * path_end, float(np.nanmax(q[4])))
            return nice_ceiling(top)

        return self._memo(("fan", cluster), compute)

    def gap_limits(self) -> tuple[float, float]:
        """The pillars chart's gap axis (pp a year), symmetric about 0."""

        def compute() -> tuple[float, float]:
            reach = GAP_LIMIT
            for r in self.runs:
                if r.has_summary:
                    table = r.summary[r.summary["kind"] == "pillar"]
                    values = table[["gap_p5", "gap_p95"]].to_numpy(float)
                    values = values[np.isfinite(values)]
                    if values.size:
                        reach = max(reach, math.ceil(float(np.abs(values).max()) / 5.0) * 5.0)
            return -reach, reach

        return self._memo("gap", compute)

    def town_growth(self) -> tuple[float, float]:
        """The colour range of town growth (% a year)."""
        from simulation.reporting.charts.towns import town_values

        def compute() -> tuple[float, float]:
            lo, hi = math.inf, -math.inf
            for r in self.runs:
                try:
                    values = np.array(list(town_values(r, "growth").values()), float)
                except ResultsError:  # no town series: nothing to widen
                    continue
                values = values[np.isfinite(values)]
                if values.size:
                    lo, hi = min(lo, float(values.min())), max(hi, float(values.max()))
            return _step_out(lo, hi, 5.0, TOWN_GROWTH)

        return self._memo("town_growth", compute)

    def town_floor(self) -> float:
        """The top of the colour range of new floor per town (m²)."""
        from simulation.reporting.charts.towns import town_values

        def compute() -> float:
            top = TOWN_FLOOR
            for r in self.runs:
                try:
                    values = np.array(list(town_values(r, "floor").values()), float)
                except ResultsError:
                    continue
                values = values[np.isfinite(values)]
                if values.size:
                    top = max(top, nice_ceiling(float(values.max())))
            return top

        return self._memo("town_floor", compute)
