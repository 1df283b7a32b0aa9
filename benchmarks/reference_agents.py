"""The firm agent of the per-agent reference (:mod:`reference_model`): one ``mesa.Agent`` a firm.

A :class:`RefFirm` keeps its state in ordinary Python attributes and applies the firm rules of
:mod:`simulation.model.firm_rules` to itself with scalar arithmetic (Python floats, :mod:`math`),
including its own versions of the engine's helpers (efficiency, credit limit, finance
constraint, the grades of floor it may rent). Its methods are the phases the
:class:`reference_model.ReferenceModel` runs over all its firms with ``AgentSet.do``, in the
engine's order: productivity, R&D (reviewing firms), plans and floor requests, expansion and
production, accounts and exit. Whatever needs all firms at once (cluster means, pro-rata
rationing ratios, the subsidy office's ranking) the model computes from what the agents post.
Its draws come from the model (:meth:`ReferenceModel.draw_activity` and friends): the engine's
numbers in shared-draws mode, the model's own ``random.Random`` otherwise.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import mesa

from simulation.datapack import ABOVE_SCALE_THRESHOLD
from simulation.model.firm_rules import (
    CATCH_UP_RATE,
    CATCH_UP_YEARS,
    CONSTRAINED_ACCESS,
    DEMAND_ELASTICITY,
    IDLE_COST,
    KNOWLEDGE_DEPRECIATION,
    MATURE_YEARS,
    MAX_SHOCK_SCALE,
    MIN_REVENUE,
    MARKUP,
    REVENUE_TFP_ELASTICITY,
    SHRINK_SPEED,
    SHRINK_UTILISATION,
    SME_REVENUE,
    YOUNG_YEARS,
)
from simulation.model.floor_market import BASE, GRADES, MODERN, OLD, ORDER, RESERVED

if TYPE_CHECKING:
    from reference_model import ReferenceModel


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
        self.rd_intensity = model.rd_intensity_list[c]
        self.floor_per_capacity = model.floor_per_capacity_list[c]
        self.talent_per_capacity = model.talent_per_capacity_list[c]
        self.skilled_wage_share = model.skilled_wage_share_list[c]
        self.needs_modern = model.needs_modern_list[c]
        # state
        self.revenue = float(f.revenue[row])
        self.capacity = float(f.capacity[row])
        self.target = float(f.target[row])
        self.prod_transient = float(f.prod_transient[row])
        self.knowledge = float(f.knowledge[row])
        self.logprod = float(f.logprod[row])
        self.rd = float(f.rd[row])
        self.rd_base = float(f.rd_base[row])
        self.capital = float(f.capital[row])
        self.age = int(f.age[row])
        self.loss_streak = int(f.loss_streak[row])
        self.relative = float(model.relative_productivity[row])
        self.productivity_change = 0.0
        self.competitiveness = 0.0
        self.activity = 1.0
        self.reviewing = False
        self.efficiency = self.wanted = self.need = 0.0

    # --- helpers ---------------------------------------------------------------------------
    def size_factor(self) -> float:
        """Volatility falls with size as size**-beta, 1 at the 20 M threshold."""
        return (max(self.revenue, 1e-3) / ABOVE_SCALE_THRESHOLD) ** (-self.model.b.size_volatility_exponent)

    def credit_limit(self) -> float:
        """Credit it may draw: leverage times capital; young or below-scale firms get less."""
        m = self.model
        constrained = self.age < MATURE_YEARS * m.steps_per_year or not m.firms.above_scale[self.row]
        access = CONSTRAINED_ACCESS + m.credit_boost_list[self.cluster] if constrained else 1.0
        return m.b.finance_leverage * access * self.capital

    def may_use(self, pool: int) -> bool:
        """Whether this firm may rent floor of grade ``pool`` in its town."""
        m = self.model
        if pool == OLD:
            return not self.needs_modern
        if pool == BASE:
            return m.base_for[self.cluster]
        if pool == RESERVED:
            return m.reserved_for[self.town][self.cluster]
        return True

    # --- phase 1: productivity ---------------------------------------------------------------
    def update_productivity(self) -> None:
        m, b = self.model, self.model.b
        self.reviewing = self.phase == m.review_phase
        if self.reviewing:  # this year's activity scales both of its innovations
            self.activity = m.draw_activity(self.row)
            innovation = math.sqrt(self.activity) * m.draw_normal("productivity", self.row)
            self.prod_transient = (
                b.productivity_persistence * self.prod_transient
                + b.productivity_volatility * self.size_factor() * innovation
            )
            m.reviewers.append(self)
        ratio = self.rd / max(self.rd_base, 1e-12) if self.rd_base > 0 else 1.0
        self.knowledge += KNOWLEDGE_DEPRECIATION * m.dt * (ratio - self.knowledge)
        agglomeration = b.agglomeration_elasticity * self.absorptive * m.density[self.cluster][self.town]
        congestion = b.congestion_elasticity * m.town_density[self.town]
        rd_effect = b.rd_elasticity * self.absorptive * math.log(max(self.knowledge, 1e-6))
        relative = self.prod_permanent + self.prod_transient + rd_effect + agglomeration - congestion
        self.productivity_change = relative - self.relative
        self.relative = relative
        self.logprod = relative + m.common_productivity
        m.cluster_sum[self.cluster] += relative * self.revenue  # revenue-weighted: selection moves, adds none
        m.cluster_count[self.cluster] += self.revenue
        if self.revenue < SME_REVENUE:
            m.small_revenue[self.cluster] += self.revenue

    # --- phase 2 (reviewing firms): own R&D, agency services, grants --------------------------
    def set_rd(self) -> None:
        m = self.model
        base = self.rd_base = self.rd = self.rd_intensity * self.revenue
        services = m.services_list[self.cluster]
        if services > 0 and self.revenue < SME_REVENUE:  # the agency's innovation services
            members_rd = self.rd_intensity * m.small_revenue[self.cluster]
            self.rd += m.p.policy.services_rd_response * services * base / max(members_rd, 1e-12)

    def receive_grant(self, amount: float) -> None:
        """The grant is in the firm's cash (through the ledger); it raises its R&D."""
        b = self.model.b
        real_extra = (1.0 - b.relabel_share) * b.rd_response * amount
        self.rd = max(self.rd + real_extra, 0.1 * self.rd_base)

    # --- phase 3: what customers want; ask for floor and talent ------------------------------
    def reallocate(self) -> None:
        """Selection and own productivity change: this firm's shift, and its part of the cluster's sums."""
        m, b = self.model, self.model.b
        c = self.cluster
        self.competitiveness = self.relative - m.cluster_mean[c]
        self.shift = shift = b.selection_strength * self.competitiveness * m.dt + REVENUE_TFP_ELASTICITY * self.productivity_change
        m.shift_total[c] += self.revenue
        m.shift_level[c] += self.revenue * math.exp(shift)
        m.shift_mean[c] += self.revenue * shift

    def plan(self) -> None:
        m, b = self.model, self.model.b
        c, revenue = self.cluster, self.revenue
        growth = m.demand_growth_list[c]
        if revenue < SME_REVENUE:
            growth += m.matchmaking_list[c]
        target = self.target
        catch_up = CATCH_UP_RATE * math.log(max(target, 1e-9) / max(revenue, 1e-9)) if target > revenue else 0.0
        log_change = (
            (growth + catch_up) * m.dt
            + (self.shift - m.shift_gap[c])
            - (DEMAND_ELASTICITY - 1.0) * MARKUP * (
                m.rent_cost_share * m.rent_change_list[self.town]
                + self.skilled_wage_share / math.exp(REVENUE_TFP_ELASTICITY * m.common_productivity) * m.wage_change
            )
        )
        if self.reviewing:  # a mean-one Laplace shock to the log growth rate, once a year
            scale = min(max(b.growth_shock_scale * self.size_factor(), 0.01), MAX_SHOCK_SCALE)
            correction = -math.log1p(-scale * scale)  # log E[exp(shock)] of a Laplace shock of this scale
            log_change += math.sqrt(2.0) * scale * m.growth_innovation(self) - correction
        self.wanted = wanted = revenue * math.exp(log_change)
        self.efficiency = efficiency = math.exp(REVENUE_TFP_ELASTICITY * m.common_productivity)  # TFPR is equalised
        need = wanted / efficiency - self.capacity
        if need > 0:
            self.need = need
            self.floor_request = self.remaining = self.floor_per_capacity * need
            self.floor_got = [0.0] * GRADES
            self.talent_request = self.talent_per_capacity * need
            m.talent_demand[self.town] += self.talent_request
            m.growers.append(self)
        else:
            self.need = 0.0

    def ask(self, pool: int) -> None:
        """Request what is still missing from ``pool``, if the firm may use it."""
        self.request = self.remaining if self.may_use(pool) else 0.0
        self.model.floor_demand[self.town] += self.request

    def take(self, pool: int) -> None:
        """Take this round's grant (not yet occupied: see ``produce``)."""
        got = self.request * self.model.floor_ratio[self.town]
        self.floor_got[pool] = got
        self.remaining -= got

    # --- phase 4: expand within floor, talent and finance; shed idle capacity ---------------
    def produce(self) -> None:
        m, b = self.model, self.model.b
        town, efficiency = self.town, self.efficiency
        if self.need > 0:
            dx = self.need
            got = self.floor_got
            floor_frac = (got[OLD] + got[MODERN] + got[RESERVED] + got[BASE]) / self.floor_request
            talent_frac = self.talent_request * m.talent_ratio[town] / max(self.talent_request, 1e-12)
            invest_req = b.capital_per_revenue * dx * efficiency
            cash = float(m.firms.cash[self.row])
            available = max(cash + self.credit_limit(), 0.0)
            finance_frac = min(max(available / max(invest_req, 1e-12), 0.0), 1.0)
            frac = min(floor_frac, talent_frac, finance_frac)
            added = frac * dx
            # skilled workers wanted and not found
            m.talent_unfilled_step += self.talent_request * max(min(floor_frac, finance_frac) - talent_frac, 0.0)
            share = frac / max(floor_frac, 1e-300)
            for pool in ORDER:
                m.floor_taken[pool][town] += got[pool] * share
            m.talent_taken[town] += self.talent_per_capacity * added
            spend = b.capital_per_revenue * added * efficiency
            m.firms.cash[self.row] = cash - spend
            self.capital += spend
            self.capacity += added
        wanted = self.wanted
        if wanted / max(efficiency * self.capacity, 1e-12) < SHRINK_UTILISATION:
            shed = SHRINK_SPEED * m.dt * max(self.capacity - wanted / efficiency / 0.85, 0.0)
            self.release(shed)
            self.capital *= 1.0 - shed / max(self.capacity, 1e-12)  # written off
            self.capacity -= shed
        self.revenue = min(wanted, efficiency * self.capacity)

    # --- phase 5: profits and costs, loss streaks, exit -------------------------------------
    def account(self) -> None:
        m, b = self.model, self.model.b
        spy = m.steps_per_year
        revenue = self.revenue
        utilisation = revenue / max(self.efficiency * self.capacity, 1e-12)
        margin = (
            b.base_margin
            + self.rd_intensity  # base_margin is after usual R&D; the firm pays its actual R&D below
            + b.margin_slope * self.competitiveness
            - IDLE_COST * (1.0 - min(utilisation, 1.0))
        )
        cash = float(m.firms.cash[self.row])
        profit = margin * revenue - self.rd - b.interest_rate * max(-cash, 0.0)
        cash += profit * m.dt
        m.firms.cash[self.row] = cash
        self.loss_streak = self.loss_streak + 1 if profit < 0 else 0
        self.age += 1
        insolvent = max(-cash, 0.0) > self.credit_limit() and profit < 0
        outlook = profit - b.margin_slope * self.prod_transient * revenue
        persistent = self.loss_streak >= m.exit_loss_steps and cash < 0 and outlook < 0
        exits = persistent or revenue < MIN_REVENUE or insolvent
        if self.reviewing and self.age < YOUNG_YEARS * spy:  # early-failure hazard
            exits = m.uniform_early_failure(self.row) < b.exit_hazard_young or exits
        if insolvent:
            m.insolvencies += 1
        if revenue >= self.target or self.age >= CATCH_UP_YEARS * spy:  # the target is reached or expired
            self.target = 0.0
        if exits:
            m.exiting.append(self.row)

    def release(self, capacity: float) -> None:
        """Return the floor and talent of ``capacity`` units to the town's pools."""
        m = self.model
        m.floor_released[MODERN if self.needs_modern else OLD][self.town] += self.floor_per_capacity * capacity
        m.talent_released[self.town] += self.talent_per_capacity * capacity
