"""What healthpass keeps of an X.509 certificate (parsed by :func:`healthpass.crypto.load_certificate`).

A module of its own so that processes handling no certificate (a verifier given bare issuer keys) do not
create the class: every frozen dataclass costs start-up time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from healthpass.crypto import kid_for

__all__ = ["CertificateInfo"]


@dataclass(frozen=True, slots=True, repr=False)  # __repr__ below
class CertificateInfo:
    """What healthpass needs from an X.509 certificate: its DER, validity and extended key usages."""

    der: bytes
    spki: bytes
    not_before: datetime
    not_after: datetime
    extended_key_usages: frozenset[str]

    def __repr__(self) -> str:
        return (
            f"CertificateInfo(kid={kid_for(self.der).hex()}, not_before={self.not_before.isoformat()}, "
            f"not_after={self.not_after.isoformat()})"
        )
