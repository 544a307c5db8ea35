"""Untrusted text made safe to print: the one escaping rule of every text output (docs/hostile-input.md).

A code, a trust list, a rule bundle, an image or an input file may carry text that, printed as it is, starts a
new line (forging a result line of ``verify --batch``) or drives the terminal (ESC and C1 control sequences,
bidi overrides that reorder what is shown, U+2028/U+2029 line separators). Every character Python does not
call printable (Unicode categories Cc, Cf, Cs, Co, Cn, Zl, Zp and the Zs spaces other than U+0020, see
:meth:`str.isprintable`) is written as a backslash escape, the way :func:`repr` writes it (``\\n``, ``\\x1b``,
``\\u202e``, ``\\U000e0001``), and a backslash as ``\\\\``, so that the escaped form is unambiguous. Printable
text (Chinese names included) is unchanged.

Standard library only: the model layer.
"""

from __future__ import annotations

__all__ = ["escape_json", "escape_text", "is_safe_char", "strip_text"]

_BACKSLASH = "\\"
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t", _BACKSLASH: "\\\\"}


def is_safe_char(char: str) -> bool:
    """Whether ``char`` prints as itself: printable (:meth:`str.isprintable`) and not a backslash."""
    return char.isprintable() and char != _BACKSLASH


def _escape_char(char: str) -> str:
    short = _SHORT.get(char)
    if short is not None:
        return short
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def escape_text(value: object) -> str:
    """``str(value)`` as one line of printable text: every character that is not printable, and the
    backslash, backslash-escaped. Apply it to each line of text output that holds untrusted text."""
    text = value if isinstance(value, str) else str(value)
    if text.isprintable() and _BACKSLASH not in text:  # the common case, at C speed
        return text
    return "".join(char if is_safe_char(char) else _escape_char(char) for char in text)


def strip_text(value: str) -> str:
    """``value`` without the characters :func:`escape_text` escapes (backslashes kept): for renderings where an
    escape would only clutter, such as the checkpoint cards."""
    return value if value.isprintable() else "".join(char for char in value if char.isprintable())


def _json_escape_char(char: str) -> str:
    code = ord(char)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000  # a UTF-16 surrogate pair, as JSON writes characters beyond the BMP
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def escape_json(text: str) -> str:
    """JSON text (``json.dumps(..., ensure_ascii=False)``) with every character that is not printable written
    as a ``\\u`` escape: the same JSON value, safe to print. (``json.dumps`` escapes only C0 controls; C1
    controls, bidi overrides and U+2028/U+2029 otherwise reach the terminal raw.)"""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else _json_escape_char(char) for char in text)
