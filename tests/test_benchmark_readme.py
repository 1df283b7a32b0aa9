"""The README's performance section is written by benchmarks/benchmark_model.py from measurements, between markers."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import benchmark_model as bench  # noqa: E402

MEASURED = {
    "environment": {"mode": "full", "date": "2026-12-01 09:00", "cpus": 2, "cpu_model": "Test CPU", "git": "abc1234",
                    "loadavg_before": 0.4, "cpu_busy_before": 0.02},
    "loadavg_after": 0.6,
    "replicate": {
        "agents_off": {"total_s": 0.0512, "total_cpu_s": 0.0501},
        "ratio_numpy_numba": {"total_s": 2.345},
        "ratio_on_off": {"total_s": 1.5},
    },
    "sweep": {"steady_runs_per_second": {"efficiency": 0.93}, "end_to_end_runs_per_second": {"efficiency": 0.8},
              "other_cpu_share": 0.01},
}


def test_the_readme_has_the_markers_once() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert all(text.count(marker) == 1 for marker in bench.MARKERS)
    assert text.index(bench.MARKERS[0]) < text.index(bench.MARKERS[1])


def test_the_section_is_the_measurements_between_the_markers(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\nbefore\n\n{bench.MARKERS[0]}\nold numbers\n{bench.MARKERS[1]}\n\nafter\n", encoding="utf-8")
    bench.write_readme(MEASURED, readme)
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("# Title\n\nbefore\n\n") and text.endswith("\n\nafter\n")
    assert "old numbers" not in text
    assert "| one baseline replicate (batch: firm agents on demand): <= 60 ms | 51 ms wall, 50 ms CPU | ok |" in text
    assert "sweep parallel efficiency, 1 -> 2 workers (steady state): >= 90% | 93%" in text
    assert "2.3x as long as with the compiled kernels" in text and "load average was 0.4 before" in text
    bench.write_readme(MEASURED, readme)  # again: the same text, the markers kept
    assert readme.read_text(encoding="utf-8") == text


def test_a_readme_without_markers_is_refused(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("no markers\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="performance markers are missing"):
        bench.write_readme(MEASURED, readme)
