"""Writing charts to files, fast: one layout per figure, three formats from it, in parallel.

Each figure is laid out once (:func:`simulation.reporting.charts.layout.finish` fixes the
layout), drawn once on the Agg canvas at 300 dpi for the PNG (written from the canvas buffer
by Pillow, not drawn again), then drawn as SVG and PDF; every string is shaped once per
process, whatever the figure and format (:mod:`.shared_text`, active in the house style). The fonts are registered and the data
read once, in the parent process (:meth:`Inputs.prefetch`); where there is more than one CPU,
the charts are made in forked worker processes that inherit both, one task per (chart kind,
language), the heaviest first.

Every writing leaves ``index.json`` beside the files: per chart and language its title,
caption and files, and a fingerprint of what the charts were made from (the results files and
the chart code). :func:`reuse` gives them back while the fingerprint still matches, which is
how ``simulate report`` uses the charts ``simulate chart`` already wrote.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulation.reporting.charts import CHART_KINDS, Inputs, NotApplicable, maker
from simulation.reporting.charts.style import DPI, FORMATS, LANGS, house_style

if TYPE_CHECKING:
    from matplotlib.figure import Figure

INDEX = "index.json"
#: Relative cost of each kind of chart (figures x detail): the heaviest are started first.
COST = {"fan": 8, "towns": 5, "paired_differences": 2, "scenario_comparison": 2, "tornado": 2, "lever_response": 2}


@dataclass
class Written:
    """What :func:`write_charts` wrote: files per (chart, language), titles, and skipped charts."""

    files: dict[tuple[str, str], list[Path]] = field(default_factory=dict)
    titles: dict[tuple[str, str], str] = field(default_factory=dict)
    captions: dict[tuple[str, str], str] = field(default_factory=dict)
    svg: dict[tuple[str, str], str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)  # chart name -> chart kind

    @property
    def names(self) -> list[str]:
        return list(dict.fromkeys(name for name, _ in self.files))


# --- one figure -----------------------------------------------------------------------------


def render(fig: Figure, stem: Path, formats: Iterable[str] = FORMATS, svg_text: bool = False) -> tuple[list[Path], str]:
    """Write ``stem.png`` (300 dpi), ``stem.svg`` and ``stem.pdf`` (those in ``formats``) from one layout.

    Call inside :func:`simulation.reporting.charts.style.house_style`, as the figure was made.

    Returns the files and, if ``svg_text``, the SVG document (made once, for files and reports alike).
    """
    formats = list(formats)
    stem.parent.mkdir(parents=True, exist_ok=True)
    written, svg = [], ""
    if "png" in formats:
        from PIL import Image

        fig.set_dpi(DPI)
        fig.canvas.draw()
        width, height = fig.canvas.get_width_height(physical=True)
        image = Image.frombuffer("RGBA", (width, height), fig.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        path = stem.with_name(f"{stem.name}.png")
        image.convert("RGB").save(path, format="png", dpi=(DPI, DPI), compress_level=1)
        written.append(path)
    if "svg" in formats or svg_text:
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", dpi=DPI, metadata={"Date": None, "Creator": None}, facecolor="white")
        svg = buffer.getvalue()
        if "svg" in formats:
            path = stem.with_name(f"{stem.name}.svg")
            path.write_text(svg, encoding="utf-8")
            written.append(path)
    if "pdf" in formats:
        path = stem.with_name(f"{stem.name}.pdf")
        fig.savefig(path, format="pdf", dpi=DPI, facecolor="white",
                    metadata={"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None})
        written.append(path)
    order = {f: i for i, f in enumerate(formats)}
    return sorted(written, key=lambda p: order.get(p.suffix[1:], 99)), svg


# --- many figures, maybe in parallel --------------------------------------------------------

_JOB: dict[str, Any] = {}  # what forked workers inherit: the inputs and where to write


def _task(task: tuple[str, str]) -> tuple[str, str, list[dict[str, Any]], str | None]:
    """Make and write the charts of one kind in one language (in a worker or in-process)."""
    kind, lang = task
    inputs: Inputs = _JOB["inputs"]
    out: Path = _JOB["out"]
    results = []
    with house_style(lang):
        try:
            charts = maker(kind)(inputs, lang)
        except NotApplicable as exc:
            return kind, lang, [], str(exc)
        for chart in charts:
            files, svg = render(chart.figure, out / lang / chart.name, _JOB["formats"], _JOB["keep_svg"])
            results.append({"name": chart.name, "title": chart.title, "caption": chart.caption,
                            "files": [str(p) for p in files], "svg": svg})
    return kind, lang, results, None


def warm_up(langs: Iterable[str]) -> None:
    """Everything each chart would otherwise load for itself, loaded once before any fork: the
    drawing backends, and the fonts (registered, opened and measured once per language)."""
    import matplotlib.figure  # noqa: F401
    from matplotlib.backends import backend_agg, backend_pdf, backend_svg  # noqa: F401
    from matplotlib.font_manager import FontProperties

    from simulation.reporting.charts import fonts
    from simulation.reporting.charts.shared_text import metrics

    for lang in langs:
        family = fonts.families(lang)  # registers the CJK font (and fails early without it)
        metrics("0123456789", FontProperties(family=family, size=7))


def cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


STALL = 180  # seconds without a finished chart before the workers are given up for the in-process path


def _worker_signals() -> None:
    """A forked worker inherits the parent's handlers, which may hold SIGTERM back while results are
    written (:class:`simulation.experiments.interrupts.deferred`); the pool stops its workers with
    SIGTERM, so a worker must die of it, and leave Ctrl-C to the parent."""
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _in_forked_workers(tasks: list[tuple[str, str]], n: int) -> list:
    """The tasks in ``n`` forked workers; any a worker has not finished within STALL seconds (a stuck
    worker: a native library's lock copied mid-use by the fork) are drawn in-process instead."""
    import multiprocessing

    done: dict[tuple[str, str], tuple] = {}
    pool = multiprocessing.get_context("fork").Pool(n, initializer=_worker_signals)
    try:
        results = pool.imap_unordered(_task, tasks, chunksize=1)
        for _ in tasks:
            kind, lang, *rest = results.next(timeout=STALL)
            done[(kind, lang)] = (kind, lang, *rest)
        pool.close()  # workers leave on their own; terminate() only when something went wrong
    except multiprocessing.TimeoutError:
        pool.terminate()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()
    return [done.get(t) or _task(t) for t in tasks]


def write_charts(
    inputs: Inputs,
    out: str | Path,
    langs: Iterable[str] = LANGS,
    formats: Iterable[str] = FORMATS,
    only: Iterable[str] | None = None,
    keep_svg: bool = False,
    workers: int | None = None,
) -> Written:
    """Make and save every applicable chart: ``out/<lang>/<name>.<format>``, and ``out/index.json``.

    ``keep_svg`` also returns each chart's SVG text (for reports that inline it). ``workers``
    defaults to the CPUs available: forked processes, on Linux, from a process with no other
    threads (a notebook's or a web server's threads make it run in-process); 1 runs in-process.
    """
    out = Path(out)
    langs = list(langs)
    wanted = [k for k in CHART_KINDS if only is None or k in set(only)]
    tasks = sorted(((k, lang) for k in wanted for lang in langs), key=lambda t: -COST.get(t[0], 1))
    warm_up(langs)
    inputs.prefetch()
    _JOB.update(inputs=inputs, out=out, formats=list(formats), keep_svg=keep_svg)
    n = min(workers if workers is not None else cpus(), len(tasks))
    try:
        # fork only without other Python threads (a copy of their locks could deadlock the child); the native
        # pools numpy and Arrow start (OpenBLAS, Arrow, jemalloc) register at-fork handlers
        if n > 1 and sys.platform.startswith("linux") and threading.active_count() == 1:
            done = _in_forked_workers(tasks, n)
        else:
            done = [_task(t) for t in tasks]
    finally:
        _JOB.clear()
    written = Written()
    by_task = {(kind, lang): (results, why) for kind, lang, results, why in done}
    for kind in wanted:  # charts in the registry's order, whatever order the workers finished in
        for lang in langs:
            results, why = by_task[(kind, lang)]
            if why is not None:
                written.skipped[kind] = why
            for r in results:
                key = (r["name"], lang)
                written.files[key] = [Path(p) for p in r["files"]]
                written.titles[key], written.captions[key] = r["title"], r["caption"]
                written.kinds[r["name"]] = kind
                if keep_svg:
                    written.svg[key] = r["svg"]
    if written.files:
        _write_index(out, written, fingerprint(inputs))
    return written


# --- reuse ----------------------------------------------------------------------------------


def code_version() -> str:
    """A hash of the chart code, the label table and the wording rules: charts made by other code differ."""
    from importlib import resources

    digest = hashlib.sha256()
    package = resources.files("simulation.reporting")
    for name in ("labels.py", "labels.toml", "wording.py", "results_folder.py"):
        digest.update(package.joinpath(name).read_bytes())
    for item in sorted(package.joinpath("charts").iterdir(), key=lambda p: p.name):
        if item.name.endswith(".py"):
            digest.update(item.read_bytes())
    return digest.hexdigest()


def fingerprint(inputs: Inputs) -> str:
    """What the charts were made from: every input file's bytes, the focus run, and the code."""
    digest = hashlib.sha256(code_version().encode())
    for r in inputs.runs:
        for name in ("manifest.json", "summary.json"):
            if r.has(name):
                digest.update((r.path / name).read_bytes())
    if inputs.comparison is not None:
        digest.update((inputs.comparison.path / "comparison.json").read_bytes())
    for table in (inputs.sensitivity, inputs.response):
        if table is not None:
            digest.update(table.to_csv(index=False).encode())
    focus = inputs.focus
    digest.update(str(focus.path.resolve() if focus is not None else "").encode())
    return digest.hexdigest()


def _write_index(out: Path, written: Written, stamp: str) -> None:
    index_path = out / INDEX
    charts: dict[str, Any] = {}
    if index_path.is_file():  # keep what another writing left here with the same inputs
        try:
            old = json.loads(index_path.read_text(encoding="utf-8"))
            if old.get("fingerprint") == stamp:
                charts = old.get("charts", {})
        except (json.JSONDecodeError, OSError):
            charts = {}
    for (name, lang), files in written.files.items():
        charts.setdefault(name, {"kind": written.kinds.get(name, "")})[lang] = {
            "title": written.titles[(name, lang)], "caption": written.captions[(name, lang)],
            "files": [p.relative_to(out).as_posix() for p in files],
        }
    data = {"fingerprint": stamp, "charts": charts, "skipped": written.skipped}
    index_path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def reuse(inputs: Inputs, folder: Path, langs: Iterable[str], kinds: Iterable[str], need: Iterable[str] = ("svg",)) -> Written | None:
    """The charts already written in ``folder`` for these inputs, or None if any is missing or stale.

    Every chart of ``kinds`` that applies must be there in every language of ``langs``, with
    the formats in ``need``, made from the same inputs by the same code.
    """
    index_path = folder / INDEX
    if not index_path.is_file():
        return None
    try:
        data = json.loads(index_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, OSError):
        return None
    if data.get("fingerprint") != fingerprint(inputs):
        return None
    kinds = set(kinds)
    written = Written(skipped={k: v for k, v in data.get("skipped", {}).items() if k in kinds})
    found = {entry.get("kind") for entry in data["charts"].values()}
    if not kinds <= found | set(written.skipped):
        return None
    for name, entry in data["charts"].items():
        if entry.get("kind") not in kinds:
            continue
        for lang in langs:
            if lang not in entry:
                return None
            files = [folder / f for f in entry[lang]["files"]]
            if not all(p.is_file() for p in files) or not all(any(p.suffix == f".{f}" for p in files) for f in need):
                return None
            key = (name, lang)
            written.files[key] = files
            written.titles[key], written.captions[key] = entry[lang]["title"], entry[lang]["caption"]
            written.kinds[name] = entry["kind"]
            svg = [p for p in files if p.suffix == ".svg"]
            if svg:
                written.svg[key] = svg[0].read_text(encoding="utf-8")
    return written
