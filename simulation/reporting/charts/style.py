"""The house style of every chart: palette, sizes, type, titles, the source line, and saving.

* Colours: the Okabe-Ito palette (safe for the common colour-vision deficiencies). Pillar
  clusters are always blue, emerging clusters always vermillion, city industry black, other
  industry grey; scenarios, which cut across clusters, get the remaining Okabe-Ito colours
  plus a marker shape each, so they are told apart without colour too.
* Sizes: single A4 column 8.5 cm and double column 17.5 cm wide; 7 pt text, 8 pt title.
  The CJK font has one weight (regular), so emphasis is a thin outline in the text colour
  (:func:`bold`), which looks bold in PNG, SVG and PDF alike.
* Every chart has a title that states its finding (computed from the numbers), a grey
  subtitle saying what is shown, and a source line with the scenario, root seed, replicates
  and run date from manifest.json.
* Figures are made with ``matplotlib.figure.Figure`` and the Agg canvas, not pyplot: no
  window, no global figure registry, and rcParams are set only while a chart is made.
* Output: PNG at 300 dpi, SVG (text as paths: no font needed to view it) and PDF, with fixed
  metadata so the same results give the same files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib
from matplotlib.font_manager import FontProperties

from simulation.reporting.charts import fonts

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from simulation.reporting.results_folder import ResultsFolder

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
#: Scenario colours and markers, in order (not blue or vermillion: those mean pillar/emerging).
SCENARIO_STYLES = [
    (OKABE_ITO["black"], "o"),
    (OKABE_ITO["sky_blue"], "s"),
    (OKABE_ITO["orange"], "D"),
    (OKABE_ITO["bluish_green"], "^"),
    (OKABE_ITO["reddish_purple"], "v"),
    ("#7F7F7F", "P"),
    (OKABE_ITO["yellow"], "X"),
    (OKABE_ITO["black"], "s"),
    (OKABE_ITO["sky_blue"], "D"),
    (OKABE_ITO["orange"], "^"),
    (OKABE_ITO["bluish_green"], "v"),
    (OKABE_ITO["reddish_purple"], "o"),
]
TARGET_COLOUR = OKABE_ITO["black"]  # target lines: black, dashed
GRID_COLOUR = "#D9D9D9"
MUTED = "#595959"  # subtitles, source line, secondary labels


def bold(colour: str = "#111111", width: float = 0.35) -> list:
    """Path effects that embolden text (a stroke in its own colour): the CJK font has no bold."""
    from matplotlib import patheffects

    return [patheffects.Stroke(linewidth=width, foreground=colour), patheffects.Normal()]


def scenario_style(i: int) -> tuple[str, str]:
    return SCENARIO_STYLES[i % len(SCENARIO_STYLES)]


# --- sizes and type -------------------------------------------------------------------------

CM = 1 / 2.54
WIDTHS = {"single": 8.5 * CM, "double": 17.5 * CM}  # inches
BASE_SIZE = 7.0
TITLE_SIZE = 8.0
SUBTITLE_SIZE = 6.5
SOURCE_SIZE = 5.5
DPI = 300
FORMATS = ("png", "svg", "pdf")
LANGS = ("en", "zh")


def rc(lang: str) -> dict[str, Any]:
    """matplotlib rcParams of the house style for ``lang``."""
    return {
        "font.family": fonts.families(lang),
        "font.size": BASE_SIZE,
        "axes.titlesize": BASE_SIZE,
        "axes.titleweight": "normal",
        "axes.labelsize": BASE_SIZE,
        "axes.labelcolor": "#222222",
        "axes.edgecolor": "#444444",
        "axes.linewidth": 0.6,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": False,
        "axes.unicode_minus": True,
        "axes.axisbelow": True,
        "xtick.labelsize": BASE_SIZE - 0.5,
        "ytick.labelsize": BASE_SIZE - 0.5,
        "xtick.major.width": 0.6,
        "ytick.major.width": 0.6,
        "xtick.major.size": 2.5,
        "ytick.major.size": 2.5,
        "xtick.color": "#444444",
        "ytick.color": "#444444",
        "legend.fontsize": BASE_SIZE - 0.5,
        "legend.frameon": False,
        "legend.handlelength": 1.6,
        "lines.linewidth": 1.2,
        "lines.markersize": 4.0,
        "grid.color": GRID_COLOUR,
        "grid.linewidth": 0.5,
        "savefig.dpi": DPI,
        "svg.fonttype": "path",
        "svg.hashsalt": "simulate-chart",  # stable ids in SVG files
        "pdf.fonttype": 3,  # subset the (large, CFF) CJK font into the PDF
        "figure.dpi": 100,
    }


@contextmanager
def house_style(lang: str) -> Iterator[None]:
    """rcParams of the house style while a chart is made and saved (left as they were after)."""
    if lang not in LANGS:
        raise ValueError(f"language must be one of {', '.join(LANGS)}; got {lang!r}")
    with matplotlib.rc_context(rc(lang)):
        yield


def tr(lang: str, en: str, zh: str) -> str:
    """The English or Chinese text."""
    return zh if lang == "zh" else en


# --- numbers in text ------------------------------------------------------------------------


def pct(x: float, digits: int = 1, lang: str = "en") -> str:
    """A percentage or growth rate: '13.3 %' (en) or '13.3%' (zh)."""
    return f"{x:.{digits}f}{'%' if lang == 'zh' else ' %'}"


def minus(text: str) -> str:
    """A typographic minus sign in place of a hyphen before a digit."""
    return re.sub(r"(?<![\w.])-(?=\d)", "\u2212", text)


def signed(x: float, digits: int = 1) -> str:
    return minus(f"{x:+.{digits}f}")


# --- figures --------------------------------------------------------------------------------


def new_figure(width: str = "single", height_cm: float = 6.0, **subplots: Any) -> tuple[Figure, Any]:
    """A figure of the house width (``single`` or ``double`` column) with its axes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTHS[width], height_cm * CM))  # not through pyplot: nothing to close
    FigureCanvasAgg(fig)
    axes = fig.subplots(**subplots)
    return fig, axes


def _renderer() -> Any:
    from matplotlib.backends.backend_agg import RendererAgg

    return RendererAgg(10, 10, 72)  # 72 dpi: pixels are points


_CJK = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f"
# tokens: one CJK character, a run of other characters up to a space, or spaces (a no-break
# space, U+00A0, keeps its neighbours together: "P\u00a0=\u00a00.62" never breaks)
_NO_BREAK_BEFORE = set("，。：；、！？）」』】》,.:;!?)%")
_NO_BREAK_AFTER = set("（「『【《(")
_TOKEN = re.compile(rf"[{_CJK}]|[^ \t{_CJK}]+| +")


def text_width(text: str, size: float, weight: str = "normal") -> float:
    """Width of ``text`` in points, set in the current font at ``size``."""
    prop = FontProperties(size=size, weight=weight)
    width, _, _ = _renderer().get_text_width_height_descent(text, prop, ismath=False)
    return float(width)


def wrap(text: str, size: float, width_pt: float, weight: str = "normal") -> str:
    """Break ``text`` into lines no wider than ``width_pt`` (between words, or between CJK characters)."""
    lines: list[str] = []
    text = re.sub(r"(?<=\S) ?= ?(?=\S)", lambda m: m.group(0).replace(" ", "\u00a0"), text)  # "P = 0.62"
    text = re.sub(r"(?<=\d) (?=%|pp\b)", "\u00a0", text)  # "10 %", "1.2 pp"
    for paragraph in text.split("\n"):
        line = ""
        for token in _TOKEN.findall(paragraph):
            trial = line + token
            if token in _NO_BREAK_BEFORE or line[-1:] in _NO_BREAK_AFTER:  # keep punctuation with its text
                line = trial
                continue
            if line.strip() and text_width(trial.rstrip(), size, weight) > width_pt:
                lines.append(line.rstrip())
                line = token.lstrip()
            else:
                line = trial
        lines.append(line.rstrip())
    return "\n".join(lines)


def end_labels(ax: Any, x: float, items: list[tuple[float, str, str, bool]], size: float = 6.0,
               axes_height_pt: float | None = None) -> None:
    """Labels at the right end of lines, ``(y, text, colour, emphasised)``, pushed apart if they collide."""
    if not items:
        return
    y0, y1 = ax.get_ylim()
    if axes_height_pt is None:
        fig_h = ax.figure.get_size_inches()[1] * 72
        axes_height_pt = fig_h * ax.get_position().height * 0.75
    per_pt = (y1 - y0) / max(axes_height_pt, 1.0)
    need = size * 1.15 * per_pt
    order = sorted(range(len(items)), key=lambda i: items[i][0])
    placed = [items[i][0] for i in order]
    for _ in range(20):  # spread apart symmetrically until no pair is closer than `need`
        moved = False
        for j in range(1, len(placed)):
            gap = placed[j] - placed[j - 1]
            if gap < need:
                shift = (need - gap) / 2
                placed[j - 1] -= shift
                placed[j] += shift
                moved = True
        if not moved:
            break
    for i, y in zip(order, placed):
        value, text, colour, strong = items[i]
        ax.annotate(text, (x, value), xytext=(3, (y - value) / per_pt), textcoords="offset points", va="center",
                    ha="left", fontsize=size, color=colour, path_effects=bold(colour) if strong else None,
                    annotation_clip=False)


def nb(text: str) -> str:
    """Text that a title never breaks inside (spaces made no-break)."""
    return text.replace(" ", "\u00a0")


def finish(fig: Figure, title: str, subtitle: str, source: str, legend: tuple | None = None) -> Figure:
    """Add the title, subtitle, source line and a figure legend, and lay the axes out between them.

    ``legend`` is ``(handles, labels, ncol)`` for a legend centred above the source line.
    """
    width_in, height_in = fig.get_size_inches()
    margin = 0.06  # inches
    usable = (width_in - 2 * margin) * 72 * 0.96  # measured widths can fall a little short of drawn ones
    title = wrap(title, TITLE_SIZE, usable * 0.98)
    subtitle = wrap(subtitle, SUBTITLE_SIZE, usable) if subtitle else ""
    source = wrap(source, SOURCE_SIZE, usable)
    line = 1.22
    top = margin + title.count("\n") * TITLE_SIZE * line / 72 + TITLE_SIZE / 72
    fig.text(margin / width_in, 1 - margin / height_in, title, ha="left", va="top",
             fontsize=TITLE_SIZE, color="#111111", gid="title", linespacing=line,
             path_effects=bold("#111111"))
    if subtitle:
        y = top + 0.05
        fig.text(margin / width_in, 1 - y / height_in, subtitle, ha="left", va="top",
                 fontsize=SUBTITLE_SIZE, color=MUTED, gid="subtitle", linespacing=line)
        top = y + (subtitle.count("\n") + 1) * SUBTITLE_SIZE * line / 72
    bottom = margin + (source.count("\n") + 1) * SOURCE_SIZE * line / 72
    fig.text(margin / width_in, margin / height_in, source, ha="left", va="bottom",
             fontsize=SOURCE_SIZE, color=MUTED, gid="source", linespacing=line)
    if legend is not None:
        handles, labels, ncol = legend
        rows = -(-len(labels) // ncol)
        size = BASE_SIZE - 0.5
        fig.legend(handles, labels, loc="lower center", ncol=ncol, fontsize=size, frameon=False,
                   bbox_to_anchor=(0.5, (bottom + 0.03) / height_in), bbox_transform=fig.transFigure,
                   borderaxespad=0.0, borderpad=0.0, handletextpad=0.4, columnspacing=1.5)
        bottom += 0.05 + rows * size * 1.85 / 72
    pad = 0.04
    rect = (0.0, (bottom + pad) / height_in, 1.0, 1 - (top + bottom + 2 * pad) / height_in)
    fig.set_layout_engine("constrained", rect=rect, w_pad=0.02, h_pad=0.02, wspace=0.04, hspace=0.04)
    fig._house_title = title.replace("\n", " ")  # type: ignore[attr-defined]
    return fig


def save(fig: Figure, stem: Path, formats: Iterable[str] = FORMATS) -> list[Path]:
    """Write ``stem.png`` (300 dpi), ``stem.svg`` and ``stem.pdf`` (those in ``formats``)."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        path = stem.with_name(f"{stem.name}.{fmt}")
        metadata = {
            "png": {"Software": None},
            "svg": {"Date": None, "Creator": None},
            "pdf": {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None},
        }[fmt]
        fig.savefig(path, format=fmt, dpi=DPI, metadata=metadata, facecolor="white")
        written.append(path)
    return written


def source_line(results: ResultsFolder | list[ResultsFolder], lang: str, extra: str = "") -> str:
    """'Source: Dongguan cluster model; scenario baseline, seed 20210118, 400 replicates, run 2025-11-28.'"""
    many = results if isinstance(results, list) else [results]
    parts = []
    for r in many:
        name = scenario_label(r.scenario_name, lang)
        seed, n, date = r.root_seed, r.replicates, r.date
        if lang == "zh":
            parts.append(f"情景 {name}，随机种子 {seed}，{n} 次重复，运行于 {date}")
        else:
            parts.append(f"scenario {name}, seed {seed}, {n} replicates, run {date}")
    head = tr(lang, "Source: Dongguan industrial-cluster model; ", "来源：东莞产业集群模型；")
    sep = tr(lang, "; ", "；")
    end = tr(lang, ".", "。")
    return head + sep.join(parts) + (sep + extra if extra else "") + end


#: Chinese names of the shipped scenarios (others keep their file name).
SCENARIO_NAMES_ZH = {
    "baseline": "基准（政策如文）",
    "no_policy": "无政策",
    "demand_shock": "需求冲击",
    "land_squeeze": "用地紧缩",
    "only_agencies": "仅招商服务",
    "only_core_zones": "仅核心区",
    "only_funds": "仅产业基金",
    "only_land": "仅工改工用地",
    "only_subsidy": "仅研发补贴",
    "only_talent": "仅人才政策",
}
SCENARIO_NAMES_EN = {
    "baseline": "baseline (policy as written)",
    "no_policy": "no policy",
}


def scenario_label(name: str, lang: str, short: bool = False) -> str:
    if lang == "zh":
        return SCENARIO_NAMES_ZH.get(name, name)
    if short:
        return name.replace("_", " ")
    return SCENARIO_NAMES_EN.get(name, name.replace("_", " "))


def cluster_name(row: Any, lang: str) -> str:
    """A cluster's name (a summary row, or a dict with name_en / name_zh)."""
    return str(row["name_zh"] if lang == "zh" else row["name_en"])


#: Short English names for tight axes (the summary's names are long).
SHORT_EN = {
    "ngei": "Electronic information",
    "hem": "High-end equipment",
    "tex": "Textiles & apparel",
    "food": "Food & beverages",
    "soft": "Software & IT services",
    "mat": "New materials",
    "ene": "New energy",
    "bio": "Biomedicine",
    "semi": "Semiconductors & ICs",
    "other": "Other industry",
    "city": "City industry",
}
SHORT_ZH = {
    "bio": "生物医药",
    "city": "全市工业",
}


def short_name(cluster: str, row: Any, lang: str) -> str:
    if lang == "zh":
        return SHORT_ZH.get(cluster, str(row["name_zh"]))
    return SHORT_EN.get(cluster, str(row["name_en"]))


def likelihood(p: float, lang: str) -> str:
    """Calibrated words for a probability (the IPCC's scale): 'very likely', '很可能', ..."""
    scale = [
        (0.99, "virtually certain", "几乎确定"),
        (0.90, "very likely", "很可能"),
        (0.66, "likely", "可能"),
        (0.33, "about as likely as not", "可能性约一半"),
        (0.10, "unlikely", "不太可能"),
        (0.01, "very unlikely", "很不可能"),
        (-1.0, "exceptionally unlikely", "几乎不可能"),
    ]
    for threshold, en, zh in scale:
        if p >= threshold:
            return tr(lang, en, zh)
    return tr(lang, scale[-1][1], scale[-1][2])
