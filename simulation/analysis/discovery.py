"""Scenario discovery: under which uncertain conditions does a policy target fail?

Each run of a sweep is one future: the values its design point gave the varied levers and
uncertainties, and the replicate's own draws of everything else. A run *fails* by a rule
(:class:`Failure`): by default when fewer than all five emerging clusters reach their growth
target; or when one cluster misses it; or when an outcome column is below or above a number.

PRIM (EMA Workbench's :class:`~ema_workbench.analysis.prim.Prim`, Friedman and Fisher 1999 as
used for scenario discovery by Bryant and Lempert 2010) peels the space of the varied
parameters down to a box where failures are dense. Along its *peeling trajectory* each box has a
**coverage** (the share of all failing futures that lie inside it), a **density** (the share of
futures inside it that fail) and a number of restricted dimensions. Each of the densest boxes
covering at least ``min_coverage`` is then tested: every restriction whose quasi-p-value (a
one-sided binomial test of whether the restriction raises the density, Bryant and Lempert 2010) is
above ``alpha`` is dropped, the least significant first, and the densest result that still
covers ``min_coverage`` is reported: the box says only what the runs support. CART (EMA
Workbench's :class:`~ema_workbench.analysis.cart.CART`, a scikit-learn tree, depth at most 3)
gives a second view: the leaf where failures are densest.

Everything is computed from the sweep's results folder; :func:`write` saves the tables and
sentences the charts (:mod:`simulation.reporting.charts.discovery`) and ``simulate discover``
read.
"""

from __future__ import annotations

import json
import logging
import re
import tomllib
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation.analysis.sensitivity import AnalysisError, SweepResults
from simulation.datapack import EMERGING
from simulation.reporting import labels

MIN_COVERAGE = 0.5  # the box must hold at least this share of the failing futures
ALPHA = 0.05  # restrictions with a larger quasi-p-value are dropped
PEEL_ALPHA = 0.05  # share of the futures PRIM peels off at each step
MASS_MIN = 0.05  # smallest share of all futures a box (or a CART leaf) may hold
CART_DEPTH = 3  # a tree a reader can follow
RARE = 0.05  # each outcome (fail, not fail) must hold at least this share of the runs
FILES = ("trajectory.csv", "box.csv", "cart.csv", "findings.json")


# --- what failing means -----------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    """Which runs fail: ``kind`` is "all" (not every emerging cluster hits), "miss" (``cluster``
    misses its target), "below" or "above" (``column`` below or above ``threshold``)."""

    kind: str
    column: str | None = None
    cluster: str | None = None
    threshold: float | None = None
    target: float = 10.0  # targets.emerging_cagr of the sweep's scenario, % a year

    @property
    def slug(self) -> str:
        if self.kind == "all":
            return "not_all_hit"
        if self.kind == "miss":
            return f"miss_{self.cluster}"
        return f"{self.column}_{self.kind}_{self.threshold:g}".replace("-", "m")

    def flags(self, runs: pd.DataFrame) -> pd.Series:
        """True where a run fails, False where it does not, NA where its outcome is missing."""
        if self.kind == "all":
            if "hit_all" in runs:
                hit = runs["hit_all"]
            else:
                hits = runs[[f"hit_{c}" for c in EMERGING]]
                hit = hits.all(axis=1).where(hits.notna().all(axis=1))
            return ~hit.astype("boolean")
        if self.kind == "miss":
            return ~runs[f"hit_{self.cluster}"].astype("boolean")
        x = pd.to_numeric(runs[self.column], errors="coerce")
        flags = x < self.threshold if self.kind == "below" else x > self.threshold
        return flags.astype("boolean").where(x.notna())

    def describe(self, lang: str = "en") -> str:
        """The failure as the subject of a sentence: "Biomedicine misses 10 % a year"."""
        target = labels.key_value("city_cagr", self.target, lang)  # a growth rate: "10 % a year"
        if self.kind == "all":
            n = {5: "five"}.get(len(EMERGING), str(len(EMERGING)))
            return (f"五个新兴产业未能全部达到年均增长 {target}" if lang == "zh"
                    else f"Fewer than all {n} emerging clusters grow at least {target}")  # fmt: skip
        if self.kind == "miss":
            name = labels.cluster(self.cluster, lang)
            return f"{name}未达到年均增长 {target}" if lang == "zh" else f"{name} misses {target}"
        what = labels.name(self.column, lang)
        amount = labels.key_value(self.column, float(self.threshold), lang)
        if lang == "zh":
            return f"{what}{'低于' if self.kind == 'below' else '高于'} {amount}"
        return labels.sentence_start(f"{what} is {'below' if self.kind == 'below' else 'above'} {amount}")


def parse_failure(text: str, columns: list[str], target: float = 10.0) -> Failure:
    """``all`` | an emerging cluster id | ``COLUMN<NUMBER`` | ``COLUMN>NUMBER``; AnalysisError otherwise."""
    text = text.strip()
    hits = [c for c in EMERGING if f"hit_{c}" in columns]
    forms = "all (fewer than all five emerging clusters hit), a cluster (" + ", ".join(EMERGING) + \
            "), or COLUMN<NUMBER / COLUMN>NUMBER such as city_cagr<6"  # fmt: skip
    if text == "all":
        if "hit_all" not in columns and len(hits) < len(EMERGING):
            raise AnalysisError("--fails all needs the sweep's all_hit (or hit) outcome group")
        return Failure("all", target=target)
    if text in EMERGING:
        if text not in hits:
            raise AnalysisError(f"--fails {text} needs the column hit_{text}, which this sweep did not record")
        return Failure("miss", cluster=text, target=target)
    match = re.fullmatch(r"([A-Za-z0-9_]+)\s*([<>])\s*(-?[0-9.]+(?:[eE]-?[0-9]+)?)", text)
    if not match:
        raise AnalysisError(f"--fails {text!r}: expected {forms}")
    column, sign, number = match.groups()
    if column not in columns or column.startswith(("hit_", "keeps_pace_")):
        numeric = [c for c in columns if not c.startswith(("hit_", "keeps_pace_"))]
        raise AnalysisError(f"--fails {text!r}: no outcome column {column!r}; this sweep has: {', '.join(numeric)}")
    try:
        threshold = float(number)
    except ValueError:
        raise AnalysisError(f"--fails {text!r}: {number!r} is not a number") from None
    return Failure("below" if sign == "<" else "above", column=column, threshold=threshold, target=target)


def scenario_target(results: SweepResults) -> float:
    """targets.emerging_cagr of the sweep's base scenario (10 if the folder does not say)."""
    try:
        data = tomllib.loads((results.folder / "scenario.toml").read_text(encoding="utf-8"))
        return float(data["targets"]["emerging_cagr"])
    except (OSError, KeyError, ValueError, TypeError):
        return 10.0


# --- the analysis ---------------------------------------------------------------------------


@dataclass
class Discovery:
    """What PRIM and CART found for one failure rule."""

    failure: Failure
    futures: int  # runs analysed (one future each)
    failures: int
    left_out: int  # runs without the outcome (failed runs, undefined values)
    trajectory: pd.DataFrame  # id, coverage, density, mass, res_dim, n, k, chosen
    chosen: int  # id of the reported box on the trajectory
    box: pd.DataFrame  # one row per varied parameter: limits, restricted sides, quasi-p-values
    cart: pd.DataFrame  # one row per leaf
    dropped: list[dict[str, Any]] = field(default_factory=list)  # restrictions dropped as not significant
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def base_rate(self) -> float:
        return self.failures / self.futures if self.futures else float("nan")

    @property
    def stats(self) -> dict[str, float]:
        row = self.trajectory.loc[self.trajectory["id"] == self.chosen].iloc[0]
        return {k: float(row[k]) for k in ("coverage", "density", "mass")} | {"res_dim": int(row["res_dim"])}

    def restricted(self) -> pd.DataFrame:
        return self.box[self.box["restricted_low"] | self.box["restricted_high"]]

    def sentence(self, lang: str = "en", short: bool = False) -> str:
        return box_sentence(self.failure, self.restricted(), self.stats, self.base_rate, lang, short)

    def cart_sentence(self, lang: str = "en") -> str:
        if self.cart.empty:
            return ""
        best = self.cart.iloc[0]
        conditions = conditions_text(_box_rows(best["limits"]), lang)
        if lang == "zh":
            return (f"CART 分类树（另一视角）：在{conditions or '全部'}的未来情景中，失败占比 {labels.share(best['density'], 'zh')}"
                    f"（覆盖全部失败情景的 {labels.share(best['coverage'], 'zh')}）。")  # fmt: skip
        return (f"CART (a second view): failures are densest, {labels.share(best['density'], 'en')} of futures, where "
                f"{conditions or 'anything holds'} ({labels.share(best['coverage'], 'en')} of the failing futures).")


def parameter_frame(results: SweepResults) -> pd.DataFrame:
    """The varied parameters of every run as PRIM's x (switches as 0/1)."""
    x = results.runs[results.keys].copy()
    for key in results.keys:
        if x[key].dtype == bool:
            x[key] = x[key].astype(np.int64)
        elif np.issubdtype(x[key].dtype, np.integer):
            x[key] = x[key].astype(np.int64)
        else:
            x[key] = x[key].astype(float)
    return x


def discover(results: SweepResults, failure: Failure, *, min_coverage: float = MIN_COVERAGE, alpha: float = ALPHA,
             peel_alpha: float = PEEL_ALPHA, mass_min: float = MASS_MIN, box: int | None = None) -> Discovery:  # fmt: skip
    """Run PRIM and CART on the sweep's runs for ``failure`` (see the module docstring).

    ``box``: report this id of the peeling trajectory as it is, instead of choosing (no restriction dropped).
    """
    ok = results.runs["status"] == "ok"
    flags = failure.flags(results.runs)
    usable = ok & flags.notna()
    x = parameter_frame(results).loc[usable].reset_index(drop=True)
    y = flags.loc[usable].to_numpy(dtype=bool)
    left_out = int((~usable).sum())
    if len(y) < 20:
        raise AnalysisError(f"only {len(y)} runs have the outcome; scenario discovery needs many futures (a few "
                            "hundred): run a larger sweep")  # fmt: skip
    if y.sum() == 0 or y.all():
        what = "no run fails" if y.sum() == 0 else "every run fails"
        raise AnalysisError(f"{what} by this rule ({failure.describe()}), so there is no region to find"
                            + _other_rules(results))  # fmt: skip
    rare = min(int(y.sum()), int((~y).sum()))
    if rare < max(10, RARE * len(y)):
        what = "fail" if y.sum() == rare else "do not fail"
        raise AnalysisError(f"only {rare} of {len(y)} runs {what} by this rule ({failure.describe()}): too few to "
                            f"find where they lie{_other_rules(results)}")  # fmt: skip
    prim, cart_module = _ema()
    with _quiet():
        algorithm = prim.Prim(x, y.astype(int), peel_alpha=peel_alpha, paste_alpha=peel_alpha, mass_min=mass_min)
        found = algorithm.find_box()
    trajectory = found.peeling_trajectory
    dropped: list[dict[str, Any]] = []
    peeled = len(trajectory)
    if box is not None:
        if not 0 <= box < len(trajectory):
            raise AnalysisError(f"--box {box}: the peeling trajectory has boxes 0 to {len(trajectory) - 1}")
        chosen = box
    else:
        with _quiet():
            found, chosen, dropped = _significant_box(found, min_coverage, alpha)
    found.select(chosen)
    trajectory = found.peeling_trajectory.copy()
    table = _box_table(found, chosen, x)
    leaves = _cart(cart_module, x, y, mass_min)
    trajectory = trajectory[["id", "coverage", "density", "mass", "res_dim", "n", "k"]].astype(
        {"id": int, "res_dim": int, "n": int, "k": int})  # fmt: skip
    trajectory["chosen"] = trajectory["id"] == chosen
    trajectory["step"] = np.where(trajectory["id"] < peeled, "peel", "drop")  # drop: a restriction dropped
    settings = {"min_coverage": min_coverage, "alpha": alpha, "peel_alpha": peel_alpha, "mass_min": mass_min,
                "box": box, "cart_depth": CART_DEPTH}  # fmt: skip
    return Discovery(failure, len(y), int(y.sum()), left_out, trajectory.reset_index(drop=True), chosen, table,
                     leaves, dropped, settings)  # fmt: skip


def _other_rules(results: SweepResults) -> str:
    """'; share of runs each emerging cluster misses: bio 28 %, ...' to help choose a rule."""
    rates = []
    for c in EMERGING:
        if f"hit_{c}" in results.runs:
            hit = results.runs.loc[results.runs["status"] == "ok", f"hit_{c}"].dropna().astype(bool)
            if len(hit):
                rates.append(f"{c} {labels.share(1 - hit.mean())}")
    return f"; share of runs each emerging cluster misses its target (--fails CLUSTER): {', '.join(rates)}" \
        if rates else ""


def candidate_boxes(trajectory: pd.DataFrame, min_coverage: float) -> list[int]:
    """Ids of the trajectory's boxes covering at least ``min_coverage`` of the failures, densest first
    (fewest restrictions, then most coverage, on ties); the whole-space box if none does."""
    t = trajectory.reset_index(drop=True)
    candidates = t[t["coverage"] >= min_coverage - 1e-12]
    if candidates.empty:
        candidates = t.iloc[:1]
    order = candidates.assign(neg_density=-candidates["density"].round(12), neg_cov=-candidates["coverage"])
    order = order.sort_values(["neg_density", "res_dim", "neg_cov"], kind="stable")
    return [int(i) for i in order["id"]]


def _significant_box(found: Any, min_coverage: float, alpha: float, tries: int = 12) -> tuple[Any, int, list]:
    """The densest box, among the peeling trajectory's boxes covering at least ``min_coverage`` with their
    insignificant restrictions dropped, that still covers ``min_coverage`` (if none does, the densest).

    Each of the ``tries`` densest candidates is tried on a copy of PRIM's box (dropping a restriction adds
    a box to the trajectory); the copy holding the best result is returned, with its chosen id.
    """
    import copy

    results = []
    for i in candidate_boxes(found.peeling_trajectory, min_coverage)[:tries]:
        box = copy.deepcopy(found)
        box.select(i)
        chosen, dropped = _drop_insignificant(box, i, alpha)
        row = box.peeling_trajectory.iloc[chosen]
        results.append((bool(row["coverage"] >= min_coverage - 1e-12), float(row["density"]), -int(row["res_dim"]),
                        float(row["coverage"]), -i, box, chosen, dropped))  # fmt: skip
    best = max(results, key=lambda r: r[:5])
    return best[5], best[6], best[7]


def _drop_insignificant(found: Any, chosen: int, alpha: float) -> tuple[int, list[dict[str, Any]]]:
    dropped = []
    while True:
        qp = _quasi_p(found.p_values[chosen])
        restricted = {k: v for k, v in qp.items() if np.isfinite(v)}
        worst = max(restricted, key=restricted.get, default=None)
        if worst is None or restricted[worst] <= alpha or len(restricted) == 1:
            return chosen, dropped
        found.drop_restriction(worst, chosen)
        dropped.append({"parameter": worst, "quasi_p": float(restricted[worst])})
        chosen = len(found.peeling_trajectory) - 1


def _quasi_p(p_values: dict[str, list[float]]) -> dict[str, float]:
    """One quasi-p-value per restricted dimension: the larger of its restricted sides (-1 = side not restricted)."""
    out = {}
    for key, sides in p_values.items():
        valid = [float(v) for v in sides if v is not None and v >= 0]
        out[key] = max(valid) if valid else float("nan")
    return out


def _box_table(found: Any, chosen: int, x: pd.DataFrame) -> pd.DataFrame:
    lims, init = found.box_lims[chosen], found.box_lims[0]
    qps = found.p_values[chosen]
    rows = []
    for key in x.columns:
        low, high = float(lims.loc[0, key]), float(lims.loc[1, key])
        lo0, hi0 = float(init.loc[0, key]), float(init.loc[1, key])
        sides = qps.get(key, [-1, -1])
        rows.append({
            "parameter": key, "label_en": labels.name(key, "en"), "label_zh": labels.name(key, "zh"),
            "unit_en": labels.unit_text(key, "en"), "unit_zh": labels.unit_text(key, "zh"),
            "low": low, "high": high, "range_low": lo0, "range_high": hi0,
            "restricted_low": low > lo0, "restricted_high": high < hi0,
            "qp_low": float(sides[0]) if sides[0] is not None and sides[0] >= 0 else np.nan,
            "qp_high": float(sides[1]) if sides[1] is not None and sides[1] >= 0 else np.nan,
        })  # fmt: skip
    table = pd.DataFrame(rows)
    table["quasi_p"] = table[["qp_low", "qp_high"]].max(axis=1)
    restricted = table["restricted_low"] | table["restricted_high"]
    # restricted dimensions first, most significant first
    table = table.assign(_r=~restricted, _q=table["quasi_p"].fillna(2.0))
    return table.sort_values(["_r", "_q"], kind="stable").drop(columns=["_r", "_q"]).reset_index(drop=True)


def _cart(cart_module: Any, x: pd.DataFrame, y: np.ndarray, mass_min: float) -> pd.DataFrame:
    """CART's leaves, densest first: coverage, density, mass and the limits that define each."""
    from sklearn import tree

    model = cart_module.CART(x, y.astype(int), mass_min=mass_min)
    model.clf = tree.DecisionTreeClassifier(min_samples_leaf=max(1, int(mass_min * len(y))), max_depth=CART_DEPTH,
                                            random_state=0)  # fmt: skip
    model.clf.fit(x.to_numpy(dtype=float), y.astype(int))  # numeric columns: CART's features are x's columns
    rows = []
    start = pd.DataFrame({k: [x[k].min(), x[k].max()] for k in x.columns})
    for i, (lims, stats) in enumerate(zip(model.boxes, model.stats)):
        limits = {}
        for key in x.columns:
            low, high = float(lims.loc[0, key]), float(lims.loc[1, key])
            if low > start.loc[0, key] or high < start.loc[1, key]:
                limits[key] = [low if low > start.loc[0, key] else None, high if high < start.loc[1, key] else None]
        rows.append({"leaf": i, "coverage": float(stats["coverage"]), "density": float(stats["density"]),
                     "mass": float(stats["mass"]), "res_dim": len(limits), "limits": limits})  # fmt: skip
    table = pd.DataFrame(rows, columns=["leaf", "coverage", "density", "mass", "res_dim", "limits"])
    table = table.sort_values(["density", "coverage"], ascending=False, kind="stable").reset_index(drop=True)
    table["conditions_en"] = [conditions_text(_box_rows(t), "en") for t in table["limits"]]
    table["conditions_zh"] = [conditions_text(_box_rows(t), "zh") for t in table["limits"]]
    return table


def _box_rows(limits: dict[str, list[float | None]]) -> pd.DataFrame:
    rows = []
    for key, (low, high) in limits.items():
        rows.append({"parameter": key, "low": low, "high": high, "restricted_low": low is not None,
                     "restricted_high": high is not None})  # fmt: skip
    return pd.DataFrame(rows, columns=["parameter", "low", "high", "restricted_low", "restricted_high"])


# --- words ------------------------------------------------------------------------------------


def conditions_text(rows: pd.DataFrame, lang: str = "en") -> str:
    """"biomedicine demand growth is below 6.2 % a year and ..." for the restricted rows of a box."""
    parts = []
    for _, r in rows.iterrows():
        key, name = r["parameter"], labels.name(r["parameter"], lang)
        low = labels.key_value(key, float(r["low"]), lang) if r["restricted_low"] else None
        high = labels.key_value(key, float(r["high"]), lang) if r["restricted_high"] else None
        if lang == "zh":
            parts.append(f"{name}介于 {low} 与 {high} 之间" if low and high else
                         f"{name}低于 {high}" if high else f"{name}高于 {low}")  # fmt: skip
        else:
            parts.append(f"{name} is between {low} and {high}" if low and high else
                         f"{name} is below {high}" if high else f"{name} is above {low}")  # fmt: skip
    if not parts:
        return ""
    if lang == "zh":
        return "、".join(parts[:-1]) + ("且" if len(parts) > 1 else "") + parts[-1]
    return ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]


def box_sentence(failure: Failure, restricted: pd.DataFrame, stats: dict[str, float], base_rate: float,
                 lang: str = "en", short: bool = False) -> str:  # fmt: skip
    """The finding in words: "Biomedicine misses 10 % a year in 84 % of futures where ..."; ``short``
    (a chart's title) leaves out the base rate and the coverage, which the chart shows."""
    conditions = conditions_text(restricted, lang)
    density, coverage = stats["density"], stats["coverage"]
    if lang == "zh":
        where = f"在{conditions}的未来情景中，" if conditions else "在全部未来情景中，"
        if short:
            return f"{where}{failure.describe('zh')}的占比为 {labels.share(density, 'zh')}"
        return (f"{where}{failure.describe('zh')}的占比为 {labels.share(density, 'zh')}（全部未来情景中为 "
                f"{labels.share(base_rate, 'zh')}；这些情景包含全部失败情景的 {labels.share(coverage, 'zh')}）。")
    where = f"where {conditions}" if conditions else "overall"
    if short:
        return f"{failure.describe('en')} in {labels.share(density, 'en')} of futures {where}"
    return (f"{failure.describe('en')} in {labels.share(density, 'en')} of futures {where} (against "
            f"{labels.share(base_rate, 'en')} of all futures; these futures hold {labels.share(coverage, 'en')} of the "
            "failures).")


# --- files ------------------------------------------------------------------------------------


def write(discovery: Discovery, folder: str | Path, provenance: dict[str, Any] | None = None) -> list[Path]:
    """trajectory.csv, box.csv, cart.csv and findings.json in ``folder`` (what the charts read)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    opts = {"index": False, "lineterminator": "\n", "float_format": "%.6g"}
    discovery.trajectory.to_csv(folder / "trajectory.csv", **opts)
    discovery.box.to_csv(folder / "box.csv", **opts)
    cart = discovery.cart.assign(limits=[json.dumps(v) for v in discovery.cart["limits"]])
    cart.to_csv(folder / "cart.csv", **opts)
    f = discovery.failure
    data = {
        "failure": {"kind": f.kind, "column": f.column, "cluster": f.cluster, "threshold": f.threshold,
                    "target": f.target, "en": f.describe("en"), "zh": f.describe("zh")},
        "futures": discovery.futures, "failures": discovery.failures, "left_out": discovery.left_out,
        "base_rate": discovery.base_rate, "chosen": discovery.chosen, "box": discovery.stats,
        "restricted": [r for r in discovery.restricted()["parameter"]],
        "dropped": discovery.dropped,
        "sentence": {"en": discovery.sentence("en"), "zh": discovery.sentence("zh")},
        "headline": {"en": discovery.sentence("en", short=True), "zh": discovery.sentence("zh", short=True)},
        "cart_sentence": {"en": discovery.cart_sentence("en"), "zh": discovery.cart_sentence("zh")},
        "settings": discovery.settings,
        "sweep": provenance or {},
    }  # fmt: skip
    (folder / "findings.json").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return [folder / name for name in FILES]


def sweep_provenance(results: SweepResults) -> dict[str, Any]:
    """Name, base scenario, seed, runs and date of a sweep, for the charts' subtitles and source lines."""
    m = results.manifest
    date = str(m.get("ended") or m.get("started") or "")[:10]
    return {"name": m.get("name"), "folder": results.folder.name, "root_seed": m.get("root_seed"),
            "scenario": (m.get("scenario") or {}).get("name"),
            "runs": int(m.get("runs", len(results.runs))), "points": results.n_points,
            "replicates": m.get("replicates"), "date": date}  # fmt: skip


# --- EMA Workbench ----------------------------------------------------------------------------


def _ema() -> tuple[Any, Any]:
    try:
        with _quiet():
            from ema_workbench.analysis import cart, prim
    except ImportError:
        raise AnalysisError("scenario discovery needs EMA Workbench: pip install ema-workbench") from None
    return prim, cart


class _quiet:
    """EMA Workbench logs and warns as it peels; the command says what matters itself."""

    def __enter__(self) -> None:
        self._warnings = warnings.catch_warnings()
        self._warnings.__enter__()
        warnings.simplefilter("ignore")
        self._level = logging.root.manager.disable
        logging.disable(logging.INFO)

    def __exit__(self, *exc: Any) -> None:
        logging.disable(self._level)
        self._warnings.__exit__(*exc)
