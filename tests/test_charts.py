"""Charts: the plotted data against the results files, the print rules, the Chinese glyphs, and `simulate chart`.

Every check reads the numbers back from the matplotlib objects (line data, errorbar segments,
bar widths, collection arrays), and recomputes the expected ones from the results files
directly with pandas, not through the chart code. The print rules (no text under the house
minimum, no colliding labels, no raw identifiers) are checked on every chart in both languages.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from matplotlib.collections import LineCollection, PatchCollection, PolyCollection
from matplotlib.lines import Line2D
from matplotlib.text import Text

from _chart_results import small_results
from simulation.cli import main
from simulation.datapack import EMERGING, PILLARS
from simulation.reporting import labels
from simulation.reporting.charts import Inputs, make_charts
from simulation.reporting.charts.proof import problems
from simulation.reporting.charts.style import house_style
from simulation.reporting.results_folder import ResultsError, ResultsFolder

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return small_results(tmp_path_factory)


@pytest.fixture(scope="module")
def tables(tmp_path_factory) -> dict[str, Path]:
    """A sensitivity table (Sobol and Morris outcomes) and a lever-response table, as documented."""
    base = tmp_path_factory.mktemp("tables")
    sens = pd.DataFrame(
        [
            ("levers.land.floor_multiplier", "S1", 0.30, 0.22, 0.38, "p_hit.ene"),
            ("levers.land.floor_multiplier", "ST", 0.42, 0.35, 0.50, "p_hit.ene"),
            ("uncertainties.behaviour.frontier_productivity_growth", "S1", 0.20, 0.12, 0.28, "p_hit.ene"),
            ("uncertainties.behaviour.frontier_productivity_growth", "ST", 0.31, 0.25, 0.37, "p_hit.ene"),
            ("levers.talent.subsidy", "S1", 0.02, 0.00, 0.05, "p_hit.ene"),
            ("levers.talent.subsidy", "ST", 0.05, 0.01, 0.09, "p_hit.ene"),
            ("levers.subsidy.rd_budget", "mu_star", 1.2, 0.9, 1.5, "cagr.city"),
            ("levers.subsidy.rd_budget", "sigma", 0.6, None, None, "cagr.city"),
            ("uncertainties.land.rent_elasticity", "mu_star", 2.1, 1.7, 2.5, "cagr.city"),
            ("uncertainties.land.rent_elasticity", "sigma", 0.4, None, None, "cagr.city"),
        ],
        columns=["parameter", "index", "value", "ci_low", "ci_high", "outcome"],
    )
    rows = []
    units = [*PILLARS, *EMERGING, "other", "city"]  # every line a grid sweep's response.csv holds
    for parameter, levels in (("levers.land.floor_multiplier", [2.0, 3.0, 4.0]), ("levers.talent.subsidy", [0.01, 0.03, 0.06]),
                              ("levers.subsidy.rd_budget", [0.0, 10.0, 20.0])):
        for i, level in enumerate(levels):
            for j, cluster in enumerate(units):
                m = 4.0 + 1.5 * i + j
                rows.append((parameter, level, cluster, m, m - 3, m + 3, min(1.0, 0.3 + 0.2 * i)))
    resp = pd.DataFrame(rows, columns=["parameter", "value", "cluster", "cagr_median", "cagr_p5", "cagr_p95", "p_hit"])
    sens.to_csv(base / "sensitivity.csv", index=False)
    resp.to_csv(base / "response.csv", index=False)
    return {"sensitivity": base / "sensitivity.csv", "response": base / "response.csv"}


def charts_for(inputs: Inputs, lang: str = "en") -> dict:
    with house_style(lang):
        made, skipped = make_charts(inputs, lang)
    return {c.name: c for c in made}, skipped


@pytest.fixture(scope="module")
def english(folder):
    made, skipped = charts_for(Inputs(runs=[ResultsFolder(folder)]), "en")
    return made, skipped


def by_gid(fig, gid: str, kind: type | None = None) -> list:
    found = fig.findobj(lambda a: a.get_gid() == gid)
    return [a for a in found if kind is None or isinstance(a, kind)]


def errorbar(fig, gid: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x and y of an errorbar's data points and its (low, high) segment ends, in plotted order."""
    lines = by_gid(fig, gid, LineCollection)
    assert lines, f"no errorbar {gid}"
    segments = np.array(lines[0].get_segments())  # (n, 2 points, xy)
    data = [a for a in by_gid(fig, gid, Line2D) if len(a.get_xdata()) == len(segments)]
    x = np.asarray(data[0].get_xdata(), float) if data else segments[:, :, 0].mean(axis=1)
    y = segments[:, 0, 1]
    return x, y, segments[:, :, 0]


def text_of(fig, gid: str) -> str:
    """A frame text (title, subtitle, source) as one line, as a reader reads it."""
    (text,) = by_gid(fig, gid, Text)
    return text.get_text().replace("\n", " ").replace("\u00a0", " ")


def ytick_labels(ax, ys) -> list[str]:
    labels = {round(t, 6): lab.get_text() for t, lab in zip(ax.get_yticks(), ax.get_yticklabels())}
    return [labels[round(float(y), 6)] for y in ys]


# --- the data the charts must show, computed directly from the files -------------------------


def revenue(folder: Path) -> pd.DataFrame:
    data = pd.read_parquet(folder / "data.parquet")
    data = data[(data.scope == "cluster") & (data.metric == "revenue") & (data.frequency == "year")]
    return data.pivot_table(index=["unit", "replicate"], columns="year", values="value", observed=True)


def summary(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "summary.csv").set_index("cluster")


# --- the charts ----------------------------------------------------------------------------


def test_every_single_run_chart_is_made_and_the_rest_say_why_not(english) -> None:
    made, skipped = english
    # the run carries its business-as-usual counterfactual, so the paired effects are drawn from it alone
    assert set(made) == {f"fan_{c}" for c in EMERGING} | {"fan_emerging", "target_probability", "pillars_vs_city",
                                                           "towns_growth", "towns_floor", "paired_differences"}
    assert set(skipped) == {"scenario_comparison", "tornado", "lever_response"}
    assert all(skipped.values())


@pytest.mark.parametrize("cluster", EMERGING)
def test_fan_chart_shows_the_revenue_percentiles_and_the_target_path(english, folder, cluster) -> None:
    fig = english[0][f"fan_{cluster}"].figure
    rev = revenue(folder).loc[cluster] / 10  # English charts: billion CNY (the data: 亿元)
    years = rev.columns.to_numpy()
    q5, q25, q50, q75, q95 = np.percentile(rev.to_numpy(), [5, 25, 50, 75, 95], axis=0)
    (median,) = by_gid(fig, "median", Line2D)
    np.testing.assert_allclose(median.get_xdata(), years)
    np.testing.assert_allclose(median.get_ydata(), q50, rtol=1e-12)
    (target,) = by_gid(fig, "target", Line2D)
    goal = json.loads((folder / "summary.json").read_text())["targets"]["emerging_cagr"]
    np.testing.assert_allclose(target.get_ydata(), q50[0] * (1 + goal / 100) ** (years - years[0]), rtol=1e-12)
    for gid, (lo, hi) in (("band90", (q5, q95)), ("band50", (q25, q75))):
        (band,) = by_gid(fig, gid, PolyCollection)
        vertices = band.get_paths()[0].vertices
        for x, low, high in zip(years, lo, hi):
            ys = vertices[np.isclose(vertices[:, 0], x), 1]
            assert np.isclose(ys.min(), low) and np.isclose(ys.max(), high), (gid, x)
    row = summary(folder).loc[cluster]
    text = text_of(fig, "subtitle")
    assert f"P = {row.p_hit:.2f} (Monte-Carlo 95 % CI {row.p_hit_low:.2f}–{row.p_hit_high:.2f})" in text
    assert text.startswith("Baseline scenario.")


def test_fan_panel_has_every_emerging_cluster(english, folder) -> None:
    fig = english[0]["fan_emerging"].figure
    medians = by_gid(fig, "median", Line2D)
    rev = revenue(folder)
    assert len(medians) == len(EMERGING)
    for line, cluster in zip(medians, EMERGING):
        np.testing.assert_allclose(line.get_ydata(), np.percentile(rev.loc[cluster].to_numpy(), 50, axis=0) / 10)


def test_target_probability_shows_p_hit_with_monte_carlo_intervals_in_the_house_order(english, folder) -> None:
    chart = english[0]["target_probability"]
    fig = chart.figure
    table = summary(folder)
    emerging = table.loc[list(EMERGING)]
    x, y, seg = errorbar(fig, "p_hit")
    order = np.argsort(-y)  # top to bottom
    np.testing.assert_allclose(x[order], emerging.p_hit)
    np.testing.assert_allclose(seg[order, 0], emerging.p_hit_low)
    np.testing.assert_allclose(seg[order, 1], emerging.p_hit_high)
    labels = ytick_labels(fig.axes[0], y[order])
    assert labels == ["Software & IT services", "New materials", "New energy", "Biomedicine", "Semiconductors"]
    (half,) = by_gid(fig, "half", Line2D)
    assert np.allclose(half.get_xdata(), 0.5)
    assert "Monte-Carlo 95 % CI" in text_of(fig, "subtitle")
    # "most likely" only for a cluster whose interval lies above every other's
    best = emerging.p_hit.idxmax()
    others = emerging.drop(best)
    apart = emerging.loc[best, "p_hit_low"] > others.p_hit_high.max()
    assert ("is most likely" in chart.title) == apart, chart.title


def test_pillars_chart_judges_each_pillar_within_the_same_replicate(english, folder) -> None:
    chart = english[0]["pillars_vs_city"]
    fig = chart.figure
    table = summary(folder)
    pillars = table.loc[list(PILLARS)]
    x, y, seg = errorbar(fig, "gaps")
    order = np.argsort(-y)
    np.testing.assert_allclose(x[order], pillars.gap_median)
    np.testing.assert_allclose(seg[order], pillars[["gap_p5", "gap_p95"]].to_numpy())
    # the gap is each replicate's pillar growth minus the city's growth in the same replicate
    data = pd.read_parquet(folder / "data.parquet")
    years = sorted(data.year.unique())
    annual = data[(data.frequency == "year") & (data.year.isin([years[0], years[-1]]))]
    cluster = annual[(annual.scope == "cluster") & (annual.metric == "revenue")].pivot_table(
        index=["unit", "replicate"], columns="year", values="value", observed=True)
    city = annual[(annual.scope == "city") & (annual.metric == "industrial_revenue")].pivot_table(
        index="replicate", columns="year", values="value", observed=True)
    span = years[-1] - years[0]
    city_growth = ((city[years[-1]] / city[years[0]]) ** (1 / span) - 1) * 100
    tolerance = json.loads((folder / "summary.json").read_text())["targets"]["pillar_tolerance"]
    for c in PILLARS:
        growth = ((cluster.loc[c][years[-1]] / cluster.loc[c][years[0]]) ** (1 / span) - 1) * 100
        gap = growth - city_growth
        assert np.median(gap) == pytest.approx(table.loc[c, "gap_median"])
        assert (gap >= -tolerance).mean() == pytest.approx(table.loc[c, "p_keeps_pace"])
    (threshold,) = by_gid(fig, "threshold", Line2D)
    assert np.allclose(threshold.get_xdata(), -tolerance)
    texts = [t.get_text() for t in fig.axes[0].texts]
    for p in pillars.p_keeps_pace:
        assert f"{p:.2f}" in texts


def test_town_tiles_show_growth_and_floor_space(english, folder) -> None:
    from simulation.reporting.charts.towns import tile_layout

    data = pd.read_parquet(folder / "data.parquet")
    towns = data[(data.scope == "town") & (data.frequency == "year")]
    layout = [t for t, _, _ in tile_layout()]
    assert len(layout) == 34 and len({(r, c) for _, r, c in tile_layout()}) == 34

    rev = towns[towns.metric == "revenue_all"].pivot_table(index=["unit", "replicate"], columns="year", values="value",
                                                           observed=True)
    years = rev.columns.to_numpy()
    growth = ((rev[years[-1]] / rev[years[0]]) ** (1 / (years[-1] - years[0])) - 1) * 100
    expected = growth.groupby(level="unit", observed=True).median().reindex(layout)
    (tiles,) = by_gid(english[0]["towns_growth"].figure, "tiles", PatchCollection)
    np.testing.assert_allclose(np.ma.filled(tiles.get_array(), np.nan), expected.to_numpy(), rtol=1e-9)

    floor = towns[(towns.metric == "floor_delivered") & (towns.year > years[0])]
    total = floor.groupby(["unit", "replicate"], observed=True).value.sum()
    expected = total.groupby(level="unit", observed=True).median().reindex(layout) / 1e6  # million m2 in English
    (tiles,) = by_gid(english[0]["towns_floor"].figure, "tiles", PatchCollection)
    np.testing.assert_allclose(np.ma.filled(tiles.get_array(), np.nan), expected.to_numpy(), rtol=1e-9)


def test_one_short_source_line_and_the_scenario_in_every_subtitle(english, folder) -> None:
    manifest = json.loads((folder / "manifest.json").read_text())
    for chart in english[0].values():
        text = text_of(chart.figure, "source")
        runs = f"{manifest['replicates']} {'paired ' if chart.name == 'paired_differences' else ''}model runs"
        assert str(manifest["root_seed"]) in text and runs in text
        assert manifest["ended"][:10] in text and text.count("Source") == 1
        assert text_of(chart.figure, "title") and text_of(chart.figure, "subtitle").startswith(("Baseline scenario", "Baseline vs Business as usual"))


def test_house_sizes_are_a4_columns(english) -> None:
    widths = {round(c.figure.get_size_inches()[0] * 2.54, 2) for c in english[0].values()}
    assert widths == {8.5, 17.5}


def test_scenario_comparison_from_several_folders(folder) -> None:
    made, _ = charts_for(Inputs.from_folders([folder, folder]), "en")
    assert set(made) == {"scenario_comparison"}
    assert text_of(made["scenario_comparison"].figure, "subtitle").startswith("Baseline vs Baseline #2")
    fig = made["scenario_comparison"].figure
    table = summary(folder)
    for i in range(2):
        for kind, column in (("emerging", "p_hit"), ("pillar", "p_keeps_pace")):
            rows = table[table.kind == kind]
            x, y, seg = errorbar(fig, f"{i}:{kind}")
            order = np.argsort(-y)
            np.testing.assert_allclose(x[order], rows[column])
            np.testing.assert_allclose(seg[order], rows[[f"{column}_low", f"{column}_high"]].to_numpy())


def test_tornado_ranks_the_documented_sensitivity_table(folder, tables) -> None:
    made, _ = charts_for(Inputs.from_folders([folder], sensitivity=tables["sensitivity"]), "en")
    table = pd.read_csv(tables["sensitivity"])
    sobol = table[table.outcome == "p_hit.ene"]
    st = sobol[sobol["index"] == "ST"].sort_values("value", ascending=False)
    fig = made["tornado_p_hit.ene"].figure
    bars = by_gid(fig, "primary")
    widths = sorted(((b.get_y(), b.get_width()) for b in bars), reverse=True)  # top to bottom
    np.testing.assert_allclose([w for _, w in widths], st["value"])
    s1 = sobol[sobol["index"] == "S1"].set_index("parameter").loc[st["parameter"], "value"]
    inner = sorted(((b.get_y(), b.get_width()) for b in by_gid(fig, "secondary")), reverse=True)
    np.testing.assert_allclose([w for _, w in inner], s1)
    _, _, seg = errorbar(fig, "primary_ci")
    np.testing.assert_allclose(np.sort(seg[:, 0])[::-1], np.sort(st["ci_low"].to_numpy())[::-1])
    # ST 0.42 [0.35, 0.50] against 0.31 [0.25, 0.37]: the intervals overlap, so no single winner
    title = made["tornado_p_hit.ene"].title
    assert title == ("No single parameter matters most for P(New energy meets the target): New floor per unit of "
                     "land and Productivity growth at the frontier are too close to rank"), title
    morris = made["tornado_cagr.city"]  # mu* 2.1 [1.7, 2.5] above 1.2 [0.9, 1.5]: one winner, with its unit
    assert morris.title == ("Rent response to occupancy matters most for growth of city industry: "
                            "μ* = 2.10 pp a year (95 % CI 1.70–2.50)"), morris.title


def test_tornado_rejects_a_table_without_the_documented_columns(folder, tmp_path) -> None:
    bad = tmp_path / "sens.csv"
    pd.DataFrame({"parameter": ["a"], "value": [1.0]}).to_csv(bad, index=False)
    with pytest.raises(ResultsError, match="index, .*ci_low"):
        charts_for(Inputs.from_folders([folder], sensitivity=bad), "en")
    done = CliRunner().invoke(main, ["chart", str(folder), "--sensitivity", str(bad), "--out", str(tmp_path / "c")])
    assert done.exit_code == 2 and "Traceback" not in done.output and "lacks the column" in done.output


def test_lever_response_curves_and_the_target_line(folder, tables) -> None:
    made, _ = charts_for(Inputs.from_folders([folder], response=tables["response"]), "en")
    fig = made["lever_response"].figure
    table = pd.read_csv(tables["response"])
    for (parameter, cluster), rows in table.groupby(["parameter", "cluster"]):
        (line,) = by_gid(fig, f"{parameter}:{cluster}", Line2D)
        rows = rows.sort_values("value")
        scale = labels.parameter(parameter, "en").unit.scale  # English axes: billion CNY for 亿元
        np.testing.assert_allclose(line.get_xdata(), rows["value"] * scale)
        np.testing.assert_allclose(line.get_ydata(), rows["cagr_median"])
    targets = by_gid(fig, "target", Line2D)
    assert len(targets) == 3 and all(np.allclose(t.get_ydata(), 10.0) for t in targets)


# --- Chinese, and the command -------------------------------------------------------------


def test_chinese_charts_label_everything_in_chinese(folder, tables) -> None:
    inputs = Inputs.from_folders([folder], sensitivity=tables["sensitivity"], response=tables["response"])
    made, _ = charts_for(inputs, "zh")
    assert len(made) >= 13
    for chart in made.values():
        fig = chart.figure
        (title,) = by_gid(fig, "title", Text)
        (source,) = by_gid(fig, "source", Text)
        assert CJK.search(title.get_text()) and CJK.search(source.get_text()), chart.name
        for ax in fig.axes:
            for text in (ax.get_xlabel(), ax.get_ylabel()):
                assert not text or CJK.search(text) or text in ("μ*", "σ"), (chart.name, text)
            legend = ax.get_legend()
            for entry in legend.get_texts() if legend else []:
                assert CJK.search(entry.get_text()) or entry.get_text() in ("μ*", "σ"), (chart.name, entry.get_text())


def test_simulate_chart_writes_every_chart_in_every_format_and_language_without_missing_glyphs(
    folder, tables, tmp_path
) -> None:
    out = tmp_path / "charts"
    args = ["chart", str(folder), "--out", str(out), "--sensitivity", str(tables["sensitivity"]),
            "--response", str(tables["response"])]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        done = CliRunner().invoke(main, args)
    assert done.exit_code == 0, done.output
    glyphs = [str(w.message) for w in caught if "missing from" in str(w.message) or "Glyph" in str(w.message)]
    assert not glyphs, glyphs
    names = {f"fan_{c}" for c in EMERGING} | {"fan_emerging", "target_probability", "pillars_vs_city",
                                             "towns_growth", "towns_floor", "tornado_p_hit.ene", "tornado_cagr.city",
                                             "lever_response", "paired_differences"}
    for lang in ("en", "zh"):
        files = {p.name for p in (out / lang).iterdir()}
        assert files == {f"{n}.{ext}" for n in names for ext in ("png", "svg", "pdf")}, lang
    png = (out / "zh" / "target_probability.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "en" / "fan_ene.pdf").read_bytes()[:5] == b"%PDF-"
    assert b"<svg" in (out / "en" / "fan_ene.svg").read_bytes()[:2000]
    assert "no scenario_comparison" in done.output


def test_simulate_chart_user_errors(tmp_path, folder) -> None:
    runner = CliRunner()
    for args, message in (
        ([str(tmp_path / "missing")], "does not exist"),
        ([str(tmp_path)], "not a results folder"),
        ([str(folder), "--lang", "fr"], "--lang"),
        ([str(folder), "--format", "gif"], "--format"),
    ):
        done = runner.invoke(main, ["chart", *args, "--out", str(tmp_path / "out")])
        assert done.exit_code == 2, (args, done.output)
        assert message in done.output and "Traceback" not in done.output


# --- print rules ---------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_chart_is_fit_to_print(folder, tables, lang) -> None:
    """No text under the minimum size, no colliding texts, no raw identifiers, nothing off the page."""
    inputs = Inputs.from_folders([folder], sensitivity=tables["sensitivity"], response=tables["response"])
    made, _ = charts_for(inputs, lang)
    made.update(charts_for(Inputs.from_folders([folder, folder]), lang)[0])
    assert len(made) >= 14
    found = {name: problems(chart.figure, lang) for name, chart in made.items()}
    assert not any(found.values()), {k: v for k, v in found.items() if v}


def test_the_print_check_finds_what_an_editor_would_mark() -> None:
    from simulation.reporting.charts.layout import new_figure

    with house_style("zh"):
        fig, ax = new_figure("single", 5.0)
        ax.text(0.1, 0.5, "cagr_semi", fontsize=7)  # a raw identifier
        ax.text(0.1, 0.5, "重叠的标签", fontsize=7)  # on top of it
        ax.text(0.1, 0.1, "小字", fontsize=6.5)  # under 7 pt in Chinese
        found = problems(fig, "zh")
    assert any("raw identifier 'cagr_semi'" in p for p in found)
    assert any(p.startswith("collision") for p in found)
    assert any(p.startswith("6.5 pt < 7 pt") for p in found)


def test_axes_are_fixed_across_scenarios(folder, tmp_path) -> None:
    """A second scenario with lower revenue keeps the first one's axes and colour scales."""
    import shutil

    other = tmp_path / "other"
    shutil.copytree(folder, other, ignore=shutil.ignore_patterns("charts", "report"))
    data = pd.read_parquet(other / "data.parquet")
    later = data.year > data.year.min()  # the same 2020 start (the same draws), slower growth after it
    data.loc[(data.scope == "cluster") & (data.metric == "revenue") & later, "value"] *= 0.8
    data.loc[(data.scope == "town") & (data.metric == "floor_delivered"), "value"] *= 0.5  # a land squeeze
    data.to_parquet(other / "data.parquet")
    limits = []
    for path in (folder, other):
        made, _ = charts_for(Inputs(runs=[ResultsFolder(path)]), "en")
        fan = made["fan_ene"].figure.axes[0].get_ylim()
        (tiles,) = by_gid(made["towns_floor"].figure, "tiles", PatchCollection)
        limits.append((fan, tiles.norm.vmin, tiles.norm.vmax, made["towns_floor"].title))
    assert limits[0][:3] == limits[1][:3]
    assert limits[0][3] != limits[1][3]  # the floor headline states the city's total, which halved
    # in one chart set covering both, every axis takes the wider scale
    both = Inputs(runs=[ResultsFolder(folder), ResultsFolder(other)], focus_run=ResultsFolder(other))
    made, _ = charts_for(both, "en")
    assert made["fan_ene"].figure.axes[0].get_ylim() == limits[0][0]


def test_forked_chart_workers_stop_while_the_cli_holds_signals_back(folder, tmp_path) -> None:
    """`simulate run --charts` draws inside a block that holds SIGTERM back; the pool's workers must still stop."""
    script = (
        "import sys\n"
        "from simulation.experiments import interrupts\n"
        "from simulation.reporting.charts import Inputs\n"
        "from simulation.reporting.charts.render import write_charts\n"
        "with interrupts.deferred():\n"
        f"    w = write_charts(Inputs.from_folders([r'{folder}']), r'{tmp_path}', ['en'], ['png'],\n"
        "                     only=['target_probability', 'pillars_vs_city'], workers=2)\n"
        "sys.exit(0 if w.files else 3)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], timeout=300, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "en" / "target_probability.png").is_file()
