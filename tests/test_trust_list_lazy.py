"""The trust list body ``{kid => bstr .cbor KeyEntry}``: the envelope and the index of kids are checked when the
list loads; each entry is decoded and fully checked on the first lookup of its kid, cached, and a malformed one
fails closed (``trust_list_invalid``) for every code naming it. Rules L2-L4 of ``specs/trust-list.md``."""

from __future__ import annotations

import dataclasses
import pickle
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cbor2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from healthpass import crypto, trust
from healthpass.codec.cbor import encode
from healthpass.codec.signed_doc import ContentType
from healthpass.codec.trust_list import KID_SIZE
from healthpass.cose import seal_document
from healthpass.errors import ErrorCode, Stage, TrustListError
from healthpass.issue import Issuer
from healthpass.model.credential import HealthPayload, HealthStatus, StatusColour
from healthpass.model.policy import Limits
from healthpass.model.regions import Region
from healthpass.model.trust import IssuerKey
from healthpass.signers import SoftwareSigner
from healthpass.state import StateStore
from healthpass.trust import KeyRing, TrustList, issuer_key, trust_root
from healthpass.unverified import inspect_trust_list_unverified
from healthpass.verify import Verifier

from ._certs import make_certificate
from .conftest import NOW

ROOT = SoftwareSigner.generate()
GOOD = SoftwareSigner.generate()
BAD_SIGNER = SoftwareSigner.generate()
STATUS = HealthPayload(status=HealthStatus(colour=StatusColour.GREEN, set_at=NOW))
QINGHAI = Region("630000")
LATER = NOW + timedelta(hours=1)
ISSUED = int(NOW.timestamp())


def _roots() -> list:
    return [trust_root(ROOT.public_key_pem())]


def _code(signer: SoftwareSigner, kid: bytes | None = None) -> str:
    return Issuer(signer, QINGHAI, kid=kid).issue(STATUS, now=NOW)


def _entry(material: bytes, **fields: Any) -> bytes:
    """An entry's bytes: SPKI ``material`` for Qinghai, all kinds, active; ``fields`` override by label."""
    return encode({2: material, 4: 630000, 5: [1, 2, 3, 4, 5], 8: 1, **{int(k[1:]): v for k, v in fields.items()}})


def _head(major: int, value: int) -> bytes:
    """A CBOR head in preferred serialisation (values below 65536)."""
    if value < 24:
        return bytes([major << 5 | value])
    return bytes([major << 5 | 24]) + bytes([value]) if value < 256 else \
        bytes([major << 5 | 25]) + value.to_bytes(2, "big")


def _body(pairs: list[tuple[bytes, bytes]]) -> bytes:
    """The body map written pair by pair exactly as given (any order, repeats allowed)."""
    return _head(5, len(pairs)) + b"".join(cbor2.dumps(kid) + cbor2.dumps(entry) for kid, entry in pairs)


def _sealed(body: bytes, *, version: int = 1, trailer: bytes = b"", signer: SoftwareSigner = ROOT) -> bytes:
    """A list with a hand-written body in a correct envelope, signed by the root (the signature holds)."""
    head = encode({1: version, 2: 1, 3: ISSUED, 4: ISSUED + 7 * 86400})
    return seal_document(signer, ContentType.TRUST_LIST.value, b"\xa5" + head[1:] + b"\x05" + body + trailer)


def _good() -> tuple[bytes, bytes]:
    return GOOD.kid, _entry(GOOD.public_key_der)


def _with(kid: bytes, entry: bytes, *, version: int = 1) -> bytes:
    """A list holding GOOD's entry and ``entry`` under ``kid`` (in kid order)."""
    return _sealed(_body(sorted([_good(), (kid, entry)])), version=version)


def _cert_der(signer: SoftwareSigner) -> bytes:
    pem = make_certificate(signer, not_before=NOW - timedelta(days=1), not_after=NOW + timedelta(days=30))
    return issuer_key(pem).key_der


def _count_decodes(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Record the kid of every entry decoded from now on."""
    seen: list[bytes] = []
    real = trust._decode_key

    def counting(kid: bytes, data: bytes, **kw: Any) -> Any:
        seen.append(kid)
        return real(kid, data, **kw)

    monkeypatch.setattr(trust, "_decode_key", counting)
    return seen


# -- a well-formed list ----------------------------------------------------------------------------------


def test_build_writes_kid_keyed_entries_in_canonical_order() -> None:
    signers = [SoftwareSigner.generate() for _ in range(5)]
    data = TrustList.build(ROOT, seq=3, keys=[issuer_key(s.public_key_pem(), region=QINGHAI) for s in signers],
                           valid_for=timedelta(days=1), now=NOW)
    payload = cbor2.loads(cbor2.loads(data).value[2])
    body = payload[5]
    assert list(body) == sorted(s.kid for s in signers) and all(len(kid) == KID_SIZE for kid in body)
    entry = cbor2.loads(body[signers[0].kid])
    assert 1 not in entry and entry[2] == signers[0].public_key_der and entry[4] == 630000
    tl = TrustList.load(data, _roots())
    assert list(tl.keys.kids()) == sorted(s.kid for s in signers) == [k.kid for k in tl.keys]


def test_load_decodes_no_entry_and_a_lookup_decodes_one_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """O(1): loading indexes kids; verifying decodes the one entry the code names, once, whatever the size."""
    others = [issuer_key(crypto.spki_der(crypto.generate_private_key(GOOD.algorithm).public_key()), region=QINGHAI)
              for _ in range(200)]
    data = TrustList.build(ROOT, seq=1, keys=[*others, issuer_key(GOOD.public_key_pem(), region=QINGHAI)],
                           valid_for=timedelta(days=7), now=NOW)
    decoded = _count_decodes(monkeypatch)
    tl = TrustList.load(data, _roots())
    verifier = Verifier(trust_lists=[tl])
    assert decoded == [] and len(tl.keys) == len(verifier.keys) == 201
    assert GOOD.kid in tl.keys and GOOD.kid in verifier.keys and b"\x00" * 8 not in verifier.keys
    code = _code(GOOD)
    for _ in range(3):
        assert verifier.verify(code, at=LATER).kid == GOOD.kid
    assert decoded == [GOOD.kid]
    unknown = _code(SoftwareSigner.generate())
    with pytest.raises(Exception) as info:
        verifier.verify(unknown, at=LATER)
    assert info.value.code is ErrorCode.KEY_UNKNOWN and decoded == [GOOD.kid]  # type: ignore[attr-defined]
    tl.check_all()
    assert sorted(decoded) == sorted({GOOD.kid, *(k.kid for k in others)})


def test_parsed_once_per_verifier() -> None:
    verifier = Verifier(trust_lists=[TrustList.load(_sealed(_body([_good()])), _roots())])
    entry = verifier.keys.entries(GOOD.kid)[0]
    assert verifier.keys.public_key(entry) is verifier.keys.public_key(entry)
    assert entry is verifier.keys.entries(GOOD.kid)[0] is next(iter(verifier.keys))
    assert verifier.keys.public_key(next(iter(verifier.keys))) is verifier.keys.public_key(entry)


def test_lookups_from_many_threads_share_one_decoded_entry() -> None:
    tl = TrustList.load(TrustList.build(ROOT, seq=1, keys=[issuer_key(GOOD.public_key_pem(), region=QINGHAI)],
                                        valid_for=timedelta(days=1), now=NOW), _roots())
    verifier = Verifier(trust_lists=[tl])
    code = _code(GOOD)
    barrier = threading.Barrier(8)
    seen: list[object] = []

    def work() -> None:
        barrier.wait()
        seen.append(verifier.keys.entries(GOOD.kid)[0])
        seen.append(tl.keys.get(GOOD.kid))
        verifier.verify(code, at=LATER)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 16 and all(entry is seen[0] for entry in seen)


def test_verifier_with_lazy_lists_pickles() -> None:
    data = _with(BAD_SIGNER.kid, _entry(GOOD.public_key_der))  # one malformed entry: pickling never decodes
    tl = TrustList.load(data, _roots())
    verifier = Verifier(keys=[issuer_key(SoftwareSigner.generate().public_key_pem(), region=QINGHAI)],
                        trust_lists=[tl])
    verifier.verify(_code(GOOD), at=LATER)  # a parsed key in the caches: they are left out of the pickle
    again = pickle.loads(pickle.dumps(verifier))
    assert len(again.keys) == 3 and len(again.keys.direct_keys) == 1
    assert again.verify(_code(GOOD), at=LATER).key_source == "trust-list:1"
    with pytest.raises(TrustListError):
        again.verify(_code(BAD_SIGNER, kid=BAD_SIGNER.kid), at=LATER)


def test_key_ring_merges_direct_keys_and_lists() -> None:
    """The same kid trusted directly and listed by two lists: every entry is kept and tried, in order."""
    other_root = SoftwareSigner.generate()
    national = TrustList.load(_sealed(_body([_good()])), _roots())
    data = TrustList.build(other_root, seq=4, keys=[issuer_key(GOOD.public_key_pem(), region=Region("630100"))],
                           valid_for=timedelta(days=1), now=NOW)
    partner = TrustList.load(data, [trust_root(other_root.public_key_pem())])
    direct = issuer_key(GOOD.public_key_pem(), region=Region("630102"))
    ring = KeyRing([direct], trust_lists=[national, partner])
    entries = ring.entries(GOOD.kid)
    assert [e.source for e in entries] == ["trust-key", "trust-list:1", "trust-list:4"]
    assert [e.region.code for e in entries if e.region] == ["630102", "630000", "630100"]
    assert ring.entries(GOOD.kid) is entries and ring.entries(b"\x01" * 8) == ()
    assert len(ring) == 3 and ring.trust_lists == (national, partner)
    bigger = KeyRing([direct, issuer_key(BAD_SIGNER.public_key_pem(), region=QINGHAI)],
                     trust_lists=[national, partner])
    assert len(bigger) == 4 and BAD_SIGNER.kid in bigger and len(bigger.entries(GOOD.kid)) == 3
    with pytest.raises(TypeError):
        KeyRing(trust_lists=[object()])  # type: ignore[list-item]


def test_the_document_bytes_are_kept_and_never_a_mutable_buffer() -> None:
    buffer = bytearray(_sealed(_body([_good()])))
    tl = TrustList.load(buffer, _roots())
    buffer[:] = bytes(len(buffer))  # the caller reuses its buffer
    assert Verifier(trust_lists=[tl]).verify(_code(GOOD), at=LATER).kid == GOOD.kid
    with pytest.raises(TypeError):
        TrustList.load("not bytes", _roots())  # type: ignore[arg-type]


def test_inspect_unverified_decodes_every_entry() -> None:
    seq, issued, not_after, keys = inspect_trust_list_unverified(_sealed(_body([_good()])))
    assert (seq, issued, not_after) == (1, NOW, NOW + timedelta(days=7)) and [k.kid for k in keys] == [GOOD.kid]
    with pytest.raises(TrustListError) as info:
        inspect_trust_list_unverified(_with(BAD_SIGNER.kid, b"\xff"))
    assert info.value.code is ErrorCode.TRUST_LIST_INVALID and BAD_SIGNER.kid.hex() in info.value.message


# -- malformed entries: the list loads, the entry is never used ------------------------------------------


def _bad_entries() -> dict[str, Callable[[], tuple[bytes, bytes]]]:
    """name -> (kid, entry bytes) of a malformed entry (the kid a code from BAD_SIGNER can name)."""
    spki = BAD_SIGNER.public_key_der
    garbage = b"\x30\x03\x02\x01\x00"
    cert = _cert_der(BAD_SIGNER)
    pem = BAD_SIGNER.public_key_pem()
    assert b"\xa0\x03\x02\x01\x02" in cert  # X.509 v3: make it version 11 (cryptography: InvalidVersion)
    bad_version = cert.replace(b"\xa0\x03\x02\x01\x02", b"\xa0\x03\x02\x01\x0a", 1)
    return {
        "kid_mismatch": lambda: (BAD_SIGNER.kid, _entry(GOOD.public_key_der)),
        "not_cbor": lambda: (BAD_SIGNER.kid, b"\xff\x00"),
        "not_a_map": lambda: (BAD_SIGNER.kid, encode([spki])),
        "trailing_bytes": lambda: (BAD_SIGNER.kid, _entry(spki) + b"\x00"),
        "non_preferred_head": lambda: (BAD_SIGNER.kid, _entry(spki).replace(b"\x08\x01", b"\x08\x18\x01")),
        "fields_out_of_order": lambda: (BAD_SIGNER.kid, cbor2.dumps({4: 630000, 2: spki, 5: [1], 8: 1})),
        "kid_field": lambda: (BAD_SIGNER.kid, _entry(spki, k1=BAD_SIGNER.kid)),
        "unknown_field": lambda: (BAD_SIGNER.kid, _entry(spki, k11=1)),
        "no_key_material": lambda: (BAD_SIGNER.kid, encode({4: 630000, 5: [1], 8: 1})),
        "spki_and_certificate": lambda: (BAD_SIGNER.kid, _entry(spki, k3=cert)),
        "material_not_bytes": lambda: (BAD_SIGNER.kid, _entry("MIIB")),
        "garbage_material": lambda: (crypto.kid_for(garbage), _entry(garbage)),
        "pem_not_der": lambda: (crypto.kid_for(pem), _entry(pem)),
        "certificate_in_spki_field": lambda: (crypto.kid_for(cert), _entry(cert)),
        "certificate_bad_version": lambda: (crypto.kid_for(bad_version), encode({3: bad_version, 4: 630000,
                                                                                  5: [1], 8: 1})),
        "certificate_bad_version_in_spki_field": lambda: (crypto.kid_for(bad_version), _entry(bad_version)),
        "spki_in_certificate_field": lambda: (BAD_SIGNER.kid, encode({3: spki, 4: 630000, 5: [1], 8: 1})),
        "no_region": lambda: (BAD_SIGNER.kid, encode({2: spki, 5: [1], 8: 1})),
        "region_unknown": lambda: (BAD_SIGNER.kid, _entry(spki, k4=990000)),
        "region_as_text": lambda: (BAD_SIGNER.kid, _entry(spki, k4="630000")),
        "region_outside_root_scope": lambda: (BAD_SIGNER.kid, _entry(spki, k4=110000)),
        "kinds_empty": lambda: (BAD_SIGNER.kid, _entry(spki, k5=[])),
        "kinds_unknown": lambda: (BAD_SIGNER.kid, _entry(spki, k5=[1, 9])),
        "kinds_repeated": lambda: (BAD_SIGNER.kid, _entry(spki, k5=[1, 1])),
        "kinds_unsorted": lambda: (BAD_SIGNER.kid, _entry(spki, k5=[2, 1])),
        "status_unknown": lambda: (BAD_SIGNER.kid, _entry(spki, k8=3)),
        "retired_without_time": lambda: (BAD_SIGNER.kid, _entry(spki, k8=2)),
        # issue 14 item 4: a retirement date on an active key is refused, never dropped
        "retired_at_while_active": lambda: (BAD_SIGNER.kid, _entry(spki, k8=1, k9=ISSUED)),
        # issue 14 item 3: the maximum code validity is a positive number of seconds, at most ten years
        "max_validity_zero": lambda: (BAD_SIGNER.kid, _entry(spki, k10=0)),
        "max_validity_negative": lambda: (BAD_SIGNER.kid, _entry(spki, k10=-86400)),
        "max_validity_text": lambda: (BAD_SIGNER.kid, _entry(spki, k10="30d")),
        "max_validity_over_ten_years": lambda: (BAD_SIGNER.kid, _entry(spki, k10=3661 * 86400)),
        "max_validity_huge": lambda: (BAD_SIGNER.kid, _entry(spki, k10=2**64 - 1)),
        "window_inverted": lambda: (BAD_SIGNER.kid, _entry(spki, k6=ISSUED, k7=ISSUED - 1)),
        "date_after_2100": lambda: (BAD_SIGNER.kid, _entry(spki, k7=2**40)),
        "date_negative": lambda: (BAD_SIGNER.kid, _entry(spki, k6=-1)),
        "tagged_date": lambda: (BAD_SIGNER.kid, _entry(spki, k6=cbor2.CBORTag(1, ISSUED))),
    }


BAD = _bad_entries()


@pytest.mark.parametrize("name", sorted(BAD))
def test_malformed_entry_fails_closed_for_its_kid_only(name: str, tmp_path: Path) -> None:
    kid, entry = BAD[name]()
    data = _with(kid, entry, version=2 if name.startswith("max_validity") else 1)  # field 10: version 2
    scoped = [trust_root(ROOT.public_key_pem(), regions=[QINGHAI])]
    tl = TrustList.load(data, scoped)  # signature, envelope and index hold: the list loads
    verifier = Verifier(trust_lists=[tl])
    assert verifier.verify(_code(GOOD), at=LATER).kid == GOOD.kid  # the other entries keep working
    code = _code(BAD_SIGNER, kid=kid)
    for _ in range(2):  # every time, never used
        with pytest.raises(TrustListError) as info:
            verifier.verify(code, at=LATER)
        assert (info.value.code, info.value.stage) == (ErrorCode.TRUST_LIST_INVALID, Stage.TRUST_LIST)
        assert kid.hex() in info.value.message
    with pytest.raises(TrustListError):
        tl.keys.get(kid)
    with pytest.raises(TrustListError) as info:  # the full check refuses the list, naming the entry
        tl.check_all()
    assert kid.hex() in info.value.message
    state = StateStore(tmp_path)
    with pytest.raises(TrustListError):  # and a list refused whole is not recorded as accepted
        TrustList.load(data, scoped, state=state, check_all=True)
    assert state.read(f"trust-list-{tl.root.kid.hex()}") is None


def test_build_refuses_entries_a_verifier_would_refuse() -> None:
    good = issuer_key(BAD_SIGNER.public_key_pem(), region=QINGHAI)
    cert = _cert_der(BAD_SIGNER)
    bad_keys: list[IssuerKey] = [
        dataclasses.replace(good, kid=GOOD.kid),  # kid of another key
        dataclasses.replace(good, kid=crypto.kid_for(b"\x30\x03\x02\x01\x00"), key_der=b"\x30\x03\x02\x01\x00"),
        dataclasses.replace(good, kid=crypto.kid_for(cert), key_der=cert),  # a certificate said to be SPKI
        dataclasses.replace(good, kid=good.kid[:4]),
        dataclasses.replace(good, region=None),
    ]
    for key in bad_keys:
        with pytest.raises(ValueError):
            TrustList.build(ROOT, seq=1, keys=[key], valid_for=timedelta(days=1), now=NOW)
    with pytest.raises(ValueError, match="listed twice"):
        TrustList.build(ROOT, seq=1, keys=[good, dataclasses.replace(good, region=Region("110000"))],
                        valid_for=timedelta(days=1), now=NOW)


def test_certificate_entries_are_checked_and_bound_codes() -> None:
    pem = make_certificate(BAD_SIGNER, not_before=NOW - timedelta(days=1), not_after=NOW + timedelta(days=9))
    key = issuer_key(pem, region=QINGHAI)
    tl = TrustList.load(TrustList.build(ROOT, seq=1, keys=[key], valid_for=timedelta(days=1), now=NOW), _roots())
    listed = tl.keys.get(key.kid)
    assert listed is not None and listed.is_certificate and listed.cert_not_after == NOW + timedelta(days=9)
    assert Verifier(trust_lists=[tl]).verify(_code(BAD_SIGNER, kid=key.kid), at=LATER).kid == key.kid


# -- the index: refused when the list loads ----------------------------------------------------------------


def _index_attacks() -> dict[str, Callable[[], bytes]]:
    low, high = sorted([_good(), (BAD_SIGNER.kid, _entry(BAD_SIGNER.public_key_der))])
    kid, entry = low
    return {
        "kids_unsorted": lambda: _sealed(_body([high, low])),
        "kid_repeated": lambda: _sealed(_body([low, low])),
        "kid_short": lambda: _sealed(_body([(kid[:7], entry)])),
        "kid_long": lambda: _sealed(_body([(kid + b"\x00", entry)])),
        "kid_text": lambda: _sealed(b"\xa1" + cbor2.dumps("k" * 8) + cbor2.dumps(entry)),
        "kid_integer": lambda: _sealed(b"\xa1\x01" + cbor2.dumps(entry)),
        "entry_inline_map": lambda: _sealed(b"\xa1" + cbor2.dumps(kid) + entry),
        "entry_text": lambda: _sealed(b"\xa1" + cbor2.dumps(kid) + cbor2.dumps(entry.hex())),
        "entry_head_overlong": lambda: _sealed(b"\xa1" + cbor2.dumps(kid) + b"\x59" + len(entry).to_bytes(2, "big")
                                               + entry),
        "entry_head_overlong_short": lambda: _sealed(b"\xa1" + cbor2.dumps(kid) + b"\x58\x01\x00"),
        "entry_indefinite": lambda: _sealed(b"\xa1" + cbor2.dumps(kid) + b"\x5f" + cbor2.dumps(entry) + b"\xff"),
        "entry_length_huge": lambda: _sealed(b"\xa1" + cbor2.dumps(kid) + b"\x5b" + b"\xff" * 8 + entry),
        "entry_length_past_end": lambda: _sealed(b"\xa1" + cbor2.dumps(kid) + b"\x5a\x00\x01\x00\x00" + entry),
        "body_count_huge": lambda: _sealed(b"\xbb" + b"\xff" * 8 + _body([low])[1:]),
        "body_count_too_many": lambda: _sealed(b"\xa3" + _body([low, high])[1:]),
        "body_count_overlong": lambda: _sealed(b"\xb8\x02" + _body([low, high])[1:]),
        "body_indefinite": lambda: _sealed(b"\xbf" + _body([low])[1:] + b"\xff"),
        "body_array": lambda: _sealed(b"\x81" + entry),
        "body_missing": lambda: _sealed(b""),
        "cut_inside_kid": lambda: _sealed(_body([low])[:5]),
        "cut_inside_entry": lambda: _sealed(_body([low])[:-3]),
        "trailing_bytes": lambda: _sealed(_body([low]), trailer=b"\x00"),
        "version_3_unknown": lambda: _sealed(_body([low]), version=3),
        "envelope_key_order": lambda: seal_document(ROOT, ContentType.TRUST_LIST.value, cbor2.dumps(
            {2: 1, 1: 1, 3: ISSUED, 4: ISSUED + 60, 5: {}})),
        "envelope_seq_negative": lambda: seal_document(ROOT, ContentType.TRUST_LIST.value, encode(
            {1: 1, 2: -1, 3: ISSUED, 4: ISSUED + 60, 5: {}})),
        "envelope_seq_overlong": lambda: seal_document(ROOT, ContentType.TRUST_LIST.value, encode(
            {1: 1, 2: 1, 3: ISSUED, 4: ISSUED + 60, 5: {}}).replace(b"\x02\x01", b"\x02\x18\x01")),
        "not_after_too_late": lambda: seal_document(ROOT, ContentType.TRUST_LIST.value, encode(
            {1: 1, 2: 1, 3: ISSUED, 4: 2**40, 5: {}})),
        "old_array_format": lambda: seal_document(ROOT, ContentType.TRUST_LIST.value, encode(
            {1: 1, 2: 1, 3: ISSUED, 4: ISSUED + 60, 5: [{1: kid, 2: GOOD.public_key_der, 4: 630000, 5: [1], 8: 1}]})),
    }


INDEX = _index_attacks()


@pytest.mark.parametrize("name", sorted(INDEX))
def test_malformed_index_refuses_the_list(name: str) -> None:
    data = INDEX[name]()
    for load in (lambda: TrustList.load(data, _roots()), lambda: inspect_trust_list_unverified(data)):
        with pytest.raises(TrustListError) as info:
            load()
        assert (info.value.code, info.value.stage) == (ErrorCode.TRUST_LIST_INVALID, Stage.TRUST_LIST)


def test_limits_bound_keys_and_entries() -> None:
    signers = [SoftwareSigner.generate() for _ in range(3)]
    data = TrustList.build(ROOT, seq=1, keys=[issuer_key(s.public_key_pem(), region=QINGHAI) for s in signers],
                           valid_for=timedelta(days=1), now=NOW)
    TrustList.load(data, _roots(), limits=Limits(max_items=3, max_string=200), check_all=True)
    with pytest.raises(TrustListError, match="more than 2 keys"):
        TrustList.load(data, _roots(), limits=Limits(max_items=2, max_string=200))
    with pytest.raises(TrustListError, match="longer than 50 bytes"):
        TrustList.load(data, _roots(), limits=Limits(max_items=3, max_string=50))


@pytest.mark.parametrize("seq", [0xD81B, 0xD81C])
def test_limits_bound_keys_not_the_envelope_whatever_its_bytes(seq: int) -> None:
    """``max_items`` bounds a list's keys, never its COSE envelope, whatever bytes the list holds: seq 0xD81C
    encodes as a CBOR tag-28 head (as a signature or key does by chance, about one list in 140), which once
    made the envelope's 4-element array count against ``max_items=3`` and refused a valid list."""
    signers = [SoftwareSigner.generate() for _ in range(3)]
    data = TrustList.build(ROOT, seq=seq, keys=[issuer_key(s.public_key_pem(), region=QINGHAI) for s in signers],
                           valid_for=timedelta(days=1), now=NOW)
    assert (b"\xd8\x1c" in data) == (seq == 0xD81C)
    tl = TrustList.load(data, _roots(), limits=Limits(max_items=3, max_string=200), check_all=True)
    assert tl.seq == seq and len(tl.keys) == 3


def test_empty_list_loads() -> None:
    tl = TrustList.load(_sealed(b"\xa0"), _roots(), check_all=True)
    assert len(tl.keys) == 0 and list(tl.keys) == [] and tl.not_after == datetime.fromtimestamp(
        ISSUED + 7 * 86400, UTC)


def test_every_truncation_and_byte_flip_of_the_payload_is_refused_or_harmless() -> None:
    """Resealed by the root (so the signature holds): a payload cut anywhere is refused at load; a flipped
    byte is refused at load, or loads with the change confined to the entries (checked on use)."""
    data = _sealed(_body([_good()]))
    payload = cbor2.loads(data).value[2]
    for cut in range(len(payload)):
        with pytest.raises(TrustListError):
            TrustList.load(seal_document(ROOT, ContentType.TRUST_LIST.value, payload[:cut]), _roots())
    for i in range(len(payload)):
        changed = payload[:i] + bytes([payload[i] ^ 0x01]) + payload[i + 1:]
        try:
            tl = TrustList.load(seal_document(ROOT, ContentType.TRUST_LIST.value, changed), _roots())
        except TrustListError:
            continue
        try:
            tl.check_all()
        except TrustListError as err:
            assert err.code is ErrorCode.TRUST_LIST_INVALID


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.binary(max_size=300), prefix=st.sampled_from([b"", b"\xa1", b"\xa2", b"\xa1\x48", b"\xb9\x00"]))
def test_any_signed_body_loads_or_is_refused_with_a_trust_list_error(body: bytes, prefix: bytes) -> None:
    """Whatever the root signed as the body: TrustList.load, the full check and every lookup either work or
    raise TrustListError (``trust_list_invalid``); nothing else escapes."""
    data = _sealed(prefix + body)
    try:
        tl = TrustList.load(data, _roots())
    except TrustListError as err:
        assert err.code is ErrorCode.TRUST_LIST_INVALID
        return
    for kid in tl.keys.kids():
        try:
            tl.keys.get(kid)
        except TrustListError as err:
            assert err.code is ErrorCode.TRUST_LIST_INVALID


def test_lists_compare_by_value() -> None:
    data = _sealed(_body([_good()]))
    one, two = TrustList.load(data, _roots()), TrustList.load(bytearray(data), _roots())
    assert one == two and hash(one) == hash(two) and one.keys == pickle.loads(pickle.dumps(one)).keys
    other = TrustList.load(_sealed(_body(sorted([_good(), (BAD_SIGNER.kid, b"")]))), _roots())
    assert one.keys != other.keys
