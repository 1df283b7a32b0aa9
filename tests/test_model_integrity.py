"""No free lunches: levers cost what they spend, agencies buy with diminishing returns, entrants need
floor and talent, growth shocks do not raise growth, productivity ranks move.

The fiscal ledger's reconciliation (public money into firms' cash = the books, every step) and
the conservation of fund money are checked at every step in tests/test_model_properties.py.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from simulation.datapack import CLUSTER_INDEX
from simulation.model import entry, firm_rules, investors
from simulation.model.agency import saturating
from simulation.model.firm_table import ORIGIN_ATTRACTED, ORIGIN_EXTERNAL, ORIGIN_SPINOFF
from simulation.model.ledger import PROGRAMME_INDEX
from simulation.model.model import ClusterModel
from simulation.model.results import CITY_METRICS
from simulation.scenario import load_scenario

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml"
FAST = ("simulation.below_scale_ratio=0.1", "simulation.end_year=2022")


@lru_cache(maxsize=None)
def _spec(overrides: tuple[str, ...]):
    return load_scenario(BASELINE, list(overrides)).spec


def make(*overrides: str, seed: int = 1, base: tuple[str, ...] = FAST) -> ClusterModel:
    return ClusterModel(_spec((*base, *overrides)), rng=seed, firm_agents=False)


# --- agencies --------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2])
def test_an_agency_with_no_budget_has_no_effect(seed: int) -> None:
    silent = make("levers.agencies.budget=0", seed=seed).run()
    absent = make("levers.agencies.enabled=false", seed=seed).run()
    for name in ("cluster", "town", "city"):
        np.testing.assert_array_equal(getattr(silent, name), getattr(absent, name), err_msg=name)


def test_an_agency_with_a_budget_spends_it_and_changes_something() -> None:
    on = make(seed=1).run()
    off = make("levers.agencies.enabled=false", seed=1).run()
    assert not np.array_equal(on.cluster, off.cluster)


@settings(max_examples=60, deadline=None)
@given(spend=st.floats(0.01, 1e4), half=st.floats(0.01, 100.0))
def test_services_have_diminishing_returns(spend: float, half: float) -> None:
    one, two = saturating(spend, half), saturating(2 * spend, half)
    assert 0.0 < one <= two <= 1.0  # more never buys less (equal only where floating point saturates)
    if spend / half < 30:
        assert one < two
    assert two < 2 * one  # doubling the spending less than doubles the effect
    assert saturating(0.0, half) == 0.0
    assert saturating(half, half) == pytest.approx(0.5)


def _attracted_share(m: ClusterModel, budget: float) -> np.ndarray:
    """Each cluster's expected share of its pipeline that the agencies add at ``budget`` (亿元 a year)."""
    for agency in m.agencies:
        agency.budget = budget * 100.0
        agency.step()
    with_agency, without = investors.win_shares(m, investors.pipeline_per_year(m))
    return with_agency - without


@pytest.mark.parametrize("budget", [0.05, 0.3, 2.0])
def test_doubling_an_agency_budget_less_than_doubles_what_it_attracts(budget: float) -> None:
    m = make(seed=3)
    policy = [a.cluster for a in m.agencies]
    one = _attracted_share(m, budget)[policy]
    two = _attracted_share(m, 2 * budget)[policy]
    assert (one > 0).all()
    assert (two > one).all() and (two < 2 * one).all()


def test_what_agencies_attract_grows_with_the_clusters_pipeline() -> None:
    # the same budget buys the same promotion per project; a cluster with a larger pipeline gains
    # more projects, a small one cannot gain more than its pipeline holds
    m = make(seed=3)
    added = _attracted_share(m, 0.3)
    per_year = investors.pipeline_per_year(m)
    projects = added * per_year
    ngei, bio = CLUSTER_INDEX["ngei"], CLUSTER_INDEX["bio"]
    assert per_year[ngei] > per_year[bio] and projects[ngei] > projects[bio]
    assert (added <= 1.0 - investors.win_shares(m, per_year)[1]).all()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_agency_wins_add_to_and_never_remove_the_investors_who_would_have_come(seed: int) -> None:
    # the same projects (common random numbers) arrive with and without agencies; every project
    # that comes without them comes with them too, as "external"; the agencies add "attracted" ones
    m_on, m_off = make(seed=seed), make("levers.agencies.enabled=false", seed=seed)
    for m in (m_on, m_off):
        for agency in m.agencies:
            agency.step()
    on, off = investors.pipeline(m_on), investors.pipeline(m_off)
    assert (off["origin"] == ORIGIN_EXTERNAL).all()
    external = on["origin"] == ORIGIN_EXTERNAL
    np.testing.assert_array_equal(on["cluster"][external], off["cluster"])
    np.testing.assert_array_equal(on["target"][external], off["target"])
    assert (on["origin"][~external] == ORIGIN_ATTRACTED).all()


def test_agency_services_are_booked_within_the_budget() -> None:
    m = make(seed=2)
    for _ in range(m.n_steps):
        m.step()
    rows = [PROGRAMME_INDEX[p] for p in ("agency_attraction", "agency_matchmaking", "agency_finance", "agency_services")]
    spent = m.ledger.total[rows].sum(axis=0)
    budget = m.levers.agencies.budget * 100.0 * m.n_steps * m.dt
    for agency in m.agencies:
        assert spent[agency.cluster] <= budget * (1 + 1e-9)
    # incentive packages go to won investors only, and only where the agency promotes
    incentives = m.ledger.total[PROGRAMME_INDEX["investment_incentives"]]
    assert incentives[CLUSTER_INDEX["other"]] == 0.0
    paid = m.firms.public_cash[: m.firms.n]
    mobile = m.firms.origin[: m.firms.n] >= ORIGIN_ATTRACTED
    assert incentives.sum() > 0 and paid[mobile].sum() >= incentives.sum() - 1e-6


# --- entry is rationed by floor and talent -------------------------------------------------------


def _projects(m: ClusterModel, cluster: str, town: int, k: int, origin: int) -> dict:
    c = CLUSTER_INDEX[cluster]
    return dict(cluster=np.full(k, c), town=np.full(k, town), revenue=np.full(k, 40.0), target=np.full(k, 160.0),
                permanent=np.zeros(k), origin=np.full(k, origin, dtype=np.int8))


@pytest.mark.parametrize("origin", [ORIGIN_ATTRACTED, ORIGIN_SPINOFF])
def test_entrants_without_talent_do_not_come_and_give_their_floor_back(origin: int) -> None:
    m = make(seed=2)
    t = m.towns
    town = int(np.argmax(t.vacancy))
    t.talent_free[:] = 0.0
    vacant = t.vacant.copy()
    n0 = m.firms.n
    rows = entry.admit(m, _projects(m, "mat", town, 5, origin))
    assert rows.size == 0 and m.firms.n == n0
    np.testing.assert_allclose(t.vacant, vacant)  # housed, then not staffed: the floor is free again
    assert m.talent_unfilled > 0


def test_entrants_take_talent_in_order_until_the_pool_is_empty() -> None:
    m = make(seed=2)
    t = m.towns
    town = int(np.argmax(t.vacancy))
    projects = _projects(m, "ngei", town, 8, ORIGIN_ATTRACTED)
    need = m.talent_per_capacity[CLUSTER_INDEX["ngei"]] * projects["revenue"] / m.efficiency() / entry.START_UTILISATION
    t.talent_free[:] = 0.0
    t.talent_free[town] = 3.5 * need[0]  # room for three
    t.vacant[town] = 1e12
    rows = entry.admit(m, projects)
    assert rows.size == 3
    assert t.talent_free[town] == pytest.approx(0.5 * need[0])
    assert (t.talent_free >= 0).all()


def test_won_investors_find_no_room_without_usable_floor() -> None:
    m = make(seed=2)
    t = m.towns
    t.vacant[:] = 0.0  # no vacant floor anywhere
    t.talent_free[:] = 1e12
    rows = entry.admit(m, _projects(m, "semi", 0, 6, ORIGIN_EXTERNAL))
    assert rows.size == 0


# --- growth shocks, productivity -----------------------------------------------------------------


@pytest.mark.parametrize("scale", [0.05, 0.2, 0.45, 0.8])
def test_the_growth_shock_has_mean_one_in_levels(scale: float) -> None:
    rng = np.random.default_rng(7)
    k = 2_000_000
    activity = firm_rules.activity(rng, k)
    shock = np.sqrt(2.0) * scale * firm_rules.tent(rng, activity) - firm_rules.laplace_mean_correction(np.full(k, scale))
    level = np.exp(shock)
    se = level.std() / np.sqrt(k)
    assert abs(level.mean() - 1.0) < 5 * se + 1e-3


def test_innovations_are_laplace_and_their_sum_too() -> None:
    rng = np.random.default_rng(11)
    activity = firm_rules.activity(rng, 200_000)
    a, b = firm_rules.tent(rng, activity), firm_rules.tent(rng, activity)
    laplace = stats.laplace(scale=1 / np.sqrt(2))
    for x in (a, 0.6 * a + 0.8 * b):  # any mix of the year's two innovations has unit variance
        assert stats.kstest(x, laplace.cdf).pvalue > 1e-3
        assert stats.kurtosis(x, fisher=False) == pytest.approx(6.0, rel=0.1)


@pytest.mark.parametrize("seed", [4, 6])
def test_log_productivity_is_as_persistent_as_the_evidence_says(seed: int) -> None:
    # evidence.md: log-TFP as a whole (permanent + transient) has an annual AR(1) of 0.6-0.9;
    # over five years ranks move (the transient part reverts) but the permanent level remains
    m = make(seed=seed, base=("simulation.below_scale_ratio=0.1",))
    n0 = m.firms.n
    years = [m.relative_productivity[:n0].copy()]
    for _ in range(5):
        for _ in range(m.steps_per_year):
            m.step()
        years.append(m.relative_productivity[:n0].copy())
    alive = m.firms.alive[:n0]
    annual = [np.corrcoef(a[alive], b[alive])[0, 1] for a, b in zip(years[1:-1], years[2:])]
    assert 0.6 <= np.mean(annual) <= 0.9, annual
    five = stats.spearmanr(years[0][alive], years[-1][alive]).statistic
    assert 0.1 < five < min(annual), five


def test_entrants_learn() -> None:
    # spin-offs start below their long-run productivity and close the gap as the transient part
    # reverts; without exits and innovations, nothing but learning moves it (selection would
    # otherwise make the survivors look better)
    quiet = ("uncertainties.behaviour.exit_hazard_young=0", "uncertainties.behaviour.exit_loss_quarters=40",
             "uncertainties.behaviour.productivity_volatility=0.0001")
    m = make(*quiet, seed=5, base=("simulation.below_scale_ratio=0.1", "simulation.end_year=2024"))
    m.run()
    f, n = m.firms, m.firms.n
    spinoffs = f.alive[:n] & (f.origin[:n] == ORIGIN_SPINOFF)
    age_years = f.age[:n][spinoffs] / m.steps_per_year
    gap = f.prod_transient[:n][spinoffs]
    young, older = gap[age_years < 1].mean(), gap[age_years >= 2].mean()
    assert young < older < 0  # below the long-run level, less so with age
    rho = m.p.behaviour.productivity_persistence
    assert older / young == pytest.approx(rho ** 2, rel=0.5)  # reverting at the persistence, about


# --- the land lever adds to the market; everything it does is paid for -----------------------------


def test_the_land_programme_adds_to_market_redevelopment_and_pays_for_it() -> None:
    lags = ("uncertainties.land.approval_lag_years=0.5", "uncertainties.land.delivery_lag_years=0.75")
    on = make(*lags, seed=1)
    off = make(*lags, "levers.land.enabled=false", seed=1)
    for m in (on, off):
        m.run()
    assert on.towns.delivered_total.sum() > off.towns.delivered_total.sum() > 0
    land = [PROGRAMME_INDEX[p] for p in ("land_awards", "forgone_land_revenue")]
    assert on.ledger.total[land].sum() > 0 and off.ledger.total[land].sum() == 0.0


def test_business_as_usual_is_cheaper_than_the_policy_and_costs_something() -> None:
    bau = load_scenario(BASELINE.with_name("business_as_usual.toml"), list(FAST)).spec
    policy, usual = make(seed=1).run(), ClusterModel(bau, rng=1, firm_agents=False).run()
    cost = lambda r: r.city[:, list(CITY_METRICS).index("public_cost")].sum()  # noqa: E731
    assert 0 < cost(usual) < cost(policy)


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.01, 1.5))
def test_the_spread_of_firms_productivity_changes_adds_no_demand(seed: int, spread: float) -> None:
    """Selection and own productivity change reallocate a cluster's demand: after the correction each
    cluster's revenue moves by exp of the revenue-weighted mean change, whatever the spread."""
    rng = np.random.default_rng(seed)
    n, k = 400, 5
    cluster = rng.integers(0, k, n)
    weight = rng.lognormal(2.0, 1.0, n) * (rng.random(n) > 0.1)  # some closed firms weigh 0
    change = rng.normal(0.02, spread, n)
    gap = firm_rules.jensen_gap(change, weight, cluster, k)
    assert (gap >= -1e-12).all() and (gap > 0).any()
    moved = change - gap[cluster]
    for c in range(k):
        w, x = weight[cluster == c], change[cluster == c]
        if w.sum() == 0:
            continue
        mean = np.average(x, weights=w)
        assert np.sum(w * np.exp(moved[cluster == c])) == pytest.approx(w.sum() * np.exp(mean), rel=1e-9)
    assert np.allclose(firm_rules.jensen_gap(np.full(n, 0.3), weight, cluster, k), 0.0, atol=1e-12)


@pytest.mark.parametrize("seed", [1, 2])
def test_incumbents_start_within_their_credit_limit(seed: int) -> None:
    """A 2020 incumbent in debt beyond what lenders carry would have closed before the start."""
    m = ClusterModel(rng=seed, firm_agents=False)
    n = m.firms.n
    debt = np.maximum(-m.firms.cash[:n], 0.0)
    assert (debt > 0).any()
    assert (debt <= firm_rules.credit_limit(m, slice(0, n)) * (1 + 1e-9) + 1e-12).all()
