"""What a scenario file may contain: every table, key, type, unit and allowed range.

The schema is the contract between scenario files and the model. Values come from
``scenarios/baseline.toml`` (other scenarios extend it); the schema itself holds no model
numbers, only types and bounds, so the baseline file is the one place a value is set.

Lever keys take plain numbers (they are choices). Uncertainty keys take a number or a
distribution table (see :mod:`simulation.scenario.distributions`).

Every number has a lower and an upper bound (:mod:`simulation.scenario.bounds`): money, sizes and
rates are bounded by what the city could spend or hold and by what keeps the model finite and its
run time in proportion; the reason is given next to the key and shown when a value is refused.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator, model_validator

from simulation.datapack import CLUSTERS, DATA_YEAR, EMERGING, town_ids
from simulation.scenario.bounds import At, at_most, number, reads, uncertain


class Section(BaseModel):
    """Base for every table: unknown keys, NaN and infinity are errors; no type coercion."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)


def per_cluster(name: str, value_type: Any, clusters: tuple[str, ...] = CLUSTERS) -> type[Section]:
    """A table with one key per cluster id, all required."""
    return create_model(name, __base__=Section, **{c: (value_type, ...) for c in clusters})


Share = Annotated[float, Field(ge=0.0, le=1.0)]

# Money bounds, in the units of the keys (亿元 = 100 million CNY). The city's GDP was 9,650 亿元 in
# 2020 (simulation/data/city.csv): no programme spends more than that in a year.
CITY_BUDGET = "a tenth of the city's GDP (9,650 亿元 in 2020), beyond any programme of the city"
MAX_ABOVESCALE_FIRMS = 30_000  # more than twice the city's 11,525 above-scale industrial firms (city.csv)
MAX_FUNDS = 50  # the policy names three; each fund scans every firm every step
MAX_EVENTS = 500  # each event is checked every step


# --- [simulation] -------------------------------------------------------------------------


class Simulation(Section):
    start_year: number(DATA_YEAR, DATA_YEAR, "the year the data pack describes", whole=True)  # see _data_year
    end_year: number(DATA_YEAR + 1, DATA_YEAR + 30, "the first simulated year is the one after the data's; 30 years "
                     "on, the 2020 city the model holds fixed (clusters, towns, traits) no longer describes Dongguan",
                     whole=True)  # fmt: skip
    steps_per_year: Annotated[int, Field(ge=1, le=12)]
    replicates: number(1, 100_000, "a run holds every replicate's series in memory until it writes them", whole=True)
    seed: number(0, 2**63 - 1, "a seed is a 64-bit number", whole=True)
    below_scale_ratio: number(0.0, 20.0, "below-scale firms per above-scale firm: 16 already covers all the "
                                         "city's ~200,000 industrial firms, and the model's time grows with them")

    @field_validator("start_year", mode="before")
    @classmethod
    def _data_year(cls, v: object) -> object:
        if isinstance(v, int) and not isinstance(v, bool) and v != DATA_YEAR:
            raise ValueError(f"must be {DATA_YEAR}, the year the data pack describes (the firms, revenue and floor "
                             f"space in simulation/data are those of the end of {DATA_YEAR}); got {v}")
        return v

    @model_validator(mode="after")
    def _horizon_after_start(self) -> Simulation:
        if self.end_year <= self.start_year:
            raise At(("end_year",), f"end_year ({self.end_year}) must be after start_year ({self.start_year})",
                     also=(("start_year",),))
        return self


class Targets(Section):
    emerging_cagr: Annotated[float, Field(ge=-50.0, le=100.0)]
    pillar_tolerance: Annotated[float, Field(ge=0.0, le=50.0)]


# --- [levers.*] ---------------------------------------------------------------------------


class SubsidyLever(Section):
    enabled: bool
    rd_budget: number(0.0, 1000.0, f"亿元 a year: {CITY_BUDGET}")
    max_share_of_rd: Share
    emerging_share: Share
    abovescale_entry_reward: number(0.0, 100.0, "M CNY a firm: five times the revenue that makes a firm above-scale")
    little_giant_reward: number(0.0, 100.0, "M CNY a firm: five times the revenue that makes a firm above-scale")
    little_giants_per_year: number(0, 10_000, "about all the city's above-scale firms (11,525 in 2020)", whole=True)


class LandLever(Section):
    """Industrial land through redevelopment (工改工, policy 四(二)); the programme adds to market redevelopment."""

    enabled: bool
    redevelopment_mu_per_year: number(0.0, 100_000.0, "mu a year: 20 times the programme's 5,000 (levers.csv)")
    floor_multiplier: Annotated[float, Field(gt=0.0, le=20.0)]
    min_project_mu: number(1.0, 10_000.0, "mu; 1 mu (667 m2) is the smallest plot, and smaller projects would "
                                          "make the model draw millions of them a quarter")
    cluster_priority_share: Share
    award_per_mu: number(0.0, 100.0, "M CNY per mu of the programme's project land: 30 times a mu's land price")
    land_price_discount: Share  # share of the land price forgone on priority and base land
    emerging_base_mu_per_year: number(0.0, 100_000.0, "mu a year: the whole 90,000 mu of the bases in one year")
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
    subsidy: number(0.0, 10.0, "M CNY per skilled worker a year: 50 times a skilled worker's income in the "
                               "baseline, and the location choice stays finite")
    budget_cap: number(0.0, 1000.0, f"亿元 a year: {CITY_BUDGET}")
    graduate_places: number(0.0, 1e6, "places a year: 1,000 times the baseline's")


class Fund(Section):
    enabled: bool
    target_size: number(0.0, 1000.0, f"亿元: {CITY_BUDGET}")
    mandate: dict[str, Share]
    investment_years: Annotated[float, Field(gt=0.0, le=30.0)]
    max_ticket: number(0.01, 1000.0, "亿元 per investee: from 1 M CNY to the largest fund allowed")
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
    matching_money: number(0.0, 100_000.0, f"M CNY per zone town a year, i.e. 1,000 亿元: {CITY_BUDGET}")
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
    budget: number(0.0, 10.0, "亿元 a year per agency, 33 times the baseline's; every service saturates long "
                              "before, and entrants beyond the city's floor could not come anyway")
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
    funds: at_most(MAX_FUNDS, dict[str, Fund], "funds")
    core_zones: CoreZones
    agencies: Agencies



# --- [uncertainties.*] --------------------------------------------------------------------

# The city's above-scale industry in 2020 (simulation/data/city.csv): 11,525 firms, about 21,000 亿元 of revenue.
ClusterRevenue = per_cluster("ClusterRevenue", uncertain(
    1.0, 50_000.0, "亿元: from a firm's worth to twice the city's above-scale industrial revenue of 2020"))
ClusterFirms = per_cluster("ClusterFirms", uncertain(
    1.0, MAX_ABOVESCALE_FIRMS, "more than twice the city's 11,525 above-scale industrial firms"))
ClusterGrowth = per_cluster("ClusterGrowth", uncertain(ge=-50.0, le=100.0))


class Baseline(Section):
    revenue_2020: ClusterRevenue
    abovescale_firms_2020: ClusterFirms
    # % by which the manufacturing clusters' end-2020 run-rate exceeded their 2020 annual figures
    # (the first-quarter 2020 shutdown depressed the year, not its end)
    shutdown_shortfall: uncertain(ge=0.0, le=50.0) = 0.0

    @model_validator(mode="after")
    def _firms_in_the_city(self) -> Baseline:
        most = sum(getattr(self.abovescale_firms_2020, c).support[1] for c in CLUSTERS)
        if most > MAX_ABOVESCALE_FIRMS:  # the model holds every firm in memory and steps them all
            raise At(("abovescale_firms_2020",), f"the clusters' firms add up to as many as {most:,.0f}; at most "
                     f"{MAX_ABOVESCALE_FIRMS:,} in all, more than twice the city's 11,525 above-scale firms")
        return self


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
    start: number(2000.0, 2100.0, "a decimal year; the event must also be active at some step of the run")
    duration_years: Annotated[float, Field(gt=0.0, le=50.0)]
    growth_change: uncertain(ge=-100.0, le=100.0)

    @field_validator("cluster")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in CLUSTERS:
            raise ValueError(f"unknown cluster {v!r}; allowed: {', '.join(CLUSTERS)}")
        return v


class Shocks(Section):
    events: at_most(MAX_EVENTS, dict[str, ShockEvent], "events")


class Behaviour(Section):
    productivity_persistence: uncertain(0.0, 0.99, "an AR(1) of persistence 1 has no stationary spread to start from")
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
    background_mu_per_year: uncertain(0.0, 100_000.0, "mu a year: 13 times the policy's 7,500 (levers.csv)")
    prior_mu_per_year: uncertain(0.0, 100_000.0, "mu a year: 13 times the policy's 7,500 (levers.csv)")
    pipeline_conversion: uncertain(ge=0.0, le=1.0)
    approval_lag_years: uncertain(ge=0.0, le=10.0)
    delivery_lag_years: uncertain(ge=0.0, le=10.0)
    initial_vacancy: uncertain(ge=0.0, le=0.5)
    initial_modern_share: uncertain(ge=0.0, le=1.0)
    city_floor_million_m2: uncertain(1.0, 10_000.0, "million m2: up to 25 times the baseline's 400")
    old_floor_ratio: uncertain(ge=0.0, le=10.0)
    market_floor_multiplier: uncertain(ge=0.1, le=20.0)  # m2 of floor per m2 of land, market-led projects
    rent_elasticity: uncertain(ge=0.0, le=10.0)
    rent_cost_share: uncertain(ge=0.0, le=0.5)
    supply_elasticity: uncertain(ge=0.0, le=10.0)  # market redevelopment's response to rents
    industrial_land_price: uncertain(ge=0.0, le=100.0)  # M CNY per mu
    refit_cost: uncertain(ge=0.0001, le=1.0)  # M CNY per m2 to refit old floor as modern floor
    vacant_withdrawal: uncertain(ge=0.0, le=1.0)  # share of vacant old floor a year turned to other uses


class TalentUncertainty(Section):
    location_choice_beta: uncertain(ge=0.0, le=50.0)
    outside_match: uncertain(ge=0.0, le=1.0)
    inflow_rate: uncertain(ge=0.0, le=1.0)
    attrition_rate: uncertain(ge=0.0, le=1.0)
    skilled_income: uncertain(0.001, 100.0, "M CNY a year, at least 1,000 CNY: the talent subsidy is divided by it")
    graduate_place_cost: uncertain(0.0, 10.0, "M CNY per jointly trained graduate a year: 50 times a skilled income")
    wage_response: uncertain(0.0, 50.0, "skilled-wage rise per unit of unfilled demand; the premium is capped at 1")


class FundUncertainty(Section):
    reach_target_probability: uncertain(ge=0.0, le=1.0)
    partial_raise: uncertain(ge=0.0, le=1.0)
    private_coinvest: uncertain(ge=0.0, le=10.0)  # private yuan wanted per fund yuan
    private_pool: uncertain(0.0, 10_000.0, "亿元 a year of private venture capital for co-investment: the "
                                           "Pearl River Delta's whole venture market is well under this")
    management_fee: uncertain(ge=0.0, le=0.1)  # a year, on raised capital


class PolicyUncertainty(Section):
    investment_inflow: uncertain(0.0, 100.0, "projects a year per 100 above-scale firms: at most one per firm")
    base_win_share: uncertain(0.01, 0.99, "Dongguan's share of the region's mobile projects with no agency")
    promotion_effect: uncertain(0.0, 10.0, "most an agency's promotion raises the odds of winning, minus 1")
    promotion_half_cost: uncertain(0.001, 1_000.0, "M CNY per pipeline project for half the effect; divides spending")
    incentive_elasticity: uncertain(0.0, 20.0, "odds of winning per log(1 + incentive share)")
    rent_sensitivity: uncertain(0.0, 20.0, "odds of winning per log of the rent index")
    attracted_firm_size: uncertain(1.0, 100_000.0, "M CNY a year: up to 1,000 亿元, a twentieth of the city's "
                                                   "above-scale industrial revenue")
    matchmaking_effect: uncertain(ge=0.0, le=0.2)  # most demand growth a year matchmaking adds for small members
    matchmaking_half_cost: uncertain(0.001, 100.0, "M CNY a year per small member for half the effect; divides spending")
    finance_matching_effect: uncertain(ge=0.0, le=5.0)  # most extra credit access for constrained members
    finance_half_cost: uncertain(0.001, 100.0, "M CNY a year per constrained member for half the effect; divides spending")
    services_rd_response: uncertain(0.0, 5.0, "members' own extra R&D per yuan of agency services")
    zone_entry_multiplier: uncertain(ge=1.0, le=10.0)
    zone_diminishing: uncertain(ge=0.0, le=1.0)
    zone_half_money: uncertain(0.001, 10_000.0, "M CNY a year of zone money for half the zone effect; divides the money")


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
    formats: list[str]  # data.parquet is always written; "csv" adds data.csv
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
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)]
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

    @model_validator(mode="after")
    @reads("simulation.start_year", "simulation.end_year", "simulation.steps_per_year", "uncertainties.shocks.events")
    def _events_in_the_horizon(self) -> ScenarioSpec:
        """An event that is active at no step would silently do nothing."""
        sim = self.simulation
        dt = 1.0 / sim.steps_per_year
        times = [sim.start_year + 1 + k * dt for k in range((sim.end_year - sim.start_year) * sim.steps_per_year)]
        for name, event in self.uncertainties.shocks.events.items():
            start, end = event.start, event.start + event.duration_years
            if any(start <= t < end for t in times):
                continue  # active at some step: the model's own test (demand.MarketDemand.event_effect)
            keys = ("uncertainties", "shocks", "events", name)
            also = ((*keys, "duration_years"), ("simulation",))
            if end <= times[0]:
                raise At((*keys, "start"), f"the event ends at {end:g}, before the first step ({times[0]:g}, the "
                         "start of the year after start_year), so it would never be active", also)  # fmt: skip
            if start > times[-1]:
                raise At((*keys, "start"), f"the event starts at {start:g}, after the last step ({times[-1]:g}; "
                         f"end_year is {sim.end_year}), so it would never be active", also)  # fmt: skip
            raise At((*keys, "duration_years"), f"the event ({start:g} to {end:g}) falls between two steps, so it "
                     f"would never be active; it must last at least one step ({dt:g} years)", also)  # fmt: skip
        return self


POLICY_CLUSTERS = tuple(c for c in CLUSTERS if c != "other")
__all__ = ["ScenarioSpec", "POLICY_CLUSTERS", "EMERGING"]
