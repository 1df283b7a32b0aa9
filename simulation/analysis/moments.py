"""Simulated moments: what the validation scorecard and the calibration compare with the evidence.

Every moment is computed from one replicate: firm-level moments from a :class:`FirmPanel` (the
firm table recorded after every step by :mod:`simulation.analysis.simulator`), city and cluster
moments from the replicate's :class:`~simulation.model.results.ReplicateResult` series. The
functions below are pure functions of arrays; :func:`compute_moments` puts them together.

The targets, their bands and the reasons for each band are in
:data:`simulation.analysis.scorecard.TARGETS`; the sources are these (see also
``docs/evidence.md`` and ``simulation/data/city.csv``):

Stylised facts of firm populations (evidence.md, "Patterns the simulated firm population should show")

* ``growth_kurtosis``, ``growth_laplace_lr``, ``growth_subbotin_shape``: annual firm growth rates
  are tent-shaped (Laplace, Subbotin shape b ≈ 1), not Gaussian: kurtosis ≫ 3 and the Laplace
  beats the Gaussian by likelihood (Stanley et al. 1996, Nature 379; Bottazzi & Secchi 2006,
  RAND J. Econ. 37(2)). Measured on the annual log growth of above-scale firms that live through
  both years (the population of Chinese firm-level data), net of each cluster's mean growth that
  year, and divided by the standard deviation of firms of similar size (size deciles), because
  Stanley et al. show the *conditional* distribution at a given size is Laplace, with a width
  that falls with size; pooling sizes would fatten the tails of any distribution.
* ``turnover``: entry + exit ≈ 20 % of firms a year (band 10–30 %) (Bartelsman, Scarpetta &
  Schivardi 2005, Industrial and Corporate Change 14(3)). All modelled firms; the first simulated
  year is a burn-in (loss streaks start at zero in the start year, so no firm can exit on persistent
  losses in its first quarters) and is left out when the run has more than one year.
* ``entrant_failure_2y``: 20–40 % of entrants fail within two years (Bartelsman et al. 2005).
  Entrants of every origin, among those observed for two full years before the run ends.
* ``tfp_90_10_ratio``: the 90–10 ratio of TFP within an industry in China ≈ 5 (log gap ≈ 1.6)
  (Hsieh & Klenow 2009, QJE 124(4); Syverson 2011, JEL 49(2)). Above-scale firms (the population
  of the Chinese industrial survey), per policy cluster (``other`` mixes industries and is left
  out), at the end of the run; the clusters' log gaps are averaged with their firm counts as
  weights, and the ratio is exp of that average.
* ``incumbent_tfp_growth``: incumbents' TFP grows ≈ 2.9 % a year in Chinese manufacturing,
  gross-output basis (Brandt, Van Biesebroeck & Zhang 2012, JDE 97(2)). Firms alive at the start
  and at the end of the run; mean annual log-TFP change weighted by start-year revenue (Brandt et
  al. weight firms by output shares).

City figures of 2021 (``simulation/data/city.csv``, grade A: Dongguan statistics bureau; Guangdong
Statistical Yearbook 2024 table 12-6; the semiconductor cluster action plan 2022-2025)

* ``abovescale_firms_growth_2021``: above-scale industrial firms 11,525 (2020) → 12,778 (2021),
  +10.9 %. On the statistics' basis (a firm counts when its current-price revenue for the year is
  at least 20 M CNY): the city series ``abovescale_industrial_firms_stat`` for 2021 over the start
  state (the 2020 annual figures).
* ``industrial_growth_2021``: above-scale industrial value added +10.2 % (real) in 2021. The
  statistics bureau computes growth on a comparable basis (the same firms in both years), so the
  moment is the revenue growth of the firms above scale in 2021 that also existed in 2020,
  industrial clusters (all but software).
* ``growth_2021_<group>``: 2021 value-added growth of the statistical industry groups: electronics
  (电子信息制造业) 6.4 %, electrical machinery and equipment (电气机械及设备制造业) 14.7 %, textiles,
  apparel, footwear and hats 7.1 %, food and beverages 10.5 %; compared with the clusters ``ngei``,
  ``hem`` (a subset of its group), ``tex`` and ``food``, on the same comparable basis.
* ``semi_revenue_2021``: semiconductor and IC main-business revenue ≈ 256 亿元 in 2021. The cluster
  series ``revenue_stat`` of ``semi``: 2021 current-price revenue of the firms above scale in 2021.

Units: growth rates and shares in %, the 90–10 ratio as a ratio, revenue in 亿元.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import gammaln

from simulation.datapack import ABOVE_SCALE_THRESHOLD, CLUSTER_INDEX, CLUSTERS, INDUSTRIAL
from simulation.model.results import CITY_METRICS, CLUSTER_METRICS, ReplicateResult, annualise

DATA_YEAR = 2021  # the year of the city figures in the data pack
SIZE_BINS = 10  # growth rates are standardised within deciles of base-year revenue
MIN_BIN = 30  # ... with at least this many firms a bin (fewer: one bin)
MIN_CLUSTER_FIRMS = 20  # a cluster enters the 90-10 moment with at least this many firms
FAILURE_HORIZON_YEARS = 2.0
GROUPS = {"ngei": "electronics", "hem": "electrical machinery", "tex": "textiles", "food": "food"}
POLICY_CLUSTERS = tuple(c for c in CLUSTERS if c != "other")

#: Moment ids in scorecard order.
MOMENT_IDS: tuple[str, ...] = (
    "growth_kurtosis",
    "growth_laplace_lr",
    "growth_subbotin_shape",
    "turnover",
    "entrant_failure_2y",
    "tfp_90_10_ratio",
    "incumbent_tfp_growth",
    "abovescale_firms_growth_2021",
    "industrial_growth_2021",
    *(f"growth_{DATA_YEAR}_{c}" for c in GROUPS),
    "semi_revenue_2021",
)


@dataclass
class FirmPanel:
    """Every firm of a run after every step: rows are firms (firm-table rows), axis 0 is the step.

    Step 0 is the start (revenue: the 2020 annual figures); a firm not yet born or already gone has ``alive`` False and revenue 0.
    """

    start_year: int
    steps_per_year: int
    n_initial: int  # rows 0..n_initial-1 are the start-year population, later rows are entrants
    revenue: np.ndarray  # (steps + 1, firms), M CNY a year
    alive: np.ndarray  # (steps + 1, firms) bool
    logprod: np.ndarray  # (steps + 1, firms) log-TFP
    cluster: np.ndarray  # (firms,) index into CLUSTERS
    birth_step: np.ndarray  # (firms,) step of entry (<= 0 for the start-year population)

    @property
    def n_steps(self) -> int:
        return self.revenue.shape[0] - 1

    @property
    def years(self) -> int:
        return self.n_steps // self.steps_per_year


# --- growth-rate distribution ---------------------------------------------------------------


def annual_revenue(revenue: np.ndarray, alive: np.ndarray, steps_per_year: int) -> np.ndarray:
    """(years, firms) mean revenue over each simulated year's steps; NaN unless alive all year.

    Row ``y`` is simulated year ``y + 1`` (steps ``y * spy + 1 .. (y + 1) * spy``); step 0, the
    start state, is not a year's worth of sales and is left out.
    """
    years = (revenue.shape[0] - 1) // steps_per_year
    body = revenue[1 : 1 + years * steps_per_year].reshape(years, steps_per_year, -1)
    whole = alive[1 : 1 + years * steps_per_year].reshape(years, steps_per_year, -1).all(axis=1)
    return np.where(whole, body.mean(axis=1), np.nan)


def standardised_growth(
    annual: np.ndarray, cluster: np.ndarray, min_size: float = ABOVE_SCALE_THRESHOLD, bins: int = SIZE_BINS
) -> np.ndarray:
    """Annual log growth rates, net of the cluster-year mean and scaled by the size-bin sd.

    For each pair of consecutive years: firms with revenue >= ``min_size`` in the first and
    positive revenue in the second; their log growth minus the mean of their cluster that year;
    then, within deciles of first-year log revenue, centred on the bin mean and divided by the
    bin's standard deviation (Stanley et al. 1996: the growth distribution at a given size).
    """
    out = []
    for y in range(annual.shape[0] - 1):
        before, after = annual[y], annual[y + 1]
        ok = np.isfinite(before) & np.isfinite(after) & (before >= min_size) & (after > 0)
        if ok.sum() < 2:
            continue
        g = np.log(after[ok] / before[ok])
        c = cluster[ok]
        counts = np.bincount(c)
        mean = np.bincount(c, weights=g) / np.maximum(counts, 1)
        g = g - mean[c]
        size = np.log(before[ok])
        k = max(1, min(bins, g.size // MIN_BIN))
        edges = np.quantile(size, np.linspace(0.0, 1.0, k + 1)[1:-1])
        b = np.searchsorted(edges, size, side="right")
        for j in range(k):
            sel = b == j
            if sel.sum() < 2:
                g[sel] = np.nan
                continue
            sd = g[sel].std()
            g[sel] = (g[sel] - g[sel].mean()) / sd if sd > 0 else np.nan
        out.append(g[np.isfinite(g)])
    return np.concatenate(out) if out else np.zeros(0)


def kurtosis(x: np.ndarray) -> float:
    """Pearson kurtosis E[(x - mean)^4] / var^2 (3 for a Gaussian, 6 for a Laplace); NaN if < 4 values."""
    x = np.asarray(x, dtype=float)
    if x.size < 4:
        return math.nan
    d = x - x.mean()
    var = np.mean(d * d)
    return float(np.mean(d**4) / var**2) if var > 0 else math.nan


def laplace_gaussian_lr(x: np.ndarray) -> float:
    """Mean log-likelihood ratio per observation of the ML Laplace over the ML Gaussian.

    Positive: the Laplace fits better. For large samples it tends to +0.073 for Laplace data
    (0.5 ln(4πe) − 1 − ln 2) and to −0.049 for Gaussian data (0.5 ln(2πe) − ln(2√(2/π)) − 1).
    """
    x = np.asarray(x, dtype=float)
    if x.size < 4:
        return math.nan
    b = np.mean(np.abs(x - np.median(x)))
    sd = x.std()
    if b <= 0 or sd <= 0:
        return math.nan
    ll_laplace = -math.log(2.0 * b) - 1.0
    ll_gauss = -0.5 * math.log(2.0 * math.pi * sd * sd) - 0.5
    return float(ll_laplace - ll_gauss)


def subbotin_shape(x: np.ndarray, bounds: tuple[float, float] = (0.2, 8.0)) -> float:
    """Maximum-likelihood shape b of a Subbotin (generalised normal) fitted to ``x``.

    Density b / (2 a Γ(1/b)) exp(-(|x - m| / a)^b): b = 2 is the Gaussian, b = 1 the Laplace
    (Bottazzi & Secchi 2006). The centre m is fixed at the median (the ML centre at b = 1); the
    width a is profiled out, a^b = (b / N) Σ |x - m|^b, leaving a one-dimensional search over b.
    """
    x = np.asarray(x, dtype=float)
    if x.size < 4:
        return math.nan
    d = np.abs(x - np.median(x))
    d = d[d > 0]
    if d.size < 4:
        return math.nan
    logd = np.log(d)
    n = d.size

    def negative_loglik(b: float) -> float:
        # log a = (log(b/N) + logsumexp(b log d)) / b
        top = b * logd.max()
        log_sum = top + math.log(np.exp(b * logd - top).sum())
        log_a = (math.log(b / n) + log_sum) / b
        return -(n * (math.log(b) - math.log(2.0) - log_a - gammaln(1.0 / b)) - n / b)

    res = minimize_scalar(negative_loglik, bounds=bounds, method="bounded", options={"xatol": 1e-4})
    return float(res.x)


# --- turnover -------------------------------------------------------------------------------


def turnover_rate(entrants: np.ndarray, exits: np.ndarray, firms: np.ndarray, burn_in_years: int = 1) -> float:
    """Mean over years of (entrants + exits) / firms alive at the start of the year, in %.

    ``entrants`` and ``exits`` are per simulated year (length Y), ``firms`` the stock at the end
    of each year including the start state (length Y + 1). The first ``burn_in_years`` are left
    out when more years remain.
    """
    entrants, exits, firms = (np.asarray(a, dtype=float) for a in (entrants, exits, firms))
    rates = (entrants + exits) / np.where(firms[:-1] > 0, firms[:-1], np.nan)
    if rates.size > burn_in_years:
        rates = rates[burn_in_years:]
    return float(np.nanmean(rates) * 100.0) if np.isfinite(rates).any() else math.nan


def death_steps(alive: np.ndarray) -> np.ndarray:
    """(firms,) first step at which a firm alive at the previous step is no longer alive; -1 if never."""
    gone = alive[:-1] & ~alive[1:]
    died = gone.any(axis=0)
    return np.where(died, gone.argmax(axis=0) + 1, -1)


def entrant_failure_share(
    birth_step: np.ndarray, death_step: np.ndarray, is_entrant: np.ndarray, last_step: int, horizon: int
) -> float:
    """Share (%) of entrants that exit within ``horizon`` steps of entry.

    Only entrants born at least ``horizon`` steps before ``last_step`` count (their two years
    are observed); NaN when there are none.
    """
    observed = is_entrant & (birth_step >= 1) & (birth_step <= last_step - horizon)
    if not observed.any():
        return math.nan
    failed = (death_step >= 0) & (death_step - birth_step <= horizon)
    return float(failed[observed].mean() * 100.0)


# --- productivity ---------------------------------------------------------------------------


def dispersion_90_10(logprod: np.ndarray, cluster: np.ndarray, mask: np.ndarray, clusters: np.ndarray) -> float:
    """exp of the firm-weighted mean over ``clusters`` of the within-cluster 90th–10th log-TFP gap.

    Firms in ``mask`` only; clusters with fewer than MIN_CLUSTER_FIRMS such firms are skipped.
    """
    gaps, weights = [], []
    for c in clusters:
        x = logprod[mask & (cluster == c)]
        if x.size < MIN_CLUSTER_FIRMS:
            continue
        p10, p90 = np.percentile(x, [10.0, 90.0])
        gaps.append(p90 - p10)
        weights.append(x.size)
    if not gaps:
        return math.nan
    return float(math.exp(np.average(gaps, weights=weights)))


def incumbent_tfp_growth(start: np.ndarray, end: np.ndarray, weights: np.ndarray, years: float) -> float:
    """Weighted mean annual log-TFP growth, % a year, of firms observed at both ends."""
    if years <= 0 or start.size == 0 or not np.any(weights > 0):
        return math.nan
    return float(np.average((end - start) / years, weights=weights) * 100.0)


# --- city figures ---------------------------------------------------------------------------


def growth_percent(before: float, after: float) -> float:
    return float((after / before - 1.0) * 100.0) if before > 0 else math.nan


def comparable_growth(before: np.ndarray, after: np.ndarray, mask: np.ndarray) -> float:
    """Growth (%) of the total of ``after`` over ``before`` for the firms in ``mask`` (same-firm basis)."""
    b = before[mask].sum()
    return growth_percent(b, after[mask].sum()) if mask.any() else math.nan


# --- one replicate --------------------------------------------------------------------------


def firm_moments(panel: FirmPanel) -> dict[str, float]:
    """Moments that need the firm table: growth distribution, entrant failure, productivity, 2021 growth."""
    out: dict[str, float] = {}
    spy, cluster = panel.steps_per_year, panel.cluster
    annual = annual_revenue(panel.revenue, panel.alive, spy)
    g = standardised_growth(annual, cluster)
    out["growth_kurtosis"] = kurtosis(g)
    out["growth_laplace_lr"] = laplace_gaussian_lr(g)
    out["growth_subbotin_shape"] = subbotin_shape(g)

    n = cluster.size
    rows = np.arange(n)
    out["entrant_failure_2y"] = entrant_failure_share(
        panel.birth_step, death_steps(panel.alive), rows >= panel.n_initial, panel.n_steps,
        int(round(FAILURE_HORIZON_YEARS * spy)),
    )

    last = panel.n_steps
    above = panel.alive[last] & (panel.revenue[last] >= ABOVE_SCALE_THRESHOLD)
    policy = np.array([CLUSTER_INDEX[c] for c in POLICY_CLUSTERS])
    out["tfp_90_10_ratio"] = dispersion_90_10(panel.logprod[last], cluster, above, policy)

    incumbents = (rows < panel.n_initial) & panel.alive[0] & panel.alive[last]
    out["incumbent_tfp_growth"] = incumbent_tfp_growth(
        panel.logprod[0, incumbents], panel.logprod[last, incumbents], panel.revenue[0, incumbents],
        panel.n_steps / spy,
    )

    y = DATA_YEAR - panel.start_year  # simulated year y is row y - 1 of `annual`
    if 1 <= y <= annual.shape[0]:
        now = annual[y - 1]
        # the previous year: the start row (the 2020 annual figures) for the first simulated year, else its mean
        before = panel.revenue[0] if y == 1 else np.nan_to_num(annual[y - 2])
        existed = before > 0
        comparable = np.isfinite(now) & (now >= ABOVE_SCALE_THRESHOLD) & existed
        industrial = np.isin(cluster, [CLUSTER_INDEX[c] for c in INDUSTRIAL])
        out[f"industrial_growth_{DATA_YEAR}"] = comparable_growth(before, np.nan_to_num(now), comparable & industrial)
        for c in GROUPS:
            mask = comparable & (cluster == CLUSTER_INDEX[c])
            out[f"growth_{DATA_YEAR}_{c}"] = comparable_growth(before, np.nan_to_num(now), mask)
    else:
        out[f"industrial_growth_{DATA_YEAR}"] = math.nan
        for c in GROUPS:
            out[f"growth_{DATA_YEAR}_{c}"] = math.nan
    return out


def series_moments(result: ReplicateResult) -> dict[str, float]:
    """Moments from the recorded series: turnover, the 2021 above-scale firm count and semiconductor revenue."""
    spy = result.steps_per_year
    cluster = annualise(result.cluster, [k for k, *_ in CLUSTER_METRICS.values()], spy)
    city = annualise(result.city, [k for k, *_ in CITY_METRICS.values()], spy)
    names = list(CLUSTER_METRICS)
    entrants = cluster[1:, :, names.index("entrants")].sum(axis=1)
    exits = cluster[1:, :, names.index("exits")].sum(axis=1)
    firms = cluster[:, :, names.index("firms")].sum(axis=1)
    out = {"turnover": turnover_rate(entrants, exits, firms)}
    y = DATA_YEAR - result.start_year
    if 1 <= y < city.shape[0]:
        # the statistics' basis: a firm counts in a year when its revenue for the year reaches 20 M
        # CNY in current prices; the start state holds the start year's annual figures
        counts = city[:, list(CITY_METRICS).index("abovescale_industrial_firms_stat")]
        base = city[0, list(CITY_METRICS).index("abovescale_industrial_firms")] if y == 1 else counts[y - 1]
        out[f"abovescale_firms_growth_{DATA_YEAR}"] = growth_percent(base, counts[y])
        out[f"semi_revenue_{DATA_YEAR}"] = float(cluster[y, CLUSTER_INDEX["semi"], names.index("revenue_stat")])
    else:
        out[f"abovescale_firms_growth_{DATA_YEAR}"] = math.nan
        out[f"semi_revenue_{DATA_YEAR}"] = math.nan
    return out


def compute_moments(panel: FirmPanel, result: ReplicateResult) -> dict[str, float]:
    """Every moment of one replicate, keyed by id in MOMENT_IDS order."""
    values = {**firm_moments(panel), **series_moments(result)}
    return {k: values[k] for k in MOMENT_IDS}
