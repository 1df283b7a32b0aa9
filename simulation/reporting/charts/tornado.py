"""Tornado chart of sensitivity indices (from ``simulate analyze``).

Input: ``sensitivity.csv`` in a results folder (or ``simulate chart --sensitivity FILE``), a
long table with the columns

============ ========================================================================
parameter    the varied parameter, a dotted scenario key (``levers.land.floor_multiplier``)
index        ``S1`` / ``ST`` (Sobol first-order / total) or ``mu_star`` / ``sigma`` (Morris)
value        the index
ci_low       lower end of its 95 % confidence interval (may be empty)
ci_high      upper end (may be empty)
outcome      optional: the outcome the indices are about (``p_hit.ene``, ``cagr.city``, ...);
             one chart per outcome (``tornado_<outcome>``), else one chart (``tornado``)
============ ========================================================================

Parameters are ranked by ST (Sobol) or mu_star (Morris), the largest at the top; at most
``TOP`` are shown. Bars (gid ``primary``) show ST or mu_star with CI whiskers; Sobol's S1 is
drawn as a narrower dark bar inside (gid ``secondary``), Morris's sigma as a diamond (gid
``secondary``).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from simulation.reporting.charts import Chart, Inputs, NotApplicable
from simulation.reporting.charts.style import finish, new_figure, source_line, tr
from simulation.reporting.results_folder import ResultsError

REQUIRED = ("parameter", "index", "value", "ci_low", "ci_high")
INDICES = ("S1", "ST", "mu_star", "sigma")
TOP = 12
LEVER_COLOUR = "#009E73"  # bluish green: a policy lever
UNCERTAINTY_COLOUR = "#7F7F7F"


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


def label(parameter: str) -> str:
    """A readable parameter name: the last two parts of the dotted key."""
    parts = str(parameter).split(".")
    tail = parts[-2:] if len(parts) > 2 else parts[-1:]
    return " ".join(p.replace("_", " ") for p in tail)


def ranking(table: pd.DataFrame) -> tuple[str, str | None, pd.DataFrame]:
    """Primary index, secondary index and a wide table (parameter rows) sorted by the primary."""
    present = set(table["index"])
    primary = "ST" if "ST" in present else "mu_star" if "mu_star" in present else "S1" if "S1" in present else "sigma"
    secondary = {"ST": "S1", "mu_star": "sigma"}.get(primary)
    secondary = secondary if secondary in present else None
    wide = table.pivot_table(index="parameter", columns="index", values=["value", "ci_low", "ci_high"], aggfunc="first")
    wide = wide.sort_values(("value", primary), ascending=False, kind="stable")
    return primary, secondary, wide


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(text)).strip("_") or "outcome"


def make(inputs: Inputs, lang: str) -> list[Chart]:
    if inputs.sensitivity is None:
        raise NotApplicable("no sensitivity results (sensitivity.csv from `simulate analyze`)")
    table = check_table(inputs.sensitivity)
    groups = list(table.groupby("outcome", sort=False)) if "outcome" in table.columns else [(None, table)]
    provenance = inputs.provenance
    charts = []
    names = {"S1": tr(lang, "first-order (S1)", "一阶指数 S1"), "ST": tr(lang, "total (ST)", "总效应指数 ST"),
             "mu_star": "μ*", "sigma": "σ"}
    for outcome, group in groups:
        primary, secondary, wide = ranking(group)
        wide = wide.head(TOP)
        n = len(wide)
        y = np.arange(n)[::-1].astype(float)
        values = wide[("value", primary)].to_numpy(float)
        lo = wide[("ci_low", primary)].to_numpy(float) if ("ci_low", primary) in wide else np.full(n, np.nan)
        hi = wide[("ci_high", primary)].to_numpy(float) if ("ci_high", primary) in wide else np.full(n, np.nan)
        is_lever = [str(p).startswith("levers.") for p in wide.index]
        colours = [LEVER_COLOUR if lever else UNCERTAINTY_COLOUR for lever in is_lever]
        fig, ax = new_figure("single", 3.2 + 0.55 * n)
        ax.barh(y, values, height=0.62, color=colours, alpha=0.45 if secondary == "S1" else 0.9, gid="primary",
                label=names[primary])
        err = np.vstack([np.where(np.isfinite(lo), values - lo, 0), np.where(np.isfinite(hi), hi - values, 0)])
        ax.errorbar(values, y, xerr=np.clip(err, 0, None), fmt="none", ecolor="#333333", elinewidth=0.7, capsize=1.5,
                    gid="primary_ci")
        if secondary == "S1":
            s1 = wide[("value", "S1")].to_numpy(float)
            ax.barh(y, s1, height=0.3, color=colours, gid="secondary", label=names["S1"])
        elif secondary == "sigma":
            sigma = wide[("value", "sigma")].to_numpy(float)
            ax.plot(sigma, y, "D", color="#333333", markersize=3, gid="secondary", label=names["sigma"], ls="none")
        ax.set_yticks(y, [label(p) for p in wide.index])
        ax.axvline(0, color="#444444", lw=0.6)
        ax.spines["left"].set_visible(False)
        ax.tick_params(axis="y", length=0)
        ax.xaxis.grid(True)
        ax.set_xlabel(tr(lang, f"Sensitivity index ({names[primary]})", f"敏感性指数（{names[primary]}）"))
        from matplotlib.patches import Patch

        handles, labels = ax.get_legend_handles_labels()
        handles += [Patch(color=LEVER_COLOUR, alpha=0.7), Patch(color=UNCERTAINTY_COLOUR, alpha=0.7)]
        labels += [tr(lang, "policy lever", "政策工具"), tr(lang, "uncertainty", "不确定参数")]
        top, top_value = label(wide.index[0]), values[0]
        ci = f" (95 % CI {lo[0]:.2f}–{hi[0]:.2f})" if np.isfinite(lo[0]) and np.isfinite(hi[0]) else ""
        what = f" for {outcome}" if outcome is not None else ""
        top = top[:1].upper() + top[1:]
        title = tr(lang, f"{top} matters most{what}: {primary} = {top_value:.2f}{ci}",
                   f"{top}影响最大{('（' + str(outcome) + '）') if outcome is not None else ''}：{primary} = {top_value:.2f}"
                   + (f"（95% 置信区间 {lo[0]:.2f}–{hi[0]:.2f}）" if ci else ""))
        subtitle = tr(lang, f"Parameters ranked by {names[primary]}, top {n}; whiskers: 95 % confidence intervals",
                      f"按{names[primary]}排序的前 {n} 个参数；须线：95% 置信区间")
        source = source_line(provenance, lang) if provenance is not None else ""
        finish(fig, title, subtitle, source, legend=(handles, labels, 2))
        name = "tornado" if outcome is None else f"tornado_{_slug(outcome)}"
        charts.append(Chart(name, fig, title, tr(lang, "Which parameters drive the outcome.", "影响结果的主要参数。")))
    return charts
