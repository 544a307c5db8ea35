"""Token Status List codec: the draft's vectors (byte arrays, 2^20-entry lists, the CWT token with the draft's
example key), bounded decompression, our own tokens read by an independent decoder."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import zlib
from datetime import UTC, datetime, timedelta

import cbor2
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from healthpass.codec.statuslist import (
    decode_status_reference,
    decode_token_claims,
    pack,
    status_at,
    unpack_lst,
)
from healthpass.errors import DecodeError, ErrorCode, StatusListError
from healthpass.model.credential import Kind
from healthpass.model.regions import Region
from healthpass.model.status import StatusReference
from healthpass.signers import SoftwareSigner
from healthpass.status import StatusList
from healthpass.trust import issuer_key

from ._shared import shared_dir

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _vectors() -> list[dict]:
    return json.loads((shared_dir() / "vectors" / "status-list" / "vectors.json").read_text("utf-8"))


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _example_private_key(jwk: dict) -> ec.EllipticCurvePrivateKey:
    d = int.from_bytes(_b64(jwk["d"]), "big")
    return ec.derive_private_key(d, ec.SECP256R1())


def _example_issuer_key(jwk: dict, region: str = "630000"):
    pem = _example_private_key(jwk).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    key = issuer_key(pem, region=Region(region))
    return dataclasses.replace(key, kid=jwk["kid"].encode())  # the draft names its key "12"


def _lists_with_lst() -> list[dict]:
    return [v for v in _vectors() if "lst_hex" in v and v.get("bits") and "statuses" in v]


def test_issue17_item1_every_vector_list_decodes_to_its_statuses() -> None:
    vectors = _lists_with_lst()
    assert len(vectors) >= 10
    for v in vectors:
        bits, size = int(v["bits"]), int(v["size"])
        raw = unpack_lst(bytes.fromhex(v["lst_hex"]), max_size=1 << 21)
        assert len(raw) * 8 // bits == size, v["name"]
        if "byte_array_hex" in v:
            assert raw.hex() == v["byte_array_hex"], v["name"]
        if "byte_array_sha256" in v:
            assert hashlib.sha256(raw).hexdigest() == v["byte_array_sha256"], v["name"]
        listed = {int(k): int(val) for k, val in v["statuses"].items()}
        for idx, value in listed.items():
            assert status_at(raw, bits, idx) == value, (v["name"], idx)
        # every unlisted index is 0: the whole array repacks from the listed statuses alone
        assert bytes(pack(size, bits, listed.items())) == raw, v["name"]


def test_issue17_item1_the_cbor_status_list_maps_decode() -> None:
    for v in _vectors():
        if "cbor_hex" not in v or not str(v["name"]).startswith(("status-list-1bit", "status-list-2bit", "test-")):
            continue
        value = cbor2.loads(bytes.fromhex(v["cbor_hex"]))
        assert value["bits"] == int(v["bits"])
        assert value["lst"].hex() == v["lst_hex"] or value["lst"].hex().startswith(v["lst_hex"][:100])


def test_issue17_item1_pack_is_lsb_first_for_each_width() -> None:
    assert pack(8, 1, [(0, 1)]) == bytearray(b"\x01")
    assert pack(8, 1, [(7, 1)]) == bytearray(b"\x80")
    assert pack(4, 2, [(1, 3)]) == bytearray(b"\x0c")
    assert pack(2, 4, [(1, 9)]) == bytearray(b"\x90")
    assert pack(1, 8, [(0, 200)]) == bytearray(b"\xc8")
    with pytest.raises(ValueError):
        pack(8, 3, [])
    with pytest.raises(ValueError):
        pack(4, 2, [(4, 1)])
    with pytest.raises(ValueError):
        pack(4, 2, [(0, 4)])


def test_issue17_item1_the_draft_cwt_token_verifies_with_the_example_key() -> None:
    v = next(x for x in _vectors() if x["name"] == "status-list-token-CWT")
    token = bytes.fromhex(v["cbor_hex"])
    key = _example_issuer_key(v["key_jwk"])
    assert Kind.STATUS_LIST in key.kinds  # the default "all kinds" includes status lists
    sl = StatusList.load(token, [key])
    assert sl.uri == "https://example.com/statuslists/1"
    assert sl.bits == 1 and sl.size == 16
    assert sl.ttl == timedelta(seconds=43200)
    for idx, value in v["statuses"].items():
        assert sl.status(int(idx)) == value
    # a single flipped byte anywhere in the signed parts fails the signature or the structure
    for at in range(len(token) - 20, len(token)):
        bad = bytearray(token)
        bad[at] ^= 1
        with pytest.raises(StatusListError) as err:
            StatusList.load(bytes(bad), [key])
        assert err.value.code is ErrorCode.STATUS_LIST_INVALID


def test_issue17_item1_a_key_without_the_status_list_kind_may_not_sign_lists() -> None:
    v = next(x for x in _vectors() if x["name"] == "status-list-token-CWT")
    key = dataclasses.replace(_example_issuer_key(v["key_jwk"]), kinds=frozenset({Kind.STATUS, Kind.NAAT}))
    with pytest.raises(StatusListError, match="may not sign status lists"):
        StatusList.load(bytes.fromhex(v["cbor_hex"]), [key])


def test_issue17_item1_the_referenced_token_status_claim_reads_as_a_reference() -> None:
    v = next(x for x in _vectors() if x["name"] == "referenced-token-CWT")
    msg = cbor2.loads(bytes.fromhex(v["cbor_hex"]))
    claims = cbor2.loads(msg.value[2])
    ref = decode_status_reference(claims[65535])
    assert ref == StatusReference("https://example.com/statuslists/1", 0)
    for bad in ({"status_list": {"uri": "a:b", "idx": 0}}, {"status_list": {"idx": -1, "uri": "a:b"}},
                {"status_list": {"idx": 0, "uri": "a:b", "x": 1}}, {"other": 1}, [], {"status_list": []},
                {"status_list": {"idx": 0, "uri": "no scheme"}}, {"status_list": {"idx": 1 << 32, "uri": "a:b"}}):
        with pytest.raises(DecodeError) as err:
            decode_status_reference(bad)
        assert err.value.code is ErrorCode.CLAIMS_INVALID


def test_issue17_item1_decompression_is_bounded() -> None:
    bomb = zlib.compress(bytes(1 << 24), 9)  # 16 MiB of zeros in ~16 KiB
    with pytest.raises(DecodeError) as err:
        unpack_lst(bomb, max_size=1 << 20)
    assert err.value.code is ErrorCode.STATUS_LIST_INVALID
    for junk in (b"", b"\x78\xda", b"not zlib", zlib.compress(b"") , zlib.compress(b"\x01") + b"x"):
        with pytest.raises(DecodeError):
            unpack_lst(junk, max_size=1 << 20)


def test_issue17_item1_our_token_reads_with_an_independent_decoder(es_signer: SoftwareSigner) -> None:
    """What healthpass publishes is the draft's CWT: checked with cbor2, zlib and pycose, not our code."""
    pytest.importorskip("pycose", reason="pycose is dev-only (pip install -e '.[dev]'); CI's dev environment runs "
                        "this test")
    from pycose.keys import EC2Key
    from pycose.messages import Sign1Message

    entries = [(0, 1), (5, 2), (131071, 3), (77777, 1)]
    token = StatusList.build(es_signer, uri="hp:630000:3", size=131072, entries=entries,
                             valid_for=timedelta(days=1), ttl=timedelta(hours=12), now=NOW)
    tag = cbor2.loads(token)
    assert tag.tag == 18
    protected = cbor2.loads(tag.value[0])
    assert protected[16] == "application/statuslist+cwt" and protected[1] == -7
    claims = cbor2.loads(tag.value[2])
    assert claims[2] == "hp:630000:3" and claims[4] - claims[6] == 86400 and claims[65534] == 43200
    raw = zlib.decompress(claims[65533]["lst"])
    assert claims[65533]["bits"] == 2 and len(raw) == 131072 // 4
    for idx, value in entries:
        assert (raw[idx // 4] >> (idx % 4 * 2)) & 3 == value
    pub = es_signer.public_key_pem()
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    numbers = load_pem_public_key(pub).public_numbers()  # type: ignore[union-attr]
    key = EC2Key(crv="P_256", x=numbers.x.to_bytes(32, "big"), y=numbers.y.to_bytes(32, "big"))
    msg = Sign1Message.decode(token)
    msg.key = key
    assert msg.verify_signature()
    claims_checked = decode_token_claims(tag.value[2], max_string=1 << 20)
    assert claims_checked.uri == "hp:630000:3"


def test_issue17_item1_tokens_with_wrong_shape_are_invalid(es_signer: SoftwareSigner) -> None:
    key = issuer_key(es_signer.public_key_pem(), region=Region("630000"))
    good = StatusList.build(es_signer, uri="hp:630000:3", size=64, entries=[], valid_for=timedelta(days=1), now=NOW)
    tag = cbor2.loads(good)
    cases = {
        "untagged": cbor2.dumps(tag.value),
        "cwt tag": cbor2.dumps(cbor2.CBORTag(61, tag)),
        "trailing": good + b"\x00",
    }
    for name, data in cases.items():
        with pytest.raises(StatusListError) as err:
            StatusList.load(data, [key])
        assert err.value.code is ErrorCode.STATUS_LIST_INVALID, name


def test_issue17_item1_every_single_byte_change_is_refused_typed(es_signer: SoftwareSigner) -> None:
    """Hostile input: any one-byte change or truncation of a list or delta is a StatusListError, never a crash
    and never a different list accepted."""
    from healthpass.status import StatusDelta

    key = issuer_key(es_signer.public_key_pem(), region=Region("630000"))
    token = StatusList.build(es_signer, uri="hp:630000:3", size=1024, entries=[(3, 1), (700, 2)],
                             valid_for=timedelta(days=1), ttl=timedelta(hours=1), now=NOW)
    delta = StatusDelta.build(es_signer, base=token, changes={3: 0, 9: 3}, valid_for=timedelta(days=1),
                              now=NOW + timedelta(hours=1))
    for data, load in ((token, StatusList.load), (delta, StatusDelta.load)):
        load(data, [key])
        for at in range(len(data)):
            for change in (0x01, 0x80, 0xFF):
                bad = bytearray(data)
                bad[at] ^= change
                with pytest.raises(StatusListError):
                    load(bytes(bad), [key])
        for cut in range(len(data)):
            with pytest.raises(StatusListError):
                load(data[:cut], [key])
