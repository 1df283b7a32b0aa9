"""Calibration by the method of simulated moments (MSM), deterministic given the seed.

The parameters a calibration file names (behavioural parameters the data pack and evidence.md do
not fix) are fitted to the scorecard's targets (:data:`simulation.analysis.scorecard.TARGETS`):

1. **Design.** A Latin hypercube of ``design.points`` points over the parameter box, plus the
   scenario's central values (the "before" point). At every point each named parameter is fixed
   (``--set key=value``) and every other uncertain value is drawn per replicate from the scenario,
   as in a run; every point uses the same ``replicates`` seeds (common random numbers), so
   differences between points are the parameters', not noise.
2. **Distance.** For point θ the simulated moment m_k(θ) is the mean over its replicates; the
   distance is Σ_k w_k ((m_k(θ) − t_k) / s_k)², with t_k the target, s_k half the band width (or
   the target's own scale for one-sided bands) and w_k the target's weight (a calibration file may
   change weights).
3. **Local refinement**, ``design.refine_rounds`` times: a quadratic response surface of each
   moment is fitted to every point evaluated so far (least squares with a small ridge), its
   predicted distance is minimised in the current box (L-BFGS-B from the best points), and a new
   Latin hypercube of ``design.refine_points`` points plus that minimiser is simulated in a box
   ``design.shrink`` times as wide, centred on it. The estimate θ̂ is the *simulated* point with
   the smallest distance (the surface only proposes where to look).
4. **Identification.** A 90 % interval for each parameter by profiling the response surfaces:
   at each of PROFILE_GRID values across the box the other parameters are moved to minimise the
   predicted distance, and the interval holds the values whose profile lies within Z90²/4 of its
   minimum (half a band is read as two standard deviations, so 4 × distance is a chi-square-type
   criterion). A parameter is **identified** when its interval is narrower than
   ``identification.max_relative_width`` times its prior range: written as triangular(interval
   low, θ̂, interval high). Otherwise it stays a range that runs sample: **weakly identified**
   when the interval does not cover the prior's range, written as uniform over the interval (the
   targets rule part of the prior out); **not identified** when it covers it, and the prior is
   kept. The record also gives local standard errors, from the Jacobian G of the moments at θ̂ by
   central differences (common random numbers, step ``design.fd_step`` of the box width) and the
   sandwich V = (G'WG)⁻¹ G'W Ω W G (G'WG)⁻¹, W = diag(w/s²), Ω the targets' uncertainty plus the
   simulation noise of the means. They are not used to classify: a slope says nothing where a
   moment responds to a parameter only quadratically (a volatility near zero) or at a box edge.
5. **Fit.** The scorecard at θ̂ (parameters fixed) and of the calibrated scenario (narrowed
   distributions sampled), ``design.validation_replicates`` replicates each.

Everything random derives from ``seed``: the design from ``numpy.random.default_rng(seed)``, the
replicates from :func:`simulation.experiments.seeds.replicate_seeds`; results do not depend on the
number of workers. Only the record's ``timing`` block differs between two runs.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import minimize

from simulation.analysis import scorecard as sc
from simulation.analysis.moments import MOMENT_IDS

Z90 = 1.6448536269514722  # standard normal 95th percentile


class CalibrationError(Exception):
    """A problem with a calibration file, worded for the person who wrote it."""


# --- the calibration file -------------------------------------------------------------------


@dataclass(frozen=True)
class Parameter:
    name: str
    key: str  # dotted scenario key, e.g. uncertainties.behaviour.spinoff_rate
    low: float
    high: float

    @property
    def width(self) -> float:
        return self.high - self.low


@dataclass(frozen=True)
class Design:
    points: int = 48
    refine_rounds: int = 2
    refine_points: int = 16
    shrink: float = 0.4
    fd_step: float = 0.05
    validation_replicates: int = 40


@dataclass(frozen=True)
class Config:
    path: Path
    scenario: Path
    overrides: tuple[str, ...]
    seed: int
    replicates: int
    output: Path
    record: Path
    design: Design
    parameters: tuple[Parameter, ...]
    weights: dict[str, float]
    max_relative_width: float = 0.5

    def targets(self) -> list[sc.Target]:
        from dataclasses import replace

        return [replace(t, weight=self.weights.get(t.moment, t.weight)) for t in sc.TARGETS]


def load_config(path: str | Path) -> Config:
    """Read a calibration file; paths in it are relative to the file."""
    from simulation.scenario.toml_files import ScenarioError, parse_toml, read_text_file

    path = Path(path)
    try:
        data = parse_toml(read_text_file(path, "a calibration file"), path)
    except ScenarioError as exc:
        raise CalibrationError(str(exc)) from None
    here = path.parent

    def need(table: dict, key: str, kind: type | tuple, where: str) -> Any:
        if key not in table:
            raise CalibrationError(f"{path}: {where}{key} is missing")
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, kind):
            raise CalibrationError(f"{path}: {where}{key} has the wrong type ({value!r})")
        return value

    known = {"scenario", "set", "seed", "replicates", "output", "record", "design", "parameters", "weights",
             "identification", "description"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise CalibrationError(f"{path}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(known))})")
    def at(relative: str) -> Path:  # a path in the file, relative to it, without "dir/../"
        return Path(os.path.normpath(here / relative))

    scenario = at(need(data, "scenario", str, ""))
    overrides = tuple(data.get("set", []))
    if not all(isinstance(o, str) for o in overrides):
        raise CalibrationError(f"{path}: set must be a list of KEY=VALUE strings")
    seed = need(data, "seed", int, "")
    replicates = need(data, "replicates", int, "")
    if seed < 0 or replicates < 1:
        raise CalibrationError(f"{path}: seed must be >= 0 and replicates >= 1")
    d = data.get("design", {})
    fields_ = Design.__dataclass_fields__
    bad = sorted(set(d) - set(fields_))
    if bad:
        raise CalibrationError(f"{path}: unknown key design.{bad[0]} (allowed: {', '.join(fields_)})")
    design = Design(**d)
    if design.points < 2 or design.refine_rounds < 0 or design.refine_points < 1 or design.validation_replicates < 1:
        raise CalibrationError(f"{path}: design needs points >= 2, refine_rounds >= 0, refine_points >= 1, "
                               "validation_replicates >= 1")
    if not (0 < design.shrink < 1 and 0 < design.fd_step < 0.5):
        raise CalibrationError(f"{path}: design.shrink must be in (0, 1) and design.fd_step in (0, 0.5)")
    params = []
    for name, p in (data.get("parameters") or {}).items():
        where = f"parameters.{name}."
        key = need(p, "key", str, where)
        low, high = float(need(p, "low", (int, float), where)), float(need(p, "high", (int, float), where))
        if not low < high:
            raise CalibrationError(f"{path}: {where}low must be below high")
        params.append(Parameter(name, key, low, high))
    if not params:
        raise CalibrationError(f"{path}: no [parameters.<name>] tables: nothing to calibrate")
    weights = {k: float(v) for k, v in (data.get("weights") or {}).items()}
    unknown = sorted(set(weights) - set(MOMENT_IDS))
    if unknown:
        raise CalibrationError(f"{path}: weights.{unknown[0]} is not a moment ({', '.join(MOMENT_IDS)})")
    ident = data.get("identification", {})
    return Config(
        path=path,
        scenario=scenario,
        overrides=overrides,
        seed=seed,
        replicates=replicates,
        output=at(data["output"]) if "output" in data else scenario,  # default: in place
        record=at(data.get("record", "../docs/calibration_record.json")),
        design=design,
        parameters=tuple(params),
        weights=weights,
        max_relative_width=float(ident.get("max_relative_width", 0.5)),
    )


# --- pure pieces ----------------------------------------------------------------------------


def latin_hypercube(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points in [0, 1]^d, one in each of n equal slices of every dimension."""
    u = rng.random((n, d))
    perms = np.stack([rng.permutation(n) for _ in range(d)], axis=1)
    return (perms + u) / n


def round_sig(x: float, digits: int = 6) -> float:
    return float(f"{x:.{digits}g}")


def distance(means: dict[str, float], targets: Sequence[sc.Target]) -> float:
    """Σ w ((m − t) / s)²; a moment the point cannot compute counts as 10 scales away."""
    total = 0.0
    for t in targets:
        if t.weight <= 0:
            continue
        m = means.get(t.moment, math.nan)
        z = (m - t.value) / t.distance_scale if math.isfinite(m) else 10.0
        total += t.weight * z * z
    return total


def mean_moments(values: Sequence[dict[str, float]]) -> dict[str, float]:
    out = {}
    for k in MOMENT_IDS:
        x = np.array([v.get(k, math.nan) for v in values], dtype=float)
        out[k] = float(np.mean(x[np.isfinite(x)])) if np.isfinite(x).any() else math.nan
    return out


def quadratic_features(x: np.ndarray, full: bool) -> np.ndarray:
    """[1, x, x², and x_i x_j if ``full``] for points in the unit box (rows)."""
    cols = [np.ones((x.shape[0], 1)), x, x * x]
    if full:
        i, j = np.triu_indices(x.shape[1], k=1)
        cols.append(x[:, i] * x[:, j])
    return np.hstack(cols)


def fit_surface(x: np.ndarray, y: np.ndarray, ridge: float = 1e-4) -> tuple[np.ndarray, bool]:
    """Least-squares quadratic (ridge) of y on x; full quadratic when there are enough points."""
    d = x.shape[1]
    full = x.shape[0] >= 2 * (1 + 2 * d + d * (d - 1) // 2)
    f = quadratic_features(x, full)
    ok = np.isfinite(y)
    a = f[ok]
    coef = np.linalg.solve(a.T @ a + ridge * np.eye(a.shape[1]), a.T @ y[ok]) if ok.sum() > 2 else np.zeros(f.shape[1])
    return coef, full


def sandwich_se(
    jacobian: np.ndarray, scales: np.ndarray, weights: np.ndarray, target_sd: np.ndarray, sim_var: np.ndarray
) -> np.ndarray:
    """Standard errors of MSM estimates: (G'WG)⁺ G'W Ω W G (G'WG)⁺, W = diag(w/s²), Ω = diag(sd² + sim var)."""
    use = (weights > 0) & np.all(np.isfinite(jacobian), axis=1)
    g = jacobian[use]
    w = np.diag(weights[use] / scales[use] ** 2)
    omega = np.diag(target_sd[use] ** 2 + np.nan_to_num(sim_var[use]))
    bread = np.linalg.pinv(g.T @ w @ g)
    v = bread @ g.T @ w @ omega @ w @ g @ bread
    se = np.sqrt(np.maximum(np.diag(v), 0.0))
    # a parameter no moment responds to is not identified at all
    dead = np.all(np.abs(g) < 1e-12, axis=0)
    return np.where(dead, np.inf, se)


# --- the calibration ------------------------------------------------------------------------


@dataclass
class Point:
    theta: np.ndarray
    stage: str
    values: list[dict[str, float]] = field(default_factory=list)
    means: dict[str, float] = field(default_factory=dict)
    loss: float = math.nan


@dataclass
class Result:
    config: Config
    points: list[Point]
    best: Point
    before: Point
    se: np.ndarray
    status: list[str]  # identified, weakly identified, not identified
    written: list[dict[str, Any] | None]  # the distribution written, None = the prior kept
    prior: list[dict[str, Any]]
    fit_point: sc.Scorecard
    fit_scenario: sc.Scorecard | None
    jacobian: np.ndarray
    timing: dict[str, float]
    calibrated_text: str = ""
    intervals: np.ndarray | None = None  # 90 % profile intervals, one row per parameter
    profiles: np.ndarray | None = None  # profile distance above its minimum, per parameter and grid value

    @property
    def identified(self) -> np.ndarray:
        return np.array([s == IDENTIFIED for s in self.status])


def _spec_getter(spec: Any, key: str) -> Any:
    node = spec
    for part in key.split("."):
        node = node[part] if isinstance(node, dict) else getattr(node, part)
    return node


def _prior(spec: Any, p: Parameter) -> dict[str, Any]:
    from simulation.scenario.distributions import Distribution

    value = _spec_getter(spec, p.key)
    if isinstance(value, Distribution):
        lo, hi = value.support
        return {"dist": value.dist, **dict(value.params), "central": value.central,
                "low_support": lo, "high_support": hi}
    return {"dist": "fixed", "value": float(value), "central": float(value), "low_support": float(value),
            "high_support": float(value)}


def run_calibration(
    config: Config, workers: int, progress: Callable[[str], None] | None = None, bar: bool = False
) -> Result:
    from simulation.analysis.simulator import MomentPool
    from simulation.experiments.seeds import replicate_seeds
    from simulation.scenario import load_scenario

    say = progress or (lambda _msg: None)
    clock = time.perf_counter()
    cpu0 = time.process_time()
    targets = config.targets()
    params = config.parameters
    lo = np.array([p.low for p in params])
    width = np.array([p.width for p in params])
    with_calibration_section(config.scenario.read_text(encoding="utf-8"), "")  # a section we may replace?
    base = load_scenario(config.scenario, config.overrides, calibrated=False)  # the priors
    prior = [_prior(base.spec, p) for p in params]
    seeds = replicate_seeds(config.seed, config.replicates)
    rng = np.random.default_rng(config.seed)

    def spec_at(theta: np.ndarray) -> Any:
        sets = [f"{p.key}={round_sig(float(v))!r}" for p, v in zip(params, theta)]
        return load_scenario(config.scenario, [*config.overrides, *sets], calibrated=False).spec

    points: list[Point] = []
    timing: dict[str, float] = {}

    def evaluate(pool: MomentPool, thetas: list[np.ndarray], stage: str) -> list[Point]:
        new = [Point(np.array([round_sig(float(v)) for v in t]), stage) for t in thetas]
        specs = [spec_at(pt.theta) for pt in new]
        tasks = [(spec, s) for spec in specs for s in seeds]
        started = time.perf_counter()
        values = pool.run(tasks, progress=bar, label=f"Calibrate: {stage}")
        timing[stage] = timing.get(stage, 0.0) + time.perf_counter() - started
        r = len(seeds)
        for i, pt in enumerate(new):
            pt.values = values[i * r : (i + 1) * r]
            pt.means = mean_moments(pt.values)
            pt.loss = distance(pt.means, targets)
        points.extend(new)
        return new

    def best_point() -> Point:
        return min(points, key=lambda pt: (pt.loss, tuple(pt.theta)))

    with MomentPool(workers) as pool:
        # 1. design: the scenario's central values and a Latin hypercube
        central = np.clip([pr["central"] for pr in prior], lo, lo + width)
        unit = latin_hypercube(config.design.points, len(params), rng)
        say(f"design: {config.design.points + 1} points × {len(seeds)} replicates")
        (before, *_) = evaluate(pool, [central, *(lo + unit * width)], "design")

        # 3. refinement around the response surface's minimum
        box_lo, box_hi = lo.copy(), lo + width
        for r in range(1, config.design.refine_rounds + 1):
            proposal = _surface_minimum(points, lo, width, box_lo, box_hi, targets)
            half = width * config.design.shrink**r / 2.0
            box_lo = np.clip(proposal - half, lo, lo + width - 2 * half)
            box_hi = box_lo + 2 * half
            unit = latin_hypercube(config.design.refine_points, len(params), rng)
            say(f"refinement {r}: {config.design.refine_points + 1} points in a box {config.design.shrink**r:.0%} as wide")
            evaluate(pool, [proposal, *(box_lo + unit * (box_hi - box_lo))], f"refine-{r}")
        best = best_point()

        # 4. identification: central differences with common random numbers
        say(f"identification: {2 * len(params)} points around the estimate")
        h = config.design.fd_step * width
        plus = np.minimum(best.theta + h, lo + width)
        minus = np.maximum(best.theta - h, lo)
        shifted = []
        for j in range(len(params)):
            up, down = best.theta.copy(), best.theta.copy()
            up[j], down[j] = plus[j], minus[j]
            shifted += [up, down]
        fd = evaluate(pool, shifted, "identification")
        jac = np.full((len(MOMENT_IDS), len(params)), np.nan)
        for j in range(len(params)):
            up, down = fd[2 * j], fd[2 * j + 1]
            step = up.theta[j] - down.theta[j]
            if step > 0:
                jac[:, j] = [(up.means[k] - down.means[k]) / step for k in MOMENT_IDS]
        scales = np.array([t.distance_scale for t in targets])
        weights = np.array([t.weight for t in targets])
        target_sd = scales / 2.0
        sim = np.array([[v[k] for k in MOMENT_IDS] for v in best.values], dtype=float)
        sim_var = np.nanvar(sim, axis=0) / max(len(seeds), 1) if len(seeds) > 1 else np.zeros(len(MOMENT_IDS))
        se = sandwich_se(jac, scales, weights, target_sd, sim_var)
        intervals, profiles = profile_intervals(points, best.theta, lo, width, targets)
        status, written = [], []
        for j, p in enumerate(params):
            st, dist = classify(float(best.theta[j]), tuple(intervals[j]), p, prior[j], config.max_relative_width)
            status.append(st)
            written.append(dist)

        # 5. the fit: at the point, and the calibrated scenario with its narrowed distributions
        v_seeds = replicate_seeds(config.seed, config.design.validation_replicates)
        say(f"fit: {len(v_seeds)} replicates at the estimate")
        started = time.perf_counter()
        fit_values = pool.run([(spec_at(best.theta), s) for s in v_seeds], progress=bar, label="Calibrate: fit")
        fit_point = sc.score(fit_values, "calibrated point", config.seed)
        text = calibrated_scenario_text(config, status, written, prior)
        fit_scenario = None
        try:
            fit_scenario = _score_text(pool, text, config, v_seeds, bar)
        finally:
            timing["fit"] = time.perf_counter() - started
    timing["total_wall_seconds"] = time.perf_counter() - clock
    timing["parent_cpu_seconds"] = time.process_time() - cpu0
    return Result(config, points, best, before, se, status, written, prior, fit_point, fit_scenario, jac, timing,
                  text, intervals, profiles)


def _score_text(pool: Any, text: str, config: Config, seeds: list[int], bar: bool) -> sc.Scorecard:
    """Scorecard of a scenario text written next to the output (so ``extends`` resolves), then removed."""
    import tempfile

    from simulation.scenario import load_scenario

    config.output.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".calibrated-", suffix=".toml", dir=config.output.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        spec = load_scenario(name).spec
    finally:
        os.unlink(name)
    values = pool.run([(spec, s) for s in seeds], progress=bar, label="Calibrate: scorecard")
    return sc.score(values, config.output.stem, config.seed)


def _surfaces(points: list[Point], lo: np.ndarray, width: np.ndarray, targets: Sequence[sc.Target]) -> dict:
    """A quadratic response surface of each weighted moment over the unit box, fitted to every point."""
    x = np.array([(pt.theta - lo) / width for pt in points])
    surfaces = {}
    for t in targets:
        if t.weight <= 0:
            continue
        y = np.array([pt.means[t.moment] for pt in points], dtype=float)
        surfaces[t.moment] = fit_surface(x, y)
    return surfaces


def _predicted_distance(surfaces: dict, u: np.ndarray, targets: Sequence[sc.Target]) -> float:
    means = {k: float((quadratic_features(u[None, :], full) @ coef)[0]) for k, (coef, full) in surfaces.items()}
    return distance(means, targets)


def _surface_minimum(
    points: list[Point], lo: np.ndarray, width: np.ndarray, box_lo: np.ndarray, box_hi: np.ndarray,
    targets: Sequence[sc.Target],
) -> np.ndarray:
    """Minimiser of the distance predicted by per-moment quadratic surfaces, within the box."""
    surfaces = _surfaces(points, lo, width, targets)
    ulo, uhi = (box_lo - lo) / width, (box_hi - lo) / width
    inside = [pt for pt in points if np.all(pt.theta >= box_lo - 1e-12) and np.all(pt.theta <= box_hi + 1e-12)]
    starts = sorted(inside or points, key=lambda pt: (pt.loss, tuple(pt.theta)))[:5]
    best_u, best_val = None, math.inf
    for pt in starts:
        u0 = np.clip((pt.theta - lo) / width, ulo, uhi)
        res = minimize(lambda u: _predicted_distance(surfaces, u, targets), u0, method="L-BFGS-B",
                       bounds=list(zip(ulo, uhi)))
        if res.fun < best_val:
            best_u, best_val = res.x, float(res.fun)
    return lo + np.clip(best_u, ulo, uhi) * width


PROFILE_GRID = 41  # values of each parameter at which the profile is computed
# The distance scales moments by half their band, and half a band is read as two standard deviations,
# so 4 × distance is a chi-square-type criterion; its 90 % critical value with one degree of freedom:
PROFILE_THRESHOLD = Z90**2 / 4.0


def profile_intervals(
    points: list[Point], best: np.ndarray, lo: np.ndarray, width: np.ndarray, targets: Sequence[sc.Target]
) -> tuple[np.ndarray, np.ndarray]:
    """90 % intervals by profiling the response-surface distance, one parameter at a time.

    For each parameter and each of PROFILE_GRID values across its box, the other parameters are
    moved to minimise the predicted distance; the interval is the run of values, around the
    profile's minimum, whose profile distance is within PROFILE_THRESHOLD of it (a distance-metric
    test). Unlike a standard error from local slopes, this holds where a moment responds to a
    parameter only quadratically or the estimate sits at the edge of its box. Returns the
    intervals (d × 2) and the profiles (d × PROFILE_GRID, distance above the minimum).
    """
    surfaces = _surfaces(points, lo, width, targets)
    d = len(lo)
    grid = np.linspace(0.0, 1.0, PROFILE_GRID)
    u_best = np.clip((best - lo) / width, 0.0, 1.0)
    profiles = np.zeros((d, PROFILE_GRID))
    for j in range(d):
        others = [i for i in range(d) if i != j]
        start = u_best[others]
        for g, value in enumerate(grid):
            def at(v: np.ndarray, value: float = value) -> float:
                u = np.empty(d)
                u[j], u[others] = value, v
                return _predicted_distance(surfaces, u, targets)

            if others:
                res = minimize(at, start, method="L-BFGS-B", bounds=[(0.0, 1.0)] * len(others))
                profiles[j, g] = float(res.fun)
            else:
                profiles[j, g] = at(np.empty(0))
    profiles -= profiles.min(axis=1, keepdims=True)
    intervals = np.zeros((d, 2))
    for j in range(d):
        k = int(np.argmin(profiles[j]))
        a = b = k
        while a > 0 and profiles[j, a - 1] <= PROFILE_THRESHOLD:
            a -= 1
        while b < PROFILE_GRID - 1 and profiles[j, b + 1] <= PROFILE_THRESHOLD:
            b += 1
        intervals[j] = lo[j] + width[j] * grid[[a, b]]
    return intervals, profiles


# --- writing --------------------------------------------------------------------------------


IDENTIFIED, WEAK, NOT_IDENTIFIED = "identified", "weakly identified", "not identified"


def classify(
    theta: float, interval: tuple[float, float], p: Parameter, prior: dict[str, Any], max_relative_width: float
) -> tuple[str, dict[str, float | str] | None]:
    """How a parameter is written: (status, distribution), None meaning the prior is kept.

    Identified: the 90 % interval is at most ``max_relative_width`` of the prior's range; written
    as triangular(interval low, estimate, interval high). Weakly identified: the interval leaves
    part of the prior's range out; written as uniform over the interval. Not identified: the
    interval covers the prior's range; the prior is kept.
    """
    lo_prior, hi_prior = prior["low_support"], prior["high_support"]
    prior_width = hi_prior - lo_prior if hi_prior > lo_prior else p.width
    low, high = round_sig(interval[0], 4), round_sig(interval[1], 4)
    if high - low <= max_relative_width * prior_width:
        mode = round_sig(min(max(theta, low), high), 4)
        return IDENTIFIED, {"dist": "triangular", "low": low, "mode": mode, "high": high}
    if low <= lo_prior and high >= hi_prior:
        return NOT_IDENTIFIED, None
    return WEAK, {"dist": "uniform", "low": low, "high": high}


SECTION_MARKER = "# --- calibration: written by `simulate calibrate"


def written_value(dist: dict[str, Any] | None, prior: dict[str, Any]) -> Any:
    """The value a parameter gets in the calibration section: the fitted distribution, else the prior."""
    if dist is not None:
        return dist
    if prior["dist"] == "fixed":
        return prior["value"]
    extra = ("dist", "central", "low_support", "high_support")
    return {"dist": prior["dist"], **{k: v for k, v in prior.items() if k not in extra}}


def calibration_section(
    config: Config, status: list[str], written: list[dict | None], prior: list[dict], scenario_dir: Path
) -> str:
    """The ``[calibration]`` section (TOML text, comment block first) for a scenario file in ``scenario_dir``."""
    import tomlkit
    from simulation.scenario.loader import parse_set_option

    def rel(path: Path) -> str:
        return Path(os.path.relpath(path, scenario_dir)).as_posix()

    header = [
        "# " + "-" * 90,
        f"{SECTION_MARKER}` from the `experiment` file; do not edit by hand:",
        "# rerun the calibration. Each value below replaces the one set above, in every run of this",
        "# scenario and of every scenario that extends it (a child file or --set can still change it).",
        "# The calibration itself starts from the values above (the priors), so a rerun with the same",
        "# seed writes this section again unchanged. 90 % intervals come from profiling the distance",
        "# to the targets. Identified: triangular(interval low, estimate, interval high); weakly",
        "# identified: uniform over the interval (a range runs sample); not identified: the prior,",
        "# unchanged. Estimates, intervals and the fit, moment by moment: the record.",
        "# " + "-" * 90,
    ]
    doc = tomlkit.document()
    table = tomlkit.table()
    table.add("experiment", rel(config.path))
    table.add("record", rel(config.record.with_suffix(".md")))
    table.add("seed", config.seed)
    values = tomlkit.table()

    def put(key: str, value: Any, comment: str) -> None:
        if isinstance(value, dict):
            item = tomlkit.inline_table()
            item.update(value)
        else:
            item = tomlkit.item(value)
        values[key] = item
        values[key].comment(comment)

    for option in config.overrides:
        keys, value = parse_set_option(option)
        put(".".join(keys), dict(value) if isinstance(value, dict) else value, "set by the calibration file")
    for p, st, dist, pr in zip(config.parameters, status, written, prior):
        put(p.key, written_value(dist, pr), f"{st} (prior {_prior_text(pr)})")
    table.add("values", values)
    doc.add("calibration", table)
    return "\n".join(header) + "\n" + tomlkit.dumps(doc)


def calibrated_scenario_text(
    config: Config, status: list[str], written: list[dict | None], prior: list[dict]
) -> str:
    """The calibrated scenario's whole text, to be written to ``config.output``.

    The scenario file with its calibration section replaced (so values of an earlier calibration
    that this one does not name are gone) and, when the output is elsewhere, its ``extends``
    pointed at the same parent from there.
    """
    import tomlkit

    text = config.scenario.read_text(encoding="utf-8")
    folder = config.output.parent
    if config.output.resolve() != config.scenario.resolve():
        doc = tomlkit.parse(text)
        if "extends" in doc:
            parent = config.scenario.parent / str(doc["extends"])
            doc["extends"] = Path(os.path.relpath(parent, folder)).as_posix()
            text = tomlkit.dumps(doc)
    return with_calibration_section(text, calibration_section(config, status, written, prior, folder))


def _prior_text(pr: dict[str, Any]) -> str:
    if pr["dist"] == "fixed":
        return f"{pr['value']:g}"
    keys = [k for k in ("low", "mode", "high", "mean", "sd") if k in pr]
    return pr["dist"] + " " + "/".join(f"{pr[k]:g}" for k in keys)


def with_calibration_section(text: str, section: str) -> str:
    """``text`` with its calibration section (from the marker to the end) replaced by ``section``."""
    lines = text.splitlines()
    cut = next((i for i, line in enumerate(lines) if line.startswith(SECTION_MARKER)), None)
    if cut is not None:
        cut -= 1 if cut > 0 and lines[cut - 1].startswith("# ---") else 0
        lines = lines[:cut]
    elif any(line.strip() == "[calibration]" for line in lines):
        raise CalibrationError("the scenario has a [calibration] section that `simulate calibrate` did not "
                               "write; remove it first")
    return "\n".join(lines).rstrip() + "\n\n" + section


def record_data(result: Result) -> dict[str, Any]:
    """The calibration record (JSON-ready); everything but ``timing`` is deterministic."""
    cfg = result.config

    def clean(x: Any) -> Any:
        if isinstance(x, float):
            return x if math.isfinite(x) else None
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [clean(v) for v in x]
        if isinstance(x, np.generic):
            return clean(x.item())
        return x

    parameters = []
    for j, (p, pr) in enumerate(zip(cfg.parameters, result.prior)):
        parameters.append({
            "name": p.name, "key": p.key, "box": [p.low, p.high],
            "prior": {k: v for k, v in pr.items() if k not in ("low_support", "high_support")},
            "before": float(result.before.theta[j]), "estimate": float(result.best.theta[j]),
            "se_local": float(result.se[j]),
            "interval_90": [float(v) for v in result.intervals[j]],
            "profile": [float(v) for v in result.profiles[j]],
            "status": result.status[j],
            "written_as": result.written[j] if result.written[j] is not None else "the prior, unchanged",
            "jacobian": {k: float(result.jacobian[i, j]) for i, k in enumerate(MOMENT_IDS)},
        })  # fmt: skip
    targets = cfg.targets()
    fit = []
    point_rows = {r.target.moment: r for r in result.fit_point.rows}
    scen_rows = {r.target.moment: r for r in result.fit_scenario.rows} if result.fit_scenario else {}
    for t in targets:
        row = {
            "moment": t.moment, "label": t.label, "target": t.value, "low": t.low, "high": t.high,
            "weight": t.weight, "before_mean": result.before.means[t.moment],
            "estimate_mean": result.best.means[t.moment],
        }
        r = point_rows[t.moment]
        row["at_estimate"] = {"median": r.median, "p5": r.p5, "p95": r.p95, "p_in_band": r.p_in_band,
                              "passed": r.passed}
        if t.moment in scen_rows:
            r = scen_rows[t.moment]
            row["calibrated_scenario"] = {"median": r.median, "p5": r.p5, "p95": r.p95,
                                          "p_in_band": r.p_in_band, "passed": r.passed}
        fit.append(row)
    design = [{"stage": pt.stage, "theta": [float(v) for v in pt.theta], "distance": pt.loss,
               "means": pt.means} for pt in result.points]
    return clean({
        "about": "Method of simulated moments; see simulation/analysis/calibration.py and docs/VALIDATION.md.",
        "config": cfg.path.as_posix(),
        "scenario": cfg.scenario.as_posix(),
        "overrides": list(cfg.overrides),
        "seed": cfg.seed,
        "replicates_per_point": cfg.replicates,
        "design": vars(cfg.design),
        "max_relative_width": cfg.max_relative_width,
        "distance_before": result.before.loss,
        "distance_estimate": result.best.loss,
        "parameters": parameters,
        "fit": fit,
        "points": design,
        "timing": result.timing,
    })


def record_markdown(data: dict[str, Any]) -> str:
    def f(x: Any, d: int = 3) -> str:
        return "–" if x is None else f"{x:.{d}g}" if isinstance(x, float) else str(x)

    lines = [
        "# Calibration record",
        "",
        f"Written by `simulate calibrate {data['config']}` (seed {data['seed']}, "
        f"{data['replicates_per_point']} replicates a point, {len(data['points'])} points). "
        "Generated: do not edit by hand. Method: docs/VALIDATION.md.",
        "",
        f"Distance to the targets: {f(data['distance_before'], 4)} at the scenario's central values, "
        f"{f(data['distance_estimate'], 4)} at the estimate.",
        "",
        "## Parameters",
        "",
        "| parameter | box | prior | estimate | local se | 90 % interval (profile) | status | written as |",
        "|---|---|---|---:|---:|---|:---:|---|",
    ]
    for p in data["parameters"]:
        pr = p["prior"]
        prior = pr["dist"] + " " + "/".join(f"{pr[k]:g}" for k in ("low", "mode", "high", "value") if k in pr)
        lo, hi = p["interval_90"]
        w = p["written_as"]
        if isinstance(w, dict) and w["dist"] == "triangular":
            w = f"triangular({w['low']:g}, {w['mode']:g}, {w['high']:g})"
        elif isinstance(w, dict):
            w = f"uniform({w['low']:g}, {w['high']:g})"
        lines.append(
            f"| `{p['key']}` | {p['box'][0]:g}–{p['box'][1]:g} | {prior} | {f(p['estimate'], 4)} | {f(p['se_local'], 3)} "
            f"| {f(lo, 3)} – {f(hi, 3)} | {p['status']} | {w} |"
        )
    lines += [
        "",
        "## Fit, moment by moment",
        "",
        "Mean over the calibration replicates at the central values (before) and at the estimate; median and "
        "90 % interval over the validation replicates at the estimate (parameters fixed) and for the "
        "calibrated scenario (its parameters sampled from the distributions written).",
        "",
        "| moment | target | band | before | estimate | at estimate: median [5, 95 %] | calibrated scenario | |",
        "|---|---:|---|---:|---:|---:|---:|:---:|",
    ]
    for r in data["fit"]:
        band = sc.TARGET_BY_ID[r["moment"]].band_text()
        a = r["at_estimate"]
        c = r.get("calibrated_scenario")
        ctext = "–" if not c else f"{f(c['median'])} [{f(c['p5'])}, {f(c['p95'])}]"
        verdict = "pass" if (c or a)["passed"] else "FAIL"
        lines.append(
            f"| {r['label']} | {f(r['target'])} | {band} | {f(r['before_mean'])} | {f(r['estimate_mean'])} | "
            f"{f(a['median'])} [{f(a['p5'])}, {f(a['p95'])}] | {ctext} | {verdict} |"
        )
    t = data.get("timing", {})
    if t:
        lines += ["", f"Wall time: {t.get('total_wall_seconds', 0):.0f} s."]
    return "\n".join(lines) + "\n"


def write_record(result: Result) -> tuple[Path, Path]:
    data = record_data(result)
    path = result.config.record
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    md = path.with_suffix(".md")
    md.write_text(record_markdown(data), encoding="utf-8")
    return path, md


def write_scenario(result: Result) -> Path:
    """Write the calibrated scenario: in place (the default), or a copy to ``--out``."""
    out = result.config.output
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(result.calibrated_text, encoding="utf-8")
    os.replace(tmp, out)
    return out
