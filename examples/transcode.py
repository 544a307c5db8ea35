"""Transcoding, end to end and offline: a Qinghai code re-issued in Beijing, then the refusals.

Beijing verifies the Qinghai code with Qinghai's key (as any checkpoint would), then signs a Beijing code that
carries the same payload and names its source; Beijing's checkpoints verify it with Beijing's key alone. When
the EU test data is at hand (``$HEALTHPASS_SHARED`` or ``../shared``), an EU vaccination certificate is
transcoded too.

    python examples/transcode.py
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from healthpass import HealthPassError, Issuer, Region, SoftwareSigner, Verifier, issuer_key, payload_from_json

HERE = Path(__file__).resolve().parent
NOW = datetime.now(UTC).replace(second=0, microsecond=0)
QINGHAI, BEIJING = Region("630000"), Region("110000")


def refused(label: str, action: object) -> None:
    try:
        action()  # type: ignore[operator]
    except HealthPassError as err:
        print(f"  {label:<52} REFUSED {err.code.value}")
    else:
        raise AssertionError(f"{label}: accepted")


def main() -> None:
    qinghai_key, beijing_key = SoftwareSigner.generate(), SoftwareSigner.generate()
    payload = payload_from_json(json.loads((HERE / "credential.json").read_text("utf-8")))
    source = Issuer(qinghai_key, QINGHAI).issue(payload, now=NOW - timedelta(hours=1))

    # Beijing's issuer verifies incoming codes with the keys it recognises (here: Qinghai's, directly)
    incoming = Verifier(keys=[issuer_key(qinghai_key.public_key_pem(), region=QINGHAI)])
    beijing = Issuer(beijing_key, BEIJING)
    local = beijing.transcode(source, verifier=incoming, now=NOW)

    checkpoint = Verifier(keys=[issuer_key(beijing_key.public_key_pem(), region=BEIJING)])
    credential = checkpoint.verify(local, at=NOW)
    origin = credential.transcoded_from
    assert origin is not None
    print(f"Qinghai code ({len(source)} characters) -> Beijing code ({len(local)} characters)")
    print(f"  verified in Beijing with Beijing's key alone: issuer {credential.issuer}, "
          f"expires {credential.expires_at:%Y-%m-%d %H:%M} (the source's expiry, never later)")
    print("  transcoded_from:", json.dumps(origin.to_json()))

    print("Refusals (the source's own error, or transcode_refused):")
    refused("expired source", lambda: beijing.transcode(source, verifier=incoming, now=NOW + timedelta(days=4)))
    refused("source key not trusted", lambda: beijing.transcode(source, verifier=checkpoint, now=NOW))
    shanghai = Issuer(SoftwareSigner.generate(), Region("310000"))
    refused("transcoding a transcoded code (depth 1)", lambda: shanghai.transcode(local, verifier=checkpoint, now=NOW))
    refused("a code of the issuer's own region", lambda: Issuer(qinghai_key, QINGHAI).transcode(
        source, verifier=incoming, now=NOW))

    eu_case = _eu_test_certificate()
    if eu_case is None:
        print("EU certificate: skipped (EU test data not found; set HEALTHPASS_SHARED)")
        return
    text, dsc, clock = eu_case
    eu_verifier = Verifier(keys=[issuer_key(dsc, source="dsc")])
    eu_local = beijing.transcode(text, verifier=eu_verifier, now=clock)
    eu_credential = checkpoint.verify(eu_local, at=clock)
    assert eu_credential.payload is not None and eu_credential.transcoded_from is not None
    doses = [f"dose {v.dose_number}/{v.series_total} on {v.date}" for v in eu_credential.payload.vaccinations]
    print(f"EU certificate from {eu_credential.transcoded_from.origin} -> Beijing code: {', '.join(doses)}")


def _eu_test_certificate() -> tuple[str, bytes, datetime] | None:
    shared = Path(os.environ.get("HEALTHPASS_SHARED", HERE.parent.parent / "shared"))
    path = shared / "vectors" / "dgc-testdata" / "common" / "2DCode" / "raw" / "CO1.json"
    if not path.is_file():
        return None
    doc = json.loads(path.read_text("utf-8"))
    clock = datetime.fromisoformat(doc["TESTCTX"]["VALIDATIONCLOCK"].replace("Z", "+00:00"))
    return doc["PREFIX"], doc["TESTCTX"]["CERTIFICATE"].encode(), clock


if __name__ == "__main__":
    main()
