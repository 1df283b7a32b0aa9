"""docs/ODD.md describes the code as it is, and no document points outside the repository.

The parameter and programme tables of docs/ODD.md are written by docs/odd_tables.py from the
scenario files, the schema and the model's modules; these tests fail when the code changed and the
tables were not regenerated, or when a new key or constant has no description.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ODD = ROOT / "docs" / "ODD.md"


def _tables():
    spec = importlib.util.spec_from_file_location("odd_tables", ROOT / "docs" / "odd_tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_odd_tables_are_the_current_code() -> None:
    text = ODD.read_text(encoding="utf-8")
    assert _tables().update_document(text) == text, "regenerate: python docs/odd_tables.py"


def test_every_key_constant_and_programme_is_described() -> None:
    missing, stale = _tables().missing_and_stale()
    assert not missing, f"describe these in docs/odd_tables.py: {missing}"
    assert not stale, f"these entries of docs/odd_tables.py name nothing in the code: {stale}"


def test_a_changed_constant_changes_the_tables_and_a_new_one_needs_a_description(monkeypatch) -> None:
    tables = _tables()
    from simulation.model import firm_rules

    monkeypatch.setattr(firm_rules, "IDLE_COST", 0.123)
    assert "| `firm_rules.IDLE_COST` | 0.123 |" in "\n".join(tables.constants_table())
    found = tables.module_constants()
    monkeypatch.setattr(tables, "module_constants", lambda: {**found, "firm_rules.NEW_CONSTANT": 1.0})
    assert "firm_rules.NEW_CONSTANT" in tables.missing_and_stale()[0]
    with pytest.raises(KeyError, match="NEW_CONSTANT"):
        tables.constants_table()


def test_odd_has_the_seven_elements_in_order() -> None:
    headings = re.findall(r"^## (\d)\. (.+)$", ODD.read_text(encoding="utf-8"), re.M)
    assert [title for _, title in headings] == [
        "Purpose and patterns", "Entities, state variables and scales", "Process overview and scheduling",
        "Design concepts", "Initialisation", "Input data", "Submodels",
    ]


def test_the_check_command_reports_stale_tables(tmp_path: Path, capsys) -> None:
    tables = _tables()
    assert tables.main(["--check"]) == 0
    stale = tmp_path / "ODD.md"
    stale.write_text(ODD.read_text(encoding="utf-8").replace("| `firm_rules.IDLE_COST` | 0.1 |",
                                                             "| `firm_rules.IDLE_COST` | 0.2 |"), encoding="utf-8")
    assert tables.main(["--check", "--doc", str(stale)]) == 1 and "out of date" in capsys.readouterr().err
    assert tables.main(["--doc", str(stale)]) == 0 and tables.main(["--check", "--doc", str(stale)]) == 0
    stale.write_text("# no generated blocks\n", encoding="utf-8")
    assert tables.main(["--check", "--doc", str(stale)]) == 2 and "no <!-- odd-tables" in capsys.readouterr().err


# --- no path outside the repository ---------------------------------------------------------

#: an absolute path on a machine (a home or project directory) or a sibling of the repository
OUTSIDE = re.compile(r"(?<![\w.~$}/])/(?:work|shared|home|Users|mnt|scratch)/|\.\./shared\b")


def _shipped_text_files() -> list[Path]:
    tracked = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                             capture_output=True, text=True).stdout.split()
    keep = (".md", ".py", ".toml", ".txt", ".csv", ".cfg", ".ini", "")
    return [ROOT / p for p in tracked if Path(p).suffix in keep and (ROOT / p).is_file()
            and Path(p) != Path("tests/test_odd.py")]


def test_no_document_or_docstring_names_a_path_outside_the_repository() -> None:
    files = _shipped_text_files()
    assert any(f.name == "README.md" for f in files) and any(f.name == "moments.py" for f in files)
    found = []
    for path in files:
        for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if OUTSIDE.search(line):
                found.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not found, "\n".join(found)


def test_the_outside_path_pattern_catches_what_it_should() -> None:
    for bad in ("see /work/shared/docs/evidence.md", "``/work/x``", "../shared/data", "/home/me/clone"):
        assert OUTSIDE.search(bad), bad
    for fine in ("docs/evidence.md", "$HOME/dask/scheduler.json", "/path/to/your/clone", "simulation/data/x.csv",
                 "https://example.org/work/shared/x"):
        assert not OUTSIDE.search(fine), fine
