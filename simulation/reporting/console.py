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

    def add(label: str, row: dict[str, Any] | None = None, zh: str = "", goal: str = "", **kw: Any) -> None:
        cells = [label, zh] if wide else [label]
        if row is None:
            cells += ["", "", "", "", f"[dim]{goal}[/dim]"]
        else:
            cells += [
                _number(row["revenue_start_median"], 0),
                _number(row["revenue_end_median"], 0),
                _range(row["cagr"]),
                _range(row.get("gap")),
                _chance(row.get("hit") or row.get("keeps_pace")),
            ]
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


def print_summary(data: dict[str, Any], name: str, spec: Any, folder: Path, wall_time: float) -> None:
    """The summary as a rich table on stdout, notes under it, then the results folder."""
    from rich.console import Console

    console = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
    start, end = data["start_year"], data["end_year"]
    target, tolerance = data["targets"]["emerging_cagr"], data["targets"]["pillar_tolerance"]
    console.print(summary_table(data, name, spec.simulation.seed, console.width, spec.description))
    notes = (
        f"Revenue: above-scale operating revenue in 亿元 (100 million CNY) a year; {start}: the drawn "
        f"start values, {end}: the year's mean; medians across replicates. CAGR {start}→{end}: median "
        f"and 5th-95th percentiles across replicates. Gap: a pillar's CAGR minus the city's industrial "
        f"CAGR. P: share of replicates meeting the target (emerging: CAGR ≥ {target:g} %; pillars: "
        f"keeping pace with city industry, gap ≥ −{tolerance:g} pp), with its 95 % Wilson confidence interval."
    )
    console.print(notes, width=min(console.width, 100), style="dim")
    console.print(f"Results: {folder}  ({data['replicates']} replicates in {wall_time:.1f} s)")


