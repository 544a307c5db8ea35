"""COSE and CWT labels and the algorithm registry (IANA values as typed enums).

No logic compares against bare integers: every label used on the wire is named here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from types import MappingProxyType
from typing import Any

__all__ = [
    "MAX_NUMERIC_DATE", "Algorithm", "CborTag", "ClaimKey", "CoseSign1", "CoseTag", "CwtClaims", "HeaderLabel",
]

#: The latest NumericDate healthpass reads or writes anywhere (2100-01-01T00:00:00Z); later is out of range.
MAX_NUMERIC_DATE = 4102444800


class Algorithm(IntEnum):
    """COSE algorithms healthpass knows (RFC 9053, RFC 8230). The verifier's policy is an allow-list of these."""

    ES256 = -7
    EDDSA = -8
    PS256 = -37
    #: SM2 with SM3 (GB/T 32918.2), distinguishing ID 1234567812345678, raw r || s. No COSE value is
    #: registered for SM2: this one is from the IANA COSE Algorithms registry's private-use range ("less than
    #: -65536"), -(65536 + 501) after the SM2-with-SM3 signature OID 1.2.156.10197.1.501. See
    #: specs/credential.md §3. Needs the optional backend (``healthpass[sm]``).
    SM2 = -66037

    @property
    def jose_name(self) -> str:
        return _NAMES[self]

    @classmethod
    def from_name(cls, name: str) -> Algorithm:
        """Parse ``ES256``, ``EdDSA``, ``PS256`` or ``SM2`` (case-insensitive)."""
        for alg, text in _NAMES.items():
            if text.lower() == name.strip().lower():
                return alg
        raise ValueError(f"unknown algorithm name: {name!r} (expected ES256, EdDSA, PS256 or SM2)")


_NAMES = MappingProxyType({Algorithm.ES256: "ES256", Algorithm.EDDSA: "EdDSA", Algorithm.PS256: "PS256",
                           Algorithm.SM2: "SM2"})


class HeaderLabel(IntEnum):
    """COSE header parameters (RFC 9052 §3.1)."""

    ALG = 1
    CRIT = 2
    CONTENT_TYPE = 3
    KID = 4
    IV = 5
    PARTIAL_IV = 6
    #: RFC 9596: the media type of the whole message (Status List Tokens: ``application/statuslist+cwt``)
    TYP = 16


class ClaimKey(IntEnum):
    """CWT claim keys (RFC 8392 §3) and the private claims carrying a health payload."""

    ISS = 1
    SUB = 2
    AUD = 3
    EXP = 4
    NBF = 5
    IAT = 6
    CTI = 7
    #: EU DCC: the ``hcert`` claim (HCERT spec §3.3.1); the DCC payload sits under key 1 inside it.
    HCERT = -260
    #: healthpass: the claim carrying the health payload. Chosen from the "Specification Required" range
    #: of the IANA CWT Claims registry (RFC 8392 §9.1: -65536 to -257, a 3-byte key) with specs/ as the
    #: specification; not yet registered. A private-use key (below -65536) would cost 2 bytes more.
    HEALTHPASS = -300
    #: healthpass: where a transcoded code came from (``specs/credential.md`` §10), from the same range.
    PROVENANCE = -301
    #: healthpass: the status delta claim (``specs/status-delta.md``), from the same range; not yet registered.
    STATUS_DELTA = -302
    #: Token Status List (draft-ietf-oauth-status-list-20 §6.2, §9): the ``status_list`` claim of a Status
    #: List Token, its ``ttl``, and the ``status`` claim of a Referenced Token (an HP1 code's list reference).
    #: The draft requests these three assignments; they are not registered yet (``specs/credential.md``).
    STATUS_LIST = 65533
    TTL = 65534
    STATUS = 65535


class CoseTag(IntEnum):
    """CBOR tags that may wrap a COSE message."""

    SIGN1 = 18
    CWT = 61


class CborTag(IntEnum):
    """Other CBOR tags healthpass reads (RFC 8949 §3.4), only where named."""

    #: epoch-based date/time: some EU issuers wrapped the CWT ``iat``/``exp`` in it (lenient decoding only)
    EPOCH_TIME = 1


@dataclass(frozen=True, slots=True, repr=False)  # __repr__ below
class CoseSign1:
    """A decoded COSE_Sign1 message. ``protected`` keeps the protected header bytes exactly as received."""

    protected: bytes
    protected_header: Mapping[int | str, Any]
    unprotected_header: Mapping[int | str, Any]
    payload: bytes
    signature: bytes
    #: the CBOR tags that wrapped the message, outermost first (``(18,)``, ``(61, 18)`` or ``()``)
    tags: tuple[int, ...]

    def __repr__(self) -> str:
        return f"CoseSign1(tags={self.tags}, payload=<{len(self.payload)} bytes>)"


@dataclass(frozen=True, slots=True, repr=False)  # __repr__ below
class CwtClaims:
    """CWT claims (RFC 8392). Times are integer NumericDates; ``other`` keeps every further claim."""

    iss: str | None
    iat: int | None
    exp: int | None
    nbf: int | None
    cti: bytes | None
    other: Mapping[int | str, Any]
    #: lenient (EU) decoding only: how a time claim deviated from an integer NumericDate, as (claim, how)
    #: pairs, ``how`` being ``"tag"`` (wrapped in CBOR tag 1) or ``"float"`` (truncated to the second)
    time_deviations: tuple[tuple[str, str], ...] = ()

    def __repr__(self) -> str:
        return f"CwtClaims(iss={self.iss!r}, iat={self.iat}, exp={self.exp}, nbf={self.nbf})"
