"""One test (or a few) per model mechanism: signs, invariants and conservation laws.

Nothing here asserts a calibrated magnitude: parameters are still being tuned. The models are
small (``below_scale_ratio = 0.1``) and short (two years) unless a mechanism needs more.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulation.datapack import CLUSTER_INDEX, CLUSTERS, EMERGING, PILLARS, io_links, town_ids
from simulation.model import entry, firm_rules, investors
from simulation.model.allocation import pro_rata
from simulation.model.demand import MarketDemand
from simulation.model.firm import Firm
from simulation.model.firm_table import ORIGIN_ATTRACTED, ORIGIN_SPINOFF
from simulation.model.fund import Fund
from simulation.model.model import ClusterModel
from simulation.model.parameters import flatten
from simulation.model.results import CITY_METRICS, CLUSTER_METRICS, TOWN_METRICS
from simulation.model.talent import BASE_SHARE, choice_multiplier, subsidy_gain, talent_step
from simulation.model.town import POLICY, Town
from simulation.model.floor_market import BASE, MODERN, OLD, RESERVED
from simulation.model.ledger import PROGRAMME_INDEX
from simulation.scenario import load_scenario

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml"
FAST = ("simulation.below_scale_ratio=0.1", "simulation.end_year=2022")
#: fixed land lags: approval 2 quarters, delivery 3 quarters -> first delivery in step 1 + 2 + 3
SHORT_LAGS = ("uncertainties.land.approval_lag_years=0.5", "uncertainties.land.delivery_lag_years=0.75")
NO_PRIOR_PIPELINE = "uncertainties.land.prior_mu_per_year=0"
NO_WITHDRAWAL = "uncertainties.land.vacant_withdrawal=0"  # vacant old floor stays industrial
FUNDS_OFF = tuple(f"levers.funds.{name}.enabled=false" for name in ("guidance", "ic", "ma"))
SLUMP = 'uncertainties.shocks.events.slump={cluster="ngei", start=2022.0, duration_years=1.0, growth_change=-15.0}'
NO_EVENTS = "uncertainties.shocks.events={}"  # the baseline's own events (the 2021 rebound) left out

NGEI = CLUSTER_INDEX["ngei"]
OTHER = CLUSTER_INDEX["other"]
EMERGING_IDX = [CLUSTER_INDEX[c] for c in EMERGING]
PILLAR_IDX = [CLUSTER_INDEX[c] for c in PILLARS]


@lru_cache(maxsize=None)
def _spec(overrides: tuple[str, ...]):
    return load_scenario(BASELINE, list(overrides)).spec


def make(*overrides: str, seed: int = 1, firm_agents: bool = True, base: tuple[str, ...] = FAST) -> ClusterModel:
    return ClusterModel(_spec((*base, *overrides)), rng=seed, firm_agents=firm_agents)


def run_steps(m: ClusterModel, k: int | None = None) -> ClusterModel:
    for _ in range(m.n_steps if k is None else k):
        m.step()
    return m


def lags(m: ClusterModel) -> tuple[int, int]:
    land = m.p.land
    return int(round(land.approval_lag_years * m.steps_per_year)), int(round(land.delivery_lag_years * m.steps_per_year))


# --- allocation.pro_rata ------------------------------------------------------------------


def test_pro_rata_grants_in_full_when_the_pool_suffices() -> None:
    requests = np.array([1.0, 2.0, 3.0, 4.0, 0.0])
    groups = np.array([0, 0, 1, 1, 2])
    pools = np.array([3.0, 100.0, 0.0])  # group 0 exactly covered, group 2 requests nothing
    np.testing.assert_array_equal(pro_rata(requests, groups, pools), requests)


def test_pro_rata_is_proportional_when_the_pool_is_short() -> None:
    requests = np.array([1.0, 3.0, 2.0, 2.0, 5.0])
    groups = np.array([0, 0, 1, 1, 2])
    pools = np.array([2.0, 1.0, -4.0])  # a negative pool (overdrawn) grants nothing
    got = pro_rata(requests, groups, pools)
    np.testing.assert_allclose(got, [0.5, 1.5, 0.5, 0.5, 0.0])
    np.testing.assert_allclose(np.bincount(groups, weights=got), [2.0, 1.0, 0.0])


@st.composite
def _rationing(draw):
    n_groups = draw(st.integers(1, 5))
    n = draw(st.integers(0, 25))
    amount = st.one_of(st.just(0.0), st.floats(1e-6, 1e6))  # no underflow artefacts
    requests = np.array(draw(st.lists(amount, min_size=n, max_size=n)), dtype=float)
    groups = np.array(draw(st.lists(st.integers(0, n_groups - 1), min_size=n, max_size=n)), dtype=np.intp)
    pool = st.one_of(st.just(0.0), st.floats(-10.0, -1e-6), st.floats(1e-6, 2e6))
    pools = np.array(draw(st.lists(pool, min_size=n_groups, max_size=n_groups)), dtype=float)
    return requests, groups, pools


@settings(max_examples=200, deadline=None)
@given(_rationing())
def test_pro_rata_properties(case) -> None:
    requests, groups, pools = case
    got = pro_rata(requests, groups, pools)
    assert got.shape == requests.shape
    assert (got >= 0).all()
    assert (got <= requests * (1 + 1e-12)).all()
    demand = np.bincount(groups, weights=requests, minlength=len(pools))
    granted = np.bincount(groups, weights=got, minlength=len(pools))
    available = np.maximum(pools, 0.0)
    # never more than the pool
    assert (granted <= available * (1 + 1e-9) + 1e-9).all()
    for g in range(len(pools)):
        mine = groups == g
        if demand[g] <= pools[g]:  # pool covers everyone: full grants
            np.testing.assert_array_equal(got[mine], requests[mine])
        else:  # short: the whole pool is shared, everyone gets the same fraction
            assert granted[g] == pytest.approx(available[g], rel=1e-9, abs=1e-9)
            asked = mine & (requests > 0)
            if asked.any():
                ratios = got[asked] / requests[asked]
                np.testing.assert_allclose(ratios, ratios[0], rtol=1e-12)


def test_pro_rata_grants_zero_for_zero_requests_from_an_overdrawn_pool() -> None:
    with np.errstate(invalid="ignore"):
        got = pro_rata(np.array([0.0, 1.0]), np.array([0, 1]), np.array([-1e-12, 5.0]))
    np.testing.assert_array_equal(got, [0.0, 1.0])


# --- land: the redevelopment pipeline, pools and reserved floor ------------------------------


@pytest.mark.parametrize("seed", [1, 2])
def test_land_lever_delivers_more_floor_than_background_redevelopment(seed: int) -> None:
    on = run_steps(make(*SHORT_LAGS, seed=seed))
    off = run_steps(make(*SHORT_LAGS, "levers.land.enabled=false", seed=seed))
    assert off.towns.delivered_total.sum() > 0  # background redevelopment still happens
    assert on.towns.delivered_total.sum() > off.towns.delivered_total.sum()
    assert on.towns.floor_stock.sum() > off.towns.floor_stock.sum()


@pytest.mark.parametrize(
    ("overrides", "seed"),
    [(SHORT_LAGS, 1), ((), 3), ((), 4), (("levers.land.enabled=false",), 5)],
)
def test_nothing_is_demolished_or_delivered_before_the_lags(overrides: tuple[str, ...], seed: int) -> None:
    # only projects announced during the run: no pipeline carried over from before the start
    m = make(*overrides, NO_PRIOR_PIPELINE, NO_WITHDRAWAL, seed=seed, base=("simulation.below_scale_ratio=0.1",))
    assert all((due == 0).all() for due in m.towns.due.values())
    approval, delivery = lags(m)
    stock0 = m.towns.floor_stock.copy()
    first_delivery = 1 + approval + delivery  # projects are first announced in step 1
    for step in range(1, m.n_steps + 1):
        m.step()
        if step < 1 + approval:
            np.testing.assert_array_equal(m.towns.floor_stock, stock0)  # no demolition yet
        if step < first_delivery:
            assert (m.towns.delivered_total == 0).all(), step
            assert (m.towns.delivered == 0).all(), step
    assert m.towns.delivered_total.sum() > 0  # and deliveries do come after the lags
    result = m.recorder.result(seed=seed, parameters={})
    delivered = result.town[:, :, list(TOWN_METRICS).index("floor_delivered")]
    np.testing.assert_allclose(delivered.sum(axis=0), m.towns.delivered_total, rtol=1e-12)


def test_the_prior_pipeline_is_a_steady_flow_until_the_runs_own_projects_arrive() -> None:
    m = make(*SHORT_LAGS, seed=1)
    approval, delivery = lags(m)
    t = m.towns
    demolition = t.due["demolish"].sum(axis=0)
    deliveries = sum(t.due[k] for k in ("deliver_modern", "deliver_reserved", "deliver_base")).sum(axis=0)
    assert (t.due["deliver_reserved"] == 0).all() and (t.due["deliver_base"] == 0).all()  # they predate the policy
    assert demolition[0] == deliveries[0] == 0.0
    assert (deliveries[1 : 1 + approval + delivery] > 0).all()
    np.testing.assert_allclose(deliveries[1 : 1 + approval + delivery], deliveries[1])
    assert (deliveries[1 + approval + delivery :] == 0).all()
    assert (demolition[1 : 1 + approval] > 0).all()
    assert (demolition[1 + approval :] == 0).all()


def test_the_prior_pipeline_is_the_same_with_and_without_the_land_lever() -> None:
    on, off = make(*SHORT_LAGS, seed=1), make(*SHORT_LAGS, "levers.land.enabled=false", seed=1)
    for name, due in on.towns.due.items():
        np.testing.assert_array_equal(due, off.towns.due[name])
    assert on.towns.due["deliver_modern"].sum() > 0


def test_vacant_old_floor_leaves_industry_at_the_withdrawal_rate() -> None:
    m = make(seed=2)
    t = m.towns
    old, stock = t.vacant[:, 0].copy(), t.floor_stock.copy()
    from simulation.model.town import withdraw_vacant_old

    gone = withdraw_vacant_old(t, 0.25)
    np.testing.assert_allclose(gone, 0.25 * old)
    np.testing.assert_allclose(t.floor_stock, stock - gone)
    np.testing.assert_allclose(t.vacant[:, 0], 0.75 * old)


def test_demolition_takes_vacant_old_floor_and_defers_the_rest_until_its_tenants_leave() -> None:
    m = make(seed=1)
    t = m.towns
    town = next(a for a in m.agents_by_type[Town] if a.index == 0)
    t.vacant[0] = 0.0
    t.vacant[0, OLD], t.vacant[0, MODERN], t.deferred_old[0] = 60.0, 40.0, 0.0
    stock = t.floor_stock[0]
    town._demolish(150.0)  # only vacant old floor comes down; modern floor is never demolished
    assert (t.vacant[0, OLD], t.vacant[0, MODERN], t.deferred_old[0]) == (0.0, 40.0, 90.0)
    assert t.floor_stock[0] == pytest.approx(stock - 60.0)
    t.vacant[0, OLD] = 50.0  # tenants of old floor left
    town._deliver(30.0, 20.0, 10.0)  # new floor arrives by grade; the deferred floor that is now vacant comes down
    assert t.delivered[0] == pytest.approx(60.0)
    assert (t.vacant[0, MODERN], t.vacant[0, RESERVED], t.vacant[0, BASE]) == (70.0, 20.0, 10.0)
    assert (t.vacant[0, OLD], t.deferred_old[0]) == (0.0, 40.0)
    assert t.floor_stock[0] == pytest.approx(stock - 60.0 + 60.0 - 50.0)


def test_reserved_floor_exists_only_with_the_land_lever() -> None:
    off = make(*SHORT_LAGS, "levers.land.enabled=false", seed=2)
    on = make(*SHORT_LAGS, seed=2)
    reserved_seen = 0.0
    for _ in range(off.n_steps):
        off.step()
        on.step()
        assert (off.towns.vacant[:, RESERVED] == 0).all() and (off.towns.vacant[:, BASE] == 0).all()
        reserved_seen = max(reserved_seen, on.towns.vacant[:, RESERVED].sum())
    assert reserved_seen > 0


def _reserved_only_town(m: ClusterModel) -> tuple[int, int, int]:
    """The busiest town, with no general vacancy, ample reserved floor for one cluster only."""
    f, t, n = m.firms, m.towns, m.firms.n
    town = int(np.bincount(f.town[:n]).argmax())
    here = np.bincount(f.cluster[:n][f.town[:n] == town], minlength=m.n_clusters)
    eligible, ineligible = np.argsort(-here)[:2]
    assert here[ineligible] > 0
    t.vacant[town] = 0.0
    t.vacant[:, RESERVED] = 0.0
    t.vacant[town, RESERVED] = 1e12
    t.reserved_for[town] = False
    t.reserved_for[town, eligible] = True
    t.talent_free[:] = 1e12
    return town, int(eligible), int(ineligible)


def test_reserved_floor_is_taken_only_by_eligible_clusters_when_expanding() -> None:
    m = make(seed=3)
    f, t, n = m.firms, m.towns, m.firms.n
    town, eligible, _ = _reserved_only_town(m)
    f.cash[:n] = 1e9  # finance never binds
    capacity0 = f.capacity[:n].copy()
    firm_rules.expand_and_produce(m, 1.5 * m.efficiency() * capacity0)  # everyone wants 50 % more
    grew = f.capacity[:n] - capacity0
    in_town = f.town[:n] == town
    mine = in_town & (f.cluster[:n] == eligible)
    assert (grew[mine] > 0).all()
    np.testing.assert_array_equal(grew[in_town & ~mine], 0.0)  # no floor for them in this town
    assert (grew[~in_town] >= 0).all()
    used = float((m.floor_per_capacity[f.cluster[:n]] * grew)[mine].sum())
    assert 1e12 - t.vacant[town, RESERVED] == pytest.approx(used, rel=1e-6)
    assert t.vacant[town, MODERN] == 0.0


def test_reserved_floor_is_taken_only_by_eligible_entrants() -> None:
    m = make(seed=3)
    town, eligible, ineligible = _reserved_only_town(m)
    n0, agents0 = m.firms.n, len(m.agents_by_type[Firm])
    k = 6
    entrants = dict(
        cluster=np.array([eligible, ineligible] * (k // 2)),
        town=np.full(k, town),
        revenue=np.full(k, 5.0),
        target=np.full(k, 10.0),
        permanent=np.zeros(k),
        origin=np.full(k, ORIGIN_SPINOFF, dtype=np.int8),
    )
    rows = entry.admit(m, entrants)
    assert rows.tolist() == list(range(n0, n0 + k // 2))
    assert m.firms.n == n0 + k // 2
    assert (m.firms.cluster[n0 : m.firms.n] == eligible).all()
    assert len(m.agents_by_type[Firm]) == agents0 + k // 2
    assert m.towns.vacant[town, MODERN] == 0.0
    assert m.towns.vacant[town, RESERVED] < 1e12


def test_long_land_lags_allowed_by_the_schema_do_not_crash() -> None:
    m = make("uncertainties.land.approval_lag_years=10.0", "uncertainties.land.delivery_lag_years=10.0",
             "uncertainties.land.prior_mu_per_year=0", seed=1)
    run_steps(m)
    assert (m.towns.delivered_total == 0).all()  # nothing can be delivered within the horizon


def test_a_disabled_land_lever_has_no_effect() -> None:
    delivered = []
    for multiplier, size in ((3.4, 75), (1.0, 200)):
        m = run_steps(make(*SHORT_LAGS, "levers.land.enabled=false", f"levers.land.floor_multiplier={multiplier}",
                           f"levers.land.min_project_mu={size}"))
        delivered.append(m.towns.delivered_total.copy())
        assert m.ledger.total.sum() >= 0
    np.testing.assert_array_equal(delivered[0], delivered[1])


# --- talent ----------------------------------------------------------------------------------


def inflow_multiplier(subsidy: float, coverage: float, income: float, beta: float, outside: float) -> float:
    """The inflow multiplier of a covered worker's subsidy alone, as the model forms it."""
    return choice_multiplier(subsidy_gain(subsidy, coverage, income, outside), beta)


def test_inflow_multiplier_is_one_without_an_effective_subsidy() -> None:
    assert inflow_multiplier(0.0, 1.0, 0.2, 2.5, 0.4) == 1.0
    assert inflow_multiplier(0.03, 0.0, 0.2, 2.5, 0.4) == 1.0  # no budget: nobody is covered
    assert inflow_multiplier(0.03, 1.0, 0.2, 2.5, 1.0) == 1.0  # fully matched by the other cities
    assert inflow_multiplier(0.03, 1.0, 0.2, 2.5, 0.4) > 1.0


_share = st.floats(0.0, 1.0)


@settings(max_examples=100, deadline=None)
@given(
    subsidies=st.lists(st.floats(0.0, 1.0), min_size=2, max_size=2).map(sorted),
    coverage=st.floats(0.01, 1.0),
    income=st.floats(0.05, 1.0),
    beta=st.floats(0.1, 10.0),
    outside=st.floats(0.0, 0.99),
)
def test_inflow_multiplier_rises_with_the_subsidy(subsidies, coverage, income, beta, outside) -> None:
    low, high = (inflow_multiplier(s, coverage, income, beta, outside) for s in subsidies)
    assert 1.0 <= low <= high <= 1.0 / BASE_SHARE


@settings(max_examples=100, deadline=None)
@given(
    matches=st.lists(_share, min_size=2, max_size=2).map(sorted),
    subsidy=st.floats(0.001, 1.0),
    coverage=st.floats(0.01, 1.0),
    beta=st.floats(0.1, 10.0),
)
def test_inflow_multiplier_falls_with_outside_matching(matches, subsidy, coverage, beta) -> None:
    less_matched, more_matched = (inflow_multiplier(subsidy, coverage, 0.2, beta, o) for o in matches)
    assert less_matched >= more_matched >= 1.0


def test_inflow_multiplier_is_strictly_monotone_at_baseline_values() -> None:
    values = [inflow_multiplier(s, 1.0, 0.2, 2.5, 0.4) for s in (0.0, 0.01, 0.03, 0.06)]
    assert values == sorted(values) and len(set(values)) == 4
    values = [inflow_multiplier(0.03, 1.0, 0.2, 2.5, o) for o in (0.0, 0.3, 0.7, 1.0)]
    assert values == sorted(values, reverse=True) and len(set(values)) == 4


_pools = st.lists(st.floats(0.0, 1e6, allow_subnormal=False), min_size=1, max_size=8)


@settings(max_examples=150, deadline=None)
@given(
    pools=st.lists(st.tuples(st.floats(0.0, 1e6), st.floats(0.0, 1e6)), min_size=1, max_size=8),
    inflow=_share,
    attrition=_share,
    multiplier=st.floats(0.0, 5.0),
    graduates=st.floats(0.0, 1e5),
    dt=st.sampled_from([1.0, 0.5, 0.25, 1 / 12]),
)
def test_talent_step_is_never_negative(pools, inflow, attrition, multiplier, graduates, dt) -> None:
    free, employed = (np.array(x) for x in zip(*pools))
    new = talent_step(free, employed, inflow, attrition, multiplier, graduates, dt)
    assert new.shape == free.shape
    assert np.isfinite(new).all() and (new >= 0).all()
    without_attrition = talent_step(free, employed, inflow, 0.0, multiplier, graduates, dt)
    assert (without_attrition >= free).all()  # inflow alone never shrinks a pool
    added = inflow * dt * (free + employed).sum() * multiplier + graduates * dt
    assert without_attrition.sum() - free.sum() == pytest.approx(added, rel=1e-9, abs=1e-6)  # all inflow placed


def test_talent_subsidy_raises_inflow_and_stays_within_its_budget() -> None:
    # the scarcity premium also raises inflow: hold it at 0 in both, to see the subsidy alone
    on = make("uncertainties.talent.wage_response=0", seed=4)
    off = make("uncertainties.talent.wage_response=0", "levers.talent.enabled=false", seed=4)
    cap = on.levers.talent.budget_cap * 100.0 * on.dt
    talent = PROGRAMME_INDEX["talent_subsidy"]
    for _ in range(on.n_steps):
        on.step()
        off.step()
        assert on.talent_multiplier > 1.0
        assert 0.0 < on.ledger.step[talent].sum() <= cap * (1 + 1e-12)
        assert off.talent_multiplier == 1.0 and off.ledger.step[talent].sum() == 0.0
        assert on.ledger.step[talent, OTHER] == 0.0  # the other cluster's workers are not paid
    city = list(CITY_METRICS)
    r_off = off.recorder.result(seed=4, parameters={})
    assert (r_off.city[:, city.index("talent_inflow_multiplier")] == 1.0).all()
    assert (r_off.city[:, city.index("cost_talent_subsidy")] == 0.0).all()


# --- funds -----------------------------------------------------------------------------------

#: the guidance fund invests for one year and exits after one, so exits happen within two years
QUICK_FUND = ("levers.funds.guidance.investment_years=1", "levers.funds.guidance.holding_years=1")


@pytest.mark.parametrize("seed", [1, 7])
def test_funds_conserve_money_and_respect_their_mandates(seed: int) -> None:
    m = make(*QUICK_FUND, seed=seed)
    f = m.firms
    assert {fund.name for fund in m.funds} == {"guidance", "ic", "ma"}
    assert len(m.agents_by_type[Fund]) == 3
    for fund in m.funds:
        assert 0 < fund.raised <= fund.lever.target_size * 100.0 + 1e-9
    invested_any = 0.0
    for _ in range(m.n_steps):
        leaders_before = f.chain_leader[: f.n].copy()
        m.step()
        step_total = np.zeros(m.n_clusters)
        for fund in m.funds:
            # the commitment is paid in as called; what is paid in and comes back is invested, paid
            # in fees, returned to the city or held
            assert fund.raised == pytest.approx(fund.uncalled + fund.called, abs=1e-6)
            assert fund.called + fund.proceeds == pytest.approx(
                fund.invested + fund.fees + fund.returned + fund.cash, abs=1e-6)
            assert fund.cash >= -1e-9 and fund.uncalled >= -1e-9
            assert fund.invested_by_cluster.sum() == pytest.approx(fund.invested, abs=1e-6)
            assert (fund.invested_by_cluster[fund.mandate == 0] == 0).all()
            assert (fund.step_investment >= 0).all()
            if not fund.investing:
                assert fund.step_investment.sum() == 0.0
            if fund.step_investment.sum() > 0:  # this step's round is the last one held
                rows, amounts = fund._rows[-1], fund._amounts[-1]
                assert (fund.mandate[f.cluster[rows]] > 0).all()
                assert (amounts <= fund.lever.max_ticket * 100.0 + 1e-9).all()
                if fund.lever.backs_chain_leaders:
                    assert leaders_before[rows].all()
            step_total += fund.step_investment
            invested_any += fund.step_investment.sum()
        recorded = m.recorder.cluster[m.steps, :, list(CLUSTER_METRICS).index("fund_investment")]
        np.testing.assert_allclose(recorded * 100.0, step_total)
        assert m.private_capital.available >= -1e-9
    guidance = next(fund for fund in m.funds if fund.name == "guidance")
    assert guidance.proceeds > 0  # exits returned money ...
    assert not guidance.investing  # ... after the investment period ended
    assert invested_any > 0
    backed = f.fund_equity[: f.n] > 0
    in_any_mandate = np.zeros(m.n_clusters, dtype=bool)
    for fund in m.funds:
        in_any_mandate |= fund.mandate > 0
    assert backed.any() and in_any_mandate[f.cluster[: f.n][backed]].all()


def test_disabled_funds_create_no_fund_agents() -> None:
    m = run_steps(make(*FUNDS_OFF, seed=2))
    assert len(m.funds) == 0
    assert Fund not in m.agents_by_type or len(m.agents_by_type[Fund]) == 0
    assert (m.firms.fund_equity[: m.firms.n] == 0).all()
    r = m.recorder.result(seed=2, parameters={})
    assert (r.city[:, list(CITY_METRICS).index("fund_raised")] == 0).all()
    assert (r.cluster[:, :, list(CLUSTER_METRICS).index("fund_investment")] == 0).all()
    one_off = make("levers.funds.ic.enabled=false", seed=2)
    assert sorted(fund.name for fund in one_off.funds) == ["guidance", "ma"]


# --- R&D subsidies and rewards -----------------------------------------------------------------


@pytest.mark.parametrize("budget", [10.0, 0.3])
def test_rd_grants_stay_within_budget_and_rewards_are_booked_separately(budget: float) -> None:
    m = make(f"levers.subsidy.rd_budget={budget}", seed=3)
    lever = m.levers.subsidy
    grants_log = []
    per_step = lever.rd_budget * 100.0 * m.dt
    f = m.firms
    grants_i, above_i, giants_i = (PROGRAMME_INDEX[p] for p in ("rd_grants", "abovescale_rewards", "little_giant_rewards"))
    for step in range(1, m.n_steps + 1):
        n0 = f.n
        rewarded0, giants0 = f.rewarded[:n0].copy(), f.little_giant[:n0].copy()
        m.step()
        g = m.ledger.step[grants_i].copy()
        grants_log.append(g)
        assert (g >= 0).all() and g[OTHER] == 0.0
        assert g[EMERGING_IDX].sum() <= per_step * lever.emerging_share + 1e-9
        assert g[PILLAR_IDX].sum() <= per_step * (1 - lever.emerging_share) + 1e-9
        # rewards are booked apart: exactly the rewards for newly designated firms
        n = f.n
        new_rewarded = f.rewarded[:n] & ~np.concatenate([rewarded0, np.zeros(n - n0, bool)])
        new_giants = f.little_giant[:n] & ~np.concatenate([giants0, np.zeros(n - n0, bool)])
        assert m.ledger.step[above_i].sum() == pytest.approx(lever.abovescale_entry_reward * new_rewarded.sum(), abs=1e-6)
        assert m.ledger.step[giants_i].sum() == pytest.approx(lever.little_giant_reward * new_giants.sum(), abs=1e-6)
        assert new_giants.sum() <= lever.little_giants_per_year
        if new_giants.any():
            assert step % m.steps_per_year == 0  # designated once a year
            assert (f.cluster[:n][new_giants] != OTHER).all()
            assert f.above_scale[:n][new_giants].all() and (f.revenue[:n][new_giants] <= 400.0).all()
    grants = np.array(grants_log)
    if budget >= 10.0:  # at the baseline budget grants are certainly made
        assert grants.sum() > 0
    yearly = grants.reshape(-1, m.steps_per_year, m.n_clusters).sum(axis=(1, 2))
    assert (yearly <= lever.rd_budget * 100.0 + 1e-9).all()


def test_no_subsidy_flow_when_the_subsidy_lever_is_off() -> None:
    m = run_steps(make("levers.subsidy.enabled=false", seed=3))
    r = m.recorder.result(seed=3, parameters={})
    assert (r.cluster[:, :, list(CLUSTER_METRICS).index("subsidy_spending")] == 0).all()
    assert not m.firms.little_giant[: m.firms.n].any()


def _grant_once(*overrides: str, seed: int = 5) -> tuple[ClusterModel, np.ndarray, np.ndarray]:
    """A fresh model's first R&D round: (model, amount granted per row, unsubsidised R&D per row).

    No agencies: their innovation services would raise small firms' R&D as well.
    """
    m = make("levers.agencies.enabled=false", *overrides, seed=seed)
    f, n = m.firms, m.firms.n
    cash0 = f.cash[:n].copy()
    firm_rules.rd_and_subsidies(m)
    base = m.rd_intensity[f.cluster[:n]] * f.revenue[:n]
    return m, f.cash[:n] - cash0, base


def test_zero_rd_response_gives_the_rd_of_no_subsidy() -> None:
    no_response = "uncertainties.behaviour.rd_response=0.0"
    on, amount, _ = _grant_once(no_response)
    off, nothing, _ = _grant_once(no_response, "levers.subsidy.enabled=false")
    assert (amount > 0).any() and (nothing == 0).all()
    np.testing.assert_array_equal(on.firms.rd[: on.firms.n], off.firms.rd[: off.firms.n])


def test_relabelling_reduces_the_real_rd_increase() -> None:
    increases, granted_sets = [], []
    for relabel in (0.0, 0.3, 0.6):
        m, amount, base = _grant_once("uncertainties.behaviour.rd_response=1.0",
                                      f"uncertainties.behaviour.relabel_share={relabel}")
        granted = amount > 0
        extra = m.firms.rd[: m.firms.n] - base
        np.testing.assert_allclose(extra[granted], (1 - relabel) * amount[granted], rtol=1e-9)
        assert (amount[granted] <= m.levers.subsidy.max_share_of_rd * base[granted] * (1 + 1e-12)).all()
        increases.append(extra[granted].sum())
        granted_sets.append(np.flatnonzero(granted))
    assert increases[0] > increases[1] > increases[2] > 0
    for rows in granted_sets[1:]:
        np.testing.assert_array_equal(rows, granted_sets[0])  # relabelling does not change who gets a grant


# --- demand ----------------------------------------------------------------------------------


YEARS = range(2021, 2031)


def _demand_params(volatility: float = 4.0) -> SimpleNamespace:
    growth = SimpleNamespace(**{c: 3.0 + i for i, c in enumerate(CLUSTERS)})
    return SimpleNamespace(growth=growth, volatility=volatility, persistence=0.7, io_strength=0.3,
                           macro_volatility=volatility, macro_persistence=0.7, macro_shocks={})


def _event(cluster: str, start: float, years: float, change: float) -> SimpleNamespace:
    return SimpleNamespace(cluster=cluster, start=start, duration_years=years, growth_change=change)


def test_a_named_shock_moves_demand_only_during_its_window() -> None:
    events = {"slump": _event("ngei", 2022.0, 1.0, -15.0)}
    plain = MarketDemand(_demand_params(), {}, 4, np.random.default_rng(0), years=YEARS)
    shocked = MarketDemand(_demand_params(), events, 4, np.random.default_rng(0), years=YEARS)
    plain_rng, shocked_rng = np.random.default_rng(1), np.random.default_rng(1)
    expected = np.zeros(len(CLUSTERS))
    expected[NGEI] = -0.15
    for supplier, buyer, weight in io_links():  # passed up the value chain, one link
        if buyer == "ngei":
            expected[CLUSTER_INDEX[supplier]] += 0.3 * weight * -0.15
    active_steps = 0
    for k in range(24):
        time = 2020.0 + k / 4
        diff = shocked.step(time, shocked_rng) - plain.step(time, plain_rng)
        if 2022.0 <= time < 2023.0:
            np.testing.assert_allclose(diff, expected, atol=1e-12)
            active_steps += 1
        else:
            np.testing.assert_allclose(diff, 0.0, atol=1e-12)
    assert active_steps == 4
    assert expected[CLUSTER_INDEX["semi"]] < 0 and expected[CLUSTER_INDEX["tex"]] == 0


def test_demand_without_volatility_or_events_is_the_trend() -> None:
    d = MarketDemand(_demand_params(volatility=0.0), {}, 4, np.random.default_rng(0), years=YEARS)
    rng = np.random.default_rng(1)
    for k in range(8):
        np.testing.assert_array_equal(d.step(2021.0 + k / 4, rng), d.trend)


def test_overlapping_shocks_add_up() -> None:
    events = {"a": _event("semi", 2021.0, 2.0, -5.0), "b": _event("semi", 2022.0, 1.0, -10.0)}
    d = MarketDemand(_demand_params(), events, 4, np.random.default_rng(0), years=YEARS)
    semi = CLUSTER_INDEX["semi"]
    assert d.event_effect(2020.75)[semi] == 0.0
    assert d.event_effect(2021.0)[semi] == pytest.approx(-0.05)
    assert d.event_effect(2022.5)[semi] == pytest.approx(-0.15)
    assert d.event_effect(2023.0)[semi] == 0.0  # the end is exclusive


def _model_event_effects(m: ClusterModel) -> np.ndarray:
    """Per step, the named-shock part of each cluster's demand growth, recovered from the model."""
    d = m.demand
    mix = np.eye(m.n_clusters) + d.links
    effects = []
    for _ in range(m.n_steps):
        m.step()
        effects.append(np.linalg.solve(mix, d.growth - d.trend) - d.surprise - d.loading * d.macro)
    return np.array(effects)


def test_a_scenario_shock_event_lowers_its_clusters_demand_for_its_duration() -> None:
    m = make(NO_EVENTS, SLUMP, seed=2, base=("simulation.below_scale_ratio=0.1",))
    effects = _model_event_effects(m)
    ngei = effects[:, NGEI]
    active = np.flatnonzero(ngei < -1e-9)
    assert active.size == 4 and np.array_equal(active, np.arange(active[0], active[0] + 4))  # one year, contiguous
    np.testing.assert_allclose(ngei[active], -0.15)
    np.testing.assert_allclose(np.delete(effects, NGEI, axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(np.delete(ngei, active), 0.0, atol=1e-12)


def test_a_shock_event_starting_in_2022_hits_the_steps_of_2022() -> None:
    m = make(NO_EVENTS, SLUMP, seed=2, base=("simulation.below_scale_ratio=0.1",))
    ngei = _model_event_effects(m)[:, NGEI]
    step_years = m.start_year + 1 + np.arange(m.n_steps) // m.steps_per_year  # as results.annualise counts
    np.testing.assert_array_equal(ngei < -1e-9, step_years == 2022)


def test_adding_a_shock_event_keeps_the_draws_of_the_shared_uncertainties() -> None:
    # common random numbers: a scenario that adds an uncertain value draws the others as before
    plain = flatten(make(seed=3).p)
    shocked = flatten(make(SLUMP, seed=3).p)
    shared = {k: v for k, v in shocked.items() if not k.startswith("shocks.events.slump.")}
    assert shared == plain  # the baseline's own events (the 2021 rebound) included
    assert shocked["shocks.events.slump.growth_change"] == -15.0
    switched = flatten(make("levers.land.enabled=false", *FUNDS_OFF, "levers.talent.enabled=false", seed=3).p)
    assert switched == plain  # levers never change the drawn uncertainties
    assert flatten(make(seed=4).p) != plain


# --- entry and exit ----------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2])
def test_entrants_become_rows_and_agents_and_exits_leave_nothing_behind(seed: int) -> None:
    m = make(seed=seed)
    f = m.firms
    entered = exited = attracted = 0
    for _ in range(m.n_steps):
        n0, alive0 = f.n, f.alive[: f.n].copy()
        m.step()
        n = f.n
        flows = m.step_flows
        # entrants: new rows, alive, born this step, counted by cluster
        assert flows.entrants.sum() == n - n0
        np.testing.assert_array_equal(np.bincount(f.cluster[n0:n], minlength=m.n_clusters), flows.entrants)
        assert f.alive[n0:n].all() and (f.birth_step[n0:n] == m.steps).all()
        assert (f.origin[n0:n] == ORIGIN_ATTRACTED).sum() == flows.attracted.sum()
        assert (flows.attracted <= flows.entrants).all()
        # exits: rows that were alive, now dead, with zero stocks
        gone = alive0 & ~f.alive[:n0]
        assert gone.sum() == flows.exits.sum()
        assert not (~alive0 & f.alive[:n0]).any()  # no resurrection
        dead = ~f.alive[:n]
        for name in ("revenue", "capacity", "cash", "capital", "rd"):
            assert (getattr(f, name)[:n][dead] == 0).all(), name
        assert not (f.above_scale[:n][dead] | f.chain_leader[:n][dead]).any()
        # one Firm agent per alive row, none for the dead
        rows = sorted(a.row for a in m.agents_by_type[Firm])
        assert rows == np.flatnonzero(f.alive[:n]).tolist()
        entered += n - n0
        exited += gone.sum()
        attracted += flows.attracted.sum()
    assert entered > 0 and exited > 0 and attracted > 0


def test_firm_agents_do_not_change_the_dynamics() -> None:
    with_agents = make(seed=6).run()
    bare_model = make(seed=6, firm_agents=False)
    without = bare_model.run()
    assert Firm not in bare_model.agents_by_type or len(bare_model.agents_by_type[Firm]) == 0
    for name in ("cluster", "town", "city"):
        assert np.array_equal(getattr(with_agents, name), getattr(without, name), equal_nan=True), name


@pytest.mark.parametrize("switch", ["levers.agencies.enabled=false", "levers.agencies.attraction_share=0",
                                    "levers.agencies.budget=0"])
def test_no_attracted_entrants_without_agency_attraction(switch: str) -> None:
    m = run_steps(make(switch, seed=2))
    assert not (m.firms.origin[: m.firms.n] == ORIGIN_ATTRACTED).any()
    r = m.recorder.result(seed=2, parameters={})
    assert (r.cluster[:, :, list(CLUSTER_METRICS).index("attracted")] == 0).all()
    assert r.cluster[:, :, list(CLUSTER_METRICS).index("entrants")].sum() > 0  # spin-offs still come
    if switch.startswith("levers.agencies.enabled"):
        assert len(m.agencies) == 0
    if not switch.endswith("attraction_share=0"):
        assert (m.matchmaking == 0).all() and (m.credit_boost == 0).all()


# --- the Firm agent as a view onto its row -------------------------------------------------------


def test_firm_agent_reads_and_writes_its_table_row() -> None:
    m = make(seed=2)
    f = m.firms
    agent = list(m.agents_by_type[Firm])[123]
    row = agent.row
    columns = {"revenue": "revenue", "capacity": "capacity", "log_productivity": "logprod", "rd_spending": "rd",
               "cash": "cash", "capital": "capital", "age_steps": "age", "fund_equity": "fund_equity"}
    for attribute, column in columns.items():
        assert getattr(agent, attribute) == getattr(f, column)[row], attribute
    assert agent.cluster == CLUSTERS[f.cluster[row]] and agent.town == town_ids()[f.town[row]]
    assert isinstance(agent.revenue, float) and isinstance(agent.alive, bool) and agent.alive

    agent.cash = 123.5  # writes go to the table
    agent.fund_equity = 2.0
    agent.little_giant = True
    assert f.cash[row] == 123.5 and agent.fund_backed and f.little_giant[row]
    f.capacity[row] = 77.0  # and the table is what the agent reads
    f.revenue[row] = 25.0
    c = f.cluster[row]
    assert agent.capacity == 77.0
    assert agent.floor_space == pytest.approx(m.floor_per_capacity[c] * 77.0)
    assert agent.employees == pytest.approx(m.employees_per_capacity[c] * 77.0)
    assert agent.skilled_talent == pytest.approx(m.talent_per_capacity[c] * 77.0)
    assert agent.is_above_scale()
    neighbour = (row + 1) % f.n
    assert f.cash[neighbour] != 123.5 and f.capacity[neighbour] != 77.0  # only its own row changed

    f._grow(f._cap * 2)  # the table reallocates its columns: views follow
    assert agent.cash == 123.5
    agent.cash = -4.0
    assert f.cash[row] == -4.0


def test_firm_agents_follow_the_table_through_a_step() -> None:
    m = make(seed=2)
    m.step()
    f = m.firms
    for agent in list(m.agents_by_type[Firm])[::997]:
        assert agent.revenue == f.revenue[agent.row]
        assert agent.capacity == f.capacity[agent.row]
        assert agent.above_scale == f.above_scale[agent.row]


# --- core zones --------------------------------------------------------------------------------


def test_zone_towns_get_the_entry_multiplier_and_land_priority() -> None:
    m = make(seed=1)
    t, pol, zones = m.towns, m.p.policy, m.levers.core_zones.zones
    expected = np.ones((t.n, m.n_clusters))
    money = m.levers.core_zones.matching_money * 2.0  # city and town
    strength = 1.0 - 2.0 ** (-money / pol.zone_half_money)  # what the money buys of the full effect
    for cid, members in zones.items():
        for k, town in enumerate(members):
            expected[town_ids().index(town), CLUSTER_INDEX[cid]] = (
                1 + (pol.zone_entry_multiplier - 1) * pol.zone_diminishing**k * strength)
    np.testing.assert_allclose(t.zone_multiplier, expected)
    assert (t.zone_multiplier[t.zone] > 1).all() and (t.zone_multiplier[~t.zone] == 1).all()
    assert t.zone.sum() == sum(len(v) for v in zones.values())
    is_zone = t.zone.any(axis=1)
    np.testing.assert_array_equal(t.reserved_for[is_zone], t.zone[is_zone])  # zone clusters only
    np.testing.assert_array_equal(t.reserved_for[~is_zone], np.tile(POLICY, ((~is_zone).sum(), 1)))
    assert (t.matching_money[is_zone] > 0).all() and (t.matching_money[~is_zone] == 0).all()


def test_without_core_zones_every_multiplier_is_one() -> None:
    m = make("levers.core_zones.enabled=false", seed=1)
    t = m.towns
    assert (t.zone_multiplier == 1).all() and not t.zone.any() and (t.matching_money == 0).all()
    np.testing.assert_array_equal(t.reserved_for, np.tile(POLICY, (t.n, 1)))
    run_steps(m, 4)
    assert m.ledger.total[PROGRAMME_INDEX["zone_matching"]].sum() == 0.0


def test_zone_money_refits_old_floor_and_is_booked() -> None:
    m = make(seed=1)
    t = m.towns
    run_steps(m, 4)
    zone_money = PROGRAMME_INDEX["zone_matching"]
    spent = m.ledger.total[zone_money].sum()
    assert t.refitted_total.sum() > 0 and (t.refitted_total[t.matching_money == 0] == 0).all()
    # all the money is spent (refits, and the zone's platforms and services) ...
    assert spent == pytest.approx(t.matching_money.sum() * 4 * m.dt, rel=1e-12)
    # ... and refits cost what they cost: at most the money's worth of floor, the modelled firms' share
    assert t.refitted_total.sum() * m.p.land.refit_cost <= spent * m.floor_share * (1 + 1e-9)


def test_a_zone_with_no_money_pulls_no_entry() -> None:
    m = make("levers.core_zones.matching_money=0", seed=1)
    assert m.towns.zone.any() and (m.towns.zone_multiplier == 1.0).all()


def test_without_land_priority_zones_keep_the_policy_wide_reservation() -> None:
    m = make("levers.core_zones.land_priority=false", seed=1)
    assert m.towns.zone.any()
    np.testing.assert_array_equal(m.towns.reserved_for, np.tile(POLICY, (m.towns.n, 1)))


class _Expected:
    """Stands in for a random stream: a Poisson draw returns its mean."""

    def poisson(self, lam):
        return np.asarray(lam, dtype=float)


def test_zone_multiplier_scales_expected_spinoffs() -> None:
    on = make(seed=1)
    off = make("levers.core_zones.enabled=false", seed=1)
    np.testing.assert_array_equal(on.firms.cluster[: on.firms.n], off.firms.cluster[: off.firms.n])
    np.testing.assert_array_equal(on.firms.town[: on.firms.n], off.firms.town[: off.firms.n])
    on.stream = off.stream = lambda purpose: _Expected()  # every Poisson draw returns its mean
    with_zones, without = entry.spinoff_counts(on), entry.spinoff_counts(off)
    assert without.sum() > 0
    cells = without > 0
    np.testing.assert_allclose(with_zones[cells] / without[cells], on.towns.zone_multiplier.T[cells])
    np.testing.assert_array_equal(with_zones[~cells], 0.0)


def test_won_investors_go_to_their_clusters_core_zones_first() -> None:
    semi = CLUSTER_INDEX["semi"]
    shares = []
    for overrides in ((), ("levers.core_zones.enabled=false",)):
        m = make(*overrides, "uncertainties.policy.investment_inflow=40", seed=1)
        got = investors.pipeline(m)
        mine = got["cluster"] == semi
        zone_towns = [town_ids().index(t) for t in make(seed=1).levers.core_zones.zones["semi"]]
        assert mine.sum() > 20
        assert (got["revenue"] < got["target"]).all()
        shares.append(np.isin(got["town"][mine], zone_towns).mean())
    assert shares[0] >= 0.6  # most go to a zone (TO_ZONE of them by choice)
    assert shares[0] > shares[1]


# --- random streams ----------------------------------------------------------------------------


def test_a_mechanism_draws_fresh_numbers_at_every_step() -> None:
    from simulation.model.streams import Streams

    streams = Streams(np.random.default_rng(1))
    this_step = streams.get("growth", 1).random(1000)
    next_step = streams.get("growth", 2).random(1000)
    assert np.intersect1d(this_step, next_step).size == 0


def test_demand_innovations_are_not_recycled_between_steps() -> None:
    m = make(seed=2)
    d = m.demand
    innovations, previous = [], d.surprise.copy()
    for _ in range(4):
        m.step()
        innovations.append((d.surprise - d.persistence * previous) / d.innovation_sd)
        previous = d.surprise.copy()
    for now, later in zip(innovations, innovations[1:]):
        assert not np.allclose(later[:6], now[4:])


def test_the_start_is_the_end_2020_run_rate_and_2020_is_recorded_as_its_annual_figure() -> None:
    """The model starts at the end of 2020: half a year of trend growth above the 2020 averages,
    plus the shutdown shortfall in manufacturing only; the first recorded row and the 2021
    comparison base are the 2020 annual figures, and the baseline names no 2021 event."""
    m = make(seed=2, base=("simulation.below_scale_ratio=0.1",))
    f, n = m.firms, m.firms.n
    assert m.p.shocks.events == {}
    ratio = m.run_rate_2020()
    trend = np.array([getattr(m.p.demand.growth, c) for c in CLUSTERS]) / 100.0
    short = m.p.baseline.shutdown_shortfall / 100.0
    assert 0.02 <= short <= 0.09
    for c in CLUSTERS:
        k = CLUSTER_INDEX[c]
        expected = np.exp(0.5 * trend[k]) * (1.0 if c in ("soft", "bio") else 1.0 + short)
        assert ratio[k] == pytest.approx(expected)
        rows = np.flatnonzero(f.cluster[:n] == k)
        np.testing.assert_allclose(f.revenue[rows], ratio[k] * f.revenue_last[rows])
    revenue = m.recorder.cluster[0, :, list(CLUSTER_METRICS).index("revenue_real")]
    annual = np.bincount(f.cluster[:n], weights=np.where(f.above_scale[:n], f.revenue_last[:n], 0.0), minlength=len(CLUSTERS))
    np.testing.assert_allclose(revenue, annual / 100.0)  # 亿元 of 2020 annual revenue of above-scale firms


@pytest.mark.parametrize("kernels", ["numpy", "numba"])
def test_a_more_productive_firm_needs_proportionally_more_inputs(kernels: str) -> None:
    """TFPR is equalised (Hsieh & Klenow 2009): two firms that want the same revenue need the same
    capacity, whatever their own productivity; only the common drift changes revenue per unit."""
    m = ClusterModel(rng=5, firm_agents=False, kernels=kernels)
    for _ in range(5):
        m.step()
    f, n = m.firms, m.firms.n
    live = np.flatnonzero(f.alive[:n])
    assert f.logprod[live].std() > 0.3  # firms' productivity differs a lot ...
    expected = np.exp(firm_rules.REVENUE_TFP_ELASTICITY * m.common_productivity)
    assert m.efficiency() == pytest.approx(expected) and expected > 1.0  # ... their efficiency does not
    if kernels == "numba":  # the column is set where productivity is (this step's entrants: next step)
        settled = live[f.birth_step[live] < m.steps]
        np.testing.assert_allclose(f.efficiency[settled], expected, rtol=1e-12)
    # nobody sells more than its capacity yields at the common efficiency
    assert (f.revenue[live] <= expected * f.capacity[live] * (1 + 1e-9)).all()
