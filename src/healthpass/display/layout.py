"""One card layout for the SVG and PNG renderers: a view and a canvas size in, positioned boxes and text out.

Portrait canvases (taller than wide, e.g. 480x800) put the colour block on top; landscape ones (800x480)
put it on the left. Text is wrapped to the space with the renderer's own measure (real font metrics for
PNG, an estimate for SVG); what does not fit is cut with an ellipsis rather than drawn off the card.
Standard library only.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal

from healthpass.display.view import CheckpointView
from healthpass.model.text import strip_text

__all__ = ["CARD_SIZES", "Box", "Label", "Measure", "card_layout", "clean_text", "estimate_width", "wrap"]

#: The two sizes the card is designed and tested for (width, height).
CARD_SIZES: Final = ((480, 800), (800, 480))
_MIN_SIDE: Final = 200
_MAX_SIDE: Final = 4000
_INK: Final = "#1a1a1a"
_MUTED: Final = "#5a6470"
_PAPER: Final = "#ffffff"
_WARN: Final = "#8a5a00"
_ELLIPSIS: Final = "…"

#: ``measure(text, size, bold) -> width in px``
Measure = Callable[[str, int, bool], float]


@dataclass(frozen=True, slots=True)
class Box:
    x: int
    y: int
    width: int
    height: int
    fill: str


@dataclass(frozen=True, slots=True)
class Label:
    """One line of text; ``y`` is its top edge, ``x`` its left edge (or centre with ``anchor="middle"``)."""

    x: int
    y: int
    size: int
    text: str
    fill: str
    bold: bool = False
    anchor: Literal["start", "middle"] = "start"


def clean_text(text: str) -> str:
    """``text`` without control, format, surrogate, private-use or line/paragraph-separator characters (the
    characters every text output escapes: :func:`healthpass.model.text.strip_text`)."""
    return strip_text(text)


def estimate_width(text: str, size: int, bold: bool) -> float:
    """An estimate of a sans-serif line's width: wide (CJK) characters one em, others about 0.58 em."""
    narrow = 0.62 if bold else 0.58
    return sum(size if unicodedata.east_asian_width(c) in "WF" else size * narrow for c in text)


def _units(text: str) -> list[str]:
    """Break opportunities: each wide character alone, Latin words with their trailing space."""
    units: list[str] = []
    word = ""
    for char in text:
        if unicodedata.east_asian_width(char) in "WF":
            if word:
                units.append(word)
                word = ""
            units.append(char)
        elif char == " ":
            units.append(word + " ")
            word = ""
        else:
            word += char
    if word:
        units.append(word)
    return units


def wrap(text: str, width: float, size: int, bold: bool, measure: Measure) -> list[str]:
    """Greedy line breaking at word boundaries and between wide characters; an over-long word is split."""
    lines: list[str] = []
    line = ""
    for unit in _units(text):
        if measure((line + unit).rstrip(), size, bold) <= width:
            line += unit
            continue
        if line.strip():
            lines.append(line.rstrip())
        line = ""
        for char in unit:  # a unit wider than the line: split it by character
            if line and measure((line + char).rstrip(), size, bold) > width:
                lines.append(line.rstrip())
                line = ""
            line += char
    if line.strip():
        lines.append(line.rstrip())
    return lines


def _fit(text: str, width: float, size: int, bold: bool, measure: Measure, smallest: int) -> int:
    """The largest size up to ``size`` at which ``text`` fits on one line (not below ``smallest``)."""
    while size > smallest and measure(text, size, bold) > width:
        size -= 2
    return size


def _ellipsise(text: str, width: float, size: int, bold: bool, measure: Measure) -> str:
    while text and measure(text + _ELLIPSIS, size, bold) > width:
        text = text[:-1]
    return text + _ELLIPSIS


class _Column:
    """Places wrapped paragraphs top to bottom in a column, cutting at the bottom edge."""

    def __init__(self, x: int, y: int, width: int, bottom: int, measure: Measure) -> None:
        self.x, self.y, self.width, self.bottom, self.measure = x, y, width, bottom, measure
        self.items: list[Label] = []
        self.full = False

    def cut(self) -> None:
        """Stop here, marking the cut with an ellipsis on the last line placed."""
        self.full = True
        if self.items:
            last = self.items[-1]
            room = self.x + self.width - last.x
            text = _ellipsise(last.text, room, last.size, last.bold, self.measure)
            self.items[-1] = Label(last.x, last.y, last.size, text, last.fill, last.bold)

    def paragraph(self, text: str, size: int, fill: str, *, bold: bool = False, gap: int = 0) -> None:
        if self.full:
            return
        self.y += gap
        line_height = round(size * 1.3)
        lines = wrap(text, self.width, size, bold, self.measure) or [""]
        for line in lines:
            if self.y + line_height > self.bottom:
                self.cut()
                return
            self.items.append(Label(self.x, self.y, size, line, fill, bold))
            self.y += line_height

    def row(self, label: str, value: str, label_width: int, size: int, gap: int) -> None:
        """A label in a left column and its value beside it, each wrapped in its own column."""
        if self.full:
            return
        self.y += gap
        line_height = round(size * 1.3)
        label_size = round(size * 0.8)
        label_lines = wrap(label, label_width, label_size, False, self.measure) or [""]
        value_x = self.x + label_width + round(size * 0.6)
        value_lines = wrap(value, self.x + self.width - value_x, size, False, self.measure) or [""]
        lines = max(len(label_lines), len(value_lines))
        if self.y + lines * line_height > self.bottom:
            self.cut()
            return
        offset = round((size - label_size) * 0.7)  # label text sits on the value's baseline
        for index, text in enumerate(label_lines):
            self.items.append(Label(self.x, self.y + offset + index * line_height, label_size, text, _MUTED))
        for index, text in enumerate(value_lines):
            self.items.append(Label(value_x, self.y + index * line_height, size, text, _INK))
        self.y += lines * line_height


#: Text scales tried in turn until everything fits (the last one cuts what still does not).
_SCALES: Final = (1.0, 0.9, 0.8, 0.7)


def card_layout(view: CheckpointView, width: int, height: int, measure: Measure) -> tuple[list[Box], list[Label]]:
    """Boxes and lines of the card for a ``width`` x ``height`` canvas (``ValueError`` outside 200-4000 px).

    The body text shrinks in steps (down to 70 %) until the view fits; only then is the rest cut.
    """
    if not (isinstance(width, int) and isinstance(height, int) and _MIN_SIDE <= width <= _MAX_SIDE
            and _MIN_SIDE <= height <= _MAX_SIDE):
        raise ValueError(f"card sides must be integers of {_MIN_SIDE}-{_MAX_SIDE} px")
    for scale in _SCALES:
        boxes, labels, fits = _layout(view, width, height, measure, scale)
        if fits:
            break
    return boxes, labels


def _layout(view: CheckpointView, width: int, height: int, measure: Measure,
            scale: float) -> tuple[list[Box], list[Label], bool]:
    portrait = height >= width
    unit = min(width, height) / 480  # sizes below are designed for the 480 px side
    pad = round(24 * unit)
    text = unit * scale
    if portrait:
        block = Box(0, 0, width, round(height * (0.34 if scale == 1.0 else 0.28)), view.colour.hex)
        block_w, block_h, block_x = width, block.height, 0
        col_x, col_y, col_w = pad, block.height + pad, width - 2 * pad
    else:
        block = Box(0, 0, round(width * 0.4), height, view.colour.hex)
        block_w, block_h, block_x = block.width, height, 0
        col_x, col_y, col_w = block.width + pad, pad, width - block.width - 2 * pad
    boxes = [Box(0, 0, width, height, _PAPER), block]
    labels: list[Label] = []
    verdict = clean_text(view.verdict_text)
    colour_name = clean_text(view.colour_text)
    v_size = _fit(verdict, block_w - 2 * pad, round(76 * unit), True, measure, round(28 * unit))
    c_size = _fit(colour_name, block_w - 2 * pad, round(30 * unit), False, measure, round(16 * unit))
    total = round(v_size * 1.2) + round(c_size * 1.6)
    top = (block_h - total) // 2
    centre = block_x + block_w // 2
    labels.append(Label(centre, top, v_size, verdict, view.colour.ink, True, "middle"))
    labels.append(Label(centre, top + round(v_size * 1.2) + round(c_size * 0.4), c_size, colour_name,
                        view.colour.ink, False, "middle"))
    column = _Column(col_x, col_y, col_w, height - pad, measure)
    column.paragraph(clean_text(view.reason), round(30 * text), _INK, bold=True)
    for warning in view.warnings:  # before the rows: a warning must never be the part that is cut
        column.paragraph(clean_text(warning), round(22 * text), _WARN, bold=True, gap=round(10 * text))
    value_size = round(24 * text)
    label_size = round(value_size * 0.8)
    widest = max((measure(clean_text(r.label), label_size, False) for r in view.rows), default=0.0)
    label_width = min(round(widest) + 1, round(col_w * 0.34))
    column.y += round(8 * text)
    for row in view.rows:
        column.row(clean_text(row.label), clean_text(row.value), label_width, value_size, round(10 * text))
    return boxes, labels + column.items, not column.full
