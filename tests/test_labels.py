"""The label table names every parameter, outcome and lever readers can meet, in both languages, with units."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from simulation.reporting import labels
from simulation.reporting.charts.proof import RAW

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))
CJK = re.compile(r"[\u4e00-\u9fff]")


def leaf_keys(value, prefix: str = "") -> list[str]:
    if isinstance(value, dict) and "dist" not in value:  # a distribution is one value
        return [k for key, v in value.items() for k in leaf_keys(v, f"{prefix}.{key}" if prefix else key)]
    return [prefix]


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_every_key_of_every_shipped_scenario_has_a_label(path) -> None:
    from simulation.scenario import load_scenario

    spec = load_scenario(path).spec.model_dump()
    keys = [k for part in ("simulation", "targets", "levers", "uncertainties") for k in leaf_keys(spec[part], part)]
    missing = [k for k in keys if not labels.has_parameter(k)]
    assert not missing, missing
    for key in keys:
        for lang in ("en", "zh"):
            text = labels.parameter(key, lang).text
            assert not RAW.search(text), (key, lang, text)
        assert CJK.search(labels.parameter(key, "zh").text), key


def test_every_experiment_parameter_has_a_label() -> None:
    for path in sorted((ROOT / "experiments").glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        for name, value in data.get("parameters", {}).items():
            if name == "keys" and isinstance(value, list):  # the assimilation file lists its keys
                keys = value
            else:
                keys = [value["key"] if isinstance(value, dict) and "key" in value else name]  # calibration names keys
            for key in keys:
                assert labels.has_parameter(key), (path.name, key)


def test_every_outcome_a_sweep_or_a_summary_names_has_a_label() -> None:
    from simulation.experiments.experiment_file import analysis_names
    from simulation.experiments.sweep_outcomes import OUTCOME_GROUPS, outcome_columns

    columns = [name for name, _ in outcome_columns(list(OUTCOME_GROUPS))]
    for name in [*analysis_names(columns), "cagr.city", "p_hit.ene", "all_emerging", "public_cost"]:
        assert labels.has_outcome(name), name
        for lang in ("en", "zh"):
            assert not RAW.search(labels.outcome(name, lang).text), (name, lang)


def test_every_unit_and_name_the_table_uses_exists_in_both_languages() -> None:
    table = labels.table()
    for section in ("parameters", "outcomes"):
        for key, row in table[section].items():
            assert row["unit"] in table["units"], (section, key)
            assert row["en"] and CJK.search(row["zh"]), (section, key)
    for section in ("clusters", "scenarios", "levers", "funds", "events", "programmes", "moments", "kinds"):
        for key, row in table[section].items():
            assert row["en"] and row["zh"] and not RAW.search(row["en"]), (section, key)
    for path in SCENARIOS:
        assert path.stem in table["scenarios"], path.stem


def test_units_follow_the_reader() -> None:
    budget = labels.parameter("levers.subsidy.rd_budget", "en")
    assert budget.text == "R&D subsidy budget" and budget.value(10.0, "en") == "1 billion CNY a year"
    assert labels.parameter("levers.subsidy.rd_budget", "zh").value(10.0, "zh") == "10 亿元/年"
    reward = labels.parameter("levers.subsidy.abovescale_entry_reward", "zh")
    assert reward.value(0.1, "zh") == "10 万元/家"
    growth = labels.parameter("uncertainties.demand.growth.semi", "en")
    assert growth.text == "Market growth for Semiconductors" and growth.with_unit("en") == \
        "Market growth for Semiconductors, % a year"
    assert labels.parameter("levers.funds.ic.mandate.semi", "zh").text == "集成电路产业基金投向半导体的比例"
    assert labels.outcome("p_hit.ene", "en").text == labels.outcome("p_hit_ene", "en").text == "P(New energy meets the target)"
    assert labels.outcome("cagr.city", "zh").text == "全市工业年均增长"
    assert labels.parameter("levers.core_zones.zones.bio", "en").value(["songshanlake", "shilong"], "en") == \
        "Songshan Lake, Shilong"
    assert labels.parameter("uncertainties.shocks.events.lockdown_2022_bio.growth_change", "en").text == \
        "2022 lockdown, Biomedicine: change in demand growth"
    # an unknown key still reads as words (a new model key never breaks a chart), and tests can tell
    assert not labels.has_parameter("levers.land.new_thing") and labels.parameter("levers.land.new_thing", "en").text == \
        "Land new thing"


def test_every_public_programme_of_the_ledger_has_a_label() -> None:
    from simulation.model.ledger import PROGRAMMES

    table = labels.table()["programmes"]
    assert set(PROGRAMMES) == set(table)
    assert labels.programme("rd_grants", "en") == "R&D grants" and CJK.search(labels.programme("rd_grants", "zh"))
