"""Fan chart: each emerging cluster's revenue 2020-2025 with the target path.

Per year, across replicates (annual above-scale revenue, the ``revenue`` cluster metric of the
tidy data): the median (line), the 25th-75th percentiles (50 % band) and the 5th-95th
percentiles (90 % band). The dashed line is the target path: the median 2020 revenue growing
at ``targets.emerging_cagr`` (10 %) a year. Because 2020 revenue is itself uncertain (drawn per
replicate), a replicate meets the target when it grows 10 % a year from *its own* start, which
the title's P (from summary.json) counts; the dashed path is its median-start reference.

The title's words follow :mod:`simulation.reporting.wording` (the verdict its interval
supports); the subtitle states the interval and what kind it is. One single-column chart per
emerging cluster (``fan_<cluster>``) and one double-column panel of all five (``fan_emerging``).
The revenue axis of each cluster is fixed across scenarios (:mod:`.scales`). Artists carry gids
``median``, ``target``, ``band50`` and ``band90`` (tests read them).
"""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import StrMethodFormatter

from simulation.datapack import EMERGING
from simulation.reporting import labels, wording
from simulation.reporting.charts import Chart, Inputs, NotApplicable
from simulation.reporting.charts.layout import end_labels, finish, new_figure, scenario_tag, source_line
from simulation.reporting.charts.style import KIND_COLOURS, TARGET_COLOUR, sizes, tr
from simulation.reporting.results_folder import ResultsFolder

PERCENTILES = (5.0, 25.0, 50.0, 75.0, 95.0)


def fan_data(results: ResultsFolder) -> tuple[np.ndarray, dict[str, np.ndarray], float]:
    """Years, {cluster: (5 percentiles, year) array} and the target CAGR in % a year."""
    revenue, units, years = results.series("cluster", "revenue")
    target = 10.0
    if results.has_summary:
        target = float(results.summary_data["targets"]["emerging_cagr"])
    end_year = results.summary_data.get("end_year") if results.has_summary else None
    keep = years <= end_year if end_year else np.ones(len(years), bool)
    out = {}
    for c in EMERGING:
        if c in units:
            out[c] = np.nanpercentile(revenue[:, units.index(c), :][:, keep], PERCENTILES, axis=0)
    return years[keep], out, target


def chance(results: ResultsFolder, cluster: str) -> wording.Chance | None:
    """The cluster's P(hit) block of summary.json as a Chance (None without a summary)."""
    if not results.has_summary:
        return None
    for row in results.summary_data["clusters"]:
        if row["cluster"] == cluster:
            return wording.Chance.from_block(row.get("hit"))
    return None


def goal(target: float, lang: str) -> str:
    return tr(lang, f"grow {wording.pct(target, 'en', 0)} a year", f"实现年均增长{wording.pct(target, 'zh', 0)}")


def _draw(ax, years: np.ndarray, q: np.ndarray, target: float, lang: str, scale: float, top: float,
          compact: bool = False) -> None:
    colour = KIND_COLOURS["emerging"]
    ax.fill_between(years, q[0] * scale, q[4] * scale, color=colour, alpha=0.16, linewidth=0, gid="band90",
                    label=tr(lang, "90 % of model runs", "90% 的模拟结果"))
    ax.fill_between(years, q[1] * scale, q[3] * scale, color=colour, alpha=0.34, linewidth=0, gid="band50",
                    label=tr(lang, "50 % of model runs", "50% 的模拟结果"))
    ax.plot(years, q[2] * scale, color=colour, lw=1.5, gid="median", label=tr(lang, "Median", "中位数"))
    path = q[2][0] * (1 + target / 100.0) ** (years - years[0])
    ax.plot(years, path * scale, color=TARGET_COLOUR, lw=0.9, ls=(0, (4, 2)), gid="target",
            label=tr(lang, f"Target path: {wording.pct(target, 'en', 0)} a year",
                     f"目标路径：年均增长{wording.pct(target, 'zh', 0)}"))
    ax.set_xlim(years[0], years[-1] + (0.24 if compact else 0.18) * (years[-1] - years[0]))
    ax.set_xticks(years)
    shown = {years[0], years[-1], *[y for y in years if (y - years[0]) % 2 == 0 and years[-1] - y >= 2]}
    ax.set_xticklabels([str(y) if y in shown else "" for y in years])
    ax.spines["bottom"].set_bounds(years[0], years[-1])
    ax.set_ylim(0, top * scale)
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}" if top * scale >= 20 else "{x:,.1f}"))
    ax.yaxis.grid(True)


def _labels(ax, years: np.ndarray, q: np.ndarray, target: float, scale: float, lang: str) -> None:
    path_end = q[2][0] * (1 + target / 100.0) ** (years[-1] - years[0])
    colour = KIND_COLOURS["emerging"]
    fmt = (lambda v: f"{v:,.0f}") if lang == "zh" else (lambda v: f"{v:,.1f}" if v < 100 else f"{v:,.0f}")
    end_labels(ax, years[-1], [(q[2][-1] * scale, fmt(q[2][-1] * scale), colour, True),
                               (path_end * scale, fmt(path_end * scale), TARGET_COLOUR, False)], sizes(lang).small)


def make(inputs: Inputs, lang: str) -> list[Chart]:
    results = inputs.focus
    if results is None:
        raise NotApplicable("fan charts are made for one run's results folder")
    if not results.has_data:
        raise NotApplicable(f"{results.path} has no data.parquet nor data.csv")
    years, quantiles, target = fan_data(results)
    if not quantiles:
        raise NotApplicable("the data hold no emerging cluster's revenue")
    revenue = labels.outcome("revenue", lang)
    scale = revenue.unit.scale  # billion CNY in English, 亿元 in Chinese
    ylabel = revenue.with_unit(lang)
    tag = scenario_tag([results.scenario_name], lang)
    what = tr(lang, f"Above-scale revenue {years[0]}–{years[-1]}: median and the middle 50 % and 90 % of model runs; "
                    f"dashed: {wording.pct(target, 'en', 0)} a year from the median {years[0]} revenue",
              f"{years[0]}–{years[-1]} 年规模以上营业收入：中位数及居中 50%、90% 的模拟结果；"
              f"虚线：自 {years[0]} 年中位数起年均增长{wording.pct(target, 'zh', 0)}")
    source = source_line(results, lang)
    s = sizes(lang)
    charts = []
    for c, q in quantiles.items() if inputs.fan_singles else ():
        name = labels.cluster(c, lang)
        p = chance(results, c)
        fig, ax = new_figure("single", 5.4)
        _draw(ax, years, q, target, lang, scale, inputs.scales.fan_top(c))
        ax.set_ylabel(ylabel)
        ax.legend(loc="upper left", fontsize=s.small)
        if p is not None:
            title = wording.claim(p, name, goal(target, lang), lang, title=True)
            subtitle = tr(lang, f"{tag}. Share of model runs meeting the target: {wording.chance_text(p, 'en')}. ",
                          f"{tag}。达标模拟所占比例：{wording.chance_text(p, 'zh')}。") + what
        else:
            growth = ((q[2][-1] / q[2][0]) ** (1 / (years[-1] - years[0])) - 1) * 100
            title = tr(lang, f"{name}: median growth {wording.pct(growth)} a year",
                       f"{name}：年均增长中位数{wording.pct(growth, 'zh')}")
            subtitle = tr(lang, f"{tag}. ", f"{tag}。") + what
        finish(fig, title, subtitle, source, lang)
        _labels(ax, years, q, target, scale, lang)
        caption = tr(lang, f"Revenue of {name}, {years[0]}–{years[-1]}.", f"{name}营业收入，{years[0]}–{years[-1]} 年。")
        charts.append(Chart(f"fan_{c}", fig, title, caption))

    # all five in one double-column figure, in the house order
    fig, axes = new_figure("double", 8.6, nrows=2, ncols=3)
    flat = axes.ravel()
    chances = {c: chance(results, c) for c in quantiles}
    for ax, (c, q) in zip(flat, quantiles.items()):
        _draw(ax, years, q, target, lang, scale, inputs.scales.fan_top(c), compact=True)
        p = chances[c]
        ax.set_title(labels.cluster(c, lang) + (f"   P = {wording.prob(p.p)}" if p is not None else ""),
                     loc="left", fontsize=s.base)
    for ax in flat[: len(quantiles)][::3]:
        ax.set_ylabel(ylabel)
    legend_ax = flat[-1]
    legend_ax.axis("off")
    handles, names = flat[0].get_legend_handles_labels()
    legend_ax.legend(handles, names, loc="center left", fontsize=s.base)
    for ax in flat[len(quantiles) : -1]:
        ax.axis("off")
    known = [(labels.cluster(c, lang), p) for c, p in chances.items() if p is not None]
    if known:
        title = group_title(known, target, lang)
        any_parameter = any(p.has_parameter_interval for _, p in known)
        subtitle = tr(
            lang,
            f"{tag}. P: share of model runs meeting the target; the words follow its "
            f"{wording.interval_name('en', any_parameter)}. ",
            f"{tag}。P 为达标模拟所占比例，文字判断依据其{wording.interval_name('zh', any_parameter)}。",
        ) + what
    else:
        title = tr(lang, "Emerging clusters' revenue against the target path", "战略性新兴产业营业收入与目标路径")
        subtitle = tr(lang, f"{tag}. ", f"{tag}。") + what
    finish(fig, title, subtitle, source, lang)
    for ax, (c, q) in zip(flat, quantiles.items()):
        _labels(ax, years, q, target, scale, lang)
    charts.append(Chart("fan_emerging", fig, title, tr(lang, "Revenue of the five emerging clusters against the "
                                                             "target path.", "五大战略性新兴产业营业收入与目标路径。")))
    return charts


def group_title(known: list[tuple[str, wording.Chance]], target: float, lang: str) -> str:
    """'Will the five emerging clusters grow 10 % a year? A very likely; B and C likely; ...' (and in Chinese)."""
    question = tr(lang, f"Will the {wording.count(len(known), 'en')} emerging clusters grow {wording.pct(target, 'en', 0)} "
                        "a year?",
                  f"{wording.count(len(known), 'zh')}个新兴产业能否年均增长{wording.pct(target, 'zh', 0)}")
    return wording.group_headline(known, question, lang)
