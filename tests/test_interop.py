"""Independent implementations accept what healthpass mints (pycose, python-cwt), and healthpass's COSE layer
verifies the RFC 8392 Appendix A.3 signed CWT."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from healthpass.codec import b45decode, decode_claims, decode_sign1, decompress
from healthpass.cose import read_headers, verify_with
from healthpass.crypto import load_public_key, public_key_from_ec_point
from healthpass.model.cose import Algorithm, ClaimKey
from healthpass.model.policy import Limits
from healthpass.signers import SoftwareSigner

from ._shared import shared_dir
from .conftest import NOW


def _cose_bytes(code: str) -> bytes:
    return decompress(b45decode(code[4:]), max_size=65536)


#: pycose and python-cwt are dev-only (the ``dev`` extra): CI's newest and oldest environments of the runtime
#: extras run without them (python-cwt caps cbor2 below 6), and these tests skip there.
_DEV_ONLY = "a dev-only interop package (pip install -e '.[dev]'); CI's dev environment runs this test"


def test_pycose_verifies_a_healthpass_code(code: str, es_signer: SoftwareSigner) -> None:
    pytest.importorskip("pycose", reason=f"pycose is {_DEV_ONLY}")
    from pycose.keys import EC2Key
    from pycose.messages import Sign1Message

    key, _, _ = load_public_key(es_signer.public_key_pem())
    numbers = key.public_numbers()  # type: ignore[union-attr]
    cose_key = EC2Key(crv="P_256", x=numbers.x.to_bytes(32, "big"), y=numbers.y.to_bytes(32, "big"))
    message = Sign1Message.decode(_cose_bytes(code))
    message.key = cose_key
    assert message.verify_signature()


def test_python_cwt_verifies_a_healthpass_code(code: str, es_signer: SoftwareSigner) -> None:
    """python-cwt checks the signature; the claims are read here, not by ``cwt.CWT.decode``.

    ``cwt.CWT.decode`` compares ``exp`` with the real clock and has no way to take a fixed time, so a
    code minted at the suite's fixed ``NOW`` failed there once the calendar passed its expiry (issue 15,
    item 1). Its COSE layer verifies the same signature without reading the clock.
    """
    pytest.importorskip("cwt", reason=f"python-cwt is {_DEV_ONLY}")
    import cbor2
    import cwt
    from cwt import COSEKey

    key = COSEKey.from_pem(es_signer.public_key_pem().decode(), alg="ES256", kid=es_signer.kid)
    payload = cwt.COSE.new(verify_kid=True).decode(_cose_bytes(code), key)
    claims = cbor2.loads(payload)
    assert claims[ClaimKey.ISS.value] == "630000"
    assert claims[ClaimKey.IAT.value] == int(NOW.timestamp())
    # and it refuses the same message with one signature bit flipped
    raw = bytearray(_cose_bytes(code))
    raw[-1] ^= 1
    with pytest.raises(cwt.VerifyError):
        cwt.COSE.new(verify_kid=True).decode(bytes(raw), key)


def test_rfc8392_a3_signed_cwt() -> None:
    data = json.loads((shared_dir() / "vectors" / "cwt-rfc8392.json").read_text("utf-8"))
    vector, key_data = data["A.3_signed_cwt"], data["A.2.3_ecdsa_p256_key"]
    raw = bytes.fromhex(vector["hex"])
    msg = decode_sign1(raw, limits=Limits(), strict=False)
    assert msg.protected.hex() == vector["protected_hex"]
    headers = read_headers(msg, allowed=frozenset(Algorithm), kid_protected=False)
    assert headers.algorithm is Algorithm.ES256 and headers.kid == bytes.fromhex(key_data["kid_hex"])
    point = b"\x04" + bytes.fromhex(key_data["x_hex"]) + bytes.fromhex(key_data["y_hex"])
    key = public_key_from_ec_point(point)
    assert verify_with(msg, headers.algorithm, [("rfc", key)], require_low_s=False) == "rfc"
    claims = decode_claims(msg.payload, limits=Limits(), strict=False)
    assert claims.iss == "coap://as.example.com" and claims.exp == 1444064944 and claims.cti == b"\x0b\x71"
    # the RFC encodes with definite, preferred lengths but its claims are healthpass-strict too
    strict = decode_claims(msg.payload, limits=Limits(), strict=True)
    assert strict.nbf == 1443944944
    # any change to the signed bytes breaks it
    tampered = raw[:-70] + bytes([raw[-70] ^ 1]) + raw[-69:]
    msg2 = decode_sign1(tampered, limits=Limits(), strict=False)
    with pytest.raises(Exception) as info:
        verify_with(msg2, headers.algorithm, [("rfc", key)], require_low_s=False)
    assert getattr(info.value, "code", None) is not None


def test_rfc8392_claims_set_round_trip_is_byte_identical() -> None:
    from healthpass.codec.cbor import encode

    data = json.loads((shared_dir() / "vectors" / "cwt-rfc8392.json").read_text("utf-8"))
    raw = bytes.fromhex(data["A.1_claims_set"]["hex"])
    claims = decode_claims(raw, limits=Limits(), strict=True)
    rebuilt = {ClaimKey.ISS.value: claims.iss, **claims.other, ClaimKey.EXP.value: claims.exp,
               ClaimKey.NBF.value: claims.nbf, ClaimKey.IAT.value: claims.iat, ClaimKey.CTI.value: claims.cti}
    assert encode(rebuilt) == raw
    assert timedelta(seconds=claims.exp - claims.iat) == timedelta(seconds=120000)
