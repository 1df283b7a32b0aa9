"""Text shaped once per process, not once per text, figure and format.

Text is most of what it costs to draw a chart: matplotlib shapes every string (HarfBuzz, and a
CFF glyph load per character of the large CJK font) each time a renderer measures it and
again each time it draws it, in every format. Within :func:`shared_text`, the Agg (PNG), SVG
and PDF renderers measure every string from one process-wide table of measurements in points,
and the Agg and PDF renderers draw it as filled glyph outlines from one process-wide table of
text paths: a string that appears in ten charts, three formats and two layout passes is
shaped a few times in all, not dozens. SVG keeps matplotlib's own text drawing (glyph
outlines defined once per file and reused: ``svg.fonttype = "path"``), with each string's
glyph layout from a process-wide table too. PDF text is outlines too (it looks the same everywhere and needs no
font, but is not selectable), and PNG text is the same outlines filled at 300 dpi. Math text
(``$...$``) is left to matplotlib.

The renderers (and the path-effect renderer that draws the house style's bold) are
matplotlib's own, subclassed; :func:`shared_text` puts the subclasses in place of matplotlib's
while a chart is laid out and saved (matplotlib looks these classes up by name in their
modules when it draws) and restores them afterwards.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from matplotlib import patheffects
from matplotlib.backends import backend_agg, backend_pdf, backend_svg
from matplotlib.path import Path
from matplotlib.textpath import TextToPath, text_to_path
from matplotlib.transforms import Affine2D

_METRICS: dict[tuple[str, Any], tuple[float, float, float]] = {}
_PATHS: dict[tuple[str, Any], Path] = {}
_GLYPHS: dict[tuple[str, str], tuple[list, OrderedDict]] = {}


def metrics(s: str, prop: Any) -> tuple[float, float, float]:
    """Width, height and descent of ``s`` in points (unhinted outlines), cached."""
    key = (s, prop)
    found = _METRICS.get(key)
    if found is None:  # keyed by a copy: a Text may change its own properties later
        found = _METRICS[(s, prop.copy())] = text_to_path.get_text_width_height_descent(s, prop, False)
    return found


def text_path(s: str, prop: Any) -> Path:
    """The glyph outlines of ``s`` in font units (``text_to_path.FONT_SCALE``), cached."""
    key = (s, prop)
    found = _PATHS.get(key)
    if found is None:
        verts, codes = text_to_path.get_text_path(prop, s)
        found = _PATHS[(s, prop.copy())] = Path(verts, codes)
    return found


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


class SharedGlyphs(TextToPath):
    """matplotlib's TextToPath, remembering each string's glyphs and their positions (per font file)."""

    def get_glyphs_with_font(self, font, s, glyph_map=None, return_new_glyphs_only=False, *, features=None,
                             language=None):  # noqa: ANN001, ANN201 (matplotlib's signature)
        if features is not None or language is not None:
            return super().get_glyphs_with_font(font, s, glyph_map, return_new_glyphs_only, features=features,
                                                language=language)
        key = (font.fname, s)
        if key not in _GLYPHS:
            info, glyphs, _ = super().get_glyphs_with_font(font, s)
            _GLYPHS[key] = (info, glyphs)
        info, glyphs = _GLYPHS[key]
        glyph_map = OrderedDict() if glyph_map is None else glyph_map
        new = OrderedDict((k, v) for k, v in glyphs.items() if k not in glyph_map)
        if not return_new_glyphs_only:
            glyph_map.update(new)
            new = glyph_map
        return list(info), new, []


class SharedTextSVG(backend_svg.RendererSVG):
    """matplotlib's SVG renderer measuring from the shared table, and drawing text its own way (glyphs
    defined once per file and reused, which halves the files) from the shared glyph layouts."""

    get_text_width_height_descent = _SharedText.get_text_width_height_descent

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._text2path = SharedGlyphs()


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
