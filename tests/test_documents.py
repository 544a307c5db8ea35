"""Signed documents (``healthpass.documents``): each shared property tested once, over every kind.

A kind under test is a :class:`Harness`: how to publish a document of that kind, load it (signature, root,
format version, state) and use it at a verification time (freshness, clock floor). Adding a kind (status
lists) means adding one harness to :data:`HARNESSES`; every property below then runs over it too.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from healthpass.codec.cbor import encode
from healthpass.codec.signed_doc import ContentType, encode_envelope
from healthpass.codec.trust_list import (
    ENTRY_FIELDS_BY_VERSION,
    KIND_CODES_BY_VERSION,
    TRUST_LIST_VERSIONS,
    entry_version,
)
from healthpass.cose import seal_document
from healthpass.documents import (
    KINDS,
    RULE_BUNDLE,
    TRUST_LIST,
    DocumentKind,
    Freshness,
    SignerRole,
    freshness,
    open_signed,
    seal,
)
from healthpass.errors import ErrorCode, HealthPassError, TrustListError
from healthpass.issue import Issuer
from healthpass.model.credential import HealthPayload, Kind
from healthpass.model.jsonform import payload_from_json
from healthpass.model.policy import Limits
from healthpass.model.regions import Region
from healthpass.rules import RuleBundle
from healthpass.signers import SoftwareSigner
from healthpass.state import StateStore
from healthpass.trust import TrustList, issuer_key, trust_root
from healthpass.verify import WARNING_TRUST_LIST_STALE, Verifier

ROOT_DIR = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
ROOT = SoftwareSigner.generate()
OTHER_ROOT = SoftwareSigner.generate()
ISSUER = SoftwareSigner.generate()
PAYLOAD: HealthPayload = payload_from_json(json.loads((ROOT_DIR / "examples" / "credential.json").read_text("utf-8")))


def _roots() -> list[Any]:
    return [trust_root(ROOT.public_key_pem()), trust_root(OTHER_ROOT.public_key_pem())]


def _code(at: datetime) -> str:
    return Issuer(ISSUER, Region("630000")).issue(PAYLOAD, now=at)


@dataclass(frozen=True)
class Harness:
    """One kind of signed document, as the shared properties exercise it."""

    kind: DocumentKind
    #: publish: (root signer, seq, issue time, validity) -> bytes
    build: Callable[[SoftwareSigner, int, datetime, timedelta], bytes]
    #: load: (bytes, roots, state) -> the verified document
    load: Callable[[bytes, list[Any], StateStore | None], Any]
    #: use the document to verify a code at a time (raises what the document's freshness says)
    use: Callable[[Any, datetime], Any]
    #: how long past not-after the document still serves (with a warning)
    grace: timedelta
    #: a body of the kind's wire form (for documents sealed by hand)
    body: Callable[[], Any]

    def __repr__(self) -> str:
        return self.kind.name


def _tl_build(signer: SoftwareSigner, seq: int, issued: datetime, valid_for: timedelta) -> bytes:
    key = issuer_key(ISSUER.public_key_pem(), region=Region("630000"))
    return TrustList.build(signer, seq=seq, keys=[key], valid_for=valid_for, now=issued)


def _tl_use(tl: TrustList, at: datetime) -> Any:
    return Verifier(trust_lists=[tl]).verify(_code(at), at=at)


def _tl_body() -> Any:
    return {}


def _rb_build(signer: SoftwareSigner, seq: int, issued: datetime, valid_for: timedelta) -> bytes:
    return RuleBundle.build(signer, ROOT_DIR / "examples" / "rules", seq=seq, valid_for=valid_for, now=issued)


def _rb_use(bundle: RuleBundle, at: datetime) -> Any:
    verifier = Verifier(keys=[issuer_key(ISSUER.public_key_pem(), region=Region("630000"))], rules=bundle)
    return verifier.verify(_code(at), at=at)


def _rb_body() -> Any:
    rules = ROOT_DIR / "examples" / "rules"
    texts, tests = [], []
    for folder in sorted(p for p in rules.iterdir() if p.is_dir()):
        texts.append((folder / "rule.json").read_text("utf-8"))
        tests.extend([folder.name, t.name, t.read_text("utf-8")] for t in sorted((folder / "tests").glob("*.json")))
    return {1: texts, 2: (rules / "profiles.json").read_text("utf-8"), 3: tests}


HARNESSES = [
    Harness(TRUST_LIST, _tl_build, lambda d, r, s: TrustList.load(d, r, state=s), _tl_use, timedelta(hours=24),
            _tl_body),
    Harness(RULE_BUNDLE, _rb_build, lambda d, r, s: RuleBundle.load(d, r, state=s), _rb_use, timedelta(0),
            _rb_body),
]


@pytest.fixture(params=HARNESSES, ids=repr)
def h(request: pytest.FixtureRequest) -> Harness:
    return request.param  # type: ignore[no-any-return]


def test_every_kind_is_under_test() -> None:
    assert {h.kind for h in HARNESSES} == set(KINDS)
    assert len({k.content_type for k in KINDS}) == len({k.state_prefix for k in KINDS}) == len(KINDS)


def _raises(code: ErrorCode, kind: DocumentKind, call: Callable[[], Any]) -> HealthPassError:
    with pytest.raises(TrustListError) as info:
        call()
    assert (info.value.code, info.value.stage) == (code, kind.stage), info.value
    return info.value


# ---------------------------------------------------------------- envelope, signer, content type, version


def test_a_document_loads_and_serves(h: Harness) -> None:
    doc = h.load(h.build(ROOT, 3, NOW, timedelta(days=7)), _roots(), None)
    assert doc.seq == 3 and doc.issued_at == NOW and doc.not_after == NOW + timedelta(days=7)
    assert doc.clock_floor == NOW and doc.root.kid == ROOT.kid
    assert h.use(doc, NOW).issuer == "630000"


def test_only_a_configured_root_may_sign(h: Harness) -> None:
    assert h.kind.signed_by is SignerRole.ROOT
    stranger = SoftwareSigner.generate()
    err = _raises(ErrorCode.TRUST_LIST_INVALID, h.kind, lambda: h.load(h.build(stranger, 1, NOW, timedelta(days=1)),
                                                                      _roots(), None))
    assert "not a configured root" in err.message
    with pytest.raises(TypeError):  # misuse: roots are TrustRoot values, not keys
        h.load(h.build(ROOT, 1, NOW, timedelta(days=1)), [ROOT.public_key_der], None)


def test_a_document_of_another_kind_is_refused(h: Harness) -> None:
    for other in HARNESSES:
        if other.kind is not h.kind:
            data = other.build(ROOT, 1, NOW, timedelta(days=1))
            err = _raises(ErrorCode.TRUST_LIST_INVALID, h.kind, lambda data=data: h.load(data, _roots(), None))
            assert "content type" in err.message
    code = _code(NOW)  # a health code is no document either
    _raises(ErrorCode.TRUST_LIST_INVALID, h.kind, lambda: h.load(code.encode(), _roots(), None))


@pytest.mark.parametrize("version", [0, 3, 255])
def test_an_unknown_format_version_is_refused(h: Harness, version: int) -> None:
    if version in h.kind.versions:
        pytest.skip("a version this kind reads")
    issued = int(NOW.timestamp())
    data = seal_document(ROOT, h.kind.content_type.value,
                         encode_envelope(1, issued, issued + 86400, h.body(), version=version))
    err = _raises(ErrorCode.TRUST_LIST_INVALID, h.kind, lambda: h.load(data, _roots(), None))
    assert f"unsupported format version {version}" in err.message
    with pytest.raises(ValueError):  # and nothing seals one
        seal(ROOT, h.kind, seq=1, issued_at=issued, not_after=issued + 86400, body=h.body(), version=version)


def test_every_known_version_loads(h: Harness) -> None:
    issued = int(NOW.timestamp())
    for version in sorted(h.kind.versions):
        data = seal(ROOT, h.kind, seq=1, issued_at=issued, not_after=issued + 86400, body=h.body(), version=version)
        assert h.load(data, _roots(), None).seq == 1


def test_seal_refuses_what_no_verifier_would_read(h: Harness) -> None:
    issued = int(NOW.timestamp())
    for seq, start, end in ((-1, issued, issued + 1), (2**53 + 1, issued, issued + 1), (1, issued, issued),
                            (1, issued, 2**40)):
        with pytest.raises(ValueError):
            seal(ROOT, h.kind, seq=seq, issued_at=start, not_after=end, body=h.body())


# ---------------------------------------------------------------- anti-rollback


def test_a_lower_seq_is_a_rollback_and_it_persists(h: Harness, tmp_path: Path) -> None:
    h.load(h.build(ROOT, 5, NOW, timedelta(days=7)), _roots(), StateStore(tmp_path))
    older = h.build(ROOT, 4, NOW, timedelta(days=7))
    err = _raises(ErrorCode.TRUST_LIST_ROLLBACK, h.kind, lambda: h.load(older, _roots(), StateStore(tmp_path)))
    assert "lower than the accepted 5" in err.message
    assert h.load(h.build(ROOT, 6, NOW, timedelta(days=7)), _roots(), StateStore(tmp_path)).seq == 6


def test_the_same_seq_is_accepted_again_only_for_the_same_bytes(h: Harness, tmp_path: Path) -> None:
    data = h.build(ROOT, 5, NOW, timedelta(days=7))
    h.load(data, _roots(), StateStore(tmp_path))
    assert h.load(data, _roots(), StateStore(tmp_path)).seq == 5
    twin = h.build(ROOT, 5, NOW, timedelta(days=6))
    _raises(ErrorCode.TRUST_LIST_ROLLBACK, h.kind, lambda: h.load(twin, _roots(), StateStore(tmp_path)))


def test_rollback_state_is_per_kind_and_per_signer(h: Harness, tmp_path: Path) -> None:
    state = StateStore(tmp_path)
    h.load(h.build(ROOT, 9, NOW, timedelta(days=7)), _roots(), state)
    assert h.load(h.build(OTHER_ROOT, 1, NOW, timedelta(days=7)), _roots(), state).seq == 1  # its own sequence
    for other in HARNESSES:  # another kind from the same root keeps its own sequence too
        if other.kind is not h.kind:
            assert other.load(other.build(ROOT, 1, NOW, timedelta(days=7)), _roots(), state).seq == 1
    assert state.read(h.kind.namespace(ROOT.kid), stage=h.kind.stage).seq == 9  # type: ignore[union-attr]


def test_a_refused_document_is_not_recorded(h: Harness, tmp_path: Path) -> None:
    data = bytearray(h.build(ROOT, 7, NOW, timedelta(days=7)))
    data[-5] ^= 1  # the signature
    state = StateStore(tmp_path)
    _raises(ErrorCode.TRUST_LIST_INVALID, h.kind, lambda: h.load(bytes(data), _roots(), state))
    assert state.read(h.kind.namespace(ROOT.kid)) is None


@pytest.mark.parametrize("content", [b'{"seq": 1e999, "issued_at": 1, "digest": "d"}', b"[" * 50_000, b"\xff",
                                     b'{"seq": "1", "issued_at": 1, "digest": "d"}'])
def test_a_hostile_state_file_fails_closed(h: Harness, tmp_path: Path, content: bytes) -> None:
    (tmp_path / f"{h.kind.namespace(ROOT.kid)}.json").write_bytes(content)
    err = _raises(ErrorCode.TRUST_LIST_INVALID, h.kind,
                  lambda: h.load(h.build(ROOT, 1, NOW, timedelta(days=1)), _roots(), StateStore(tmp_path)))
    assert "state file" in err.message and "corrupt" in err.message


@pytest.mark.parametrize("plant", ["fifo", "device", "directory"])
def test_hred_state_special_file_fails_closed_without_hanging(h: Harness, tmp_path: Path, plant: str) -> None:
    """Red team: a FIFO planted under a state file's name blocked every load forever (open() waits for a
    writer); a device or a directory there is no state file either. Each is trust_list_invalid at once."""
    import os
    import threading

    path = tmp_path / f"{h.kind.namespace(ROOT.kid)}.json"
    if plant == "fifo":
        os.mkfifo(path)
    elif plant == "device":
        path.symlink_to("/dev/zero")
    else:
        path.mkdir()
    data = h.build(ROOT, 1, NOW, timedelta(days=1))
    outcome: list[BaseException | None] = []

    def load() -> None:
        try:
            h.load(data, _roots(), StateStore(tmp_path))
            outcome.append(None)
        except BaseException as err:  # handed to the test thread
            outcome.append(err)

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    worker.join(timeout=10)
    if worker.is_alive() and plant == "fifo":  # release the blocked reader before failing
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
    assert not worker.is_alive() and outcome, "the load hung on a special file in the state directory"
    err = outcome[0]
    assert isinstance(err, HealthPassError) and err.code is ErrorCode.TRUST_LIST_INVALID, err
    assert err.stage is h.kind.stage and "state file" in err.message


# ---------------------------------------------------------------- freshness and the clock floor


def test_expired_beyond_not_after_and_grace(h: Harness) -> None:
    doc = h.load(h.build(ROOT, 1, NOW - timedelta(days=2), timedelta(days=1)), _roots(), None)
    late = NOW - timedelta(days=1) + h.grace + timedelta(minutes=1)
    err = _raises(ErrorCode.TRUST_LIST_EXPIRED, h.kind, lambda: h.use(doc, late))
    assert "expired at" in err.message
    if h.grace:
        result = h.use(doc, NOW - timedelta(days=1) + h.grace - timedelta(minutes=1))
        assert WARNING_TRUST_LIST_STALE in result.warnings


def test_a_document_issued_after_the_verification_time_means_the_clock_is_wrong(h: Harness) -> None:
    doc = h.load(h.build(ROOT, 1, NOW, timedelta(days=7)), _roots(), None)
    _raises(ErrorCode.CLOCK_UNTRUSTED, h.kind, lambda: h.use(doc, NOW - timedelta(minutes=1)))
    assert h.use(doc, NOW).issuer == "630000"


def test_the_clock_floor_follows_the_newest_accepted_document(h: Harness, tmp_path: Path) -> None:
    """A document dated in the future (2099) blocks what is trusted through it; the signer's corrected one (a
    higher seq, dated now) restores service, also after a restart (issue 14 item 6)."""
    future = h.load(h.build(ROOT, 1, NOW.replace(year=2099), timedelta(days=7)), _roots(), StateStore(tmp_path))
    assert future.clock_floor == NOW.replace(year=2099)
    _raises(ErrorCode.CLOCK_UNTRUSTED, h.kind, lambda: h.use(future, NOW))
    fixed = h.load(h.build(ROOT, 2, NOW, timedelta(days=7)), _roots(), StateStore(tmp_path))
    assert fixed.clock_floor == NOW and h.use(fixed, NOW).issuer == "630000"


def test_freshness_boundaries() -> None:
    kw: dict[str, Any] = {"issued_at": NOW, "not_after": NOW + timedelta(days=1), "grace": timedelta(hours=1)}
    assert freshness(now=NOW - timedelta(seconds=1), **kw) is Freshness.CLOCK_BEHIND
    assert freshness(now=NOW, **kw) is Freshness.CURRENT
    assert freshness(now=NOW + timedelta(days=1), **kw) is Freshness.CURRENT
    assert freshness(now=NOW + timedelta(days=1, seconds=1), **kw) is Freshness.STALE
    assert freshness(now=NOW + timedelta(days=1, hours=1), **kw) is Freshness.STALE
    assert freshness(now=NOW + timedelta(days=1, hours=1, seconds=1), **kw) is Freshness.EXPIRED
    assert freshness(now=NOW - timedelta(days=9), **{**kw, "issued_at": None}) is Freshness.CURRENT


def test_open_signed_is_for_root_signed_kinds_only() -> None:
    issuer_signed = DocumentKind("status list", ContentType.TRUST_LIST, TRUST_LIST.stage, "status-", frozenset({1}),
                                 SignerRole.ISSUER_KEY)
    with pytest.raises(ValueError):
        open_signed(b"", _roots(), issuer_signed, limits=Limits())


# ---------------------------------------------------------------- trust-list format versions (specs/trust-list.md §1.1)


def test_trust_list_format_versions() -> None:
    assert frozenset({1, 2}) == TRUST_LIST_VERSIONS and RULE_BUNDLE.versions == frozenset({1})
    assert ENTRY_FIELDS_BY_VERSION[2] - ENTRY_FIELDS_BY_VERSION[1] == {10}  # maximum code validity
    assert KIND_CODES_BY_VERSION[2] - KIND_CODES_BY_VERSION[1] == {6}  # status_list
    entry = {2: b"spki", 4: 630000, 5: [1, 2], 8: 1}
    assert entry_version(entry) == 1
    assert entry_version({**entry, 10: 86400}) == 2 and entry_version({**entry, 5: [1, 6]}) == 2
    # a list without a version-2 feature is still written as version 1 (old verifiers keep reading it)
    key = issuer_key(ISSUER.public_key_pem(), region=Region("630000"))
    v1_key = dataclasses.replace(key, kinds=key.kinds - {Kind.STATUS_LIST})
    data = TrustList.build(ROOT, seq=1, keys=[v1_key], valid_for=timedelta(days=1), now=NOW)
    assert b"\xa5\x01\x01\x02\x01" in data
    # "all kinds" includes status_list (issue 17), a version-2 kind code: such a list is written as version 2
    assert b"\xa5\x01\x02\x02\x01" in _tl_build(ROOT, 1, NOW, timedelta(days=1))


def test_a_version_1_list_may_not_carry_a_version_2_kind_code() -> None:
    key = issuer_key(ISSUER.public_key_pem(), region=Region("630000"))
    entry = encode({2: key.key_der, 4: 630000, 5: [1, 6], 8: 1})
    issued = int(NOW.timestamp())
    data = seal(ROOT, TRUST_LIST, seq=1, issued_at=issued, not_after=issued + 86400, body={key.kid: entry},
                version=1)
    tl = TrustList.load(data, _roots())
    with pytest.raises(TrustListError) as info:
        tl.check_all()
    assert info.value.code is ErrorCode.TRUST_LIST_INVALID
    assert "format version 1 does not have" in info.value.message
    # version 2: kind 6 is status_list (issue 17)
    data = seal(ROOT, TRUST_LIST, seq=1, issued_at=issued, not_after=issued + 86400, body={key.kid: entry},
                version=2)
    listed = TrustList.load(data, _roots()).check_all().keys.get(key.kid)
    assert listed is not None and listed.kinds == {Kind.STATUS, Kind.STATUS_LIST}


def test_sm2_key_material_needs_format_version_2() -> None:
    """An SM2 key makes a list version 2 when built; a version-1 list holding one is malformed (V2)."""
    from healthpass.crypto import sm2
    from healthpass.model.cose import Algorithm

    if not sm2.available():
        pytest.skip(f"SM2 backend unavailable: {sm2.unavailable_message()}")
    signer = SoftwareSigner.generate(Algorithm.SM2)
    key = issuer_key(signer.public_key_pem(), region=Region("630000"),
                     kinds=frozenset({Kind.STATUS}))  # no version-2 kind: only the key makes it version 2
    data = TrustList.build(ROOT, seq=1, keys=[key], valid_for=timedelta(days=1), now=NOW)
    assert b"\xa5\x01\x02\x02\x01" in data
    assert TrustList.load(data, _roots()).check_all().keys.get(key.kid) is not None
    entry = encode({2: key.key_der, 4: 630000, 5: [1], 8: 1})
    issued = int(NOW.timestamp())
    v1 = seal(ROOT, TRUST_LIST, seq=1, issued_at=issued, not_after=issued + 86400, body={key.kid: entry}, version=1)
    with pytest.raises(TrustListError) as info:
        TrustList.load(v1, _roots()).check_all()
    assert info.value.code is ErrorCode.TRUST_LIST_INVALID and "needs format version 2" in info.value.message
