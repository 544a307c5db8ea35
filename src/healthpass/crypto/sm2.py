"""SM2 signatures with SM3 (GB/T 32918.2 / GM/T 0003.2, GB/T 32905): the ``healthpass[sm]`` backend.

The whole binding lives in this module: a thin ``ctypes`` binding to the system's OpenSSL 3 ``libcrypto``
(Debian's ``libssl3``, patched by Debian security updates), whose SM2 signing is constant-time C. No SM2
arithmetic is done in Python; Python only checks structure (DER layouts, that a public point lies on the
curve, that ``r`` and ``s`` lie in ``[1, n-1]``) and converts between the raw ``r || s`` COSE form and DER.

- Curve: sm2p256v1 (OID 1.2.156.10197.1.301). Keys as OpenSSL writes them: SubjectPublicKeyInfo with
  id-ecPublicKey and the SM2 curve OID (always the same 91 bytes around the uncompressed point), PKCS#8
  private keys (plain or encrypted).
- Signing: SM2 over ``SM3(Z_A || M)`` with the distinguishing ID ``1234567812345678`` (GM/T 0009's default)
  unless another is given; the signature on the wire is raw ``r || s``, 64 bytes. SM2 has no low-s rule:
  any ``r, s`` in ``[1, n-1]`` is accepted, 0 and values ``>= n`` are not.
- The library is loaded on first use (``libcrypto.so.3``, or the file named by the environment variable
  ``HEALTHPASS_SM2_LIBCRYPTO``, e.g. a patched build or Tongsuo). Where it is missing, older than 3.0 or
  built without SM2/SM3 (some distributions disable them), public keys still parse and every operation
  raises ``algorithm_unsupported`` naming the extra and the reason.
"""

from __future__ import annotations

import base64
import binascii
import ctypes
import functools
import os
import threading
from collections.abc import Callable
from typing import Any

from healthpass.errors import ErrorCode, SignerError, Stage, VerificationError

__all__ = [
    "CURVE_OID",
    "DEFAULT_ID",
    "EXTRA",
    "LIBCRYPTO_ENV",
    "ORDER",
    "SIGNATURE_LENGTH",
    "Sm2PrivateKey",
    "Sm2PublicKey",
    "available",
    "backend_version",
    "der_to_raw",
    "generate",
    "is_sm2_spki",
    "load_private_key_pem",
    "load_spki",
    "pem_is_sm2_private_key",
    "raw_to_der",
    "spki_from_tbs_certificate",
    "unavailable_message",
]

#: The extra that names this backend in messages.
EXTRA = "healthpass[sm]"
#: Environment variable naming the libcrypto file to load instead of the system's ``libcrypto.so.3``.
LIBCRYPTO_ENV = "HEALTHPASS_SM2_LIBCRYPTO"
#: The GM/T 0009 default distinguishing ID, used for every healthpass signature.
DEFAULT_ID = b"1234567812345678"
CURVE_OID = "1.2.156.10197.1.301"
SIGNATURE_LENGTH = 64
#: sm2p256v1 (GB/T 32918.5): field prime p, coefficients a, b, and the group order n.
_FIELD = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
_A = _FIELD - 3
_B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
ORDER = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123

#: AlgorithmIdentifier { id-ecPublicKey (1.2.840.10045.2.1), sm2p256v1 (1.2.156.10197.1.301) }
_ALGORITHM_ID = bytes.fromhex("301306072a8648ce3d020106082a811ccf5501822d")
#: SubjectPublicKeyInfo = SEQUENCE(89) { AlgorithmIdentifier, BIT STRING(66) { 0 unused bits, 04 || x || y } }
_SPKI_PREFIX = b"\x30\x59" + _ALGORITHM_ID + b"\x03\x42\x00\x04"
_SPKI_LENGTH = len(_SPKI_PREFIX) + 64
#: A PEM private key is a few hundred bytes; anything far larger is refused before it reaches the library.
_MAX_PEM = 16384
_MAX_DER_SIGNATURE = 72
_MAX_DISTID = 8191  # ENTL_A is a 16-bit count of bits

# OpenSSL constants (include/openssl/core.h, bio.h, crypto.h)
_BIO_CTRL_INFO = 3
_OPENSSL_VERSION = 0
_OPENSSL_3 = 0x30000000


_PASSWORD_CB = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_void_p)

_P = ctypes.c_void_p
_PP = ctypes.POINTER(ctypes.c_void_p)
_S = ctypes.c_char_p
_I = ctypes.c_int
_Z = ctypes.c_size_t
#: name -> (result type, argument types): every libcrypto function this module calls
_FUNCTIONS: dict[str, tuple[Any, list[Any]]] = {
    "OpenSSL_version_num": (ctypes.c_ulong, []),
    "OpenSSL_version": (_S, [_I]),
    "ERR_clear_error": (None, []),
    "EVP_MD_fetch": (_P, [_P, _S, _S]),
    "EVP_MD_free": (None, [_P]),
    "EVP_SIGNATURE_fetch": (_P, [_P, _S, _S]),
    "EVP_SIGNATURE_free": (None, [_P]),
    "EVP_PKEY_free": (None, [_P]),
    "EVP_PKEY_is_a": (_I, [_P, _S]),
    "d2i_PUBKEY": (_P, [_PP, _PP, ctypes.c_long]),
    "i2d_PUBKEY": (_I, [_P, _PP]),
    "EVP_MD_CTX_new": (_P, []),
    "EVP_MD_CTX_free": (None, [_P]),
    "EVP_DigestSignInit_ex": (_I, [_P, _PP, _S, _P, _S, _P, _P]),
    "EVP_DigestSign": (_I, [_P, _P, ctypes.POINTER(_Z), _P, _Z]),
    "EVP_DigestVerifyInit_ex": (_I, [_P, _PP, _S, _P, _S, _P, _P]),
    "EVP_DigestVerify": (_I, [_P, _P, _Z, _P, _Z]),
    "EVP_PKEY_CTX_new_from_pkey": (_P, [_P, _P, _S]),
    "EVP_PKEY_CTX_new_from_name": (_P, [_P, _S, _S]),
    "EVP_PKEY_CTX_free": (None, [_P]),
    "EVP_PKEY_CTX_set1_id": (_I, [_P, _P, _I]),
    "EVP_PKEY_verify_init": (_I, [_P]),
    "EVP_PKEY_verify": (_I, [_P, _P, _Z, _P, _Z]),
    "EVP_PKEY_keygen_init": (_I, [_P]),
    "EVP_PKEY_generate": (_I, [_P, _PP]),
    "EVP_aes_256_cbc": (_P, []),
    "BIO_new_mem_buf": (_P, [_P, _I]),
    "BIO_s_mem": (_P, []),
    "BIO_new": (_P, [_P]),
    "BIO_free": (_I, [_P]),
    "BIO_ctrl": (ctypes.c_long, [_P, _I, ctypes.c_long, _P]),
    "PEM_read_bio_PrivateKey_ex": (_P, [_P, _PP, _PASSWORD_CB, _P, _P, _S]),
    "PEM_write_bio_PKCS8PrivateKey": (_I, [_P, _P, _P, _P, _I, _PASSWORD_CB, _P]),
}
del _P, _PP, _S, _I, _Z


class _Lib:
    """The loaded libcrypto: its functions with their C types declared, and what it reports about itself."""

    __slots__ = ("f", "path", "version")

    def __init__(self, path: str) -> None:
        cdll = ctypes.CDLL(path)
        for name, (restype, argtypes) in _FUNCTIONS.items():
            func = getattr(cdll, name)  # AttributeError: not an OpenSSL 3 libcrypto
            func.restype = restype
            func.argtypes = argtypes
        self.f = cdll
        self.path = path
        self.version = (cdll.OpenSSL_version(_OPENSSL_VERSION) or b"?").decode("ascii", "replace")


@functools.cache  # loaded once per process; the handle is immutable and shared by all threads
def _load() -> _Lib | str:
    """The backend, or the reason it is unavailable."""
    path = os.environ.get(LIBCRYPTO_ENV) or "libcrypto.so.3"
    try:
        cdll = ctypes.CDLL(path)
        number = cdll.OpenSSL_version_num
        number.restype = ctypes.c_ulong
        if number() < _OPENSSL_3:
            return f"{path} is older than OpenSSL 3.0"
        lib = _Lib(path)
    except (OSError, AttributeError) as err:
        return f"cannot load an OpenSSL 3 libcrypto from {path} ({type(err).__name__})"
    md = lib.f.EVP_MD_fetch(None, b"SM3", None)
    sig = lib.f.EVP_SIGNATURE_fetch(None, b"SM2", None)
    lib.f.EVP_MD_free(md)
    lib.f.EVP_SIGNATURE_free(sig)
    lib.f.ERR_clear_error()
    if not md or not sig:
        return f"{lib.version} ({path}) is built without SM2/SM3"
    return lib


def available() -> bool:
    """Whether SM2 can be used in this process (loads the library on the first call)."""
    return isinstance(_load(), _Lib)


def backend_version() -> str | None:
    """The loaded library's version string (e.g. ``OpenSSL 3.0.19 27 Jan 2026``), None when unavailable."""
    lib = _load()
    return lib.version if isinstance(lib, _Lib) else None


def unavailable_message() -> str | None:
    """Why SM2 is unavailable, naming the extra; None when it is available."""
    lib = _load()
    if isinstance(lib, _Lib):
        return None
    return (f"SM2 needs the {EXTRA} extra: an OpenSSL 3 libcrypto with SM2 and SM3 "
            f"(set {LIBCRYPTO_ENV} to use another file); {lib}")


def _lib_for_verify() -> _Lib:
    lib = _load()
    if isinstance(lib, _Lib):
        return lib
    raise VerificationError(ErrorCode.ALGORITHM_UNSUPPORTED, Stage.SIGNATURE, unavailable_message() or "")


def _lib_for_signing() -> _Lib:
    lib = _load()
    if isinstance(lib, _Lib):
        return lib
    raise SignerError(ErrorCode.ALGORITHM_UNSUPPORTED, Stage.SIGNER, unavailable_message() or "")


# ---------------------------------------------------------------- structure (pure Python, no secrets)


def is_sm2_spki(der: bytes) -> bool:
    """Whether ``der`` is a SubjectPublicKeyInfo naming the SM2 curve (possibly malformed beyond that)."""
    return der[2:23] == _ALGORITHM_ID or der[3:24] == _ALGORITHM_ID


def _tlv(der: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of the value, end of the value) of the DER item at ``pos``. Raises ValueError."""
    if pos + 2 > len(der):
        raise ValueError("truncated DER")
    tag, first = der[pos], der[pos + 1]
    start = pos + 2
    if first < 0x80:
        size = first
    elif 0x81 <= first <= 0x83:
        count = first - 0x80
        size = int.from_bytes(der[start:start + count], "big")
        start += count
    else:
        raise ValueError("unsupported DER length")
    if start + size > len(der):
        raise ValueError("truncated DER")
    return tag, start, start + size


def spki_from_tbs_certificate(tbs: bytes) -> bytes:
    """The SubjectPublicKeyInfo DER inside a DER TBSCertificate (RFC 5280 §4.1: [0] version, serialNumber,
    signature, issuer, validity, subject, subjectPublicKeyInfo, ...): for certificates whose key
    ``cryptography`` cannot load (SM2). Raises ValueError."""
    tag, pos, end = _tlv(tbs, 0)
    if tag != 0x30 or end != len(tbs):
        raise ValueError("not a DER TBSCertificate")
    if tbs[pos:pos + 1] == b"\xa0":  # [0] EXPLICIT version
        pos = _tlv(tbs, pos)[2]
    for expected in (0x02, 0x30, 0x30, 0x30, 0x30):  # serialNumber, signature, issuer, validity, subject
        tag, _, pos = _tlv(tbs, pos)
        if tag != expected:
            raise ValueError("not a DER TBSCertificate")
    tag, _, stop = _tlv(tbs, pos)
    if tag != 0x30 or stop > end:
        raise ValueError("not a DER TBSCertificate")
    return tbs[pos:stop]


def _on_curve(x: int, y: int) -> bool:
    return x < _FIELD and y < _FIELD and (y * y - (x * x * x + _A * x + _B)) % _FIELD == 0


def _point_from_spki(der: bytes) -> bytes:
    """The 65-byte uncompressed point of an SM2 SPKI, checked: exactly the form OpenSSL writes, on the curve."""
    if len(der) != _SPKI_LENGTH or not der.startswith(_SPKI_PREFIX):
        raise ValueError("not an SM2 SubjectPublicKeyInfo (id-ecPublicKey, sm2p256v1, uncompressed point)")
    point = der[len(_SPKI_PREFIX) - 1:]
    if not _on_curve(int.from_bytes(point[1:33], "big"), int.from_bytes(point[33:], "big")):
        raise ValueError("the SM2 public key is not a point on sm2p256v1")
    return point


def raw_to_der(raw: bytes) -> bytes:
    """Raw 64-byte ``r || s`` -> DER ``SEQUENCE { INTEGER r, INTEGER s }``. Raises ValueError unless
    ``r`` and ``s`` are in ``[1, n-1]``."""
    if len(raw) != SIGNATURE_LENGTH:
        raise ValueError("an SM2 signature is 64 bytes")
    r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    if not (0 < r < ORDER and 0 < s < ORDER):
        raise ValueError("SM2 signature r or s is outside [1, n-1]")
    body = _der_int(r) + _der_int(s)
    return b"\x30" + bytes([len(body)]) + body


def _der_int(value: int) -> bytes:
    data = value.to_bytes(33, "big").lstrip(b"\x00")
    if data[0] & 0x80:
        data = b"\x00" + data
    return b"\x02" + bytes([len(data)]) + data


def der_to_raw(der: bytes) -> bytes:
    """DER ``SEQUENCE { INTEGER r, INTEGER s }`` -> raw 64-byte ``r || s``, strictly (minimal DER, no
    trailing bytes, ``r`` and ``s`` in ``[1, n-1]``). Raises ValueError."""
    if len(der) < 8 or len(der) > _MAX_DER_SIGNATURE or der[0] != 0x30 or der[1] != len(der) - 2:
        raise ValueError("not a DER SM2 signature")
    values = []
    pos = 2
    for _ in range(2):
        if pos + 2 > len(der) or der[pos] != 0x02:
            raise ValueError("not a DER SM2 signature")
        size = der[pos + 1]
        data = der[pos + 2:pos + 2 + size]
        if size == 0 or len(data) != size or size > 33:
            raise ValueError("not a DER SM2 signature")
        if data[0] & 0x80 or (size > 1 and data[0] == 0 and not data[1] & 0x80):
            raise ValueError("SM2 signature integer is negative or not minimally encoded")
        values.append(int.from_bytes(data, "big"))
        pos += 2 + size
    if pos != len(der):
        raise ValueError("bytes after the DER SM2 signature")
    r, s = values
    if not (0 < r < ORDER and 0 < s < ORDER):
        raise ValueError("SM2 signature r or s is outside [1, n-1]")
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def _check_distid(distid: bytes) -> None:
    if type(distid) is not bytes or not distid or len(distid) > _MAX_DISTID:
        raise ValueError("the distinguishing ID is 1 to 8191 bytes")


# ---------------------------------------------------------------- keys


class _Pkey:
    """Owns one ``EVP_PKEY*`` (freed with the object). OpenSSL 3 keys are immutable once built, so one may
    serve any number of threads, each operation with its own context."""

    __slots__ = ("lib", "ptr")

    def __init__(self, lib: _Lib, ptr: int) -> None:
        self.lib = lib
        self.ptr = ptr

    def __del__(self) -> None:
        self.lib.f.EVP_PKEY_free(self.ptr)


def _check_sm2(lib: _Lib, ptr: int | None, what: str) -> _Pkey:
    if not ptr:
        lib.f.ERR_clear_error()
        raise ValueError(f"not a valid {what}")
    pkey = _Pkey(lib, ptr)
    if lib.f.EVP_PKEY_is_a(ptr, b"SM2") != 1:
        raise ValueError(f"{what} is not an SM2 key")
    return pkey


def _digest_verify(pkey: _Pkey, der: bytes, data: bytes, distid: bytes) -> bool:
    """Whether the DER signature verifies over ``data`` (SM3 over Z_A with ``distid``, then the data)."""
    f = pkey.lib.f
    ctx = f.EVP_MD_CTX_new()
    if not ctx:
        raise MemoryError("EVP_MD_CTX_new")
    pctx = ctypes.c_void_p()  # owned by ctx
    try:  # the ID is set after init (OpenSSL 3.0 refuses it among the init parameters)
        return bool(f.EVP_DigestVerifyInit_ex(ctx, ctypes.byref(pctx), b"SM3", None, None, pkey.ptr, None) == 1
                    and f.EVP_PKEY_CTX_set1_id(pctx, distid, len(distid)) == 1
                    and f.EVP_DigestVerify(ctx, der, len(der), data, len(data)) == 1)
    finally:
        f.EVP_MD_CTX_free(ctx)


def _verify_digest(pkey: _Pkey, der: bytes, e: bytes) -> bool:
    """Whether the DER signature verifies over the digest ``e`` itself."""
    f = pkey.lib.f
    ctx = f.EVP_PKEY_CTX_new_from_pkey(None, pkey.ptr, None)
    if not ctx:
        raise MemoryError("EVP_PKEY_CTX_new_from_pkey")
    try:
        return bool(f.EVP_PKEY_verify_init(ctx) == 1 and f.EVP_PKEY_verify(ctx, der, len(der), e, len(e)) == 1)
    finally:
        f.EVP_PKEY_CTX_free(ctx)


class Sm2PublicKey:
    """An SM2 public key on sm2p256v1. Parses without the backend; verifying needs it.

    Build one with :func:`load_spki`. Immutable and thread-safe; picklable (travels as SPKI DER).
    """

    __slots__ = ("_lock", "_pkey", "_spki")

    def __init__(self, spki: bytes) -> None:
        _point_from_spki(spki)
        self._spki = spki
        self._pkey: _Pkey | None = None
        self._lock = threading.Lock()

    @property
    def spki_der(self) -> bytes:
        """The SubjectPublicKeyInfo DER (the bytes the kid is computed over)."""
        return self._spki

    @property
    def point(self) -> bytes:
        """The uncompressed point ``04 || x || y`` (65 bytes)."""
        return self._spki[len(_SPKI_PREFIX) - 1:]

    def _evp(self) -> _Pkey:
        pkey = self._pkey
        if pkey is None:
            lib = _lib_for_verify()
            with self._lock:
                pkey = self._pkey
                if pkey is None:
                    buf = ctypes.create_string_buffer(self._spki, len(self._spki))
                    cursor = ctypes.c_void_p(ctypes.addressof(buf))
                    ptr = lib.f.d2i_PUBKEY(None, ctypes.byref(cursor), len(self._spki))
                    try:
                        pkey = _check_sm2(lib, ptr, "SM2 public key")
                    except ValueError as err:  # a point the library refuses; _point_from_spki checked it already
                        raise VerificationError(ErrorCode.SIGNATURE_INVALID, Stage.SIGNATURE, str(err)) from None
                    self._pkey = pkey
        return pkey

    def verify(self, signature: bytes, data: bytes, *, distid: bytes = DEFAULT_ID) -> None:
        """Verify a raw ``r || s`` SM2 signature over ``data`` (SM3, Z computed with ``distid``).

        Raises VerificationError: ``signature_invalid`` (wrong length, r or s outside [1, n-1], does not
        verify), ``algorithm_unsupported`` (no backend; the message names the extra).
        """
        _check_distid(distid)
        self._check(signature, lambda pkey, der: _digest_verify(pkey, der, data, distid))

    def verify_prehashed(self, e: bytes, signature: bytes) -> None:
        """Low level, for known-answer vectors only: verify over the digest ``e`` itself (normally
        ``SM3(Z_A || M)``; vectors that omit Z give ``SM3(M)``). Raises VerificationError like :meth:`verify`."""
        self._check(signature, lambda pkey, der: _verify_digest(pkey, der, e))

    def _check(self, signature: bytes, verifies: Callable[[_Pkey, bytes], bool]) -> None:
        """What both checks share: the key is loaded first (without the backend nothing is checked, whatever
        the signature), a malformed signature and one that ``verifies`` refuses are ``signature_invalid``."""
        pkey = self._evp()
        try:
            der = raw_to_der(signature)
        except ValueError as err:
            raise VerificationError(ErrorCode.SIGNATURE_INVALID, Stage.SIGNATURE, str(err)) from None
        if not verifies(pkey, der):
            pkey.lib.f.ERR_clear_error()
            raise VerificationError(ErrorCode.SIGNATURE_INVALID, Stage.SIGNATURE, "SM2 signature does not verify")

    def __reduce__(self) -> tuple[object, ...]:
        return (Sm2PublicKey, (self._spki,))

    def __repr__(self) -> str:
        return f"Sm2PublicKey(x={self.point[1:9].hex()}...)"


def load_spki(der: bytes) -> Sm2PublicKey:
    """An SM2 public key from its SubjectPublicKeyInfo DER: exactly the 91-byte form OpenSSL writes
    (id-ecPublicKey, sm2p256v1, uncompressed point), the point on the curve. Raises ValueError."""
    return Sm2PublicKey(bytes(der))


class Sm2PrivateKey:
    """An SM2 signing key held by the backend (never in Python memory as a number). Not picklable: a
    signer travels as PEM. Thread-safe."""

    __slots__ = ("_pkey", "_public")

    def __init__(self, pkey: _Pkey) -> None:
        f = pkey.lib.f
        size = f.i2d_PUBKEY(pkey.ptr, None)
        if size != _SPKI_LENGTH:
            raise ValueError("not an SM2 key on sm2p256v1")
        buf = ctypes.create_string_buffer(size)
        cursor = ctypes.c_void_p(ctypes.addressof(buf))
        if f.i2d_PUBKEY(pkey.ptr, ctypes.byref(cursor)) != size:
            f.ERR_clear_error()
            raise ValueError("cannot encode the SM2 public key")
        self._pkey = pkey
        self._public = Sm2PublicKey(buf.raw)

    def public_key(self) -> Sm2PublicKey:
        return self._public

    def sign(self, data: bytes, *, distid: bytes = DEFAULT_ID) -> bytes:
        """The raw 64-byte ``r || s`` SM2 signature over ``data`` (SM3, Z computed with ``distid``).
        Raises SignerError (``signer_unavailable``) if the library fails."""
        _check_distid(distid)
        f = self._pkey.lib.f
        ctx = f.EVP_MD_CTX_new()
        if not ctx:
            raise MemoryError("EVP_MD_CTX_new")
        sig = ctypes.create_string_buffer(_MAX_DER_SIGNATURE)
        size = ctypes.c_size_t(_MAX_DER_SIGNATURE)
        pctx = ctypes.c_void_p()  # owned by ctx
        try:
            ok = (f.EVP_DigestSignInit_ex(ctx, ctypes.byref(pctx), b"SM3", None, None, self._pkey.ptr, None) == 1
                  and f.EVP_PKEY_CTX_set1_id(pctx, distid, len(distid)) == 1
                  and f.EVP_DigestSign(ctx, sig, ctypes.byref(size), data, len(data)) == 1)
        finally:
            f.EVP_MD_CTX_free(ctx)
        if not ok:
            f.ERR_clear_error()
            raise SignerError(ErrorCode.SIGNER_UNAVAILABLE, Stage.SIGNER, "the SM2 backend failed to sign")
        return der_to_raw(sig.raw[:size.value])

    def private_key_pem(self, password: bytes | None = None) -> bytes:
        """PKCS#8 PEM as OpenSSL writes it; encrypted (PBES2, AES-256-CBC) when a password is given."""
        f = self._pkey.lib.f
        bio = f.BIO_new(f.BIO_s_mem())
        if not bio:
            raise MemoryError("BIO_new")
        try:
            cipher = f.EVP_aes_256_cbc() if password else None
            if f.PEM_write_bio_PKCS8PrivateKey(bio, self._pkey.ptr, cipher, None, 0, _password_callback(password),
                                               None) != 1:
                f.ERR_clear_error()
                raise ValueError("cannot write the SM2 key")
            data = ctypes.c_void_p()
            size = f.BIO_ctrl(bio, _BIO_CTRL_INFO, 0, ctypes.byref(data))
            return ctypes.string_at(data, size)
        finally:
            f.BIO_free(bio)

    def __repr__(self) -> str:
        return f"Sm2PrivateKey(public={self._public!r})"


def _password_callback(password: bytes | None) -> Any:
    """A PEM password callback giving ``password`` (byte-exact) or refusing; OpenSSL's default one would
    prompt on the terminal."""

    def give(buf: int, size: int, rwflag: int, userdata: int) -> int:
        if not password or len(password) > size:
            return -1
        ctypes.memmove(buf, password, len(password))
        return len(password)

    return _PASSWORD_CB(give)


_NO_PROMPT = _password_callback(None)


def generate() -> Sm2PrivateKey:
    """A fresh SM2 key pair from the library's CSPRNG. Raises SignerError (``algorithm_unsupported``)
    when the backend is unavailable."""
    lib = _lib_for_signing()
    ctx = lib.f.EVP_PKEY_CTX_new_from_name(None, b"SM2", None)
    if not ctx:
        raise MemoryError("EVP_PKEY_CTX_new_from_name")
    out = ctypes.c_void_p()
    try:
        if lib.f.EVP_PKEY_keygen_init(ctx) != 1 or lib.f.EVP_PKEY_generate(ctx, ctypes.byref(out)) != 1:
            lib.f.ERR_clear_error()
            raise SignerError(ErrorCode.SIGNER_UNAVAILABLE, Stage.SIGNER, "the SM2 backend failed to make a key")
    finally:
        lib.f.EVP_PKEY_CTX_free(ctx)
    return Sm2PrivateKey(_check_sm2(lib, out.value, "SM2 key"))


_PEM_PRIVATE = (b"-----BEGIN PRIVATE KEY-----", b"-----END PRIVATE KEY-----")
_PEM_ENCRYPTED = (b"-----BEGIN ENCRYPTED PRIVATE KEY-----", b"-----END ENCRYPTED PRIVATE KEY-----")


def pem_is_sm2_private_key(data: bytes) -> bool:
    """Whether ``data`` is an unencrypted PKCS#8 PEM key naming the SM2 curve (no backend needed)."""
    begin, end = _PEM_PRIVATE
    start, stop = data.find(begin), data.find(end)
    if start < 0 or stop < start:
        return False
    try:
        der = base64.b64decode(b"".join(data[start + len(begin):stop].split()), validate=True)
    except (binascii.Error, ValueError):
        return False
    return _ALGORITHM_ID in der[:32]


def load_private_key_pem(data: bytes, password: bytes | None = None) -> Sm2PrivateKey:
    """An SM2 signing key from PKCS#8 PEM (``PRIVATE KEY`` or ``ENCRYPTED PRIVATE KEY``, as OpenSSL writes
    them). Raises ValueError for anything else or a wrong password, SignerError (``algorithm_unsupported``)
    when the backend is unavailable."""
    if len(data) > _MAX_PEM:
        raise ValueError("PEM key too large")
    encrypted = _PEM_ENCRYPTED[0] in data
    if not encrypted and _PEM_PRIVATE[0] not in data:
        raise ValueError("not a PKCS#8 PEM private key")
    if encrypted and not password:
        raise ValueError("Password was not given but private key is encrypted")
    if password and not encrypted:
        raise ValueError("Password was given but private key is not encrypted")
    lib = _lib_for_signing()
    f = lib.f
    bio = f.BIO_new_mem_buf(data, len(data))
    if not bio:
        raise MemoryError("BIO_new_mem_buf")
    try:
        # the callback hands over the password (or refuses): the library never prompts on a terminal
        ptr = f.PEM_read_bio_PrivateKey_ex(bio, None, _password_callback(password), None, None, None)
    finally:
        f.BIO_free(bio)
    return Sm2PrivateKey(_check_sm2(lib, ptr, "PEM private key, or wrong password"))
