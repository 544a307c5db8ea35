"""Wire format of signed documents (trust lists, rule bundles, and the coming status lists): the envelope.

Every kind shares one envelope: ``{1: version, 2: seq, 3: issued_at, 4: not_after, 5: body}``, signed as a
tagged COSE_Sign1 whose protected header carries alg, kid and a content type that tells the kinds apart (a
rule bundle can never be loaded as a trust list, nor a health code as either). ``version`` is the format
version of the kind's body: each kind lists the versions a verifier reads (:mod:`healthpass.documents`), and
a document of any other version is refused. What a body holds is each kind's own business
(:mod:`healthpass.codec.trust_list` for trust lists, :mod:`healthpass.rules.bundle` for rule bundles).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum, StrEnum
from typing import Any

from healthpass.codec.cbor import canonical_order, cbor_limits, decode, encode
from healthpass.errors import DecodeError, ErrorCode, Stage
from healthpass.model.cose import MAX_NUMERIC_DATE
from healthpass.model.policy import Limits

__all__ = [
    "ENVELOPE_VERSION",
    "MAX_SEQ",
    "ContentType",
    "EnvelopeKey",
    "check_envelope_fields",
    "decode_envelope",
    "encode_envelope",
    "payload_span",
    "read_head",
]

#: The first format version of every kind (documents without a later feature are still written with it).
ENVELOPE_VERSION = 1
#: Largest sequence number (an integer every JSON reader keeps exact).
MAX_SEQ = 2**53


class ContentType(StrEnum):
    TRUST_LIST = "application/healthpass-trust-list+cbor"
    RULE_BUNDLE = "application/healthpass-rules+cbor"
    #: not an envelope: the Token Status List's own CWT ``typ`` (the documents layer's third kind, issue 17)
    STATUS_LIST = "application/statuslist+cwt"


class EnvelopeKey(IntEnum):
    VERSION = 1
    SEQ = 2
    ISSUED_AT = 3
    NOT_AFTER = 4
    BODY = 5


_ENVELOPE_KEYS = frozenset(k.value for k in EnvelopeKey)


def encode_envelope(seq: int, issued_at: int, not_after: int, body: Any, *, version: int = ENVELOPE_VERSION) -> bytes:
    """The envelope in deterministic encoding (a trust list's body: kid -> encoded entry, sorted on the way)."""
    return encode({
        EnvelopeKey.VERSION.value: version,
        EnvelopeKey.SEQ.value: seq,
        EnvelopeKey.ISSUED_AT.value: issued_at,
        EnvelopeKey.NOT_AFTER.value: not_after,
        EnvelopeKey.BODY.value: body,
    })


def check_envelope_fields(
    version: object, seq: object, issued: object, not_after: object, *, versions: frozenset[int],
    bad: Callable[[str], DecodeError],
) -> None:
    """The envelope's integers: a version among ``versions``, seq/issued_at/not_after in range, not_after
    after issued_at. Raises what ``bad`` makes."""
    if type(version) is not int or version not in versions:
        known = ", ".join(str(v) for v in sorted(versions))
        raise bad(f"unsupported format version {version if type(version) is int else '?'} "
                  f"(this verifier reads version {known})")
    for name, item in (("seq", seq), ("issued_at", issued), ("not_after", not_after)):
        if type(item) is not int or not 0 <= item <= (MAX_SEQ if name == "seq" else MAX_NUMERIC_DATE):
            raise bad(f"{name} must be a non-negative integer in range")
    assert isinstance(issued, int) and isinstance(not_after, int)
    if not_after <= issued:
        raise bad("not_after must follow issued_at")


def decode_envelope(
    data: bytes, *, limits: Limits, stage: Stage, code: ErrorCode, versions: frozenset[int] = frozenset({1}),
    typed: bool = False,
) -> tuple[int, int, int, int, Any]:
    """``(version, seq, issued_at, not_after, body)`` from a signed document's payload, decoding it whole (rule
    bundles; trust lists use :func:`healthpass.codec.trust_list.index_trust_list`). Raises DecodeError(code).

    ``typed``: the caller type-checks every value of the body and the key order of each of its maps (see
    :func:`healthpass.codec.cbor.decode`), so the generic walk is skipped.
    """
    value = decode(data, what="signed document", deterministic=True, limits=cbor_limits(limits), stage=stage,
                   typed=typed)

    def bad(message: str) -> DecodeError:
        return DecodeError(code, stage, message)

    if type(value) is not dict or set(value) != _ENVELOPE_KEYS or not canonical_order(value):
        raise bad("document is not an envelope map with exactly the keys 1-5, in order")
    version, seq = value[EnvelopeKey.VERSION], value[EnvelopeKey.SEQ]
    issued, not_after = value[EnvelopeKey.ISSUED_AT], value[EnvelopeKey.NOT_AFTER]
    check_envelope_fields(version, seq, issued, not_after, versions=versions, bad=bad)
    return version, seq, issued, not_after, value[EnvelopeKey.BODY]


# -- CBOR heads read by hand, with explicit bounds (the trust-list index and the payload span) --------------

_BSTR = 2
#: Smallest argument each head width may carry in preferred serialisation (RFC 8949 §4.2.1).
_MIN_ARG = {1: 24, 2: 1 << 8, 4: 1 << 16, 8: 1 << 32}


def read_head(data: bytes, pos: int, end: int, bad: Callable[[str], DecodeError]) -> tuple[int, int, int]:
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


def payload_span(document: bytes, payload: bytes, *, code: ErrorCode = ErrorCode.TRUST_LIST_INVALID,
                 stage: Stage = Stage.TRUST_LIST) -> tuple[int, int]:
    """Where ``payload`` lies in ``document``, a signed document that decoded strictly to it (tag 18, an array
    of four, the protected header, an empty unprotected header, the payload): ``(start, end)``.

    Lets a document keep the bytes it received instead of a copy of its payload. Raises DecodeError(code)
    when ``document`` is not laid out so (it then did not decode strictly).
    """
    def invalid(message: str) -> DecodeError:
        return DecodeError(code, stage, f"signed document: {message}")

    end = len(document)
    if document[:2] != b"\xd2\x84":  # tag 18, array of 4
        raise invalid("not a tagged COSE_Sign1")
    major, length, pos = read_head(document, 2, end, invalid)
    if major != _BSTR or document[pos + length:pos + length + 1] != b"\xa0":
        raise invalid("not a COSE_Sign1 with an empty unprotected header")
    major, length, start = read_head(document, pos + length + 1, end, invalid)
    if major != _BSTR or length != len(payload) or not document.startswith(payload, start):
        raise invalid("the payload is not where its encoding puts it")
    return start, start + length
