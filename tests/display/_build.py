"""Real credentials for the display tests: issued with a real key, verified by a real verifier."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta
from typing import Any

from healthpass.issue import Issuer
from healthpass.model.jsonform import payload_from_json
from healthpass.model.regions import Region
from healthpass.signers import SoftwareSigner
from healthpass.trust import issuer_key
from healthpass.verify import VerifiedCredential, Verifier

from ..conftest import NOW, ROOT

SAMPLE: dict[str, Any] = json.loads((ROOT / "examples" / "credential.json").read_text("utf-8"))


def sample(**changes: Any) -> dict[str, Any]:
    """The sample credential JSON with top-level parts replaced (None removes a part)."""
    out = copy.deepcopy(SAMPLE)
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def issue(signer: SoftwareSigner, credential: dict[str, Any], *, region: str = "630000",
          at: datetime = NOW, valid_for: timedelta = timedelta(hours=72)) -> str:
    return Issuer(signer, Region(region)).issue(payload_from_json(credential), now=at, valid_for=valid_for)


def verified(signer: SoftwareSigner, credential: dict[str, Any], *, region: str = "630000", at: datetime = NOW,
             valid_for: timedelta = timedelta(hours=72), now: datetime | None = None) -> VerifiedCredential:
    text = issue(signer, credential, region=region, at=at, valid_for=valid_for)
    verifier = Verifier(keys=[issuer_key(signer.public_key_pem(), region=Region(region[:2] + "0000"))])
    return verifier.verify(text, at=now or at)
