"""The provenance claim of a transcoded code on the wire (``specs/credential.md`` §10).

A map with integer keys 1-8, all required, in canonical order; times are NumericDates. Anything else
(an unknown key, a wrong type, a value out of range) is ``claims_invalid``: the claim sits beside the
payload, inside the signed claims set.
"""

from __future__ import annotations

from typing import Any

from healthpass.errors import DecodeError, ErrorCode, Stage
from healthpass.model.cose import MAX_NUMERIC_DATE
from healthpass.model.provenance import DigestOf, Provenance, ProvenanceKey, SourceFormat
from healthpass.model.time import from_numeric_date, to_numeric_date

__all__ = ["provenance_from_cbor", "provenance_to_cbor"]

_KEYS = tuple(int(k) for k in ProvenanceKey)


def provenance_to_cbor(p: Provenance) -> dict[int, Any]:
    """The claim value, keys in canonical order."""
    return {
        ProvenanceKey.FORMAT.value: p.format.value,
        ProvenanceKey.ORIGIN.value: p.origin,
        ProvenanceKey.KID.value: p.kid,
        ProvenanceKey.IAT.value: to_numeric_date(p.issued_at),
        ProvenanceKey.EXP.value: to_numeric_date(p.expires_at),
        ProvenanceKey.DIGEST.value: p.digest,
        ProvenanceKey.DIGEST_OF.value: p.digest_of.value,
        ProvenanceKey.DEPTH.value: p.depth,
    }


def provenance_from_cbor(value: object) -> Provenance:
    """Decode the claim value. Raises DecodeError ``claims_invalid`` on anything malformed."""
    if type(value) is not dict or tuple(value) != _KEYS:
        raise _invalid("it must be a map with exactly the keys 1-8 in order")
    fmt, origin, kid, iat, exp, digest, digest_of, depth = (value[k] for k in _KEYS)
    for name, number in (("iat", iat), ("exp", exp)):
        if type(number) is not int or not 0 <= number <= MAX_NUMERIC_DATE:
            raise _invalid(f"the source's {name} must be a NumericDate up to 2100")
    if type(fmt) is not str or fmt not in SourceFormat.__members__:
        raise _invalid("unknown source format")
    if type(digest_of) is not int or digest_of not in DigestOf._value2member_map_:
        raise _invalid("unknown digest kind")
    if type(origin) is not str or type(kid) is not bytes or type(digest) is not bytes or type(depth) is not int:
        raise _invalid("wrong value types")
    try:
        return Provenance(
            format=SourceFormat(fmt), origin=origin, kid=kid,
            issued_at=from_numeric_date(iat), expires_at=from_numeric_date(exp),
            digest=digest, digest_of=DigestOf(digest_of), depth=depth,
        )
    except ValueError as err:
        raise _invalid(str(err).removeprefix("Provenance.")) from None


def _invalid(message: str) -> DecodeError:
    return DecodeError(ErrorCode.CLAIMS_INVALID, Stage.CLAIMS, f"provenance claim: {message}")
