"""The only place healthpass touches ``cryptography``: keys, kids, signing and verifying per algorithm.

This is the low-level layer. Signatures are COSE-shaped: ES256 is raw ``r || s`` (64 bytes), EdDSA is the
64-byte Ed25519 signature, PS256 the RSA-PSS signature (SHA-256, MGF1-SHA-256, salt length 32), SM2 raw
``r || s`` (64 bytes, SM3, distinguishing ID 1234567812345678).
X.509 parsing is imported lazily, only when a certificate is actually handled. SM2 (which ``cryptography``
does not implement) is the optional national-algorithm backend :mod:`healthpass.crypto.sm2`, imported only
when an SM2 key or signature is actually handled.
"""

from __future__ import annotations

import base64
import binascii
import functools
import sys
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, cast

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from healthpass._lazy import LazyModule, lazy_names
from healthpass.errors import ErrorCode, Stage, VerificationError
from healthpass.model.cose import Algorithm

if TYPE_CHECKING:
    from hashlib import sha256 as _sha256

    from cryptography import x509

    from healthpass.crypto import certificates as _certificates
    from healthpass.crypto import sm2
    from healthpass.crypto.certificates import CertificateInfo
else:
    _certificates = LazyModule("healthpass.crypto.certificates")
    x509 = LazyModule("cryptography.x509")  # certificates only
    sm2 = LazyModule("healthpass.crypto.sm2")  # SM2 keys only: it loads ctypes and libcrypto
    # SHA-256 for kids: CPython's built-in implementation (what hashlib falls back to), as fast as hashlib's
    # for keys and certificates, without loading hashlib's second OpenSSL.
    # gain: about 3 ms of every process start-up (benchmarks/README.md, "Kept optimisations")
    try:
        if sys.version_info >= (3, 12):
            from _sha2 import sha256 as _sha256
        else:
            from _sha256 import sha256 as _sha256
    except ImportError:  # a Python built without its own SHA-2
        from hashlib import sha256 as _sha256

__all__ = [
    "KID_LENGTH",
    "P256_ORDER",
    "CertificateInfo",
    "PrivateKey",
    "PublicKey",
    "algorithm_unavailable",
    "ecdsa_der_to_raw",
    "generate_private_key",
    "is_low_s",
    "key_algorithm",
    "key_matches_algorithm",
    "key_unavailable",
    "kid_for",
    "load_certificate",
    "load_private_key_pem",
    "load_public_key",
    "normalize_low_s",
    "private_key_pem",
    "public_key_from_ec_point",
    "public_key_from_raw_ed25519",
    "public_key_pem",
    "sign",
    "signature_size",
    "spki_der",
    "verify_signature",
]

KID_LENGTH = 8
#: Order n of the NIST P-256 group (FIPS 186-4 D.1.2.3); low-s means s <= n // 2.
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_P256_HALF = P256_ORDER // 2
_ES256_SIG_LEN = 64
_PSS_SALT = 32
#: Stateless parameter objects, built once rather than per signature.
# gain: about 1 µs per signature check (benchmarks/README.md, "Kept optimisations")
_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())
_PSS_SHA256 = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=_PSS_SALT)
_SHA256 = hashes.SHA256()

if TYPE_CHECKING:
    PublicKey = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | rsa.RSAPublicKey | sm2.Sm2PublicKey
    PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | sm2.Sm2PrivateKey
else:  # the SM2 classes join the unions for type checkers only (importing them costs every process)
    PublicKey = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | rsa.RSAPublicKey
    PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
_SM2_MODULE = f"{__name__}.sm2"


def _sm2_loaded() -> Any:
    """The SM2 module when some SM2 key exists in this process (it is imported before any is made), else None."""
    return sys.modules.get(_SM2_MODULE)


def _is_sm2(key: object) -> bool:
    module = _sm2_loaded()
    return module is not None and isinstance(key, module.Sm2PublicKey | module.Sm2PrivateKey)


def key_unavailable(key: PublicKey) -> str | None:
    """Why ``key`` cannot be used in this process (an SM2 key without its backend; the message names the
    extra), or None."""
    return algorithm_unavailable(Algorithm.SM2) if _is_sm2(key) else None


def algorithm_unavailable(alg: Algorithm) -> str | None:
    """Why ``alg`` cannot be used in this process (the message names the extra to install), or None.

    Only SM2 depends on an optional backend; asking about it loads that backend once.
    """
    if alg is Algorithm.SM2:
        message: str | None = sm2.unavailable_message()
        return message
    return None


#: :class:`CertificateInfo` lives in :mod:`healthpass.crypto.certificates`, imported with the first certificate
#: (a verifier of bare keys never creates the class)
_LAZY = MappingProxyType({"CertificateInfo": "healthpass.crypto.certificates"})

if not TYPE_CHECKING:  # hidden from type checkers, which would otherwise accept any attribute name
    __getattr__ = lazy_names(__name__, _LAZY, globals())


def kid_for(der: bytes) -> bytes:
    """The key identifier: the first 8 bytes of SHA-256 over SPKI DER (or over the DER certificate)."""
    return _sha256(der).digest()[:KID_LENGTH]


def spki_der(key: PublicKey) -> bytes:
    """SubjectPublicKeyInfo DER of a public key."""
    if _is_sm2(key):
        return cast("sm2.Sm2PublicKey", key).spki_der
    return cast(ec.EllipticCurvePublicKey, key).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_algorithm(key: PublicKey | PrivateKey) -> Algorithm:
    """The signing algorithm healthpass uses with a key (P-256 -> ES256, Ed25519 -> EdDSA, RSA -> PS256,
    SM2 -> SM2)."""
    if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
        if isinstance(key.curve, ec.SECP256R1):
            return Algorithm.ES256
        raise ValueError(f"unsupported EC curve {key.curve.name}: only P-256 is allowed")
    if isinstance(key, ed25519.Ed25519PublicKey | ed25519.Ed25519PrivateKey):
        return Algorithm.EDDSA
    if isinstance(key, rsa.RSAPublicKey):
        return Algorithm.PS256
    if _is_sm2(key):
        return Algorithm.SM2
    raise ValueError(f"unsupported key type {type(key).__name__}")


# gain: about 0.6 µs per call, an ABC isinstance check (benchmarks/README.md, "Kept optimisations")
@functools.cache  # a memo by key class (a handful in practice)
def _key_family(key_type: type) -> Algorithm | None:
    if issubclass(key_type, ec.EllipticCurvePublicKey):
        return Algorithm.ES256
    if issubclass(key_type, ed25519.Ed25519PublicKey):
        return Algorithm.EDDSA
    if issubclass(key_type, rsa.RSAPublicKey):
        return Algorithm.PS256
    module = _sm2_loaded()
    if module is not None and issubclass(key_type, module.Sm2PublicKey):
        return Algorithm.SM2
    return None


def key_matches_algorithm(key: PublicKey, alg: Algorithm) -> bool:
    """Whether ``alg`` may be used with ``key`` (an ES256 header over an Ed25519 or P-384 key may not)."""
    if _key_family(type(key)) is not alg:  # type: ignore[arg-type]  # (mypy: Sm2PublicKey has no __hash__ it can see)
        return False
    if alg is Algorithm.ES256:
        return isinstance(cast(ec.EllipticCurvePublicKey, key).curve, ec.SECP256R1)
    if alg is Algorithm.PS256:
        return cast(rsa.RSAPublicKey, key).key_size >= 2048
    return True


def _as_der(data: bytes) -> bytes | None:
    """``data`` itself when it looks like DER (a SEQUENCE), else the bytes of bare base64; None if neither."""
    if data[:1] == b"\x30":
        return data
    try:
        return base64.b64decode(b"".join(data.split()), validate=True)
    except (binascii.Error, ValueError):
        return None


def load_public_key(data: bytes) -> tuple[PublicKey, bytes, CertificateInfo | None]:
    """Load a public key from SPKI (PEM or DER) or an X.509 certificate (PEM, DER or bare base64 DER).

    Returns ``(key, kid_source_der, certificate_or_None)``: the kid is computed over the certificate DER when
    the key came as a certificate (the EU rule), over the SPKI DER otherwise.
    Raises ValueError when the data holds no usable key, saying so when it is a private key instead.
    """
    if b"PRIVATE KEY-----" in data:
        raise ValueError(_PRIVATE_NOT_PUBLIC)
    if b"-----BEGIN CERTIFICATE" in data:
        cert = load_certificate(data)
        return _public_from_spki(cert.spki), cert.der, cert
    if b"-----BEGIN PUBLIC KEY" in data:
        try:
            key = serialization.load_pem_public_key(data)
        except (ValueError, UnsupportedAlgorithm) as err:
            der = _pem_body(data, b"PUBLIC KEY")
            if der is not None and sm2.is_sm2_spki(der):
                return _sm2_public(der)
            raise ValueError("not a valid PEM public key") from err
        pub = _check_public(key)
        return pub, spki_der(pub), None
    der = _as_der(data)
    if der is None:
        raise ValueError("neither a PEM public key, a certificate, DER nor base64 DER")
    try:
        pub = _public_from_spki(der)
        return pub, spki_der(pub), None
    except ValueError:
        try:
            cert = load_certificate(der)
        except ValueError:
            if _is_private_der(der):
                raise ValueError(_PRIVATE_NOT_PUBLIC) from None
            raise
        return _public_from_spki(cert.spki), cert.der, cert


_PRIVATE_NOT_PUBLIC = ("this is a private key, not a public key or certificate: give the public key "
                       "(the .pub.pem file keygen wrote) and keep the private key with its signer")


def _is_private_der(der: bytes) -> bool:
    """Whether DER that is neither a public key nor a certificate is a private key (for the message only)."""
    try:
        serialization.load_der_private_key(der, password=None)
    except TypeError:  # an encrypted private key
        return True
    except (ValueError, UnsupportedAlgorithm):
        return False
    return True


def _pem_body(data: bytes, label: bytes) -> bytes | None:
    """The DER inside the first PEM block with ``label`` (strict base64), or None."""
    begin, end = b"-----BEGIN " + label + b"-----", b"-----END " + label + b"-----"
    start = data.find(begin)
    stop = data.find(end, start + 1)
    if start < 0 or stop < 0:
        return None
    try:
        return base64.b64decode(b"".join(data[start + len(begin):stop].split()), validate=True)
    except (binascii.Error, ValueError):
        return None


def _sm2_public(der: bytes) -> tuple[PublicKey, bytes, None]:
    """An SM2 SubjectPublicKeyInfo (which ``cryptography`` does not support), strictly checked."""
    key = sm2.load_spki(der)  # ValueError unless exactly the form OpenSSL writes, on the curve
    return key, key.spki_der, None


def _public_from_spki(der: bytes) -> PublicKey:
    try:
        key = serialization.load_der_public_key(der)
    except (ValueError, UnsupportedAlgorithm) as err:
        if sm2.is_sm2_spki(der):
            return _sm2_public(der)[0]
        raise ValueError("not a valid SubjectPublicKeyInfo") from err
    return _check_public(key)


def _check_public(key: object) -> PublicKey:
    if isinstance(key, ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | rsa.RSAPublicKey):
        return key
    raise ValueError(f"unsupported public key type {type(key).__name__}")


def load_certificate(data: bytes) -> CertificateInfo:
    """Parse an X.509 certificate from PEM, DER or bare base64 DER (imports ``cryptography.x509`` lazily)."""
    try:
        if b"-----BEGIN CERTIFICATE" in data:
            cert = x509.load_pem_x509_certificate(data)
        else:
            der = _as_der(data)
            if der is None:
                raise ValueError("not base64")
            cert = x509.load_der_x509_certificate(der)
        return _cert_info(cert)
    except (ValueError, UnsupportedAlgorithm, x509.InvalidVersion, x509.DuplicateExtension) as err:
        raise ValueError("not a valid X.509 certificate") from err  # (those two are not ValueErrors)


def _cert_info(cert: x509.Certificate) -> CertificateInfo:
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        usages = frozenset(oid.dotted_string for oid in eku)
    except x509.ExtensionNotFound:
        usages = frozenset()
    try:
        spki = cert.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    except UnsupportedAlgorithm:  # an SM2 key (cryptography has no SM2): its SPKI read from the certificate
        spki = sm2.spki_from_tbs_certificate(cert.tbs_certificate_bytes)
        if not sm2.is_sm2_spki(spki):
            raise
        sm2.load_spki(spki)  # strictly checked, as a bare SM2 key is
    return _certificates.CertificateInfo(
        der=cert.public_bytes(serialization.Encoding.DER),
        spki=spki,
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        extended_key_usages=usages,
    )


def public_key_from_ec_point(point: bytes) -> PublicKey:
    """A P-256 public key from an uncompressed or compressed SEC1 point (as PKCS#11 CKA_EC_POINT holds)."""
    return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)


def public_key_from_raw_ed25519(raw: bytes) -> PublicKey:
    """An Ed25519 public key from its 32 raw bytes."""
    return ed25519.Ed25519PublicKey.from_public_bytes(raw)


def public_key_pem(key: PublicKey) -> bytes:
    """SPKI PEM of a public key."""
    if _is_sm2(key):
        body = base64.encodebytes(spki_der(key)).replace(b"\n", b"")
        lines = b"\n".join(body[i:i + 64] for i in range(0, len(body), 64))
        return b"-----BEGIN PUBLIC KEY-----\n" + lines + b"\n-----END PUBLIC KEY-----\n"
    return cast(ec.EllipticCurvePublicKey, key).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def generate_private_key(alg: Algorithm) -> PrivateKey:
    """A fresh signing key for ES256 (P-256), EdDSA (Ed25519) or SM2 (sm2p256v1; SignerError
    ``algorithm_unsupported`` naming the extra where the SM2 backend is unavailable)."""
    if alg is Algorithm.ES256:
        return ec.generate_private_key(ec.SECP256R1())
    if alg is Algorithm.EDDSA:
        return ed25519.Ed25519PrivateKey.generate()
    if alg is Algorithm.SM2:
        return sm2.generate()
    raise ValueError(f"healthpass signs with ES256 or EdDSA (or SM2), not {alg.name}")


def private_key_pem(key: PrivateKey, password: bytes | None = None) -> bytes:
    """PKCS#8 PEM, encrypted with the best available scheme when a password is given."""
    if _is_sm2(key):
        pem: bytes = cast("sm2.Sm2PrivateKey", key).private_key_pem(password)
        return pem
    key = cast(ec.EllipticCurvePrivateKey, key)
    enc: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    )
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)


def load_private_key_pem(data: bytes, password: bytes | None = None) -> PrivateKey:
    """Load a PKCS#8 (or SEC1) PEM signing key; an SM2 key as PKCS#8 (plain or encrypted).

    Raises ValueError on a bad key or password, saying so when the data is a public key or a certificate
    instead; SignerError (``algorithm_unsupported``, naming the extra) for an SM2 key where the SM2 backend
    is unavailable.
    """
    if b"PRIVATE KEY-----" not in data and (b"-----BEGIN PUBLIC KEY" in data or b"-----BEGIN CERTIFICATE" in data):
        raise ValueError("this is a public key or certificate, not a private key: give the signing key "
                         "(the .key.pem file keygen wrote)")
    try:
        key = serialization.load_pem_private_key(data, password=password)
    except TypeError as err:  # password given for an unencrypted key or missing for an encrypted one
        raise ValueError(str(err)) from err
    except UnsupportedAlgorithm as err:
        if sm2.CURVE_OID in str(err):  # cryptography decoded (and decrypted) it: an EC key on the SM2 curve
            sm2_key: PrivateKey = sm2.load_private_key_pem(data, password)
            return sm2_key
        raise ValueError("not a valid PEM private key, or wrong password") from err
    except ValueError as err:
        if sm2.pem_is_sm2_private_key(data):
            sm2_key = sm2.load_private_key_pem(data, password)
            return sm2_key
        raise ValueError("not a valid PEM private key, or wrong password") from err
    if isinstance(key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
        key_algorithm(key)  # rejects curves other than P-256
        return key
    raise ValueError(f"healthpass signs with P-256, Ed25519 or SM2 keys, not {type(key).__name__}")


def is_low_s(raw: bytes) -> bool:
    """Whether a raw ES256 signature has s <= n/2."""
    return int.from_bytes(raw[32:], "big") <= _P256_HALF


def normalize_low_s(raw: bytes) -> bytes:
    """Map a raw P-256 ``r || s`` signature to its low-s twin (s -> n - s when s > n/2)."""
    if len(raw) != _ES256_SIG_LEN:
        raise ValueError("an ES256 signature is 64 bytes")
    s = int.from_bytes(raw[32:], "big")
    if s > _P256_HALF:
        return raw[:32] + (P256_ORDER - s).to_bytes(32, "big")
    return raw


def ecdsa_der_to_raw(der: bytes) -> bytes:
    """DER ECDSA-Sig-Value -> raw 64-byte ``r || s`` (P-256), low-s normalised."""
    r, s = decode_dss_signature(der)
    if s > _P256_HALF:
        s = P256_ORDER - s
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def sign(key: PrivateKey, data: bytes) -> bytes:
    """Sign ``data`` with a software key; returns a COSE signature (ES256 raw low-s r||s, Ed25519, or SM2
    raw r||s)."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return ecdsa_der_to_raw(key.sign(data, _ECDSA_SHA256))
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    signature: bytes = key.sign(data)  # SM2 (SM3, the default distinguishing ID)
    return signature


def signature_size(alg: Algorithm, spki: bytes) -> int:
    """The length of a COSE signature by the key ``spki`` (SubjectPublicKeyInfo DER) under ``alg``: 64 bytes for
    ES256 (raw r || s), EdDSA and SM2; the modulus length for PS256. ValueError for an SPKI that is no RSA key
    under PS256."""
    if alg is not Algorithm.PS256:
        return 64
    key = _public_from_spki(spki)
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("PS256 needs an RSA key")
    return (key.key_size + 7) // 8


def verify_signature(
    alg: Algorithm, key: PublicKey, data: bytes, signature: bytes, *, require_low_s: bool = False
) -> None:
    """Verify a COSE signature. Returns None on success, raises VerificationError otherwise.

    Raises ``algorithm_unsupported`` when ``alg`` cannot be used with ``key`` (or, for SM2, where the
    backend is unavailable: the message names the extra) and ``signature_invalid`` when the signature does
    not verify (including malformed lengths, SM2 r or s outside [1, n-1] and, with ``require_low_s``, ES256
    high-s; SM2 has no low-s rule).
    """
    if not key_matches_algorithm(key, alg):
        raise VerificationError(
            ErrorCode.ALGORITHM_UNSUPPORTED,
            Stage.SIGNATURE,
            f"algorithm {alg.jose_name} does not match the key type",
        )
    try:  # the key's type matches ``alg`` (checked above)
        if alg is Algorithm.ES256:
            if len(signature) != _ES256_SIG_LEN:
                raise InvalidSignature
            r = int.from_bytes(signature[:32], "big")
            s = int.from_bytes(signature[32:], "big")
            if require_low_s and s > _P256_HALF:
                raise VerificationError(
                    ErrorCode.SIGNATURE_INVALID, Stage.SIGNATURE, "ES256 signature is not low-s"
                )
            cast(ec.EllipticCurvePublicKey, key).verify(encode_dss_signature(r, s), data, _ECDSA_SHA256)
        elif alg is Algorithm.EDDSA:
            cast(ed25519.Ed25519PublicKey, key).verify(signature, data)
        elif alg is Algorithm.SM2:
            cast("sm2.Sm2PublicKey", key).verify(signature, data)  # raises VerificationError itself
        else:
            cast(rsa.RSAPublicKey, key).verify(signature, data, _PSS_SHA256, _SHA256)
    except InvalidSignature as err:
        raise VerificationError(
            ErrorCode.SIGNATURE_INVALID, Stage.SIGNATURE, f"{alg.jose_name} signature does not verify"
        ) from err
