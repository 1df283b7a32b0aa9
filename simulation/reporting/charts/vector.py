"""SVG and PDF with text shaped once per process, not once per text, figure and format.

Text is most of what it costs to draw a chart: matplotlib shapes every string (HarfBuzz, and a
CFF glyph load per character of the large CJK font) each time a renderer measures it and
again each time it draws it, in every format. Within :func:`shared_text`, the SVG and PDF
renderers measure text from one process-wide table (the measurements of the same string in
the same font are the same in both formats and in every figure), and the PDF renderer draws
text as filled glyph outlines from one process-wide table of text paths, as the SVG files
already do (``svg.fonttype = "path"``). Both formats then look the same everywhere and need
no font to view; PDF text is outlines, not selectable text. Math text (``$...$``) is left to
matplotlib.

The renderers are matplotlib's own, subclassed; :func:`shared_text` puts the subclasses in
place of matplotlib's while a chart is saved (``savefig`` looks the renderer class up by name
in its backend module) and restores them afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from matplotlib.backends import backend_pdf, backend_svg
from matplotlib.path import Path
from matplotlib.textpath import text_to_path
from matplotlib.transforms import Affine2D

_METRICS: dict[tuple[str, Any], tuple[float, float, float]] = {}
_PATHS: dict[tuple[str, Any], Path] = {}


def metrics(s: str, prop: Any) -> tuple[float, float, float]:
    """Width, height and descent of ``s`` in points (what SVG's renderer measures), cached."""
    key = (s, prop)
    if key not in _METRICS:
        _METRICS[key] = text_to_path.get_text_width_height_descent(s, prop, False)
    return _METRICS[key]


def text_path(s: str, prop: Any) -> Path:
    """The glyph outlines of ``s`` in font units (``text_to_path.FONT_SCALE``), cached."""
    key = (s, prop)
    if key not in _PATHS:
        verts, codes = text_to_path.get_text_path(prop, s)
        _PATHS[key] = Path(verts, codes)
    return _PATHS[key]


class _SharedMetrics:
    def get_text_width_height_descent(self, s, prop, ismath):  # noqa: ANN001, ANN201 (matplotlib's signature)
        if ismath:
            return super().get_text_width_height_descent(s, prop, ismath)
        return metrics(s, prop)


class SharedTextSVG(_SharedMetrics, backend_svg.RendererSVG):
    """matplotlib's SVG renderer, measuring text from the shared table."""


class SharedTextPdf(_SharedMetrics, backend_pdf.RendererPdf):
    """matplotlib's PDF renderer, measuring from the shared table and drawing text as outlines."""

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):  # noqa: ANN001, ANN201
        if ismath:
            return super().draw_text(gc, x, y, s, prop, angle, ismath, mtext)
        scale = self.points_to_pixels(prop.get_size_in_points()) / text_to_path.FONT_SCALE
        transform = Affine2D().scale(scale).rotate_deg(angle).translate(x, y)
        gc.set_linewidth(0.0)
        self.draw_path(gc, text_path(s, prop), transform, rgbFace=gc.get_rgb())
        return None


@contextmanager
def shared_text() -> Iterator[None]:
    """Save SVG and PDF with the shared-text renderers (matplotlib's own again afterwards)."""
    svg, pdf = backend_svg.RendererSVG, backend_pdf.RendererPdf
    backend_svg.RendererSVG, backend_pdf.RendererPdf = SharedTextSVG, SharedTextPdf
    try:
        yield
    finally:
        backend_svg.RendererSVG, backend_pdf.RendererPdf = svg, pdf
