"""The main job on the built-in sample, end to end and offline:

make an issuer key, mint a code from examples/credential.json, render its QR code as PNG, scan the image
back with the QR reader, and verify the scanned text against the issuer's public key.

    python examples/demo.py [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from healthpass import Issuer, Region, SoftwareSigner, Verifier, issuer_key, payload_from_json, qr

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, help="directory for the key, code and QR image (default: a temp dir)")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="healthpass-demo-"))
    out.mkdir(parents=True, exist_ok=True)

    # 1. The Qinghai issuer backend: a signing key and the sample credential.
    signer = SoftwareSigner.generate()
    (out / "qinghai.pub.pem").write_bytes(signer.public_key_pem())
    payload = payload_from_json(json.loads((HERE / "credential.json").read_text("utf-8")))
    text = Issuer(signer, Region.parse("CN-QH")).issue(payload)
    (out / "code.txt").write_text(text + "\n", encoding="ascii")
    info = qr.qr_info(text)
    print(f"1. minted  : {len(text)} characters, QR version {info.version}-{info.error_correction.value} "
          f"({info.mode} mode)")

    # 2. Render the QR code as the holder's phone would show it.
    png = out / "code.png"
    qr.write_png(text, png)
    print(f"2. rendered: {png} ({png.stat().st_size} bytes)")

    # 3. A scanner reads the image...
    scanned = qr.scan(png)
    print(f"3. scanned : {'identical text' if scanned == text else 'DIFFERENT text'}")

    # 4. ...and verifies it offline with only the issuer's public key, scoped to Qinghai.
    verifier = Verifier(keys=[issuer_key((out / "qinghai.pub.pem").read_bytes(), region=Region("630000"))])
    result = verifier.verify(scanned)
    status = result.payload.status.colour_name if result.payload and result.payload.status else "-"
    region = result.issuer_region
    print(f"4. verified: issuer {result.issuer} {region.province.name_zh if region else ''} "
          f"kid {result.kid.hex()} status {status} expires {result.expires_at:%Y-%m-%d %H:%M}Z")
    print(json.dumps(result.to_json()["credential"], ensure_ascii=False, indent=2))
    return 0 if scanned == text else 1


if __name__ == "__main__":
    raise SystemExit(main())
