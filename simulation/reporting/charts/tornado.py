"""Tornado chart of sensitivity indices (from ``simulate analyze``).

Input: ``sensitivity.csv`` in a results folder (or ``simulate chart --sensitivity FILE``), a
long table with the columns

============ ========================================================================
parameter    the varied parameter, a dotted scenario key (``levers.land.floor_multiplier``)
index        ``S1`` / ``ST`` (Sobol first-order / total) or ``mu_star`` / ``sigma`` (Morris)
value        the index
ci_low       lower end of its 95 % confidence interval (may be empty)
ci_high      upper end (may be empty)
outcome      optional: the outcome the indices are about (``p_hit_ene``, ``city_cagr``, ...);
             one chart per outcome (``tornado_<outcome>``), else one chart (``tornado``)
============ ========================================================================

Parameters are ranked by ST (Sobol) or mu_star (Morris), the largest at the top; at most
``TOP`` are shown, named from the label table (:mod:`simulation.reporting.labels`). Bars (gid
``primary``) show ST or mu_star with CI whiskers; Sobol's S1 is drawn as a narrower dark bar
inside (gid ``secondary``), Morris's sigma as a hollow diamond just under its bar (gid
``secondary``). Policy levers are dark bars, uncertain parameters light ones. The title says
one parameter "matters most" only when its interval lies above every other's; otherwise it
names the parameters tied with it (:func:`simulation.reporting.wording.leaders`).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from simulation.reporting import labels, wording
from simulation.reporting.charts import Chart, Inputs, NotApplicable
from simulation.reporting.charts.layout import finish, new_figure, source_line
from simulation.reporting.charts.style import LEVER_COLOUR, UNCERTAINTY_COLOUR, tr
from simulation.reporting.results_folder import ResultsError

REQUIRED = ("parameter", "index", "value", "ci_low", "ci_high")
INDICES = ("S1", "ST", "mu_star", "sigma")
TOP = 12


def check_table(table: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in REQUIRED if c not in table.columns]
    if missing:
        raise ResultsError(f"sensitivity table lacks the column(s) {', '.join(missing)} "
                           f"(needs {', '.join(REQUIRED)}; optional: outcome)")
    bad = sorted(set(table["index"].astype(str)) - set(INDICES))
    if bad:
        raise ResultsError(f"sensitivity table has unknown index value(s) {', '.join(bad)}; allowed: {', '.join(INDICES)}")
    table = table.copy()
    for col in ("value", "ci_low", "ci_high"):
        table[col] = pd.to_numeric(table[col], errors="coerce")
    return table


def ranking(table: pd.DataFrame) -> tuple[str, str | None, pd.DataFrame]:
    """Primary index, secondary index and a wide table (parameter rows) sorted by the primary."""
    present = set(table["index"])
    primary = "ST" if "ST" in present else "mu_star" if "mu_star" in present else "S1" if "S1" in present else "sigma"
    secondary = {"ST": "S1", "mu_star": "sigma"}.get(primary)
    secondary = secondary if secondary in present else None
    wide = table.pivot_table(index="parameter", columns="index", values=["value", "ci_low", "ci_high"], aggfunc="first",
                             dropna=False)
    wide = wide.sort_values(("value", primary), ascending=False, kind="stable")
    return primary, secondary, wide


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(text)).strip("_") or "outcome"


def _tag(provenance, lang: str) -> str:
    """'Baseline scenario. ' from the folder the table came from (a sweep names its base scenario)."""
    from simulation.reporting.charts.layout import scenario_tag

    if provenance is None:
        return ""
    runs = provenance if isinstance(provenance, list) else [provenance]
    try:
        names = list(dict.fromkeys(r.scenario_name for r in runs))
    except ResultsError:
        return ""
    return scenario_tag(names, lang) + tr(lang, ". ", "。")


def make(inputs: Inputs, lang: str) -> list[Chart]:
    if inputs.sensitivity is None:
        raise NotApplicable("no sensitivity results (sensitivity.csv from `simulate analyze`)")
    table = check_table(inputs.sensitivity)
    groups = list(table.groupby("outcome", sort=False)) if "outcome" in table.columns else [(None, table)]
    provenance = inputs.provenance
    charts = []
    for outcome, group in groups:
        primary, secondary, wide = ranking(group)
        wide = wide.head(TOP)
        n = len(wide)
        y = np.arange(n)[::-1].astype(float)
        # Morris indices are in the outcome's unit: shown as the label table shows it (billion CNY for 亿元)
        scale = labels.outcome(outcome, lang).unit.scale if primary in ("mu_star", "sigma") and outcome else 1.0
        values = wide[("value", primary)].to_numpy(float) * scale
        lo = wide[("ci_low", primary)].to_numpy(float) * scale if ("ci_low", primary) in wide else np.full(n, np.nan)
        hi = wide[("ci_high", primary)].to_numpy(float) * scale if ("ci_high", primary) in wide else np.full(n, np.nan)
        colours = [LEVER_COLOUR if labels.is_lever(p) else UNCERTAINTY_COLOUR for p in wide.index]
        names = {i: labels.index(i, lang, short=True) for i in INDICES}
        unit = labels.index_unit(primary, outcome, lang)
        fig, ax = new_figure("single", 1.4 + 0.6 * n)
        ax.barh(y, values, height=0.6, color=colours, alpha=0.55 if secondary == "S1" else 1.0, gid="primary")
        err = np.vstack([np.where(np.isfinite(lo), values - lo, 0), np.where(np.isfinite(hi), hi - values, 0)])
        ax.errorbar(values, y, xerr=np.clip(err, 0, None), fmt="none", ecolor="#111111", elinewidth=0.7, capsize=1.5,
                    gid="primary_ci")
        if secondary == "S1":
            s1 = wide[("value", "S1")].to_numpy(float)
            ax.barh(y, s1, height=0.28, color=colours, gid="secondary")
        elif secondary == "sigma":
            sigma = wide[("value", "sigma")].to_numpy(float) * scale
            (sigma_marks,) = ax.plot(sigma, y - 0.45, "D", color="#111111", markerfacecolor="white", markersize=3,
                                     markeredgewidth=0.7, gid="secondary", ls="none")
        ax.set_yticks(y, [labels.parameter(p, lang).text for p in wide.index])
        ax.axvline(0, color="#444444", lw=0.6)
        ax.set_ylim(-0.8, n - 0.4)
        ax.spines["left"].set_visible(False)
        ax.tick_params(axis="y", length=0)
        ax.xaxis.grid(True)
        ax.set_xlabel(tr(lang, f"{names[primary]} ({unit})", f"{names[primary]}（{unit}）"))
        from matplotlib.patches import Patch

        handles, legend_names = [Patch(color=LEVER_COLOUR), Patch(color=UNCERTAINTY_COLOUR)], [
            tr(lang, "policy lever", "政策工具"), tr(lang, "uncertain parameter", "不确定参数")]
        if secondary == "sigma":
            handles.append(sigma_marks)
            legend_names.append(names["sigma"])
        elif secondary == "S1":
            handles.append(Patch(color=UNCERTAINTY_COLOUR))
            legend_names.append(tr(lang, "S1 (inner bar)", "一阶指数 S1（内条）"))
        top = wording.leaders({p: (v, l, h) for p, v, l, h in zip(wide.index, values, lo, hi)})
        what = labels.outcome(outcome, lang).text if outcome is not None else tr(lang, "the outcome", "结果")
        what_mid = wording.lower_first(what) if lang == "en" else what
        shown = [labels.parameter(p, lang).text for p in top]
        if len(top) == 1:
            ci = (tr(lang, f" (95 % CI {lo[0]:.2f}–{hi[0]:.2f})", f"（95% 置信区间 {lo[0]:.2f}–{hi[0]:.2f}）")
                  if np.isfinite(lo[0]) and np.isfinite(hi[0]) else "")
            amount = f"{values[0]:.2f}" + (f" {unit}" if primary in ("mu_star", "sigma") else "")
            title = tr(lang, f"{wording.capital(shown[0])} matters most for {what_mid}: {names[primary]} = {amount}{ci}",
                       f"{shown[0]}对{what}影响最大：{names[primary]} = {amount}{ci}")
        else:
            listed = wording.join(shown[:2] + [tr(lang, f"{wording.count(len(shown) - 2, 'en')} more",
                                                  f"另外{wording.count(len(shown) - 2, 'zh')}个")], lang) \
                if len(shown) > 3 else wording.join(shown, lang)
            title = tr(lang, f"No single parameter matters most for {what_mid}: {listed} are too close to rank",
                       f"没有单一参数对{what}影响最大：{listed}彼此难分先后")
        tag = _tag(provenance, lang)
        legend_terms = tr(lang, "; ", "；").join(labels.index(i, lang) for i in (primary, secondary) if i)
        subtitle = tag + tr(lang, f"Sensitivity of {what_mid}: the top {n} parameters by {names[primary]}; whiskers: "
                                  f"95 % confidence intervals (bootstrap). {legend_terms}",
                            f"{what}的敏感性：按{names[primary]}排序的前 {n} 个参数；须线：95% 置信区间（自助法）。"
                            f"{legend_terms}")
        source = source_line(provenance, lang)
        finish(fig, title, subtitle, source, lang, legend=(handles, legend_names, 2))
        name = "tornado" if outcome is None else f"tornado_{_slug(outcome)}"
        charts.append(Chart(name, fig, title, tr(lang, "Which parameters drive the outcome.", "影响结果的主要参数。")))
    return charts
