"""Same inputs, same bytes: seeds, worker counts and the files a run writes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from simulation.cli import main
from simulation.experiments.runner import MAX_CHUNK, ReplicateError, chunked, run_replicates
from simulation.experiments.seeds import replicate_seeds
from simulation.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"
# a short, small run: 2 simulated years, few below-scale firms
FAST = ["--set", "simulation.below_scale_ratio=0.1", "--set", "simulation.end_year=2022"]
DETERMINISTIC = ["data.parquet", "data.csv", "summary.csv", "summary.json", "parameters.csv", "metrics.csv", "scenario.toml"]


# --- seeds ----------------------------------------------------------------------------------


@given(root=st.integers(min_value=0, max_value=2**63 - 1), n=st.integers(min_value=0, max_value=60))
def test_replicate_seeds_do_not_depend_on_the_count(root: int, n: int) -> None:
    seeds = replicate_seeds(root, n)
    assert len(seeds) == n
    assert seeds == replicate_seeds(root, n + 7)[:n]
    assert all(isinstance(s, int) and 0 <= s < 2**32 for s in seeds)


def test_replicate_seeds_depend_on_the_root_and_are_distinct() -> None:
    a, b = replicate_seeds(20210118, 400), replicate_seeds(20210119, 400)
    assert a != b
    assert len(set(a)) == 400
    assert a == replicate_seeds(20210118, 400)  # deterministic


@pytest.mark.parametrize("bad", [(-1, 3), (1, -1), (1.5, 3), (1, 2.0), (True, 3)])
def test_replicate_seeds_reject_bad_input(bad: tuple) -> None:
    with pytest.raises(ValueError):
        replicate_seeds(*bad)


@pytest.mark.parametrize(("n", "workers"), [(1, 4), (7, 2), (40, 2), (400, 8), (400, 64), (3, 1)])
def test_chunks_cover_every_replicate_once_in_order(n: int, workers: int) -> None:
    chunks = chunked(n, workers)
    assert [i for c in chunks for i in c] == list(range(n))
    assert max(len(c) for c in chunks) <= MAX_CHUNK  # the progress bar moves
    assert len(chunks) >= min(n, workers)  # no worker idles while others have several chunks


# --- the runner -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def spec():
    return load_scenario(BASELINE, ["simulation.below_scale_ratio=0.1", "simulation.end_year=2022"]).spec


def _same(a, b) -> bool:
    return (
        a.seed == b.seed
        and a.parameters == b.parameters
        and all(np.array_equal(getattr(a, k), getattr(b, k), equal_nan=True) for k in ("cluster", "town", "city"))
    )


def test_results_are_identical_in_one_process_and_in_workers(spec) -> None:
    seeds = replicate_seeds(11, 3)
    here = run_replicates(spec, seeds, workers=1, progress=False)
    pooled = run_replicates(spec, seeds, workers=2, progress=False)
    assert [r.seed for r in here] == seeds == [r.seed for r in pooled]
    assert all(_same(a, b) for a, b in zip(here, pooled))
    # common random numbers: replicate i is the same whatever the number of replicates
    fewer = run_replicates(spec, replicate_seeds(11, 2), workers=1, progress=False)
    assert all(_same(a, b) for a, b in zip(fewer, here[:2]))
    assert not np.array_equal(here[0].cluster, here[1].cluster)


def test_a_failing_replicate_names_itself_and_its_seed(spec) -> None:
    broken = spec.model_copy(update={"simulation": spec.simulation.model_copy(update={"steps_per_year": 0})})
    seeds = replicate_seeds(3, 4)
    for workers in (1, 2):
        with pytest.raises(ReplicateError) as info:
            run_replicates(broken, seeds, workers=workers, progress=False)
        err = info.value
        assert err.replicate in range(4) and err.seed == seeds[err.replicate]
        assert f"replicate {err.replicate} (seed {err.seed}) failed: ZeroDivisionError" in str(err)
        assert "Traceback" in err.details


# --- the files ------------------------------------------------------------------------------


def _run(tmp_path: Path, name: str, *args: str) -> Path:
    out = tmp_path / name
    result = CliRunner().invoke(main, ["run", str(BASELINE), "--replicates", "3", "--quiet", "--csv", "--out", str(out), *FAST, *args])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(out)
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("runs")
    return {
        "one": _run(tmp, "one", "--workers", "1"),
        "two": _run(tmp, "two", "--workers", "2"),
        "other_seed": _run(tmp, "other", "--workers", "1", "--seed", "99"),
    }


@pytest.mark.parametrize("name", DETERMINISTIC)
def test_files_are_byte_identical_whatever_the_worker_count(runs, name: str) -> None:
    assert (runs["one"] / name).read_bytes() == (runs["two"] / name).read_bytes()


def test_manifests_differ_only_in_run_details(runs) -> None:
    one, two = (json.loads((runs[k] / "manifest.json").read_text()) for k in ("one", "two"))
    assert one["workers"] == 1 and two["workers"] == 2
    assert one["files"] == two["files"]  # same sizes and hashes
    for key in ("scenario", "root_seed", "replicates", "seeds", "versions", "git"):
        assert one[key] == two[key], key


def test_a_different_seed_gives_different_data(runs) -> None:
    for name in ("data.parquet", "data.csv", "summary.json", "parameters.csv"):
        assert (runs["one"] / name).read_bytes() != (runs["other_seed"] / name).read_bytes(), name
    one, other = (json.loads((runs[k] / "manifest.json").read_text()) for k in ("one", "other_seed"))
    assert other["root_seed"] == 99 and other["seeds"] == replicate_seeds(99, 3)
    assert one["seeds"] == replicate_seeds(20210118, 3)


def test_parquet_is_written_deterministically(runs, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from simulation.reporting.writer import PARQUET_OPTIONS

    table = pq.read_table(runs["one"] / "data.parquet")
    for name in ("a.parquet", "b.parquet"):
        pq.write_table(table, tmp_path / name, **PARQUET_OPTIONS)
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
