"""Putting text on a chart: the frame every chart shares, line breaks, and labels that do not collide.

Every chart ends with :func:`finish`: a title that states the finding, a grey subtitle that
begins with the scenario's name and says what is shown, and one short source line (model,
replicates, root seed, run date). Text is measured once per string and size
(:func:`text_width` is cached), and titles break between phrases, never inside a word or a
Chinese term (:func:`wrap`).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import matplotlib

from simulation.reporting import labels
from simulation.reporting.charts.style import CM, DPI, MUTED, WIDTHS, bold, sizes, tr

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from simulation.reporting.results_folder import ResultsFolder


def new_figure(width: str = "single", height_cm: float = 6.0, **subplots: Any) -> tuple[Figure, Any]:
    """A figure of the house width (``single`` or ``double`` column) with its axes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTHS[width], height_cm * CM))  # not through pyplot: nothing to close
    FigureCanvasAgg(fig)
    axes = fig.subplots(**subplots)
    return fig, axes


# --- measuring and breaking text ------------------------------------------------------------


@lru_cache(maxsize=8192)
def _width(text: str, size: float, weight: str, family: tuple[str, ...]) -> float:
    from matplotlib.font_manager import FontProperties

    from simulation.reporting.charts.shared_text import metrics

    return float(metrics(text, FontProperties(family=list(family), size=size, weight=weight))[0])


def text_width(text: str, size: float, weight: str = "normal") -> float:
    """Width of ``text`` in points, set in the current font family at ``size`` (as the charts draw it)."""
    return _width(text, size, weight, tuple(matplotlib.rcParams["font.family"]))


_CJK = "\u2e80-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef"
_BREAK_AFTER = "，。；：、！？）」』】》"
_BREAK_BEFORE = "（「『【《"
#: Tokens: a CJK phrase up to and including its punctuation, a run of other text up to a space, or spaces.
_TOKEN = re.compile(rf"[（「『【《]?[{_CJK}]+?(?:[{_BREAK_AFTER}]+|(?=[（「『【《 ]|[^{_CJK}])|\Z)|[^ {_CJK}]+| +")
#: Tokens for body text: one CJK character with any punctuation after it (and an opening bracket before).
_CHAR_TOKEN = re.compile(rf"[（「『【《]?[{_CJK}][{_BREAK_AFTER}]*|[^ {_CJK}]+[{_BREAK_AFTER}]*| +")


def _split_long(token: str, size: float, width_pt: float, weight: str) -> list[str]:
    """A token wider than a line, cut between characters (only CJK phrases are ever this long)."""
    parts, line, used = [], "", 0.0
    for ch in token:
        w = text_width(ch, size, weight)
        if line and used + w > width_pt:
            parts.append(line)
            line, used = ch, w
        else:
            line, used = line + ch, used + w
    return [*parts, line]


_JOINERS = "/·"  # in units ('%/年', '个/百家企业·年'): never at either end of a line
_NO_START = set(_BREAK_AFTER + ",.;:!?)%" + _JOINERS)  # never at the start of a line
_NO_END = set(_BREAK_BEFORE + "(" + _JOINERS + "\u00a0")  # never at the end of one


def _glued(tokens: list[str]) -> list[str]:
    """Tokens with closing punctuation glued to what precedes it and opening brackets to what follows."""
    out: list[str] = []
    for token in tokens:
        if out and not out[-1].isspace() and not token.isspace() and (token[0] in _NO_START or out[-1][-1] in _NO_END):
            out[-1] += token
        else:
            out.append(token)
    return out


def wrap(text: str, size: float, width_pt: float, weight: str = "normal", phrases: bool = False) -> str:
    """Break ``text`` into lines no wider than ``width_pt``: between words, and in Chinese between
    characters, or (``phrases``, for titles) only between phrases, so no term is split.

    A no-break space (U+00A0) keeps its neighbours together: "P = 0.62", "10 %" never break;
    punctuation never starts a line. Widths are summed token by token (each measured once).
    """
    lines: list[str] = []
    text = re.sub(r"(?<=\S) ?= ?(?=\S)", lambda m: m.group(0).replace(" ", "\u00a0"), text)  # "P = 0.62"
    text = re.sub(rf"(?<=\d) (?=%|pp\b|[{_CJK}])", "\u00a0", text)  # "10 %", "1.2 pp", "1.22 个/百家企业·年"
    pattern = _TOKEN if phrases else _CHAR_TOKEN
    for paragraph in text.split("\n"):
        line, used, spaces = "", 0.0, 0.0  # the line, its width without trailing spaces, their width
        for token in _glued(pattern.findall(paragraph)):
            w = text_width(token, size, weight)
            if token.isspace():
                if line:
                    line, spaces = line + token, spaces + w
                continue
            if used + spaces + w <= width_pt or (not line and w <= width_pt):
                line, used, spaces = line + token, used + spaces + w, 0.0
                continue
            if line:
                lines.append(line.rstrip())
            if w > width_pt:  # a phrase wider than a line: cut it between characters
                *full, token = _split_long(token, size, width_pt, weight)
                lines.extend(full)
                w = text_width(token, size, weight)
            line, used, spaces = token, w, 0.0
        lines.append(line.rstrip())
    return "\n".join(lines)


# --- labels at line ends --------------------------------------------------------------------


def end_labels(ax: Any, x: float, items: list[tuple[float, str, str, bool]], size: float) -> None:
    """Labels at the right end of lines, ``(y, text, colour, emphasised)``, pushed apart so they never touch.

    Call after :func:`finish` (the layout, and so the axes' height in points, is then fixed)
    and leave room for the labels inside the axes (x limits beyond the last point).
    """
    if not items:
        return
    y0, y1 = ax.get_ylim()
    height_pt = ax.get_position().height * ax.figure.get_size_inches()[1] * 72
    per_pt = (y1 - y0) / max(height_pt, 1.0)
    need = size * 1.3 * per_pt
    order = sorted(range(len(items)), key=lambda i: items[i][0])
    placed = [items[i][0] for i in order]
    for _ in range(50):  # spread apart symmetrically until no pair is closer than `need`
        moved = False
        for j in range(1, len(placed)):
            gap = placed[j] - placed[j - 1]
            if gap < need - 1e-12:
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


# --- the frame: title, subtitle, source -----------------------------------------------------


def scenario_tag(names: list[str], lang: str) -> str:
    """'Baseline scenario' / '基准情景'; two names: 'Baseline vs No policy' / '基准情景与无政策对比'."""

    def one(name: str) -> str:
        text = labels.scenario(name, lang)
        if lang == "zh":
            return text if text.endswith("情景") else text + "情景"
        return text + " scenario"

    if len(names) == 1:
        return one(names[0])
    shown = [labels.scenario(n, lang) for n in names]
    if len(names) == 2:
        return tr(lang, f"{shown[0]} vs {shown[1]}", f"{shown[0]}与{shown[1]}对比")
    return tr(lang, "Scenarios " + ", ".join(shown), "情景：" + "、".join(shown))


def source_line(results: ResultsFolder | list[ResultsFolder] | None, lang: str, paired: bool = False) -> str:
    """'Source: Dongguan industrial-cluster model; 400 replicates, root seed 20210118, run 2026-12-01.'

    One line: several runs with the same replicates, seed and date are stated once.
    """
    if results is None:
        return source_of([], lang)
    many = results if isinstance(results, list) else [results]
    return source_of(list(dict.fromkeys(_facts(r, lang, paired) for r in many)), lang)


def source_of(facts: list[str], lang: str) -> str:
    """The source line from facts about the runs ('400 model runs, root seed 20210118, run 2026-12-01'),
    for charts made from a sweep or an optimisation rather than a results folder."""
    head = tr(lang, "Source: Dongguan industrial-cluster model", "来源：东莞产业集群模型")
    sep = tr(lang, "; ", "；")
    return head + "".join(sep + f for f in facts if f) + tr(lang, ".", "。")


def run_facts(lang: str, runs: str, seed: int | None = None, date: str = "") -> str:
    """'<runs>, root seed 20210118, run 2026-12-01' (seed and date only when known)."""
    parts = [runs]
    if seed is not None:
        parts.append(tr(lang, f"root seed {seed}", f"随机种子 {seed}"))
    if date:
        parts.append(tr(lang, f"run {date}", f"运行于 {date}"))
    return tr(lang, ", ", "，").join(parts)


def _facts(r: ResultsFolder, lang: str, paired: bool) -> str:
    """'400 model runs, root seed 20210118, run 2026-12-01' (a sweep: its design points times runs)."""
    n = r.replicates
    points = r.manifest.get("design", {}).get("points") if isinstance(r.manifest.get("design"), dict) else None
    if points:
        runs = tr(lang, f"{points} design points × {n} model run{'s' if n != 1 else ''}", f"{points} 个设计点 × {n} 次模拟")
    else:
        runs = tr(lang, f"{n}{' paired' if paired else ''} model run{'s' if n != 1 else ''}",
                  f"{n} 次{'配对' if paired else ''}模拟")
    return run_facts(lang, runs, r.root_seed, r.date)


def _legend_width(widths: list[float], ncol: int) -> float:
    """The width of a legend's entries in ``ncol`` columns, filled as matplotlib fills them: down
    each column, the first columns one entry longer when the entries do not divide evenly."""
    rows, long = divmod(len(widths), ncol)
    total, start = 0.0, 0
    for j in range(ncol):
        n = rows + (1 if j < long else 0)
        total += max(widths[start : start + n], default=0.0)
        start += n
    return total


def finish(fig: Figure, title: str, subtitle: str, source: str, lang: str, legend: tuple | None = None) -> Figure:
    """Add the title, subtitle, source line and a figure legend, and lay the axes out between them.

    The figure's height as made is the height of its body (axes, ticks, axis labels); the
    frame is added above and below it, so a long Chinese title never squeezes the plot. The
    layout is computed here, once, and then fixed: add nothing but :func:`end_labels` after.
    ``legend`` is ``(handles, labels, ncol)`` for a legend centred above the source line.
    """
    s = sizes(lang)
    width_in, body_in = fig.get_size_inches()
    margin = 0.06  # inches
    usable = (width_in - 2 * margin) * 72 * 0.97  # measured widths can fall a little short of drawn ones
    title = wrap(title, s.title, usable, phrases=True)
    subtitle = wrap(subtitle, s.subtitle, usable) if subtitle else ""
    source = wrap(source, s.small, usable)
    line = 1.22
    top = margin + title.count("\n") * s.title * line / 72 + s.title / 72
    title_top = margin
    subtitle_top = None
    if subtitle:
        subtitle_top = top + 0.05
        top = subtitle_top + (subtitle.count("\n") + 1) * s.subtitle * line / 72
    bottom = margin + (source.count("\n") + 1) * s.small * line / 72
    legend_y = bottom + 0.04
    if legend is not None:
        handles, names, ncol = legend
        em = s.small
        widths = [text_width(n, s.small) + (1.6 + 0.4) * em for n in names]
        while ncol > 1 and _legend_width(widths, ncol) + (ncol - 1) * 1.5 * em > usable:
            ncol -= 1  # fewer columns until the legend fits the width
        legend = (handles, names, ncol)
        rows = -(-len(names) // ncol)
        bottom += 0.06 + rows * s.small * 1.85 / 72
    pad = 0.05
    height_in = body_in + top + bottom + 2 * pad
    fig.set_size_inches(width_in, height_in)
    fig.text(margin / width_in, 1 - title_top / height_in, title, ha="left", va="top", fontsize=s.title,
             color="#111111", gid="title", linespacing=line, path_effects=bold("#111111"))
    if subtitle:
        fig.text(margin / width_in, 1 - subtitle_top / height_in, subtitle, ha="left", va="top",
                 fontsize=s.subtitle, color=MUTED, gid="subtitle", linespacing=line)
    fig.text(margin / width_in, margin / height_in, source, ha="left", va="bottom",
             fontsize=s.small, color=MUTED, gid="source", linespacing=line)
    if legend is not None:
        handles, names, ncol = legend
        fig.legend(handles, names, loc="lower center", ncol=ncol, fontsize=s.small, frameon=False,
                   bbox_to_anchor=(0.5, legend_y / height_in), bbox_transform=fig.transFigure,
                   borderaxespad=0.0, borderpad=0.0, handletextpad=0.4, columnspacing=1.5)
    rect = (0.0, (bottom + pad) / height_in, 1.0, body_in / height_in)
    fig.set_layout_engine("constrained", rect=rect, w_pad=0.02, h_pad=0.02, wspace=0.04, hspace=0.04)
    fig.set_dpi(DPI)  # measured at the PNG's resolution, the PNG's drawing reuses the measurements
    fig.get_layout_engine().execute(fig)  # lay out once, here: saving in three formats does not redo it
    fig.set_layout_engine(None)  # no engine at all ("none" keeps a placeholder that makes savefig draw twice)
    assert fig.get_layout_engine() is None, "rcParams figure.autolayout / constrained_layout.use must be off"
    return fig
