"""The CJK font for Chinese charts: Noto Sans CJK SC, shipped by the ``mplfonts`` package.

No system font is assumed. ``mplfonts`` (MIT; the Noto fonts inside are under the SIL Open
Font License) installs ``NotoSansCJKsc-Regular.otf`` with pip; we register that file with
matplotlib's font manager by path (``fontManager.addfont``) without importing ``mplfonts``
or touching any matplotlibrc. ``SIMULATE_CJK_FONT=/path/to/font.otf`` uses another font file
(any font with the CJK Unified Ideographs, e.g. Source Han Sans SC).

The same font sets the English charts too (its Latin glyphs are Source Sans), so both
languages look alike; DejaVu Sans, which comes with matplotlib, is the fallback for any glyph
the font lacks and the whole font when ``mplfonts`` is missing (English only).
"""

from __future__ import annotations

import importlib.util
import os
from functools import cache
from pathlib import Path

FONT_FILE = "NotoSansCJKsc-Regular.otf"
FALLBACK = "DejaVu Sans"
ENV = "SIMULATE_CJK_FONT"


class FontError(Exception):
    """No CJK font could be found; the message says how to install one."""


def _mplfonts_file() -> Path | None:
    try:
        spec = importlib.util.find_spec("mplfonts")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "fonts" / FONT_FILE
        if path.is_file():
            return path
    return None


def cjk_font_path() -> Path | None:
    """The CJK font file to use, or None if there is none."""
    chosen = os.environ.get(ENV)
    if chosen:
        path = Path(chosen).expanduser()
        if not path.is_file():
            raise FontError(f"{ENV}={chosen}: no such font file")
        return path
    return _mplfonts_file()


@cache
def _register(path: str) -> str:
    from matplotlib import font_manager

    font_manager.fontManager.addfont(path)
    return font_manager.FontProperties(fname=path).get_name()


def cjk_family() -> str | None:
    """Register the CJK font with matplotlib and return its family name (None if absent)."""
    path = cjk_font_path()
    return None if path is None else _register(str(path))


def families(lang: str) -> list[str]:
    """The font.family list for charts in ``lang`` ("en" or "zh")."""
    family = cjk_family()
    if family is None:
        if lang == "zh":
            raise FontError(
                "Chinese charts need a CJK font: install it with `pip install mplfonts` "
                f"(or set {ENV} to a font file with Chinese glyphs)"
            )
        return [FALLBACK]
    return [family]
