"""Wire format of a trust list's body: key entries by kid, and the index read without decoding any entry.

A trust list is a signed document (:mod:`healthpass.codec.signed_doc`, content type
``application/healthpass-trust-list+cbor``) whose body maps each kid to its key entry, each entry wrapped in
a byte string (``{* kid => bstr .cbor KeyEntry}``, ``specs/trust-list.md``). :func:`index_trust_list` reads
the envelope and that map with a hand-written, bounded reader of CBOR heads, without decoding any entry: it
returns where each entry lies, and :func:`entry_at` hands an entry's bytes to whoever decodes it on first
use, so neither cbor2 nor the pure-Python scanner of :mod:`healthpass.codec.cbor` ever walks the whole
list (figures: ``benchmarks/README.md``, "Trust list at scale").

Format versions (``specs/trust-list.md`` §1.1): version 1 is the original entry; version 2 adds entry field
10 (the key's maximum code validity), kind code 6 (``status_list``: the key may sign status lists) and SM2
key material. A list is written with the lowest version that holds its entries
(:func:`entry_version`), so lists without a version-2 feature still load on verifiers that read only
version 1; a version-1 list holding a version-2 feature is malformed.
"""

from __future__ import annotations

from enum import IntEnum
from types import MappingProxyType
from typing import Any

from healthpass.codec.cbor import canonical_order, cbor_limits, decode
from healthpass.codec.signed_doc import EnvelopeKey, check_envelope_fields, read_head
from healthpass.errors import DecodeError, ErrorCode, Stage
from healthpass.model.credential import Kind
from healthpass.model.policy import Limits

__all__ = [
    "CODE_BY_KIND",
    "ENTRY_FIELDS_BY_VERSION",
    "KID_SIZE",
    "KIND_CODES",
    "KIND_BY_CODE",
    "KIND_CODES_BY_VERSION",
    "SM2_MIN_VERSION",
    "TRUST_LIST_VERSIONS",
    "KeyEntryKey",
    "decode_key_entry",
    "entry_at",
    "entry_version",
    "index_trust_list",
]

#: Size of a kid in a trust list (SHA-256 of the key material, truncated; ``healthpass.crypto.kid_for``).
KID_SIZE = 8


class KeyEntryKey(IntEnum):
    """Fields of one issuer key in a trust list. The kid is not a field: it is the entry's key in the body
    map (label 1 is unused, and an entry holding it is invalid like any unknown field)."""

    SPKI = 2
    CERTIFICATE = 3
    REGION = 4
    KINDS = 5
    VALID_FROM = 6
    VALID_UNTIL = 7
    STATUS = 8
    RETIRED_AT = 9
    #: the longest lifetime (exp - iat, seconds) of a code the key may sign; absent: 30 days
    #: (``specs/trust-list.md`` R8). Format version 2.
    MAX_VALIDITY = 10


_ENTRY_FIELDS = frozenset(k.value for k in KeyEntryKey)

#: Kind <-> its integer code in a trust list.
KIND_CODES = ((Kind.STATUS, 1), (Kind.NAAT, 2), (Kind.ANTIBODY, 3), (Kind.VACCINATION, 4), (Kind.RECOVERY, 5),
              (Kind.STATUS_LIST, 6))
CODE_BY_KIND = MappingProxyType(dict(KIND_CODES))
KIND_BY_CODE = MappingProxyType({code: kind for kind, code in KIND_CODES})

#: Entry field labels each format version allows (version 2: 10 = maximum code validity).
ENTRY_FIELDS_BY_VERSION = {1: frozenset(range(2, 10)), 2: frozenset(range(2, 11))}
#: Kind codes each format version allows (version 2: 6 = status_list).
KIND_CODES_BY_VERSION = {1: frozenset(range(1, 6)), 2: frozenset(range(1, 7))}
#: The trust-list format versions this verifier reads.
TRUST_LIST_VERSIONS = frozenset(ENTRY_FIELDS_BY_VERSION)
#: The first format version whose entries may hold SM2 key material (checked where keys are parsed).
SM2_MIN_VERSION = 2


def entry_version(entry: dict[int, Any]) -> int:
    """The lowest format version whose fields and kind codes hold ``entry`` (a key entry's map)."""
    kinds = entry.get(KeyEntryKey.KINDS.value)
    codes = set(kinds) if isinstance(kinds, list) else set()
    for version in sorted(TRUST_LIST_VERSIONS):
        if entry.keys() <= ENTRY_FIELDS_BY_VERSION[version] and codes <= KIND_CODES_BY_VERSION[version]:
            return version
    return max(TRUST_LIST_VERSIONS)


def decode_key_entry(data: bytes, *, limits: Limits, stage: Stage, code: ErrorCode,
                     version: int = 1) -> dict[int, Any]:
    """One trust-list key entry as a map: strict deterministic CBOR, only :class:`KeyEntryKey` labels that
    format ``version`` allows, in canonical order. The caller type-checks every value it reads (the generic
    walk is skipped: ``typed``) and the kind codes against :data:`KIND_CODES_BY_VERSION`. Raises
    DecodeError(code) at ``stage``."""
    value = decode(data, what="key entry", deterministic=True, limits=cbor_limits(limits), stage=stage,
                   typed=True)
    if type(value) is not dict:
        raise DecodeError(code, stage, "key entry: not a map")
    if not value.keys() <= _ENTRY_FIELDS:
        raise DecodeError(code, stage, "key entry: unknown field")
    if not value.keys() <= ENTRY_FIELDS_BY_VERSION.get(version, frozenset()):
        raise DecodeError(code, stage, f"key entry: a field that format version {version} does not have")
    if not canonical_order(value):
        raise DecodeError(code, stage, "key entry: fields not in canonical order")
    return value


# -- the trust list index: CBOR heads read by hand, with explicit bounds ------------------------------------

_MAP = 5
_UINT = 0
_BSTR = 2
#: The head of every kid: a byte string of KID_SIZE bytes (the only preferred head for that length).
_KID_HEAD = (_BSTR << 5) | KID_SIZE


def index_trust_list(
    data: bytes,
    *,
    start: int = 0,
    end: int | None = None,
    max_entries: int,
    max_entry: int,
    stage: Stage,
    code: ErrorCode,
) -> tuple[int, int, int, int, dict[bytes, int]]:
    """``(version, seq, issued_at, not_after, offsets)`` from a trust list's envelope in ``data[start:end]``.

    ``offsets`` maps each kid to the position in ``data`` of its entry's byte-string head (read it with
    :func:`entry_at`); no entry is decoded. Checked here, in one bounded pass: the envelope (exactly the keys
    1-5 in order, a version in :data:`TRUST_LIST_VERSIONS`, seq/issued_at/not_after in range and ordered),
    then the body, a map of at most ``max_entries`` kids, each a byte string of :data:`KID_SIZE` bytes,
    strictly increasing (length-first canonical order, which for equal lengths is bytewise: no duplicates),
    each mapped to a byte string of at most ``max_entry`` bytes; every head in preferred serialisation with
    a definite length; nothing after the body. Raises DecodeError(code) at ``stage``.
    """
    end = len(data) if end is None else end

    def bad(message: str) -> DecodeError:
        return DecodeError(code, stage, f"trust list: {message}")

    if not 0 <= start <= end <= len(data):
        raise ValueError("start and end must delimit a span of data")
    major, count, pos = read_head(data, start, end, bad)
    if major != _MAP or count != len(EnvelopeKey):
        raise bad("document is not an envelope map with exactly the keys 1-5, in order")
    values: list[int] = []
    for key in EnvelopeKey:
        if pos >= end or data[pos] != key.value:  # keys 1-5 are each one byte in preferred serialisation
            raise bad("document is not an envelope map with exactly the keys 1-5, in order")
        if key is EnvelopeKey.BODY:
            pos += 1
            break
        major, value, pos = read_head(data, pos + 1, end, bad)
        if major != _UINT:
            raise bad(f"{key.name.lower()} must be a non-negative integer in range")
        values.append(value)
    version, seq, issued, not_after = values
    check_envelope_fields(version, seq, issued, not_after, versions=TRUST_LIST_VERSIONS, bad=bad)
    major, count, pos = read_head(data, pos, end, bad)
    if major != _MAP:
        raise bad("body is not a map of kid -> key entry")
    if count > max_entries:
        raise bad(f"more than {max_entries} keys")
    if count * (KID_SIZE + 2) > end - pos:  # each pair takes at least a kid and an empty byte string
        raise bad("truncated (the body declares more keys than the document holds)")
    offsets: dict[bytes, int] = {}
    previous = b""
    # gain: the whole index of 10,000 keys in milliseconds (benchmarks/README.md, "Trust list at scale").
    # The hot loop, heads read inline. The kid and the entry's initial byte lie before ``end`` (checked
    # first); any later read past ``end`` leaves ``pos > end``, refused before the entry is recorded, and a
    # read past the end of ``data`` raises IndexError: both are "truncated".
    try:
        for _ in range(count):
            at = pos + 1 + KID_SIZE
            if at >= end or data[pos] != _KID_HEAD:
                raise bad("truncated" if at >= end else
                          f"key #{len(offsets)}: the kid is not a byte string of {KID_SIZE} bytes")
            kid = data[pos + 1:at]
            if kid <= previous:
                raise bad(f"kid {kid.hex()} is out of order or repeated (kids must strictly increase)")
            previous = kid
            head = data[at]
            if head == 0x58:  # 24-255 bytes: the usual entry
                length = data[at + 1]
                if length < 24:
                    raise bad(f"key {kid.hex()}: a CBOR head is longer than needed")
                pos = at + 2 + length
            elif head == 0x59:  # 256-65535 bytes: a certificate
                length = data[at + 1] << 8 | data[at + 2]
                if length < 256:
                    raise bad(f"key {kid.hex()}: a CBOR head is longer than needed")
                pos = at + 3 + length
            else:
                major, length, pos = read_head(data, at, end, bad)
                if major != _BSTR:
                    raise bad(f"key {kid.hex()}: the entry is not a byte string")
                pos += length
            if length > max_entry:
                raise bad(f"key {kid.hex()}: entry longer than {max_entry} bytes")
            if pos > end:
                raise bad("truncated")
            offsets[kid] = at
    except IndexError:
        raise bad("truncated") from None
    if pos != end:
        raise bad(f"{end - pos} trailing bytes after the body")
    return version, seq, issued, not_after, offsets


def entry_at(data: bytes, offset: int) -> bytes:
    """The bytes of the entry whose byte-string head is at ``offset``: an offset :func:`index_trust_list`
    returned for ``data`` (which checked that head)."""
    _, length, start = read_head(data, offset, len(data), _invalid)
    return data[start:start + length]


def _invalid(message: str) -> DecodeError:
    return DecodeError(ErrorCode.TRUST_LIST_INVALID, Stage.TRUST_LIST, f"trust list: {message}")
