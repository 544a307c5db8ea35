"""The text transport: a versioned prefix followed by base45 (``HP1:`` healthpass, ``HC1:`` EU DCC)."""

from __future__ import annotations

from enum import StrEnum

from healthpass.errors import DecodeError, ErrorCode, Stage

__all__ = ["Prefix", "split_prefix"]


class Prefix(StrEnum):
    HP1 = "HP1:"
    HC1 = "HC1:"


_BY_TEXT = {prefix.value: prefix for prefix in Prefix}


def split_prefix(text: str, *, max_text: int) -> tuple[Prefix, str]:
    """Strip surrounding whitespace, bound the length, and split off a known prefix.

    Nothing inside the text is altered: a space is a base45 character. Raises DecodeError
    (``payload_too_large`` or ``prefix_invalid``).
    """
    if not isinstance(text, str):
        raise TypeError("code text must be str")
    body = text.strip()
    if len(body) > max_text:
        raise DecodeError(ErrorCode.PAYLOAD_TOO_LARGE, Stage.PREFIX, f"code text longer than {max_text} characters")
    prefix = _BY_TEXT.get(body[:4])
    if prefix is not None:
        return prefix, body[4:]
    raise DecodeError(ErrorCode.PREFIX_INVALID, Stage.PREFIX, "code text does not start with HP1: or HC1:")
