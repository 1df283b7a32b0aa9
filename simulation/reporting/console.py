"""The run summary as a table in the terminal (reads the summary data, never the model)."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

def _number(x: Any, digits: int = 1) -> str:
    return "–" if x is None or not math.isfinite(x) else f"{x:,.{digits}f}"


def _range(block: dict[str, Any] | None) -> str:
    if not block or block["median"] is None:
        return ""
    return f"{block['median']:.1f} [{block['p5']:.1f}, {block['p95']:.1f}]"


def _chance(block: dict[str, Any] | None) -> str:
    if not block or block["p"] is None:
        return ""
    return f"{block['p']:.0%} [{100 * block['ci_low']:.0f}, {100 * block['ci_high']:.0f}]"


WIDE = 130  # terminal columns from which the Chinese names get a column of their own


def summary_table(data: dict[str, Any], name: str, seed: int, width: int, description: str = "") -> Any:
    """The summary data (Summary.data) as a rich Table."""
    from rich import box
    from rich.table import Table

    start, end, n = data["start_year"], data["end_year"], data["replicates"]
    target, tolerance = data["targets"]["emerging_cagr"], data["targets"]["pillar_tolerance"]
    table = Table(
        title=f"[bold]{name}: {n} replicates, seed {seed}, {start}→{end}[/bold]"
        + (f"\n[dim]{description}[/dim]" if description else ""),
        title_justify="left",
        title_style="not italic",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    wide = width >= WIDE
    table.add_column("Cluster", min_width=12)
    if wide:
        table.add_column("", no_wrap=True)
    numbers = dict(justify="right", no_wrap=True)
    table.add_column(f"{start}\n亿元", **numbers)
    table.add_column(f"{end}\n亿元", **numbers)
    table.add_column("CAGR, %/yr\nmedian [5, 95 %]", **numbers)
    table.add_column("Gap to city, pp\nmedian [5, 95 %]", **numbers)
    table.add_column("P(target met)\n[95 % CI]", **numbers)
    effects = data.get("counterfactual")
    if effects:
        table.add_column(f"vs {effects['scenario']}:\nΔCAGR pp [95 % CI]", **numbers)
        table.add_column("ΔP\n[95 % CI]", **numbers)
        by_cluster = {row["cluster"]: row for row in effects["clusters"]}
        by_cluster["city"] = effects["city"]

    def add(label: str, row: dict[str, Any] | None = None, zh: str = "", goal: str = "", **kw: Any) -> None:
        cells = [label, zh] if wide else [label]
        if row is None:
            cells += ["", "", "", "", f"[dim]{goal}[/dim]"] + (["", ""] if effects else [])
        else:
            cells += [
                _number(row["revenue_start_median"], 0),
                _number(row["revenue_end_median"], 0),
                _range(row["cagr"]),
                _range(row.get("gap")),
                _chance(row.get("hit") or row.get("keeps_pace")),
            ]
            if effects:
                effect = by_cluster.get(row.get("cluster", "city"), {})
                cells += [_effect(effect.get("cagr")), _delta_p(effect.get("p_hit") or effect.get("p_keeps_pace"))]
        table.add_row(*cells, **kw)

    groups = [
        ("pillar", "Pillars", "支柱产业", f"gap ≥ −{tolerance:g} pp"),
        ("emerging", "Emerging", "战略性新兴产业", f"CAGR ≥ {target:g} %"),
        ("other", None, None, None),
    ]
    for kind, heading, heading_zh, goal in groups:
        rows = [r for r in data["clusters"] if r["kind"] == kind]
        if heading:
            add(f"[bold]{heading}[/bold]", zh=f"[bold]{heading_zh}[/bold]", goal=goal)
        for i, row in enumerate(rows):
            add(f"  {row['name_en']}", row, row["name_zh"], end_section=i == len(rows) - 1)
    city = data["city"]
    add(f"[bold]{city['name_en']}[/bold]", city, city["name_zh"])
    return table


def _signed(x: float | None, digits: int, scale: float = 1.0) -> str:
    return "–" if x is None else f"{scale * x:+.{digits}f}"


def _effect(block: dict[str, Any] | None) -> str:
    if not block or block.get("mean") is None:
        return ""
    return f"{_signed(block['mean'], 2)} [{_signed(block['ci_low'], 2)}, {_signed(block['ci_high'], 2)}]"


def _delta_p(block: dict[str, Any] | None) -> str:
    if not block or block.get("diff") is None:
        return ""
    return f"{_signed(block['diff'], 0, 100)} [{_signed(block['ci_low'], 0, 100)}, {_signed(block['ci_high'], 0, 100)}]"


def _money(x: float | None) -> str:
    return "–" if x is None else f"{x:,.0f} 亿元"


def key_lines(data: dict[str, Any]) -> list[str]:
    """P(all five), the public cost and what the policy adds for it, as lines under the table."""
    start, end = data["start_year"], data["end_year"]
    lines = []
    every = data.get("all_emerging")
    if every:
        lines.append(f"All five emerging clusters reach {data['targets']['emerging_cagr']:g} %: "
                     f"{_chance(every)} of replicates")
    known = [(r["name_en"], r["hit"]) for r in data["clusters"] if (r.get("hit") or {}).get("parameter_low") is not None]
    if every and every.get("parameter_low") is not None:
        known.append(("all five", every))
    if known:
        lines.append("If the uncertain values were known, P(hit) would lie within (central 95 % of P given the values "
                     "a replicate drew): " + "; ".join(f"{name} {100 * b['parameter_low']:.0f}–{100 * b['parameter_high']:.0f} %"
                                                       for name, b in known))
    cost = data.get("public_cost")
    if cost:
        total = cost["total"]
        lines.append(f"Public cost {start + 1}–{end}: {_money(total['median'])} "
                     f"[{_money(total['p5'])}, {_money(total['p95'])}] (median [5, 95 %] across replicates)")
    conditioning = data.get("conditioning")
    if conditioning and conditioning["observed_years"]:
        seen, future = conditioning["observed_years"], conditioning["simulated_years"]
        lines.append(f"Conditioned on the statistics observed in {seen[0]}–{seen[-1]} (posterior "
                     f"{conditioning['posterior']}); " + (f"{future[0]}–{future[-1]} simulated." if future else
                                                           "no year simulated only."))
    basis = data.get("statistics_basis") or {}
    soft = basis.get("soft")
    if soft and soft["cagr"]["median"] is not None:
        lines.append(f"Software on the statistics' basis (with the change of statistical scope): CAGR "
                     f"{_range(soft['cagr'])} %/yr, P(≥ {data['targets']['emerging_cagr']:g} %) {_chance(soft['hit'])}")
    effects = data.get("counterfactual")
    if effects:
        name = effects["scenario"]
        extra, per = effects["extra_cost"], effects["revenue_per_yi"]
        every = effects["all_emerging"]
        line = (f"Against {name}: extra public cost {_money(extra['mean'])}; "
                f"P(all five) {_delta_p(every)} points")
        if per["ratio"] is not None:
            line += (f"; extra revenue of the nine clusters per 亿 of extra public money {per['ratio']:.1f} 亿元 "
                     f"[{per['ci_low']:.1f}, {per['ci_high']:.1f}]")
        lines.append(line)
    return lines


def print_summary(data: dict[str, Any], name: str, spec: Any, folder: Path, wall_time: float) -> None:
    """The summary as a rich table on stdout, notes under it, then the results folder."""
    from rich.console import Console

    console = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
    start, end = data["start_year"], data["end_year"]
    target, tolerance = data["targets"]["emerging_cagr"], data["targets"]["pillar_tolerance"]
    console.print(summary_table(data, name, spec.simulation.seed, console.width, spec.description))
    for line in key_lines(data):
        console.print(line)
    notes = (
        f"Revenue: above-scale operating revenue in 亿元 (100 million CNY) a year; {start}: the drawn "
        f"start values, {end}: the year's mean; medians across replicates. CAGR {start}→{end}: median "
        f"and 5th-95th percentiles across replicates. Gap: a pillar's CAGR minus the city's industrial "
        f"CAGR. P: share of replicates meeting the target (emerging: CAGR ≥ {target:g} %; pillars: "
        f"keeping pace with city industry, gap ≥ −{tolerance:g} pp), with its 95 % Wilson confidence interval: "
        f"Monte-Carlo precision only; the spread across replicates is the uncertainty about the world."
    )
    if data.get("counterfactual"):
        notes += (f" Δ: the scenario minus its counterfactual ({data['counterfactual']['scenario']}: the same "
                  f"uncertainties and seeds, its levers), mean paired difference with a 95 % interval.")
    console.print(notes, width=min(console.width, 100), style="dim")
    console.print(f"Results: {folder}  ({data['replicates']} replicates in {wall_time:.1f} s)")


