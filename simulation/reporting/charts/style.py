"""The house style of every chart: palette, sizes, type and matplotlib settings.

* Colours have one meaning in every chart. Cluster kinds: pillar clusters blue, emerging
  clusters vermillion, city industry black, other industry grey (Okabe-Ito, safe for the
  common colour-vision deficiencies). Scenarios, which cut across clusters, take the other
  Okabe-Ito hues (never blue or vermillion), each with its own marker so they are told apart
  without colour; the shipped scenarios keep the same colour in every chart. Neutral greys
  (axes, bands, uncertainty parameters) carry no meaning of their own.
* One cluster order everywhere: the pillars, then the emerging clusters, as the policy and
  the data pack list them (:data:`CLUSTER_ORDER`).
* Sizes: single A4 column 8.5 cm, double 17.5 cm; no text under 6.5 pt in English or 7 pt in
  Chinese at these sizes (:func:`sizes`; the tests measure every text of every chart). The CJK
  font has one weight, so emphasis is a thin outline in the text colour (:func:`bold`).
* Figures are made with ``matplotlib.figure.Figure`` and the Agg canvas, not pyplot: no window,
  no global registry, and rcParams are set only while a chart is made.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import matplotlib

from simulation.datapack import EMERGING, PILLARS
from simulation.reporting.charts import fonts

# --- palette --------------------------------------------------------------------------------

OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
KIND_COLOURS = {
    "pillar": OKABE_ITO["blue"],
    "emerging": OKABE_ITO["vermillion"],
    "city": OKABE_ITO["black"],
    "other": "#7F7F7F",
}
KIND_MARKERS = {"pillar": "s", "emerging": "o", "city": "D", "other": "^"}
#: Scenario colours and markers (never blue or vermillion: those mean pillar / emerging).
SCENARIO_STYLES = [
    (OKABE_ITO["orange"], "o"),
    (OKABE_ITO["bluish_green"], "s"),
    (OKABE_ITO["reddish_purple"], "D"),
    ("#8C6D1F", "^"),  # dark ochre
    ("#5E5E5E", "v"),  # dark grey
    (OKABE_ITO["yellow"], "P"),
]
#: The shipped scenarios keep their colour in every chart.
NAMED_SCENARIOS = {"baseline": 0, "business_as_usual": 1, "no_policy": 2}
TARGET_COLOUR = OKABE_ITO["black"]  # target lines: black, dashed
GRID_COLOUR = "#D9D9D9"
MUTED = "#595959"  # subtitles, source line, secondary labels
TEXT = "#222222"
LEVER_COLOUR = "#404040"  # tornado bars of policy levers (solid) ...
UNCERTAINTY_COLOUR = "#B3B3B3"  # ... and of uncertain parameters (light)

#: One order of clusters in every chart and table.
CLUSTER_ORDER = (*PILLARS, *EMERGING)


def kind_of(cluster: str) -> str:
    return "emerging" if cluster in EMERGING else "pillar" if cluster in PILLARS else "city" if cluster == "city" else "other"


def bold(colour: str = "#111111", width: float = 0.35) -> list:
    """Path effects that embolden text (a stroke in its own colour): the CJK font has no bold."""
    from matplotlib import patheffects

    return [patheffects.Stroke(linewidth=width, foreground=colour), patheffects.Normal()]


def scenario_styles(names: list[str]) -> list[tuple[str, str]]:
    """Colour and marker of each scenario: the shipped scenarios' own, then the free ones in order."""
    styles: list[tuple[str, str] | None] = [None] * len(names)
    used: set[int] = set()
    for i, name in enumerate(names):
        j = NAMED_SCENARIOS.get(name.partition(" #")[0])
        if j is not None and j not in used:
            styles[i] = SCENARIO_STYLES[j]
            used.add(j)
    free = [j for j in range(len(SCENARIO_STYLES)) if j not in used] or list(range(len(SCENARIO_STYLES)))
    k = 0
    for i in range(len(names)):
        if styles[i] is None:
            styles[i] = SCENARIO_STYLES[free[k % len(free)]]
            k += 1
    return styles  # type: ignore[return-value]


# --- sizes and type -------------------------------------------------------------------------

CM = 1 / 2.54
WIDTHS = {"single": 8.5 * CM, "double": 17.5 * CM}  # inches
DPI = 300
FORMATS = ("png", "svg", "pdf")
LANGS = ("en", "zh")


@dataclass(frozen=True)
class Sizes:
    """Type sizes in points for one language; ``minimum`` is the smallest any text may be."""

    title: float
    subtitle: float
    base: float
    small: float
    minimum: float


SIZES = {
    "en": Sizes(title=8.5, subtitle=7.0, base=7.0, small=6.5, minimum=6.5),
    "zh": Sizes(title=9.0, subtitle=7.5, base=7.5, small=7.0, minimum=7.0),
}


def sizes(lang: str) -> Sizes:
    return SIZES[lang]


def rc(lang: str) -> dict[str, Any]:
    """matplotlib rcParams of the house style for ``lang``."""
    s = sizes(lang)
    return {
        "font.family": fonts.families(lang),
        "font.size": s.base,
        "axes.titlesize": s.base,
        "axes.titleweight": "normal",
        "axes.labelsize": s.base,
        "axes.labelcolor": TEXT,
        "axes.edgecolor": "#444444",
        "axes.linewidth": 0.6,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": False,
        "axes.unicode_minus": True,
        "axes.axisbelow": True,
        "axes.formatter.use_mathtext": False,
        "xtick.labelsize": s.small,
        "ytick.labelsize": s.small,
        "xtick.major.width": 0.6,
        "ytick.major.width": 0.6,
        "xtick.major.size": 2.5,
        "ytick.major.size": 2.5,
        "xtick.color": "#444444",
        "ytick.color": "#444444",
        "legend.fontsize": s.small,
        "legend.frameon": False,
        "legend.handlelength": 1.6,
        "lines.linewidth": 1.2,
        "lines.markersize": 4.0,
        "grid.color": GRID_COLOUR,
        "grid.linewidth": 0.5,
        "figure.facecolor": "white",
        "savefig.dpi": DPI,
        "svg.fonttype": "path",
        "svg.hashsalt": "simulate-chart",  # stable ids in SVG files
        "pdf.fonttype": 3,  # (text is drawn as outlines: see shared_text)
        "pdf.compression": 3,  # zlib level: files a few per cent larger, written faster
        "figure.dpi": 100,
    }


@contextmanager
def house_style(lang: str) -> Iterator[None]:
    """rcParams of the house style, and text shaped once (:mod:`.shared_text`), while a chart is made
    and saved (left as they were after)."""
    from simulation.reporting.charts.shared_text import shared_text

    if lang not in LANGS:
        raise ValueError(f"language must be one of {', '.join(LANGS)}; got {lang!r}")
    with matplotlib.rc_context(rc(lang)), shared_text():
        yield


def tr(lang: str, en: str, zh: str) -> str:
    """The English or Chinese text."""
    return zh if lang == "zh" else en
