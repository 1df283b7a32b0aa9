"""The `simulate` command: a real run, its output and files, and every user error."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from simulation.cli import main
from simulation.datapack import CLUSTERS, EMERGING, PILLARS, clusters, town_ids
from simulation.experiments.seeds import replicate_seeds
from simulation.model.results import CITY_METRICS, CLUSTER_METRICS, TOWN_METRICS

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"
SIMULATE = Path(sys.executable).with_name("simulate")
FAST = ["--set", "simulation.below_scale_ratio=0.1", "--set", "simulation.end_year=2022"]
FILES = {"data.parquet", "metrics.csv", "parameters.csv", "summary.csv", "summary.json", "scenario.toml", "manifest.json"}
ASKED = FILES | {"data.csv"}  # the real run asks for data.csv (--csv)


def invoke(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


# --- one real run, as a user would start it ------------------------------------------------


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("real") / "tmp"
    command = [str(SIMULATE), "scenarios/baseline.toml", "--replicates", "4", "--workers", "2", "--out", str(out), "--csv"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    return done, out


def test_real_run_prints_the_table(real_run) -> None:
    done, out = real_run
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    text = done.stdout
    assert "baseline: 4 replicates, seed 20210118, 2020→2025" in text
    for row in clusters():
        assert row.name_en in text
        assert row.name_zh in text  # wide: output is not a terminal
    for heading in ("Pillars", "Emerging", "City industry", "CAGR, %/yr", "Gap to city, pp", "P(target met)"):
        assert heading in text
    assert "CAGR ≥ 10 %" in text and "gap ≥ −1 pp" in text
    assert re.search(r"Results: .*tmp\s+\(4 replicates in [\d.]+ s\)", text)
    # one number block per cluster row: median [p5, p95]
    # (and software's CAGR on the statistics' basis, under the table)
    assert len(re.findall(r"-?\d+\.\d \[-?\d+\.\d, -?\d+\.\d\]", text)) == len(CLUSTERS) + 1 + len(PILLARS) + 1
    # one chance per target, one that all five emerging clusters hit, and software's on the statistics' basis
    assert len(re.findall(r"\d+% \[\d+, \d+\]", text)) == len(PILLARS) + len(EMERGING) + 2
    assert re.search(r"All five emerging clusters reach 10 %: \d+% \[\d+, \d+\]", text)
    # the public cost, and what the policy adds against its counterfactual (business as usual)
    assert re.search(r"Public cost 2021–2025: [\d,]+ 亿元", text)
    assert "vs business_as_usual" in text and re.search(r"Against business_as_usual: extra public cost [\d,]+ 亿元", text)
    # the effect columns: a paired ΔCAGR [CI] for every cluster and the city
    assert len(re.findall(r"[+-]\d+\.\d\d \[[+-]\d+\.\d\d, [+-]\d+\.\d\d\]", text)) == len(CLUSTERS) + 1


def test_real_run_writes_every_file_and_nothing_else(real_run) -> None:
    done, out = real_run
    assert {p.name for p in out.iterdir()} == ASKED
    assert [p.name for p in out.parent.iterdir()] == ["tmp"]  # no temporary folder left behind


def test_manifest_records_the_run(real_run) -> None:
    done, out = real_run
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert m["scenario"]["name"] == "baseline"
    assert m["scenario"]["path"] == "scenarios/baseline.toml"
    assert re.fullmatch(r"[0-9a-f]{64}", m["scenario"]["sha256"])
    assert m["scenario"]["overrides"] == ['outputs.formats=["parquet", "csv"]', "simulation.replicates=4"]
    assert m["root_seed"] == 20210118 and m["replicates"] == 4 and m["workers"] == 2
    assert m["seeds"] == replicate_seeds(20210118, 4)
    for package in ("python", "mesa", "numpy", "scipy", "pandas", "pyarrow", "pydantic", "dongguan-clusters"):
        assert m["versions"][package] not in ("", None), package
    assert re.fullmatch(r"[0-9a-f]{40}|unknown", m["git"]["commit"])
    assert m["git"]["dirty"] in (True, False, "unknown")
    assert "scenarios/baseline.toml --replicates 4 --workers 2" in m["command"]
    assert m["started"] <= m["ended"] and m["wall_time_seconds"] > 0
    assert m["hostname"] and m["platform"]
    assert set(m["files"]) == ASKED - {"manifest.json"}
    assert m["files"]["data.csv"]["bytes"] == (out / "data.csv").stat().st_size
    # the scenario recorded is the one that ran, and its hash is the manifest's
    from simulation.scenario import load_scenario

    again = load_scenario(out / "scenario.toml")
    assert again.sha256 == m["scenario"]["sha256"] and again.spec.simulation.replicates == 4


def test_data_files_hold_the_tidy_series(real_run) -> None:
    done, out = real_run
    frame = pq.read_table(out / "data.parquet").to_pandas()
    assert list(frame.columns) == ["replicate", "seed", "scope", "unit", "metric", "frequency", "period", "year", "quarter", "value"]
    years, steps = 6, 21
    per_replicate = (
        len(CLUSTERS) * len(CLUSTER_METRICS) * (years + steps)
        + len(town_ids()) * len(TOWN_METRICS) * years  # towns: annual only
        + len(CITY_METRICS) * (years + steps)
    )
    assert len(frame) == 4 * per_replicate
    assert sorted(frame["replicate"].unique()) == [0, 1, 2, 3]
    assert set(frame["seed"].unique()) == set(replicate_seeds(20210118, 4))
    assert set(frame["scope"].astype(str)) == {"cluster", "town", "city"}
    assert set(frame.loc[frame["scope"] == "town", "frequency"].astype(str)) == {"year"}
    assert set(frame["period"].astype(str)) >= {"2020", "2025", "2020Q4", "2021Q1", "2025Q4"}
    annual = frame[(frame["frequency"] == "year")]
    assert (annual["quarter"] == 0).all()
    q = frame[(frame["frequency"] == "quarter") & (frame["period"] == "2023Q3")]
    assert (q["year"] == 2023).all() and (q["quarter"] == 3).all()
    # flows have no value at the start state; stocks and rates do
    start = frame[(frame["scope"] == "cluster") & (frame["year"] == 2020)]
    assert start.loc[start["metric"] == "entrants", "value"].isna().all()
    assert start.loc[start["metric"] == "revenue", "value"].notna().all()
    # the summary's start revenue is the data's
    summary = pd.read_csv(out / "summary.csv").set_index("cluster")
    rev = frame[(frame["scope"] == "cluster") & (frame["metric"] == "revenue") & (frame["period"] == "2020")]
    medians = rev.groupby(rev["unit"].astype(str))["value"].median()
    for c in CLUSTERS:
        assert summary.loc[c, "revenue_start_median"] == pytest.approx(medians[c])
    csv = pd.read_csv(out / "data.csv")
    assert len(csv) == len(frame)
    assert csv["value"].isna().sum() == frame["value"].isna().sum()
    params = pd.read_csv(out / "parameters.csv")
    assert list(params.columns[:2]) == ["replicate", "seed"] and len(params) == 4


# --- output formats -------------------------------------------------------------------------


def test_json_format_parses(tmp_path: Path) -> None:
    result = invoke("run", BASELINE, "-n", "2", "-j", "1", "--format", "json", "--out", tmp_path / "r", *FAST)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["scenario"] == "baseline" and data["replicates"] == 2 and data["seed"] == 20210118
    assert data["results_folder"] == str(tmp_path / "r")
    assert data["start_year"] == 2020 and data["end_year"] == 2022
    assert {c["cluster"] for c in data["clusters"]} == set(CLUSTERS)
    assert data == {**json.loads((tmp_path / "r" / "summary.json").read_text()), **{k: data[k] for k in ("scenario", "sha256", "seed", "results_folder")}}


def test_quiet_prints_only_the_folder(tmp_path: Path) -> None:
    result = invoke("-n", "1", "-j", "1", "--quiet", "--out", tmp_path / "q", *FAST, BASELINE)  # options first
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{tmp_path / 'q'}\n"
    assert result.stderr == ""


def test_table_uses_the_scenario_years(tmp_path: Path) -> None:
    result = invoke(BASELINE, "-n", "1", "-j", "1", "--out", tmp_path / "t", *FAST)
    assert result.exit_code == 0, result.output
    assert "2020→2022" in result.stdout and "2025" not in result.stdout.split("Results:")[0]


def test_set_takes_effect(tmp_path: Path) -> None:
    out = tmp_path / "s"
    result = invoke(
        BASELINE, "-n", "2", "-j", "1", "--format", "json", "--out", out, *FAST,
        "--set", "targets.emerging_cagr=-50", "--set", "targets.pillar_tolerance=50",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    for row in data["clusters"]:
        if row["kind"] == "emerging":
            assert row["hit"]["p"] == 1.0
        if row["kind"] == "pillar":
            assert row["keeps_pace"]["p"] == 1.0
    assert data["targets"] == {"emerging_cagr": -50.0, "pillar_tolerance": 50.0}
    assert "emerging_cagr = -50" in (out / "scenario.toml").read_text()
    manifest = json.loads((out / "manifest.json").read_text())
    assert "targets.emerging_cagr=-50" in manifest["scenario"]["overrides"]


def test_outputs_section_decides_the_files(tmp_path: Path) -> None:
    out = tmp_path / "o"
    result = invoke(BASELINE, "-n", "1", "-j", "1", "-q", "--out", out, *FAST,
                    "--set", 'outputs.formats=["csv"]', "--set", "outputs.quarterly=false", "--set", "outputs.towns=false")
    assert result.exit_code == 0, result.output
    data = pd.read_csv(out / "data.csv")
    assert set(data["scope"]) == {"cluster", "city"} and set(data["frequency"]) == {"year"}
    parquet = pd.read_parquet(out / "data.parquet")  # always written, the same rows
    assert len(parquet) == len(data) and list(parquet.columns) == list(data.columns)


def test_csv_only_when_asked(tmp_path: Path) -> None:
    parquet_only = ("--set", 'outputs.formats=["parquet"]')
    plain = invoke(BASELINE, "-n", "1", "-j", "1", "-q", "--out", tmp_path / "p", *FAST, *parquet_only)
    asked = invoke(BASELINE, "-n", "1", "-j", "1", "-q", "--out", tmp_path / "c", *FAST, *parquet_only, "--csv")
    assert plain.exit_code == asked.exit_code == 0, plain.output + asked.output
    assert (tmp_path / "p" / "data.parquet").exists() and not (tmp_path / "p" / "data.csv").exists()
    assert (tmp_path / "c" / "data.parquet").exists() and (tmp_path / "c" / "data.csv").exists()
    manifest = json.loads((tmp_path / "c" / "manifest.json").read_text())
    assert 'outputs.formats=["parquet", "csv"]' in manifest["scenario"]["overrides"]


def test_default_folder_is_under_results_in_the_current_directory(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    first = invoke(BASELINE, "-n", "1", "-j", "1", "-q", *FAST)
    second = invoke(BASELINE, "-n", "1", "-j", "1", "-q", *FAST)
    assert first.exit_code == second.exit_code == 0, first.output + second.output
    a, b = Path(first.stdout.strip()), Path(second.stdout.strip())
    assert re.fullmatch(r"results/baseline-\d{8}-\d{6}(-\d+)?", a.as_posix())
    assert a != b and (tmp_path / a / "manifest.json").exists() and (tmp_path / b / "manifest.json").exists()


def test_overwrite_replaces_an_earlier_results_folder(tmp_path: Path) -> None:
    out = tmp_path / "w"
    first = invoke(BASELINE, "-n", "1", "-j", "1", "-q", "--out", out, *FAST)
    assert first.exit_code == 0, first.output
    result = invoke(BASELINE, "-n", "1", "-j", "1", "-q", "--out", out, "--overwrite", "--seed", "7", *FAST)
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} == FILES
    assert json.loads((out / "manifest.json").read_text())["root_seed"] == 7
    assert [p.name for p in tmp_path.iterdir()] == ["w"]  # no partial or old folder left


def test_an_existing_empty_folder_is_used(tmp_path: Path) -> None:
    out = tmp_path / "e"
    out.mkdir()
    result = invoke(BASELINE, "-n", "1", "-j", "1", "-q", "--out", out, *FAST)
    assert result.exit_code == 0, result.output
    assert (out / "summary.json").exists()


# --- check and help -------------------------------------------------------------------------


def test_check_prints_one_ok_line() -> None:
    result = invoke("check", BASELINE)
    assert result.exit_code == 0, result.output
    line = result.stdout.strip()
    assert "\n" not in line
    assert re.fullmatch(r"OK baseline \(sha256 [0-9a-f]{12}\): 400 replicates, 2020-2025 .*seed 20210118", line)


def test_check_applies_set() -> None:
    result = invoke("check", BASELINE, "--set", "simulation.replicates=40", "--set", "simulation.end_year=2030")
    assert result.exit_code == 0, result.output
    assert "40 replicates, 2020-2030" in result.stdout


@pytest.mark.parametrize("args", [["--help"], ["run", "--help"], ["check", "--help"], ["-h"]])
def test_help_shows_examples(args: list[str]) -> None:
    result = invoke(*args)
    assert result.exit_code == 0
    assert "Examples:" in result.stdout
    assert "simulate " in result.stdout.split("Examples:")[1]


def test_run_help_lists_every_option() -> None:
    text = invoke("run", "--help").stdout
    for option in ("--replicates", "--seed", "--workers", "--out", "--set", "--overwrite", "--quiet", "--format"):
        assert option in text


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0 and "simulate" in result.stdout


# --- errors: exit 2, one line, no traceback (every bad input: tests/hostile/) ----------------


def _user_error(result, *fragments: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert "Error:" in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


@pytest.fixture
def bad_scenario(tmp_path: Path) -> Path:
    path = tmp_path / "bad.toml"
    path.write_text(f'extends = "{BASELINE.as_posix()}"\n[simulation]\nreplicatez = 3\n', encoding="utf-8")
    return path


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root may write in read-only folders")
def test_out_under_a_read_only_folder(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        _user_error(invoke(BASELINE, "--out", locked / "out"), "no permission")
    finally:
        locked.chmod(0o755)


def test_errors_at_the_real_boundary_have_no_traceback(bad_scenario: Path) -> None:
    done = subprocess.run([str(SIMULATE), str(bad_scenario)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.startswith("Error: ") and "Traceback" not in done.stderr
    assert done.stdout == ""


# --- failures during a run: exit 1, results kept where possible -----------------------------


def test_a_failing_replicate_exits_1_with_a_short_message(tmp_path: Path, monkeypatch) -> None:
    import simulation.experiments.runner as runner

    real = runner.run_replicate

    def flaky(spec, seed):
        if seed == replicate_seeds(20210118, 2)[1]:
            raise RuntimeError("boom\nsecond line")
        return real(spec, seed)

    monkeypatch.setattr(runner, "run_replicate", flaky)
    result = invoke(BASELINE, "-n", "2", "-j", "1", "--out", tmp_path / "f", *FAST)
    assert result.exit_code == 1
    seed = replicate_seeds(20210118, 2)[1]
    assert f"Error: replicate 1 (seed {seed}) failed: RuntimeError: boom; no results were written" in result.stderr
    assert "second line" not in result.stderr
    assert not (tmp_path / "f").exists()


def test_a_write_failure_falls_back_to_another_folder(tmp_path: Path, monkeypatch) -> None:
    import simulation.reporting.writer as writer

    real, calls = writer.write_results, []

    def full_disk(folder, *args, **kwargs):
        calls.append(Path(folder))
        if len(calls) == 1:
            raise OSError(28, "No space left on device")
        return real(folder, *args, **kwargs)

    monkeypatch.setattr(writer, "write_results", full_disk)
    result = invoke(BASELINE, "-n", "1", "-j", "1", "--out", tmp_path / "w", *FAST)
    assert result.exit_code == 1
    assert "No space left on device" in result.stderr
    fallback = calls[1]
    assert f"written to {fallback} instead" in result.stderr
    assert (fallback / "data.parquet").exists() and (fallback / "manifest.json").exists()
    assert not (tmp_path / "w").exists()
    import shutil

    shutil.rmtree(fallback)


def test_a_summary_failure_still_writes_the_data(tmp_path: Path, monkeypatch) -> None:
    import simulation.experiments.summary as summary

    def broken(*args, **kwargs):
        raise ValueError("bad arrays")

    monkeypatch.setattr(summary, "summarise", broken)
    out = tmp_path / "s"
    result = invoke(BASELINE, "-n", "1", "-j", "1", "--out", out, *FAST)
    assert result.exit_code == 1
    assert "could not summarise the results (ValueError: bad arrays)" in result.stderr
    assert (out / "data.parquet").exists() and not (out / "summary.json").exists()


def test_unexpected_errors_are_one_line(tmp_path: Path, monkeypatch) -> None:
    import simulation.experiments.seeds as seeds

    def broken(*args):
        raise KeyError("surprise")

    monkeypatch.setattr(seeds, "replicate_seeds", broken)
    monkeypatch.delenv("SIMULATE_DEBUG", raising=False)
    result = invoke(BASELINE, "-n", "1", "--out", tmp_path / "u")
    assert result.exit_code == 1
    assert "Error: unexpected KeyError: 'surprise'" in result.stderr and "SIMULATE_DEBUG" in result.stderr
