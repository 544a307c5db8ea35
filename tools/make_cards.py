"""Render the sample result cards shown in the README (docs/cards/*.png) from real codes.

    python tools/make_cards.py [OUT_DIR]      # default docs/cards

Each card comes from a code issued and verified here (a fresh key; the card shows nothing of it), at the
fixed time the tests use, so the pictures change only when the view or its renderer does.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from healthpass import HealthPassError, Issuer, Region, SoftwareSigner, Verifier, issuer_key, payload_from_json
from healthpass.display import build_view, write_card

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "cards"
    out.mkdir(parents=True, exist_ok=True)
    signer = SoftwareSigner.generate()
    credential = json.loads((ROOT / "examples" / "credential.json").read_text("utf-8"))
    credential["holder"]["name"] = "张小三"
    text = Issuer(signer, Region("630000")).issue(payload_from_json(credential), now=NOW)
    verifier = Verifier(keys=[issuer_key(signer.public_key_pem(), region=Region("630000"))])
    green = verifier.verify(text, at=NOW)
    try:
        verifier.verify(text, at=NOW + timedelta(days=4))
    except HealthPassError as err:
        expired = err
    stale = dataclasses.replace(green, warnings=("trust_list_stale",))
    cards = [
        ("pass-zh-Hans-480x800.png", green, "zh-Hans", None, (480, 800)),
        ("pass-clinic-en-800x480.png", green, "en", "clinic", (800, 480)),
        ("fail-expired-zh-Hant-480x800.png", expired, "zh-Hant", None, (480, 800)),
        ("look-closer-zh-Hans-800x480.png", stale, "zh-Hans", "clinic", (800, 480)),
        ("gate-en-480x800.png", green, "en", "gate", (480, 800)),
    ]
    for name, outcome, language, profile, (width, height) in cards:
        view = build_view(outcome, now=NOW, language=language, profile=profile)
        print(write_card(view, out / name, width=width, height=height))


if __name__ == "__main__":
    main()
