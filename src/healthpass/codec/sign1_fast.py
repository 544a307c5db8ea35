"""The hand-read fast path of COSE_Sign1: the common layout read without a CBOR decoder.

It accepts a subset of what :func:`healthpass.codec.sign1.decode_sign1_generic` accepts, with the same result
(``tests/test_properties.py`` checks it against the generic decoder on the attack catalogue, the EU test codes
and mutated messages, under any limits); for anything else it returns None and the generic decoder decides.
"""

# gain: decode_sign1 about 6x faster on EU and HP1 codes (benchmarks/README.md, "Kept optimisations")

from __future__ import annotations

import functools
from typing import Any

from healthpass.codec.cbor import Tagged, encode
from healthpass.codec.sign1 import check_header, protected_map
from healthpass.errors import DecodeError
from healthpass.model.cose import CoseSign1, CoseTag, HeaderLabel
from healthpass.model.policy import Limits

__all__ = ["decode_sign1_fast"]

_BSTR = 0x40  # major type 2 (byte string) in the head's top three bits
#: The layout of (almost) every healthpass code and EU DCC, read by hand without a CBOR decoder (see
#: ``decode_sign1_fast``): tag 18, an array of four byte strings and one header map, each head in preferred
#: serialisation. Byte-string heads: 0x40-0x57 (length in the head), 0x58 (1-byte length, 24-255),
#: 0x59 (2-byte length, 256-65535).
_PLAIN_HEAD = encode(Tagged(CoseTag.SIGN1, [b"", {}, b"", b""]))[:2]  # d2 84: tag 18, array(4)
_BSTR_INLINE_END, _BSTR_1BYTE_LENGTH, _BSTR_2BYTE_LENGTH = _BSTR + 24, _BSTR + 24, _BSTR + 25
_PLAIN_UNPROTECTED_EMPTY = encode({})  # a0
_KID_MAP_HEAD = encode({HeaderLabel.KID.value: bytes(8)})[:3]  # a1 04 48: {4: an 8-byte kid} (EU, lenient)
_KID_IN_MAP = len(_KID_MAP_HEAD) + 8
#: The lenient generic decoder walks tag (depth 0), array (1), unprotected map (2) and its kid: 7 items at
#: most. Below these limits the fast path declines, so that the generic decoder names the limit.
_PLAIN_MIN_DEPTH, _PLAIN_MIN_ITEMS = 3, 7
#: Longer protected headers (a healthpass one is 13 bytes, an EU one 3-16) take the generic path: the memo
#: below then holds at most 256 small keys, whatever a scanned code carries.
_PLAIN_MAX_PROTECTED = 64
_ALG, _KID, _SIGN1 = HeaderLabel.ALG.value, HeaderLabel.KID.value, CoseTag.SIGN1.value


def _bstr_span(data: bytes, at: int) -> tuple[int, int]:
    """(start, end) of the byte string whose head is at ``at``, in preferred serialisation; (0, -1) if none."""
    size = len(data)
    if at >= size:
        return 0, -1
    head = data[at]
    if _BSTR <= head < _BSTR_INLINE_END:
        start, length = at + 1, head - _BSTR
    elif head == _BSTR_1BYTE_LENGTH and at + 2 <= size:
        start, length = at + 2, data[at + 1]
        if length < 24:
            return 0, -1
    elif head == _BSTR_2BYTE_LENGTH and at + 3 <= size:
        start, length = at + 3, int.from_bytes(data[at + 1 : at + 3], "big")
        if length < 0x100:
            return 0, -1
    else:
        return 0, -1
    end = start + length
    return (start, end) if end <= size else (0, -1)


@functools.lru_cache(maxsize=256)  # a verifier sees few distinct protected headers: one per issuer key
def _protected_items(protected: bytes, limits: Limits, strict: bool) -> tuple[tuple[int | str, Any], ...] | None:
    """The generic decoder's protected header for these bytes as items (immutable, so cached), or None where
    it refuses them. Headers hold only integers, text and byte strings once checked, except ``crit``."""
    try:
        header = check_header(protected_map(protected, limits, strict=strict), "protected", limits, strict=strict)
    except DecodeError:
        return None
    if any(type(v) not in (int, str, bytes) for v in header.values()):  # e.g. crit (a list): not cached
        return None
    return tuple(header.items())


def decode_sign1_fast(data: bytes, limits: Limits, *, strict: bool) -> CoseSign1 | None:
    """The common message, parsed by hand: tag 18, [protected, unprotected, payload, signature] with every
    byte-string head in preferred serialisation, an empty unprotected header (or, lenient only, ``{4: an
    8-byte kid}``) and nothing after it; the protected header is the generic decoder's, memoised by its
    bytes. Returns None for anything else (the generic decoder then decides, and names the defect), so it
    accepts a subset of what that decoder accepts, with the same result (tested, with the same limits)."""
    if data[:2] != _PLAIN_HEAD or limits.max_depth < _PLAIN_MIN_DEPTH or limits.max_items < _PLAIN_MIN_ITEMS:
        return None
    p_start, p_end = _bstr_span(data, 2)
    if p_end < 0 or p_end - p_start > _PLAIN_MAX_PROTECTED:
        return None
    unprotected: dict[int | str, Any] = {}
    if data[p_end : p_end + 1] == _PLAIN_UNPROTECTED_EMPTY:
        at = p_end + 1
    elif not strict and data[p_end : p_end + 3] == _KID_MAP_HEAD and len(data) >= p_end + _KID_IN_MAP:
        unprotected[_KID] = data[p_end + 3 : p_end + _KID_IN_MAP]
        at = p_end + _KID_IN_MAP
    else:
        return None
    start, end = _bstr_span(data, at)
    if end < 0:
        return None
    s_start, s_end = _bstr_span(data, end)
    if s_end != len(data):
        return None
    if max(p_end - p_start, end - start, s_end - s_start, 8) > limits.max_string:
        return None  # a string over the limit: the generic decoder names it
    items = _protected_items(data[p_start:p_end], limits, strict)
    if items is None:
        return None
    return CoseSign1(data[p_start:p_end], dict(items), unprotected, data[start:end], data[s_start:], (_SIGN1,))
