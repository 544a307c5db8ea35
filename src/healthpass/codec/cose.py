"""COSE_Sign1 structure (RFC 9052 §4.2) and CWT claims (RFC 8392) on the wire."""

from __future__ import annotations

import functools
import math
from typing import Any

from healthpass.codec.cbor import CborLimits, Tagged, canonical_order, decode, encode
from healthpass.errors import DecodeError, ErrorCode, Stage
from healthpass.model.cose import MAX_NUMERIC_DATE, ClaimKey, CoseSign1, CoseTag, CwtClaims, HeaderLabel
from healthpass.model.policy import Limits

__all__ = ["decode_claims", "decode_sign1", "encode_sign1", "sig_structure"]

_SIGN1_ITEMS = 4
_SIGN1_TAGS = frozenset({CoseTag.SIGN1, CoseTag.CWT})
_TIME_CLAIMS = (ClaimKey.IAT, ClaimKey.EXP, ClaimKey.NBF)
_KNOWN_CLAIMS = frozenset({ClaimKey.ISS, ClaimKey.CTI, *_TIME_CLAIMS})


def _cose_error(message: str) -> DecodeError:
    return DecodeError(ErrorCode.COSE_INVALID, Stage.COSE, message)


def _claims_error(message: str) -> DecodeError:
    return DecodeError(ErrorCode.CLAIMS_INVALID, Stage.CLAIMS, message)


@functools.lru_cache(maxsize=64)  # called on every decode; both types are frozen values
def cbor_limits(limits: Limits, *, allow_floats: bool = False) -> CborLimits:
    return CborLimits(limits.max_depth, limits.max_items, limits.max_string, allow_floats)


def sig_structure(protected: bytes, payload: bytes, external_aad: bytes = b"") -> bytes:
    """The ``Sig_structure`` for COSE_Sign1, built over the protected header bytes as given."""
    return encode(["Signature1", protected, external_aad, payload])


def encode_sign1(protected: bytes, unprotected: dict[int, Any], payload: bytes, signature: bytes) -> bytes:
    """A tagged (18) COSE_Sign1 in deterministic encoding."""
    return encode(Tagged(CoseTag.SIGN1, [protected, unprotected, payload, signature]))


#: Header parameters a healthpass code may carry (everything else is refused, so nothing goes unchecked).
_STRICT_HEADERS = frozenset({HeaderLabel.ALG, HeaderLabel.KID, HeaderLabel.CRIT, HeaderLabel.CONTENT_TYPE})


def _header(value: object, where: str, limits: Limits, *, strict: bool) -> dict[int | str, Any]:
    """Check a header map. ``strict`` (healthpass): only alg, kid, crit and content type, each typed."""
    if type(value) is not dict:
        raise _cose_error(f"{where} header is not a map")
    if strict and not canonical_order(value):
        raise _cose_error(f"{where} header keys are not in canonical order")
    if len(value) > limits.max_header_entries:
        raise _cose_error(f"{where} header has more than {limits.max_header_entries} entries")
    for label, item in value.items():
        if type(label) not in (int, str):
            raise _cose_error(f"{where} header label is neither an integer nor text")
        if label == HeaderLabel.ALG and type(item) is not int:
            raise _cose_error(f"{where} alg is not an integer")
        if label == HeaderLabel.KID and (type(item) is not bytes or len(item) > limits.max_string):
            raise _cose_error(f"{where} kid is not a byte string within the string limit")
        if strict:
            if label not in _STRICT_HEADERS:
                raise _cose_error(f"{where} header parameter {label!r} is not allowed in healthpass codes")
            if label == HeaderLabel.CRIT and not (
                type(item) is list and all(type(x) is int or type(x) is str for x in item)
            ):
                raise _cose_error(f"{where} crit is not an array of labels")
            if label == HeaderLabel.CONTENT_TYPE and type(item) is not str and type(item) is not int:
                raise _cose_error(f"{where} content type is neither text nor an integer")
    return value


def decode_sign1(data: bytes, *, limits: Limits, strict: bool) -> CoseSign1:
    """Decode a COSE_Sign1 message.

    ``strict`` (healthpass codes): deterministic encoding, tag 18 required, no label in both headers.
    Otherwise (EU DCC): tagged 18, untagged, or wrapped in CWT tag 61, any valid encoding.
    """
    value = decode(data, what="COSE_Sign1", deterministic=strict, limits=cbor_limits(limits),
                   allowed_tags=_SIGN1_TAGS, typed=strict)
    tags: list[int] = []
    while isinstance(value, Tagged):
        tags.append(value.tag)
        value = value.value
    if tuple(tags) not in (((CoseTag.SIGN1,),) if strict else ((CoseTag.SIGN1,), (CoseTag.CWT, CoseTag.SIGN1), ())):
        raise _cose_error(f"unexpected CBOR tags {tags} around COSE_Sign1")
    if type(value) is not list or len(value) != _SIGN1_ITEMS:
        raise _cose_error("COSE_Sign1 is not an array of four items")
    protected, unprotected, payload, signature = value
    if type(protected) is not bytes or type(payload) is not bytes or type(signature) is not bytes:
        raise _cose_error("COSE_Sign1 protected header, payload and signature must be byte strings")
    if protected:
        protected_map = decode(protected, what="protected header", deterministic=strict,
                               limits=cbor_limits(limits), stage=Stage.COSE, typed=strict)
    else:
        protected_map = {}
    protected_header = _header(protected_map, "protected", limits, strict=strict)
    unprotected_header = _header(unprotected, "unprotected", limits, strict=False)
    if strict and unprotected_header:
        raise _cose_error("the unprotected header of a healthpass code must be empty")
    return CoseSign1(protected, protected_header, unprotected_header, payload, signature, tuple(tags))


def _numeric_date(value: object, key: ClaimKey, *, allow_float: bool) -> int:
    if type(value) is float and allow_float:
        if not math.isfinite(value):
            raise _claims_error(f"{key.name.lower()} is not a finite number")
        value = int(value)
    if type(value) is not int:
        raise _claims_error(f"{key.name.lower()} must be an integer NumericDate")
    if not 0 <= value <= MAX_NUMERIC_DATE:
        raise _claims_error(f"{key.name.lower()} is out of range")
    return value


def decode_claims(payload: bytes, *, limits: Limits, strict: bool) -> CwtClaims:
    """Decode a CWT claims set: strict = healthpass (deterministic, integer times), else EU (floats allowed)."""
    value = decode(payload, what="CWT claims", deterministic=strict, stage=Stage.CLAIMS,
                   limits=cbor_limits(limits, allow_floats=not strict), typed=strict)
    if type(value) is not dict:
        raise _claims_error("CWT claims are not a map")
    if strict and not canonical_order(value):
        raise _claims_error("CWT claims keys are not in canonical order")
    for key in (ClaimKey.ISS, ClaimKey.CTI, *_TIME_CLAIMS):  # null is a wrong type, not an absent claim
        if key in value and value[key] is None:
            raise _claims_error(f"{key.name.lower()} is null")
    iss = value.get(ClaimKey.ISS)
    if iss is not None and type(iss) is not str:
        raise _claims_error("iss must be text")
    cti = value.get(ClaimKey.CTI)
    if cti is not None and (type(cti) is not bytes or len(cti) > limits.max_string):
        raise _claims_error("cti must be a byte string within the string limit")
    times = {
        key: None if value.get(key) is None else _numeric_date(value[key], key, allow_float=not strict)
        for key in _TIME_CLAIMS
    }
    iat, exp, nbf = times[ClaimKey.IAT], times[ClaimKey.EXP], times[ClaimKey.NBF]
    if iat is not None and exp is not None and exp < iat:
        raise _claims_error("exp precedes iat")
    if nbf is not None and exp is not None and nbf > exp:
        raise _claims_error("nbf follows exp")
    other = {k: v for k, v in value.items() if k not in _KNOWN_CLAIMS}
    return CwtClaims(iss, iat, exp, nbf, cti, other)
