"""Mutual recognition: the signed trust list and what the verifier enforces from it."""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import pickle
from datetime import timedelta
from pathlib import Path

import pytest

from healthpass.cose import seal_document
from healthpass.errors import ErrorCode, Stage, TrustListError, VerificationError
from healthpass.issue import Issuer
from healthpass.model.credential import HealthPayload, HealthStatus, Kind, StatusColour
from healthpass.model.regions import Region
from healthpass.model.trust import KeyStatus
from healthpass.signers import SoftwareSigner
from healthpass.state import StateStore
from healthpass.trust import KeyRing, TrustList, issuer_key, trust_root
from healthpass.verify import WARNING_TRUST_LIST_STALE, Verifier

from .conftest import NOW

ROOT = SoftwareSigner.generate()
QINGHAI = SoftwareSigner.generate()
BEIJING = SoftwareSigner.generate()
STATUS = HealthPayload(status=HealthStatus(colour=StatusColour.GREEN, set_at=NOW))


def _key(signer: SoftwareSigner, region: str, **changes: object) -> object:
    return dataclasses.replace(issuer_key(signer.public_key_pem(), region=Region(region)), **changes)


def _list(seq: int = 1, keys: list | None = None, valid_for: timedelta = timedelta(days=7), root=ROOT) -> bytes:
    keys = keys if keys is not None else [_key(QINGHAI, "630000"), _key(BEIJING, "110000")]
    return TrustList.build(root, seq=seq, keys=keys, valid_for=valid_for, now=NOW)


def _root(**kw: object) -> object:
    return trust_root(ROOT.public_key_pem(), **kw)


def _verifier(data: bytes, **kw: object) -> Verifier:
    return Verifier(trust_lists=[TrustList.load(data, [_root()], **kw)])


def test_round_trip_and_cross_province_verification() -> None:
    data = _list()
    tl = TrustList.load(data, [_root()])
    assert tl.seq == 1 and len(tl.keys) == 2 and tl.not_after == NOW + timedelta(days=7)
    code = Issuer(QINGHAI, Region("630100")).issue(STATUS, now=NOW)  # a city under Qinghai
    result = Verifier(trust_lists=[tl]).verify(code, at=NOW + timedelta(hours=1))
    assert result.issuer == "630100" and result.key_source == "trust-list:1" and result.warnings == ()


@pytest.mark.parametrize("mutate", ["flip_payload_byte", "truncate", "garbage", "other_root", "code_as_list"])
def test_invalid_lists_are_never_used(mutate: str) -> None:
    data = _list()
    if mutate == "flip_payload_byte":
        data = data[:-80] + bytes([data[-80] ^ 1]) + data[-79:]
    elif mutate == "truncate":
        data = data[:-1]
    elif mutate == "garbage":
        data = b"\x00" * 50
    elif mutate == "other_root":
        data = _list(root=SoftwareSigner.generate())
    else:
        data = seal_document(ROOT, "application/healthpass-rules+cbor", b"\xa0")
    with pytest.raises(TrustListError) as info:
        TrustList.load(data, [_root()])
    assert info.value.code is ErrorCode.TRUST_LIST_INVALID


def test_key_region_outside_root_scope_is_never_used() -> None:
    scoped = _root(regions=[Region("630000")])
    tl = TrustList.load(_list(), [scoped])  # Qinghai and Beijing keys; the root vouches for Qinghai only
    verifier = Verifier(trust_lists=[tl])
    assert verifier.verify(Issuer(QINGHAI, Region("630000")).issue(STATUS, now=NOW), at=NOW).issuer == "630000"
    beijing_code = Issuer(BEIJING, Region("110000")).issue(STATUS, now=NOW)
    with pytest.raises(TrustListError) as info:  # the entry is checked on first use, and never used
        verifier.verify(beijing_code, at=NOW)
    assert (info.value.code, info.value.stage) == (ErrorCode.TRUST_LIST_INVALID, Stage.TRUST_LIST)
    assert BEIJING.kid.hex() in info.value.message and "outside the scope" in info.value.message
    with pytest.raises(TrustListError) as info:  # the full check (tooling) refuses the whole list
        TrustList.load(_list(), [scoped], check_all=True)
    assert info.value.code is ErrorCode.TRUST_LIST_INVALID and BEIJING.kid.hex() in info.value.message
    with pytest.raises(TrustListError):
        tl.check_all()
    assert TrustList.load(_list(keys=[_key(QINGHAI, "630100")]), [scoped], check_all=True).seq == 1


def test_issuer_mismatch_province_key_cannot_sign_for_another() -> None:
    code = Issuer(QINGHAI, Region("110000")).issue(STATUS, now=NOW)
    with pytest.raises(VerificationError) as info:
        _verifier(_list()).verify(code, at=NOW)
    assert info.value.code is ErrorCode.ISSUER_MISMATCH


def test_usage_not_allowed_by_kinds() -> None:
    data = _list(keys=[_key(QINGHAI, "630000", kinds=frozenset({Kind.NAAT}))])
    code = Issuer(QINGHAI, Region("630000")).issue(STATUS, now=NOW)
    with pytest.raises(VerificationError) as info:
        _verifier(data).verify(code, at=NOW)
    assert info.value.code is ErrorCode.USAGE_NOT_ALLOWED


def test_key_usage_window_and_retirement() -> None:
    code = Issuer(QINGHAI, Region("630000")).issue(STATUS, now=NOW)
    later = _key(QINGHAI, "630000", valid_from=NOW + timedelta(days=1))
    closed = _key(QINGHAI, "630000", valid_until=NOW - timedelta(days=1))
    retired_after = _key(QINGHAI, "630000", status=KeyStatus.RETIRED, retired_at=NOW + timedelta(hours=1))
    retired_before = _key(QINGHAI, "630000", status=KeyStatus.RETIRED, retired_at=NOW - timedelta(hours=1))
    for key in (later, closed, retired_before):
        with pytest.raises(VerificationError) as info:
            _verifier(_list(keys=[key])).verify(code, at=NOW)
        assert info.value.code is ErrorCode.KEY_EXPIRED
    _verifier(_list(keys=[retired_after])).verify(code, at=NOW)


def test_removed_key_is_the_emergency_stop() -> None:
    code = Issuer(QINGHAI, Region("630000")).issue(STATUS, now=NOW)
    with pytest.raises(VerificationError) as info:
        _verifier(_list(seq=2, keys=[_key(BEIJING, "110000")])).verify(code, at=NOW)
    assert info.value.code is ErrorCode.KEY_UNKNOWN


def test_stale_then_expired() -> None:
    data = _list(valid_for=timedelta(days=1))
    code = Issuer(QINGHAI, Region("630000")).issue(STATUS, now=NOW)
    verifier = _verifier(data)
    stale_at = NOW + timedelta(days=1, hours=2)
    assert verifier.verify(code, at=stale_at).warnings == (WARNING_TRUST_LIST_STALE,)
    with pytest.raises(TrustListError) as info:
        verifier.verify(code, at=NOW + timedelta(days=2, hours=1))
    assert info.value.code is ErrorCode.TRUST_LIST_EXPIRED


def test_rollback_is_refused_and_persists(tmp_path: Path) -> None:
    state = StateStore(tmp_path)
    TrustList.load(_list(seq=5), [_root()], state=state)
    again = StateStore(tmp_path)  # a restart
    with pytest.raises(TrustListError) as info:
        TrustList.load(_list(seq=4), [_root()], state=again)
    assert info.value.code is ErrorCode.TRUST_LIST_ROLLBACK
    with pytest.raises(TrustListError) as info:  # same number, other content
        TrustList.load(_list(seq=5, keys=[_key(QINGHAI, "630000")]), [_root()], state=again)
    assert info.value.code is ErrorCode.TRUST_LIST_ROLLBACK
    TrustList.load(_list(seq=6), [_root()], state=again)


def test_clock_set_back_is_detected(tmp_path: Path) -> None:
    code = Issuer(QINGHAI, Region("630000")).issue(STATUS, now=NOW - timedelta(days=3))
    verifier = _verifier(_list(), state=StateStore(tmp_path))
    with pytest.raises(TrustListError) as info:
        verifier.verify(code, at=NOW - timedelta(days=2))
    assert info.value.code is ErrorCode.CLOCK_UNTRUSTED


def _accept_in_process(directory: str, seq: int, queue: multiprocessing.Queue) -> None:
    try:
        StateStore(directory).accept("trust-list-x", seq, 1000 + seq, f"d{seq}", stage=__import__(
            "healthpass.errors", fromlist=["Stage"]).Stage.TRUST_LIST)
        queue.put("ok")
    except TrustListError as err:
        queue.put(err.code.value)


def test_state_is_shared_safely_by_processes(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue = ctx.Queue()
    procs = [ctx.Process(target=_accept_in_process, args=(str(tmp_path), seq, queue)) for seq in range(1, 9)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    outcomes = [queue.get(timeout=5) for _ in procs]
    assert set(outcomes) <= {"ok", "trust_list_rollback"}
    final = StateStore(tmp_path).read("trust-list-x")
    assert final is not None and final.seq == 8 and final.issued_at == 1008
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]


def test_several_roots_each_scoped() -> None:
    partner = SoftwareSigner.generate()
    partner_key = SoftwareSigner.generate()
    national = TrustList.load(_list(), [_root(), trust_root(partner.public_key_pem(), regions=[Region("810000")])])
    foreign_data = TrustList.build(partner, seq=1, keys=[_key(partner_key, "810000")], valid_for=timedelta(days=1),
                                   now=NOW)
    roots = [_root(), trust_root(partner.public_key_pem(), regions=[Region("810000")])]
    foreign = TrustList.load(foreign_data, roots)
    verifier = Verifier(trust_lists=[national, foreign])
    code = Issuer(partner_key, Region("810000")).issue(STATUS, now=NOW)
    assert verifier.verify(code, at=NOW).issuer == "810000"
    bad = TrustList.build(partner, seq=2, keys=[_key(partner_key, "630000")], valid_for=timedelta(days=1), now=NOW)
    with pytest.raises(TrustListError):
        TrustList.load(bad, roots, check_all=True)
    overreaching = Verifier(trust_lists=[national, TrustList.load(bad, roots)])
    with pytest.raises(TrustListError) as info:  # the partner's root may not vouch for a Qinghai key
        overreaching.verify(Issuer(partner_key, Region("630000")).issue(STATUS, now=NOW), at=NOW)
    assert info.value.code is ErrorCode.TRUST_LIST_INVALID


def test_certificate_keys_bound_code_lifetime() -> None:
    from tests._certs import make_certificate

    signer = SoftwareSigner.generate()
    cert = make_certificate(signer, not_before=NOW - timedelta(days=1), not_after=NOW + timedelta(hours=24))
    key = issuer_key(cert, region=Region("630000"))
    assert key.is_certificate
    data = _list(keys=[key])
    short = Issuer(signer, Region("630000"), validity=timedelta(hours=12), kid=key.kid).issue(STATUS, now=NOW)
    _verifier(data).verify(short, at=NOW)
    long = Issuer(signer, Region("630000"), validity=timedelta(hours=72), kid=key.kid).issue(STATUS, now=NOW)
    with pytest.raises(VerificationError) as info:
        _verifier(data).verify(long, at=NOW)
    assert info.value.code is ErrorCode.KEY_EXPIRED


def test_many_keys_load_and_every_one_is_found_by_kid() -> None:
    signers = [SoftwareSigner.generate() for _ in range(300)]
    keys = [_key(s, "630000") for s in signers]
    tl = TrustList.load(_list(keys=keys), [_root()])
    verifier = Verifier(trust_lists=[tl])
    assert len(verifier.keys) == 300
    assert all(verifier.keys.entries(s.kid) for s in signers)
    code = Issuer(signers[-1], Region("630000")).issue(STATUS, now=NOW)
    assert verifier.verify(code, at=NOW).kid == signers[-1].kid


# ---------------------------------------------------------------- issue 14 item 2: only the newest list per root


def test_issue14_item2_older_list_beside_a_newer_one_is_never_consulted(tmp_path: Path) -> None:
    """The emergency stop holds whatever a verifier is handed: seq 20 lists keys A (Qinghai) and B (Beijing),
    seq 21 drops A; given both (either order), A's codes are key_unknown and B's come from list 21."""
    l20, l21 = _list(seq=20), _list(seq=21, keys=[_key(BEIJING, "110000")])
    a_code = Issuer(QINGHAI, Region("630000")).issue(STATUS, now=NOW)
    b_code = Issuer(BEIJING, Region("110000")).issue(STATUS, now=NOW)
    for order in ((l20, l21), (l21, l20)):
        loaded = [TrustList.load(data, [_root()]) for data in order]
        for verifier in (Verifier(trust_lists=loaded), pickle.loads(pickle.dumps(Verifier(trust_lists=loaded)))):
            with pytest.raises(VerificationError) as info:
                verifier.verify(a_code, at=NOW)
            assert info.value.code is ErrorCode.KEY_UNKNOWN
            assert verifier.verify(b_code, at=NOW).key_source == "trust-list:21"
            assert [tl.seq for tl in verifier.keys.trust_lists] == [21]
            assert QINGHAI.kid not in verifier.keys and len(verifier.keys) == 1
        assert [tl.seq for tl in KeyRing(trust_lists=loaded).trust_lists] == [21]
    # with a state directory an older list loaded after a newer one does not even load
    state = StateStore(tmp_path)
    TrustList.load(l21, [_root()], state=state)
    with pytest.raises(TrustListError) as info:
        TrustList.load(l20, [_root()], state=state)
    assert info.value.code is ErrorCode.TRUST_LIST_ROLLBACK
    # two different lists with one seq from one root: the root equivocates, neither is used
    twin = TrustList.load(_list(seq=21, keys=[_key(QINGHAI, "630000")]), [_root()])
    with pytest.raises(TrustListError) as info:
        Verifier(trust_lists=[TrustList.load(l21, [_root()]), twin])
    assert info.value.code is ErrorCode.TRUST_LIST_ROLLBACK
    # the same list twice is harmless, and each root keeps its own newest list
    partner = SoftwareSigner.generate()
    roots = [_root(), trust_root(partner.public_key_pem(), regions=[Region("810000")])]
    foreign = TrustList.load(TrustList.build(partner, seq=3, keys=[_key(SoftwareSigner.generate(), "810000")],
                                             valid_for=timedelta(days=1), now=NOW), roots)
    same = TrustList.load(l21, roots)
    ring = KeyRing(trust_lists=[same, foreign, TrustList.load(l21, roots), TrustList.load(l20, roots)])
    assert [(tl.seq, tl.root.kid) for tl in ring.trust_lists] == [(21, ROOT.kid), (3, partner.kid)]
    with pytest.raises(TypeError):
        KeyRing(trust_lists=[l21])  # bytes are not a verified list


def test_issue14_item2_cli_older_list_given_beside_a_newer_one(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """``verify --trust-list l20 --trust-list l21`` in both orders, with and without --state."""
    from healthpass.cli import main

    (tmp_path / "root.pub.pem").write_bytes(ROOT.public_key_pem())
    (tmp_path / "l20").write_bytes(_list(seq=20))
    (tmp_path / "l21").write_bytes(_list(seq=21, keys=[_key(BEIJING, "110000")]))
    a_code = Issuer(QINGHAI, Region("630000")).issue(STATUS, now=NOW)
    b_code = Issuer(BEIJING, Region("110000")).issue(STATUS, now=NOW)
    at = ["--at", "2026-11-25T12:00:00Z", "--json"]
    for state in ([], ["--state", str(tmp_path / "s1")], ["--state", str(tmp_path / "s2")]):
        for order in (["l20", "l21"], ["l21", "l20"]):
            lists = [arg for name in order for arg in ("--trust-list", str(tmp_path / name))]
            base = ["verify", "--root", str(tmp_path / "root.pub.pem"), *lists, *state, *at]
            assert main([*base, a_code]) == 1
            out, err = capsys.readouterr()
            assert json.loads(out)["error"]["code"] == "key_unknown"
            assert "l20 (seq 20) is not used" in err
            assert main([*base, b_code]) == 0
            assert json.loads(capsys.readouterr().out)["valid"] is True
    # once the state holds seq 21, list 20 alone is a rollback
    assert main(["verify", "--root", str(tmp_path / "root.pub.pem"), "--trust-list", str(tmp_path / "l20"),
                 "--state", str(tmp_path / "s1"), *at, a_code]) == 1
    assert json.loads(capsys.readouterr().out)["error"]["code"] == "trust_list_rollback"


# ---------------------------------------------------------------- issue 14 item 6: per-root clock floor


def test_issue14_item6_a_future_dated_list_blocks_only_its_own_root(tmp_path: Path) -> None:
    partner, partner_key = SoftwareSigner.generate(), SoftwareSigner.generate()
    roots = [_root(), trust_root(partner.public_key_pem(), regions=[Region("810000")])]
    future = NOW.replace(year=2099)
    partner_list = [_key(partner_key, "810000")]
    state = StateStore(tmp_path)
    national = TrustList.load(_list(seq=1), roots, state=state)
    bad = TrustList.load(TrustList.build(partner, seq=7, keys=partner_list, valid_for=timedelta(days=7),
                                         now=future), roots, state=state)
    assert bad.clock_floor == future
    qinghai_code = Issuer(QINGHAI, Region("630000")).issue(STATUS, now=NOW)
    partner_code = Issuer(partner_key, Region("810000")).issue(STATUS, now=NOW)
    verifier = Verifier(trust_lists=[national, bad])
    assert verifier.verify(qinghai_code, at=NOW).issuer == "630000"  # the other root is not affected
    with pytest.raises(TrustListError) as info:  # a document issued after the verification time: clock wrong
        verifier.verify(partner_code, at=NOW)
    assert (info.value.code, info.value.stage) == (ErrorCode.CLOCK_UNTRUSTED, Stage.TRUST_LIST)
    # the corrected list (a higher seq, dated now) restores service, also after a restart
    fixed = TrustList.build(partner, seq=8, keys=partner_list, valid_for=timedelta(days=7), now=NOW)
    for store in (state, StateStore(tmp_path)):
        corrected = TrustList.load(fixed, roots, state=store)
        assert corrected.clock_floor == NOW
        assert Verifier(trust_lists=[national, corrected]).verify(partner_code, at=NOW).issuer == "810000"
        # handed beside the future-dated one, the corrected (newer) list is the one used
        assert Verifier(trust_lists=[bad, corrected, national]).verify(partner_code, at=NOW).issuer == "810000"
    # a verification time before a list's issue time stays clock_untrusted for that list's codes
    with pytest.raises(TrustListError) as info:
        Verifier(trust_lists=[national]).verify(qinghai_code, at=NOW - timedelta(minutes=1))
    assert info.value.code is ErrorCode.CLOCK_UNTRUSTED


def test_issue14_item6_old_state_files_keep_working(tmp_path: Path) -> None:
    """A state file written before this change (no version; issued_at the latest ever seen, here 2099)."""
    namespace = f"trust-list-{ROOT.kid.hex()}"
    (tmp_path / f"{namespace}.json").write_text(json.dumps(
        {"seq": 7, "issued_at": int(NOW.replace(year=2099).timestamp()), "digest": "00" * 32}))
    with pytest.raises(TrustListError) as info:
        TrustList.load(_list(seq=6), [_root()], state=StateStore(tmp_path))
    assert info.value.code is ErrorCode.TRUST_LIST_ROLLBACK
    tl = TrustList.load(_list(seq=8), [_root()], state=StateStore(tmp_path))
    assert tl.clock_floor == NOW
    code = Issuer(QINGHAI, Region("630000")).issue(STATUS, now=NOW)
    assert Verifier(trust_lists=[tl]).verify(code, at=NOW).issuer == "630000"
    stored = json.loads((tmp_path / f"{namespace}.json").read_text())
    assert stored["version"] == 2 and stored["seq"] == 8 and stored["issued_at"] == int(NOW.timestamp())


HOSTILE_STATE = {
    "huge_float": b'{"seq": 1e999, "issued_at": 1, "digest": "d"}',
    "nan": b'{"seq": NaN, "issued_at": 1, "digest": "d"}',
    "bool_seq": b'{"seq": true, "issued_at": 1, "digest": "d"}',
    "negative": b'{"seq": -1, "issued_at": 1, "digest": "d"}',
    "huge_int": b'{"seq": ' + b"9" * 5000 + b', "issued_at": 1, "digest": "d"}',
    "deep": b"[" * 100_000 + b"]" * 100_000,
    "array": b"[]",
    "not_utf8": b"\xff\xfe{}",
    "unknown_field": b'{"seq": 1, "issued_at": 1, "digest": "d", "x": 1}',
    "future_version": b'{"version": 99, "seq": 1, "issued_at": 1, "digest": "d"}',
    "empty": b"",
    "long": b'{"seq": 1, "issued_at": 1, "digest": "' + b"d" * 10_000 + b'"}',
}


@pytest.mark.parametrize("name", sorted(HOSTILE_STATE))
def test_issue15_item8_hostile_state_files_fail_closed(tmp_path: Path, name: str) -> None:
    (tmp_path / f"trust-list-{ROOT.kid.hex()}.json").write_bytes(HOSTILE_STATE[name])
    with pytest.raises(TrustListError) as info:
        TrustList.load(_list(seq=1), [_root()], state=StateStore(tmp_path))
    assert (info.value.code, info.value.stage) == (ErrorCode.TRUST_LIST_INVALID, Stage.TRUST_LIST)
    assert "state file" in info.value.message


def test_issue15_item8_unreadable_state_fails_closed(tmp_path: Path) -> None:
    (tmp_path / f"trust-list-{ROOT.kid.hex()}.json").mkdir()  # a directory where the file should be
    with pytest.raises(TrustListError) as info:
        TrustList.load(_list(seq=1), [_root()], state=StateStore(tmp_path))
    assert info.value.code is ErrorCode.TRUST_LIST_INVALID and "cannot be read" in info.value.message
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(TrustListError) as info:  # the state "directory" is a file
        TrustList.load(_list(seq=1), [_root()], state=StateStore(blocker))
    assert info.value.code is ErrorCode.TRUST_LIST_INVALID and "cannot be used" in info.value.message


# ---------------------------------------------------------------- issue 15 item 8: --state DIR on the command line


def test_issue15_item8_cli_state_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A mistyped --state is announced when it is created; an existing empty one is a normal first run; a
    corrupt or unusable one fails closed with a documented error, never a traceback."""
    from healthpass.cli import main

    (tmp_path / "root.pub.pem").write_bytes(ROOT.public_key_pem())
    (tmp_path / "list").write_bytes(_list(seq=3))
    code = Issuer(QINGHAI, Region("630000")).issue(STATUS, now=NOW)

    def verify(state: Path) -> tuple[int, str, str]:
        status = main(["verify", "--root", str(tmp_path / "root.pub.pem"), "--trust-list", str(tmp_path / "list"),
                       "--state", str(state), "--at", "2026-11-25T12:00:00Z", "--json", code])
        out, err = capsys.readouterr()
        return status, out, err

    status, out, err = verify(tmp_path / "mistyped" / "stat")
    assert status == 0 and json.loads(out)["valid"] is True
    assert "state directory" in err and "does not exist; creating it" in err
    assert (tmp_path / "mistyped" / "stat").is_dir()
    status, _, err = verify(tmp_path / "mistyped" / "stat")  # now it exists: no note
    assert status == 0 and err == ""
    (tmp_path / "empty").mkdir()
    status, _, err = verify(tmp_path / "empty")  # an existing empty directory is a normal first run
    assert status == 0 and err == ""
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / f"trust-list-{ROOT.kid.hex()}.json").write_text('{"seq": 1e999, "issued_at": 0, "digest": "x"}')
    status, out, err = verify(corrupt)
    assert status == 1 and json.loads(out)["error"]["code"] == "trust_list_invalid" and "Traceback" not in err
    (tmp_path / "a-file").write_text("")
    status, out, err = verify(tmp_path / "a-file")  # not a directory: fails closed
    assert status == 1 and json.loads(out)["error"]["code"] == "trust_list_invalid" and "Traceback" not in err
