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
MAX_RATIO = 20.0  # the scenario's bound on simulation.below_scale_ratio


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
    """Overrides for a start-year population of about ``firms`` firms, within the scenario's bounds
    (below 12,000 firms the above-scale population is scaled down; at most 20 below-scale firms per
    above-scale firm, about 250,000 firms: :func:`spec_for` goes beyond)."""
    if firms < ABOVE_SCALE_FIRMS:
        return population_overrides(0.0, firms / ABOVE_SCALE_FIRMS, path)
    return population_overrides(round(firms / ABOVE_SCALE_FIRMS - 1.0, 4), 1.0, path)


def spec_for(firms: int, path: Path = BASELINE):
    """The scenario with about ``firms`` firms in the start year, at any size.

    Beyond the scenario's bound on ``simulation.below_scale_ratio`` (20, which users are held to:
    the whole city has about 16 below-scale firms per above-scale firm) the ratio is set on the
    loaded spec directly, for benchmarks of scale only.
    """
    ratio = firms / ABOVE_SCALE_FIRMS - 1.0
    if ratio <= MAX_RATIO:
        return load_scenario(path, overrides_for(firms, path)).spec
    spec = load_scenario(path).spec
    return spec.model_copy(update={"simulation": spec.simulation.model_copy(update={"below_scale_ratio": round(ratio, 4)})})
