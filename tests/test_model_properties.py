"""Properties that hold for every seed and lever setting: stocks stay non-negative, floor space
and money are conserved, shares stay shares, runs are reproducible, results are complete.

Hypothesis draws seeds and lever settings; examples are few (each one runs a small model for
two years) and deadlines are off.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulation.model.firm_rules import efficiency
from simulation.model.ledger import PROGRAMME_INDEX
from simulation.model.model import ClusterModel
from simulation.model.results import CITY_METRICS, CLUSTER_METRICS, TOWN_METRICS, ReplicateResult, annualise
from simulation.model.talent import BASE_SHARE
from simulation.scenario import load_scenario

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml"
FAST = ("simulation.below_scale_ratio=0.1", "simulation.end_year=2022")
SHORT_LAGS = ("uncertainties.land.approval_lag_years=0.5", "uncertainties.land.delivery_lag_years=0.75")
SWITCH_OFF = {
    "land": ("levers.land.enabled=false",),
    "subsidy": ("levers.subsidy.enabled=false",),
    "talent": ("levers.talent.enabled=false",),
    "core_zones": ("levers.core_zones.enabled=false",),
    "agencies": ("levers.agencies.enabled=false",),
    "funds": tuple(f"levers.funds.{name}.enabled=false" for name in ("guidance", "ic", "ma")),
}
#: drawn parameters that are probabilities or shares
SHARE_PARAMETERS = (
    "demand.persistence", "behaviour.productivity_persistence", "behaviour.relabel_share",
    "behaviour.exit_hazard_young", "land.pipeline_conversion", "land.initial_vacancy", "talent.outside_match",
    "funds.reach_target_probability", "funds.partial_raise", "policy.zone_diminishing",
)
PROPERTY_SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@lru_cache(maxsize=None)
def _spec(overrides: tuple[str, ...]):
    return load_scenario(BASELINE, list(overrides)).spec


def make(overrides: tuple[str, ...], seed: int) -> ClusterModel:
    return ClusterModel(_spec((*FAST, *overrides)), rng=seed)


@st.composite
def scenarios(draw) -> tuple[tuple[str, ...], int]:
    """(overrides, seed): some levers switched off, some magnitudes varied, any seed."""
    seed = draw(st.integers(0, 2**32 - 1))
    off = draw(st.sets(st.sampled_from(sorted(SWITCH_OFF)), max_size=3))
    overrides = [o for lever in sorted(off) for o in SWITCH_OFF[lever]]
    if draw(st.booleans()):
        overrides += SHORT_LAGS  # deliveries within the two years
    overrides.append(f"levers.land.floor_multiplier={draw(st.sampled_from([1.0, 3.4, 8.0]))}")
    overrides.append(f"levers.talent.subsidy={draw(st.sampled_from([0.0, 0.03, 0.2]))}")
    overrides.append(f"levers.subsidy.rd_budget={draw(st.sampled_from([0.0, 10.0, 100.0]))}")
    return tuple(overrides), seed


def check_state(m: ClusterModel) -> None:
    """Invariants of the model state after any step."""
    f, t, n = m.firms, m.towns, m.firms.n
    alive = f.alive[:n]
    # firms: finite, non-negative stocks; the dead hold nothing; nobody sells beyond capacity
    for name in ("revenue", "capacity", "capital", "rd", "cash", "logprod", "fund_equity"):
        assert np.isfinite(getattr(f, name)[:n]).all(), name
    for name in ("revenue", "capacity", "capital", "rd", "fund_equity"):
        assert (getattr(f, name)[:n] >= 0).all(), name
    for name in ("revenue", "capacity"):
        assert (getattr(f, name)[:n][~alive] == 0).all(), name
    assert (f.revenue[:n] <= efficiency(m.common_productivity) * f.capacity[:n] * (1 + 1e-9) + 1e-12).all()
    assert (f.age[:n] >= 0).all() and (f.loss_streak[:n] >= 0).all()
    assert f.n_alive > 0

    # towns: non-negative pools; floor space occupied + vacant = stock
    stock = t.floor_stock
    tol = 1e-9 * stock + 1e-6
    assert (stock > 0).all()
    assert (t.vacant >= -tol[:, None]).all()
    assert (t.deferred_old >= 0).all() and (t.delivered >= 0).all() and (t.delivered_total >= 0).all()
    assert (t.talent_free >= 0).all() and np.isfinite(t.talent_free).all()
    occupied = np.bincount(f.town[:n], weights=m.floor_per_capacity[f.cluster[:n]] * f.capacity[:n], minlength=t.n)
    assert (occupied <= stock + tol).all()
    np.testing.assert_allclose(occupied + t.vacancy, stock, rtol=1e-9)
    assert (np.isfinite(t.rent_index) & (t.rent_index > 0)).all()

    # shares stay shares
    occupancy = occupied / stock
    assert ((occupancy >= 0) & (occupancy <= 1 + 1e-9)).all()
    assert ((t.occupancy_2020 > 0) & (t.occupancy_2020 <= 1)).all()
    assert 1.0 <= m.talent_multiplier <= 1.0 / BASE_SHARE
    assert 0.0 <= m.talent_premium <= 1.0

    # the fiscal ledger reconciles: public money into firms' cash is what the books say, every step
    books = m.ledger
    assert f.public_cash[:n].sum() == pytest.approx(books.paid_to_firms, rel=1e-9, abs=1e-6)
    assert books.firms_received == pytest.approx(books.paid_to_firms, rel=1e-9, abs=1e-6)
    assert (f.public_cash[:n] >= 0).all()
    fund_returns = PROGRAMME_INDEX["fund_returns"]
    assert (np.delete(books.total, fund_returns, axis=0) >= -1e-9).all()  # outlays are outlays
    assert (books.total[fund_returns] <= 1e-9).all()  # returns come back
    # ... and each programme spends within its means
    for agency in m.agencies:
        assert agency.spent <= agency.budget * m.steps * m.dt * (1 + 1e-9) + 1e-9
    agency_rows = [PROGRAMME_INDEX[p] for p in ("agency_attraction", "agency_matchmaking", "agency_finance",
                                                 "agency_services")]
    assert books.total[agency_rows].sum() == pytest.approx(sum(a.spent for a in m.agencies), abs=1e-6)
    talent = m.levers.talent
    assert books.total[PROGRAMME_INDEX["talent_subsidy"]].sum() <= talent.budget_cap * 100.0 * m.steps * m.dt + 1e-6

    # funds: money is conserved and never overdrawn
    for fund in m.funds:
        assert fund.raised == pytest.approx(fund.uncalled + fund.called, abs=1e-6)
        assert fund.called + fund.proceeds == pytest.approx(
            fund.invested + fund.fees + fund.returned + fund.cash, abs=1e-6)
        assert fund.cash >= -1e-6 and fund.uncalled >= -1e-6 and fund.invested >= 0 and fund.proceeds >= 0
        assert 0 < fund.realisation <= 1
        assert fund.raised <= fund.lever.target_size * 100.0 * (1 + 1e-12)
    paid_in = sum(fund.called for fund in m.funds)
    booked = books.total[[PROGRAMME_INDEX["fund_capital"], PROGRAMME_INDEX["fund_fees"]]].sum()
    assert booked == pytest.approx(paid_in, rel=1e-9, abs=1e-6)  # the city's outlay is what the funds called
    assert m.private_capital.available >= -1e-6

    # this step's flows: entrants, exits, attracted
    flows = m.step_flows
    assert (flows.entrants >= 0).all() and (flows.exits >= 0).all() and (flows.attracted >= 0).all()
    assert (flows.attracted <= flows.entrants).all()


@PROPERTY_SETTINGS
@given(scenarios())
def test_state_invariants_hold_at_every_step(scenario) -> None:
    overrides, seed = scenario
    m = make(overrides, seed)
    flat = vars(m.p)
    for name in SHARE_PARAMETERS:
        section, key = name.split(".")
        assert 0.0 <= getattr(flat[section], key) <= 1.0, name
    check_state(m)
    for _ in range(m.n_steps):
        m.step()
        check_state(m)
        # the ledger's step is the recorder's: this step's public money, by cluster
        recorded = m.recorder.cluster[m.steps, :, list(CLUSTER_METRICS).index("public_money")]
        np.testing.assert_allclose(recorded * 100.0, m.ledger.step.sum(axis=0), rtol=1e-12, atol=1e-9)


def _metric(names: dict, name: str) -> int:
    return list(names).index(name)


def check_result(r: ReplicateResult, n_steps: int) -> None:
    """Consistency of a run's recorded series."""
    C, T, Y = CLUSTER_METRICS, TOWN_METRICS, CITY_METRICS
    assert r.cluster.shape[0] == r.town.shape[0] == r.city.shape[0] == n_steps + 1
    year_end = np.zeros(n_steps + 1, dtype=bool)
    year_end[r.steps_per_year :: r.steps_per_year] = True
    for array, metrics in ((r.cluster, C), (r.town, T), (r.city, Y)):
        kinds = [kind for kind, *_ in metrics.values()]
        annual = [j for j, kind in enumerate(kinds) if kind == "annual"]
        other = [j for j, kind in enumerate(kinds) if kind != "annual"]
        assert np.isfinite(array[..., other]).all()
        # statistics of a whole year exist at its last step only (growth needs a comparable base)
        assert np.isnan(array[~year_end][..., annual]).all()
        assert np.isfinite(array[year_end][..., [j for j in annual if "growth" not in list(metrics)[j]]]).all()
    # every metric is a count, an amount, a level or an index; only money that comes back is negative
    signed_city = [_metric(Y, "public_cost"), _metric(Y, "cost_fund_returns"), _metric(Y, "industrial_va_growth_comparable")]
    assert (r.town >= 0).all() and (np.nan_to_num(np.delete(r.city, signed_city, axis=1)) >= 0).all()
    signed = [_metric(C, "public_money"), _metric(C, "va_growth_comparable")]
    assert (np.nan_to_num(np.delete(r.cluster, signed, axis=2)) >= 0).all()
    assert (r.city[:, _metric(Y, "cost_fund_returns")] <= 0).all()
    cl, tw, ci = r.cluster, r.town, r.city
    assert (cl[..., _metric(C, "abovescale_firms")] <= cl[..., _metric(C, "firms")]).all()
    assert (cl[..., _metric(C, "revenue")] <= cl[..., _metric(C, "revenue_all")] * (1 + 1e-12)).all()
    assert (tw[..., _metric(T, "floor_occupied")] <= tw[..., _metric(T, "floor_stock")] * (1 + 1e-9)).all()
    np.testing.assert_allclose(tw[..., _metric(T, "floor_occupied")].sum(axis=1),
                               cl[..., _metric(C, "floor_space")].sum(axis=1), rtol=1e-9)
    np.testing.assert_array_equal(tw[..., _metric(T, "firms")].sum(axis=1), cl[..., _metric(C, "firms")].sum(axis=1))
    np.testing.assert_array_equal(ci[:, _metric(Y, "firms")], cl[..., _metric(C, "firms")].sum(axis=1))
    np.testing.assert_allclose(tw[..., _metric(T, "revenue_all")].sum(axis=1),
                               cl[..., _metric(C, "revenue_all")].sum(axis=1), rtol=1e-9)
    # stocks move only by flows: firms(t) = firms(t-1) + entrants - exits
    firms = cl[..., _metric(C, "firms")]
    np.testing.assert_array_equal(firms[1:] - firms[:-1],
                                  cl[1:, :, _metric(C, "entrants")] - cl[1:, :, _metric(C, "exits")])
    # the start-year row records no flows
    flows = [j for j, (kind, *_) in enumerate(C.values()) if kind == "flow"]
    assert (cl[0][:, flows] == 0).all()


def check_annual_nans(r: ReplicateResult) -> None:
    """Annualised series are complete but for the start year of flows, which is NaN by design."""
    for array, metrics in ((r.cluster, CLUSTER_METRICS), (r.town, TOWN_METRICS), (r.city, CITY_METRICS)):
        kinds = [kind for kind, *_ in metrics.values()]
        annual = annualise(array, kinds, r.steps_per_year)
        assert annual.shape[0] == len(r.years)
        expected = np.zeros(annual.shape, dtype=bool)
        for j, kind in enumerate(kinds):
            if kind in ("flow", "annual"):
                expected[0, ..., j] = True
        growth = [j for j, name in enumerate(metrics) if "growth" in name]  # NaN where nothing is comparable
        np.testing.assert_array_equal(np.delete(np.isnan(annual), growth, axis=-1), np.delete(expected, growth, axis=-1))


@PROPERTY_SETTINGS
@given(scenarios())
def test_results_are_consistent_and_complete(scenario) -> None:
    overrides, seed = scenario
    m = make(overrides, seed)
    r = m.run()
    assert r.seed == seed
    assert r.parameters and all(np.isfinite(v) for v in r.parameters.values())
    check_result(r, m.n_steps)
    check_annual_nans(r)


def _same(a: ReplicateResult, b: ReplicateResult) -> bool:
    return all(np.array_equal(getattr(a, k), getattr(b, k), equal_nan=True) for k in ("cluster", "town", "city"))


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_the_same_seed_gives_the_same_run_and_another_seed_another(scenario) -> None:
    overrides, seed = scenario
    first, again = make(overrides, seed).run(), make(overrides, seed).run()
    assert _same(first, again)
    assert first.parameters == again.parameters
    for name, metrics in (("cluster", CLUSTER_METRICS), ("town", TOWN_METRICS), ("city", CITY_METRICS)):
        kinds = [kind for kind, *_ in metrics.values()]
        a, b = (annualise(getattr(r, name), kinds, r.steps_per_year) for r in (first, again))
        assert np.isnan(a).any() and np.array_equal(a, b, equal_nan=True)  # NaN in the same places
    other = make(overrides, (seed + 1) % 2**32).run()
    assert not _same(first, other)
    assert first.parameters != other.parameters
