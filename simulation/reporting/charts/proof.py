"""Print checks on a drawn chart: what an editor would mark before a briefing goes to print.

:func:`problems` draws a figure and lists, in words, every text that is smaller than the house
minimum for its language, every pair of texts whose boxes overlap, and every text that shows a
raw identifier (a dotted scenario key, a snake_case name, a cluster id) instead of a label.
The tests run it over every chart in both languages; anyone changing a chart can too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from simulation.datapack import CLUSTERS
from simulation.reporting.charts.style import sizes

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.text import Text

#: What a reader should never see: dotted keys, snake_case names, cluster ids, Python values.
RAW = re.compile(
    r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b"  # snake_case: cagr_semi, mu_star, p_hit
    r"|\b[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*\b"  # dotted keys: levers.land.floor_multiplier
    rf"|\b(?:{'|'.join(c for c in CLUSTERS if c != 'other')}|cagr|nan|None|True|False)\b"
)


@dataclass(frozen=True)
class Box:
    """A drawn text: what it says, its size in points, and its box in points (x0, y0, x1, y1)."""

    text: str
    size: float
    box: tuple[float, float, float, float]

    def overlap(self, other: Box, tolerance: float = 0.5) -> bool:
        a, b = self.box, other.box
        return min(a[2], b[2]) - max(a[0], b[0]) > tolerance and min(a[3], b[3]) - max(a[1], b[1]) > tolerance


def _axes_texts(ax: Any) -> list[Text]:
    if not ax.get_visible():
        return []
    texts = [*ax.texts, ax.title, ax._left_title, ax._right_title]
    if ax.axison:
        texts += [ax.xaxis.label, ax.yaxis.label, ax.xaxis.offsetText, ax.yaxis.offsetText]
        for axis in (ax.xaxis, ax.yaxis):
            for tick in axis._update_ticks():  # the ticks drawn (within the view)
                texts += [t for t in (tick.label1, tick.label2) if t.get_visible()]
    legend = ax.get_legend()
    if legend is not None:
        texts += list(legend.get_texts())
    for child in ax.child_axes:
        texts += _axes_texts(child)
    return texts


def drawn_texts(fig: Figure) -> list[Box]:
    """Every visible, non-empty text of the drawn figure with its box in points."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    texts = list(fig.texts)
    for legend in fig.legends:
        texts += list(legend.get_texts())
    for ax in fig.axes:
        texts += _axes_texts(ax)
    boxes, seen = [], set()
    scale = 72.0 / fig.dpi
    for t in texts:
        if id(t) in seen or not t.get_visible() or not t.get_text().strip() or (t.get_alpha() == 0):
            continue
        seen.add(id(t))
        e = t.get_window_extent(renderer)
        boxes.append(Box(t.get_text(), float(t.get_fontsize()), (e.x0 * scale, e.y0 * scale, e.x1 * scale, e.y1 * scale)))
    return boxes


def problems(fig: Figure, lang: str) -> list[str]:
    """Everything an editor would mark in this figure, one line each (empty: ready to print).

    The figure is drawn in the house style of ``lang``, as when it is saved.
    """
    from simulation.reporting.charts.style import house_style

    with house_style(lang):
        boxes = drawn_texts(fig)
    minimum = sizes(lang).minimum
    found = [f"{b.size:g} pt < {minimum:g} pt: {b.text!r}" for b in boxes if b.size < minimum - 1e-9]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            if a.overlap(b):
                found.append(f"collision: {a.text!r} and {b.text!r}")
    for b in boxes:
        m = RAW.search(b.text.replace("\n", " "))
        if m:
            found.append(f"raw identifier {m.group(0)!r} in {b.text!r}")
    width, height = fig.get_size_inches() * 72
    for b in boxes:
        x0, y0, x1, y1 = b.box
        if x0 < -0.5 or y0 < -0.5 or x1 > width + 0.5 or y1 > height + 0.5:
            found.append(f"outside the figure: {b.text!r} at {tuple(round(v, 1) for v in b.box)} "
                         f"in {width:.0f} x {height:.0f} pt")
    return found
