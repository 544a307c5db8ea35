"""De-identification of the holder for display, after China's personal-information practice (GB/T 37964):
the name masked, the birth date cut to the year, the document shown only by the hint the issuer printed.

Pure functions over text: standard library only.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

__all__ = ["birth_year", "mask_name"]

_MASK: Final = "*"
#: Stars after the first letter of a Latin (or any separated) name part: at most this many, so the shown
#: length says little about the real one (``ZHANG SAN`` → ``Z*** S**``).
_MAX_STARS: Final = 3
_SEPARATORS: Final = re.compile(r"([\s\u00b7\u30fb\u2022.,<\-]+)")  # "<": ICAO 9303, as EU "fnt" uses it


def _is_han(char: str) -> bool:
    return unicodedata.name(char, "").startswith(("CJK UNIFIED IDEOGRAPH", "CJK COMPATIBILITY IDEOGRAPH"))


def _mask_part(part: str) -> str:
    return part[0] + _MASK * max(1, min(len(part) - 1, _MAX_STARS))


def mask_name(name: str) -> str:
    """A displayable, de-identified form of a name.

    A Chinese name keeps its first character, and its last when it has three or more (``张三`` → ``张*``,
    ``张小三`` → ``张*三``, ``欧阳娜娜`` → ``欧**娜``, ``阿依古丽·买买提`` → ``阿**提``; spaces and dots
    between the characters are dropped, so ``张 三`` is ``张*``). Any other name keeps the first letter of
    each part followed by up to three stars (``ZHANG SAN`` → ``Z*** S**``; a one-letter part after the first
    is a star: ``LI X`` → ``L* *``; a one-letter name is ``A*``). Control and format characters
    are dropped first.
    """
    if not isinstance(name, str):
        raise TypeError("name must be a str")
    clean = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip()
    if not clean:
        return _MASK
    parts = _SEPARATORS.split(clean)
    han = "".join(parts[::2])
    if not han:  # separators only
        return _MASK  # a Chinese name written with spaces or dots is masked as one name
    if han and all(_is_han(c) for c in han):
        if len(han) == 1:
            return _MASK
        if len(han) == 2:
            return han[0] + _MASK
        return han[0] + _MASK * min(len(han) - 2, _MAX_STARS - 1) + han[-1]
    out = []
    for index, part in enumerate(parts):
        if index % 2:  # a separator run: one space, or the middle dot kept as written
            out.append("\u00b7" if "\u00b7" in part else " ")
        elif part:  # a one-letter part after the first is hidden whole: some letter of every name is masked
            out.append(_mask_part(part) if len(part) > 1 or not any(out) else _MASK)
    return "".join(out).strip() or _MASK


def birth_year(birth_date: str | None) -> str | None:
    """The year of a ``YYYY[-MM[-DD]]`` birth date, nothing finer (None when absent or not of that form)."""
    if isinstance(birth_date, str) and len(birth_date) >= 4 and birth_date[:4].isascii() and birth_date[:4].isdigit():
        return birth_date[:4]
    return None
