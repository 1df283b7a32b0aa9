"""Loading scenario files: extends, --set overrides, the resolved text, and every error."""

from __future__ import annotations

import os
import pickle
import textwrap
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulation.scenario import Scenario, ScenarioError, load_scenario, parse_set_option
from simulation.scenario.distributions import Distribution

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml"


def write(directory: Path, body: str, name: str = "s.toml", extends: str | None = BASELINE.as_posix()) -> Path:
    """A scenario file: ``extends`` the real baseline (line 1) unless told otherwise, then body."""
    head = f'extends = "{extends}"\n' if extends else ""
    path = directory / name
    path.write_text(head + textwrap.dedent(body), encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def error(path: Path, overrides: list[str] = ()) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, overrides)
    return info.value


# --- loading --------------------------------------------------------------------------------


def test_baseline_loads() -> None:
    s = load_scenario(BASELINE)
    assert isinstance(s, Scenario)
    assert s.name == "baseline"
    assert s.sources == (BASELINE,)
    assert s.overrides == ()
    assert s.spec.simulation.replicates == 400
    assert s.spec.levers.land.floor_multiplier == 3.4
    assert set(s.spec.levers.funds) == {"guidance", "ic", "ma"}
    assert "extends" not in tomllib.loads(s.text)


def test_resolved_text_loads_to_the_same_scenario(tmp_path: Path) -> None:
    s = load_scenario(BASELINE, ["levers.land.floor_multiplier=4.5"])
    resolved = write(tmp_path, s.text, extends=None)
    again = load_scenario(resolved)
    assert again.spec == s.spec
    assert again.sha256 == s.sha256


def test_extends_chain_and_precedence(tmp_path: Path) -> None:
    relative = os.path.relpath(BASELINE, tmp_path)  # extends resolves against the extending file
    write(tmp_path, "[levers.land]\nfloor_multiplier = 4.0\n[simulation]\nreplicates = 100\n", "mid.toml", relative)
    child = write(tmp_path, "[simulation]\nreplicates = 200\n", "child.toml", "mid.toml")

    s = load_scenario(child)
    assert s.sources == (child, tmp_path / "mid.toml", tmp_path / relative)
    assert s.name == "child"
    assert s.spec.simulation.replicates == 200  # child over parent
    assert s.spec.levers.land.floor_multiplier == 4.0  # parent over grandparent
    assert s.spec.levers.land.min_project_mu == 75  # grandparent
    assert load_scenario(child, ["simulation.replicates=300"]).spec.simulation.replicates == 300  # --set last


def test_tables_merge_but_inline_tables_replace(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        [levers.funds.guidance]
        mandate = { semi = 1.0 }
        [levers.core_zones]
        zones.semi = ["tangxia"]
        [uncertainties.demand]
        volatility = { dist = "uniform", low = 1.0, high = 2.0 }
        """,
    )
    spec = load_scenario(path).spec
    assert spec.levers.funds["guidance"].mandate == {"semi": 1.0}
    assert spec.levers.core_zones.zones["semi"] == ["tangxia"]
    assert spec.levers.core_zones.zones["tex"] == ["humen", "dalang"]
    assert spec.uncertainties.demand.volatility == Distribution("uniform", (("low", 1.0), ("high", 2.0)))


@pytest.mark.parametrize(
    ("option", "get", "expected"),
    [
        ("levers.land.floor_multiplier=3.0", lambda s: s.levers.land.floor_multiplier, 3.0),
        ("levers.land.enabled=false", lambda s: s.levers.land.enabled, False),
        ("simulation.replicates=50", lambda s: s.simulation.replicates, 50),
        ('levers.core_zones.zones.semi=["tangxia"]', lambda s: s.levers.core_zones.zones["semi"], ["tangxia"]),
        ("levers.funds.ic.mandate={ semi = 0.5 }", lambda s: s.levers.funds["ic"].mandate, {"semi": 0.5}),
        ("description=a plain string", lambda s: s.description, "a plain string"),
    ],
)
def test_set_overrides(option: str, get, expected) -> None:
    s = load_scenario(BASELINE, [option])
    assert get(s.spec) == expected
    assert s.overrides == (option,)


def test_set_can_add_a_fund() -> None:
    fund = (
        "{ enabled = true, target_size = 1.0, mandate = { bio = 1.0 }, investment_years = 2,"
        " max_ticket = 0.1, holding_years = 3, backs_chain_leaders = false }"
    )
    spec = load_scenario(BASELINE, [f"levers.funds.new={fund}"]).spec
    assert spec.levers.funds["new"].mandate == {"bio": 1.0}


def test_parse_set_option() -> None:
    assert parse_set_option("a.b = 1") == (("a", "b"), 1)
    assert parse_set_option("a=x=y") == (("a",), "x=y")


def test_hash_is_stable_and_follows_values(tmp_path: Path) -> None:
    path = write(tmp_path, "[levers.land]\nfloor_multiplier = 4.0\n")
    first, second = load_scenario(path), load_scenario(path)
    assert first.text == second.text
    assert first.sha256 == second.sha256
    assert load_scenario(path, ["levers.land.floor_multiplier=4.1"]).sha256 != first.sha256
    write(tmp_path, "[levers.land]\nfloor_multiplier = 4.2\n")
    assert load_scenario(path).sha256 != first.sha256


# --- errors ---------------------------------------------------------------------------------


def test_toml_syntax_error(tmp_path: Path) -> None:
    path = write(tmp_path, "[levers.land]\nfloor_multiplier = = 3\n")
    e = error(path)
    assert (e.file, e.line) == (path, 3)
    assert "TOML syntax error" in e.message and "column" in e.message


def test_unknown_key_suggests_the_closest(tmp_path: Path) -> None:
    path = write(tmp_path, "[levers.land]\nflor_multiplier = 3.0\n")
    e = error(path)
    assert (e.file, e.key, e.line) == (path, "levers.land.flor_multiplier", 3)
    assert "did you mean 'floor_multiplier'?" in e.message
    assert str(e) == f"{path}: levers.land.flor_multiplier (line 3): unknown key; did you mean 'floor_multiplier'?"


@pytest.mark.parametrize(
    ("body", "key", "line", "suggestion"),
    [
        ("[lever.land]\nenabled = false\n", "lever", 2, "levers"),
        ("[levers.funds.ic]\nmandat = { semi = 1.0 }\n", "levers.funds.ic.mandat", 3, "mandate"),  # free fund names
        ("uncertainties.baseline.revenue_2020.ngeii = 1.0\n", "uncertainties.baseline.revenue_2020.ngeii", 2, "ngei"),
    ],
)
def test_unknown_keys_anywhere(tmp_path: Path, body: str, key: str, line: int, suggestion: str) -> None:
    e = error(write(tmp_path, body))
    assert (e.key, e.line) == (key, line)
    assert f"did you mean {suggestion!r}" in e.message


def test_unknown_key_without_a_close_match_lists_allowed(tmp_path: Path) -> None:
    e = error(write(tmp_path, "[levers.land]\nzzz = 1\n"))
    assert "allowed here: enabled, redevelopment_mu_per_year" in e.message


@pytest.mark.parametrize(
    ("body", "key", "expected"),
    [
        ('[levers.land]\nfloor_multiplier = "3.4"\n', "levers.land.floor_multiplier", 'expected a number; got "3.4"'),
        ("[simulation]\nreplicates = true\n", "simulation.replicates", "expected a whole number"),
        ("[simulation]\nreplicates = 50.0\n", "simulation.replicates", "got 50.0"),
        ("[levers.land]\nenabled = 1\n", "levers.land.enabled", "expected true or false; got 1"),
        ("[levers]\nland = 3\n", "levers.land", "expected a table"),
        ('[levers.core_zones]\nzones.semi = "tangxia"\n', "levers.core_zones.zones.semi", "expected a list"),
    ],
)
def test_wrong_type(tmp_path: Path, body: str, key: str, expected: str) -> None:
    e = error(write(tmp_path, body))
    assert (e.key, e.line) == (key, 3)
    assert expected in e.message


@pytest.mark.parametrize(
    ("body", "key", "expected"),
    [
        ("[levers.talent]\nsubsidy = -0.01\n", "levers.talent.subsidy", "must be at least 0 and at most 10; got -0.01 (M CNY"),
        ("[levers.subsidy]\nmax_share_of_rd = 1.5\n", "levers.subsidy.max_share_of_rd", "at least 0 and at most 1; got 1.5"),
        ("[levers.land]\nfloor_multiplier = -3.4\n", "levers.land.floor_multiplier", "greater than 0 and at most 20; got -3.4"),
        ("[simulation]\nreplicates = 0\n", "simulation.replicates", "at least 1 and at most 100000; got 0"),
        ("[simulation]\nreplicates = 100001\n", "simulation.replicates", "at most 100000; got 100001"),
        ("[simulation]\nend_year = 2019\n", "simulation.end_year", "must be at least 2021 and at most 2050; got 2019"),
        ("[levers.funds.ic]\nmandate = { semi = 1.5 }\n", "levers.funds.ic.mandate.semi", "at most 1; got 1.5"),
        ("[uncertainties.demand]\nvolatility = -1.0\n", "uncertainties.demand.volatility", "must be at least 0 and at most 50; got -1.0"),
    ],
)
def test_out_of_range(tmp_path: Path, body: str, key: str, expected: str) -> None:
    e = error(write(tmp_path, body))
    assert (e.key, e.line) == (key, 3)
    assert expected in e.message


def test_schema_validator_messages_pass_through(tmp_path: Path) -> None:
    e = error(write(tmp_path, "[levers.funds.guidance]\nmandate.semi = 0.9\n"))
    assert (e.key, e.line) == ("levers.funds.guidance.mandate", 3)
    assert e.message == "mandate shares add up to 1.65; they must add up to at most 1"


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ("[levers.land]\nfloor_multiplier = nan\n", "levers.land.floor_multiplier"),
        (
            '[uncertainties.demand]\nvolatility = { dist = "uniform", low = 0.0, high = inf }\n',
            "uncertainties.demand.volatility.high",
        ),
    ],
)
def test_nan_and_infinity(tmp_path: Path, body: str, key: str) -> None:
    e = error(write(tmp_path, body))
    assert (e.key, e.line) == (key, 3)
    assert "must be a finite number" in e.message


def test_missing_file_and_directory(tmp_path: Path) -> None:
    e = error(tmp_path / "nope.toml")
    assert (e.file, e.key, e.line, e.message) == (tmp_path / "nope.toml", None, None, "file not found")
    assert "is a directory" in error(tmp_path).message


def test_missing_extends_target(tmp_path: Path) -> None:
    path = write(tmp_path, "", extends="nope.toml")
    e = error(path)
    assert (e.file, e.key, e.line) == (path, "extends", 1)
    assert "file to extend not found" in e.message and "nope.toml" in e.message


def test_extends_must_be_a_string(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text("extends = 3\n")
    assert (error(path).key, error(path).line) == ("extends", 1)


def test_circular_extends(tmp_path: Path) -> None:
    a = write(tmp_path, "", "a.toml", "b.toml")
    write(tmp_path, "", "b.toml", "a.toml")
    e = error(a)
    assert (e.file, e.key, e.line) == (tmp_path / "b.toml", "extends", 1)
    assert e.message == "circular extends: a.toml -> b.toml -> a.toml"
    loop = write(tmp_path, "", "self.toml", "self.toml")
    assert error(loop).message == "circular extends: self.toml -> self.toml"


@pytest.mark.parametrize("content", [b"", b"   \n", b"# only a comment\n"])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.toml"
    path.write_bytes(content)
    assert "the file is empty" in error(path).message


def test_binary_and_non_utf8_files(tmp_path: Path) -> None:
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    assert "binary file" in error(binary).message
    latin = tmp_path / "latin.toml"
    latin.write_bytes(b'extends = "baseline.toml"\ndescription = "caf\xe9"\n')
    e = error(latin)
    assert e.line == 2 and "not UTF-8" in e.message


def test_missing_key_without_extends_hints_at_it(tmp_path: Path) -> None:
    path = write(tmp_path, "[simulation]\nreplicates = 10\n", extends=None)
    e = error(path)
    assert (e.file, e.key) == (path, "description")
    assert 'missing required key; start the file with extends = "baseline.toml"' == e.message


def test_missing_key_in_an_inline_table_that_replaced_one(tmp_path: Path) -> None:
    path = write(tmp_path, "[levers]\nland = { enabled = false }\n")
    e = error(path)
    assert (e.key, e.line) == ("levers.land.redevelopment_mu_per_year", 3)
    assert e.message == "missing required key"


def test_error_is_reported_in_the_file_that_sets_the_key(tmp_path: Path) -> None:
    mid = write(tmp_path, "description = 'mid'\n[targets]\nemerging_cagr = 500.0\n", "mid.toml")
    child = write(tmp_path, "[simulation]\nreplicates = 10\n", "child.toml", "mid.toml")
    e = error(child)
    assert (e.file, e.key, e.line) == (mid, "targets.emerging_cagr", 4)


def test_error_in_a_set_override() -> None:
    e = error(BASELINE, ["levers.land.floor_multiplier=-1"])
    assert (e.file, e.key, e.line) == (BASELINE, "levers.land.floor_multiplier", None)
    assert e.override == "levers.land.floor_multiplier=-1"
    assert str(e) == (
        f"{BASELINE}: levers.land.floor_multiplier (--set levers.land.floor_multiplier=-1):"
        " must be greater than 0 and at most 20; got -1"
    )
    e = error(BASELINE, ["simulation.start_year=2030"])  # the data describe 2020
    assert (e.key, e.override) == ("simulation.start_year", "simulation.start_year=2030")
    assert e.message.startswith("must be 2020, the year the data pack describes")
    e = error(BASELINE, ["levers.land.enabled.x=1"])
    assert "not a table" in e.message
    e = error(BASELINE, ["levers.lnd.enabled=false"])
    assert (e.key, e.override) == ("levers.lnd", "levers.lnd.enabled=false")
    assert "did you mean 'land'?" in e.message


@pytest.mark.parametrize("option", ["levers.land.floor_multiplier", "=3", "levers..land=3", " =3"])
def test_malformed_set_option(option: str) -> None:
    e = error(BASELINE, [option])
    assert (e.override, e.key, e.line) == (option, None, None)
    assert str(e) == f"--set {option}: expected KEY=VALUE, such as levers.land.floor_multiplier=3.0"


def test_error_survives_pickling(tmp_path: Path) -> None:
    e = error(write(tmp_path, "[levers.land]\nflor_multiplier = 3.0\n"))
    assert str(pickle.loads(pickle.dumps(e))) == str(e)


# --- property -------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    floor=st.floats(min_value=0.0, max_value=20.0, exclude_min=True),
    share=st.floats(min_value=0.0, max_value=1.0),
    replicates=st.integers(min_value=1, max_value=100_000),
    cagr=st.floats(min_value=-50.0, max_value=100.0),
    volatility=st.lists(st.floats(min_value=0.0, max_value=50.0), min_size=2, max_size=2).map(sorted),
)
def test_valid_values_round_trip(
    floor: float, share: float, replicates: int, cagr: float, volatility: list[float]
) -> None:
    low, high = volatility
    s = load_scenario(
        BASELINE,
        [
            f"levers.land.floor_multiplier={floor!r}",
            f"levers.subsidy.max_share_of_rd={share!r}",
            f"simulation.replicates={replicates}",
            f"targets.emerging_cagr={cagr!r}",
            f'uncertainties.demand.volatility={{ dist = "uniform", low = {low!r}, high = {high!r} }}',
        ],
    )
    spec, resolved = s.spec, tomllib.loads(s.text)
    assert spec.levers.land.floor_multiplier == floor == resolved["levers"]["land"]["floor_multiplier"]
    assert spec.levers.subsidy.max_share_of_rd == share == resolved["levers"]["subsidy"]["max_share_of_rd"]
    assert spec.simulation.replicates == replicates == resolved["simulation"]["replicates"]
    assert spec.targets.emerging_cagr == cagr == resolved["targets"]["emerging_cagr"]
    assert spec.uncertainties.demand.volatility == Distribution("uniform", (("low", low), ("high", high)))


# --- the calibration section ------------------------------------------------------------------

SECTION = """
[calibration]
experiment = "calibrate.toml"
record = "record.md"
seed = 5

[calibration.values]
"uncertainties.behaviour.spinoff_rate" = {dist = "uniform", low = 0.05, high = 0.06}
"uncertainties.baseline.revenue_2020.semi" = 222.0
"""


def test_calibration_section_replaces_the_values_it_names(tmp_path: Path) -> None:
    calibrated = write(tmp_path, SECTION, "cal.toml")
    spec = load_scenario(calibrated).spec
    assert spec.uncertainties.behaviour.spinoff_rate == Distribution("uniform", (("low", 0.05), ("high", 0.06)))
    assert spec.uncertainties.baseline.revenue_2020.semi.central == 222.0
    assert spec.calibration.seed == 5
    # the calibration's own view: the priors, and no section
    priors = load_scenario(calibrated, calibrated=False).spec
    assert priors.uncertainties.behaviour == load_scenario(BASELINE, calibrated=False).spec.uncertainties.behaviour
    assert priors.calibration is None
    # a child file and --set still change a calibrated value
    child = write(tmp_path, "[uncertainties.behaviour]\nspinoff_rate = 0.2\n", "child.toml", extends="cal.toml")
    assert load_scenario(child).spec.uncertainties.behaviour.spinoff_rate.central == 0.2
    assert load_scenario(child).spec.uncertainties.baseline.revenue_2020.semi.central == 222.0
    over = load_scenario(calibrated, ["uncertainties.behaviour.spinoff_rate=0.3"])
    assert over.spec.uncertainties.behaviour.spinoff_rate.central == 0.3


@pytest.mark.parametrize("value, message", [
    ('"uncertainties.behaviour.no_such_rate" = 0.1', "names no value of the scenario"),
    ('"uncertainties.behaviour.exit_hazard_young" = -0.1', "must be at least 0 and at most 1; got -0.1"),
])  # fmt: skip
def test_bad_calibration_value_names_its_line(tmp_path: Path, value: str, message: str) -> None:
    body = SECTION.replace('"uncertainties.baseline.revenue_2020.semi" = 222.0', value)
    path = write(tmp_path, body, "cal.toml")
    err = error(path)
    assert message in err.message and err.file == path
    assert err.line == line_of(path, value.split(" =")[0])
