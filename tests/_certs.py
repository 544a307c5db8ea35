"""Real X.509 certificates for tests (self-signed by the signer's own key unless an issuer is given)."""

from __future__ import annotations

from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from healthpass.signers import SoftwareSigner

__all__ = ["make_certificate"]


def make_certificate(
    signer: SoftwareSigner,
    *,
    not_before: datetime,
    not_after: datetime,
    ekus: tuple[str, ...] = (),
) -> bytes:
    key = serialization.load_pem_private_key(signer.private_key_pem(), password=None)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "healthpass test DSC")])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())  # type: ignore[arg-type]
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    if ekus:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([x509.ObjectIdentifier(oid) for oid in ekus]), critical=False
        )
    algorithm = None if signer.algorithm.name == "EDDSA" else hashes.SHA256()
    cert = builder.sign(key, algorithm)  # type: ignore[arg-type]
    return cert.public_bytes(serialization.Encoding.PEM)
