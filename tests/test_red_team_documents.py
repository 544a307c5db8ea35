"""Adversarial review of what issue 16 built (hred2): signed documents, the unverified helpers, the CLI split.

Each test reproduces a finding with real keys and signatures and holds the fix for its class; names are
``test_hred2_<class>_...``. What was tried and held keeps a regression test where it is cheap.
"""

from __future__ import annotations

import copy
import dataclasses
import pickle
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from healthpass import unverified
from healthpass.display import build_view
from healthpass.errors import CredentialStatusError, ErrorCode, HealthPassError, StatusListError
from healthpass.issue import Issuer
from healthpass.model.credential import HealthPayload
from healthpass.model.regions import Region
from healthpass.model.status import StatusReference
from healthpass.rules import RuleBundle
from healthpass.signers import SoftwareSigner
from healthpass.state import StateStore
from healthpass.status import StatusDelta, StatusList, StatusLists, load_all
from healthpass.trust import KeyRing, TrustList, TrustListKeys, issuer_key, trust_root
from healthpass.verify import Verifier

from .conftest import NOW

QINGHAI, BEIJING = Region("630000"), Region("110000")
URI = "hp:630000:3"
SIZE = 131072
AT = NOW + timedelta(hours=1)
RULES = Path(__file__).resolve().parents[1] / "examples" / "rules"


@pytest.fixture(scope="module")
def root() -> SoftwareSigner:
    return SoftwareSigner.generate()


@pytest.fixture(scope="module")
def keys(qinghai: SoftwareSigner, beijing: SoftwareSigner) -> list[Any]:
    """Both provinces' keys, each trusted (for every kind, status lists included) for its own region only."""
    return [issuer_key(qinghai.public_key_pem(), region=QINGHAI), issuer_key(beijing.public_key_pem(), region=BEIJING)]


def _status_list(signer: SoftwareSigner, entries: dict[int, int], *, uri: str = URI,
                 delay: timedelta = timedelta(0)) -> bytes:
    return StatusList.build(signer, uri=uri, size=SIZE, entries=entries.items(), valid_for=timedelta(days=1),
                            now=NOW + delay)


def _code(signer: SoftwareSigner, sample: HealthPayload, idx: int, *, region: Region = QINGHAI,
          uri: str = URI) -> str:
    return Issuer(signer, region).issue(sample, now=NOW, status=StatusReference(uri, idx))


# -- verified values built without verification -----------------------------------------------------------------

def test_hred2_forged_status_documents_are_refused(qinghai: SoftwareSigner, keys: list[Any],
                                                    sample: HealthPayload) -> None:
    """StatusList and StatusDelta had no proof of load: a status list built from nothing (or a verified one with
    its entries replaced, dataclasses.replace) was accepted by Verifier(status_lists=...), so a revoked code
    passed. Like TrustList and RuleBundle they are now built only by their load."""
    data = _status_list(qinghai, {4: 1})
    held = StatusList.load(data, keys)
    with pytest.raises(CredentialStatusError):
        Verifier(keys=keys, status_lists=[held]).verify(_code(qinghai, sample, 4), at=AT)
    with pytest.raises(TypeError, match=r"built only by StatusList\.load"):
        StatusList(URI, 2, SIZE, NOW, NOW + timedelta(days=1), None, keys[0], held.digest, bytes(SIZE // 4), NOW)
    with pytest.raises(TypeError, match=r"built only by StatusList\.load"):
        dataclasses.replace(held, raw=bytes(len(held.raw)))  # every revocation undone
    with pytest.raises(TypeError, match=r"built only by StatusDelta\.load"):
        StatusDelta(URI, 2, AT, AT + timedelta(days=1), None, int(NOW.timestamp()), held.digest, ((4, 0),), keys[0],
                    b"\0" * 32)
    delta = StatusDelta.load(StatusDelta.build(qinghai, base=data, changes={4: 0, 5: 2}, valid_for=timedelta(days=1),
                                               now=AT), keys)
    with pytest.raises(TypeError, match=r"built only by StatusDelta\.load"):
        dataclasses.replace(delta, changes=((4, 0),))
    # what load built keeps working: a delta applied, copies, pickles (worker processes)
    applied = held.apply(delta)
    assert applied.status(4) == 0 and applied.status(5) == 2
    for value in (held, delta, applied, StatusLists([held], [delta])):
        assert repr(copy.copy(value)) == repr(value) == repr(pickle.loads(pickle.dumps(value)))
    assert pickle.loads(pickle.dumps(applied)) == applied


@pytest.mark.parametrize("cls", [TrustList, TrustListKeys, RuleBundle, StatusList, StatusDelta, StatusLists])
def test_hred2_forged_documents_by_subclassing_are_refused(cls: type) -> None:
    """A subclass overriding __post_init__ (or __init__) skipped the proof of load: a TrustList subclass holding
    a TrustListKeys subclass that resolves any kid to a key of the caller's choice passed every isinstance
    check of Verifier(trust_lists=...). The verified document classes are final."""
    with pytest.raises(TypeError, match="cannot be subclassed"):
        type("Forged", (cls,), {"__post_init__": lambda self, _proof=None: None,
                                "__init__": lambda self, *a, **k: None})


def test_hred2_forged_documents_copies_of_verified_ones_stay_verified(root: SoftwareSigner, qinghai: SoftwareSigner,
                                                                      sample: HealthPayload) -> None:
    """Held: copy.copy, copy.deepcopy and pickle of a verified trust list or bundle give an equal verified value
    (nothing new is trusted), and the records of healthpass.unverified stay refused by every verifying API."""
    roots = [trust_root(root.public_key_pem())]
    data = TrustList.build(root, seq=1, keys=[issuer_key(qinghai.public_key_pem(), region=QINGHAI)],
                           valid_for=timedelta(days=7), now=NOW)
    tl = TrustList.load(data, roots)
    bundle = RuleBundle.load(RuleBundle.build(root, RULES, seq=1, valid_for=timedelta(days=7), now=NOW), roots)
    for value in (tl, bundle):
        for clone in (copy.copy(value), copy.deepcopy(value), pickle.loads(pickle.dumps(value))):
            assert clone == value and type(clone) is type(value)
    record = unverified.inspect_trust_list_unverified(data)
    code = Issuer(qinghai, QINGHAI).issue(sample, now=NOW)
    for call in (lambda: Verifier(keys=record.keys), lambda: Verifier(trust_lists=[record]),
                 lambda: KeyRing(record.keys), lambda: StatusList.load(_status_list(qinghai, {}), record.keys),
                 lambda: load_all([_status_list(qinghai, {})], [], record.keys),
                 lambda: Verifier(status_lists=[record]), lambda: Verifier(rules=tl),  # type: ignore[arg-type]
                 # re-signing unverified keys into a list of one's own, or showing an unverified decode as a result
                 lambda: TrustList.build(root, seq=2, keys=record.keys, valid_for=timedelta(days=1), now=NOW),
                 lambda: build_view(unverified.decode_unverified(code), now=NOW)):  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            call()


# -- a status list of one region displacing another region's ------------------------------------------------------

def test_hred2_status_scope_another_regions_newer_list_does_not_displace_the_owners(
    qinghai: SoftwareSigner, beijing: SoftwareSigner, keys: list[Any], sample: HealthPayload
) -> None:
    """Lists were held per URI whoever signed them: Beijing's key (trusted for status lists of Beijing only)
    signing a newer list under Qinghai's URI displaced Qinghai's list, so every Qinghai code of that list was
    refused (status_list_invalid): one region's key switched off another region's status checking. Of the lists
    for a URI, a code is now judged on the newest whose signer may speak for the code's issuer."""
    revoked = _code(qinghai, sample, 4)
    lists = [_status_list(qinghai, {4: 1}), _status_list(beijing, {}, delay=timedelta(minutes=1))]
    for order in (lists, lists[::-1]):
        with pytest.raises(CredentialStatusError) as err:
            Verifier(keys=keys, status_lists=load_all(order, [], keys)).verify(revoked, at=AT)
        assert err.value.code is ErrorCode.REVOKED
        assert Verifier(keys=keys, status_lists=load_all(order, [], keys)).verify(
            _code(qinghai, sample, 5), at=AT).credential_status is not None
    # a Beijing code under that URI is judged on Beijing's list (its key may speak for it)
    beijing_code = _code(beijing, sample, 4, region=BEIJING)
    assert Verifier(keys=keys, status_lists=load_all(lists, [], keys)).verify(beijing_code, at=AT).warnings == ()


def test_hred2_status_scope_another_regions_list_with_the_same_iat_blocks_nothing(
    qinghai: SoftwareSigner, beijing: SoftwareSigner, keys: list[Any], sample: HealthPayload
) -> None:
    """Two different lists for one URI with the same iat were taken for the publisher equivocating, whoever signed
    them: Beijing's key signing a list under Qinghai's URI at the iat of Qinghai's made loading the status lists
    fail as a whole (status_list_rollback), every URI of every region. Only one signer region's two lists are
    an equivocation now."""
    others = _status_list(qinghai, {}, uri="hp:630000:4")
    lists = [_status_list(qinghai, {4: 1}), _status_list(beijing, {7: 1}), others]
    verifier = Verifier(keys=keys, status_lists=load_all(lists, [], keys))
    with pytest.raises(CredentialStatusError):
        verifier.verify(_code(qinghai, sample, 4), at=AT)
    assert verifier.verify(_code(qinghai, sample, 1, uri="hp:630000:4"), at=AT).credential_status is not None
    with pytest.raises(StatusListError) as err:  # the same region's two lists: still an equivocation
        load_all([lists[0], _status_list(qinghai, {4: 2})], [], keys)
    assert err.value.code is ErrorCode.STATUS_LIST_ROLLBACK


def test_hred2_status_scope_another_regions_list_does_not_poison_the_rollback_record(
    qinghai: SoftwareSigner, beijing: SoftwareSigner, keys: list[Any], sample: HealthPayload, tmp_path: Path
) -> None:
    """The rollback record was kept per URI: once Beijing's list under Qinghai's URI (dated later, up to 2100)
    had been accepted with a state directory, every later Qinghai list for it was status_list_rollback, and
    load_all failed for every URI. The record is now per URI and signer region; rollback within a region holds."""
    state = StateStore(tmp_path)
    load_all([_status_list(beijing, {}, delay=timedelta(days=300))], [], keys, state=state)
    verifier = Verifier(keys=keys, status_lists=load_all([_status_list(qinghai, {4: 1})], [], keys, state=state))
    with pytest.raises(CredentialStatusError):
        verifier.verify(_code(qinghai, sample, 4), at=AT)
    load_all([_status_list(qinghai, {}, delay=timedelta(minutes=2))], [], keys, state=state)
    with pytest.raises(StatusListError) as err:  # Qinghai's own older list: still a rollback
        load_all([_status_list(qinghai, {4: 1}, delay=timedelta(minutes=1))], [], keys, state=state)
    assert err.value.code is ErrorCode.STATUS_LIST_ROLLBACK


def test_hred2_status_scope_another_regions_delta_blocks_nothing(
    qinghai: SoftwareSigner, beijing: SoftwareSigner, keys: list[Any], sample: HealthPayload
) -> None:
    """A delta signed by Beijing's key on Qinghai's list (its signer may not speak for the list's region) made
    load_all fail as a whole (status_list_invalid): every list of every region unloaded by one region's key.
    It is now not applied, and only the codes its signer speaks for hear of it (status_delta_not_applied)."""
    base = _status_list(qinghai, {4: 1})
    forged = StatusDelta.build(beijing, base=base, changes={4: 0}, valid_for=timedelta(days=1), now=AT)
    verifier = Verifier(keys=keys, status_lists=load_all([base], [forged], keys))
    with pytest.raises(CredentialStatusError) as err:
        verifier.verify(_code(qinghai, sample, 4), at=AT)
    assert err.value.code is ErrorCode.REVOKED
    assert verifier.verify(_code(qinghai, sample, 5), at=AT).warnings == ()


def test_hred2_status_order_a_root_that_retired_the_signer_is_honoured_whatever_the_order(
    qinghai: SoftwareSigner, sample: HealthPayload
) -> None:
    """Codes honour every root's bounds on a key (R10), status lists did not: with root A retiring Qinghai's key
    and root B still listing it, a status list the key signed after its retirement (every entry valid: the
    revocations undone) was accepted when B's list came first. Every entry trusting the signer must allow it."""
    from healthpass.model.trust import KeyStatus

    root_a, root_b = SoftwareSigner.generate(), SoftwareSigner.generate()
    key = issuer_key(qinghai.public_key_pem(), region=QINGHAI)
    retired = dataclasses.replace(key, status=KeyStatus.RETIRED, retired_at=NOW - timedelta(days=1))
    lists = [TrustList.load(TrustList.build(root, seq=1, keys=[k], valid_for=timedelta(days=7),
                                            now=NOW - timedelta(days=2)), [trust_root(root.public_key_pem())])
             for root, k in ((root_a, retired), (root_b, key))]
    after = _status_list(qinghai, {})
    delta = StatusDelta.build(qinghai, base=after, changes={4: 0}, valid_for=timedelta(days=1), now=AT)
    for order in (lists, lists[::-1]):
        ring = KeyRing(trust_lists=order)
        with pytest.raises(StatusListError, match="retired"):
            load_all([after], [], ring)
        with pytest.raises(StatusListError, match="retired"):
            StatusDelta.load(delta, ring)
        with pytest.raises(HealthPassError, match="retired"):  # as for codes
            Verifier(trust_lists=order).verify(_code(qinghai, sample, 4), at=AT)


# -- the command line: files named as documents and keys -----------------------------------------------------------

def _cli_bounded(*argv: str) -> tuple[int, str]:
    """Run the command line in a process whose address space is capped at 1 GiB (a file read whole from
    /dev/zero exhausts it at once instead of the machine's memory)."""
    import resource
    import subprocess
    import sys

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    proc = subprocess.run([sys.executable, "-m", "healthpass", *argv], capture_output=True, text=True, timeout=120,
                          preexec_fn=cap, stdin=subprocess.DEVNULL, check=False)
    return proc.returncode, proc.stderr + proc.stdout


def test_hred2_cli_files_device_files_and_huge_files_are_read_in_bounded_memory(
    root: SoftwareSigner, qinghai: SoftwareSigner, sample: HealthPayload, tmp_path: Path
) -> None:
    """Every file option was read whole: `--trust-list /dev/zero` (or `--status-list`, `--rules`, `--root`,
    `--trust-key`, `trust show`, `status show`) grew until the kernel killed the process (exit -9; other work on
    the machine with it), and a 5 GB file was read into memory whole. Documents are now refused beyond
    MAX_DOCUMENT_BYTES (64 MiB, the command line reads no more than that plus one byte: exit 1 with the
    document's error), keys and credentials beyond 1 MiB (a usage error, exit 2)."""
    from healthpass.trust import MAX_DOCUMENT_BYTES

    (tmp_path / "root.pub.pem").write_bytes(root.public_key_pem())
    (tmp_path / "qh.pub.pem").write_bytes(qinghai.public_key_pem())
    tl = tmp_path / "tl.cbor"
    tl.write_bytes(TrustList.build(root, seq=1, keys=[issuer_key(qinghai.public_key_pem(), region=QINGHAI)],
                                   valid_for=timedelta(days=7), now=NOW))
    sl = tmp_path / "sl.cbor"
    sl.write_bytes(_status_list(qinghai, {}))
    huge = tmp_path / "huge"
    with huge.open("wb") as handle:  # sparse: 5 GB that take no disk
        handle.truncate(5 << 30)
    code = _code(qinghai, sample, 4)
    trusted = ["--root", str(tmp_path / "root.pub.pem"), "--trust-list", str(tl)]
    for bad in ("/dev/zero", str(huge)):
        cases = {
            ("verify", "--root", str(tmp_path / "root.pub.pem"), "--trust-list", bad, code): (1, "trust_list_invalid"),
            ("verify", *trusted, "--rules", bad, code): (1, "trust_list_invalid"),
            ("verify", *trusted, "--status-list", bad, code): (1, "status_list_invalid"),
            ("verify", *trusted, "--status-list", str(sl), "--status-delta", bad, code): (1, "status_list_invalid"),
            ("verify", "--root", bad, "--trust-list", str(tl), code): (2, "larger than"),
            ("verify", "--trust-key", f"630000={bad}", code): (2, "larger than"),
            ("trust", "show", bad): (1, "trust_list_invalid"),
            ("status", "show", bad): (1, "status_list_invalid"),
            ("mint", "--key", bad, "--issuer", "630000", "--in", "-"): (2, "larger than"),
            ("rules", "test", bad): (1, "FAIL"),  # checks no signature: the command for bundles from anywhere
        }
        for argv, (status, message) in cases.items():
            rc, output = _cli_bounded(*argv)
            assert (rc, message in output, "Traceback" in output) == (status, True, False), (argv, rc, output[-300:])
    assert f"larger than {MAX_DOCUMENT_BYTES} bytes" in _cli_bounded("trust", "show", "/dev/zero")[1]
    assert f"larger than {MAX_DOCUMENT_BYTES} bytes" in _cli_bounded("rules", "test", str(huge))[1]


def test_hred2_cli_files_a_named_pipe_without_a_writer_does_not_hang(root: SoftwareSigner, tmp_path: Path) -> None:
    """A named pipe given as a document (`--trust-list FIFO`, `trust show FIFO`, `--root FIFO`) blocked the
    command forever waiting for a writer. It is now opened without waiting: with no writer it reads as empty
    (the document's error, or a usage error for a key), and `<(command)` keeps working (a writer is there)."""
    import os

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    (tmp_path / "root.pub.pem").write_bytes(root.public_key_pem())
    for argv, status in ((["trust", "show", str(fifo)], 1), (["status", "show", str(fifo)], 1),
                         (["verify", "--root", str(tmp_path / "root.pub.pem"), "--trust-list", str(fifo), "HP1:X"], 1),
                         (["verify", "--root", str(fifo), "--trust-list", str(fifo), "HP1:X"], 2)):
        assert _cli_bounded(*argv)[0] == status, argv


# -- document confusion: held ----------------------------------------------------------------------------------------

def test_hred2_confusion_every_document_loads_only_as_its_own_kind(
    root: SoftwareSigner, qinghai: SoftwareSigner, sample: HealthPayload
) -> None:
    """Held (regression): each kind of signed document, and a code's COSE_Sign1, handed to every loader, with one
    key that is both a root and an issuer key trusted for status lists (so only the content type, typ and body
    tell the kinds apart): only the document's own loader accepts it; every other refuses it with its own error,
    never a TypeError or anything but a HealthPassError."""
    from healthpass.codec import b45decode, decompress
    from healthpass.errors import HealthPassError

    roots = [trust_root(root.public_key_pem()), trust_root(qinghai.public_key_pem())]
    keys = [issuer_key(qinghai.public_key_pem(), region=QINGHAI), issuer_key(root.public_key_pem(), region=QINGHAI)]
    status_list = _status_list(root, {})
    docs = {
        "trust list": TrustList.build(root, seq=1, keys=[keys[0]], valid_for=timedelta(days=7), now=NOW),
        "trust list signed by an issuer key": TrustList.build(qinghai, seq=1, keys=[keys[1]],
                                                              valid_for=timedelta(days=7), now=NOW),
        "rule bundle": RuleBundle.build(root, RULES, seq=1, valid_for=timedelta(days=7), now=NOW),
        "status list": status_list,
        "status delta": StatusDelta.build(root, base=status_list, changes={1: 1}, valid_for=timedelta(days=1), now=AT),
        "code": decompress(b45decode(_code(root, sample, 1, uri=URI)[4:]), max_size=1 << 16),
    }
    loaders = {
        "trust list": lambda d: TrustList.load(d, roots),
        "rule bundle": lambda d: RuleBundle.load(d, roots),
        "status list": lambda d: StatusList.load(d, keys),
        "status delta": lambda d: StatusDelta.load(d, keys),
        "inspect trust list": unverified.inspect_trust_list_unverified,
        "inspect status list": unverified.inspect_status_list_unverified,
    }
    accepted = {("trust list", "trust list"), ("trust list signed by an issuer key", "trust list"),
                ("rule bundle", "rule bundle"), ("status list", "status list"), ("status delta", "status delta"),
                ("trust list", "inspect trust list"), ("trust list signed by an issuer key", "inspect trust list"),
                ("status list", "inspect status list"), ("status delta", "inspect status list")}
    for doc, data in docs.items():
        for loader, load in loaders.items():
            if (doc, loader) in accepted:
                load(data)
                continue
            with pytest.raises(HealthPassError) as err:
                load(data)
            assert err.value.code.value.endswith("_invalid"), (doc, loader, err.value)
    # an issuer key that is not a configured root signs neither trust lists nor rule bundles
    only_root = [trust_root(root.public_key_pem())]
    bundle_by_issuer = RuleBundle.build(qinghai, RULES, seq=1, valid_for=timedelta(days=7), now=NOW)
    for load_root_signed in (lambda: TrustList.load(docs["trust list signed by an issuer key"], only_root),
                             lambda: RuleBundle.load(bundle_by_issuer, only_root)):
        with pytest.raises(HealthPassError, match="not a configured root"):
            load_root_signed()


# -- the state directory -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("plant", ["dangling symlink", "symlink to a file", "fifo"])
def test_hred2_state_lock_planted_symlink_or_fifo_fails_closed(root: SoftwareSigner, qinghai: SoftwareSigner,
                                                               tmp_path: Path, plant: str) -> None:
    """The state directory's lock file was opened through symlinks with O_CREAT: a symlink planted under its name
    made the verifier (often root) create an empty file wherever the link pointed, or open an existing file (a
    device) for writing. The lock is now opened without following links and must be a regular file; otherwise
    the load fails closed (trust_list_invalid), touching nothing."""
    import os

    state_dir, outside = tmp_path / "state", tmp_path / "outside"
    state_dir.mkdir()
    outside.mkdir()
    lock, target = state_dir / ".healthpass-state.lock", outside / "target"
    if plant == "fifo":
        os.mkfifo(lock)
    else:
        if plant == "symlink to a file":
            target.write_bytes(b"precious")
        lock.symlink_to(target)
    data = TrustList.build(root, seq=1, keys=[issuer_key(qinghai.public_key_pem(), region=QINGHAI)],
                           valid_for=timedelta(days=7), now=NOW)
    with pytest.raises(HealthPassError) as err:
        TrustList.load(data, [trust_root(root.public_key_pem())], state=StateStore(state_dir))
    assert err.value.code is ErrorCode.TRUST_LIST_INVALID and "cannot be used" in str(err.value)
    assert (target.read_bytes() == b"precious") if plant == "symlink to a file" else not target.exists()


def test_hred2_status_order_a_partner_root_listing_the_signer_elsewhere_blocks_nothing(
    qinghai: SoftwareSigner, sample: HealthPayload
) -> None:
    """The region a status list speaks for was that of the first trust-list entry whose key verified it: with a
    partner root (scoped to Beijing) listing Qinghai's key for Beijing handed over before the national list,
    Qinghai's list spoke for Beijing only, and every Qinghai code of it was status_list_invalid. A list now speaks
    for the regions of every entry trusting its signer for status lists, whatever the order of the lists."""
    national, partner = SoftwareSigner.generate(), SoftwareSigner.generate()
    def listed(root: SoftwareSigner, region: Region, scope: list[Region] | None) -> TrustList:
        data = TrustList.build(root, seq=1, keys=[issuer_key(qinghai.public_key_pem(), region=region)],
                               valid_for=timedelta(days=7), now=NOW)
        return TrustList.load(data, [trust_root(root.public_key_pem(), regions=scope)])

    lists = [listed(national, QINGHAI, None), listed(partner, BEIJING, [BEIJING])]
    base = _status_list(qinghai, {4: 1})
    delta = StatusDelta.build(qinghai, base=base, changes={4: 1, 6: 2}, valid_for=timedelta(days=1), now=AT)
    for order in (lists, lists[::-1]):
        ring = KeyRing(trust_lists=order)
        held = StatusLists([StatusList.load(base, ring)], [StatusDelta.load(delta, ring)])
        assert StatusList.load(base, ring).regions == StatusDelta.load(delta, ring).regions == {QINGHAI, BEIJING}
        verifier = Verifier(trust_lists=order, status_lists=held)
        for idx, code in ((4, ErrorCode.REVOKED), (6, ErrorCode.SUSPENDED)):
            with pytest.raises(CredentialStatusError) as err:
                verifier.verify(_code(qinghai, sample, idx), at=AT + timedelta(minutes=1))
            assert err.value.code is code
        assert verifier.verify(_code(qinghai, sample, 5), at=AT + timedelta(minutes=1)).warnings == ()


def test_hred2_cli_empty_option_values_are_usage_errors(root: SoftwareSigner, qinghai: SoftwareSigner,
                                                        sample: HealthPayload, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """An option given an empty value was taken as absent: `verify --rules "$BUNDLE"` with the variable unset
    accepted a code the rules refuse, `--state ""` verified without the rollback record, `--at ""` at the current
    time, and `trust show FILE --root ""` printed the list UNVERIFIED with exit 0 (a script gating a deployment
    on it went ahead); `status show FILE --root R` without --trust-list likewise. Each is now a usage error."""
    from .cli._run import run

    (tmp_path / "root.pub.pem").write_bytes(root.public_key_pem())
    tl, sl = tmp_path / "tl.cbor", tmp_path / "sl.cbor"
    tl.write_bytes(TrustList.build(root, seq=1, keys=[issuer_key(qinghai.public_key_pem(), region=QINGHAI)],
                                   valid_for=timedelta(days=7), now=NOW))
    sl.write_bytes(_status_list(qinghai, {}))
    trusted = ["--root", str(tmp_path / "root.pub.pem"), "--trust-list", str(tl)]
    code = _code(qinghai, sample, 4)
    for argv in (["verify", *trusted, "--rules", "", code], ["verify", *trusted, "--state", "", code],
                 ["verify", *trusted, "--at", "", code], ["verify", *trusted, "--status-list", "", code],
                 ["transcode", "--key", "", "--issuer", "110000", *trusted, code],
                 ["trust", "show", str(tl), "--root", ""],
                 ["status", "show", str(sl), "--root", str(tmp_path / "root.pub.pem")]):
        status, out, err = run(capsys, *argv)
        assert status == 2 and "VERIFIED" not in out, (argv, status, out, err)
    # an empty code text stays a rejected code (exit 1), not a usage error
    assert run(capsys, "verify", *trusted, "")[0] == 1


def test_hred2_forged_documents_a_verified_bundles_rules_are_read_only(
    root: SoftwareSigner, qinghai: SoftwareSigner, sample: HealthPayload
) -> None:
    """A verified RuleBundle is frozen, but its rules' logic and its value sets were plain dicts and lists, also
    handed out by Rule.logic and RuleBundle.context(): a caller editing them (a UI annotating a rule, a test
    tweaking a context) changed the verified rules of every later verification, rules no root ever signed.
    They are now read-only (TypeError); CertLogic, copies and pickles read them as before."""
    bundle = RuleBundle.load(RuleBundle.build(root, RULES, seq=1, valid_for=timedelta(days=7), now=NOW),
                             [trust_root(root.public_key_pem())])
    verifier = Verifier(keys=[issuer_key(qinghai.public_key_pem(), region=QINGHAI)], rules=bundle)
    code = Issuer(qinghai, QINGHAI).issue(sample, now=NOW)
    before = verifier.verify(code, at=AT).rules
    assert before and all(result["passed"] for result in before)
    logic = bundle.rules[0].logic
    context = bundle.context(_credential(qinghai, sample), now=AT)
    for change in (logic.clear, lambda: logic.update({"===": [1, 1]}), lambda: logic.__setitem__("x", 1),
                   lambda: next(iter(logic.values())).append(True), lambda: bundle.value_sets.update(x=1),
                   lambda: context["external"]["valueSets"].__setitem__("x", 1)):
        with pytest.raises(TypeError, match="read-only"):
            change()
    assert verifier.verify(code, at=AT).rules == before
    for clone in (copy.deepcopy(bundle), pickle.loads(pickle.dumps(bundle))):
        assert clone == bundle and clone.rules[0].logic == logic
        with pytest.raises(TypeError, match="read-only"):
            clone.rules[0].logic.clear()


def _credential(signer: SoftwareSigner, sample: HealthPayload) -> Any:
    code = Issuer(signer, QINGHAI).issue(sample, now=NOW)
    return Verifier(keys=[issuer_key(signer.public_key_pem(), region=QINGHAI)]).verify(code, at=AT)


def test_hred2_order_the_stale_warning_does_not_depend_on_the_order_of_the_lists(
    qinghai: SoftwareSigner, sample: HealthPayload
) -> None:
    """The warning trust_list_stale came from the first governing entry only: with two roots listing the key, one
    list past its not-after (within the grace period) and one current, a code carried the warning when the stale
    list was handed over first and not otherwise, and a transcoder refused it (transcode_refused) in one order
    only. A code is stale only when every trust path to its key is."""
    def listed(valid_for: timedelta) -> TrustList:
        root = SoftwareSigner.generate()
        data = TrustList.build(root, seq=1, keys=[issuer_key(qinghai.public_key_pem(), region=QINGHAI)],
                               valid_for=valid_for, now=NOW - timedelta(hours=25))
        return TrustList.load(data, [trust_root(root.public_key_pem())])

    stale, current = listed(timedelta(hours=24)), listed(timedelta(days=7))  # stale: 2 hours past not-after at AT
    code = Issuer(qinghai, QINGHAI).issue(sample, now=NOW)
    for order in ([stale, current], [current, stale]):
        assert Verifier(trust_lists=order).verify(code, at=AT).warnings == ()
        Issuer(SoftwareSigner.generate(), BEIJING).transcode(code, verifier=Verifier(trust_lists=order), now=AT)
    assert Verifier(trust_lists=[stale]).verify(code, at=AT).warnings == ("trust_list_stale",)
