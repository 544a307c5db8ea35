"""COSE_Sign1 structure (RFC 9052 §4.2) and CWT claims (RFC 8392) on the wire."""

from __future__ import annotations

import functools
import math
from typing import Any

from healthpass.codec.cbor import (
    CborLimits,
    Tagged,
    canonical_order,
    decode,
    encode,
    has_key_order,
    key_orders,
    may_hold_tag,
)
from healthpass.errors import DecodeError, ErrorCode, Stage
from healthpass.model.cose import MAX_NUMERIC_DATE, CborTag, ClaimKey, CoseSign1, CoseTag, CwtClaims, HeaderLabel
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
    """Check a header map's structure and value types. ``strict`` (healthpass): only alg, kid, crit and content
    type. What the parameters mean (``crit``, where alg and kid may sit) is :func:`healthpass.cose.read_headers`'s."""
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
            if label == HeaderLabel.CONTENT_TYPE and type(item) is not str and type(item) is not int:
                raise _cose_error(f"{where} content type is neither text nor an integer")
    return value


#: The layout of (almost) every healthpass code and EU DCC, read by hand without a CBOR decoder (see
#: ``_plain_sign1``): tag 18, an array of four byte strings and one header map, each head in preferred
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
        header = _header(_protected_map(protected, limits, strict=strict), "protected", limits, strict=strict)
    except DecodeError:
        return None
    if any(type(v) not in (int, str, bytes) for v in header.values()):  # e.g. crit (a list): not cached
        return None
    return tuple(header.items())


def _protected_map(protected: bytes, limits: Limits, *, strict: bool) -> Any:
    if not protected:
        return {}
    return decode(protected, what="protected header", deterministic=strict, limits=cbor_limits(limits),
                  stage=Stage.COSE, typed=strict)


def _plain_sign1(data: bytes, limits: Limits, *, strict: bool) -> CoseSign1 | None:
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


def decode_sign1(data: bytes, *, limits: Limits, strict: bool) -> CoseSign1:
    """Decode a COSE_Sign1 message.

    ``strict`` (healthpass codes): deterministic encoding, tag 18 required, no label in both headers.
    Otherwise (EU DCC): tagged 18, untagged, or wrapped in CWT tag 61, any valid encoding.
    """
    plain = _plain_sign1(data, limits, strict=strict)
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
    protected_header = _header(_protected_map(protected, limits, strict=strict), "protected", limits, strict=strict)
    unprotected_header = _header(unprotected, "unprotected", limits, strict=False)
    if strict and unprotected_header:
        raise _cose_error("the unprotected header of a healthpass code must be empty")
    return CoseSign1(protected, protected_header, unprotected_header, payload, signature, tuple(tags))


_TIME_TAGS = frozenset({CborTag.EPOCH_TIME.value})


def _numeric_date(value: object, key: ClaimKey, *, lenient: bool, deviations: list[tuple[str, str]]) -> int:
    """A NumericDate claim. ``lenient`` (EU): also a float (truncated) or either wrapped in tag 1, each
    recorded in ``deviations``."""
    name = key.name.lower()
    if lenient and type(value) is Tagged and value.tag == CborTag.EPOCH_TIME:
        deviations.append((name, "tag"))
        value = value.value
    if type(value) is float and lenient:
        if not math.isfinite(value):
            raise _claims_error(f"{key.name.lower()} is not a finite number")
        if value < 0:  # checked before truncation: -0.5 is out of range, not 0
            raise _claims_error(f"{key.name.lower()} is out of range")
        deviations.append((name, "float"))
        value = int(value)
    if type(value) is not int:
        raise _claims_error(f"{key.name.lower()} must be an integer NumericDate")
    if not 0 <= value <= MAX_NUMERIC_DATE:
        raise _claims_error(f"{key.name.lower()} is out of range")
    return value


#: Claim keys in the length-first canonical order a healthpass code lists them: 1, 4, 5, 6, 7 (one byte
#: each), then the 3-byte status reference (65535: 19 ff ff) and payload claim (-300: 39 01 2b). Any ordered
#: subset of these is canonical without ranking the keys.
_CANONICAL_CLAIMS = (ClaimKey.ISS, ClaimKey.EXP, ClaimKey.NBF, ClaimKey.IAT, ClaimKey.CTI, ClaimKey.STATUS,
                     ClaimKey.HEALTHPASS, ClaimKey.PROVENANCE)
_CANONICAL_CLAIM_ORDERS = key_orders(map(int, _CANONICAL_CLAIMS))
_ISS, _IAT, _EXP, _NBF, _CTI = (int(k) for k in (ClaimKey.ISS, ClaimKey.IAT, ClaimKey.EXP, ClaimKey.NBF, ClaimKey.CTI))


def decode_claims(payload: bytes, *, limits: Limits, strict: bool) -> CwtClaims:
    """Decode a CWT claims set: strict = healthpass (deterministic, integer times), else EU: times may also be
    floats or wrapped in CBOR tag 1 (``CwtClaims.time_deviations`` records which); tag 1 anywhere else is
    left as :class:`Tagged` for the claim's own type check to refuse."""
    value = decode(payload, what="CWT claims", deterministic=strict, stage=Stage.CLAIMS,
                   limits=cbor_limits(limits, allow_floats=not strict), typed=strict,
                   allowed_tags=frozenset() if strict else _TIME_TAGS)
    if type(value) is not dict:
        raise _claims_error("CWT claims are not a map")
    keys = tuple(value)
    # canonical_order (which refuses any key that is not an integer, text or bytes) decides whenever the
    # quick check fails
    if strict and not has_key_order(keys, _CANONICAL_CLAIM_ORDERS) and not canonical_order(keys):
        raise _claims_error("CWT claims keys are not in canonical order")
    if None in value.values():
        for key in (ClaimKey.ISS, ClaimKey.CTI, *_TIME_CLAIMS):  # null is a wrong type, not an absent claim
            if key in value and value[key] is None:
                raise _claims_error(f"{key.name.lower()} is null")
    iss, cti = value.get(_ISS), value.get(_CTI)
    iat, exp, nbf = value.get(_IAT), value.get(_EXP), value.get(_NBF)
    # EU floats are ordered before truncation: 10.9 > 10.1 (the numbers inside a tag 1, if any)
    raw_iat, raw_exp, raw_nbf = (t.value if type(t) is Tagged and not strict else t for t in (iat, exp, nbf))
    if iss is not None and type(iss) is not str:
        raise _claims_error("iss must be text")
    if cti is not None and (type(cti) is not bytes or len(cti) > limits.max_string):
        raise _claims_error("cti must be a byte string within the string limit")
    deviations: list[tuple[str, str]] = []
    for time in (iat, exp, nbf):
        if time is not None and (type(time) is not int or not 0 <= time <= MAX_NUMERIC_DATE):
            iat, exp, nbf = (None if t is None else _numeric_date(t, key, lenient=not strict, deviations=deviations)
                             for t, key in zip((iat, exp, nbf), _TIME_CLAIMS, strict=True))
            break
    if raw_iat is not None and raw_exp is not None and raw_exp < raw_iat:
        raise _claims_error("exp precedes iat")
    if raw_nbf is not None and raw_exp is not None and raw_nbf > raw_exp:
        raise _claims_error("nbf follows exp")
    other = {k: value[k] for k in keys if k not in _KNOWN_CLAIMS}
    if not strict and may_hold_tag(payload, CborTag.EPOCH_TIME) and _holds_tagged(other.values()):
        raise _claims_error("CBOR tag 1 outside iat, exp and nbf")
    return CwtClaims(iss, iat, exp, nbf, cti, other, tuple(deviations))


def _holds_tagged(values: Any) -> bool:
    """Whether any of the decoded ``values`` (bounded by the decoder) is or holds a :class:`Tagged`."""
    stack = list(values)
    while stack:
        item = stack.pop()
        if type(item) is Tagged:
            return True
        if type(item) is dict:
            stack.extend(item.values())
        elif type(item) is list:
            stack.extend(item)
    return False
