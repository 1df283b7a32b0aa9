"""Reading hand-written TOML files: what may be read, how a problem is worded, where a key is.

Scenario, experiment and calibration files are written by hand and given on the command line, so
reading them is guarded: only a regular file of at most MAX_FILE_BYTES is read (a named pipe would
block for ever, /dev/zero never end), UTF-8 text, parsed by tomllib with a syntax error turned into
a line number, and nested at most MAX_DEPTH levels (deeper nesting would exhaust Python's stack in
tomllib or in the checks that follow). Every problem is one :class:`ScenarioError` line naming the
file and line. tomllib reports no positions for keys, so :func:`scan_keys` finds the line of each.
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from pathlib import Path
from typing import Any

import tomlkit

from simulation.messages import printable

Keys = tuple[str | int, ...]
MAX_FILE_BYTES = 1_000_000  # a hand-written scenario or experiment file is a few kB
MAX_DEPTH = 12  # tables and arrays inside each other; a scenario's deepest value is 6 levels down


class ScenarioError(Exception):
    """A problem in a scenario file or a ``--set`` option, worded for the person who wrote it."""

    def __init__(
        self,
        message: str,
        file: Path | None = None,
        key: str | None = None,
        line: int | None = None,
        override: str | None = None,
    ) -> None:
        super().__init__(message, file, key, line, override)  # all in args, so it pickles
        self.message, self.file, self.key, self.line, self.override = message, file, key, line, override

    def __str__(self) -> str:
        where = f"--set {self.override}" if self.override else f"line {self.line}" if self.line else ""
        label = ": ".join(str(p) for p in (self.file, self.key) if p is not None)
        if where:
            label = f"{label} ({where})" if label else where
        return printable(f"{label}: {self.message}" if label else self.message)


def read_text_file(path: Path, what: str, error: type[Exception] = ScenarioError) -> str:
    """The text of a hand-written file; each problem is one ``error`` naming the file (and line).

    Only a regular file of at most MAX_FILE_BYTES is read: a named pipe would block for ever and a
    device (/dev/zero) never end.
    """
    raw = _read_regular(path, what, error)
    if b"\0" in raw:
        raise error("is a binary file, not TOML text", path)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        message = f"is not UTF-8 text (byte 0x{raw[exc.start]:02x}); save it as UTF-8"
        raise error(message, path, line=raw[: exc.start].count(b"\n") + 1) from None


def _read_regular(path: Path, what: str, error: type[Exception]) -> bytes:
    """The bytes of a regular file of at most MAX_FILE_BYTES (opened without blocking, then checked)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise error(_open_problem(exc, what), path) from None
    except ValueError:  # a NUL in the name
        raise error("is not a valid file name", path) from None
    kind = _kind(os.fstat(fd).st_mode, what)
    if kind:
        os.close(fd)
        raise error(kind, path)
    with os.fdopen(fd, "rb") as fh:
        raw = fh.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise error(f"is larger than {MAX_FILE_BYTES // 1_000_000} MB; {what} is a few kB of text "
                    "(is it the right file?)", path)  # fmt: skip
    return raw


def file_problem(path: Path, what: str) -> str | None:
    """Why ``path`` could not be read as ``what`` (as :func:`read_text_file` words it), or None."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        return _open_problem(exc, what)
    except ValueError:
        return "is not a valid file name"
    return _kind(mode, what)


def _open_problem(exc: OSError, what: str) -> str:
    if isinstance(exc, FileNotFoundError):
        return "file not found"
    if isinstance(exc, IsADirectoryError):
        return f"is a directory, not {what}"
    return f"cannot read the file: {exc.strerror or exc}"


def _kind(mode: int, what: str) -> str | None:
    """'is a directory, not a scenario file' and the like, or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    kind = ("a directory" if stat.S_ISDIR(mode) else "a named pipe (FIFO)" if stat.S_ISFIFO(mode)
            else "a socket" if stat.S_ISSOCK(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "not a regular file")  # fmt: skip
    return f"is {kind}, not {what}"


def parse_toml(text: str, path: Path, error: type[ScenarioError] = None) -> dict[str, Any]:
    """Parse a hand-written TOML file; a syntax error or nesting deeper than MAX_DEPTH is one ``error``."""
    error = error or ScenarioError
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        e = syntax_error(str(exc), path)
        raise error(e.message, path, line=e.line) from None
    except RecursionError:  # tomllib recurses into nested arrays and inline tables
        data = None
    deep = None if data is None else too_deep(data)
    if data is None or deep is not None:
        line = _deep_line(text) if deep is None else find_line(scan_keys(text)[0], deep) or _deep_line(text)
        raise error(f"values are nested too deeply (arrays or tables inside each other more than {MAX_DEPTH} "
                    "levels); a scenario needs at most 6", path, line=line) from None  # fmt: skip
    return data


def too_deep(value: Any, limit: int = MAX_DEPTH) -> Keys | None:
    """The keys of a value nested more than ``limit`` levels down, or None (iterative: no recursion)."""
    stack: list[tuple[Keys, Any]] = [((), value)]
    while stack:
        keys, v = stack.pop()
        if len(keys) > limit:
            return keys
        if isinstance(v, dict):
            stack.extend(((*keys, k), x) for k, x in v.items())
        elif isinstance(v, list):
            stack.extend(((*keys, i), x) for i, x in enumerate(v))
    return None


def _deep_line(text: str) -> int | None:
    """The first line where brackets and braces open more than MAX_DEPTH deep (strings not parsed)."""
    depth = 0
    for number, line in enumerate(text.splitlines(), 1):
        for ch in line:
            depth += ch in "[{"
            depth -= ch in "]}"
            if depth > MAX_DEPTH:
                return number
    return None


def other_kind(data: dict[str, Any]) -> str | None:
    """'an experiment file (...)' if a file's top-level keys say it is one, not a scenario; else None."""
    if any(k in data for k in ("simulation", "levers", "uncertainties", "extends")):
        return None
    if "design" in data or "parameters" in data:
        if "record" in data or "identification" in data:
            return "a calibration file (for simulate calibrate)"
        return "an experiment file (for simulate sweep)"
    return None


def syntax_error(message: str, path: Path) -> ScenarioError:
    """Turn tomllib's 'Problem (at line 3, column 7)' into a ScenarioError with that line."""
    m = re.fullmatch(r"(.*) \(at (?:line (\d+), column (\d+)|end of document)\)", message, re.S)
    if m is None:
        return ScenarioError(f"TOML syntax error: {message}", path)
    what, line, column = m.groups()
    where = f"at column {column}" if line else "at the end of the file"
    return ScenarioError(f"TOML syntax error: {what} {where}", path, line=int(line) if line else None)


_KEY = re.compile(r"""\s*(?:([A-Za-z0-9_-]+)|"((?:[^"\\]|\\.)*)"|'([^']*)')\s*""")


def _parse_key(s: str, pos: int) -> tuple[tuple[str, ...], int] | None:
    """A dotted TOML key starting at ``pos``, and the position after it (None if there is none)."""
    parts = []
    while m := _KEY.match(s, pos):
        part = next(g for g in m.groups() if g is not None)
        if m.group(2) is not None and "\\" in part:  # a basic string key with escapes: as TOML reads it
            try:
                part = next(iter(tomllib.loads(f'"{part}" = 0')))
            except tomllib.TOMLDecodeError:
                pass
        parts.append(part)
        pos = m.end()
        if not s.startswith(".", pos):
            return tuple(parts), pos
        pos += 1
    return None


def scan_keys(text: str) -> tuple[dict[tuple[str, ...], int], set[tuple[str, ...]]]:
    """Line numbers of table headers and keys, and which keys hold inline tables.

    tomllib reports no positions for keys, so this reads the lines itself; it is a best
    effort (it does not parse everything TOML allows), used only to point at lines and to
    tell inline tables from standard ones.
    """
    lines: dict[tuple[str, ...], int] = {}
    inline: set[tuple[str, ...]] = set()
    table: tuple[str, ...] = ()
    quote = None  # the delimiter of a multi-line string being skipped
    for number, line in enumerate(text.splitlines(), 1):
        if quote:
            quote = None if quote in line else quote
            continue
        stripped = line.strip()
        if stripped.startswith("["):
            header = _parse_key(stripped, 2 if stripped.startswith("[[") else 1)
            if header:
                table = header[0]
                lines.setdefault(table, number)
            continue
        parsed = _parse_key(line, 0)
        if parsed is None or not line.startswith("=", parsed[1]):
            continue
        keys = table + parsed[0]
        lines.setdefault(keys, number)
        value = line[parsed[1] + 1 :].lstrip()
        if value.startswith("{"):
            inline.add(keys)
        for delimiter in ('"""', "'''"):
            if value.startswith(delimiter) and value.count(delimiter) == 1:
                quote = delimiter
    return lines, inline


def find_line(lines: dict[tuple[str, ...], int], keys: Keys) -> int | None:
    """The key's own line; else the first line of a key inside it; else its nearest enclosing key."""
    keys = tuple(k for k in keys if isinstance(k, str))
    if keys in lines:
        return lines[keys]
    inside = [n for k, n in lines.items() if k[: len(keys)] == keys]
    if inside:
        return min(inside)
    return next((lines[keys[:i]] for i in range(len(keys) - 1, 0, -1) if keys[:i] in lines), None)


def show(value: Any) -> str:
    """A value as it would be written in TOML, on one line (tables inline), shortened."""
    text = printable(toml_inline(value))
    return text if len(text) <= 60 else text[:57] + "..."


def toml_inline(value: Any) -> str:
    """A value as TOML on one line (tables as inline tables), as a --set option takes it."""
    if isinstance(value, dict):
        items = ", ".join(f"{_key(k)} = {toml_inline(v)}" for k, v in value.items())
        return "{ " + items + " }" if items else "{}"
    if isinstance(value, list):
        return "[" + ", ".join(toml_inline(v) for v in value) + "]"
    try:
        return tomlkit.item(value).as_string()
    except Exception:
        return repr(value)


def _key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else tomlkit.item(k).as_string()
