"""The :class:`Signer` protocol every signature in healthpass goes through (codes, trust lists, rule bundles)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from healthpass.model.cose import Algorithm

__all__ = ["Signer"]


@runtime_checkable
class Signer(Protocol):
    """Something that signs bytes with one key and says which key and algorithm it used.

    ``sign`` returns the COSE-shaped signature: for ES256 the raw 64-byte ``r || s`` normalised to low-s,
    for EdDSA the 64-byte Ed25519 signature, for SM2 the raw 64-byte ``r || s`` (SM3, distinguishing ID
    1234567812345678; no low-s rule). Implementations raise :class:`healthpass.errors.SignerError`
    when the key cannot sign. A signer used by worker processes must be picklable (re-opening its key or
    session lazily in each process).
    """

    @property
    def algorithm(self) -> Algorithm:
        """The COSE algorithm of the signatures."""
        ...

    @property
    def public_key_der(self) -> bytes:
        """SubjectPublicKeyInfo DER of the public key."""
        ...

    @property
    def kid(self) -> bytes:
        """The 8-byte key identifier (SHA-256 of the SPKI DER, truncated)."""
        ...

    def sign(self, data: bytes) -> bytes:
        """Sign ``data`` (the COSE Sig_structure bytes)."""
        ...
