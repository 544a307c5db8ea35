"""The COSE working group's COSE_Sign1 examples (``cose-examples/``): the good ones verify through healthpass's
COSE layer, the deliberately broken ones (``"fail": true``) are refused, and algorithms outside healthpass's
allow-list (ES384, ES512) are refused as such. (The RSA-PSS examples are multi-signer COSE_Sign messages,
which healthpass does not accept; PS256 is covered by the EU conformance data.)"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from healthpass.codec import decode_sign1
from healthpass.cose import read_headers, verify_with
from healthpass.crypto import public_key_from_ec_point, public_key_from_raw_ed25519
from healthpass.errors import ErrorCode, HealthPassError
from healthpass.model.cose import Algorithm
from healthpass.model.policy import Limits

from ._shared import find_shared_dir

FOLDERS = ("sign1-tests", "ecdsa-examples", "eddsa-examples")

#: Valid COSE that healthpass refuses on purpose, with the reason (each is asserted to be refused).
DELIBERATE = {
    "sign-pass-01": "alg only in the unprotected header: healthpass and HCERT require it protected",
    "sign-pass-02": "signed with external AAD: healthpass codes never use external AAD",
    "eddsa-sig-02": "Ed448: healthpass's EdDSA is Ed25519 only (no Ed448 key can be trusted)",
}


def _examples() -> list[Path]:
    root = find_shared_dir()
    if root is None:
        return []
    base = root / "vectors" / "cose-examples"
    return sorted(p for folder in FOLDERS for p in (base / folder).glob("*.json")
                  if "sign0" in json.loads(p.read_text("utf-8")).get("input", {}))


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key(jwk: dict) -> object | None:
    if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
        return public_key_from_raw_ed25519(bytes.fromhex(jwk["x_hex"]) if "x_hex" in jwk else _b64(jwk["x"]))
    if jwk.get("kty") == "EC" and jwk.get("crv") == "P-256":
        return public_key_from_ec_point(b"\x04" + _b64(jwk["x"]) + _b64(jwk["y"]))
    return None  # P-384 / P-521: not a healthpass key type


def test_examples_present() -> None:
    if find_shared_dir() is None:
        pytest.skip("shared vectors folder not found: set HEALTHPASS_SHARED or place it at ../shared")
    assert len(_examples()) >= 12


@pytest.mark.parametrize("path", _examples(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_cose_wg_sign1_example(path: Path) -> None:
    example = json.loads(path.read_text("utf-8"))
    sign0 = example["input"]["sign0"]
    data = bytes.fromhex(example["output"]["cbor"])
    deliberate = DELIBERATE.get(path.stem)
    should_fail = bool(example.get("fail")) or deliberate is not None
    alg_name = sign0.get("alg")
    supported = alg_name in ("ES256", "EdDSA")
    key = _key(sign0["key"])
    if key is None:  # Ed448, P-384, P-521: no such key can be trusted, so the message cannot verify
        assert deliberate or not supported, path.stem
        if not supported:  # ES384 / ES512: refused at the algorithm allow-list already
            with pytest.raises(HealthPassError) as info:
                read_headers(decode_sign1(data, limits=Limits(), strict=False), allowed=frozenset(Algorithm),
                             kid_protected=False)
            assert info.value.code is ErrorCode.ALGORITHM_UNSUPPORTED
        return
    try:
        msg = decode_sign1(data, limits=Limits(), strict=False)
        headers = read_headers(msg, allowed=frozenset(Algorithm), kid_protected=False)
        verify_with(msg, headers.algorithm, [("k", key)], require_low_s=False)
    except HealthPassError as err:
        if supported and not should_fail:
            pytest.fail(f"{example['title']}: refused: {err}")
        if not supported:
            assert err.code is ErrorCode.ALGORITHM_UNSUPPORTED, err
        return
    assert supported and not should_fail, f"{example['title']}: accepted but should fail"
