"""Issuer backend recipe: load the province's signing key and mint a code for a credential JSON.

    python examples/mint.py KEY.pem REGION CREDENTIAL.json     (prints the HP1: text)
    python examples/mint.py                                    (a fresh key and the built-in sample)
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path

from healthpass import IssueError, Issuer, Region, SoftwareSigner, payload_from_json

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    if argv:
        key_path, region, credential_path = argv
        signer = SoftwareSigner.from_file(key_path)
    else:
        signer, region, credential_path = SoftwareSigner.generate(), "630000", str(HERE / "credential.json")
    issuer = Issuer(signer, Region.parse(region), validity=timedelta(hours=72))
    try:
        payload = payload_from_json(json.loads(Path(credential_path).read_text("utf-8")))
        print(issuer.issue(payload))
    except (ValueError, IssueError) as err:  # ValueError: the JSON does not fit the model (names the field)
        print(f"cannot mint: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
