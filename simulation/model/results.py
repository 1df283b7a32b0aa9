"""What one replicate returns: series per cluster, town and city, and the drawn parameters.

Metric kinds say how quarterly values become annual ones:
``rate`` an annualised flow (annual value = mean of the year's steps), ``stock`` a level at the
end of a step (annual = end of year), ``flow`` an amount within a step (annual = sum), ``annual``
a statistic of the whole calendar year, computed at its last step (annual = that value; the other
steps hold NaN). Step 0 is the start-year state; for rates and stocks it stands for the start year
itself; flows and annual statistics have no start-year value (NaN).

The ``annual`` metrics are the statistics' own basis (see docs/FORECASTING.md): a firm is above
scale in a year when its current-price revenue *for the year* is at least 20 M CNY; value-added
growth is real and on the comparable-firm basis (同口径: this year's above-scale firms against the
same firms' previous year, among firms alive through both years); upgrades are firms above scale
this year that were below it last year.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simulation.model.ledger import PROGRAMMES

#: name -> (kind, unit, description)
CLUSTER_METRICS: dict[str, tuple[str, str, str]] = {
    "revenue": ("rate", "100 million CNY/yr", "operating revenue of above-scale firms, current prices"),
    "revenue_real": ("rate", "100 million CNY/yr", "operating revenue of above-scale firms, 2020 prices"),
    "revenue_all": ("rate", "100 million CNY/yr", "operating revenue of all modelled firms, current prices"),
    "value_added": ("rate", "100 million CNY/yr", "value added of above-scale firms, current prices"),
    "firms": ("stock", "firms", "firms alive"),
    "abovescale_firms": ("stock", "firms", "above-scale firms (revenue >= 20 M CNY/yr at current prices)"),
    "employment": ("stock", "persons", "employees"),
    "talent": ("stock", "persons", "skilled employees"),
    "floor_space": ("stock", "m2", "industrial floor space occupied"),
    "rd_spending": ("rate", "100 million CNY/yr", "real R&D spending"),
    "public_money": ("flow", "100 million CNY", "public money spent on the cluster, all programmes (net of fund returns)"),
    "subsidy_spending": ("flow", "100 million CNY", "R&D grants and rewards paid"),
    "fund_investment": ("flow", "100 million CNY", "fund equity invested (public part)"),
    "entrants": ("flow", "firms", "firms entering"),
    "exits": ("flow", "firms", "firms exiting"),
    "attracted": ("flow", "firms", "entrants won by the promotion agency (beyond those who would have come anyway)"),
    "abovescale_firms_stat": ("annual", "firms", "above-scale firms, statistics' basis (annual revenue >= 20 M CNY)"),
    "value_added_stat": ("annual", "100 million CNY", "value added of above-scale firms, statistics' basis, current prices"),
    "va_growth_comparable": ("annual", "% real", "real value-added growth, comparable firms (同口径)"),
    "revenue_stat": ("annual", "100 million CNY", "operating revenue of above-scale firms, statistics' basis, current prices"),
}

TOWN_METRICS: dict[str, tuple[str, str, str]] = {
    "revenue_all": ("rate", "100 million CNY/yr", "operating revenue of all modelled firms, current prices"),
    "firms": ("stock", "firms", "firms alive"),
    "floor_stock": ("stock", "m2", "industrial floor space, occupied and vacant"),
    "floor_occupied": ("stock", "m2", "industrial floor space occupied"),
    "floor_delivered": ("flow", "m2", "new floor space delivered by redevelopment and the emerging-industry bases"),
    "rent_index": ("stock", "index (2020 = 1)", "industrial rent index"),
    "talent_pool": ("stock", "persons", "skilled workers available to hire"),
}

CITY_METRICS: dict[str, tuple[str, str, str]] = {
    "industrial_revenue": ("rate", "100 million CNY/yr", "above-scale industrial revenue (all clusters but software), current prices"),
    "industrial_revenue_real": ("rate", "100 million CNY/yr", "above-scale industrial revenue, 2020 prices"),
    "industrial_value_added": ("rate", "100 million CNY/yr", "above-scale industrial value added, current prices"),
    "abovescale_industrial_firms": ("stock", "firms", "above-scale industrial firms"),
    "firms": ("stock", "firms", "firms alive"),
    "public_cost": ("flow", "100 million CNY", "public money spent, all programmes (net of fund returns)"),
    **{
        f"cost_{name}": ("flow", "100 million CNY", description)
        for name, (_, description) in PROGRAMMES.items()
    },
    "abovescale_industrial_firms_stat": ("annual", "firms", "above-scale industrial firms, statistics' basis"),
    "industrial_value_added_stat": ("annual", "100 million CNY", "above-scale industrial value added, statistics' basis, current prices"),
    "industrial_va_growth_comparable": ("annual", "% real", "above-scale industrial value-added growth, comparable firms (同口径)"),
    "upgrades": ("annual", "firms", "industrial firms above scale this year that were below it the year before (小升规)"),
    "fund_raised": ("stock", "100 million CNY", "capital the funds' sponsors committed (what the funds raised)"),
    "fund_holdings": ("stock", "100 million CNY", "funds' stakes at cost and proceeds held (public part)"),
    "private_coinvestment": ("stock", "100 million CNY", "private venture capital invested alongside the funds, cumulative"),
    "floor_vacancy": ("stock", "m2", "vacant industrial floor space"),
    "vacancy_rate": ("stock", "share", "vacant share of industrial floor space"),
    "price_level": ("stock", "index (2020 = 1)", "producer price level of the industrial clusters"),
    "talent_inflow_multiplier": ("stock", "ratio", "skilled inflow relative to 2020 wages and no subsidy (scarcity premium and subsidy)"),
}


@dataclass
class ReplicateResult:
    """Series of one model run; arrays are (step, unit, metric) with step 0 the start state."""

    seed: int
    start_year: int
    steps_per_year: int
    cluster: np.ndarray
    town: np.ndarray
    city: np.ndarray
    parameters: dict[str, float] = field(default_factory=dict)

    @property
    def n_steps(self) -> int:
        return self.cluster.shape[0] - 1

    @property
    def years(self) -> np.ndarray:
        return self.start_year + np.arange(self.n_steps // self.steps_per_year + 1)


def annualise(series: np.ndarray, kinds: list[str], steps_per_year: int) -> np.ndarray:
    """(step, ...metric) -> (year, ...metric); year 0 is the start year (step 0)."""
    steps = series.shape[0] - 1
    years = steps // steps_per_year
    body = series[1 : 1 + years * steps_per_year].reshape(years, steps_per_year, *series.shape[1:])
    out = np.empty((years + 1, *series.shape[1:]))
    for j, kind in enumerate(kinds):
        if kind == "rate":
            out[1:, ..., j] = body[..., j].mean(axis=1)
            out[0, ..., j] = series[0, ..., j]
        elif kind == "stock":
            out[1:, ..., j] = body[:, -1, ..., j]
            out[0, ..., j] = series[0, ..., j]
        elif kind == "annual":
            out[1:, ..., j] = body[:, -1, ..., j]
            out[0, ..., j] = np.nan  # a statistic of a whole simulated year
        else:
            out[1:, ..., j] = body[..., j].sum(axis=1)
            out[0, ..., j] = np.nan  # no flow is modelled within the start year
    return out
