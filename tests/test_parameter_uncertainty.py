"""P(target | the drawn values): the interval says how far a chance rests on what is not known."""

from __future__ import annotations

import numpy as np
import pytest

from simulation.experiments.parameter_uncertainty import (
    MIN_REPLICATES, conditional_chances, drawn_values, interval_columns, parameter_interval,
)  # fmt: skip


def world(n: int, effect: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n replicates drawing 30 values; the outcome depends on the first by ``effect`` (logit scale)."""
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(n, 30))
    flags = effect * values[:, 0] + rng.logistic(size=n) > 0
    return flags, values


def test_an_outcome_the_values_decide_gets_a_wide_interval() -> None:
    flags, values = world(400, effect=3.0)
    low, high = parameter_interval(flags, np.ones(400, bool), values)
    assert low < 0.1 and high > 0.9  # knowing the first value would nearly settle it


def test_an_outcome_the_values_do_not_touch_gets_an_interval_near_the_share() -> None:
    flags, values = world(400, effect=0.0)
    low, high = parameter_interval(flags, np.ones(400, bool), values)
    p = flags.mean()
    assert p - 0.1 < low <= p <= high < p + 0.1


def test_the_conditional_chances_average_to_the_share_and_follow_the_value() -> None:
    flags, values = world(400, effect=1.5, seed=3)
    chances = conditional_chances(flags, values)
    assert chances.mean() == pytest.approx(flags.mean(), abs=0.03)
    assert np.corrcoef(chances, values[:, 0])[0, 1] > 0.8


def test_too_few_replicates_or_outcomes_give_no_interval() -> None:
    flags, values = world(MIN_REPLICATES - 1, effect=3.0)
    assert parameter_interval(flags, np.ones(flags.size, bool), values) is None
    flags = np.zeros(200, bool)
    flags[:3] = True  # three hits: the regression has nothing to learn from
    assert parameter_interval(flags, np.ones(200, bool), world(200, 0.0)[1]) is None


def test_invalid_replicates_are_left_out_and_columns_are_units() -> None:
    flags, values = world(300, effect=3.0)
    valid = np.ones((300, 2), bool)
    valid[:250, 1] = False  # the second unit has only 50 usable replicates
    both = np.column_stack([flags, flags])
    low, high = interval_columns(both, valid, values)
    assert np.isfinite(low).all() and np.isfinite(high).all()
    assert (low, high)[0][0] == pytest.approx(parameter_interval(flags, valid[:, 0], values)[0])
    assert not np.isfinite(interval_columns(both, valid & False, values)[0]).any()


def test_drawn_values_keep_the_shared_varying_keys() -> None:
    draws = [{"a": 1.0, "b": 2.0, "c": 5.0}, {"a": 2.0, "b": 2.0, "c": 6.0}, {"a": 3.0, "b": 2.0}]
    assert drawn_values(draws).tolist() == [[1.0], [2.0], [3.0]]  # b never varies, c is not in every replicate


def test_the_terminal_says_where_p_would_lie_if_the_values_were_known() -> None:
    from simulation.reporting.console import key_lines

    hit = {"count": 50, "p": 0.5, "ci_low": 0.4, "ci_high": 0.6}
    data = {"start_year": 2020, "end_year": 2025, "targets": {"emerging_cagr": 10.0},
            "clusters": [{"name_en": "New energy", "hit": {**hit, "parameter_low": 0.21, "parameter_high": 0.83}},
                         {"name_en": "Biomedicine", "hit": hit}],
            "all_emerging": {**hit, "parameter_low": 0.1, "parameter_high": 0.3}}
    (line,) = [x for x in key_lines(data) if x.startswith("If the uncertain values were known")]
    assert "New energy 21–83 %" in line and "all five 10–30 %" in line and "Biomedicine" not in line
    data["clusters"][0]["hit"] = hit
    del data["all_emerging"]["parameter_low"]
    assert not [x for x in key_lines(data) if x.startswith("If the uncertain")]
