"""Mutual recognition, end to end: a national root and three provinces.

A code minted in Qinghai is verified in Beijing with nothing but the trust list and the national root key;
then every rejection the trust list enables is shown happening. Offline; run it and read the output.

    python examples/mutual_recognition.py
"""

from __future__ import annotations

import dataclasses
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from healthpass import (
    HealthPassError,
    HealthPayload,
    HealthStatus,
    Issuer,
    Kind,
    NaatTest,
    Region,
    SoftwareSigner,
    StateStore,
    TrustList,
    Verifier,
    issuer_key,
    trust_root,
)
from healthpass.model.credential import TestResult

NOW = datetime.now(UTC).replace(second=0, microsecond=0)


def show(label: str, action: object) -> None:
    try:
        result = action() if callable(action) else action
        warnings = f" warnings={list(result.warnings)}" if result.warnings else ""
        print(f"  {label:<58} VALID (issuer {result.issuer}, key from {result.key_source}){warnings}")
    except HealthPassError as err:
        print(f"  {label:<58} {err.code.value} ({err.stage.value})")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="healthpass-state-") as state_dir:  # removed again on the way out
        return run(Path(state_dir))


def run(state_dir: Path) -> int:
    # The national authority's root key, and three provinces' issuer keys.
    root = SoftwareSigner.generate()
    qinghai, beijing, zhejiang = (SoftwareSigner.generate() for _ in range(3))
    key = lambda s, region, **kw: dataclasses.replace(  # noqa: E731
        issuer_key(s.public_key_pem(), region=Region(region)), **kw)

    # Publication: the national platform signs list #1 and distributes it to every verifier.
    keys = [
        key(qinghai, "630000"),
        key(beijing, "110000", kinds=frozenset({Kind.STATUS})),  # Beijing's key may only sign status codes
        key(zhejiang, "330000", valid_until=NOW - timedelta(days=1)),  # an old key, its window closed
    ]
    list1 = TrustList.build(root, seq=1, keys=keys, valid_for=timedelta(days=7), now=NOW)
    root_key = trust_root(root.public_key_pem())  # what every verifier is configured with
    state = StateStore(state_dir)
    beijing_checkpoint = Verifier(trust_lists=[TrustList.load(list1, [root_key], state=state)])
    print(f"trust list #1: {len(keys)} keys, root {root_key.kid.hex()}, state in {state_dir}")

    status = HealthStatus(colour=1, set_at=NOW)
    naat = NaatTest(sampled_at=NOW - timedelta(hours=20), result=TestResult.NEGATIVE)
    code = Issuer(qinghai, Region("630100")).issue(HealthPayload(status=status, naat=(naat,)), now=NOW)

    print("A Xining (630100) code checked at a Beijing checkpoint:")
    show("verified with only the trust list and the root key", lambda: beijing_checkpoint.verify(code, at=NOW))

    print("Each rejection the trust list enables:")
    forged_region = Issuer(qinghai, Region("110000")).issue(HealthPayload(status=status), now=NOW)
    show("Qinghai's key signing for Beijing (110000)", lambda: beijing_checkpoint.verify(forged_region, at=NOW))
    beijing_naat = Issuer(beijing, Region("110000")).issue(HealthPayload(status=status, naat=(naat,)), now=NOW)
    show("Beijing's status-only key signing a NAAT result", lambda: beijing_checkpoint.verify(beijing_naat, at=NOW))
    old_zj = Issuer(zhejiang, Region("330000")).issue(HealthPayload(status=status), now=NOW)
    show("Zhejiang's key used after its usage window", lambda: beijing_checkpoint.verify(old_zj, at=NOW))
    backdated = Issuer(zhejiang, Region("330000"), validity=timedelta(days=3650)).issue(  # a leaked old key
        HealthPayload(status=status), now=NOW - timedelta(days=2))
    show("Zhejiang's old key, back-dated into its window, 10 years",
         lambda: beijing_checkpoint.verify(backdated, at=NOW))
    long_lived = Issuer(qinghai, Region("630100"), validity=timedelta(days=14)).issue(
        HealthPayload(status=status), now=NOW)
    show("the list 12 h past its not-after (within the 24 h grace)",
         lambda: beijing_checkpoint.verify(long_lived, at=NOW + timedelta(days=7, hours=12)))
    show("the list 2 days past its not-after",
         lambda: beijing_checkpoint.verify(long_lived, at=NOW + timedelta(days=9)))
    show("a device clock set back before the list was issued",
         lambda: beijing_checkpoint.verify(code, at=NOW - timedelta(days=1)))

    forged = TrustList.build(SoftwareSigner.generate(), seq=99, keys=keys, valid_for=timedelta(days=7), now=NOW)
    show("a list signed by a key that is not the root", lambda: TrustList.load(forged, [root_key]))

    # Key rotation and the emergency stop: list #2 rotates Qinghai's key and drops the compromised one.
    qinghai_2027 = SoftwareSigner.generate()
    list2 = TrustList.build(root, seq=2, keys=[key(qinghai_2027, "630000"), key(beijing, "110000")],
                            valid_for=timedelta(days=7), now=NOW + timedelta(hours=1))
    updated = Verifier(trust_lists=[TrustList.load(list2, [root_key], state=StateStore(state_dir))])
    show("after list #2: the removed Qinghai key", lambda: updated.verify(code, at=NOW + timedelta(hours=2)))
    new_code = Issuer(qinghai_2027, Region("630000")).issue(HealthPayload(status=status), now=NOW)
    show("after list #2: a code from the rotated key", lambda: updated.verify(new_code, at=NOW + timedelta(hours=2)))
    show("replaying list #1 after #2 was accepted", lambda: TrustList.load(list1, [root_key], state=state))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
