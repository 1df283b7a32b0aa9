"""Messages for people: one line each, with control characters shown as escapes, never raw.

A key, a file name or a value typed by a user may hold a newline, a NUL or a terminal escape; a
message that echoed them raw would break into lines or drive the terminal.
"""

from __future__ import annotations


def printable(text: str) -> str:
    """Text on one line with every control or format character escaped (\\n, \\x00, \\u202e)."""
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if ch.isprintable():
            out.append(ch)
        elif ch in "\n\r\t":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}[ch])
        else:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
    return "".join(out)
