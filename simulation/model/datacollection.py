"""The model's series as Mesa ``DataCollector`` reporters (for SolaraViz, ``mesa.batch_run``, notebooks).

The recorder already holds every series in arrays, row ``model.steps`` for the current step;
each reporter reads its value there, so collecting costs only the reading. Columns: every city
metric under its own name (``industrial_revenue``, ...) and every cluster metric as
``<metric>_<cluster>`` (``revenue_semi``, ``firms_electronics``, ...); units and meanings are in
:mod:`simulation.model.results`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from simulation.datapack import CLUSTERS
from simulation.model.results import CITY_METRICS, CLUSTER_METRICS

if TYPE_CHECKING:
    from simulation.model.model import ClusterModel


def series_reporters() -> dict[str, Callable[[ClusterModel], float]]:
    """Model reporters: city metrics by name, then cluster metrics as ``<metric>_<cluster>``."""
    reporters: dict[str, Callable[[ClusterModel], float]] = {}
    for j, name in enumerate(CITY_METRICS):
        reporters[name] = _city(j)
    for j, name in enumerate(CLUSTER_METRICS):
        for c, cluster in enumerate(CLUSTERS):
            reporters[f"{name}_{cluster}"] = _cluster(c, j)
    return reporters


def _city(j: int) -> Callable[[ClusterModel], float]:
    return lambda model: float(model.recorder.city[model.steps, j])


def _cluster(c: int, j: int) -> Callable[[ClusterModel], float]:
    return lambda model: float(model.recorder.cluster[model.steps, c, j])
