"""Build codes by hand, byte by byte, to produce valid and deliberately broken variants."""

from __future__ import annotations

from typing import Any

import cbor2

from healthpass.codec import b45encode, compress, sig_structure
from healthpass.codec.cbor import encode
from healthpass.codec.payload import payload_to_cbor
from healthpass.model.cose import Algorithm, ClaimKey, HeaderLabel
from healthpass.model.credential import HealthPayload

__all__ = ["claims_for", "make_code", "text_from_cose"]


def claims_for(payload: HealthPayload, *, iss: str = "630000", iat: int, exp: int, **extra: Any) -> dict[int, Any]:
    claims: dict[int, Any] = {
        ClaimKey.ISS.value: iss,
        ClaimKey.IAT.value: iat,
        ClaimKey.EXP.value: exp,
        ClaimKey.CTI.value: b"\x01" * 8,
        ClaimKey.HEALTHPASS.value: payload_to_cbor(payload, iat=iat),
    }
    claims.update(extra)
    return claims


def text_from_cose(message: bytes, prefix: str = "HP1:") -> str:
    return prefix + b45encode(compress(message))


def make_code(
    signer: Any,
    claims: dict[Any, Any] | bytes,
    *,
    protected: dict[Any, Any] | None = None,
    unprotected: dict[Any, Any] | None = None,
    alg: Algorithm | None = None,
    sign_with: Any = None,
    tag: int | None = 18,
    deterministic: bool = True,
    mutate_signature: Any = None,
    prefix: str = "HP1:",
) -> str:
    """A code signed over exactly the bytes given; every knob is there to be turned wrong by a test."""
    if protected is None:
        protected = {HeaderLabel.ALG.value: (alg or signer.algorithm).value, HeaderLabel.KID.value: signer.kid}
    protected_bytes = encode(protected) if deterministic else cbor2.dumps(protected)
    payload = claims if isinstance(claims, bytes) else (encode(claims) if deterministic else cbor2.dumps(claims))
    signature = (sign_with or signer).sign(sig_structure(protected_bytes, payload))
    if mutate_signature is not None:
        signature = mutate_signature(signature)
    body = [protected_bytes, unprotected or {}, payload, signature]
    message = cbor2.dumps(cbor2.CBORTag(tag, body) if tag is not None else body)
    return text_from_cose(message, prefix)
