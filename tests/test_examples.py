"""The examples run as a user would run them: the quick-start notebook (nbclient) and the EMA Workbench script."""

from __future__ import annotations

import math
import runpy
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def test_quickstart_notebook_executes(tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    notebook = nbformat.read(EXAMPLES / "quickstart.ipynb", as_version=4)
    assert not any(cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")  # kept clean
    # run from examples/, as Jupyter opens it there (the notebook moves to the repository's root)
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(EXAMPLES)}})
    client.execute()  # raises CellExecutionError on any failing cell
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    kinds = {key for o in outputs for key in o.get("data", {})}
    assert "image/png" in kinds  # the plot
    assert "application/vnd.jupyter.widget-view+json" in kinds  # the progress bar, as a Jupyter widget
    texts = "\n".join(o.get("data", {}).get("text/plain", "") for o in outputs)
    assert "Semiconductors and integrated circuits" in texts and "data.parquet" in texts


def test_ema_workbench_example(tmp_path: Path) -> None:
    pytest.importorskip("ema_workbench")
    script = EXAMPLES / "ema_experiment.py"
    assert len(script.read_text(encoding="utf-8").splitlines()) < 30
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [line.split() for line in done.stdout.splitlines()[1:] if line.strip()]
    assert len(rows) == 8  # 4 scenarios x 2 policies
    assert all(len(r) == 1 + 4 + 3 and all(math.isfinite(float(x)) for x in r[1:]) for r in rows), done.stdout
    assert len({r[-1] for r in rows}) > 1  # the fiscal cost responds to the levers and uncertainties
    # the wrapped function itself: outcomes EMA Workbench asks for, for given inputs
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        example = runpy.run_path(str(script), run_name="example")
    deprecated = [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning | FutureWarning)]
    assert not deprecated, deprecated  # no deprecated EMA Workbench API (such as names that are not identifiers)
    out = example["dongguan"](floor_multiplier=3.0, talent_subsidy=0.0, demand_volatility=3.0, pipeline_conversion=0.6)
    assert set(example["OUTCOMES"]) <= set(out) and out["cost_talent_subsidy"] == 0.0


def test_readme_python_section_runs(tmp_path: Path, monkeypatch) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Python\n", 1)[1].split("\n## ", 1)[0]
    assert len(section.strip().splitlines()) <= 15
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    (tmp_path / "scenarios").symlink_to(ROOT / "scenarios")
    monkeypatch.chdir(tmp_path)  # as from a clone's root; results/ goes to the temporary folder
    namespace: dict = {}
    exec(compile(code.replace("replicates=40", "replicates=3"), "README.md", "exec"), namespace)  # faster
    assert (tmp_path / "results" / "baseline-40" / "summary.csv").is_file()
    assert len(namespace["results"].replicates) == 3 and namespace["model"].steps == 1
