"""Our own vectors (tests/vectors/hp1_vectors.json, made by tests/vectors/make_vectors.py) are the spec's
examples: each verifies, or fails with its stated code, and the deterministic ones re-generate byte for byte."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from healthpass import HealthPassError, Region, Verifier, issuer_key
from healthpass.codec import b45decode, decode_sign1, decompress
from healthpass.codec.cbor import Tagged, encode
from healthpass.model.policy import Limits
from healthpass.model.time import parse_iso as parse_instant

HERE = Path(__file__).resolve().parent / "vectors"
DOC = json.loads((HERE / "hp1_vectors.json").read_text("utf-8"))


@pytest.mark.parametrize("vector", DOC["vectors"], ids=lambda v: v["name"])
def test_vector(vector: dict) -> None:
    verifier = Verifier(keys=[issuer_key(vector["key_pem"].encode(), region=Region(vector["key_region"]))])
    at = parse_instant(vector["at"])
    if vector["expect"] == "valid":
        assert verifier.verify(vector["text"], at=at).to_json() == vector["result"]
    else:
        with pytest.raises(HealthPassError) as info:
            verifier.verify(vector["text"], at=at)
        assert info.value.code.value == vector["expect"] == vector["result"]["code"]
        assert info.value.stage.value == vector["result"]["stage"]
    cose = decompress(b45decode(vector["text"][4:]), max_size=65536)
    assert cose.hex() == vector["cose_hex"]
    msg = decode_sign1(cose, limits=Limits(), strict=True)
    assert encode(Tagged(18, [msg.protected, dict(msg.unprotected_header), msg.payload, msg.signature])) == cose


def test_eddsa_vectors_regenerate_byte_for_byte() -> None:
    spec = importlib.util.spec_from_file_location("make_vectors", HERE / "make_vectors.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    ed = module.ed_signer("qinghai-ed25519")
    again = module.vector("S7-kid-spki-eddsa-full-sample", "S7", ed, "630000", module.sample())
    stored = next(v for v in DOC["vectors"] if v["name"] == "S7-kid-spki-eddsa-full-sample")
    assert again["text"] == stored["text"]


def test_trust_list_vector() -> None:
    from healthpass import TrustList, trust_root

    doc = json.loads((HERE / "trust_list_vectors.json").read_text("utf-8"))
    root = trust_root(doc["root_pem"].encode())
    tl = TrustList.load(bytes.fromhex(doc["list_hex"]), [root])
    assert tl.seq == doc["seq"] and tl.issued_at == parse_instant(doc["issued_at"])
    assert tl.not_after == parse_instant(doc["not_after"])
    assert [{"kid": k.kid.hex(), "region": k.region.code if k.region else None,
             "kinds": sorted(x.value for x in k.kinds)} for k in tl.keys] == doc["keys"]
    result = Verifier(trust_lists=[tl]).verify(doc["code_from_qinghai"], at=parse_instant(doc["issued_at"]))
    assert result.issuer == "630100" and result.key_source == "trust-list:7"


def test_trust_list_vector_regenerates_byte_for_byte() -> None:
    """Ed25519 signatures are deterministic: the script makes exactly the list the spec annotates."""
    spec = importlib.util.spec_from_file_location("make_vectors", HERE / "make_vectors.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    doc = json.loads((HERE / "trust_list_vectors.json").read_text("utf-8"))
    assert module.trust_lists() == doc
    annotated = (HERE.parents[1] / "specs" / "trust-list.md").read_text("utf-8")
    signature = doc["list_hex"][-128:]  # the spec's worked example is this list: its kids and signature
    assert all(key["kid"] in annotated for key in doc["keys"]) and signature[:8] in annotated
    assert signature[-6:] in annotated
