"""ClusterModel follows Mesa's conventions: keyword construction, running, step/run, DataCollector, batch_run."""

from __future__ import annotations

import warnings
from pathlib import Path

import mesa
import numpy as np
import pandas as pd
import pytest

from simulation.datapack import CLUSTERS
from simulation.experiments.runner import run_replicate
from simulation.model.model import ClusterModel
from simulation.model.results import CITY_METRICS, CLUSTER_METRICS
from simulation.scenario import ScenarioError
from simulation.scenario import load_scenario as load_toml

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"
SHORT = {"simulation.end_year": 2022}  # 8 quarters


def model(seed: int = 5, **kwargs) -> ClusterModel:
    return ClusterModel(str(BASELINE), rng=seed, **{"firm_agents": False, **SHORT, **kwargs})


def test_running_turns_false_at_the_horizon_and_run_model_stops_there() -> None:
    m = model()
    assert m.running and m.n_steps == 8
    for k in range(1, 9):
        assert m.running
        m.step()
        assert m.steps == k
    assert not m.running
    m.run_model()  # Mesa's own loop: nothing left to do
    assert m.steps == 8


def test_step_past_the_horizon_warns_and_changes_nothing() -> None:
    m = model()
    result = m.run()
    cluster = result.cluster.copy()
    with pytest.warns(RuntimeWarning, match="reached its horizon"):
        m.step()
    assert np.array_equal(m.recorder.cluster, cluster, equal_nan=True) and not m.running


def test_step_and_run_can_be_mixed() -> None:
    stepped = model()
    for _ in range(3):
        stepped.step()
    mixed = stepped.run()  # continues from step 3
    whole = model().run()
    assert mixed.n_steps == whole.n_steps == 8
    assert np.array_equal(mixed.cluster, whole.cluster, equal_nan=True) and np.array_equal(mixed.town, whole.town, equal_nan=True)
    assert stepped.run().cluster is mixed.cluster  # running it again returns the same series, no IndexError


def test_keyword_construction_with_overrides_as_python_values() -> None:
    dotted = model(**{"levers.land.floor_multiplier": 2.5})
    nested = model(levers={"land": {"floor_multiplier": 2.5}})
    assert dotted.levers.land.floor_multiplier == nested.levers.land.floor_multiplier == 2.5
    loaded = load_toml(BASELINE, ["simulation.end_year=2022", "levers.land.floor_multiplier=2.5"])
    assert dotted.spec == loaded.spec
    assert np.array_equal(dotted.run().cluster, ClusterModel(loaded.spec, rng=5, firm_agents=False).run().cluster, equal_nan=True)
    assert ClusterModel(loaded, rng=5, firm_agents=False).spec == loaded.spec  # a loaded Scenario works too
    with pytest.raises(ScenarioError, match="levers.land.floor_multiplier"):
        model(**{"levers.land.floor_multiplier": 0.0})
    with pytest.raises(TypeError, match="ScenarioSpec"):
        ClusterModel(loaded.spec, rng=1, **{"levers.land.floor_multiplier": 2.0})


def test_default_scenario_is_the_baseline() -> None:
    assert ClusterModel(rng=1, firm_agents=False).spec == load_toml(BASELINE).spec


def test_datacollector_holds_the_recorded_series() -> None:
    m = model(collect_data=True)
    result = m.run()
    frame = m.datacollector.get_model_vars_dataframe()
    assert len(frame) == m.n_steps + 1  # the start state and every step
    for j, name in enumerate(CITY_METRICS):
        assert np.array_equal(frame[name].to_numpy(), result.city[:, j], equal_nan=True), name
    for j, name in enumerate(CLUSTER_METRICS):
        for c, cluster in enumerate(CLUSTERS):
            assert np.array_equal(frame[f"{name}_{cluster}"].to_numpy(), result.cluster[:, c, j], equal_nan=True), (
                name, cluster)


def test_datacollector_is_off_in_batch_runs_and_changes_no_result() -> None:
    assert model().datacollector is None  # firm_agents=False: a batch run keeps only the recorder
    assert ClusterModel(str(BASELINE), rng=1, **SHORT).datacollector is not None  # interactive default
    with_collector = model(collect_data=True).run()
    batch = run_replicate(load_toml(BASELINE, ["simulation.end_year=2022"]).spec, 5)
    assert np.array_equal(with_collector.cluster, batch.cluster, equal_nan=True) and np.array_equal(with_collector.city, batch.city, equal_nan=True)


def test_mesa_batch_run() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # nothing deprecated on our side of the call
        rows = mesa.batch_run(
            ClusterModel,
            parameters={"spec": str(BASELINE), "firm_agents": False, "collect_data": True,
                        "levers.talent.subsidy": [0.0, 0.05], **SHORT},
            rng=[3, 4], number_processes=1, data_collection_period=1, max_steps=1000, display_progress=False,
        )  # fmt: skip
    frame = pd.DataFrame(rows)
    assert frame["RunId"].nunique() == 4 and set(frame["rng"]) == {3, 4}
    assert frame.groupby("RunId")["Step"].max().eq(8).all()  # stopped by `running`, not by max_steps
    last = frame[frame["Step"] == 8].set_index(["rng", "levers.talent.subsidy"])
    assert last.loc[(3, 0.0), "cost_talent_subsidy"] == 0 and last.loc[(3, 0.05), "cost_talent_subsidy"] > 0
    # the same numbers as a replicate run by `simulate`
    spec = load_toml(BASELINE, ["simulation.end_year=2022", "levers.talent.subsidy=0.05"]).spec
    reference = run_replicate(spec, 4)
    semi = CLUSTERS.index("semi")
    assert last.loc[(4, 0.05), "revenue_semi"] == reference.cluster[-1, semi, list(CLUSTER_METRICS).index("revenue")]
