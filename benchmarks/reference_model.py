"""A reference implementation of the firm rules in Mesa's ordinary per-agent style.

Not for users: it exists to benchmark the vectorised engine against (``compare_engines.py``)
and as a correctness oracle for it (``tests/test_engine_agreement.py``).

:class:`ReferenceModel` subclasses :class:`simulation.model.model.ClusterModel` and keeps
everything that is not a firm's own arithmetic: the initial population, towns and their
redevelopment pipeline, market demand, promotion agencies, funds, entry, designations, rents,
the recorder - and the schedule itself: its ``step`` is the engine's ``step``, run with the
engine's module of firm rules (:mod:`simulation.model.firm_rules`) replaced by
:data:`PER_AGENT_RULES`, which answers the same six calls (productivity, R&D and subsidies,
desired revenue, expansion and shedding, accounts and exit, release of an exiting firm's inputs)
by running phases of :class:`RefFirm` agents with ``AgentSet.do``. A ``RefFirm`` is a
``mesa.Agent`` that keeps its state in ordinary Python attributes and does its own scalar
arithmetic (Python floats, :mod:`math`, its own random draws). So the two implementations
cannot differ in anything but the firm rules; and a rule the engine starts calling that the
reference lacks fails loudly (there is no fallback to the vectorised module).

Where the rules need something of all firms, the model does what a Mesa model would do: it
loops over its agents. Employment density per (cluster, town) and each cluster's mean
productivity are sums the model accumulates from the agents; rationing of a town's vacant floor
and free talent keeps the engine's pro-rata semantics in two passes (firms post requests, the
model computes each town's ratio, firms take their grants) - three rounds for the three floor
grades served in order (old, reserved, modern); the R&D subsidy office collects applicants,
ranks them by a noisy score and pays grants down the ranking until the budget is spent.

State shared with the vectorised parts of the model: the agent's own columns (revenue,
capacity, R&D, capital, age, ...) are copied into the model's FirmTable once a step after the
firm phases (``_push``; relative productivity also before the funds read it), so that the
recorder, funds, entry and designations see the same table the engine would. Cash, which funds
and designations also pay into, and the above-scale flag, which designations own, are read and
written in the table directly. The copying is timed separately (``sync_seconds``).

Draws: by default each firm draws from the model's ``random.Random`` (``self.random``), so the
reference and the engine agree in distribution only. With ``shared_draws=True`` the firms take
the numbers the engine would have drawn for their rows from the engine's keyed streams; then
the two implementations follow the same path up to floating-point rounding (a deterministic
oracle: the recorded series agree to about 1e-13 over the whole 2021-2025 horizon).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager

import mesa
import numpy as np

from simulation.datapack import ABOVE_SCALE_THRESHOLD
from simulation.model.firm_rules import (
    CATCH_UP_RATE,
    CONSTRAINED_ACCESS,
    EMERGING_IDX,
    IDLE_COST,
    KNOWLEDGE_DEPRECIATION,
    MATURE_YEARS,
    MIN_REVENUE,
    PILLAR_IDX,
    REVENUE_TFP_ELASTICITY,
    SHRINK_SPEED,
    SHRINK_UTILISATION,
    SME_REVENUE,
    YOUNG_YEARS,
    unit_laplace,
)
from simulation.model import model as engine_model
from simulation.model.floor_market import MODERN, OLD, RESERVED
from simulation.model.model import ClusterModel
from simulation.scenario.schema import ScenarioSpec


class RefFirm(mesa.Agent):
    """One firm; its state is plain Python attributes, its rules scalar code."""

    def __init__(self, model: ReferenceModel, row: int) -> None:
        super().__init__(model)
        f = model.firms
        self.row = row
        self.phase = row % model.steps_per_year  # the quarter of its yearly review
        c = self.cluster = int(f.cluster[row])
        self.town = int(f.town[row])
        # constants of the firm and its cluster
        self.prod_permanent = float(f.prod_permanent[row])
        self.absorptive = float(f.absorptive[row])  # fixed at entry
        self.target = float(f.target[row])
        self.rd_intensity = model.rd_intensity_list[c]
        self.floor_per_capacity = model.floor_per_capacity_list[c]
        self.talent_per_capacity = model.talent_per_capacity_list[c]
        self.employees_per_capacity = model.employees_per_capacity_list[c]
        self.needs_modern = model.needs_modern_list[c]
        # state
        self.revenue = float(f.revenue[row])
        self.capacity = float(f.capacity[row])
        self.prod_transient = float(f.prod_transient[row])
        self.knowledge = float(f.knowledge[row])
        self.logprod = float(f.logprod[row])
        self.rd = float(f.rd[row])
        self.capital = float(f.capital[row])
        self.age = int(f.age[row])
        self.loss_streak = int(f.loss_streak[row])
        self.relative = float(model.relative_productivity[row])
        self.productivity_change = 0.0
        self.constrained = False
        self.reviewing = False
        self.wanted = 0.0
        self.need = 0.0
        self.base_rd = 0.0

    # --- helpers ---------------------------------------------------------------------------
    def size_factor(self) -> float:
        """Volatility falls with size as size**-beta, 1 at the 20 M threshold."""
        return (max(self.revenue, 1e-3) / ABOVE_SCALE_THRESHOLD) ** (-self.model.b.size_volatility_exponent)

    # --- phase 1: productivity, and R&D at the yearly review --------------------------------
    def update_productivity(self) -> None:
        m, b = self.model, self.model.b
        self.reviewing = self.phase == m.review_phase
        if self.reviewing:
            if m.z_productivity is None:
                z = m.unit_laplace_draw()
            else:
                z = m.z_productivity[self.row // m.steps_per_year]
            self.prod_transient = (
                b.productivity_persistence * self.prod_transient + b.productivity_volatility * self.size_factor() * z
            )
        base_rd = self.rd_intensity * self.revenue
        ratio = self.rd / max(base_rd, 1e-12) if base_rd > 0 else 1.0
        self.knowledge += KNOWLEDGE_DEPRECIATION * m.dt * (ratio - self.knowledge)
        agglomeration = b.agglomeration_elasticity * self.absorptive * m.density[self.cluster][self.town]
        congestion = b.congestion_elasticity * m.town_density[self.town]
        rd_effect = b.rd_elasticity * self.absorptive * math.log(max(self.knowledge, 1e-6))
        relative = self.prod_permanent + self.prod_transient + rd_effect + agglomeration - congestion
        self.productivity_change = relative - self.relative
        self.relative = relative
        self.logprod = relative + m.common_productivity
        m.cluster_sum[self.cluster] += relative
        m.cluster_count[self.cluster] += 1
        if self.reviewing:  # set this year's R&D; apply for a subsidy
            self.base_rd = self.rd_intensity * self.revenue
            self.rd = self.base_rd
            m.reviewers.append(self)

    def receive_grant(self, amount: float) -> None:
        m, b = self.model, self.model.b
        m.firms.cash[self.row] += amount
        real_extra = (1.0 - b.relabel_share) * b.rd_response * amount
        self.rd = max(self.rd + real_extra, 0.1 * self.base_rd)

    # --- phase 2: what customers want; ask for floor and talent ------------------------------
    def plan(self) -> None:
        m, b = self.model, self.model.b
        c, revenue = self.cluster, self.revenue
        growth = m.demand_growth_list[c] + b.selection_strength * self.relative
        if revenue < SME_REVENUE:
            growth += m.matchmaking_list[c]
        target = self.target
        catch_up = CATCH_UP_RATE * math.log(max(target, 1e-9) / max(revenue, 1e-9)) if target > revenue else 0.0
        log_change = (growth + catch_up) * m.dt + REVENUE_TFP_ELASTICITY * self.productivity_change
        if self.reviewing:  # a Laplace shock to the log growth rate, once a year
            scale = min(max(b.growth_shock_scale * self.size_factor(), 0.01), 0.9)
            log_change += scale * m.laplace(self.row)
        self.wanted = wanted = revenue * math.exp(log_change)
        efficiency = math.exp(self.logprod)
        need = wanted / efficiency - self.capacity
        if need > 0:
            self.need = need
            self.floor_request = self.floor_per_capacity * need
            self.talent_request = self.talent_per_capacity * need
            m.talent_demand[self.town] += self.talent_request
            self.request = 0.0 if self.needs_modern else self.floor_request
            m.floor_demand[OLD][self.town] += self.request
            m.growers.append(self)
        else:
            self.need = 0.0

    def take_old_ask_reserved(self) -> None:
        m = self.model
        self.got_old = self.request * m.floor_ratio[OLD][self.town]
        self.remaining = self.floor_request - self.got_old
        self.request = self.remaining if m.reserved_for[self.town][self.cluster] else 0.0
        m.floor_demand[RESERVED][self.town] += self.request

    def take_reserved_ask_modern(self) -> None:
        m = self.model
        self.got_reserved = self.request * m.floor_ratio[RESERVED][self.town]
        self.remaining -= self.got_reserved
        self.request = self.remaining
        m.floor_demand[MODERN][self.town] += self.request

    # --- phase 3: expand within floor, talent and finance; shed idle capacity ---------------
    def produce(self) -> None:
        m, b = self.model, self.model.b
        town = self.town
        self.efficiency = efficiency = math.exp(self.logprod)
        if self.need > 0:
            dx = self.need
            got_modern = self.request * m.floor_ratio[MODERN][town]
            floor_frac = (self.got_old + self.got_reserved + got_modern) / self.floor_request
            talent_frac = self.talent_request * m.talent_ratio[town] / max(self.talent_request, 1e-12)
            invest_req = b.capital_per_revenue * dx * efficiency
            mature = self.age >= MATURE_YEARS * m.steps_per_year and m.firms.above_scale[self.row]
            access = 1.0 if mature else CONSTRAINED_ACCESS + m.credit_boost_list[self.cluster]
            cash = float(m.firms.cash[self.row])
            available = cash + b.finance_leverage * access * self.capital
            finance_frac = min(max(available / max(invest_req, 1e-12), 0.0), 1.0)
            frac = min(floor_frac, talent_frac, finance_frac)
            added = frac * dx
            share = frac / max(floor_frac, 1e-300)
            m.floor_taken[OLD][town] += self.got_old * share
            m.floor_taken[RESERVED][town] += self.got_reserved * share
            m.floor_taken[MODERN][town] += got_modern * share
            m.talent_taken[town] += self.talent_per_capacity * added
            spend = b.capital_per_revenue * added * efficiency
            m.firms.cash[self.row] = cash - spend
            self.capital += spend
            self.capacity += added
            self.constrained = frac < 0.999
        else:
            self.constrained = False
        wanted = self.wanted
        if wanted / max(efficiency * self.capacity, 1e-12) < SHRINK_UTILISATION:
            shed = SHRINK_SPEED * max(self.capacity - wanted / efficiency / 0.85, 0.0)
            self.release(shed)
            self.capacity -= shed
        self.revenue = min(wanted, efficiency * self.capacity)

    # --- phase 4: profits, loss streaks, exit ----------------------------------------------
    def account(self) -> None:
        m, b = self.model, self.model.b
        revenue = self.revenue
        utilisation = revenue / max(self.efficiency * self.capacity, 1e-12)
        margin = (
            b.base_margin
            + b.margin_slope * (self.relative - m.cluster_mean[self.cluster])
            - m.rent_cost_share * (m.rent_index_list[self.town] - 1.0)
            - IDLE_COST * (1.0 - min(utilisation, 1.0))
        )
        profit = margin * revenue
        m.firms.cash[self.row] += profit * m.dt
        self.loss_streak = self.loss_streak + 1 if profit < 0 else 0
        self.age += 1
        exits = self.loss_streak >= m.exit_loss_steps or revenue < MIN_REVENUE
        if self.reviewing and self.age < YOUNG_YEARS * m.steps_per_year:  # early-failure hazard
            exits = m.uniform_early_failure(self.row) < b.exit_hazard_young or exits
        if exits:
            m.exiting.append(self.row)

    def release(self, capacity: float) -> None:
        """Return the floor and talent of ``capacity`` units to the town's pools."""
        m = self.model
        m.floor_released[MODERN if self.needs_modern else OLD][self.town] += self.floor_per_capacity * capacity
        m.talent_released[self.town] += self.talent_per_capacity * capacity


class ReferenceModel(ClusterModel):
    """ClusterModel with the firm rules run per agent (see the module docstring)."""

    def __init__(self, spec: ScenarioSpec, rng: int, *, shared_draws: bool = False) -> None:
        self.shared_draws = shared_draws
        self.sync_seconds = 0.0
        super().__init__(spec, rng=rng, firm_agents=False)
        b = self.p.behaviour
        self.b = b
        self.rent_cost_share = self.p.land.rent_cost_share
        self.rd_intensity_list = self.rd_intensity.tolist()
        self.floor_per_capacity_list = self.floor_per_capacity.tolist()
        self.talent_per_capacity_list = self.talent_per_capacity.tolist()
        self.employees_per_capacity_list = self.employees_per_capacity.tolist()
        self.needs_modern_list = [bool(x) for x in self.needs_modern]
        self.matchmaking_list = self.matchmaking.tolist()
        self.credit_boost_list = self.credit_boost.tolist()
        self.density_2020_list = self._density_2020.tolist()
        self.occupied_2020_list = self._occupied_2020.tolist()
        self.z_productivity = self.u_growth = self.u_failure = None
        self.by_row: dict[int, RefFirm] = {}
        self._created = 0
        self._create_agents(self.firms.n)
        self.firm_set = self.agents_by_type[RefFirm]
        self.rules = PER_AGENT_RULES  # what answers the schedule's firm-rule calls (benchmarks wrap it)

    # --- agents for table rows ----------------------------------------------------------------
    def _create_agents(self, upto: int) -> None:
        for row in range(self._created, upto):
            self.by_row[row] = RefFirm(self, row)
        self._created = upto

    def on_entry(self, rows: slice) -> None:
        super().on_entry(rows)
        if hasattr(self, "_created"):  # after __init__: entrants get their agents
            self._create_agents(rows.stop)

    # --- the schedule ---------------------------------------------------------------------------
    def step(self) -> None:
        """One quarter: the engine's own schedule, with its firm-rule calls answered per agent."""
        with firm_rules_replaced_by(self.rules):
            super().step()

    def _exit(self, rows: np.ndarray) -> None:
        super()._exit(rows)  # flows and table rows; inputs come back through PER_AGENT_RULES.release_inputs
        for row in rows.tolist():
            self.by_row.pop(row).remove()

    # --- the firm rules, answered per agent ----------------------------------------------------
    def _phase_productivity(self) -> None:
        """Review quarter, draws in shared mode, densities summed over the agents; then each firm."""
        spy, n = self.steps_per_year, self.firms.n
        self.review_phase = self.steps % spy
        if self.shared_draws:  # the engine's numbers, one per row under review
            k = len(range(self.review_phase, n, spy))
            self.z_productivity = unit_laplace(self.stream("productivity"), k).tolist()
        n_towns, n_clusters = self.towns.n, self.n_clusters
        employment = [[0.0] * n_towns for _ in range(n_clusters)]
        occupied = [0.0] * n_towns
        for firm in self.firm_set:
            employment[firm.cluster][firm.town] += firm.employees_per_capacity * firm.capacity
            occupied[firm.town] += firm.floor_per_capacity * firm.capacity
        self.density = [
            [min(max(math.log(max(e, 1.0) / e0), -2.0), 2.0) for e, e0 in zip(row, row0)]
            for row, row0 in zip(employment, self.density_2020_list)
        ]
        self.town_density = [math.log(max(o, 1.0) / o0) for o, o0 in zip(occupied, self.occupied_2020_list)]
        self.cluster_sum = [0.0] * n_clusters
        self.cluster_count = [0.0] * n_clusters
        self.reviewers: list[RefFirm] = []
        self.firm_set.do("update_productivity")
        self.cluster_mean = [s / max(k, 1.0) for s, k in zip(self.cluster_sum, self.cluster_count)]

    def _subsidy_office(self) -> np.ndarray:
        """R&D grants: applicants ranked by a noisy score, paid down the ranking within budget."""
        grants = [0.0] * self.n_clusters
        lever = self.levers.subsidy
        reviewers = sorted(self.reviewers, key=lambda a: a.row)  # row order, as the engine's draws
        if lever.enabled and reviewers:
            budget = lever.rd_budget * 100.0 * self.dt
            k = len(reviewers)
            mean = sum(a.relative for a in reviewers) / k
            sd = math.sqrt(sum((a.relative - mean) ** 2 for a in reviewers) / k)
            quality = self.levers.agencies.screening_quality if len(self.agencies) else 0.0
            noise = self.stream("screening").standard_normal(k).tolist() if self.shared_draws else None
            score = {}
            for i, a in enumerate(reviewers):
                z = noise[i] if noise is not None else self.random.gauss(0.0, 1.0)
                score[a.row] = quality * (a.relative - mean) / max(sd, 1e-9) + (1.0 - quality) * z
            for group, share in ((EMERGING_IDX, lever.emerging_share), (PILLAR_IDX, 1.0 - lever.emerging_share)):
                members = set(group.tolist())
                applicants = [a for a in reviewers if a.cluster in members and a.base_rd >= 0.5]
                applicants.sort(key=lambda a: -score[a.row])  # stable, as the engine's argsort
                spent, cap = 0.0, budget * share
                for a in applicants:
                    amount = lever.max_share_of_rd * a.base_rd
                    spent += amount
                    if spent > cap:
                        break
                    a.receive_grant(amount)
                    grants[a.cluster] += amount
        self._push(relative_only=True)  # the funds rank firms by relative productivity
        return np.array(grants)

    def _phase_plan(self) -> None:
        if self.shared_draws:
            k = len(range(self.review_phase, self.firms.n, self.steps_per_year))
            self.u_growth = self.stream("growth").random(k).tolist()
        n = self.towns.n
        self.demand_growth_list = self.demand_growth.tolist()
        self.growers: list[RefFirm] = []
        self.floor_demand = [[0.0] * n for _ in range(3)]
        self.talent_demand = [0.0] * n
        self.firm_set.do("plan")

    def _phase_produce(self) -> None:
        """Pro-rata rationing of each town's pools in rounds, then every firm produces."""
        t = self.towns
        self.reserved_for = t.reserved_for.tolist()
        self.floor_ratio = [None, None, None]
        self.floor_ratio[OLD] = _ratios(self.floor_demand[OLD], t.vacant[:, OLD].tolist())
        self.talent_ratio = _ratios(self.talent_demand, t.talent_free.tolist())
        for firm in self.growers:
            firm.take_old_ask_reserved()
        self.floor_ratio[RESERVED] = _ratios(self.floor_demand[RESERVED], t.vacant[:, RESERVED].tolist())
        for firm in self.growers:
            firm.take_reserved_ask_modern()
        self.floor_ratio[MODERN] = _ratios(self.floor_demand[MODERN], t.vacant[:, MODERN].tolist())
        self._open_pools()
        self.firm_set.do("produce")
        self._close_pools()

    def _phase_account(self) -> np.ndarray:
        if self.shared_draws:
            k = len(range(self.review_phase, self.firms.n, self.steps_per_year))
            self.u_failure = self.stream("early-failure").random(k).tolist()
        self.rent_index_list = self.towns.rent_index.tolist()
        self.exiting: list[int] = []
        self.firm_set.do("account")
        self._push()  # the rest of the schedule reads the table
        return np.array(sorted(self.exiting), dtype=np.intp)

    def _release(self, rows: np.ndarray) -> None:
        """Exiting firms return all their floor and talent."""
        self._open_pools()
        for row in rows.tolist():
            firm = self.by_row[row]
            firm.release(firm.capacity)
        self._close_pools()

    def unit_laplace_draw(self) -> float:
        """A Laplace draw with standard deviation 1, from the agent's own random source."""
        u = self.random.random() - 0.5
        while u == -0.5:
            u = self.random.random() - 0.5
        return -math.copysign(1.0, u) * math.log1p(-2.0 * abs(u)) / math.sqrt(2.0) if u else 0.0

    def laplace(self, row: int) -> float:
        """A standard Laplace draw (scale 1) for the firm in ``row``."""
        if self.u_growth is not None:
            u = self.u_growth[row // self.steps_per_year] - 0.5
        else:
            u = self.random.random() - 0.5
            while u == -0.5:
                u = self.random.random() - 0.5
        return -math.copysign(1.0, u) * math.log1p(-2.0 * abs(u)) if u else 0.0

    def uniform_early_failure(self, row: int) -> float:
        if self.u_failure is not None:
            return self.u_failure[row // self.steps_per_year]
        return self.random.random()

    def _open_pools(self) -> None:
        n = self.towns.n
        self.floor_taken = [[0.0] * n for _ in range(3)]
        self.floor_released = [[0.0] * n for _ in range(3)]
        self.talent_taken = [0.0] * n
        self.talent_released = [0.0] * n

    def _close_pools(self) -> None:
        """The towns' pools after this round's takes and releases."""
        t = self.towns
        for pool in (OLD, RESERVED, MODERN):
            t.vacant[:, pool] -= self.floor_taken[pool]
        t.talent_free -= np.array(self.talent_taken)
        for pool in (OLD, MODERN):
            t.vacant[:, pool] += self.floor_released[pool]
        t.talent_free += np.array(self.talent_released)

    def _push(self, relative_only: bool = False) -> None:
        """Copy the agents' own state into the FirmTable for the vectorised parts of the model."""
        started = time.process_time()
        agents = list(self.firm_set)
        rows = np.fromiter((a.row for a in agents), np.intp, len(agents))
        self.relative_productivity[rows] = [a.relative for a in agents]
        if not relative_only:
            f = self.firms
            f.revenue[rows] = [a.revenue for a in agents]
            f.capacity[rows] = [a.capacity for a in agents]
            f.rd[rows] = [a.rd for a in agents]
            f.capital[rows] = [a.capital for a in agents]
            f.knowledge[rows] = [a.knowledge for a in agents]
            f.prod_transient[rows] = [a.prod_transient for a in agents]
            f.logprod[rows] = [a.logprod for a in agents]
            f.age[rows] = [a.age for a in agents]
            f.loss_streak[rows] = [a.loss_streak for a in agents]
        self.sync_seconds += time.process_time() - started


def _ratios(demand: list[float], pool: list[float]) -> list[float]:
    """Each town's share of its request that every firm gets: all of it unless the pool is short."""
    out = []
    for d, v in zip(demand, pool):
        v = max(v, 0.0)
        out.append(v / d if d > v else 1.0)
    return out


class _PerAgentRules:
    """Stands in for :mod:`simulation.model.firm_rules` while a ReferenceModel steps.

    The engine's schedule calls these with the model; each runs the agents' phase instead of
    the vectorised rule. There is deliberately no fallback to the engine's module: a rule the
    engine starts calling that the reference does not implement fails loudly here.
    """

    @staticmethod
    def update_productivity(m: ReferenceModel) -> None:
        m._phase_productivity()

    @staticmethod
    def rd_and_subsidies(m: ReferenceModel) -> np.ndarray:
        return m._subsidy_office()

    @staticmethod
    def desired_revenue(m: ReferenceModel) -> None:
        m._phase_plan()

    @staticmethod
    def expand_and_produce(m: ReferenceModel, wanted: None) -> None:
        m._phase_produce()

    @staticmethod
    def account_and_exit(m: ReferenceModel) -> np.ndarray:
        return m._phase_account()

    @staticmethod
    def release_inputs(m: ReferenceModel, rows: np.ndarray, capacity: np.ndarray) -> None:
        m._release(rows)


PER_AGENT_RULES = _PerAgentRules()


@contextmanager
def firm_rules_replaced_by(rules: object) -> Iterator[None]:
    """Within the block, the engine's schedule (``simulation.model.model``) calls ``rules``."""
    engine_rules = engine_model.firm_rules
    engine_model.firm_rules = rules
    try:
        yield
    finally:
        engine_model.firm_rules = engine_rules
