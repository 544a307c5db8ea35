"""The key and trust options (cli/_verifier.py: --trust-key, --dsc, --root with --trust-list -> Verifier),
and a key of the wrong kind where a public or a private one is expected."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ._run import SAMPLE, run


def test_verify_eu_certificate_with_dsc(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from .._shared import shared_dir

    case = json.loads((shared_dir() / "vectors" / "dgc-testdata" / "common" / "2DCode" / "raw" / "CO1.json")
                      .read_text("utf-8"))
    cert = tmp_path / "dsc.b64"
    cert.write_text(case["TESTCTX"]["CERTIFICATE"])
    code, out, err = run(capsys, "verify", "--dsc", str(cert), "--at", case["TESTCTX"]["VALIDATIONCLOCK"],
                         "--json", case["PREFIX"])
    assert code == 0, err
    obj = json.loads(out)
    assert obj["valid"] is True and obj["format"] == "HC1" and "dcc" in obj["credential"]


def test_issue15_item9_key_kind_confusion_in_the_cli(keys: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "mint", "--key", str(keys / "qh.pub.pem"), "--issuer", "630000", "--in", SAMPLE)
    assert code == 1 and "this is a public key or certificate, not a private key" in err
    code, _, err = run(capsys, "verify", "--trust-key", f"630000={keys / 'qh.key.pem'}", "HP1:0")
    assert code == 2 and "this is a private key, not a public key" in err
