"""The PKCS#11 options of the command line (cli/_signers.py), against a real SoftHSM2 token: keygen inside the
token, mint, batch mint and trust build through it, each verified by the ordinary verifier."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ..test_pkcs11 import PIN, PIN_ENV, TOKEN, SoftHsm, softhsm  # noqa: F401  (fixture)
from ._run import SAMPLE, run


def _hsm(softhsm: SoftHsm, label: str) -> list[str]:  # noqa: F811
    return ["--pkcs11-module", softhsm.module, "--pkcs11-token", TOKEN, "--pkcs11-key", label,
            "--pkcs11-pin-env", PIN_ENV]


@pytest.mark.softhsm
@pytest.mark.parametrize("alg", ["ES256", "EdDSA"])
def test_keygen_mint_verify_through_the_token(softhsm: SoftHsm, tmp_path: Path, alg: str,  # noqa: F811
                                              capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "keygen", "--alg", alg, *_hsm(softhsm, "qinghai"), "--out", str(tmp_path / "qh"))
    assert code == 0, err
    assert (tmp_path / "qh.pub.pem").exists() and not (tmp_path / "qh.key.pem").exists()
    kid = out.strip()
    code, out, err = run(capsys, "mint", *_hsm(softhsm, "qinghai"), "--issuer", "630000", "--in", SAMPLE)
    assert code == 0, err
    text = out.strip().splitlines()[-1]
    code, out, err = run(capsys, "verify", "--trust-key", f"630000={tmp_path / 'qh.pub.pem'}", "--json", text)
    assert code == 0, err
    assert json.loads(out)["kid"] == kid


@pytest.mark.softhsm
def test_trust_build_and_batch_mint_through_the_token(softhsm: SoftHsm, tmp_path: Path,  # noqa: F811
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "keygen", "--alg", "ES256", *_hsm(softhsm, "root"), "--out", str(tmp_path / "root"))[0] == 0
    pin_file = tmp_path / "pin.txt"
    pin_file.write_text(PIN + "\n")
    assert run(capsys, "keygen", "--alg", "ES256", "--pkcs11-module", softhsm.module, "--pkcs11-token", TOKEN,
               "--pkcs11-key", "qinghai", "--pkcs11-pin-file", str(pin_file), "--out", str(tmp_path / "qh"))[0] == 0
    tl = tmp_path / "list.cbor"
    code, _, err = run(capsys, "trust", "build", *_hsm(softhsm, "root"), "--seq", "1", "--valid-for", "1d",
                       "--issuer-key", f"630000={tmp_path / 'qh.pub.pem'}", "--out", str(tl))
    assert code == 0, err
    people = tmp_path / "people.jsonl"
    line = json.dumps(json.loads(Path(SAMPLE).read_text("utf-8")), ensure_ascii=False)
    people.write_text((line + "\n") * 5, encoding="utf-8")
    codes = tmp_path / "codes.txt"
    code, _, err = run(capsys, "mint", *_hsm(softhsm, "qinghai"), "--issuer", "630000", "--batch", str(people),
                       "--out", str(codes), "--workers", "1")
    assert code == 0, err
    texts = codes.read_text().splitlines()
    assert len(texts) == 5
    batch = tmp_path / "texts.txt"
    batch.write_text("\n".join(texts) + "\n")
    code, out, err = run(capsys, "verify", "--root", str(tmp_path / "root.pub.pem"), "--trust-list", str(tl),
                         "--json", "--batch", str(batch), "--workers", "1")
    assert code == 0, err
    assert [json.loads(r)["valid"] for r in out.splitlines()] == [True] * 5


@pytest.mark.softhsm
def test_wrong_pin_and_missing_key_exit_1(softhsm: SoftHsm, tmp_path: Path,  # noqa: F811
                                          capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = run(capsys, "mint", *_hsm(softhsm, "absent"), "--issuer", "630000", "--in", SAMPLE)
    assert code == 1 and "signer_key_not_found" in err
    monkeypatch.setenv(PIN_ENV, "0000-wrong")
    code, _, err = run(capsys, "mint", *_hsm(softhsm, "absent"), "--issuer", "630000", "--in", SAMPLE)
    assert code == 1 and "pin_incorrect" in err and "0000-wrong" not in err


def test_pkcs11_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "mint", "--pkcs11-module", "/nonexistent.so", "--pkcs11-token", "t",
                         "--issuer", "630000", "--in", SAMPLE)  # neither key label nor id
    assert code == 2 and out == "" and "--pkcs11-key" in err


@pytest.mark.softhsm
def test_issue17_item4_status_publish_and_delta_through_the_token(softhsm: SoftHsm, tmp_path: Path,  # noqa: F811
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """`status publish` and `status delta` take the PKCS#11 options like `mint`."""
    assert run(capsys, "keygen", "--alg", "ES256", *_hsm(softhsm, "status"), "--out", str(tmp_path / "st"))[0] == 0
    db = str(tmp_path / "reg.db")
    assert run(capsys, "status", "new", "--registry", db, "--uri", "hp:630000:3")[0] == 0
    code, out, err = run(capsys, "mint", *_hsm(softhsm, "status"), "--issuer", "630000", "--in", SAMPLE,
                         "--registry", db, "--status-uri", "hp:630000:3")
    assert code == 0, err
    text = out.strip().splitlines()[-1]
    listed, delta = tmp_path / "list.cwt", tmp_path / "delta.cwt"
    code, _, err = run(capsys, "status", "publish", "--registry", db, "--uri", "hp:630000:3", *_hsm(softhsm, "status"),
                       "--valid-for", "1d", "--out", str(listed))
    assert code == 0, err
    assert run(capsys, "status", "set", "--registry", db, "--code", text, "--to", "superseded")[0] == 0
    code, _, err = run(capsys, "status", "delta", "--registry", db, "--uri", "hp:630000:3", "--base", str(listed),
                       *_hsm(softhsm, "status"), "--valid-for", "1d", "--out", str(delta))
    assert code == 0, err
    trust = f"630000={tmp_path / 'st.pub.pem'}"
    code, out, _ = run(capsys, "verify", "--trust-key", trust, "--status-list", str(listed), "--json", text)
    assert code == 0 and json.loads(out)["credential_status"]["value"] == "valid"
    code, out, _ = run(capsys, "verify", "--trust-key", trust, "--status-list", str(listed), "--status-delta",
                       str(delta), "--json", text)
    assert code == 1 and json.loads(out)["error"]["code"] == "superseded"
