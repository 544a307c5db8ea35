"""Explicit bounds on scanned input: every stage of decoding stays within these."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ["MAX_DOCUMENT_BYTES", "MAX_LIMIT", "Limits"]

#: The largest signed document (trust list, rule bundle, status list or delta) a verifier reads, in bytes:
#: larger ones are refused before anything is decoded, and the command line reads no more than this (plus
#: one byte) of a file named as one, so that a device file or a file of gigabytes never exhausts memory.
MAX_DOCUMENT_BYTES: Final = 1 << 26
#: The largest value of any :class:`Limits` bound: far above any input healthpass reads, and small enough that
#: every bound (plus one) fits the C size parameters it is handed to (zlib's ``max_length``).
MAX_LIMIT: Final = 1 << 32


@dataclass(frozen=True, slots=True, kw_only=True)  # every bound is keyword-only
class Limits:
    """Bounds applied while decoding a scanned code. The defaults fit any code a QR symbol can hold.

    - ``max_text``: characters of code text after stripping surrounding whitespace (a version 40 QR holds
      4296 alphanumeric characters);
    - ``max_decompressed``: bytes produced by zlib; more is ``payload_too_large``, refused without
      inflating further;
    - ``max_depth``, ``max_items``, ``max_string``: CBOR nesting depth, total items and string length;
    - ``max_header_entries``: entries in a COSE protected or unprotected header map.

    The CBOR bounds are checked item by item on everything decoded generically: EU certificates, rule
    bundles and any foreign data. healthpass's own formats (``HP1:`` codes, trust lists) are decoded by typed
    parsers that accept only their schema, whose bounds are far tighter (payload depth 4, at most 8 entries
    per list, text fields of at most 64 characters, an empty unprotected header) and reject every unknown
    key; there the generic walk is skipped for speed, and ``max_string`` still bounds the byte strings the
    schema leaves open (kid, cti). In a trust list, ``max_items`` bounds the number of keys and ``max_string``
    each key entry. Every input is bounded first by ``max_text`` and ``max_decompressed``.
    """

    max_text: int = 4400
    max_decompressed: int = 16384
    max_depth: int = 12
    max_items: int = 2048
    max_string: int = 8192
    max_header_entries: int = 8

    def __post_init__(self) -> None:
        for name in ("max_text", "max_decompressed", "max_depth", "max_items", "max_string",
                     "max_header_entries"):
            value = getattr(self, name)
            if type(value) is not int or not 0 < value <= MAX_LIMIT:
                raise ValueError(f"Limits.{name} must be a positive integer of at most 2**32")
