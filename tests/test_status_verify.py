"""Verifier enforcement of credential status (issue 17): held and fresh lists, the error and warning codes,
region scope of list signers, deltas, rollback, the size cost of a reference."""

from __future__ import annotations

import dataclasses
import pickle
from datetime import UTC, datetime, timedelta

import pytest

from healthpass import Issuer, Region, SoftwareSigner, payload_from_json
from healthpass.errors import (
    CredentialStatusError,
    ErrorCode,
    HealthPassError,
    Stage,
    StatusListError,
    VerificationError,
)
from healthpass.model.credential import HealthPayload, Kind
from healthpass.model.qr_capacity import ErrorCorrection, version_for_length
from healthpass.model.status import StatusReference, StatusValue
from healthpass.state import StateStore
from healthpass.status import StatusDelta, StatusList, StatusLists, load_all
from healthpass.trust import issuer_key
from healthpass.verify import Verifier

from .conftest import NOW
from .test_size import _typical

URI = "hp:630000:3"
SIZE = 131072


@pytest.fixture(scope="module")
def province() -> SoftwareSigner:
    return SoftwareSigner.generate()


@pytest.fixture(scope="module")
def keys(province: SoftwareSigner) -> list:
    return [issuer_key(province.public_key_pem(), region=Region("630000"))]


def _code(signer: SoftwareSigner, sample: HealthPayload, idx: int, *, region: str = "630000", uri: str = URI,
          now: datetime = NOW) -> str:
    return Issuer(signer, Region(region)).issue(sample, now=now, status=StatusReference(uri, idx))


def _list(signer: SoftwareSigner, entries: dict[int, int], *, now: datetime = NOW, uri: str = URI,
          valid_for: timedelta = timedelta(days=1), size: int = SIZE) -> bytes:
    return StatusList.build(signer, uri=uri, size=size, entries=entries.items(), valid_for=valid_for,
                            ttl=timedelta(hours=6), now=now)


def _verifier(keys: list, lists: list[bytes], deltas: list[bytes] = (), **kw) -> Verifier:  # type: ignore[assignment]
    return Verifier(keys=keys, status_lists=load_all(lists, deltas, keys, state=kw.pop("state", None)), **kw)


def test_issue17_item3_valid_status_passes_and_is_reported(province, keys, sample) -> None:
    v = _verifier(keys, [_list(province, {5: 1})])
    cred = v.verify(_code(province, sample, 4), at=NOW + timedelta(hours=1))
    assert cred.credential_status is not None and cred.credential_status.value is StatusValue.VALID
    assert cred.to_json()["credential_status"] == {"uri": URI, "idx": 4, "value": "valid"}
    assert cred.warnings == ()


@pytest.mark.parametrize(("value", "code"), [(1, ErrorCode.REVOKED), (2, ErrorCode.SUSPENDED),
                                             (3, ErrorCode.SUPERSEDED)])
def test_issue17_item3_non_valid_statuses_are_rejected_with_their_code(province, keys, sample, value, code) -> None:
    v = _verifier(keys, [_list(province, {7: value})])
    with pytest.raises(CredentialStatusError) as err:
        v.verify(_code(province, sample, 7), at=NOW + timedelta(hours=1))
    assert err.value.code is code and err.value.stage is Stage.STATUS
    assert err.value.credential_status == {"uri": URI, "idx": 7, "value": StatusValue(value).label}
    again = pickle.loads(pickle.dumps(err.value))
    assert again.credential_status == err.value.credential_status and again.code is code


def test_issue17_item3_unheld_list_warns_or_is_unavailable(province, keys, sample) -> None:
    code = _code(province, sample, 1, uri="hp:630000:9")
    for v in (Verifier(keys=keys), _verifier(keys, [_list(province, {})])):
        cred = v.verify(code, at=NOW)
        assert "status_unchecked" in cred.warnings
        assert cred.to_json()["credential_status"] == {"uri": "hp:630000:9", "idx": 1, "value": None}
    for v in (Verifier(keys=keys, require_status=True), _verifier(keys, [_list(province, {})], require_status=True)):
        with pytest.raises(VerificationError) as err:
            v.verify(code, at=NOW)
        assert err.value.code is ErrorCode.STATUS_UNAVAILABLE


def test_issue17_item3_codes_without_reference_are_unaffected(province, keys, sample) -> None:
    code = Issuer(province, Region("630000")).issue(sample, now=NOW)
    cred = _verifier(keys, [_list(province, {0: 1})], require_status=True).verify(code, at=NOW)
    assert cred.credential_status is None and "credential_status" not in cred.to_json()


def test_issue17_item3_list_signer_outside_the_codes_region_is_invalid(province, sample) -> None:
    beijing = SoftwareSigner.generate()
    keys = [issuer_key(province.public_key_pem(), region=Region("630000")),
            issuer_key(beijing.public_key_pem(), region=Region("110000"))]
    # Beijing's key signs a list under the Qinghai URI: it may not speak for Qinghai's codes
    v = _verifier(keys, [_list(beijing, {})])
    with pytest.raises(StatusListError) as err:
        v.verify(_code(province, sample, 3), at=NOW)
    assert err.value.code is ErrorCode.STATUS_LIST_INVALID
    # a city key's list may not speak for a province-level code either, but the province's may for a city's
    city = SoftwareSigner.generate()
    keys.append(issuer_key(city.public_key_pem(), region=Region("630100")))
    with pytest.raises(StatusListError):
        _verifier(keys, [_list(city, {})]).verify(_code(province, sample, 3), at=NOW)
    cred = _verifier(keys, [_list(province, {})]).verify(_code(city, sample, 3, region="630100"), at=NOW)
    assert cred.credential_status is not None and cred.credential_status.value is StatusValue.VALID


def test_issue17_item3_key_without_status_list_kind_cannot_publish(province, sample) -> None:
    keys = [dataclasses.replace(issuer_key(province.public_key_pem(), region=Region("630000")),
                                kinds=frozenset(Kind) - {Kind.STATUS_LIST})]
    with pytest.raises(StatusListError) as err:
        load_all([_list(province, {})], [], keys)
    assert err.value.code is ErrorCode.STATUS_LIST_INVALID


def test_issue17_item3_index_beyond_the_list_is_invalid(province, keys, sample) -> None:
    v = _verifier(keys, [_list(province, {}, size=1024)])
    with pytest.raises(StatusListError) as err:
        v.verify(_code(province, sample, 1024), at=NOW)
    assert err.value.code is ErrorCode.STATUS_LIST_INVALID
    assert v.verify(_code(province, sample, 1023), at=NOW).credential_status is not None


def test_issue17_item3_freshness_stale_then_expired(province, keys, sample) -> None:
    v = _verifier(keys, [_list(province, {}, valid_for=timedelta(hours=1))])
    code = _code(province, sample, 2)
    assert "status_list_stale" not in v.verify(code, at=NOW + timedelta(minutes=59)).warnings
    assert "status_list_stale" in v.verify(code, at=NOW + timedelta(hours=2)).warnings
    with pytest.raises(StatusListError) as err:
        v.verify(code, at=NOW + timedelta(hours=25, seconds=1))
    assert err.value.code is ErrorCode.STATUS_LIST_EXPIRED and err.value.stage is Stage.STATUS


def test_issue17_item3_clock_before_the_list_is_untrusted(province, keys, sample) -> None:
    v = _verifier(keys, [_list(province, {}, now=NOW + timedelta(days=2))])
    with pytest.raises(StatusListError) as err:
        v.verify(_code(province, sample, 2), at=NOW)
    assert err.value.code is ErrorCode.CLOCK_UNTRUSTED


def test_issue17_item3_rollback_with_the_state_directory(province, keys, tmp_path) -> None:
    state = StateStore(tmp_path)
    new = _list(province, {1: 1}, now=NOW + timedelta(hours=2))
    old = _list(province, {}, now=NOW)
    load_all([new], [], keys, state=state)
    load_all([new], [], keys, state=state)  # the same list again is fine
    with pytest.raises(StatusListError) as err:
        load_all([old], [], keys, state=state)
    assert err.value.code is ErrorCode.STATUS_LIST_ROLLBACK and err.value.stage is Stage.STATUS
    # another list with the same iat is not accepted either
    with pytest.raises(StatusListError) as err:
        load_all([_list(province, {2: 1}, now=NOW + timedelta(hours=2))], [], keys, state=state)
    assert err.value.code is ErrorCode.STATUS_LIST_ROLLBACK
    # of two lists given at once the newest is kept; two different ones with the same iat: neither
    held = load_all([old, new], [], keys).get(URI)
    assert held is not None and held.status(1) == 1
    with pytest.raises(StatusListError) as err:
        load_all([new, _list(province, {3: 1}, now=NOW + timedelta(hours=2))], [], keys)
    assert err.value.code is ErrorCode.STATUS_LIST_ROLLBACK


def test_issue17_item5_delta_applies_to_exactly_its_base(province, keys, sample, tmp_path) -> None:
    base = _list(province, {1: 1})
    delta = StatusDelta.build(province, base=base, changes={1: 0, 9: 2}, valid_for=timedelta(days=1),
                              now=NOW + timedelta(hours=3))
    v = _verifier(keys, [base], [delta])
    assert v.verify(_code(province, sample, 1), at=NOW + timedelta(hours=4)).credential_status is not None
    with pytest.raises(VerificationError) as err:
        v.verify(_code(province, sample, 9), at=NOW + timedelta(hours=4))
    assert err.value.code is ErrorCode.SUSPENDED
    held = v.status_lists.get(URI)  # type: ignore[union-attr]
    assert held is not None and held.issued_at == NOW + timedelta(hours=3) and held.delta_digest is not None
    # the delta holds the freshness: the base's exp no longer matters
    assert held.expires_at == NOW + timedelta(hours=3, days=1)
    # any other base: not applied, the result says so
    other = _list(province, {1: 1}, now=NOW + timedelta(seconds=1))
    v2 = _verifier(keys, [other], [delta])
    with pytest.raises(VerificationError):
        v2.verify(_code(province, sample, 1), at=NOW + timedelta(hours=4))
    cred = v2.verify(_code(province, sample, 9), at=NOW + timedelta(hours=4))
    assert "status_delta_not_applied" in cred.warnings
    # a delta without any base held: not applied, status unchecked
    cred = _verifier(keys, [], [delta]).verify(_code(province, sample, 9), at=NOW)
    assert {"status_delta_not_applied", "status_unchecked"} <= set(cred.warnings)
    # with state: the effective (base + delta) list is recorded, so the bare base is a rollback afterwards
    state = StateStore(tmp_path)
    load_all([base], [delta], keys, state=state)
    with pytest.raises(StatusListError) as rb:
        load_all([base], [], keys, state=state)
    assert rb.value.code is ErrorCode.STATUS_LIST_ROLLBACK


def test_issue17_item5_delta_signer_must_cover_the_lists_region(province, keys) -> None:
    city = SoftwareSigner.generate()
    ring = [*keys, issuer_key(city.public_key_pem(), region=Region("630100"))]
    base = _list(province, {})
    delta = StatusDelta.build(city, base=base, changes={1: 1}, valid_for=timedelta(days=1), now=NOW)
    with pytest.raises(StatusListError, match="may not speak"):
        StatusList.load(base, ring).apply(StatusDelta.load(delta, ring))
    # held beside its base, it is not applied (hred2: it used to make loading every list fail): the base's
    # entries stand, and the city's codes under that URI carry the warning status_delta_not_applied
    held = load_all([base], [delta], ring)
    assert held.get(URI).status(1) == 0 and held.unapplied == {URI}  # type: ignore[union-attr]


def test_issue17_item5_thousand_changes_fit_in_8kb(province) -> None:
    import secrets

    size = 10_000_000
    base = StatusList.build(province, uri=URI, size=size, entries=[], valid_for=timedelta(days=1), now=NOW)
    changes = {}
    while len(changes) < 1000:
        changes[secrets.randbelow(size)] = 1 + secrets.randbelow(3)
    delta = StatusDelta.build(province, base=base, changes=changes, valid_for=timedelta(days=1),
                              now=NOW + timedelta(hours=1))
    assert len(delta) < 8192, len(delta)


def test_issue17_item5_malformed_deltas_are_invalid(province, keys) -> None:
    import cbor2

    base = _list(province, {})
    good = StatusDelta.build(province, base=base, changes={3: 1}, valid_for=timedelta(days=1), now=NOW)
    tag = cbor2.loads(good)
    for bad in (good[:-1], good + b"\x00", cbor2.dumps(tag.value), base):
        with pytest.raises(StatusListError) as err:
            StatusDelta.load(bad, keys)
        assert err.value.code is ErrorCode.STATUS_LIST_INVALID
    with pytest.raises(StatusListError):  # a token is not a delta either way round
        StatusList.load(good, keys)


def test_issue17_item3_verifier_with_status_lists_pickles(province, keys, sample) -> None:
    v = _verifier(keys, [_list(province, {6: 3})], require_status=True)
    again = pickle.loads(pickle.dumps(v))
    with pytest.raises(VerificationError) as err:
        again.verify(_code(province, sample, 6), at=NOW)
    assert err.value.code is ErrorCode.SUPERSEDED


def test_issue17_item3_results_in_batches_carry_status(province, keys, sample) -> None:
    v = _verifier(keys, [_list(province, {6: 1})])
    codes = [_code(province, sample, i) for i in (5, 6)]
    results = list(v.verify_many(codes, at=NOW))
    assert results[0].credential is not None and results[1].error is not None
    assert results[1].error.code is ErrorCode.REVOKED
    assert isinstance(results[1].error, HealthPassError)


def test_issue17_item2_size_cost_of_a_reference(sample_json: dict) -> None:
    """Typical code with a reference: QR v12-M at most; complete sample: v14-M (measured over fresh keys)."""
    ref = StatusReference("hp:630000:3", 4_000_000_000)  # a 10-digit index: the largest cost
    for credential, limit in ((_typical(sample_json), 12), (sample_json, 14)):
        payload = payload_from_json(credential)
        with_ref, without = [], []
        for _ in range(8):
            issuer = Issuer(SoftwareSigner.generate(), Region("630000"), max_qr_version=40)
            with_ref.append(len(issuer.issue(payload, now=NOW, status=ref)))
            without.append(len(issuer.issue(payload, now=NOW)))
        assert max(version_for_length(n, ErrorCorrection.M) or 41 for n in with_ref) <= limit, with_ref
        cost = max(with_ref) - max(without)
        assert 0 < cost < 80, cost  # about 40 CBOR bytes, some 60 base45 characters


def test_issue17_item3_status_reference_is_in_the_signature(province, keys, sample) -> None:
    """Moving a code to a valid index means changing its signed claims: the signature fails."""
    from healthpass.codec import b45decode, b45encode, compress, decompress

    code = _code(province, sample, 7)
    raw = decompress(b45decode(code[4:]), max_size=1 << 16)
    at = raw.find(bytes.fromhex("63696478") + b"\x07")  # "idx", then uint 7
    assert at > 0
    forged = bytearray(raw)
    forged[at + 4] = 0x08
    text = "HP1:" + b45encode(compress(bytes(forged)))
    v = _verifier(keys, [_list(province, {7: 1})])
    with pytest.raises(VerificationError) as err:
        v.verify(text, at=NOW)
    assert err.value.code is ErrorCode.SIGNATURE_INVALID


def test_issue17_item3_lists_are_kept_by_uri_and_typed(province) -> None:
    with pytest.raises(TypeError):
        StatusLists([b"not a list"])  # type: ignore[list-item]
    assert NOW.tzinfo is UTC
