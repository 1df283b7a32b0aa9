"""Skilled talent: inflow by logit location choice, attrition, and the talent subsidy.

Skilled workers choose among Dongguan, Shenzhen and Guangzhou by a logit over log income
(Liu & Shen 2014; Su, Hua & Liang 2019). A subsidy raises Dongguan's income for the workers it
covers; the outside options match part of it (Dawid, Harting & Neugart 2014), so the inflow
rises by the ratio of Dongguan's new to old choice share. New talent goes to towns in
proportion to their skilled employment.
"""

from __future__ import annotations

import math

import numpy as np

#: Dongguan's share of the skilled movers choosing among the three cities (ASSUMPTION).
BASE_SHARE = 0.3


def inflow_multiplier(subsidy: float, coverage: float, income: float, beta: float, outside_match: float) -> float:
    """Ratio of Dongguan's logit choice share with the subsidy to without it."""
    effective = subsidy * coverage * (1.0 - outside_match)
    if effective <= 0:
        return 1.0
    gain = math.exp(beta * math.log1p(effective / income))
    return gain / (BASE_SHARE * gain + 1.0 - BASE_SHARE)


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
