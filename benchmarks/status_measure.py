"""How far a code signed with its real status index can be from the length ``Issuer.issue_many(status=)``
measured before allocating it (the longest index, random bytes in place of the signature).

zlib codes random bytes (the signature) in a few bytes more or less, so the real code differs from the
measured one by a few characters; the measurement's 8-character margin must cover the largest difference.
Prints the distribution of real minus measured length for one measurement and for the longer of two (what
``issue_many`` does), for the complete sample, a colour-only payload and a digit-rich one (free text in digits
only: a small literal alphabet, where the signature's random bytes move zlib's Huffman tables most), ES256.

    python benchmarks/status_measure.py [N]      # N codes per payload (default 100000; about 1 min per 10^5)
"""

from __future__ import annotations

import json
import os
import random
import secrets
import string
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from healthpass import HealthPayload, HealthStatus, Issuer, Region, SoftwareSigner, StatusReference, payload_from_json
from healthpass.codec import b45encode, compress, encode_sign1
from healthpass.cose import _protected_header
from healthpass.issue import _LARGEST_INDEX

URI = "hp:630000:3"


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    sample = Path(__file__).resolve().parents[1] / "examples" / "credential.json"
    payloads = {
        "complete sample": payload_from_json(json.loads(sample.read_text("utf-8"))),
        "colour only": HealthPayload(status=HealthStatus(colour=1, set_at=datetime(2026, 1, 1, tzinfo=UTC))),
        "digit-rich": _digit_rich(),
    }
    issuer = Issuer(SoftwareSigner.generate(), Region("630000"))
    protected = _protected_header(issuer.signer.algorithm, issuer.signer.kid)

    def length(claims: bytes) -> int:  # a random 64-byte string is what an ES256 r || s looks like to zlib
        return len(b45encode(compress(encode_sign1(protected, {}, claims, os.urandom(64)))))

    for name, payload in payloads.items():
        one: Counter[int] = Counter()
        two: Counter[int] = Counter()
        for _ in range(n):
            cti = os.urandom(8)
            measured = issuer._claims(payload, iat=1, exp=100, credential_id=cti,
                                      status=StatusReference(URI, _LARGEST_INDEX))
            real = issuer._claims(payload, iat=1, exp=100, credential_id=cti,
                                  status=StatusReference(URI, secrets.randbelow(131072)))
            a, b, r = length(measured), length(measured), length(real)
            one[r - a] += 1
            two[r - max(a, b)] += 1
        print(f"{name}: real - measured over {n} codes: one measurement max {max(one)} "
              f"(tail {sorted(one.items())[-3:]}), longer of two max {max(two)} (tail {sorted(two.items())[-3:]})")


def _digit_rich() -> HealthPayload:
    """Four NAATs and three vaccinations whose facility and product are 40 random digits (tests/test_red_team_today.py
    finding 3)."""
    rng = random.Random(1)
    t = datetime(2026, 11, 25, 12, tzinfo=UTC)

    def digits() -> str:
        return "".join(rng.choice(string.digits) for _ in range(40))

    return payload_from_json({
        "status": {"colour": "green", "set_at": t.isoformat(), "reason": "routine"},
        "naat": [{"sampled_at": (t - timedelta(hours=i + 1)).isoformat(), "result": "negative", "type": "pcr",
                  "facility": digits(), "region": "630100"} for i in range(4)],
        "vaccinations": [{"product": digits(), "dose_number": i + 1, "series_total": 3, "kind": "primary",
                          "date": "2021-06-01"} for i in range(3)],
    })


if __name__ == "__main__":
    main()
