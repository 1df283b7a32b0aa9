"""ClusterModel: Dongguan's industrial economy under 东府〔2021〕10号, stepping quarterly.

Agents: firms (views onto column arrays), towns, one promotion agency per policy cluster and
the funds a scenario names. One step is one quarter by default; ``step`` reads as the schedule.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from types import SimpleNamespace

import mesa
from mesa.agentset import AgentSet
import numpy as np

from simulation.datapack import CLUSTERS, INDUSTRIAL, CLUSTER_INDEX, cluster_traits, town_ids
from simulation.model import cells, entry, firm_rules
from simulation.model.agency import PromotionAgency, screen
from simulation.model.demand import MarketDemand
from simulation.model.firm import Firm
from simulation.model.firm_table import ORIGIN_EXTERNAL, FirmTable
from simulation.model.floor_market import MODERN, OLD
from simulation.model.fund import Fund
from simulation.model.initial_state import build_population, location_weights
from simulation.model.parameters import draw_parameters, flatten
from simulation.model.datacollection import series_reporters
from simulation.model.recorder import Recorder
from simulation.model.streams import Streams
from simulation.model.results import ReplicateResult
from simulation.model.talent import inflow_multiplier, talent_step
from simulation.model.town import Town, TownTable, release_reserved, update_rents
from simulation.scenario.loader import Scenario
from simulation.scenario.overrides import resolve_spec
from simulation.scenario.schema import ScenarioSpec

MAX_LAG_YEARS = 20  # approval + delivery lags allowed by the schema
RESERVED_RELEASE = 0.05  # share of unused reserved floor opened to all firms each step
INITIAL_FREE_TALENT = 0.03  # free skilled pool in 2020, share of skilled employment
ZONE_CITY_AND_TOWN = 2.0  # the city's matching money is matched 1:1 by the town


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
    """

    def __init__(
        self,
        spec: ScenarioSpec | Scenario | str | Path | None = None,
        rng: int | None = None,
        *,
        firm_agents: bool = True,
        collect_data: bool | None = None,
        scenario: object = None,
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
        self.p = draw_parameters(spec.uncertainties, self.streams)

        traits = cluster_traits()
        self.n_clusters = len(CLUSTERS)
        self.rd_intensity = np.array(traits.rd_intensity)
        self.floor_per_capacity = np.array(traits.floor_per_revenue)
        self.talent_per_capacity = np.array(traits.talent_share) / np.array(traits.revenue_per_employee)
        self.employees_per_capacity = 1.0 / np.array(traits.revenue_per_employee)
        self.needs_modern = np.array(traits.needs_modern_floor)
        self.industrial = np.array([c in INDUSTRIAL for c in CLUSTERS])
        self.location_weights = location_weights()
        b = self.p.behaviour
        self.capital_per_revenue = b.capital_per_revenue
        self.exit_loss_steps = max(int(round(b.exit_loss_quarters * sim.steps_per_year / 4)), 1)
        self.common_productivity = 0.0

        self.firms = FirmTable(capacity=int(16_000 * (1 + sim.below_scale_ratio) * 1.6))
        build_population(self.firms, self.p.baseline, b, sim.below_scale_ratio, sim.steps_per_year, init_rng)
        self.relative_productivity = self.firms.logprod[: self.firms.n].copy()
        self.productivity_change = np.zeros(self.firms.n)
        self._firm_views: dict[int, Firm] = {}
        if firm_agents:
            self.on_entry(slice(0, self.firms.n))

        self.towns = TownTable(self.n_steps + MAX_LAG_YEARS * sim.steps_per_year + 2)
        self._setup_towns()
        self.demand = MarketDemand(self.p.demand, self.p.shocks.events, sim.steps_per_year, self.stream("demand"))
        self.demand_growth = self.demand.growth
        self.agencies = self._setup_agencies()
        self.funds = AgentSet(
            [Fund(self, name, fund, self.p.funds) for name, fund in sorted(self.levers.funds.items()) if fund.enabled],
            random=self.random,
        )
        self.matchmaking = np.zeros(self.n_clusters)
        self.credit_boost = np.zeros(self.n_clusters)
        for agency in self.agencies:
            self.matchmaking[agency.cluster] = agency.matchmaking_uplift
            self.credit_boost[agency.cluster] = agency.credit_boost
        self._attraction_requests: list[tuple[int, int]] = []
        self.talent_multiplier = 1.0
        self.spending = SimpleNamespace(talent=0.0, agencies=0.0, zones=0.0)
        self.step_flows = np.zeros((self.n_clusters, 5))  # subsidy, fund, entrants, exits, attracted
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
        self._density_2020 = np.maximum(self.cells.employment, 1.0)

        zones = self.levers.core_zones
        if zones.enabled:
            pol = self.p.policy
            for cid, members in zones.zones.items():
                c = CLUSTER_INDEX[cid]
                for k, town_id in enumerate(members):
                    i = town_ids().index(town_id)
                    t.zone[i, c] = True
                    t.zone_multiplier[i, c] = 1.0 + (pol.zone_entry_multiplier - 1.0) * pol.zone_diminishing**k
                    t.matching_money[i] = zones.matching_money * ZONE_CITY_AND_TOWN  # once per zone town
            if zones.land_priority:
                is_zone = t.zone.any(axis=1)
                t.reserved_for[is_zone] = t.zone[is_zone]

        lever = self.levers.land
        mu = lever.redevelopment_mu_per_year if lever.enabled else land.background_mu_per_year
        # city-wide redevelopment serves all industrial firms; the modelled firms get their share
        self.floor_share = min(1.0, t.floor_stock.sum() / (land.city_floor_million_m2 * 1e6))
        pipeline = SimpleNamespace(
            mu_per_step=mu * self.dt * self.floor_share,
            project_mu=lever.min_project_mu,
            conversion=land.pipeline_conversion,
            approval_lag=int(round(land.approval_lag_years * self.steps_per_year)),
            delivery_lag=int(round(land.delivery_lag_years * self.steps_per_year)),
            old_floor_ratio=land.old_floor_ratio,
            multiplier=lever.floor_multiplier,
            priority_share=lever.cluster_priority_share if lever.enabled else 0.0,
        )
        self._pipeline = pipeline
        for i in range(t.n):
            Town(self, i, pipeline).fill_pipeline(land.prior_mu_per_year * self.dt * self.floor_share)

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
        self.step_flows[:] = 0.0
        self.demand_growth = self.demand.step(time, self.stream("demand"))
        self.approved_projects = self._draw_redevelopment_projects()
        self.agents_by_type[Town].do("step")  # redevelopment pipeline delivers floor space
        self.common_productivity += self.p.behaviour.frontier_productivity_growth / 100.0 * self.dt
        firm_rules.update_productivity(self)
        self.agencies.do("step")  # spend budgets, attract investors
        self.step_flows[:, 0] += firm_rules.rd_and_subsidies(self)
        self.funds.do("step")  # equity into young and small firms
        self._grow_talent_pool()
        wanted = firm_rules.desired_revenue(self)
        firm_rules.expand_and_produce(self, wanted)
        self._exit(firm_rules.account_and_exit(self))
        self._enter()
        self._designate()
        self.cells = cells.aggregate(self)
        update_rents(self.towns, self.cells.occupied_floor, self.p.land.rent_elasticity)
        release_reserved(self.towns, RESERVED_RELEASE)
        self._pay_fixed_programmes()
        self.recorder.record()
        if self.datacollector is not None:
            self.datacollector.collect(self)
        self.running = self.steps < self.n_steps

    def run(self) -> ReplicateResult:
        """Step to the horizon (from wherever ``step()`` left off) and return the series."""
        while self.running:
            self.step()
        return self.recorder.result(seed=self._seed, parameters=flatten(self.p))

    # --- mechanisms the schedule calls ------------------------------------------------------
    def stream(self, purpose: str) -> np.random.Generator:
        """The random stream of one mechanism at the current step (see streams.py)."""
        return self.streams.get(purpose, self.steps)

    def _draw_redevelopment_projects(self) -> np.ndarray:
        """Projects of ``min_project_mu`` announced in each town this step and later approved."""
        pipeline = self._pipeline
        share = self.towns.weight / self.towns.weight.sum()
        rng = self.stream("redevelopment")
        projects = rng.poisson(pipeline.mu_per_step * share / pipeline.project_mu)
        return rng.binomial(projects, pipeline.conversion)

    def attract_investment(self, cluster: int, count: int) -> None:
        """Called by a promotion agency: investors from its list who want to locate here."""
        self._attraction_requests.append((cluster, count))

    def screening_score(self, truth: np.ndarray) -> np.ndarray:
        """Applicant ranking: the agencies screen when they exist, otherwise it is a lottery."""
        quality = self.levers.agencies.screening_quality if len(self.agencies) else 0.0
        return screen(truth, quality, self.stream("screening"))

    def _grow_talent_pool(self) -> None:
        lever, tp = self.levers.talent, self.p.talent
        talent = self.cells.capacity * self.talent_per_capacity[:, None]  # (cluster, town), as of the last step
        employed = talent.sum(axis=0)
        multiplier, graduates = 1.0, 0.0
        if lever.enabled and lever.subsidy > 0:
            policy_talent = float(np.delete(talent, CLUSTER_INDEX["other"], axis=0).sum())
            wanted = lever.subsidy * policy_talent
            paid = min(wanted, lever.budget_cap * 100.0)
            coverage = paid / wanted if wanted > 0 else 0.0
            multiplier = inflow_multiplier(lever.subsidy, coverage, tp.skilled_income, tp.location_choice_beta,
                                           tp.outside_match)
            self.spending.talent += paid * self.dt
        if lever.enabled:
            graduates = lever.graduate_places
        self.talent_multiplier = multiplier
        self.towns.talent_free = talent_step(self.towns.talent_free, employed, tp.inflow_rate, tp.attrition_rate,
                                             multiplier, graduates, self.dt)

    def _exit(self, rows: np.ndarray) -> None:
        if rows.size == 0:
            return
        f = self.firms
        firm_rules.release_inputs(self, rows, f.capacity[rows])
        np.add.at(self.step_flows[:, 3], f.cluster[rows], 1)
        for name in ("revenue", "capacity", "cash", "capital", "rd", "target"):
            getattr(f, name)[rows] = 0.0
        f.alive[rows] = False
        f.above_scale[rows] = False
        f.chain_leader[rows] = False
        if self._firm_views:
            for r in rows.tolist():
                view = self._firm_views.pop(r, None)
                if view is not None:
                    view.remove()

    def _enter(self) -> None:
        came = entry.attracted(self, self._attraction_requests)
        self._attraction_requests = []
        external = entry.attracted(self, entry.external_requests(self), ORIGIN_EXTERNAL)
        for group in (entry.spinoffs(self), came, external):
            admitted = entry.admit(self, group)
            np.add.at(self.step_flows[:, 2], group["cluster"][admitted], 1)
            if group is came:
                np.add.at(self.step_flows[:, 4], group["cluster"][admitted], 1)

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
        """New rows exist in the firm table: extend per-firm scratch arrays and create views."""
        n, old = self.firms.n, self.relative_productivity.size
        if old < n:
            fresh = self.firms.logprod[old:n] - self.common_productivity
            self.relative_productivity = np.concatenate([self.relative_productivity, fresh])
        if self.firm_agents:
            for r in range(rows.start, rows.stop):
                self._firm_views[r] = Firm(self, r)

    def _designate(self) -> None:
        f, n = self.firms, self.firms.n
        lever = self.levers.subsidy
        now_above = f.alive[:n] & (f.revenue[:n] >= 20.0)
        new = np.flatnonzero(now_above & ~f.rewarded[:n])
        f.above_scale[:n] = now_above
        if new.size:
            f.rewarded[new] = True
            if lever.enabled and lever.abovescale_entry_reward > 0:
                f.cash[new] += lever.abovescale_entry_reward
                np.add.at(self.step_flows[:, 0], f.cluster[new], lever.abovescale_entry_reward)
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
            sme = f.alive[:n] & (f.revenue[:n] >= 20.0) & (f.revenue[:n] <= 400.0) & ~f.little_giant[:n]
            sme &= f.cluster[:n] != CLUSTER_INDEX["other"]
            rows = np.flatnonzero(sme)
            if rows.size:
                best = rows[top(self.relative_productivity[rows], lever.little_giants_per_year)]
                f.little_giant[best] = True
                f.cash[best] += lever.little_giant_reward
                np.add.at(self.step_flows[:, 0], f.cluster[best], lever.little_giant_reward)

    def _pay_fixed_programmes(self) -> None:
        self.spending.agencies += sum(a.budget for a in self.agencies) * self.dt
        self.spending.zones += float(self.towns.matching_money.sum()) * self.dt
        for fund in self.funds:
            self.step_flows[:, 1] += fund.step_investment

    # --- aggregate views used by the rules and the recorder ------------------------------------
    def local_density_ratio(self) -> np.ndarray:
        """log of own-cluster employment in each town relative to 2020 (as of the last step), bounded."""
        return np.clip(np.log(np.maximum(self.cells.employment, 1.0) / self._density_2020), -2.0, 2.0)

    def town_density_ratio(self) -> np.ndarray:
        """log of each town's occupied floor relative to 2020 (as of the last step)."""
        return np.log(np.maximum(self.cells.occupied_floor, 1.0) / self._occupied_2020)


def top(values: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest values, largest first (ties by position)."""
    if k >= values.size:
        return np.argsort(-values, kind="stable")
    part = np.argpartition(-values, k - 1)[:k]
    return part[np.lexsort((part, -values[part]))]
