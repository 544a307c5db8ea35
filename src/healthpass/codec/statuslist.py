"""Token Status List wire forms (draft-ietf-oauth-status-list-20) and healthpass's signed status delta.

- the Compressed Byte Array: ``bits`` (1, 2, 4, 8) per entry, least significant bits first within each byte,
  zlib (RFC 1950) at the highest level; decompression is bounded;
- the Status List Token's CWT claims (sub, iat, exp, ttl, status_list ``{bits, lst}``);
- the ``status`` claim of a Referenced Token (an HP1 code's reference ``{"status_list": {"idx", "uri"}}``);
- the status delta claims (``specs/status-delta.md``): base URI, iat and SHA-256, and every changed entry.

Everything decoded here is bounded (``Limits``) and raises DecodeError at ``Stage.STATUS`` with
``status_list_invalid``; the callers in :mod:`healthpass.status` check signatures, keys and time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from healthpass.codec.cbor import CborLimits, decode, encode
from healthpass.codec.compress import compress, decompress
from healthpass.errors import DecodeError, ErrorCode, Stage
from healthpass.model.cose import MAX_NUMERIC_DATE, ClaimKey
from healthpass.model.status import STATUS_BITS, StatusReference, check_status_uri

__all__ = [
    "DELTA_TYP",
    "STATUS_LIST_TYP",
    "DeltaClaims",
    "TokenClaims",
    "compress_list",
    "decode_delta_claims",
    "decode_status_reference",
    "decode_token_claims",
    "encode_delta_claims",
    "encode_status_reference",
    "encode_token_claims",
    "pack",
    "status_at",
    "unpack_lst",
]

#: the protected ``typ`` of a Status List Token in CWT form (draft §6.1)
STATUS_LIST_TYP = "application/statuslist+cwt"
#: the protected ``typ`` of a healthpass status delta (``specs/status-delta.md``)
DELTA_TYP = "application/vnd.healthpass.status-delta+cwt"

_SUB, _IAT, _EXP, _ISS = (int(k) for k in (ClaimKey.SUB, ClaimKey.IAT, ClaimKey.EXP, ClaimKey.ISS))
_TTL, _LIST, _STATUS, _DELTA = (int(k) for k in (ClaimKey.TTL, ClaimKey.STATUS_LIST, ClaimKey.STATUS,
                                                 ClaimKey.STATUS_DELTA))
#: claims a Status List Token may carry (anything else, e.g. nbf, would change its meaning unseen)
_TOKEN_CLAIMS = frozenset({_ISS, _SUB, _IAT, _EXP, _TTL, _LIST})
_DELTA_CLAIMS = frozenset({_SUB, _IAT, _EXP, _TTL, _DELTA})
_SHA256 = 32


def _bad(message: str) -> DecodeError:
    return DecodeError(ErrorCode.STATUS_LIST_INVALID, Stage.STATUS, message)


# ---------------------------------------------------------------- the compressed byte array


def pack(size: int, bits: int, entries: Iterable[tuple[int, int]]) -> bytearray:
    """The byte array of a list of ``size`` entries, all 0 but ``entries`` (index, value). Raises ValueError."""
    if bits not in STATUS_BITS:
        raise ValueError("bits must be 1, 2, 4 or 8")
    per_byte = 8 // bits
    if type(size) is not int or size <= 0 or size % per_byte:
        raise ValueError(f"a list of {bits}-bit entries has a positive multiple of {per_byte} entries")
    raw = bytearray(size // per_byte)
    shift = per_byte.bit_length() - 1
    mask = per_byte - 1
    top = (1 << bits) - 1
    for idx, value in entries:
        if not 0 <= idx < size or not 0 <= value <= top:
            raise ValueError(f"entry {idx}={value} does not fit a {size}-entry {bits}-bit list")
        at = idx >> shift
        offset = (idx & mask) * bits
        raw[at] = (raw[at] & ~(top << offset)) | (value << offset)
    return raw


def status_at(raw: bytes, bits: int, idx: int) -> int:
    """The value of entry ``idx`` in a byte array (the caller checks ``idx`` is within the list)."""
    per_byte = 8 // bits
    return (raw[idx // per_byte] >> ((idx % per_byte) * bits)) & ((1 << bits) - 1)


def unpack_lst(lst: bytes, *, max_size: int) -> bytes:
    """Inflate ``lst``: at most ``max_size`` bytes, never more work. Raises DecodeError (status_list_invalid)."""
    try:
        raw = decompress(lst, max_size=max_size)
    except DecodeError as err:
        raise _bad(f"the list's lst: {err.message}") from err
    if not raw:
        raise _bad("the list is empty")
    return raw


# ---------------------------------------------------------------- shared checks


def _uint(value: object, what: str, *, top: int = MAX_NUMERIC_DATE) -> int:
    if type(value) is not int or not 0 <= value <= top:
        raise _bad(f"{what} must be an integer in 0 .. {top}")
    return value


def _limits(max_string: int) -> CborLimits:
    return CborLimits(max_depth=4, max_items=1 << 22, max_string=max_string)


def _claims_map(payload: bytes, *, deterministic: bool, max_string: int, allowed: frozenset[int]) -> dict[Any, Any]:
    value = decode(payload, what="status claims", deterministic=deterministic, limits=_limits(max_string),
                   stage=Stage.STATUS)
    if type(value) is not dict:
        raise _bad("the claims are not a map")
    unknown = [k for k in value if k not in allowed]
    if unknown:
        raise _bad(f"unknown claim {unknown[0]!r}")
    return value


def _times(claims: Mapping[Any, Any]) -> tuple[str, int, int, int | None]:
    try:
        uri = check_status_uri(claims.get(_SUB))
    except ValueError as err:
        raise _bad(f"sub: {err}") from None
    if _IAT not in claims or _EXP not in claims:
        raise _bad("iat and exp are required")
    iat, exp = _uint(claims[_IAT], "iat"), _uint(claims[_EXP], "exp")
    if exp <= iat:
        raise _bad("exp must follow iat")
    ttl = claims.get(_TTL)
    if ttl is not None or _TTL in claims:
        ttl = _uint(ttl, "ttl", top=1 << 31)
    return uri, iat, exp, ttl


# ---------------------------------------------------------------- the Status List Token


@dataclass(frozen=True, slots=True, repr=False)
class TokenClaims:
    """A Status List Token's claims, checked: ``lst`` is still compressed."""

    uri: str
    issued_at: int
    expires_at: int
    ttl: int | None
    bits: int
    lst: bytes
    aggregation_uri: str | None = None

    def __repr__(self) -> str:
        return f"TokenClaims(uri={self.uri!r}, iat={self.issued_at}, exp={self.expires_at}, bits={self.bits})"


def encode_token_claims(claims: TokenClaims) -> bytes:
    """The claims in deterministic encoding (keys 2, 4, 6, 65533, 65534)."""
    out: dict[int, Any] = {_SUB: claims.uri, _EXP: claims.expires_at, _IAT: claims.issued_at,
                           _LIST: {"bits": claims.bits, "lst": claims.lst}}
    if claims.ttl is not None:
        out[_TTL] = claims.ttl
    return encode(out)


def decode_token_claims(payload: bytes, *, max_string: int) -> TokenClaims:
    """A Status List Token's claims in any valid CBOR encoding (the draft's example is not deterministic).
    Raises DecodeError (``status_list_invalid``)."""
    claims = _claims_map(payload, deterministic=False, max_string=max_string, allowed=_TOKEN_CLAIMS)
    uri, iat, exp, ttl = _times(claims)
    status_list = claims.get(_LIST)
    if type(status_list) is not dict or not {"bits", "lst"} <= set(status_list) <= {"bits", "lst", "aggregation_uri"}:
        raise _bad("status_list must be a map of bits, lst and an optional aggregation_uri")
    bits, lst, aggregation = status_list["bits"], status_list["lst"], status_list.get("aggregation_uri")
    if type(bits) is not int or bits not in STATUS_BITS:
        raise _bad("bits must be 1, 2, 4 or 8")
    if type(lst) is not bytes or not lst:
        raise _bad("lst must be a non-empty byte string")
    if aggregation is not None and type(aggregation) is not str:
        raise _bad("aggregation_uri must be text")
    return TokenClaims(uri, iat, exp, ttl, bits, lst, aggregation)


# ---------------------------------------------------------------- the reference in a code


def encode_status_reference(ref: StatusReference) -> dict[str, Any]:
    """The ``status`` claim's value for a reference (a map with text keys, in canonical order)."""
    return {"status_list": {"idx": ref.idx, "uri": ref.uri}}


def decode_status_reference(value: object) -> StatusReference:
    """Read the ``status`` claim of an HP1 code: exactly ``{"status_list": {"idx": uint, "uri": tstr}}``.
    Raises DecodeError (``claims_invalid``: it is part of the code's claims)."""
    def bad(message: str) -> DecodeError:
        return DecodeError(ErrorCode.CLAIMS_INVALID, Stage.CLAIMS, f"status claim: {message}")

    if type(value) is not dict or len(value) != 1 or type(value.get("status_list")) is not dict:
        raise bad("must be a map holding only status_list")
    inner = value["status_list"]
    if list(inner) != ["idx", "uri"]:
        raise bad("status_list must hold exactly idx and uri, in that order")
    try:
        return StatusReference(inner["uri"], inner["idx"])
    except (ValueError, TypeError) as err:
        raise bad(str(err)) from None


# ---------------------------------------------------------------- the delta


@dataclass(frozen=True, slots=True, repr=False)
class DeltaClaims:
    """A status delta's claims: the list (``uri``) and its base (iat, SHA-256 of the base token's bytes),
    the delta's own times, and every entry changed since the base, by increasing index."""

    uri: str
    issued_at: int
    expires_at: int
    ttl: int | None
    bits: int
    base_iat: int
    base_sha256: bytes
    changes: tuple[tuple[int, int], ...]

    def __repr__(self) -> str:
        return (f"DeltaClaims(uri={self.uri!r}, iat={self.issued_at}, base_iat={self.base_iat}, "
                f"changes={len(self.changes)})")


def encode_delta_claims(claims: DeltaClaims) -> bytes:
    """Deterministic encoding; ``changes`` flattened as (gap, value) pairs (the first gap is the index)."""
    flat: list[int] = []
    previous = -1
    top = (1 << claims.bits) - 1
    for idx, value in claims.changes:
        if idx <= previous or not 0 <= value <= top:
            raise ValueError("changes must be by strictly increasing index, with values that fit the bits")
        flat += (idx - previous - 1 if previous >= 0 else idx, value)
        previous = idx
    delta = {"bits": claims.bits, "changes": flat, "base_iat": claims.base_iat, "base_sha256": claims.base_sha256}
    out: dict[int, Any] = {_SUB: claims.uri, _EXP: claims.expires_at, _IAT: claims.issued_at, _DELTA: delta}
    if claims.ttl is not None:
        out[_TTL] = claims.ttl
    return encode(out)


_DELTA_KEYS = ["bits", "changes", "base_iat", "base_sha256"]  # canonical order: length first


def decode_delta_claims(payload: bytes, *, max_changes: int) -> DeltaClaims:
    """A status delta's claims (deterministic encoding). Raises DecodeError (``status_list_invalid``)."""
    claims = _claims_map(payload, deterministic=True, max_string=_SHA256 + 512, allowed=_DELTA_CLAIMS)
    uri, iat, exp, ttl = _times(claims)
    delta = claims.get(_DELTA)
    if type(delta) is not dict or list(delta) != _DELTA_KEYS:
        raise _bad("status_delta must be a map of bits, changes, base_iat and base_sha256")
    bits, flat = delta["bits"], delta["changes"]
    if type(bits) is not int or bits not in STATUS_BITS:
        raise _bad("bits must be 1, 2, 4 or 8")
    base_iat = _uint(delta["base_iat"], "base_iat")
    if base_iat >= iat:
        raise _bad("a delta is issued after its base")
    digest = delta["base_sha256"]
    if type(digest) is not bytes or len(digest) != _SHA256:
        raise _bad("base_sha256 must be 32 bytes")
    if type(flat) is not list or len(flat) % 2 or len(flat) > 2 * max_changes:
        raise _bad(f"changes must be (gap, value) pairs, at most {max_changes}")
    top = (1 << bits) - 1
    changes = []
    idx = -1
    for i in range(0, len(flat), 2):
        gap, value = flat[i], flat[i + 1]
        if type(gap) is not int or type(value) is not int or gap < 0 or not 0 <= value <= top:
            raise _bad("a change is a gap and a value that fits the bits")
        idx += gap + 1
        if idx >= 1 << 32:
            raise _bad("a change's index is beyond any list")
        changes.append((idx, value))
    return DeltaClaims(uri, iat, exp, ttl, bits, base_iat, digest, tuple(changes))


def compress_list(raw: bytes) -> bytes:
    """``lst``: the byte array, zlib at the highest level (the draft's recommendation)."""
    return compress(raw)

