"""What a scenario file may contain: every table, key, type, unit and allowed range.

The schema is the contract between scenario files and the model. Values come from
``scenarios/baseline.toml`` (other scenarios extend it); the schema itself holds no model
numbers, only types and bounds, so the baseline file is the one place a value is set.

Lever keys take plain numbers (they are choices). Uncertainty keys take a number or a
distribution table (see :mod:`simulation.scenario.distributions`).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model, field_validator, model_validator

from simulation.datapack import CLUSTERS, EMERGING, town_ids
from simulation.scenario.distributions import Distribution, parse_distribution


class Section(BaseModel):
    """Base for every table: unknown keys, NaN and infinity are errors; no type coercion."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)


def uncertain(ge: float | None = None, le: float | None = None) -> Any:
    """A number or distribution whose whole support lies in [ge, le]."""

    def check(value: object) -> Distribution:
        if isinstance(value, Distribution):
            return value
        d = parse_distribution(value)
        lo, hi = d.support
        if ge is not None and lo < ge:
            raise ValueError(f"must be >= {ge} (the whole distribution), got {_show(value)}")
        if le is not None and hi > le:
            raise ValueError(f"must be <= {le} (the whole distribution), got {_show(value)}")
        return d

    return Annotated[Distribution, BeforeValidator(check)]


def _show(value: object) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {v!r}" for k, v in value.items()) + "}"
    return repr(value)


def per_cluster(name: str, value_type: Any, clusters: tuple[str, ...] = CLUSTERS) -> type[Section]:
    """A table with one key per cluster id, all required."""
    return create_model(name, __base__=Section, **{c: (value_type, ...) for c in clusters})


Share = Annotated[float, Field(ge=0.0, le=1.0)]
NonNeg = Annotated[float, Field(ge=0.0)]
Pos = Annotated[float, Field(gt=0.0)]


# --- [simulation] -------------------------------------------------------------------------


class Simulation(Section):
    start_year: Annotated[int, Field(ge=2000, le=2100)]
    end_year: Annotated[int, Field(ge=2001, le=2100)]
    steps_per_year: Annotated[int, Field(ge=1, le=12)]
    replicates: Annotated[int, Field(ge=1, le=100_000)]
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)]
    below_scale_ratio: Annotated[float, Field(ge=0.0, le=200.0)]

    @model_validator(mode="after")
    def _horizon_after_start(self) -> Simulation:
        if self.end_year <= self.start_year:
            raise ValueError(
                f"end_year ({self.end_year}) must be after start_year ({self.start_year})"
            )
        return self


class Targets(Section):
    emerging_cagr: Annotated[float, Field(ge=-50.0, le=100.0)]
    pillar_tolerance: Annotated[float, Field(ge=0.0, le=50.0)]


# --- [levers.*] ---------------------------------------------------------------------------


class SubsidyLever(Section):
    enabled: bool
    rd_budget: NonNeg
    max_share_of_rd: Share
    emerging_share: Share
    abovescale_entry_reward: NonNeg
    little_giant_reward: NonNeg
    little_giants_per_year: Annotated[int, Field(ge=0, le=10_000)]


class LandLever(Section):
    """Industrial land through redevelopment (工改工, policy 四(二)); the programme adds to market redevelopment."""

    enabled: bool
    redevelopment_mu_per_year: Annotated[float, Field(ge=0.0, le=100_000.0)]  # programme's own addition
    floor_multiplier: Annotated[float, Field(gt=0.0, le=20.0)]
    min_project_mu: Annotated[float, Field(ge=1.0, le=10_000.0)]
    cluster_priority_share: Share
    award_per_mu: Annotated[float, Field(ge=0.0, le=100.0)]  # M CNY per mu of priority project land
    land_price_discount: Share  # share of the land price forgone on priority land
    emerging_base_mu_per_year: Annotated[float, Field(ge=0.0, le=100_000.0)]
    emerging_base_towns: list[str]  # towns hosting the strategic emerging industry bases

    @field_validator("emerging_base_towns")
    @classmethod
    def _base_towns_known(cls, v: list[str]) -> list[str]:
        towns = town_ids()
        for town in v:
            if town not in towns:
                raise ValueError(f"unknown town {town!r}; see simulation/data/towns.csv")
        if len(set(v)) != len(v):
            raise ValueError("a town is listed twice")
        return v


class TalentLever(Section):
    enabled: bool
    subsidy: Annotated[float, Field(ge=0.0, le=10.0)]  # M CNY per skilled worker a year
    budget_cap: Annotated[float, Field(ge=0.0, le=10_000.0)]  # 亿元 a year
    graduate_places: Annotated[float, Field(ge=0.0, le=1e6)]


class Fund(Section):
    enabled: bool
    target_size: NonNeg
    mandate: dict[str, Share]
    investment_years: Annotated[float, Field(gt=0.0, le=30.0)]
    max_ticket: Pos
    holding_years: Annotated[float, Field(gt=0.0, le=30.0)]
    backs_chain_leaders: bool

    @field_validator("mandate")
    @classmethod
    def _mandate_clusters(cls, v: dict[str, float]) -> dict[str, float]:
        policy = [c for c in CLUSTERS if c != "other"]
        for key in v:
            if key not in policy:
                raise ValueError(f"unknown cluster {key!r} in mandate; allowed: {', '.join(policy)}")
        if not v:
            raise ValueError("a mandate needs at least one cluster")
        total = sum(v.values())
        if total > 1.0 + 1e-9:
            raise ValueError(f"mandate shares add up to {total:.3g}; they must add up to at most 1")
        return v


class CoreZones(Section):
    enabled: bool
    matching_money: NonNeg
    land_priority: bool
    zones: dict[str, list[str]]

    @field_validator("zones")
    @classmethod
    def _zones_known(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        policy = [c for c in CLUSTERS if c != "other"]
        towns = town_ids()
        for cluster, members in v.items():
            if cluster not in policy:
                raise ValueError(f"unknown cluster {cluster!r}; allowed: {', '.join(policy)}")
            for town in members:
                if town not in towns:
                    raise ValueError(f"unknown town {town!r} for {cluster}; see simulation/data/towns.csv")
            if len(set(members)) != len(members):
                raise ValueError(f"{cluster}: a town is listed twice")
        return v


class Agencies(Section):
    """One promotion agency per policy cluster; its budget is split among its services.

    What is left after attraction, matchmaking and finance matching goes to innovation services
    for small members (common-technology and R&D support).
    """

    enabled: bool
    budget: Annotated[float, Field(ge=0.0, le=1_000.0)]  # 亿元 a year per agency
    screening_quality: Share
    attraction_share: Share
    matchmaking_share: Share
    finance_share: Share
    incentive_share: Annotated[float, Field(ge=0.0, le=1.0)]  # of an attracted investor's first investment

    @model_validator(mode="after")
    def _shares_fit(self) -> Agencies:
        total = self.attraction_share + self.matchmaking_share + self.finance_share
        if total > 1.0 + 1e-9:
            raise ValueError(
                f"attraction_share + matchmaking_share + finance_share add up to {total:.3g}; "
                "they must add up to at most 1 (the rest goes to innovation services)"
            )
        return self


class Levers(Section):
    subsidy: SubsidyLever
    land: LandLever
    talent: TalentLever
    funds: dict[str, Fund]
    core_zones: CoreZones
    agencies: Agencies


# --- [uncertainties.*] --------------------------------------------------------------------

ClusterRevenue = per_cluster("ClusterRevenue", uncertain(ge=0.0))
ClusterFirms = per_cluster("ClusterFirms", uncertain(ge=1.0))
ClusterGrowth = per_cluster("ClusterGrowth", uncertain(ge=-50.0, le=100.0))


class Baseline(Section):
    revenue_2020: ClusterRevenue
    abovescale_firms_2020: ClusterFirms


class Demand(Section):
    growth: ClusterGrowth  # real growth of each cluster's market, % a year
    volatility: uncertain(ge=0.0, le=50.0)
    persistence: uncertain(ge=0.0, le=0.99)
    io_strength: uncertain(ge=0.0, le=1.0)
    macro_volatility: uncertain(ge=0.0, le=50.0)  # sd of the common city-wide demand factor, % a year
    macro_persistence: uncertain(ge=0.0, le=0.99)  # its yearly AR(1) coefficient
    macro_shocks: dict[str, uncertain(ge=-10.0, le=10.0)] = {}  # year -> its standardised innovation

    @field_validator("macro_shocks")
    @classmethod
    def _shock_years(cls, v: dict) -> dict:
        for key in v:
            if not (key.isdigit() and len(key) == 4):
                raise ValueError(f"macro_shocks keys are years such as \"2022\"; got {key!r}")
        return v


class Prices(Section):
    """Industrial producer prices: the national PPI by year (an input) and its pass-through to the clusters."""

    ppi: dict[str, uncertain(ge=-50.0, le=100.0)]  # year -> % change on the year before
    later: uncertain(ge=-50.0, le=100.0)  # % a year for every year not listed in ppi
    passthrough: uncertain(ge=0.0, le=2.0)

    @field_validator("ppi")
    @classmethod
    def _years(cls, v: dict) -> dict:
        for key in v:
            if not (key.isdigit() and len(key) == 4):
                raise ValueError(f"ppi keys are years such as \"2021\"; got {key!r}")
        return v


class ShockEvent(Section):
    cluster: str
    start: Annotated[float, Field(ge=2000.0, le=2100.0)]
    duration_years: Annotated[float, Field(gt=0.0, le=50.0)]
    growth_change: uncertain(ge=-100.0, le=100.0)

    @field_validator("cluster")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in CLUSTERS:
            raise ValueError(f"unknown cluster {v!r}; allowed: {', '.join(CLUSTERS)}")
        return v


class Shocks(Section):
    events: dict[str, ShockEvent]


class Behaviour(Section):
    productivity_persistence: uncertain(ge=0.0, le=1.0)
    productivity_volatility: uncertain(ge=0.0, le=2.0)
    frontier_productivity_growth: uncertain(ge=-10.0, le=20.0)
    selection_strength: uncertain(ge=0.0, le=2.0)
    growth_shock_scale: uncertain(ge=0.0, le=2.0)
    size_volatility_exponent: uncertain(ge=0.0, le=0.5)
    rd_elasticity: uncertain(ge=0.0, le=0.5)
    rd_response: uncertain(ge=-1.0, le=3.0)
    relabel_share: uncertain(ge=0.0, le=1.0)
    agglomeration_elasticity: uncertain(ge=0.0, le=0.3)
    congestion_elasticity: uncertain(ge=0.0, le=1.0)
    spinoff_rate: uncertain(ge=0.0, le=1.0)
    entrant_productivity_gap: uncertain(ge=0.0, le=2.0)
    exit_loss_quarters: uncertain(ge=1.0, le=40.0)
    exit_hazard_young: uncertain(ge=0.0, le=1.0)
    finance_leverage: uncertain(ge=0.0, le=10.0)
    capital_per_revenue: uncertain(ge=0.0, le=10.0)
    base_margin: uncertain(ge=-0.5, le=0.5)
    margin_slope: uncertain(ge=0.0, le=1.0)
    productivity_dispersion: uncertain(ge=0.0, le=3.0)
    interest_rate: uncertain(ge=0.0, le=0.5)  # a year, on drawn credit


class LandUncertainty(Section):
    background_mu_per_year: uncertain(ge=0.0, le=100_000.0)
    prior_mu_per_year: uncertain(ge=0.0, le=100_000.0)
    pipeline_conversion: uncertain(ge=0.0, le=1.0)
    approval_lag_years: uncertain(ge=0.0, le=10.0)
    delivery_lag_years: uncertain(ge=0.0, le=10.0)
    initial_vacancy: uncertain(ge=0.0, le=0.5)
    initial_modern_share: uncertain(ge=0.0, le=1.0)
    city_floor_million_m2: uncertain(ge=1.0, le=10_000.0)
    old_floor_ratio: uncertain(ge=0.0, le=10.0)
    market_floor_multiplier: uncertain(ge=0.1, le=20.0)  # m2 of floor per m2 of land, market-led projects
    rent_elasticity: uncertain(ge=0.0, le=10.0)
    rent_cost_share: uncertain(ge=0.0, le=0.5)
    supply_elasticity: uncertain(ge=0.0, le=10.0)  # market redevelopment's response to rents
    industrial_land_price: uncertain(ge=0.0, le=100.0)  # M CNY per mu
    refit_cost: uncertain(ge=0.0001, le=1.0)  # M CNY per m2 to refit old floor as modern floor


class TalentUncertainty(Section):
    location_choice_beta: uncertain(ge=0.0, le=50.0)
    outside_match: uncertain(ge=0.0, le=1.0)
    inflow_rate: uncertain(ge=0.0, le=1.0)
    attrition_rate: uncertain(ge=0.0, le=1.0)
    skilled_income: uncertain(ge=0.001, le=100.0)
    graduate_place_cost: uncertain(ge=0.0, le=10.0)  # M CNY per jointly trained graduate a year
    wage_response: uncertain(ge=0.0, le=50.0)  # skilled-wage rise per unit of unfilled demand (share of employment)


class FundUncertainty(Section):
    reach_target_probability: uncertain(ge=0.0, le=1.0)
    partial_raise: uncertain(ge=0.0, le=1.0)
    private_coinvest: uncertain(ge=0.0, le=10.0)  # private yuan wanted per fund yuan
    private_pool: uncertain(ge=0.0, le=10_000.0)  # 亿元 a year of private venture capital for co-investment
    management_fee: uncertain(ge=0.0, le=0.1)  # a year, on raised capital


class PolicyUncertainty(Section):
    investment_inflow: uncertain(ge=0.0, le=100.0)  # projects won a year per 100 above-scale firms, no agency
    base_win_share: uncertain(ge=0.01, le=0.99)  # Dongguan's share of the region's mobile projects, no agency
    promotion_effect: uncertain(ge=0.0, le=10.0)  # most an agency's promotion raises the odds of winning, - 1
    promotion_half_cost: uncertain(ge=0.001, le=1_000.0)  # M CNY per project in the pipeline for half of it
    incentive_elasticity: uncertain(ge=0.0, le=20.0)  # odds of winning per log of (1 + incentive share)
    rent_sensitivity: uncertain(ge=0.0, le=20.0)  # odds of winning per log of the rent index (negative)
    attracted_firm_size: uncertain(ge=1.0, le=100_000.0)
    matchmaking_effect: uncertain(ge=0.0, le=0.2)  # most demand growth a year matchmaking adds for small members
    matchmaking_half_cost: uncertain(ge=0.001, le=100.0)  # M CNY a year per small member for half of it
    finance_matching_effect: uncertain(ge=0.0, le=5.0)  # most extra credit access for constrained members
    finance_half_cost: uncertain(ge=0.001, le=100.0)  # M CNY a year per constrained member for half of it
    services_rd_response: uncertain(ge=0.0, le=5.0)  # members' own extra R&D per yuan of agency services
    zone_entry_multiplier: uncertain(ge=1.0, le=10.0)
    zone_diminishing: uncertain(ge=0.0, le=1.0)
    zone_half_money: uncertain(ge=0.001, le=10_000.0)  # M CNY a year of zone money for half the zone effect


class Traits(Section):
    """Scales on the clusters' technology table (simulation/data/cluster_traits.csv, ASSUMPTION-graded)."""

    floor_per_revenue_scale: uncertain(ge=0.1, le=10.0)
    talent_share_scale: uncertain(ge=0.1, le=10.0)
    revenue_per_employee_scale: uncertain(ge=0.1, le=10.0)
    rd_intensity_scale: uncertain(ge=0.0, le=10.0)
    va_ratio_quantile: uncertain(ge=0.0, le=1.0)  # where in each cluster's low-high range its VA ratio lies


class Statistics(Section):
    """How the statistics measure what the firms do (not what they do)."""

    software_scope: dict[str, uncertain(ge=-0.9, le=20.0)] = {}  # year -> rise of software's measured revenue
                                                                  # from a change of statistical scope

    @field_validator("software_scope")
    @classmethod
    def _scope_years(cls, v: dict) -> dict:
        for key in v:
            if not (key.isdigit() and len(key) == 4):
                raise ValueError(f"software_scope keys are years such as \"2022\"; got {key!r}")
        return v


class Uncertainties(Section):
    baseline: Baseline
    demand: Demand
    prices: Prices
    traits: Traits
    statistics: Statistics
    shocks: Shocks
    behaviour: Behaviour
    land: LandUncertainty
    talent: TalentUncertainty
    funds: FundUncertainty
    policy: PolicyUncertainty


# --- [outputs] ----------------------------------------------------------------------------


class Outputs(Section):
    formats: list[str]
    quarterly: bool
    towns: bool

    @field_validator("formats")
    @classmethod
    def _formats(cls, v: list[str]) -> list[str]:
        allowed = ("parquet", "csv")
        bad = [f for f in v if f not in allowed]
        if bad or not v:
            raise ValueError(f"formats must be a non-empty list of {', '.join(map(repr, allowed))}; got {v!r}")
        return v


class Calibration(Section):
    """Where a file's calibrated values came from; ``values`` (dotted key -> value) is applied by the loader."""

    experiment: str  # the calibration file that wrote the section, relative to the scenario file
    record: str  # the calibration record (fit moment by moment), relative to the scenario file
    seed: Annotated[int, Field(ge=0)]
    values: dict[str, Any]


class ScenarioSpec(Section):
    """A whole, resolved scenario (after ``extends``, calibration and ``--set`` are applied)."""

    description: str
    counterfactual: str = ""  # scenario file (relative to the file that sets it) for "what the policy adds"
    posterior: str = ""  # posterior folder from `simulate assimilate` (relative to the file that sets it)
    simulation: Simulation
    targets: Targets
    levers: Levers
    uncertainties: Uncertainties
    outputs: Outputs
    calibration: Calibration | None = None


POLICY_CLUSTERS = tuple(c for c in CLUSTERS if c != "other")
__all__ = ["ScenarioSpec", "POLICY_CLUSTERS", "EMERGING"]
