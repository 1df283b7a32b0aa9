"""Scenario overrides that set the size of the modelled firm population.

The population in the start year is the above-scale firms of the data pack (about 12,000,
drawn per replicate) plus ``simulation.below_scale_ratio`` below-scale firms per above-scale
firm. Below about 12,000 firms the above-scale population itself has to shrink: ``scale``
multiplies every cluster's above-scale firm count and revenue (keeping firm sizes), which is a
different scenario but the same rules - good enough to benchmark and to compare engines on.
"""

from __future__ import annotations

from pathlib import Path

from simulation.scenario import load_scenario

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml"
ABOVE_SCALE_FIRMS = 11_955  # mean of the baseline's above-scale firm counts (sum of triangular means)
MAX_RATIO = 16.0  # below-scale firms per above-scale firm beyond which the above-scale population is scaled up


def population_overrides(below_scale_ratio: float, scale: float = 1.0, path: Path = BASELINE) -> list[str]:
    """``--set`` options for a population of about ``ABOVE_SCALE_FIRMS * scale * (1 + ratio)`` firms."""
    options = [f"simulation.below_scale_ratio={below_scale_ratio}"]
    if scale != 1.0:
        baseline = load_scenario(path).spec.uncertainties.baseline
        for table in ("abovescale_firms_2020", "revenue_2020"):
            clusters = getattr(baseline, table)
            for cid in type(clusters).model_fields:
                d = getattr(clusters, cid)
                params = ", ".join(f"{k} = {v * scale!r}" for k, v in d.params)
                options.append(f'uncertainties.baseline.{table}.{cid}={{ dist = "{d.dist}", {params} }}')
    return options


def overrides_for(firms: int, path: Path = BASELINE) -> list[str]:
    """Overrides for a start-year population of about ``firms`` firms.

    Up to ``MAX_RATIO`` (the whole city's industrial firms) more below-scale firms are added; beyond
    it, and below 12,000 firms, the above-scale population is scaled (the scenario's bounds allow
    ``below_scale_ratio`` up to 20).
    """
    if firms < ABOVE_SCALE_FIRMS:
        return population_overrides(0.0, firms / ABOVE_SCALE_FIRMS, path)
    ratio = min(round(firms / ABOVE_SCALE_FIRMS - 1.0, 4), MAX_RATIO)
    scale = firms / (ABOVE_SCALE_FIRMS * (1.0 + ratio))
    return population_overrides(ratio, 1.0 if scale < 1.0001 else round(scale, 4), path)
