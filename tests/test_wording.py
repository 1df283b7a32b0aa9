"""The wording rules: a claim only when its interval supports it, rankings only when intervals separate."""

from __future__ import annotations

import numpy as np
import pytest

from simulation.reporting import wording
from simulation.reporting.wording import Chance, verdict


@pytest.mark.parametrize(
    ("p", "low", "high", "expected"),
    [
        (0.56, 0.46, 0.65, "about_even"),  # the case: not "more likely than not"
        (0.59, 0.54, 0.64, "more_likely_than_not"),
        (0.53, 0.50, 0.56, "about_even"),  # a lower end of exactly 0.5 is not above it
        (0.53, 0.5001, 0.56, "more_likely_than_not"),
        (0.70, 0.66, 0.74, "likely"),  # "likely" from a lower end of 0.66 up
        (0.70, 0.6599, 0.74, "more_likely_than_not"),
        (0.93, 0.90, 0.95, "very_likely"),
        (0.995, 0.99, 1.0, "virtually_certain"),
        (0.45, 0.40, 0.49, "less_likely_than_not"),
        (0.45, 0.40, 0.50, "about_even"),  # an upper end of exactly 0.5 is not below it
        (0.25, 0.20, 0.33, "unlikely"),
        (0.05, 0.02, 0.10, "very_unlikely"),
        (0.0, 0.0, 0.01, "exceptionally_unlikely"),
        (0.55, 0.20, 0.80, "uncertain"),  # straddles 0.5 beyond [0.33, 0.66]: say the range instead
        (0.50, 0.30, 0.62, "uncertain"),
    ],
)
def test_verdict_follows_the_interval_not_the_point(p, low, high, expected) -> None:
    assert verdict(Chance(p, low, high)) == expected


def test_a_parameter_interval_widens_the_verdict() -> None:
    mc_only = Chance(0.80, 0.76, 0.84)
    with_parameters = Chance(0.80, 0.76, 0.84, parameter_low=0.55, parameter_high=0.95)
    assert verdict(mc_only) == "likely"
    assert verdict(with_parameters) == "more_likely_than_not"
    assert with_parameters.bounds == (0.55, 0.95)
    text = wording.chance_text(with_parameters, "en")
    assert "Monte-Carlo 95 % CI 0.76–0.84" in text and "incl. parameter uncertainty 0.55–0.95" in text


def test_chance_from_a_summary_block() -> None:
    block = {"count": 237, "p": 0.5925, "ci_low": 0.5437, "ci_high": 0.6396}
    c = Chance.from_block(block)
    assert (c.p, c.low, c.high, c.has_parameter_interval) == (0.5925, 0.5437, 0.6396, False)
    assert Chance.from_block(None) is None and Chance.from_block({"p": None}) is None
    c = Chance.from_block({**block, "parameter_low": 0.4, "parameter_high": 0.8})
    assert c.has_parameter_interval and verdict(c) == "uncertain"


def test_claims_in_both_languages() -> None:
    even = Chance(0.56, 0.46, 0.65)
    assert wording.claim(even, "Biomedicine", "grow 10 % a year", "en") == \
        "Biomedicine is about as likely as not to grow 10 % a year"
    assert wording.claim(even, "生物医药", "实现年均增长10%", "zh") == "生物医药实现年均增长10%的可能性约为一半"
    likely = Chance(0.8, 0.76, 0.84)
    assert wording.claim(likely, "New energy", "grow 10 % a year", "en", title=True) == "New energy: likely to grow 10 % a year"
    assert wording.claim(likely, "新能源", "实现年均增长10%", "zh") == "新能源较有可能实现年均增长10%"
    unsure = Chance(0.5, 0.2, 0.8)
    assert wording.claim(unsure, "Semiconductors", "grow 10 % a year", "en") == "Semiconductors may or may not grow 10 % a year"
    assert wording.claim(unsure, "半导体", "实现年均增长10%", "zh") == "半导体能否实现年均增长10%尚难判断"


def test_group_claims_never_lump_a_weaker_verdict_with_a_stronger_one() -> None:
    items = [("A", Chance(0.97, 0.95, 0.98)), ("B", Chance(0.8, 0.76, 0.84)), ("C", Chance(0.56, 0.46, 0.65)),
             ("D", Chance(0.85, 0.81, 0.88))]
    en = wording.group_claims(items, "grow 10 % a year", "en")
    assert en == "A is very likely to grow 10 % a year, B and D are likely to, and C is about as likely as not to"
    zh = wording.group_claims([(n.lower(), c) for n, c in items], "达标", "zh", "四个产业")
    assert zh == "四个产业能否达标：a很可能；b和d较有可能；c可能性约为一半"
    assert "5 个" not in zh and "中有" not in zh


def test_rankings_need_separated_intervals() -> None:
    assert wording.ranks_above((0.948, 0.983), (0.895, 0.947))
    assert not wording.ranks_above((0.90, 0.98), (0.85, 0.92))
    # 9.0 % over 8.9 % with overlapping intervals: a tie, not a ranking
    tied = wording.leaders({"a": (9.0, 7.0, 11.0), "b": (8.9, 6.9, 10.9), "c": (3.0, 2.0, 4.0)})
    assert tied == ["a", "b"]
    assert wording.leaders({"a": (9.0, 8.5, 9.5), "b": (8.0, 7.5, 8.4)}) == ["a"]
    # a tornado tie: ST 0.42 [0.35, 0.50] and 0.40 [0.33, 0.47] do not set the first apart
    assert wording.leaders({"x": (0.42, 0.35, 0.50), "y": (0.40, 0.33, 0.47), "z": (0.05, 0.01, 0.09)}) == ["x", "y"]
    # paired per replicate: A ahead in 55 % of 400 runs is not enough to rank it; 80 % is
    assert not wording.beats(wording.share_chance(220, 400))
    assert wording.beats(wording.share_chance(320, 400))


def test_share_chance_is_the_summary_wilson_interval() -> None:
    from simulation.experiments.summary import wilson_interval

    for n in (1, 7, 40, 400):
        for k in sorted({0, 1, n // 3, n // 2, n - 1, n}):
            low, high = wilson_interval(k, n)
            c = wording.share_chance(k, n)
            assert c.p == pytest.approx(k / n)
            np.testing.assert_allclose([c.low, c.high], [low, high], atol=1e-12)


@pytest.mark.parametrize(
    ("yi", "en", "zh"),
    [
        (29311, "2.93 trillion CNY", "2.93 万亿元（29,311 亿元）"),
        (456, "45.6 billion CNY", "456 亿元"),
        (10, "1 billion CNY", "10 亿元"),
        (0.3, "30 million CNY", "3,000 万元"),
    ],
)
def test_money_reads_as_one_number(yi, en, zh) -> None:
    assert wording.money(yi, "en") == en and wording.money(yi, "zh") == zh
    assert "100 million" not in wording.money(yi, "en")


def test_counts_and_lists_read_naturally() -> None:
    assert wording.count(4, "en") == "four" and wording.count(5, "zh") == "五" and wording.count(2, "zh") == "两"
    assert wording.count(34, "zh") == "34"
    assert wording.join(["A", "B", "C"], "en") == "A, B and C"
    assert wording.join(["甲", "乙", "丙"], "zh") == "甲、乙和丙"
    assert wording.pct(-1.25, "en") == "\u22121.2 %" and wording.pct(6.8, "zh") == "6.8%"
