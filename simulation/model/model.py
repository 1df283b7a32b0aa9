"""ClusterModel: Dongguan's industrial economy under 东府〔2021〕10号, stepping quarterly.

Agents: firms (views onto column arrays), towns, one promotion agency per policy cluster and
the funds a scenario names. One step is one quarter by default; ``step`` reads as the schedule.
Every yuan of public money goes through the fiscal ledger (:mod:`simulation.model.ledger`).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path
from types import SimpleNamespace

import mesa
import numpy as np
from mesa.agentset import AgentSet
from scipy.special import ndtri

from simulation.datapack import (ABOVE_SCALE_THRESHOLD, CLUSTER_INDEX, CLUSTERS, EMERGING, INDUSTRIAL, cluster_traits,
                                 town_ids)
from simulation.model import cells, entry, investors
from simulation.model.firm_rules import DENSITY_FLOOR, MATURE_YEARS, efficiency, is_above_scale
from simulation.model.agency import PromotionAgency, saturating, screen
from simulation.model.demand import MarketDemand
from simulation.model.firm import Firm
from simulation.model.firm_table import ORIGIN_ATTRACTED, FirmTable
from simulation.model.floor_market import MODERN, OLD
from simulation.model.fund import Fund, PrivateCapital
from simulation.model.initial_state import build_population, location_weights
from simulation.model.datacollection import series_reporters
from simulation.model.kernels import rules_module
from simulation.model.ledger import Ledger
from simulation.model.parameters import draw_parameters, flatten
from simulation.model.prices import PriceIndex
from simulation.model.recorder import Recorder
from simulation.model.results import ReplicateResult
from simulation.model.streams import Streams
from simulation.model.talent import choice_multiplier, subsidy_gain, talent_step, update_premium
from simulation.model.town import (Town, TownTable, announce, demolish_and_deliver, refit, release_reserved,
                                   update_rents, withdraw_vacant_old)
from simulation.scenario.loader import Scenario
from simulation.scenario.posterior import particle
from simulation.scenario.overrides import resolve_spec
from simulation.scenario.schema import ScenarioSpec

MAX_LAG_YEARS = 20  # approval + delivery lags allowed by the schema
RESERVED_RELEASE = 0.2  # share of unused reserved floor opened to all firms a year
INITIAL_FREE_TALENT = 0.03  # free skilled pool in 2020, share of skilled employment
ZONE_CITY_AND_TOWN = 2.0  # the city's matching money is matched 1:1 by the town
MARKET_PROJECT_MU = 50.0  # mu, a typical market-led redevelopment project (ASSUMPTION; the programme's are >= 75)
POLICY_CLUSTERS = np.array([c != "other" for c in CLUSTERS])
EMERGING_CLUSTERS = np.array([c in EMERGING for c in CLUSTERS])
NOT_SHUT_DOWN_2020 = ("soft", "bio")  # services; medical supplies were in demand in 2020 (ASSUMPTION)


def _scratch_view(column: str, doc: str) -> property:
    """A model attribute that is rows 0..n of one of the firm table's scratch columns (assignable)."""

    def get(self: ClusterModel) -> np.ndarray:
        return getattr(self.firms, column)[: self.firms.n]

    def set_(self: ClusterModel, value: np.ndarray) -> None:
        getattr(self.firms, column)[: self.firms.n] = value

    return property(get, set_, doc=doc)


class ClusterModel(mesa.Model):
    """One replicate. ``ClusterModel(spec, rng=seed).run()`` returns a ReplicateResult.

    ``spec`` is a scenario file (path), a loaded Scenario or a ScenarioSpec; by default the
    baseline. Keyword ``overrides`` change scenario values, with dotted keys or nested dicts,
    as ``--set`` would (a path or a loaded Scenario only)::

        ClusterModel("scenarios/baseline.toml", rng=7, **{"levers.land.floor_multiplier": 3.0})

    Mesa conventions hold: ``running`` turns False at the horizon (``end_year``), ``step()`` and
    ``run()`` (or Mesa's ``run_model()``) can be mixed, and ``mesa.batch_run(ClusterModel,
    {"spec": path, "levers.talent.subsidy": [0.0, 0.04]}, rng=[1, 2])`` works.

    Firm agents are views onto the firm table. With ``firm_agents=True`` every live firm has its
    registered Mesa agent for the whole run (for inspection or visualisation); with ``False``
    (batch runs) a firm's agent is created when first asked for, through :meth:`firm` or
    :meth:`firm_agents_set`, which saves creating tens of thousands of Python objects per run.
    Either way the dynamics and results are identical. ``collect_data`` keeps a Mesa
    ``DataCollector`` (``model.datacollector``) of the city and cluster series after every step;
    by default it follows ``firm_agents``, so batch runs keep only the recorder's arrays.
    ``scenario`` is Mesa's own scenario object, which SolaraViz passes when it rebuilds a model;
    it holds no parameters of this model and is not used.

    ``fixed`` sets uncertain values instead of drawing them (scenario keys to values); a scenario
    with a ``posterior`` draws a posterior particle for its replicate first (see posterior.py).

    ``kernels`` chooses how the per-firm rules run: ``"numba"`` (compiled, fused, over live rows;
    the default) or ``"numpy"`` (:mod:`simulation.model.firm_rules`, the vectorised reference);
    by default the environment variable ``SIMULATE_KERNELS``. Both give the same results up to
    floating-point rounding (tests/test_kernels.py).
    """

    def __init__(
        self,
        spec: ScenarioSpec | Scenario | str | Path | None = None,
        rng: int | None = None,
        *,
        firm_agents: bool = True,
        collect_data: bool | None = None,
        scenario: object = None,
        fixed: Mapping[str, float] | None = None,
        kernels: str | None = None,
        **overrides: object,
    ) -> None:
        super().__init__(rng=rng)
        spec = resolve_spec(spec, overrides)
        sim = spec.simulation
        self.spec = spec
        self.levers = spec.levers
        self.steps_per_year = sim.steps_per_year
        self.dt = 1.0 / sim.steps_per_year
        self.start_year = sim.start_year
        self.n_steps = (sim.end_year - sim.start_year) * sim.steps_per_year
        self.firm_agents = firm_agents
        # every draw derives from the model's seeded generator: the initial state from a child
        # generator, parameters and dynamics from keyed streams (common random numbers)
        (init_rng,) = self.rng.spawn(1)
        self.streams = Streams(self.rng)
        # a posterior's particle for this replicate (its own keyed stream), then any fixed values
        drawn = particle(spec.posterior, self.streams.get("posterior").random()) if spec.posterior else {}
        self.p = draw_parameters(spec.uncertainties, self.streams, {**drawn, **(fixed or {})})

        traits, scale = cluster_traits(), self.p.traits
        self.n_clusters = len(CLUSTERS)
        # the clusters' technology (cluster_traits.csv, ASSUMPTION-graded) with this replicate's scales
        self.rd_intensity = np.array(traits.rd_intensity) * scale.rd_intensity_scale
        self.floor_per_capacity = np.array(traits.floor_per_revenue) * scale.floor_per_revenue_scale
        revenue_per_employee = np.array(traits.revenue_per_employee) * scale.revenue_per_employee_scale
        self.talent_per_capacity = np.array(traits.talent_share) * scale.talent_share_scale / revenue_per_employee
        self.employees_per_capacity = 1.0 / revenue_per_employee
        low, high = np.array(traits.va_ratio_low), np.array(traits.va_ratio_high)
        self.va_ratio = low + scale.va_ratio_quantile * (high - low)
        self.needs_modern = np.array(traits.needs_modern_floor)
        self.industrial = np.array([c in INDUSTRIAL for c in CLUSTERS])
        self.location_weights = location_weights()
        b = self.p.behaviour
        self.capital_per_revenue = b.capital_per_revenue
        self.exit_loss_steps = max(int(round(b.exit_loss_quarters * sim.steps_per_year / 4)), 1)
        self.common_productivity = 0.0
        self.prices = PriceIndex(self.p.prices.ppi, self.p.prices.later, self.p.prices.passthrough, sim.start_year,
                                 sim.steps_per_year, self.n_steps)
        self.price_level = self.prices.at(0)
        self.ledger = Ledger(self.n_clusters)
        self.private_capital = PrivateCapital(self.p.funds.private_pool * 100.0)

        self.firms = FirmTable(capacity=int(16_000 * (1 + sim.below_scale_ratio) * 1.6))
        build_population(self.firms, self.p.baseline, b, sim.below_scale_ratio, sim.steps_per_year, init_rng,
                         self.rd_intensity, self.run_rate_2020())
        self.rules = rules_module(kernels)  # the firm rules: compiled kernels, or the NumPy reference
        self._census: tuple[int, SimpleNamespace] | None = None
        self.relative_productivity = self.firms.logprod[: self.firms.n]
        self._firm_views: dict[int, Firm] = {}
        if firm_agents:
            self.on_entry(slice(0, self.firms.n))

        self.towns = TownTable(self.n_steps + MAX_LAG_YEARS * sim.steps_per_year + 2)
        self.rent_change = np.zeros(self.towns.n)
        self._setup_towns()
        self.demand = MarketDemand(
            self.p.demand, self.p.shocks.events, sim.steps_per_year, self.stream("demand"),
            years=range(sim.start_year + 1, sim.end_year + 1),
            # the draw a listed standard-normal value of that year would get (same key, same uniform)
            draw_shock=lambda year: float(ndtri(self.streams.get(f"parameter:.demand.macro_shocks.{year}").random())),
        )
        self.demand_growth = self.demand.growth
        self.agencies = self._setup_agencies()
        self.funds = AgentSet(
            [Fund(self, name, fund, self.p.funds) for name, fund in sorted(self.levers.funds.items()) if fund.enabled],
            random=self.random,
        )
        self.matchmaking = np.zeros(self.n_clusters)  # demand uplift a year for small members
        self.credit_boost = np.zeros(self.n_clusters)  # extra credit access for constrained members
        self.talent_multiplier = 1.0
        self.talent_premium = 0.0  # skilled wages above 2020's, a share (scarcity)
        self.wage_change = 0.0  # change in log(1 + premium) at the last step
        self.talent_unfilled = 0.0  # skilled workers wanted and not found this step
        # skilled wage bill per unit of capacity (revenue at 2020 productivity): what the premium costs
        self.skilled_wage_share = self.talent_per_capacity * self.p.talent.skilled_income
        self.insolvencies = 0
        self.step_flows = SimpleNamespace(
            entrants=np.zeros(self.n_clusters), exits=np.zeros(self.n_clusters),
            attracted=np.zeros(self.n_clusters),
        )
        self.recorder = Recorder(self)
        self.recorder.record()
        collect = firm_agents if collect_data is None else collect_data
        self.datacollector = mesa.DataCollector(model_reporters=series_reporters()) if collect else None
        if self.datacollector is not None:
            self.datacollector.collect(self)

    # --- set-up ------------------------------------------------------------------------------
    def _setup_towns(self) -> None:
        t, f, n = self.towns, self.firms, self.firms.n
        land = self.p.land
        occupied = np.bincount(f.town[:n], weights=self.floor_per_capacity[f.cluster[:n]] * f.capacity[:n],
                               minlength=t.n)
        vacant = occupied * land.initial_vacancy / (1.0 - land.initial_vacancy)
        t.vacant[:, MODERN] = vacant * land.initial_modern_share
        t.vacant[:, OLD] = vacant - t.vacant[:, MODERN]
        t.floor_stock = occupied + vacant
        t.occupancy_2020 = np.where(t.floor_stock > 0, occupied / np.maximum(t.floor_stock, 1.0), 1.0)
        self._occupied_2020 = np.maximum(occupied, 1.0)
        talent = np.bincount(f.town[:n], weights=self.talent_per_capacity[f.cluster[:n]] * f.capacity[:n],
                             minlength=t.n)
        t.talent_free = INITIAL_FREE_TALENT * talent
        self.cells = cells.aggregate(self)
        self._density_2020 = self.cells.employment.copy()
        self.abovescale_2020 = self.cells.firms_above.sum(axis=1).copy()  # sizes the investment pipeline
        # costs of city-wide land programmes are shared among the clusters by their 2020 floor
        floor_2020 = self.cells.occupied_floor_by_cluster
        self._land_cost_weights = {
            "industrial": floor_2020 / max(floor_2020.sum(), 1.0),
            "priority": floor_2020 * POLICY_CLUSTERS / max((floor_2020 * POLICY_CLUSTERS).sum(), 1.0),
            "base": floor_2020 * EMERGING_CLUSTERS / max((floor_2020 * EMERGING_CLUSTERS).sum(), 1.0),
        }

        zones, pol = self.levers.core_zones, self.p.policy
        if zones.enabled:
            money = zones.matching_money * ZONE_CITY_AND_TOWN  # M CNY a year per zone town
            strength = saturating(money, pol.zone_half_money)
            for cid, members in zones.zones.items():
                c = CLUSTER_INDEX[cid]
                for k, town_id in enumerate(members):
                    i = town_ids().index(town_id)
                    t.zone[i, c] = True
                    t.zone_multiplier[i, c] = 1.0 + (pol.zone_entry_multiplier - 1.0) * pol.zone_diminishing**k * strength
                    t.matching_money[i] = money  # once per zone town
            if zones.land_priority:
                is_zone = t.zone.any(axis=1)
                t.reserved_for[is_zone] = t.zone[is_zone]

        lever = self.levers.land
        on = lever.enabled
        # city-wide redevelopment serves all industrial firms; the modelled firms get their share
        self.floor_share = min(1.0, t.floor_stock.sum() / (land.city_floor_million_m2 * 1e6))
        for town_id in lever.emerging_base_towns:
            t.is_base[town_ids().index(town_id)] = True
        self._pipeline = SimpleNamespace(
            market_mu_per_step=land.background_mu_per_year * self.dt * self.floor_share,
            programme_mu_per_step=(lever.redevelopment_mu_per_year if on else 0.0) * self.dt * self.floor_share,
            base_mu_per_step=(lever.emerging_base_mu_per_year if on else 0.0) * self.dt * self.floor_share,
            project_mu=lever.min_project_mu,
            market_project_mu=MARKET_PROJECT_MU,
            market_multiplier=land.market_floor_multiplier,
            conversion=land.pipeline_conversion,
            approval_lag=int(round(land.approval_lag_years * self.steps_per_year)),
            delivery_lag=int(round(land.delivery_lag_years * self.steps_per_year)),
            old_floor_ratio=land.old_floor_ratio,
            multiplier=lever.floor_multiplier,
            priority_share=lever.cluster_priority_share if on else 0.0,
        )
        for i in range(t.n):
            Town(self, i, self._pipeline).fill_pipeline(land.prior_mu_per_year * self.dt * self.floor_share)

    def _setup_agencies(self) -> mesa.AgentSet:
        lever = self.levers.agencies
        agencies = []
        if lever.enabled:
            agencies = [PromotionAgency(self, c, lever, self.p.policy) for c, cid in enumerate(CLUSTERS) if cid != "other"]
        return AgentSet(agencies, random=self.random)

    # --- the schedule --------------------------------------------------------------------------
    def step(self) -> None:
        """One quarter."""
        if self.steps > self.n_steps:  # Mesa counts the call before it gets here
            warnings.warn(f"the model has reached its horizon ({self.n_steps} steps); step() does nothing",
                          RuntimeWarning, stacklevel=2)
            return
        time = self.start_year + 1 + (self.steps - 1) * self.dt  # decimal year this step starts
        self.ledger.new_step()
        self.step_flows.entrants[:] = self.step_flows.exits[:] = self.step_flows.attracted[:] = 0.0
        self.price_level = self.prices.at(self.steps)
        self.demand_growth = self.demand.step(time, self.stream("demand"))
        self._redevelop()  # announce projects; towns demolish and deliver floor; awards, refits
        self.common_productivity += self.p.behaviour.frontier_productivity_growth / 100.0 * self.dt
        self.rules.update_productivity(self)
        self.agencies.do("step")  # split budgets among services
        self._agency_services()
        self.rules.rd_and_subsidies(self)
        self.private_capital.replenish(self.dt)
        self.funds.do("step")  # equity into young and small firms
        self._grow_talent_pool()
        wanted = self.rules.desired_revenue(self)
        self.rules.expand_and_produce(self, wanted)
        self._exit(self.rules.account_and_exit(self))
        self._enter()
        self._designate()
        self.cells = cells.aggregate(self)
        self._update_rents()
        self._update_talent_premium()
        release_reserved(self.towns, RESERVED_RELEASE * self.dt)
        withdraw_vacant_old(self.towns, self.p.land.vacant_withdrawal * self.dt)
        self.recorder.record()
        if self.datacollector is not None:
            self.datacollector.collect(self)
        self.running = self.steps < self.n_steps

    def run(self) -> ReplicateResult:
        """Step to the horizon (from wherever ``step()`` left off) and return the series."""
        while self.running:
            self.step()
        return self.recorder.result(seed=self._seed, parameters=flatten(self.p))

    # --- per-firm values the rules keep between steps (views of the firm table's scratch columns)
    relative_productivity = _scratch_view("relative", "Log-TFP less the common drift, per row.")
    productivity_change = _scratch_view("productivity_change", "This step's change in relative productivity, per row.")
    competitiveness = _scratch_view("competitiveness",
                                    "Relative productivity less the cluster's revenue-weighted mean, per row.")

    # --- mechanisms the schedule calls ------------------------------------------------------
    def stream(self, purpose: str) -> np.random.Generator:
        """The random stream of one mechanism at the current step (see streams.py)."""
        return self.streams.get(purpose, self.steps)

    def efficiency(self) -> float:
        """Real revenue a unit of capacity yields at full use now (firm_rules.efficiency)."""
        return efficiency(self.common_productivity)

    def finance_constrained(self, rows: np.ndarray | slice | None = None) -> np.ndarray:
        """Young and below-scale firms borrow less (credit access ``CONSTRAINED_ACCESS``)."""
        f = self.firms
        rows = slice(0, f.n) if rows is None else rows
        return (f.age[rows] < MATURE_YEARS * self.steps_per_year) | ~f.above_scale[rows]

    def census(self) -> SimpleNamespace:
        """Per cluster, live firms that are small (revenue below ``SME_REVENUE``) and finance-constrained,
        and the small ones' revenue; counted once a step (revenue changes only when firms produce)."""
        if self._census is None or self._census[0] != self.steps:
            self._census = (self.steps, self.rules.census(self))
        return self._census[1]

    def _redevelop(self) -> None:
        """Announce this step's approved projects, let towns demolish and deliver, pay for the land."""
        pipe, t = self._pipeline, self.towns
        share = t.weight / t.weight.sum()
        rng = self.stream("redevelopment")
        # market redevelopment follows rents (developers build where floor is scarce)
        market_mu = pipe.market_mu_per_step * share * t.rent_index ** self.p.land.supply_elasticity
        market = rng.binomial(rng.poisson(market_mu / pipe.market_project_mu), pipe.conversion)
        programme = rng.binomial(rng.poisson(pipe.programme_mu_per_step * share / pipe.project_mu), pipe.conversion)
        n_base = max(int(t.is_base.sum()), 1)
        base = rng.poisson(np.where(t.is_base, pipe.base_mu_per_step / n_base / pipe.project_mu, 0.0))
        now = self.steps
        # every town's pipeline at once (each town's arithmetic is its own row: the Town agents' rule)
        announce(t, pipe, now, slice(None), market, programme, base)
        demolish_and_deliver(t, now)
        lever, land = self.levers.land, self.p.land
        city = 1.0 / self.floor_share  # city-wide land per modelled unit
        programme_mu = float(t.due["programme_mu"][:, now].sum()) * city
        priority_mu = float(t.due["priority_mu"][:, now].sum()) * city
        base_mu = float(t.due["base_mu"][:, now].sum()) * city
        if programme_mu > 0 and lever.award_per_mu > 0:
            self.ledger.book("land_awards", slice(None), lever.award_per_mu * programme_mu * self._land_cost_weights["industrial"])
        forgone = land.industrial_land_price * lever.land_price_discount
        if forgone > 0 and (priority_mu + base_mu) > 0:
            cost = forgone * (priority_mu * self._land_cost_weights["priority"] + base_mu * self._land_cost_weights["base"])
            self.ledger.book("forgone_land_revenue", slice(None), cost)
        if t.matching_money.any():
            # the zone towns spend all of their money: on refitting vacant old floor as modern floor
            # where there is any (the modelled firms' share of it), the rest on the zone's platforms
            # and services, which the zone's entry pull stands for
            money = t.matching_money * self.dt
            refit(t, money * self.floor_share, land.refit_cost)
            zone_clusters = t.zone.astype(float) / np.maximum(t.zone.sum(axis=1, keepdims=True), 1)
            self.ledger.book("zone_matching", slice(None), money @ zone_clusters)

    def _agency_services(self) -> None:
        self.matchmaking[:] = 0.0
        self.credit_boost[:] = 0.0
        for agency in self.agencies:
            self.matchmaking[agency.cluster] = agency.matchmaking_uplift
            self.credit_boost[agency.cluster] = agency.credit_boost

    def screening_score(self, truth: np.ndarray, purpose: str = "grants") -> np.ndarray:
        """Applicant ranking: agencies with a budget screen; otherwise it is a lottery.

        Each ranking (R&D grants, little giants) has its own stream, so they never share noise.
        """
        quality = self.levers.agencies.screening_quality if any(a.active for a in self.agencies) else 0.0
        return screen(truth, quality, self.stream(f"screening-{purpose}"))

    def _grow_talent_pool(self) -> None:
        """Skilled inflow (logit over income: scarcity premium and subsidy), attrition, the subsidy's cost."""
        lever, tp = self.levers.talent, self.p.talent
        talent = self.cells.capacity * self.talent_per_capacity[:, None]  # (cluster, town), as of the last step
        employed = talent.sum(axis=0)
        premium = self.talent_premium
        multiplier, graduates = choice_multiplier(premium, tp.location_choice_beta), 0.0
        if lever.enabled and lever.subsidy > 0:
            covered = talent[POLICY_CLUSTERS].sum(axis=0)  # skilled workers of the nine clusters, by town
            wanted = lever.subsidy * float(covered.sum())
            paid = min(wanted, lever.budget_cap * 100.0)
            coverage = paid / wanted if wanted > 0 else 0.0
            gain = subsidy_gain(lever.subsidy, coverage, tp.skilled_income, tp.outside_match)
            # the subsidy draws movers to the jobs it covers, not to the `other` cluster's
            covered_share = float(covered.sum()) / max(float(employed.sum()), 1.0)
            multiplier = (covered_share * choice_multiplier(premium + gain, tp.location_choice_beta)
                          + (1.0 - covered_share) * multiplier)
            by_cluster = talent.sum(axis=1) * POLICY_CLUSTERS
            self.ledger.book("talent_subsidy", slice(None), paid * self.dt * by_cluster / max(by_cluster.sum(), 1.0))
        if lever.enabled and lever.graduate_places > 0:
            graduates = lever.graduate_places
            cost = graduates * tp.graduate_place_cost * self.dt
            by_cluster = talent.sum(axis=1) * POLICY_CLUSTERS
            self.ledger.book("graduate_places", slice(None), cost * by_cluster / max(by_cluster.sum(), 1.0))
        self.talent_multiplier = multiplier
        self.towns.talent_free = talent_step(self.towns.talent_free, employed, tp.inflow_rate, tp.attrition_rate,
                                             multiplier, graduates, self.dt)
        self._employed_talent = float(employed.sum())

    def _update_talent_premium(self) -> None:
        before = self.talent_premium
        self.talent_premium = update_premium(self.talent_premium, self.talent_unfilled, self._employed_talent,
                                             self.p.talent.wage_response, self.dt)
        self.wage_change = float(np.log1p(self.talent_premium) - np.log1p(before))
        self.talent_unfilled = 0.0

    def _exit(self, rows: np.ndarray) -> None:
        if rows.size == 0:
            return
        f = self.firms
        self.rules.release_inputs(self, rows, f.capacity[rows])
        np.add.at(self.step_flows.exits, f.cluster[rows], 1)
        for name in ("revenue", "capacity", "cash", "capital", "rd", "rd_base", "target"):
            getattr(f, name)[rows] = 0.0
        f.close(rows)
        f.above_scale[rows] = False
        f.chain_leader[rows] = False
        if self._firm_views:
            for r in rows.tolist():
                view = self._firm_views.pop(r, None)
                if view is not None:
                    view.remove()

    def _enter(self) -> None:
        f = self.firms
        for name, group in (("spinoffs", entry.spinoffs(self)), ("investors", investors.pipeline(self))):
            rows = entry.admit(self, group, name)
            if rows.size == 0:
                continue
            np.add.at(self.step_flows.entrants, f.cluster[rows], 1)
            attracted = rows[f.origin[rows] == ORIGIN_ATTRACTED]
            np.add.at(self.step_flows.attracted, f.cluster[attracted], 1)
            self._pay_incentives(rows)

    def _pay_incentives(self, rows: np.ndarray) -> None:
        """Won investors of clusters whose agency offers a package get it: a share of their first investment."""
        f = self.firms
        offering = {a.cluster: a.lever.incentive_share for a in self.agencies if a.offers_incentives}
        if not offering:
            return
        mobile = rows[f.origin[rows] >= ORIGIN_ATTRACTED]
        share = np.array([offering.get(int(c), 0.0) for c in f.cluster[mobile]])
        paid = mobile[share > 0]
        if paid.size:
            self.ledger.pay_firms("investment_incentives", f, paid, share[share > 0] * f.capital[paid])

    def firm(self, row: int) -> Firm:
        """The Mesa agent of the firm in ``row`` (created on first use)."""
        if not 0 <= row < self.firms.n or not self.firms.alive[row]:
            raise KeyError(f"no live firm in row {row}")
        view = self._firm_views.get(row)
        if view is None:
            view = self._firm_views[row] = Firm(self, row)
        return view

    def firm_agents_set(self) -> AgentSet:
        """An AgentSet of every live firm's agent."""
        rows = np.flatnonzero(self.firms.alive[: self.firms.n])
        return AgentSet([self.firm(int(r)) for r in rows], random=self.random)

    def on_entry(self, rows: slice) -> None:
        """New rows exist in the firm table: start their relative productivity and create views."""
        f = self.firms
        f.relative[rows] = f.logprod[rows] - self.common_productivity
        if self.firm_agents:
            for r in range(rows.start, rows.stop):
                self._firm_views[r] = Firm(self, r)

    def _designate(self) -> None:
        f, n = self.firms, self.firms.n
        lever = self.levers.subsidy
        if self.rules.name == "numba":  # the same flags, set over live rows only (dead rows stay False)
            from simulation.model.live_scans import update_above_scale

            new = update_above_scale(f.live, f.revenue, f.cluster, self.price_level, ABOVE_SCALE_THRESHOLD,
                                     f.above_scale, f.rewarded)
        else:
            now_above = f.alive[:n] & is_above_scale(self, f.revenue[:n], f.cluster[:n])
            new = np.flatnonzero(now_above & ~f.rewarded[:n])
            f.above_scale[:n] = now_above
        if new.size:
            f.rewarded[new] = True
            if lever.enabled and lever.abovescale_entry_reward > 0:
                self.ledger.pay_firms("abovescale_rewards", f, new, lever.abovescale_entry_reward)
        if self.steps % self.steps_per_year:
            return
        # yearly designations: chain leaders (top 3 by revenue) and little giants
        f.chain_leader[:n] = False
        for c, cid in enumerate(CLUSTERS):
            if cid == "other":
                continue
            rows = np.flatnonzero(f.alive[:n] & (f.cluster[:n] == c))
            if rows.size:
                f.chain_leader[rows[top(f.revenue[rows], 3)]] = True
        if lever.enabled and lever.little_giants_per_year > 0:
            sme = f.above_scale[:n] & (f.revenue[:n] <= 400.0) & ~f.little_giant[:n]
            sme &= f.cluster[:n] != CLUSTER_INDEX["other"]
            rows = np.flatnonzero(sme)
            if rows.size:
                truth = self.relative_productivity[rows]
                score = self.screening_score((truth - truth.mean()) / max(truth.std(), 1e-9), "little-giants")
                best = rows[top(score, lever.little_giants_per_year)]
                f.little_giant[best] = True
                self.ledger.pay_firms("little_giant_rewards", f, best, lever.little_giant_reward)

    def _update_rents(self) -> None:
        before = self.towns.rent_index
        update_rents(self.towns, self.cells.occupied_floor, self.p.land.rent_elasticity)
        self.rent_change = np.log(self.towns.rent_index / before)

    def run_rate_2020(self) -> np.ndarray:
        """Per cluster, the end-2020 run-rate over the 2020 annual figures that the data give.

        The model starts at the end of 2020; the data pack's 2020 figures are averages over 2020, so
        about half a year of each market's trend growth lies between them, and the first-quarter
        2020 shutdown depressed the manufacturing clusters' year further, not its end
        (``shutdown_shortfall``; software and biomedicine were not held back the same way).
        Without this the 2021 figures would compare a run-rate with a depressed average, and every
        CAGR from the 2020 figures would miss half a year of growth.
        """
        trend = np.array([getattr(self.p.demand.growth, c) for c in CLUSTERS]) / 100.0
        shut = np.array([c not in NOT_SHUT_DOWN_2020 for c in CLUSTERS], dtype=float)
        return np.exp(0.5 * trend) * (1.0 + shut * self.p.baseline.shutdown_shortfall / 100.0)

    def statistical_scope(self, year: int) -> np.ndarray:
        """Per cluster, how much the statistics' revenue exceeds the firms' own in ``year`` (software's
        change of scope: each listed year's rise applies from that year on)."""
        factor = 1.0
        for listed, rise in self.p.statistics.software_scope.items():
            if year >= int(listed):
                factor *= 1.0 + rise
        scope = np.ones(self.n_clusters)
        scope[CLUSTER_INDEX["soft"]] = factor
        return scope

    # --- aggregate views used by the rules and the recorder ------------------------------------
    def local_density_ratio(self) -> np.ndarray:
        """log of own-cluster employment in each town relative to 2020 (as of the last step), bounded.

        Both are counted with ``DENSITY_FLOOR`` persons added, so that the first firms of a cell
        that was empty in 2020 do not get the largest possible bonus from their own employment.
        """
        floor = DENSITY_FLOOR
        return np.clip(np.log((self.cells.employment + floor) / (self._density_2020 + floor)), -2.0, 2.0)

    def town_density_ratio(self) -> np.ndarray:
        """log of each town's occupied floor relative to 2020 (as of the last step)."""
        return np.log(np.maximum(self.cells.occupied_floor, 1.0) / self._occupied_2020)


def top(values: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest values, largest first (ties by position)."""
    if k >= values.size:
        return np.argsort(-values, kind="stable")
    part = np.argpartition(-values, k - 1)[:k]
    return part[np.lexsort((part, -values[part]))]
