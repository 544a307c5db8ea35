"""UNVERIFIED inspection: decode codes, trust lists and status lists WITHOUT checking any signature, root or scope.

Everything here is for debugging, support and tooling (``healthpass decode``, ``healthpass trust show``
without ``--root``, ``healthpass status show`` without trust); never base a decision on it. What it returns
are plain records: dictionaries, tuples and the
:class:`UnverifiedKey` / :class:`UnverifiedTrustList` values below, which no verifying API accepts
(``Verifier(keys=...)``, ``KeyRing`` and ``Verifier(trust_lists=...)`` raise TypeError). Verified values —
:class:`~healthpass.trust.TrustList`, :class:`~healthpass.rules.RuleBundle` — are built only by their
``load``, which checks the signature. (pyca/cryptography keeps its ``hazmat`` layer apart the same way.)
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from healthpass.codec import Prefix, b45decode, decode_claims, decode_sign1, decompress, split_prefix
from healthpass.codec.payload import payload_from_cbor
from healthpass.codec.statuslist import (
    DELTA_TYP,
    STATUS_LIST_TYP,
    decode_delta_claims,
    decode_status_reference,
    decode_token_claims,
    unpack_lst,
)
from healthpass.errors import DecodeError, ErrorCode, Stage, TrustListError
from healthpass.model.cose import ClaimKey, HeaderLabel
from healthpass.model.credential import Kind
from healthpass.model.jsonform import payload_to_json
from healthpass.model.policy import MAX_DOCUMENT_BYTES, Limits
from healthpass.model.regions import Region
from healthpass.model.time import format_iso, from_numeric_date
from healthpass.model.trust import KeyStatus
from healthpass.status import _LIMITS as _STATUS_LIMITS  # the status-list decoder's bounds, used unverified
from healthpass.status import _TYP, MAX_DELTA_CHANGES
from healthpass.status import _counts as _status_counts
from healthpass.status import _immutable as _status_immutable
from healthpass.status import _invalid as _status_invalid
from healthpass.trust import _LIST_LIMITS, _unverified_keys  # the trust-list decoder, used unverified

__all__ = [
    "UnverifiedKey",
    "UnverifiedTrustList",
    "decode_unverified",
    "inspect_status_list_unverified",
    "inspect_trust_list_unverified",
]


@dataclass(frozen=True, slots=True, repr=False)  # __repr__ below
class UnverifiedKey:
    """A trust-list key entry as written in a list whose signature was NOT checked: a plain record, not an
    :class:`~healthpass.model.trust.IssuerKey` (no verifying API accepts it)."""

    kid: bytes
    key_der: bytes
    is_certificate: bool
    region: Region | None
    kinds: frozenset[Kind]
    valid_from: datetime | None
    valid_until: datetime | None
    status: KeyStatus
    retired_at: datetime | None
    max_validity: timedelta | None

    def __repr__(self) -> str:
        return f"UnverifiedKey(kid={self.kid.hex()}, region={self.region.code if self.region else '*'})"


class UnverifiedTrustList(NamedTuple):
    """A trust list decoded WITHOUT checking its signature (unpacks as ``seq, issued_at, not_after, keys``)."""

    seq: int
    issued_at: datetime
    not_after: datetime
    keys: tuple[UnverifiedKey, ...]


def inspect_trust_list_unverified(data: bytes) -> UnverifiedTrustList:
    """UNVERIFIED: decode a trust list without checking its signature (``trust show`` without a root).

    Every entry is decoded and checked as a verifier would (but for the region scope, which needs a root).
    Raises TrustListError (``trust_list_invalid``); TypeError when ``data`` is not bytes.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError("a trust list is bytes")
    data = bytes(data)
    if len(data) > MAX_DOCUMENT_BYTES:
        raise TrustListError(ErrorCode.TRUST_LIST_INVALID, Stage.TRUST_LIST, f"larger than {MAX_DOCUMENT_BYTES} bytes")
    try:
        msg = decode_sign1(data, limits=dataclasses.replace(_LIST_LIMITS, max_string=max(_LIST_LIMITS.max_string,
                                                                                        len(data))), strict=True)
    except DecodeError as err:
        raise TrustListError(ErrorCode.TRUST_LIST_INVALID, Stage.TRUST_LIST, err.message) from err
    seq, issued, not_after, keys = _unverified_keys(data, msg.payload)
    records = tuple(
        UnverifiedKey(kid=k.kid, key_der=k.key_der, is_certificate=k.is_certificate, region=k.region,
                      kinds=k.kinds, valid_from=k.valid_from, valid_until=k.valid_until, status=k.status,
                      retired_at=k.retired_at, max_validity=k.max_validity)
        for k in keys
    )
    return UnverifiedTrustList(seq, from_numeric_date(issued), not_after, records)


def decode_unverified(text: str, *, limits: Limits | None = None) -> dict[str, Any]:
    """UNVERIFIED inspection: decode a code's headers, claims and payload WITHOUT checking its signature,
    issuer, scope or validity. For debugging and support only; never base a decision on it.

    Raises DecodeError when the code cannot be decoded at all.
    """
    limits = limits or Limits()
    prefix, body = split_prefix(text, max_text=limits.max_text)
    strict = prefix is Prefix.HP1
    lead = 4 if not text[:1].isspace() else len(text) - len(text.lstrip()) + 4  # base45 offsets in the given text
    message = decompress(b45decode(body, offset=lead), max_size=limits.max_decompressed)
    sign1 = decode_sign1(message, limits=limits, strict=strict)
    claims = decode_claims(sign1.payload, limits=limits, strict=strict)
    alg = sign1.protected_header.get(HeaderLabel.ALG, sign1.unprotected_header.get(HeaderLabel.ALG))
    kid = sign1.protected_header.get(HeaderLabel.KID, sign1.unprotected_header.get(HeaderLabel.KID))
    out: dict[str, Any] = {
        "verified": False,
        "format": prefix.value.rstrip(":"),
        "alg": alg,
        "kid": kid.hex() if isinstance(kid, bytes) else None,
        "issuer": claims.iss,
        "issued_at": _when(claims.iat) if claims.iat is not None else None,
        "expires_at": _when(claims.exp) if claims.exp is not None else None,
        "credential_id": claims.cti.hex() if claims.cti else None,
    }
    if strict and claims.iat is not None and ClaimKey.HEALTHPASS in claims.other:
        out["credential"] = payload_to_json(payload_from_cbor(claims.other[ClaimKey.HEALTHPASS], iat=claims.iat))
        if ClaimKey.STATUS in claims.other:
            ref = decode_status_reference(claims.other[ClaimKey.STATUS])
            out["status_reference"] = {"uri": ref.uri, "idx": ref.idx}
    elif not strict:
        hcert = claims.other.get(ClaimKey.HCERT)
        out["credential"] = {"dcc": hcert.get(1)} if isinstance(hcert, dict) else None
    return out


def _when(value: int) -> str:
    return format_iso(from_numeric_date(value))


def inspect_status_list_unverified(data: bytes) -> tuple[str, datetime, datetime, str, str]:
    """UNVERIFIED: ``(uri, iat, exp, kind, summary)`` of a status list (kind ``list``) or delta (``delta``),
    without checking its signature (``healthpass status show`` without trust). Raises StatusListError."""
    data = _status_immutable(data, "status list")
    if len(data) > MAX_DOCUMENT_BYTES:
        raise _status_invalid(f"larger than {MAX_DOCUMENT_BYTES} bytes")
    try:
        bounds = dataclasses.replace(_STATUS_LIMITS, max_string=max(_STATUS_LIMITS.max_string, len(data)))
        msg = decode_sign1(data, limits=bounds, strict=False)
        typ = msg.protected_header.get(_TYP)
        if typ == DELTA_TYP:
            delta = decode_delta_claims(msg.payload, max_changes=MAX_DELTA_CHANGES)
            changed = Counter(v for _, v in delta.changes)
            base_iat = from_numeric_date(delta.base_iat).isoformat()
            summary = (f"base iat {base_iat} sha256 {delta.base_sha256.hex()[:16]}..., "
                       f"{len(delta.changes)} changes ({_status_counts(changed)})")
            return delta.uri, from_numeric_date(delta.issued_at), from_numeric_date(delta.expires_at), "delta", summary
        if typ != STATUS_LIST_TYP:
            raise _status_invalid("neither a status list nor a status delta (protected typ)")
        claims = decode_token_claims(msg.payload, max_string=len(data))
        raw = unpack_lst(claims.lst, max_size=_STATUS_LIMITS.max_decompressed)
    except DecodeError as err:
        raise _status_invalid(err.message) from err
    per_byte, top = 8 // claims.bits, (1 << claims.bits) - 1
    values: Counter[int] = Counter()
    for byte, count in Counter(raw).items():
        for slot in range(per_byte):
            value = (byte >> (slot * claims.bits)) & top
            if value:
                values[value] += count
    ttl = f", ttl {claims.ttl} s" if claims.ttl is not None else ""
    summary = f"{len(raw) * per_byte} entries of {claims.bits} bits{ttl} ({_status_counts(values)})"
    return claims.uri, from_numeric_date(claims.issued_at), from_numeric_date(claims.expires_at), "list", summary
