"""A signer backed by a software key held in memory (loaded from PEM)."""

from __future__ import annotations

from pathlib import Path

from healthpass import crypto
from healthpass.errors import ErrorCode, SignerError, Stage
from healthpass.model.cose import Algorithm

__all__ = ["SoftwareSigner"]


class SoftwareSigner:
    """Signs with a P-256 (ES256), Ed25519 (EdDSA) or SM2 (sm2p256v1, SM3) private key held in memory.

    Build one with :meth:`from_pem`, :meth:`from_file` or :meth:`generate`. Picklable (the key travels as PEM).
    SM2 needs the optional backend (``healthpass[sm]``); without it loading or generating an SM2 key raises
    SignerError (``algorithm_unsupported``, the message naming the extra).
    """

    __slots__ = ("_algorithm", "_key", "_kid", "_spki")

    def __init__(self, key: crypto.PrivateKey) -> None:
        self._key = key
        self._algorithm = crypto.key_algorithm(key)
        self._spki = crypto.spki_der(key.public_key())
        self._kid = crypto.kid_for(self._spki)

    @classmethod
    def from_pem(cls, pem: bytes, password: bytes | None = None) -> SoftwareSigner:
        """Load a PKCS#8 (or SEC1) PEM key.

        Raises SignerError (``signer_unavailable``) on a bad key, a public key or certificate given instead of
        a private key, or a wrong or missing password; SignerError (``algorithm_unsupported``) for an SM2 key
        without its backend; TypeError when ``pem`` or ``password`` is not bytes.
        """
        if not isinstance(pem, bytes | bytearray | memoryview):
            raise TypeError("from_pem() takes the PEM as bytes")
        if password is not None and not isinstance(password, bytes | bytearray):
            raise TypeError("password must be bytes or None")
        try:
            return cls(crypto.load_private_key_pem(pem, password))
        except ValueError as err:
            raise SignerError(ErrorCode.SIGNER_UNAVAILABLE, Stage.SIGNER, f"cannot load signing key: {err}") from err

    @classmethod
    def from_file(cls, path: str | Path, password: bytes | None = None) -> SoftwareSigner:
        """Load a PKCS#8 (or SEC1) PEM key file.

        Raises SignerError (``signer_unavailable``) when the file cannot be read (missing, unreadable, a
        directory) and as :meth:`from_pem` does; TypeError when ``path`` is not a str or path.
        """
        if not isinstance(path, str | Path):
            raise TypeError("from_file() takes a file path (str or pathlib.Path)")
        try:
            data = Path(path).read_bytes()
        except OSError as err:
            reason = err.strerror or err.__class__.__name__
            raise SignerError(ErrorCode.SIGNER_UNAVAILABLE, Stage.SIGNER,
                              f"cannot read signing key file {str(path)!r}: {reason}") from err
        return cls.from_pem(data, password)

    @classmethod
    def generate(cls, algorithm: Algorithm = Algorithm.ES256) -> SoftwareSigner:
        """A signer with a fresh key (ES256, EdDSA or SM2). Raises SignerError (``algorithm_unsupported``)
        for SM2 without its backend, ValueError for an algorithm healthpass does not sign with."""
        return cls(crypto.generate_private_key(algorithm))

    @property
    def algorithm(self) -> Algorithm:
        return self._algorithm

    @property
    def public_key_der(self) -> bytes:
        return self._spki

    @property
    def kid(self) -> bytes:
        return self._kid

    def private_key_pem(self, password: bytes | None = None) -> bytes:
        """The key as PKCS#8 PEM (encrypted when a password is given)."""
        return crypto.private_key_pem(self._key, password)

    def public_key_pem(self) -> bytes:
        """The public key as SPKI PEM."""
        return crypto.public_key_pem(self._key.public_key())

    def sign(self, data: bytes) -> bytes:
        return crypto.sign(self._key, data)

    def __reduce__(self) -> tuple[object, ...]:
        return (SoftwareSigner.from_pem, (self.private_key_pem(),))

    def __repr__(self) -> str:
        return f"SoftwareSigner(algorithm={self._algorithm.jose_name}, kid={self._kid.hex()})"
