"""Scanner app recipe: build the verifier once from trusted keys, then verify each scanned text offline.

    python examples/verify.py PUB.pem REGION TEXT
    python examples/verify.py                       (mints a sample code with a fresh key, then verifies it)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from healthpass import HealthPassError, Issuer, Region, SoftwareSigner, Verifier, issuer_key, payload_from_json

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    if argv:
        pub_path, region, text = argv
        pub = Path(pub_path).read_bytes()
    else:
        signer = SoftwareSigner.generate()
        region, pub = "630000", signer.public_key_pem()
        payload = payload_from_json(json.loads((HERE / "credential.json").read_text("utf-8")))
        text = Issuer(signer, Region(region)).issue(payload)
    verifier = Verifier(keys=[issuer_key(pub, region=Region.parse(region))])  # once, at start-up
    try:
        credential = verifier.verify(text)  # now defaults to the device clock
    except HealthPassError as err:
        print(f"REJECTED {err.code.value} at {err.stage.value}: {err.message}")
        return 1
    status = credential.payload.status if credential.payload else None
    print(f"VALID: issued by {credential.issuer}, expires {credential.expires_at}, "
          f"status {status.colour_name if status else 'n/a'}")
    print(json.dumps(credential.to_json(), ensure_ascii=False)[:300] + " ...")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
