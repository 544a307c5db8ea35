"""Credential status, end to end and offline: mint with a status reference, change a status, publish the
list and a delta, sync a checkpoint, and watch the code be rejected.

A national root signs a trust list in which Qinghai's key may sign codes and status lists for 630000. The
Qinghai backend keeps a status registry (SQLite, in a temporary directory), mints two codes, each with a
random index in the list ``hp:630000:3``, and publishes the list. A Beijing checkpoint holding the trust list
and the status list accepts both codes. Then the first holder becomes a close contact: Qinghai suspends the
code, sends a small signed delta, the checkpoint applies it and rejects the code. Run it and read the output.

    python examples/revocation.py
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from healthpass import (
    HealthPassError,
    HealthPayload,
    HealthStatus,
    Issuer,
    Region,
    SoftwareSigner,
    StateStore,
    StatusDelta,
    StatusList,
    StatusLists,
    StatusValue,
    TrustList,
    Verifier,
    issuer_key,
    trust_root,
)
from healthpass.registry import open_registry

NOW = datetime.now(UTC).replace(second=0, microsecond=0)
URI = "hp:630000:3"


def show(label: str, action: object) -> None:
    try:
        result = action() if callable(action) else action
        status = result.credential_status
        checked = f" status={status.value.label if status.value is not None else 'unchecked'}" if status else ""
        warnings = f" warnings={list(result.warnings)}" if result.warnings else ""
        print(f"  {label:<62} VALID{checked}{warnings}")
    except HealthPassError as err:
        print(f"  {label:<62} {err.code.value} ({err.stage.value})")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="healthpass-revocation-") as work:
        return run(Path(work))


def run(work: Path) -> int:
    root, qinghai = SoftwareSigner.generate(), SoftwareSigner.generate()
    trust = TrustList.build(root, seq=1, keys=[issuer_key(qinghai.public_key_pem(), region=Region("630000"))],
                            valid_for=timedelta(days=7), now=NOW)  # "all kinds" includes status_list
    roots = [trust_root(root.public_key_pem())]

    # -- the issuer: a registry, a list, two codes with references ----------------------------------
    issuer = Issuer(qinghai, Region("630100"))
    payload = HealthPayload(status=HealthStatus(colour=1, set_at=NOW))
    with open_registry(str(work / "registry.db")) as registry:
        registry.create_list(URI, size=131072)  # the default: herd privacy for every holder in it
        ids = [os.urandom(8), os.urandom(8)]
        refs = registry.allocate(URI, ids)
        codes = [issuer.issue(payload, now=NOW, credential_id=cti, status=ref)
                 for cti, ref in zip(ids, refs, strict=True)]
        print(f"minted 2 codes into {URI} at random indices {refs[0].idx} and {refs[1].idx}")

        def publish(at: datetime) -> bytes:
            info, entries = registry.snapshot(URI)
            data = StatusList.build(qinghai, uri=URI, size=info.size, entries=entries, valid_for=timedelta(hours=6),
                                    ttl=timedelta(hours=1), now=at)
            registry.record_publication(URI, iat=int(at.timestamp()), sha256=hashlib.sha256(data).digest(),
                                        version=info.version)
            return data

        base = publish(NOW)
        print(f"published the list: {len(base)} bytes for {131072} entries")

        # -- the checkpoint syncs: trust list, status list, state directory ------------------------
        state = StateStore(work / "state")
        trusted = TrustList.load(trust, roots, state=state)
        ring = Verifier(trust_lists=[trusted]).keys
        lists = StatusLists([StatusList.load(base, ring)], state=state)
        checkpoint = Verifier(trust_lists=[trusted], status_lists=lists, require_status=True)
        print("Beijing checkpoint, synced:")
        show("code 1", lambda: checkpoint.verify(codes[0], at=NOW + timedelta(minutes=5)))
        show("code 2", lambda: checkpoint.verify(codes[1], at=NOW + timedelta(minutes=5)))

        # -- a status change, a delta, the checkpoint syncs again ---------------------------------
        registry.set_status(StatusValue.SUSPENDED, credential_id=ids[0])
        later = NOW + timedelta(minutes=30)
        _, changes = registry.changes_since(URI, iat=int(NOW.timestamp()), sha256=hashlib.sha256(base).digest())
    delta = StatusDelta.build(qinghai, base=base, changes=changes, valid_for=timedelta(hours=6), now=later)
    print(f"holder 1 is a close contact: suspended; delta of {len(changes)} change, {len(delta)} bytes")
    synced = StatusLists([StatusList.load(base, ring)], [StatusDelta.load(delta, ring)], state=state)
    checkpoint = Verifier(trust_lists=[trusted], status_lists=synced, require_status=True)
    at = later + timedelta(minutes=5)
    show("code 1 after the delta", lambda: checkpoint.verify(codes[0], at=at))
    show("code 2 after the delta", lambda: checkpoint.verify(codes[1], at=at))

    print("What the checkpoint refuses or reports:")
    show("the bare list replayed after the delta (state directory)",
         lambda: StatusLists([StatusList.load(base, ring)], state=state))
    stale = NOW + timedelta(hours=6, minutes=35)
    show("code 2, 5 minutes past the delta's exp (within the 24 h grace)",
         lambda: checkpoint.verify(codes[1], at=stale))
    show("code 2, 2 days past the delta's exp", lambda: checkpoint.verify(codes[1], at=NOW + timedelta(days=2)))
    lenient = Verifier(trust_lists=[trusted])
    show("code 1 at a checkpoint holding no status list", lambda: lenient.verify(codes[0], at=at))
    strict = Verifier(trust_lists=[trusted], require_status=True)
    show("... and with require_status", lambda: strict.verify(codes[0], at=at))
    other = SoftwareSigner.generate()
    forged = StatusList.build(other, uri=URI, size=131072, entries=[], valid_for=timedelta(hours=6), now=later)
    show("a list signed by a key the trust list does not name", lambda: StatusList.load(forged, ring))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
