"""Fan chart: each emerging cluster's revenue 2020-2025 with the target path.

Per year, across replicates (annual above-scale revenue, the ``revenue`` cluster metric of the
tidy data): the median (line), the 25th-75th percentiles (50 % band) and the 5th-95th
percentiles (90 % band). The dashed line is the target path: the median 2020 revenue growing
at ``targets.emerging_cagr`` (10 %) a year. Because 2020 revenue is itself uncertain (drawn per
replicate), a replicate meets the target when it grows 10 % a year from *its own* start, which
the title's P (from summary.csv) counts; the dashed path is its median-start reference.

One single-column chart per emerging cluster (``fan_<cluster>``) and one double-column panel
of all five (``fan_emerging``). Artists carry gids ``median``, ``target``, ``band50`` and
``band90`` (tests read them).
"""

from __future__ import annotations

import numpy as np

from simulation.datapack import EMERGING, clusters
from simulation.reporting.charts import Chart, Inputs, NotApplicable
from simulation.reporting.charts.style import (
    KIND_COLOURS, TARGET_COLOUR, end_labels, finish, likelihood, new_figure, pct, short_name, source_line, tr,
)  # fmt: skip
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


def _names(results: ResultsFolder) -> dict[str, dict[str, str]]:
    if results.has_summary:
        table = results.summary
        return {c: {"name_en": table.loc[c, "name_en"], "name_zh": table.loc[c, "name_zh"]} for c in table.index}
    return {r.cluster_id: {"name_en": r.name_en, "name_zh": r.name_zh} for r in clusters()}


def _p_hit(results: ResultsFolder, cluster: str) -> float | None:
    if not results.has_summary:
        return None
    value = results.summary.loc[cluster, "p_hit"]
    return None if not np.isfinite(value) else float(value)


def _draw(ax, years: np.ndarray, q: np.ndarray, target: float, lang: str, labels: bool, compact: bool = False) -> None:
    colour = KIND_COLOURS["emerging"]
    ax.fill_between(years, q[0], q[4], color=colour, alpha=0.16, linewidth=0, gid="band90",
                    label=tr(lang, "90 % of replicates", "90% 重复区间"))
    ax.fill_between(years, q[1], q[3], color=colour, alpha=0.34, linewidth=0, gid="band50",
                    label=tr(lang, "50 % of replicates", "50% 重复区间"))
    ax.plot(years, q[2], color=colour, lw=1.5, gid="median", label=tr(lang, "Median", "中位数"))
    path = q[2][0] * (1 + target / 100.0) ** (years - years[0])
    ax.plot(years, path, color=TARGET_COLOUR, lw=0.9, ls=(0, (4, 2)), gid="target",
            label=tr(lang, f"Target path: {pct(target, 0)} a year", f"目标路径：年均增长{pct(target, 0, 'zh')}"))
    ax.set_xlim(years[0], years[-1] + (0.15 if compact else 0.1) * (years[-1] - years[0]))
    ax.set_xticks(years)
    if compact:
        ax.set_xticklabels([str(y) if i % 2 == 0 or y == years[-1] else "" for i, y in enumerate(years)])
    ax.set_ylim(0, max(np.nanmax(q[4]), np.nanmax(path)) * 1.08)
    ax.yaxis.grid(True)
    if labels:
        end_labels(ax, years[-1], [(q[2][-1], f"{q[2][-1]:.0f}", colour, True),
                                   (path[-1], f"{path[-1]:.0f}", TARGET_COLOUR, False)])


def _title(name: str, p: float | None, target: float, lang: str, q: np.ndarray, years: np.ndarray) -> str:
    if p is not None:
        word = likelihood(p, lang)
        return tr(lang, f"{name}: {word} to grow {pct(target, 0)} a year (P = {p:.2f})",
                  f"{name}：{word}实现年均增长{pct(target, 0, 'zh')}（P = {p:.2f}）")
    growth = ((q[2][-1] / q[2][0]) ** (1 / (years[-1] - years[0])) - 1) * 100
    return tr(lang, f"{name}: median growth {pct(growth)} a year", f"{name}：年均增长中位数{pct(growth, 1, 'zh')}")


def make(inputs: Inputs, lang: str) -> list[Chart]:
    results = inputs.single
    if results is None:
        raise NotApplicable("fan charts are made for one run's results folder")
    if not results.has_data:
        raise NotApplicable(f"{results.path} has no data.parquet nor data.csv")
    years, quantiles, target = fan_data(results)
    if not quantiles:
        raise NotApplicable("the data hold no emerging cluster's revenue")
    names = _names(results)
    ylabel = tr(lang, "Revenue, 100 million CNY a year", "营业收入（亿元/年）")
    subtitle = tr(
        lang,
        f"Above-scale revenue {years[0]}–{years[-1]}: median and 50 %/90 % of replicates; dashed: "
        f"{pct(target, 0)} a year from the median {years[0]} revenue",
        f"规模以上营业收入 {years[0]}–{years[-1]} 年：中位数及 50%/90% 重复区间；虚线：自 {years[0]} 年"
        f"中位数起年均增长{pct(target, 0, 'zh')}",
    )
    source = source_line(results, lang)
    charts = []
    for c, q in quantiles.items():
        fig, ax = new_figure("single", 7.0)
        _draw(ax, years, q, target, lang, labels=True)
        ax.set_ylabel(ylabel)
        ax.legend(loc="upper left", fontsize=6)
        name = names[c]["name_zh" if lang == "zh" else "name_en"]
        title = _title(short_name(c, names[c], lang), _p_hit(results, c), target, lang, q, years)
        finish(fig, title, subtitle, source)
        caption = tr(lang, f"Revenue of {name}, {years[0]}–{years[-1]}.", f"{name}营业收入，{years[0]}–{years[-1]} 年。")
        charts.append(Chart(f"fan_{c}", fig, title, caption))

    # all five in one double-column figure, sorted as the summary lists them
    fig, axes = new_figure("double", 10.5, nrows=2, ncols=3)
    flat = axes.ravel()
    ps = {c: _p_hit(results, c) for c in quantiles}
    for ax, (c, q) in zip(flat, quantiles.items()):
        _draw(ax, years, q, target, lang, labels=True, compact=True)
        p = ps[c]
        label = short_name(c, names[c], lang)
        ax.set_title(label + (f"  P = {p:.2f}" if p is not None else ""), loc="left", fontsize=7)
    for ax in flat[: len(quantiles)][::3]:
        ax.set_ylabel(ylabel)
    legend_ax = flat[-1]
    legend_ax.axis("off")
    handles, labels = flat[0].get_legend_handles_labels()
    legend_ax.legend(handles, labels, loc="center left", fontsize=7)
    for ax in flat[len(quantiles) : -1]:
        ax.axis("off")
    known = {c: p for c, p in ps.items() if p is not None}
    if known:
        best, worst = max(known, key=known.get), min(known, key=known.get)
        likely = sum(p >= 0.5 for p in known.values())
        title = tr(
            lang,
            f"{'All' if likely == len(known) else f'{likely} of'} {len(known)} emerging clusters more likely than not "
            f"to grow {pct(target, 0)} a year; {short_name(best, names[best], lang)} most likely "
            f"(P = {known[best]:.2f}), {short_name(worst, names[worst], lang)} least "
            f"(P = {known[worst]:.2f})",
            f"{len(known)} 个新兴产业中有 {likely} 个实现年均增长{pct(target, 0, 'zh')}的概率过半；"
            f"{short_name(best, names[best], lang)}最有可能（P = {known[best]:.2f}），"
            f"{short_name(worst, names[worst], lang)}最低（P = {known[worst]:.2f}）",
        )
    else:
        title = tr(lang, "Emerging clusters' revenue against the target path", "战略性新兴产业营业收入与目标路径")
    finish(fig, title, subtitle, source)
    charts.append(Chart("fan_emerging", fig, title, tr(lang, "Revenue of the five emerging clusters.",
                                                        "五大战略性新兴产业营业收入。")))
    return charts
