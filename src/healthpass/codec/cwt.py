"""CWT claims (RFC 8392) on the wire: the claims map of a code, its registered claims typed and checked."""

from __future__ import annotations

import math
from typing import Any

from healthpass.codec.cbor import Tagged, canonical_order, cbor_limits, decode, has_key_order, key_orders, may_hold_tag
from healthpass.errors import DecodeError, ErrorCode, Stage
from healthpass.model.cose import MAX_NUMERIC_DATE, CborTag, ClaimKey, CwtClaims
from healthpass.model.policy import Limits

__all__ = ["decode_claims"]

_TIME_CLAIMS = (ClaimKey.IAT, ClaimKey.EXP, ClaimKey.NBF)
_KNOWN_CLAIMS = frozenset({ClaimKey.ISS, ClaimKey.CTI, *_TIME_CLAIMS})


def _claims_error(message: str) -> DecodeError:
    return DecodeError(ErrorCode.CLAIMS_INVALID, Stage.CLAIMS, message)


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
