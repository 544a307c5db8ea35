"""The card as a coloured terminal block (ANSI SGR), every value stripped of control and format characters
(no escape sequence, bidi override or line break from a code reaches the terminal). Standard library only."""

from __future__ import annotations

import unicodedata
from typing import Final

from healthpass.display.layout import clean_text
from healthpass.display.view import CheckpointView, Colour

__all__ = ["render_terminal"]

_RESET: Final = "\x1b[0m"
#: SGR for the block: bold, foreground, background (256-colour where the 8-colour set has no match)
_BLOCK: Final = {Colour.GREEN: "\x1b[1;97;42m", Colour.YELLOW: "\x1b[1;30;43m", Colour.RED: "\x1b[1;97;41m",
                 Colour.GREY: "\x1b[1;97;100m"}
_BOLD: Final = "\x1b[1m"
_DIM: Final = "\x1b[2m"
_WARN: Final = "\x1b[33m"


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def render_terminal(view: CheckpointView, *, colour: bool = True, width: int = 40) -> str:
    """The view as terminal lines: a colour block with the verdict, then the reason, rows and warnings.
    ``colour=False`` gives plain text (for a file or a terminal without colours)."""
    if not isinstance(width, int) or not 20 <= width <= 200:
        raise ValueError("width must be an integer of 20-200 columns")
    head = f" {clean_text(view.verdict_text)} · {clean_text(view.colour_text)}"
    pad = " " * max(width - _width(head), 0)
    blank = " " * max(width, _width(head))
    lines = []
    if colour:
        block = _BLOCK[view.colour]
        lines += [f"{block}{blank}{_RESET}", f"{block}{head}{pad}{_RESET}", f"{block}{blank}{_RESET}",
                  f"{_BOLD}{clean_text(view.reason)}{_RESET}"]
        lines += [f"{_DIM}{clean_text(r.label)}:{_RESET} {clean_text(r.value)}" for r in view.rows]
        lines += [f"{_WARN}! {clean_text(w)}{_RESET}" for w in view.warnings]
    else:
        lines += [f"[{view.colour.value.upper()}]{head}", clean_text(view.reason)]
        lines += [f"{clean_text(r.label)}: {clean_text(r.value)}" for r in view.rows]
        lines += [f"! {clean_text(w)}" for w in view.warnings]
    return "\n".join(lines) + "\n"
