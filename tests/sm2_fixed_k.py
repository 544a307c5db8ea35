"""Test helper, run in its own process by ``test_sm2.py``: sign with SM2 using a *fixed* nonce k.

The GM/T 0003.5 Annex A example fixes k. healthpass's binding has no such option (a fixed k in production
would leak the key), so this helper replaces libcrypto's random source for this one process through the
deprecated ``RAND_set_rand_method`` hook, which OpenSSL 3.0's ``RAND_priv_bytes_ex`` (the source of SM2's k)
still honours; every random byte request is then answered with k. It then loads the standard's private key
through :func:`healthpass.crypto.sm2.load_private_key_pem` and signs through
:meth:`healthpass.crypto.sm2.Sm2PrivateKey.sign`, exactly as healthpass signs a code.

Usage: ``python sm2_fixed_k.py D_HEX K_HEX MESSAGE_HEX`` -> prints ``04||x||y`` and ``r||s`` in hex; exits 3
when the library ignores the hook (two signatures differ), so the caller can say so instead of failing.
Not collected by pytest (no ``test_`` prefix).
"""

from __future__ import annotations

import base64
import ctypes
import sys

from healthpass.crypto import sm2

_BYTES = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_int)
_STATUS = ctypes.CFUNCTYPE(ctypes.c_int)


class _RandMethod(ctypes.Structure):
    """``RAND_METHOD`` (include/openssl/rand.h): seed, bytes, cleanup, add, pseudorand, status."""

    _fields_ = [("seed", ctypes.c_void_p), ("bytes", _BYTES), ("cleanup", ctypes.c_void_p),
                ("add", ctypes.c_void_p), ("pseudorand", _BYTES), ("status", _STATUS)]


def _pkcs8(d: bytes) -> bytes:
    """PrivateKeyInfo { 0, {id-ecPublicKey, sm2p256v1}, OCTET STRING { ECPrivateKey { 1, OCTET STRING d } } }
    (no public key inside: the library computes it from d)."""
    ec_key = b"\x30\x25\x02\x01\x01\x04\x20" + d
    body = b"\x02\x01\x00" + sm2._ALGORITHM_ID + b"\x04" + bytes([len(ec_key)]) + ec_key
    der = b"\x30" + bytes([len(body)]) + body
    return b"-----BEGIN PRIVATE KEY-----\n" + base64.encodebytes(der) + b"-----END PRIVATE KEY-----\n"


def main() -> None:
    d, k, message = (bytes.fromhex(arg) for arg in sys.argv[1:4])
    key = sm2.load_private_key_pem(_pkcs8(d))
    lib = sm2._load()
    assert not isinstance(lib, str), lib

    @_BYTES
    def fixed(buf: int, num: int) -> int:
        ctypes.memmove(buf, (k * (num // len(k) + 1))[:num], num)
        return 1

    @_STATUS
    def ready() -> int:
        return 1

    method = _RandMethod(None, fixed, None, None, fixed, ready)
    hook = lib.f.RAND_set_rand_method
    hook.argtypes = [ctypes.c_void_p]
    if hook(ctypes.byref(method)) != 1:
        raise SystemExit("RAND_set_rand_method failed")
    first, second = key.sign(message), key.sign(message)
    if first != second:  # the library did not take the hook: its nonces are still random
        print("hook-ignored", sm2.backend_version())
        raise SystemExit(3)
    print(key.public_key().point.hex(), first.hex())


if __name__ == "__main__":
    main()
