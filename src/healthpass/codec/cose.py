"""COSE_Sign1 structure (RFC 9052 §4.2) and CWT claims (RFC 8392) on the wire."""

from __future__ import annotations

import functools
import math
from types import MappingProxyType
from typing import Any

from healthpass.codec.cbor import CborLimits, Tagged, canonical_order, decode, encode, has_key_order, key_orders
from healthpass.errors import DecodeError, ErrorCode, Stage
from healthpass.model.cose import MAX_NUMERIC_DATE, Algorithm, ClaimKey, CoseSign1, CoseTag, CwtClaims, HeaderLabel
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


def _bstr(data: bytes) -> bytes:
    """A CBOR byte string in preferred serialisation (head with the shortest length, then the bytes)."""
    size = len(data)
    if size < 24:
        return bytes((_BSTR | size,)) + data
    if size < 0x100:
        return bytes((_BSTR | 24, size)) + data
    if size < 0x10000:
        return bytes((_BSTR | 25,)) + size.to_bytes(2, "big") + data
    return encode(data)


_BSTR = 0x40  # major type 2 (byte string) in the head's top three bits
#: The fixed parts of a Sig_structure (RFC 9052 §4.4) and of a tagged COSE_Sign1, encoded once.
_SIG_STRUCTURE_HEAD = encode(["Signature1", b"", b"", b""])[:-3]  # array(4), "Signature1"
_SIGN1_ARRAY_HEAD = encode(Tagged(CoseTag.SIGN1, [b"", b"", b"", b""]))[:-4]  # tag 18, array(4)
_EMPTY_MAP = encode({})


def sig_structure(protected: bytes, payload: bytes, external_aad: bytes = b"") -> bytes:
    """The ``Sig_structure`` for COSE_Sign1, built over the protected header bytes as given.

    Concatenated from preferred-serialisation byte strings, which is exactly the deterministic CBOR encoding
    of ``["Signature1", protected, external_aad, payload]`` (tested against the encoder)."""
    return _SIG_STRUCTURE_HEAD + _bstr(protected) + _bstr(external_aad) + _bstr(payload)


def encode_sign1(protected: bytes, unprotected: dict[int, Any], payload: bytes, signature: bytes) -> bytes:
    """A tagged (18) COSE_Sign1 in deterministic encoding (concatenated like :func:`sig_structure`)."""
    header = _EMPTY_MAP if not unprotected else encode(unprotected)
    return _SIGN1_ARRAY_HEAD + _bstr(protected) + header + _bstr(payload) + _bstr(signature)


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


#: The shape of (almost) every healthpass code, read by hand without a CBOR decoder (see ``_plain_sign1``):
#: tag 18, an array of four, a 13-byte protected header {1: alg, 4: h'<8-byte kid>'} for ES256 or EdDSA.
_PLAIN_KID = 8
_PLAIN_PROTECTED = MappingProxyType({
    encode({HeaderLabel.ALG.value: alg.value, HeaderLabel.KID.value: bytes(_PLAIN_KID)})[:-_PLAIN_KID]: alg.value
    for alg in (Algorithm.ES256, Algorithm.EDDSA)
})
_PLAIN_HEAD = encode(Tagged(CoseTag.SIGN1, [bytes(13), {}, b"", b""]))[:3]  # d2 84 4d: tag, array, bstr(13)
_PLAIN_UNPROTECTED = encode({})  # a0
_PLAIN_SIGNATURE_HEAD = encode(bytes(64))[:2]  # 58 40: a 64-byte byte string (ES256 and EdDSA)
_BSTR_1BYTE_LENGTH, _BSTR_2BYTE_LENGTH = 0x58, 0x59  # byte string heads with a 1- and 2-byte length
_PROTECTED_AT, _KID_AT, _UNPROTECTED_AT, _PAYLOAD_AT = 3, 8, 16, 17  # offsets in the plain layout
_SIGNATURE_ITEM = 66  # head and 64 bytes
_ALG, _KID, _SIGN1 = HeaderLabel.ALG.value, HeaderLabel.KID.value, CoseTag.SIGN1.value


def _plain_sign1(data: bytes) -> CoseSign1 | None:
    """The common healthpass message, parsed by hand: tag 18, [protected {1: ES256/EdDSA, 4: 8-byte kid},
    {}, payload of 24-65535 bytes, 64-byte signature], every head in preferred serialisation and nothing
    after it. Returns None for anything else (the generic strict decoder then decides, and names the
    defect), so it accepts a subset of what that decoder accepts, with the same result (tested)."""
    if (len(data) < _PAYLOAD_AT + 3 + _SIGNATURE_ITEM or data[:_PROTECTED_AT] != _PLAIN_HEAD
            or data[_UNPROTECTED_AT:_PAYLOAD_AT] != _PLAIN_UNPROTECTED):
        return None
    alg = _PLAIN_PROTECTED.get(data[_PROTECTED_AT:_KID_AT])
    if alg is None:
        return None
    head = data[_PAYLOAD_AT]
    if head == _BSTR_1BYTE_LENGTH:  # preferred serialisation: a 1-byte length only from 24, 2 bytes from 256
        size, start = data[_PAYLOAD_AT + 1], _PAYLOAD_AT + 2
        if size < 24:
            return None
    elif head == _BSTR_2BYTE_LENGTH:
        size, start = int.from_bytes(data[_PAYLOAD_AT + 1 : _PAYLOAD_AT + 3], "big"), _PAYLOAD_AT + 3
        if size < 256:
            return None
    else:
        return None
    end = start + size
    if len(data) != end + _SIGNATURE_ITEM or data[end : end + 2] != _PLAIN_SIGNATURE_HEAD:
        return None
    header: dict[int | str, Any] = {_ALG: alg, _KID: data[_KID_AT:_UNPROTECTED_AT]}
    return CoseSign1(data[_PROTECTED_AT:_UNPROTECTED_AT], header, {}, data[start:end], data[end + 2 :], (_SIGN1,))


def decode_sign1(data: bytes, *, limits: Limits, strict: bool) -> CoseSign1:
    """Decode a COSE_Sign1 message.

    ``strict`` (healthpass codes): deterministic encoding, tag 18 required, no label in both headers.
    Otherwise (EU DCC): tagged 18, untagged, or wrapped in CWT tag 61, any valid encoding.
    """
    if strict:
        plain = _plain_sign1(data)
        if plain is not None:
            return plain
    return _generic_sign1(data, limits=limits, strict=strict)


def _generic_sign1(data: bytes, *, limits: Limits, strict: bool) -> CoseSign1:
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


#: Claim keys in the length-first canonical order a healthpass code lists them: 1, 4, 5, 6, 7 (one byte
#: each), then the 3-byte payload claim. Any ordered subset of these is canonical without ranking the keys.
_CANONICAL_CLAIMS = (ClaimKey.ISS, ClaimKey.EXP, ClaimKey.NBF, ClaimKey.IAT, ClaimKey.CTI, ClaimKey.HEALTHPASS)
_CANONICAL_CLAIM_ORDERS = key_orders(map(int, _CANONICAL_CLAIMS))
_ISS, _IAT, _EXP, _NBF, _CTI = (int(k) for k in (ClaimKey.ISS, ClaimKey.IAT, ClaimKey.EXP, ClaimKey.NBF, ClaimKey.CTI))


def decode_claims(payload: bytes, *, limits: Limits, strict: bool) -> CwtClaims:
    """Decode a CWT claims set: strict = healthpass (deterministic, integer times), else EU (floats allowed)."""
    value = decode(payload, what="CWT claims", deterministic=strict, stage=Stage.CLAIMS,
                   limits=cbor_limits(limits, allow_floats=not strict), typed=strict)
    if type(value) is not dict:
        raise _claims_error("CWT claims are not a map")
    keys = tuple(value)
    # canonical_order (which refuses any key that is not an integer, text or bytes) decides whenever the
    # quick check fails
    if strict and not has_key_order(keys, _CANONICAL_CLAIM_ORDERS) and not canonical_order(keys):
        raise _claims_error("CWT claims keys are not in canonical order")
    iss, cti = value.get(_ISS), value.get(_CTI)
    times = [value.get(_IAT), value.get(_EXP), value.get(_NBF)]
    if None in (iss, cti, *times):
        for key in (ClaimKey.ISS, ClaimKey.CTI, *_TIME_CLAIMS):  # null is a wrong type, not an absent claim
            if key in value and value[key] is None:
                raise _claims_error(f"{key.name.lower()} is null")
    if iss is not None and type(iss) is not str:
        raise _claims_error("iss must be text")
    if cti is not None and (type(cti) is not bytes or len(cti) > limits.max_string):
        raise _claims_error("cti must be a byte string within the string limit")
    for i, key in enumerate(_TIME_CLAIMS):
        time = times[i]
        if time is not None and (type(time) is not int or not 0 <= time <= MAX_NUMERIC_DATE):
            times[i] = _numeric_date(time, key, allow_float=not strict)
    iat, exp, nbf = times
    if iat is not None and exp is not None and exp < iat:
        raise _claims_error("exp precedes iat")
    if nbf is not None and exp is not None and nbf > exp:
        raise _claims_error("nbf follows exp")
    other = {k: value[k] for k in keys if k not in _KNOWN_CLAIMS}
    return CwtClaims(iss, iat, exp, nbf, cti, other)
