"""Wire format of signed documents (trust lists, rule bundles): integer-keyed CBOR maps in COSE_Sign1.

Both documents share one envelope: ``{1: version, 2: seq, 3: issued_at, 4: not_after, 5: body}``, signed
as a tagged COSE_Sign1 whose protected header carries alg, kid and a content type that tells the two
apart (a rule bundle can never be loaded as a trust list, nor a health code as either).

A trust list's body maps each kid to its key entry, each entry wrapped in a byte string
(``{* kid => bstr .cbor KeyEntry}``, ``specs/trust-list.md``). :func:`index_trust_list` reads the envelope
and that map with a hand-written, bounded reader of CBOR heads, without decoding any entry: it returns where
each entry lies, and :func:`entry_at` hands an entry's bytes to whoever decodes it on first use. A list of
10,000 keys is indexed in a few milliseconds, and neither cbor2 nor the pure-Python scanner of
:mod:`healthpass.codec.cbor` ever walks the whole list.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum, StrEnum
from typing import Any

from healthpass.codec.cbor import canonical_order, decode, encode
from healthpass.codec.cose import cbor_limits
from healthpass.errors import DecodeError, ErrorCode, Stage
from healthpass.model.cose import MAX_NUMERIC_DATE
from healthpass.model.credential import Kind
from healthpass.model.policy import Limits

__all__ = [
    "KID_SIZE",
    "KIND_CODES",
    "ContentType",
    "EnvelopeKey",
    "KeyEntryKey",
    "decode_envelope",
    "decode_key_entry",
    "encode_envelope",
    "entry_at",
    "index_trust_list",
    "payload_span",
]

ENVELOPE_VERSION = 1
#: Size of a kid in a trust list (SHA-256 of the key material, truncated; ``healthpass.crypto.kid_for``).
KID_SIZE = 8
_MAX_SEQ = 2**53


class ContentType(StrEnum):
    TRUST_LIST = "application/healthpass-trust-list+cbor"
    RULE_BUNDLE = "application/healthpass-rules+cbor"


class EnvelopeKey(IntEnum):
    VERSION = 1
    SEQ = 2
    ISSUED_AT = 3
    NOT_AFTER = 4
    BODY = 5


_ENVELOPE_KEYS = frozenset(k.value for k in EnvelopeKey)


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


_ENTRY_FIELDS = frozenset(k.value for k in KeyEntryKey)

#: Kind <-> its integer code in a trust list.
KIND_CODES = ((Kind.STATUS, 1), (Kind.NAAT, 2), (Kind.ANTIBODY, 3), (Kind.VACCINATION, 4), (Kind.RECOVERY, 5))


def encode_envelope(seq: int, issued_at: int, not_after: int, body: Any) -> bytes:
    """The envelope in deterministic encoding (a trust list's body: kid -> encoded entry, sorted on the way)."""
    return encode({
        EnvelopeKey.VERSION.value: ENVELOPE_VERSION,
        EnvelopeKey.SEQ.value: seq,
        EnvelopeKey.ISSUED_AT.value: issued_at,
        EnvelopeKey.NOT_AFTER.value: not_after,
        EnvelopeKey.BODY.value: body,
    })


def _check_fields(seq: int, issued: int, not_after: int, bad: Callable[[str], DecodeError]) -> None:
    for name, item in (("seq", seq), ("issued_at", issued), ("not_after", not_after)):
        if type(item) is not int or not 0 <= item <= (_MAX_SEQ if name == "seq" else MAX_NUMERIC_DATE):
            raise bad(f"{name} must be a non-negative integer in range")
    if not_after <= issued:
        raise bad("not_after must follow issued_at")


def decode_envelope(
    data: bytes, *, limits: Limits, stage: Stage, code: ErrorCode, typed: bool = False
) -> tuple[int, int, int, Any]:
    """``(seq, issued_at, not_after, body)`` from a signed document's payload, decoding it whole (rule
    bundles; trust lists use :func:`index_trust_list`). Raises DecodeError(code).

    ``typed``: the caller type-checks every value of the body and the key order of each of its maps (see
    :func:`healthpass.codec.cbor.decode`), so the generic walk is skipped.
    """
    value = decode(data, what="signed document", deterministic=True, limits=cbor_limits(limits), stage=stage,
                   typed=typed)

    def bad(message: str) -> DecodeError:
        return DecodeError(code, stage, message)

    if type(value) is not dict or set(value) != _ENVELOPE_KEYS or not canonical_order(value):
        raise bad("document is not an envelope map with exactly the keys 1-5, in order")
    if value[EnvelopeKey.VERSION] != ENVELOPE_VERSION:
        raise bad("unsupported document version")
    seq, issued, not_after = value[EnvelopeKey.SEQ], value[EnvelopeKey.ISSUED_AT], value[EnvelopeKey.NOT_AFTER]
    _check_fields(seq, issued, not_after, bad)
    return seq, issued, not_after, value[EnvelopeKey.BODY]


def decode_key_entry(data: bytes, *, limits: Limits, stage: Stage, code: ErrorCode) -> dict[int, Any]:
    """One trust-list key entry as a map: strict deterministic CBOR, only :class:`KeyEntryKey` labels, in
    canonical order. The caller type-checks every value it reads (the generic walk is skipped: ``typed``).
    Raises DecodeError(code) at ``stage``."""
    value = decode(data, what="key entry", deterministic=True, limits=cbor_limits(limits), stage=stage,
                   typed=True)
    if type(value) is not dict:
        raise DecodeError(code, stage, "key entry: not a map")
    if not value.keys() <= _ENTRY_FIELDS:
        raise DecodeError(code, stage, "key entry: unknown field")
    if not canonical_order(value):
        raise DecodeError(code, stage, "key entry: fields not in canonical order")
    return value


# -- the trust list index: CBOR heads read by hand, with explicit bounds ------------------------------------

_MAP = 5
_UINT = 0
_BSTR = 2
#: The head of every kid: a byte string of KID_SIZE bytes (the only preferred head for that length).
_KID_HEAD = (_BSTR << 5) | KID_SIZE
#: Smallest argument each head width may carry in preferred serialisation (RFC 8949 §4.2.1).
_MIN_ARG = {1: 24, 2: 1 << 8, 4: 1 << 16, 8: 1 << 32}


def _head(data: bytes, pos: int, end: int, bad: Callable[[str], DecodeError]) -> tuple[int, int, int]:
    """``(major type, argument, next position)`` of the CBOR head at ``pos``; preferred serialisation and
    definite lengths only, never reading at or past ``end``."""
    if pos >= end:
        raise bad("truncated")
    initial = data[pos]
    major, info = initial >> 5, initial & 0x1F
    if info < 24:
        return major, info, pos + 1
    if info > 27:
        raise bad("indefinite length or reserved additional information")
    size = 1 << (info - 24)
    stop = pos + 1 + size
    if stop > end:
        raise bad("truncated")
    arg = int.from_bytes(data[pos + 1:stop], "big")
    if arg < _MIN_ARG[size]:
        raise bad("a CBOR head is longer than needed (not the preferred serialisation)")
    return major, arg, stop


def index_trust_list(
    data: bytes,
    *,
    start: int = 0,
    end: int | None = None,
    max_entries: int,
    max_entry: int,
    stage: Stage,
    code: ErrorCode,
) -> tuple[int, int, int, dict[bytes, int]]:
    """``(seq, issued_at, not_after, offsets)`` from a trust list's envelope in ``data[start:end]``.

    ``offsets`` maps each kid to the position in ``data`` of its entry's byte-string head (read it with
    :func:`entry_at`); no entry is decoded. Checked here, in one bounded pass: the envelope (exactly the keys
    1-5 in order, version 1, seq/issued_at/not_after in range and ordered), then the body, a map of at most
    ``max_entries`` kids, each a byte string of :data:`KID_SIZE` bytes, strictly increasing (length-first
    canonical order, which for equal lengths is bytewise: no duplicates), each mapped to a byte string of at
    most ``max_entry`` bytes; every head in preferred serialisation with a definite length; nothing after
    the body. Raises DecodeError(code) at ``stage``.
    """
    end = len(data) if end is None else end

    def bad(message: str) -> DecodeError:
        return DecodeError(code, stage, f"trust list: {message}")

    if not 0 <= start <= end <= len(data):
        raise ValueError("start and end must delimit a span of data")
    major, count, pos = _head(data, start, end, bad)
    if major != _MAP or count != len(EnvelopeKey):
        raise bad("document is not an envelope map with exactly the keys 1-5, in order")
    values: list[int] = []
    for key in EnvelopeKey:
        if pos >= end or data[pos] != key.value:  # keys 1-5 are each one byte in preferred serialisation
            raise bad("document is not an envelope map with exactly the keys 1-5, in order")
        if key is EnvelopeKey.BODY:
            pos += 1
            break
        major, value, pos = _head(data, pos + 1, end, bad)
        if major != _UINT:
            raise bad(f"{key.name.lower()} must be a non-negative integer in range")
        values.append(value)
    version, seq, issued, not_after = values
    if version != ENVELOPE_VERSION:
        raise bad("unsupported document version")
    _check_fields(seq, issued, not_after, bad)
    major, count, pos = _head(data, pos, end, bad)
    if major != _MAP:
        raise bad("body is not a map of kid -> key entry")
    if count > max_entries:
        raise bad(f"more than {max_entries} keys")
    if count * (KID_SIZE + 2) > end - pos:  # each pair takes at least a kid and an empty byte string
        raise bad("truncated (the body declares more keys than the document holds)")
    offsets: dict[bytes, int] = {}
    previous = b""
    # The hot loop (10,000 keys in a few milliseconds), heads read inline. The kid and the entry's initial byte
    # lie before ``end`` (checked first); any later read past ``end`` leaves ``pos > end``, refused before the
    # entry is recorded, and a read past the end of ``data`` raises IndexError: both are "truncated".
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
                major, length, pos = _head(data, at, end, bad)
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
    return seq, issued, not_after, offsets


def payload_span(document: bytes, payload: bytes) -> tuple[int, int]:
    """Where ``payload`` lies in ``document``, a signed document that decoded strictly to it (tag 18, an array
    of four, the protected header, an empty unprotected header, the payload): ``(start, end)``.

    Lets a list keep the bytes it received instead of a copy of its payload. Raises DecodeError
    (``trust_list_invalid``) when ``document`` is not laid out so (it then did not decode strictly).
    """
    end = len(document)
    if document[:2] != b"\xd2\x84":  # tag 18, array of 4
        raise _invalid("not a tagged COSE_Sign1")
    major, length, pos = _head(document, 2, end, _invalid)
    if major != _BSTR or document[pos + length:pos + length + 1] != b"\xa0":
        raise _invalid("not a COSE_Sign1 with an empty unprotected header")
    major, length, start = _head(document, pos + length + 1, end, _invalid)
    if major != _BSTR or length != len(payload) or not document.startswith(payload, start):
        raise _invalid("the payload is not where its encoding puts it")
    return start, start + length


def entry_at(data: bytes, offset: int) -> bytes:
    """The bytes of the entry whose byte-string head is at ``offset``: an offset :func:`index_trust_list`
    returned for ``data`` (which checked that head)."""
    _, length, start = _head(data, offset, len(data), _invalid)
    return data[start:start + length]


def _invalid(message: str) -> DecodeError:
    return DecodeError(ErrorCode.TRUST_LIST_INVALID, Stage.TRUST_LIST, f"trust list: {message}")
