"""Strict base45 (RFC 9285), decoded without a per-character Python loop.

Decoding translates the text to digit values with ``bytes.translate``, spreads the three digits of every
group into 32-bit lanes of one big integer each, combines them with three big-integer operations and cuts
the result back into bytes. Every group is checked to be canonical (a 3-character group encodes at most
65535, a final 2-character group at most 255), so there is exactly one text for every byte string.
"""

from __future__ import annotations

import functools

from healthpass.errors import DecodeError, ErrorCode, Stage

__all__ = ["ALPHABET", "b45decode", "b45encode"]

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_INVALID = 0xFF
_DECODE_TABLE = bytes(ALPHABET.find(chr(i)) & 0xFF if chr(i) in ALPHABET else _INVALID for i in range(256))


def _fail(message: str) -> DecodeError:
    return DecodeError(ErrorCode.BASE45_INVALID, Stage.BASE45, message)


def _lanes(digits: bytes) -> int:
    """One big integer holding each byte of ``digits`` in its own 32-bit little-endian lane."""
    lanes = bytearray(4 * len(digits))
    lanes[0::4] = digits
    return int.from_bytes(lanes, "little")


def b45decode(text: str | bytes, *, offset: int = 0) -> bytes:
    """Decode strict base45. Raises DecodeError(``base45_invalid``) on any invalid or non-canonical input.

    Messages give the position of the problem as a character offset counted from ``offset`` (the length of
    whatever preceded ``text`` in the text the user gave, e.g. its ``HP1:`` prefix)."""
    raw = text.encode("ascii", "replace") if isinstance(text, str) else bytes(text)
    digits = raw.translate(_DECODE_TABLE)
    if _INVALID in digits:
        raise _fail(f"invalid base45 character at offset {offset + digits.index(_INVALID)}")
    full, rest = divmod(len(digits), 3)
    if rest == 1:
        raise _fail(f"base45 length leaves a single trailing character (at offset {offset + len(digits) - 1})")
    body = digits[: full * 3]
    value = _lanes(body[0::3]) + 45 * _lanes(body[1::3]) + 2025 * _lanes(body[2::3])
    lanes = value.to_bytes(4 * full, "little")
    if lanes[2::4].strip(b"\x00"):
        group = len(lanes[2::4]) - len(lanes[2::4].lstrip(b"\x00"))
        raise _fail(f"base45 group at offset {offset + 3 * group} exceeds 65535 (non-canonical)")
    out = bytearray(2 * full + (1 if rest else 0))
    out[0 : 2 * full : 2] = lanes[1::4]
    out[1 : 2 * full : 2] = lanes[0::4]
    if rest:
        last = digits[-2] + 45 * digits[-1]
        if last > 0xFF:
            raise _fail(f"final base45 pair at offset {offset + len(digits) - 2} exceeds 255 (non-canonical)")
        out[-1] = last
    return bytes(out)


#: floor(n * _DIV45 / 2**22) == n // 45 for every n < 65536 (checked in tests/test_base45.py)
_DIV45 = 93207
_DIV45_SHIFT = 22
_LANE = 8  # bytes per lane: n * _DIV45 < 2**33 needs more than 32 bits
_ENCODE_TABLE = bytes(ALPHABET, "ascii") + bytes(256 - len(ALPHABET))


def _div45(lanes: int, mask: int) -> int:
    """Lane-wise floor division by 45 of a big integer of 64-bit lanes each below 65536."""
    return ((lanes * _DIV45) >> _DIV45_SHIFT) & mask


_CACHED_MASK_WORDS = 2048  # any QR code's payload (at most 4,296 characters); at most 16 KiB per mask


def _lane_mask(words: int) -> int:
    """The low 16 bits of each of ``words`` lanes (built once per code length: it costs about a microsecond)."""
    return _cached_lane_mask(words) if words <= _CACHED_MASK_WORDS else _build_lane_mask(words)


def _build_lane_mask(words: int) -> int:
    return int.from_bytes((b"\xff\xff" + bytes(_LANE - 2)) * words, "little")


_cached_lane_mask = functools.lru_cache(maxsize=256)(_build_lane_mask)


def b45encode(data: bytes) -> str:
    """Encode bytes as base45 text (lane-parallel, like :func:`b45decode`; no per-character Python loop)."""
    even = len(data) - len(data) % 2
    words = even // 2
    lanes = bytearray(_LANE * words)
    lanes[0::_LANE] = data[1:even:2]  # low byte of each big-endian pair
    lanes[1::_LANE] = data[0:even:2]  # high byte
    value = int.from_bytes(lanes, "little")
    mask = _lane_mask(words)
    quotient = _div45(value, mask)  # n // 45
    high = _div45(quotient, mask)  # n // 2025
    digits = bytearray(3 * words + (2 if even != len(data) else 0))
    size = _LANE * words
    digits[0 : 3 * words : 3] = (value - 45 * quotient).to_bytes(size, "little")[0::_LANE]
    digits[1 : 3 * words : 3] = (quotient - 45 * high).to_bytes(size, "little")[0::_LANE]
    digits[2 : 3 * words : 3] = high.to_bytes(size, "little")[0::_LANE]
    if even != len(data):
        digits[-2], digits[-1] = divmod(data[-1], 45)[::-1]
    return digits.translate(_ENCODE_TABLE).decode("ascii")
