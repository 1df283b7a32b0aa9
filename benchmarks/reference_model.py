"""A reference implementation of the firm rules in Mesa's ordinary per-agent style.

Not for users: it exists to benchmark the vectorised engine against (``compare_engines.py``)
and as a correctness oracle for it (``tests/test_engine_agreement.py``).

:class:`ReferenceModel` subclasses :class:`simulation.model.model.ClusterModel` and keeps
everything that is not a firm's own arithmetic: the initial population, towns and their
redevelopment pipeline, market demand, prices, the fiscal ledger, promotion agencies, the
investor pipeline, funds, entry, designations, rents, the talent market, the recorder - and the
schedule itself: its ``step`` is the engine's ``step``, run with the engine's module of firm rules
(:mod:`simulation.model.firm_rules`) replaced by :data:`PER_AGENT_RULES`, which answers the same
six calls (productivity, R&D and subsidies, desired revenue, expansion and shedding, accounts and
exit, release of an exiting firm's inputs) by running phases of :class:`RefFirm` agents
(``benchmarks/reference_agents.py``) with ``AgentSet.do``. A ``RefFirm`` is a ``mesa.Agent`` that keeps its
state in ordinary Python attributes and does its own scalar arithmetic (Python floats,
:mod:`math`, its own random draws), including its own versions of the engine's helpers
(efficiency, credit limit, finance constraint). So the two implementations cannot differ in
anything but the firm rules; and a rule the engine starts calling that the reference lacks fails
loudly (there is no fallback to the vectorised module).

Where the rules need something of all firms, the model does what a Mesa model would do: it
loops over its agents. Each cluster's mean productivity and its small members' revenue are sums
the model accumulates from the agents in the productivity phase; rationing of a town's vacant
floor and free talent keeps the engine's pro-rata semantics in passes (firms post requests, the
model computes each town's ratio, firms take their grants) - four rounds for the four floor
grades served in order (old, base, reserved, modern); the R&D subsidy office collects applicants,
ranks them by a noisy score and pays grants down the ranking until the budget is spent, through
the fiscal ledger. Employment and occupied floor per (cluster, town), for agglomeration and
congestion, are the model's cell sums (``model.cells``), which the shared schedule computes once
at the end of every step anyway: the reference does not sum them a second time.

State shared with the vectorised parts of the model: the agent columns the rest of the schedule
reads (revenue, capacity, R&D, age, target size, relative productivity) are copied into the
model's FirmTable after the firm phases (``_push``; relative productivity also before the funds
read it); the other columns (knowledge, log-TFP, ...) at the end of :meth:`ReferenceModel.run`
(:meth:`ReferenceModel.sync_table`). Cash, which funds, designations and the ledger also pay
into, and the above-scale flag, which designations own, are read and written in the table
directly. The copying is timed separately (``sync_seconds``) so that benchmarks can leave it out.

Draws: by default each firm draws from the model's ``random.Random`` (``self.random``): its
activity (Exponential(1)), and a normal for each of its two innovations, so the reference and the
engine agree in distribution only. With ``shared_draws=True`` the firms take the numbers the
engine would have drawn for their rows from the engine's keyed streams ("activity",
"productivity", "growth", "screening-grants", "early-failure"); then the two implementations follow the
same path up to floating-point rounding (a deterministic oracle: the recorded series agree to
1e-12 or better over the whole 2021-2025 horizon and beyond).
"""

from __future__ import annotations

import math
import time

import numpy as np

from reference_agents import RefFirm
from simulation.model import firm_rules
from simulation.model.firm_rules import EMERGING_IDX, PILLAR_IDX
from simulation.model.floor_market import GRADES, MODERN, OLD, ORDER
from simulation.model.model import ClusterModel
from simulation.model.results import ReplicateResult
from simulation.scenario.schema import ScenarioSpec


class ReferenceModel(ClusterModel):
    """ClusterModel with the firm rules run per agent (see the module docstring)."""

    def __init__(self, spec: ScenarioSpec, rng: int, *, shared_draws: bool = False) -> None:
        self.shared_draws = shared_draws
        self.sync_seconds = 0.0
        super().__init__(spec, rng=rng, firm_agents=False)
        self.b = self.p.behaviour  # the firms read parameters here (a test doubles one)
        self.rent_cost_share = self.p.land.rent_cost_share
        self.rd_intensity_list = self.rd_intensity.tolist()
        self.floor_per_capacity_list = self.floor_per_capacity.tolist()
        self.talent_per_capacity_list = self.talent_per_capacity.tolist()
        self.skilled_wage_share_list = self.skilled_wage_share.tolist()
        self.needs_modern_list = [bool(x) for x in self.needs_modern]
        self.draws: dict[str, list[float]] = {}
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
        """One quarter: the engine's own schedule, with its firm-rule calls (``self.rules``) answered per agent."""
        super().step()

    def run(self) -> ReplicateResult:
        result = super().run()
        self.sync_table()
        return result

    def _exit(self, rows: np.ndarray) -> None:
        super()._exit(rows)  # flows and table rows; inputs come back through PER_AGENT_RULES.release_inputs
        for row in rows.tolist():
            self.by_row.pop(row).remove()

    # --- the firm rules, answered per agent ----------------------------------------------------
    def _phase_productivity(self) -> None:
        """Review quarter, draws in shared mode, densities from the model's cell sums; then each firm."""
        self.review_phase = self.steps % self.steps_per_year
        if self.shared_draws:  # the engine's numbers, one per row under review
            k = self._reviewed_rows()
            self.draws["activity"] = self.stream("activity").exponential(1.0, k).tolist()
            self.draws["productivity"] = self.stream("productivity").standard_normal(k).tolist()
        self.density = self.local_density_ratio().tolist()  # (cluster, town), as of the last step
        self.town_density = self.town_density_ratio().tolist()
        n_clusters = self.n_clusters
        self.cluster_sum = [0.0] * n_clusters
        self.cluster_count = [0.0] * n_clusters
        self.small_revenue = [0.0] * n_clusters
        self.reviewers: list[RefFirm] = []
        self.firm_set.do("update_productivity")
        self.cluster_mean = [s / max(k, 1e-12) for s, k in zip(self.cluster_sum, self.cluster_count)]

    def _phase_rd(self) -> None:
        """Reviewing firms set their R&D (with their agency's services), then the subsidy office."""
        self.services_list = [0.0] * self.n_clusters
        for agency in self.agencies:
            self.services_list[agency.cluster] += agency.services_spend
        for firm in self.reviewers:
            firm.set_rd()
        self._subsidy_office()
        if len(self.funds):
            self._push(relative_only=True)  # the funds rank firms by relative productivity

    def _subsidy_office(self) -> None:
        """R&D grants: applicants ranked by a noisy score, paid down the ranking within budget."""
        lever = self.levers.subsidy
        reviewers = sorted(self.reviewers, key=lambda a: a.row)  # row order, as the engine's draws
        if not lever.enabled or not reviewers:
            return
        budget = lever.rd_budget * 100.0 * self.dt
        k = len(reviewers)
        mean = sum(a.relative for a in reviewers) / k
        sd = math.sqrt(sum((a.relative - mean) ** 2 for a in reviewers) / k)
        quality = self.levers.agencies.screening_quality if any(a.active for a in self.agencies) else 0.0
        noise = self.stream("screening-grants").standard_normal(k).tolist() if self.shared_draws else None
        score = {}
        for i, a in enumerate(reviewers):
            z = noise[i] if noise is not None else self.random.gauss(0.0, 1.0)
            score[a.row] = quality * ((a.relative - mean) / max(sd, 1e-9)) + (1.0 - quality) * z
        for group, share in ((EMERGING_IDX, lever.emerging_share), (PILLAR_IDX, 1.0 - lever.emerging_share)):
            members = set(group.tolist())
            applicants = [a for a in reviewers if a.cluster in members and a.rd_base >= 0.5]
            applicants.sort(key=lambda a: -score[a.row])  # stable, as the engine's argsort
            spent, cap = 0.0, budget * share
            chosen, amounts = [], []
            for a in applicants:
                amount = lever.max_share_of_rd * a.rd_base
                spent += amount
                if spent > cap:
                    break
                chosen.append(a)
                amounts.append(amount)
            self.ledger.pay_firms("rd_grants", self.firms, np.array([a.row for a in chosen], dtype=np.intp),
                                  np.array(amounts))
            for a, amount in zip(chosen, amounts):
                a.receive_grant(amount)

    def _phase_plan(self) -> None:
        if self.shared_draws:
            self.draws["growth"] = self.stream("growth").standard_normal(self._reviewed_rows()).tolist()
        n = self.towns.n
        self.demand_growth_list = self.demand_growth.tolist()
        self.matchmaking_list = self.matchmaking.tolist()
        self.rent_change_list = self.rent_change.tolist()
        self.growers: list[RefFirm] = []
        self.talent_demand = [0.0] * n
        # selection and own productivity change reallocate a cluster's demand (firm_rules.jensen_gap)
        k = self.n_clusters
        self.shift_total, self.shift_level, self.shift_mean = [0.0] * k, [0.0] * k, [0.0] * k
        self.firm_set.do("reallocate")
        self.shift_gap = [
            math.log(max(level, 1e-300) / max(total, 1e-12)) - mean / max(total, 1e-12) if total > 0 else 0.0
            for total, level, mean in zip(self.shift_total, self.shift_level, self.shift_mean)
        ]
        self.firm_set.do("plan")

    def _phase_produce(self) -> None:
        """Pro-rata rationing of each town's pools, one floor grade after another; then every firm produces."""
        t = self.towns
        self.reserved_for = t.reserved_for.tolist()
        self.base_for = t.base_for.tolist()
        self.credit_boost_list = self.credit_boost.tolist()
        self.talent_ratio = _ratios(self.talent_demand, t.talent_free.tolist())
        for pool in ORDER:
            self.floor_demand = [0.0] * t.n
            for firm in self.growers:
                firm.ask(pool)
            self.floor_ratio = _ratios(self.floor_demand, t.vacant[:, pool].tolist())
            for firm in self.growers:
                firm.take(pool)
        self._open_pools()
        self.talent_unfilled_step = 0.0
        self.firm_set.do("produce")
        self.talent_unfilled += self.talent_unfilled_step
        self._close_pools()

    def _phase_account(self) -> np.ndarray:
        if self.shared_draws:
            self.draws["early-failure"] = self.stream("early-failure").random(self._reviewed_rows()).tolist()
        self.exiting: list[int] = []
        self.insolvencies = 0
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

    # --- draws: the engine's (shared) or the model's own random.Random ---------------------------
    def _reviewed_rows(self) -> int:
        """How many rows the engine draws for at this step's review (dead rows included)."""
        return len(range(self.steps % self.steps_per_year, self.firms.n, self.steps_per_year))

    def draw_activity(self, row: int) -> float:
        """Exponential(1): how eventful the firm's year is."""
        if self.shared_draws:
            return self.draws["activity"][row // self.steps_per_year]
        return self.random.expovariate(1.0)

    def draw_normal(self, purpose: str, row: int) -> float:
        if self.shared_draws:
            return self.draws[purpose][row // self.steps_per_year]
        return self.random.gauss(0.0, 1.0)

    def growth_innovation(self, firm: RefFirm) -> float:
        """Unit-variance Laplace innovation of the firm's demand: normal × sqrt(activity)."""
        return math.sqrt(firm.activity) * self.draw_normal("growth", firm.row)

    def uniform_early_failure(self, row: int) -> float:
        if self.shared_draws:
            return self.draws["early-failure"][row // self.steps_per_year]
        return self.random.random()

    # --- pools and the table ---------------------------------------------------------------------
    def _open_pools(self) -> None:
        n = self.towns.n
        self.floor_taken = [[0.0] * n for _ in range(GRADES)]
        self.floor_released = [[0.0] * n for _ in range(GRADES)]
        self.talent_taken = [0.0] * n
        self.talent_released = [0.0] * n

    def _close_pools(self) -> None:
        """The towns' pools after this round's takes and releases."""
        t = self.towns
        for pool in ORDER:
            t.vacant[:, pool] -= self.floor_taken[pool]
        t.talent_free -= np.array(self.talent_taken)
        for pool in (MODERN, OLD):
            t.vacant[:, pool] += self.floor_released[pool]
        t.talent_free += np.array(self.talent_released)

    def _push(self, relative_only: bool = False) -> None:
        """Copy the agent state the vectorised parts of the schedule read into the FirmTable."""
        started = time.process_time()
        agents = list(self.firm_set)
        rows = np.fromiter((a.row for a in agents), np.intp, len(agents))
        self.relative_productivity[rows] = [a.relative for a in agents]
        if not relative_only:
            f = self.firms
            f.revenue[rows] = [a.revenue for a in agents]
            f.capacity[rows] = [a.capacity for a in agents]
            f.rd[rows] = [a.rd for a in agents]
            f.age[rows] = [a.age for a in agents]
            f.target[rows] = [a.target for a in agents]
        self.sync_seconds += time.process_time() - started

    def sync_table(self) -> None:
        """Copy every agent column into the FirmTable (for inspection; the schedule does not need it)."""
        self._push()
        started = time.process_time()
        agents = list(self.firm_set)
        rows = np.fromiter((a.row for a in agents), np.intp, len(agents))
        f = self.firms
        for name in ("rd_base", "capital", "knowledge", "prod_transient", "logprod", "loss_streak"):
            getattr(f, name)[rows] = [getattr(a, name) for a in agents]
        self.productivity_change[rows] = [a.productivity_change for a in agents]
        self.competitiveness[rows] = [a.competitiveness for a in agents]
        self.sync_seconds += time.process_time() - started


def _ratios(demand: list[float], pool: list[float]) -> list[float]:
    """Each town's share of its request that every firm gets: all of it unless the pool is short."""
    out = []
    for d, v in zip(demand, pool):
        v = max(v, 0.0)
        out.append(v / d if d > v else 1.0)
    return out


class _PerAgentRules:
    """Stands in for :mod:`simulation.model.firm_rules` while a ReferenceModel steps (its ``rules``).

    The engine's schedule calls these with the model; each runs the agents' phase instead of
    the vectorised rule. There is deliberately no fallback to the engine's module: a rule the
    engine starts calling that the reference does not implement fails loudly here.
    """

    name = "per-agent"  # not "numba": the model's other sums over firms take their NumPy form

    @staticmethod
    def update_productivity(m: ReferenceModel) -> None:
        m._phase_productivity()

    @staticmethod
    def rd_and_subsidies(m: ReferenceModel) -> None:
        m._phase_rd()

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

    @staticmethod
    def census(m: ReferenceModel):
        """The agencies' count of their small and constrained members: not a firm rule; the engine's own."""
        return firm_rules.census(m)


PER_AGENT_RULES = _PerAgentRules()
