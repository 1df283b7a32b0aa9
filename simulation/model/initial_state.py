"""The firm population at the end of the start year, sampled per replicate from the data pack.

Per cluster: above-scale revenue and firm count are drawn from their low-central-high ranges
(clusters.csv); above-scale firm sizes follow a Pareto tail rescaled so they add up to the drawn
revenue exactly; below-scale firms (continuing the Pareto density below 20 M CNY, from 2 M CNY at the lowest) are added in proportion
``below_scale_ratio`` so that firms can cross the 20 M threshold. Firms are placed in towns by the
towns' specialisations (towns.csv, strongest first) and industrial weights (town_weights.csv).
Log-TFP has a permanent and a transient part; the permanent part is rank-correlated with size
(larger firms are more productive; Syverson 2011) and normalised so the cluster's
revenue-weighted mean is 0 in the start year.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from simulation.datapack import ABOVE_SCALE_THRESHOLD, CLUSTERS, town_weights, towns
from simulation.model.firm_rules import (CONSTRAINED_ACCESS, IDLE_COST, MATURE_YEARS, absorptive_capacity, efficiency,
                                         size_factor)
from simulation.model.firm_table import FirmTable

SIZE_PRODUCTIVITY_CORRELATION = 0.1  # ASSUMPTION
BELOW_SCALE_MIN = 2.0  # M CNY a year, the smallest firm modelled
UNRELATED_TOWN_WEIGHT = {"other": 0.3}  # weight where a town does not list the cluster
DEFAULT_UNRELATED = 0.03
CASH_START = 0.05  # cash an incumbent holds, share of its revenue, before what its margin has added ...
CASH_YEARS = 2.0  # ... over this many years (loss-makers start with little cash or in debt)


def location_weights() -> np.ndarray:
    """(town, cluster) weights: a town's industrial weight times 1/rank of the cluster in its list."""
    w = np.zeros((len(towns()), len(CLUSTERS)))
    for i, town in enumerate(towns()):
        for j, c in enumerate(CLUSTERS):
            if c in town.specialisations:
                w[i, j] = 1.0 / (1 + town.specialisations.index(c))
            else:
                w[i, j] = UNRELATED_TOWN_WEIGHT.get(c, DEFAULT_UNRELATED)
    return w * np.array(town_weights())[:, None]


def pareto_sizes(total: float, count: int, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """``count`` sizes >= the above-scale threshold adding up to ``total`` (M CNY), and the tail index."""
    floor = ABOVE_SCALE_THRESHOLD
    mean = total / count
    if mean <= floor * 1.001:
        return np.full(count, mean), 1.25
    alpha = max(1.25, mean / (mean - floor))
    raw = floor * rng.random(count) ** (-1.0 / alpha)
    excess = raw - floor
    return floor + excess * (total - floor * count) / excess.sum(), alpha


def below_scale_sizes(n_above: int, ratio: float, alpha: float, rng: np.random.Generator) -> np.ndarray:
    """``ratio * n_above`` sizes below the threshold, continuing the above-scale Pareto density.

    The band starts where the power law holds that many firms, N(x..20) = N(>20)((20/x)^alpha - 1),
    so the density is continuous at 20 M CNY and firms cross the threshold both ways at
    comparable rates; it never starts below 2 M CNY.
    """
    count = int(round(ratio * n_above))
    top = ABOVE_SCALE_THRESHOLD
    low = max(BELOW_SCALE_MIN, top / (1.0 + ratio) ** (1.0 / alpha))
    tail = (low / top) ** alpha
    u = rng.random(count)
    return low * (1.0 - u * (1.0 - tail)) ** (-1.0 / alpha)


def build_population(
    table: FirmTable,
    baseline: SimpleNamespace,
    behaviour: SimpleNamespace,
    below_scale_ratio: float,
    steps_per_year: int,
    rng: np.random.Generator,
    rd_intensity: np.ndarray,
    run_rate: np.ndarray,
) -> None:
    """The 2020 firms of every cluster, from the 2020 annual figures.

    A firm's drawn revenue is its 2020 annual figure, the statistics' base for 2021
    (``revenue_last``, ``nominal_last``) and its 2020 above-scale status. The model starts at the end
    of 2020, when each cluster ran at ``run_rate`` (a factor per cluster) times its 2020
    average: the firm's revenue, capacity, capital, R&D and cash are set from that run-rate.
    """
    where = location_weights()
    sd_transient = behaviour.productivity_volatility / np.sqrt(max(1e-9, 1.0 - behaviour.productivity_persistence**2))
    for c, cid in enumerate(CLUSTERS):
        total = getattr(baseline.revenue_2020, cid) * 100.0  # 亿 -> M CNY
        n_above = max(int(round(getattr(baseline.abovescale_firms_2020, cid))), 1)
        above, alpha = pareto_sizes(total, n_above, rng)
        below = below_scale_sizes(n_above, below_scale_ratio, alpha, rng)
        revenue = np.concatenate([above, below])
        n = revenue.size
        permanent, transient = _productivity(revenue, behaviour, sd_transient, rng)
        logprod = permanent + transient
        shift = np.average(logprod, weights=revenue)  # the cluster's 2020 frontier is 0
        permanent -= shift
        logprod -= shift
        utilisation = rng.uniform(0.8, 0.95, n)
        # loss-making incumbents exist in 2020 (those in a bad transient spell: see _productivity);
        # their cash shows what their margins have added or taken over the last years
        margin = (behaviour.base_margin + behaviour.margin_slope * logprod  # logprod's weighted mean is 0
                  - IDLE_COST * (1.0 - utilisation))
        state = revenue * run_rate[c]  # the end-2020 run-rate; ``revenue`` stays the 2020 annual figure
        cash = state * (CASH_START + CASH_YEARS * margin)
        losing = margin < 0
        loss_streak = np.where(losing, rng.integers(0, 4, n), 0).astype(np.int32)
        capacity = state / efficiency(0.0) / utilisation  # 2020: the common drift starts at 0
        p = where[:, c] / where[:, c].sum()
        town = rng.choice(len(p), size=n, p=p)
        age_years = np.where(revenue >= ABOVE_SCALE_THRESHOLD, rng.uniform(2, 25, n), rng.exponential(6.0, n))
        age = (age_years * steps_per_year).astype(np.int32)
        # a 2020 incumbent is one its lenders still carry: its debt is within its credit limit
        # (firm_rules.credit_limit), or it would have closed before the start
        capital = behaviour.capital_per_revenue * state / utilisation
        constrained = (age_years < MATURE_YEARS) | (revenue < ABOVE_SCALE_THRESHOLD)
        limit = behaviour.finance_leverage * np.where(constrained, CONSTRAINED_ACCESS, 1.0) * capital
        cash = np.maximum(cash, -limit)
        table.append(
            n,
            cluster=c,
            town=town,
            revenue=state,
            capacity=capacity,
            prod_permanent=permanent,
            prod_transient=transient,
            absorptive=absorptive_capacity(permanent),
            knowledge=1.0,
            logprod=logprod,
            rd=rd_intensity[c] * state,
            rd_base=rd_intensity[c] * state,
            revenue_last=revenue,  # the drawn revenue is the firm's 2020 annual figure (2020 prices)
            nominal_last=revenue,
            cash=cash,
            loss_streak=loss_streak,
            capital=capital,
            age=age,
            above_scale=revenue >= ABOVE_SCALE_THRESHOLD,
            rewarded=revenue >= ABOVE_SCALE_THRESHOLD,
            birth_step=-age,
        )


def _productivity(
    revenue: np.ndarray, behaviour: SimpleNamespace, sd_transient: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Permanent and transient log-TFP of incumbents, rank-correlated with size.

    Incumbents in 2020 are survivors of selection on their long-run productivity: a firm whose
    *permanent* log-TFP is more than base_margin / margin_slope below its cluster's revenue-weighted
    mean (the 0 of the model's log-TFP once shifted, see build_population) could never cover its
    costs and would have exited, so such draws are redrawn (a truncated distribution; the mean
    moves with the redraws, so the line is recomputed each round). The transient part is free:
    firms that are having a bad spell make losses in 2020 (loss-makers are a normal part of an
    industrial population) and carry on while they can finance them.
    """
    n = revenue.size
    log_size = np.log(revenue)
    z_size = (log_size - log_size.mean()) / max(log_size.std(), 1e-9)
    rho = SIZE_PRODUCTIVITY_CORRELATION
    break_even = -behaviour.base_margin / max(behaviour.margin_slope, 1e-9)
    permanent = np.empty(n)
    transient = np.empty(n)
    todo = np.arange(n)
    for _ in range(100):
        k = todo.size
        permanent[todo] = behaviour.productivity_dispersion * (
            rho * z_size[todo] + np.sqrt(1 - rho**2) * rng.standard_normal(k)
        )
        transient[todo] = sd_transient * size_factor(revenue[todo], behaviour) * rng.standard_normal(k)
        floor = break_even + np.average(permanent + transient, weights=revenue)  # against the shifted mean
        todo = np.flatnonzero(permanent < floor)
        if todo.size == 0:
            break
    return permanent, transient
