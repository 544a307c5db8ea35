"""Provenance of a transcoded code: where the foreign code it was re-issued from came from.

A transcoded ``HP1:`` code carries one provenance claim (``specs/credential.md`` §10). It names the source's
format, its issuing region (healthpass) or country (EU), the source key's kid, the source's iat and exp, how
many transcodings lie behind the code, and a SHA-256 digest that lets the source issuer recognise its own code
(of the source's credential id when it has one, otherwise of its signature), truncated to its first 128 bits
as the EU DCC revocation lists truncate theirs: ample to tell codes apart, 16 bytes less in every QR. It never
holds the source text or any personal data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Any

from healthpass.model.time import format_iso

__all__ = ["DIGEST_BYTES", "MAX_TRANSCODE_DEPTH", "DigestOf", "Provenance", "ProvenanceKey", "SourceFormat"]

#: The largest depth the format can express; a verifier refuses more (an issuer's own limit is lower).
MAX_TRANSCODE_DEPTH = 8
_MAX_ORIGIN = 16
_MAX_KID = 64
#: The digest is the first 16 bytes (128 bits) of a SHA-256.
DIGEST_BYTES = 16


class SourceFormat(StrEnum):
    """The format of the code a transcoded code was made from (the text prefix without its colon)."""

    HP1 = "HP1"
    HC1 = "HC1"


class DigestOf(IntEnum):
    """What the provenance digest is a SHA-256 of."""

    CREDENTIAL_ID = 0  # the source's cti claim (healthpass codes always have one)
    SIGNATURE = 1  # the source's COSE signature bytes (codes without a cti, e.g. EU certificates)


class ProvenanceKey(IntEnum):
    """Integer keys of the provenance map (``specs/credential.md`` §10), in canonical order."""

    FORMAT = 1
    ORIGIN = 2
    KID = 3
    IAT = 4
    EXP = 5
    DIGEST = 6
    DIGEST_OF = 7
    DEPTH = 8


@dataclass(frozen=True, slots=True, kw_only=True)
class Provenance:
    """The source of a transcoded code. ``depth`` is 1 for a code transcoded from an original, 2 for one
    transcoded from a transcoded code, and so on. Times are aware UTC datetimes with whole seconds."""

    format: SourceFormat
    origin: str
    kid: bytes
    issued_at: datetime
    expires_at: datetime
    digest: bytes
    digest_of: DigestOf
    depth: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.format, SourceFormat):
            raise TypeError("Provenance.format must be a SourceFormat")
        if not isinstance(self.digest_of, DigestOf):
            raise TypeError("Provenance.digest_of must be a DigestOf")
        if not isinstance(self.origin, str) or not 1 <= len(self.origin) <= _MAX_ORIGIN or not (
            self.origin.isascii() and self.origin.isalnum()
        ):
            raise ValueError(f"Provenance.origin must be 1-{_MAX_ORIGIN} ASCII letters or digits")
        if not isinstance(self.kid, bytes) or not 1 <= len(self.kid) <= _MAX_KID:
            raise ValueError(f"Provenance.kid must be 1-{_MAX_KID} bytes")
        if not isinstance(self.digest, bytes) or len(self.digest) != DIGEST_BYTES:
            raise ValueError(f"Provenance.digest must be the first {DIGEST_BYTES} bytes of a SHA-256 digest")
        for name in ("issued_at", "expires_at"):
            value = getattr(self, name)
            if not isinstance(value, datetime) or value.tzinfo is None:
                raise ValueError(f"Provenance.{name} must be an aware datetime")
        if self.expires_at < self.issued_at:
            raise ValueError("Provenance.expires_at precedes issued_at")
        if type(self.depth) is not int or not 1 <= self.depth <= MAX_TRANSCODE_DEPTH:
            raise ValueError(f"Provenance.depth must be 1-{MAX_TRANSCODE_DEPTH}")

    def to_json(self) -> dict[str, Any]:
        """The ``transcoded_from`` object of the JSON output (``specs/credential.md`` §10)."""
        return {
            "format": self.format.value,
            "origin": self.origin,
            "kid": self.kid.hex(),
            "issued_at": format_iso(self.issued_at),
            "expires_at": format_iso(self.expires_at),
            "digest": self.digest.hex(),
            "digest_of": "credential_id" if self.digest_of is DigestOf.CREDENTIAL_ID else "signature",
            "depth": self.depth,
        }

