"""experiments/verdict.py: the README's verdict block says what summary.json holds, and only that."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from _chart_results import small_results

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def verdict():
    spec = importlib.util.spec_from_file_location("verdict", ROOT / "experiments" / "verdict.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_block_has_a_row_per_target_with_the_summary_numbers(verdict, tmp_path_factory) -> None:
    folder = small_results(tmp_path_factory)
    data = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    text = verdict.block(folder)
    rows = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| cluster")]
    assert len(rows) == 4 + 5 + 2  # pillars, emerging, the city, all five
    for r in data["clusters"]:
        if r["kind"] == "emerging":
            (row,) = [x for x in rows if x.startswith(f"| {r['name_en']} |")]
            assert f"{100 * r['hit']['p']:.0f} % [{100 * r['hit']['ci_low']:.0f}–{100 * r['hit']['ci_high']:.0f}]" in row
            effect = next(e for e in data["counterfactual"]["clusters"] if e["cluster"] == r["cluster"])
            assert f"{effect['cagr']['mean']:+.2f}" in row
    assert "In words" in text and "all five together" in text


def test_the_readme_block_is_replaced_between_its_markers(verdict, tmp_path, monkeypatch) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"before\n{verdict.START}\nold\n{verdict.END}\nafter\n", encoding="utf-8")
    monkeypatch.setattr(verdict, "ROOT", tmp_path)
    monkeypatch.setattr(verdict, "block", lambda folder: "new")
    monkeypatch.setattr("sys.argv", ["verdict.py", str(tmp_path), "--readme"])
    verdict.main()
    assert readme.read_text(encoding="utf-8") == f"before\n{verdict.START}\nnew\n{verdict.END}\nafter\n"
