"""Wire format of signed documents (trust lists, rule bundles): integer-keyed CBOR maps in COSE_Sign1.

Both documents share one envelope: ``{1: version, 2: seq, 3: issued_at, 4: not_after, 5: body}``, signed
as a tagged COSE_Sign1 whose protected header carries alg, kid and a content type that tells the two
apart (a rule bundle can never be loaded as a trust list, nor a health code as either).
"""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import Any

from healthpass.codec.cbor import canonical_order, decode, encode
from healthpass.codec.cose import cbor_limits
from healthpass.errors import DecodeError, ErrorCode, Stage
from healthpass.model.cose import MAX_NUMERIC_DATE
from healthpass.model.credential import Kind
from healthpass.model.policy import Limits

__all__ = ["ContentType", "EnvelopeKey", "KIND_CODES", "KeyEntryKey", "decode_envelope", "encode_envelope"]

ENVELOPE_VERSION = 1


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
    """Fields of one issuer key in a trust list body (an array of such maps)."""

    KID = 1
    SPKI = 2
    CERTIFICATE = 3
    REGION = 4
    KINDS = 5
    VALID_FROM = 6
    VALID_UNTIL = 7
    STATUS = 8
    RETIRED_AT = 9


#: Kind <-> its integer code in a trust list.
KIND_CODES = ((Kind.STATUS, 1), (Kind.NAAT, 2), (Kind.ANTIBODY, 3), (Kind.VACCINATION, 4), (Kind.RECOVERY, 5))


def encode_envelope(seq: int, issued_at: int, not_after: int, body: Any) -> bytes:
    return encode({
        EnvelopeKey.VERSION.value: ENVELOPE_VERSION,
        EnvelopeKey.SEQ.value: seq,
        EnvelopeKey.ISSUED_AT.value: issued_at,
        EnvelopeKey.NOT_AFTER.value: not_after,
        EnvelopeKey.BODY.value: body,
    })


def decode_envelope(
    data: bytes, *, limits: Limits, stage: Stage, code: ErrorCode, typed: bool = False
) -> tuple[int, int, int, Any]:
    """``(seq, issued_at, not_after, body)`` from a signed document's payload. Raises DecodeError(code).

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
    for name, item in (("seq", seq), ("issued_at", issued), ("not_after", not_after)):
        if type(item) is not int or not 0 <= item <= (2**53 if name == "seq" else MAX_NUMERIC_DATE):
            raise bad(f"{name} must be a non-negative integer in range")
    if not_after <= issued:
        raise bad("not_after must follow issued_at")
    return seq, issued, not_after, value[EnvelopeKey.BODY]
