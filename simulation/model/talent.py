"""Skilled talent: inflow by logit location choice, attrition, a scarcity premium, the talent subsidy.

Skilled workers choose among Dongguan, Shenzhen and Guangzhou by a logit over log income
(Liu & Shen 2014; Su, Hua & Liang 2019). Two things raise Dongguan's income for them:
- a scarcity premium: when firms cannot find the talent they want, skilled wages rise (by
  ``wage_response`` times the unfilled demand, as a share of skilled employment, a year) and
  ease back when they can; the premium is a cost to every firm in proportion to its skilled
  wage bill, and the other cities do not match it;
- the subsidy, for the workers it covers; the outside options match part of it (Dawid, Harting &
  Neugart 2014).
The inflow rises by the ratio of Dongguan's new to old choice share. New talent goes to towns in
proportion to their skilled employment.
"""

from __future__ import annotations

import math

import numpy as np

#: Dongguan's share of the skilled movers choosing among the three cities (ASSUMPTION).
BASE_SHARE = 0.3


PREMIUM_EASING = 0.5  # a year: share of the scarcity premium that fades when no demand goes unfilled
MAX_PREMIUM = 1.0  # the premium is bounded at doubled skilled wages


def choice_multiplier(income_gain: float, beta: float) -> float:
    """Ratio of Dongguan's logit choice share when its income rises by ``income_gain`` (a share) to without."""
    if income_gain <= 0:
        return 1.0
    gain = math.exp(beta * math.log1p(income_gain))
    return gain / (BASE_SHARE * gain + 1.0 - BASE_SHARE)


def subsidy_gain(subsidy: float, coverage: float, income: float, outside_match: float) -> float:
    """The rise in a covered skilled worker's income, as a share, that the other cities do not match."""
    return subsidy * coverage * (1.0 - outside_match) / income


def update_premium(premium: float, unfilled: float, employed: float, wage_response: float, dt: float) -> float:
    """The scarcity premium after a step with ``unfilled`` skilled workers wanted and not found."""
    pressure = wage_response * unfilled / max(employed, 1.0)  # unfilled demand as a share of employment
    return min(max(premium * (1.0 - PREMIUM_EASING * dt) + pressure, 0.0), MAX_PREMIUM)


def talent_step(
    free: np.ndarray,
    employed: np.ndarray,
    inflow_rate: float,
    attrition_rate: float,
    multiplier: float,
    graduates: float,
    dt: float,
) -> np.ndarray:
    """New free pool per town after one step of inflow and attrition."""
    stock = free + employed
    inflow = inflow_rate * dt * stock.sum() * multiplier + graduates * dt
    share = (employed + 1.0) / (employed + 1.0).sum()
    return np.maximum(free + inflow * share - attrition_rate * dt * stock, 0.0)
