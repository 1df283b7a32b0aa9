"""Text shaped once per process, not once per text, figure and format.

Text is most of what it costs to draw a chart: matplotlib shapes every string (HarfBuzz, and a
CFF glyph load per character of the large CJK font) each time a renderer measures it and
again each time it draws it, in every format. Within :func:`shared_text`, the Agg (PNG), SVG
and PDF renderers measure every string from one process-wide table of measurements in points,
and draw it as filled glyph outlines from one process-wide table of text paths: a string that
appears in ten charts, three formats and two layout passes is shaped twice in all. SVG files
already held text as outlines (``svg.fonttype = "path"``); PDF text is now outlines too (it
looks the same everywhere and needs no font, but is not selectable), and PNG text is the same
outlines filled at 300 dpi. Math text (``$...$``) is left to matplotlib.

The renderers (and the path-effect renderer that draws the house style's bold) are
matplotlib's own, subclassed; :func:`shared_text` puts the subclasses in place of matplotlib's
while a chart is laid out and saved (matplotlib looks these classes up by name in their
modules when it draws) and restores them afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from matplotlib import patheffects
from matplotlib.backends import backend_agg, backend_pdf, backend_svg
from matplotlib.path import Path
from matplotlib.textpath import text_to_path
from matplotlib.transforms import Affine2D

_METRICS: dict[tuple[str, Any], tuple[float, float, float]] = {}
_PATHS: dict[tuple[str, Any], Path] = {}


def metrics(s: str, prop: Any) -> tuple[float, float, float]:
    """Width, height and descent of ``s`` in points (unhinted outlines), cached."""
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


class _SharedText:
    """Measure from, and draw outlines of, the shared tables (a mixin for matplotlib's renderers)."""

    def get_text_width_height_descent(self, s, prop, ismath):  # noqa: ANN001, ANN201 (matplotlib's signature)
        if ismath:
            return super().get_text_width_height_descent(s, prop, ismath)
        scale = self.points_to_pixels(1.0)
        return tuple(v * scale for v in metrics(s, prop))

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):  # noqa: ANN001, ANN201
        if ismath:
            return super().draw_text(gc, x, y, s, prop, angle, ismath, mtext)
        return _draw_outline(self, gc, x, y, s, prop, angle)


def _draw_outline(renderer, gc, x, y, s, prop, angle) -> None:  # noqa: ANN001
    """Fill the shared outline of ``s`` at (x, y) (what matplotlib's ``_draw_text_as_path`` does, cached)."""
    if renderer.flipy():
        y = renderer.get_canvas_width_height()[1] - y
    scale = renderer.points_to_pixels(prop.get_size_in_points()) / text_to_path.FONT_SCALE
    transform = Affine2D().scale(scale).rotate_deg(angle).translate(x, y)
    gc.set_linewidth(0.0)
    renderer.draw_path(gc, text_path(s, prop), transform, rgbFace=gc.get_rgb())


class SharedTextPathEffects(patheffects.PathEffectRenderer):
    """Text with path effects (the house style's bold) drawn from the shared outlines too."""

    def _draw_text_as_path(self, gc, x, y, s, prop, angle, ismath, mtext=None):  # noqa: ANN001, ANN202
        if ismath:
            return super()._draw_text_as_path(gc, x, y, s, prop, angle, ismath, mtext)
        return _draw_outline(self, gc, x, y, s, prop, angle)


class SharedTextAgg(_SharedText, backend_agg.RendererAgg):
    """matplotlib's Agg renderer with shared text."""


class SharedTextSVG(_SharedText, backend_svg.RendererSVG):
    """matplotlib's SVG renderer with shared text."""


class SharedTextPdf(_SharedText, backend_pdf.RendererPdf):
    """matplotlib's PDF renderer with shared text."""


@contextmanager
def shared_text() -> Iterator[None]:
    """Lay out and save charts with the shared-text renderers (matplotlib's own again afterwards)."""
    saved = backend_agg.RendererAgg, backend_svg.RendererSVG, backend_pdf.RendererPdf, patheffects.PathEffectRenderer
    (backend_agg.RendererAgg, backend_svg.RendererSVG, backend_pdf.RendererPdf,
     patheffects.PathEffectRenderer) = SharedTextAgg, SharedTextSVG, SharedTextPdf, SharedTextPathEffects
    try:
        yield
    finally:
        backend_agg.RendererAgg, backend_svg.RendererSVG, backend_pdf.RendererPdf, patheffects.PathEffectRenderer = saved
