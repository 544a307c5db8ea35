"""The command line contract: commands, flags, exit codes (0 ok, 1 rejected, 2 usage) and JSON output."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from healthpass.cli import main

from .conftest import ROOT

SAMPLE = str(ROOT / "examples" / "credential.json")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture()
def keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    code, out, _ = run(capsys, "keygen", "--alg", "ES256", "--out", str(tmp_path / "qh"))
    assert code == 0 and len(out.strip()) == 16
    return tmp_path


def mint(capsys: pytest.CaptureFixture[str], keys: Path, *extra: str) -> str:
    code, out, err = run(capsys, "mint", "--key", str(keys / "qh.key.pem"), "--issuer", "630000", "--in", SAMPLE,
                         *extra)
    assert code == 0, err
    return out.strip().splitlines()[-1]


def test_keygen_files_and_modes(keys: Path) -> None:
    key = keys / "qh.key.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert b"BEGIN PRIVATE KEY" in key.read_bytes()
    assert b"BEGIN PUBLIC KEY" in (keys / "qh.pub.pem").read_bytes()


def test_keygen_encrypted_eddsa(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HP_PASS", "correct horse")
    code, _, _ = run(capsys, "keygen", "--alg", "EdDSA", "--out", str(tmp_path / "bj"), "--password-env", "HP_PASS")
    assert code == 0
    assert b"ENCRYPTED PRIVATE KEY" in (tmp_path / "bj.key.pem").read_bytes()
    code, out, err = run(capsys, "mint", "--key", str(tmp_path / "bj.key.pem"), "--password-env", "HP_PASS",
                         "--issuer", "CN-BJ", "--in", SAMPLE)
    assert code == 0 and out.startswith("HP1:")
    monkeypatch.setenv("HP_PASS", "wrong")
    code, _, err = run(capsys, "mint", "--key", str(tmp_path / "bj.key.pem"), "--password-env", "HP_PASS",
                       "--issuer", "CN-BJ", "--in", SAMPLE)
    assert code == 1 and "correct horse" not in err


def test_mint_and_verify_json(keys: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = mint(capsys, keys, "--valid-for", "90m")
    code, out, err = run(capsys, "verify", "--trust-key", f"CN-QH={keys / 'qh.pub.pem'}", "--json", text)
    assert code == 0 and err == ""
    lines = out.strip().splitlines()
    assert len(lines) == 1
    obj = json.loads(lines[0])
    assert obj["valid"] is True and obj["error"] is None and obj["issuer"] == "630000"
    assert set(obj) >= {"valid", "error", "issuer", "kid", "issued_at", "expires_at", "warnings", "credential"}
    assert obj["expires_at"].endswith("Z") and obj["issued_at"].endswith("Z")


def test_verify_rejection_json_and_human(keys: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = mint(capsys, keys)
    code, out, err = run(capsys, "verify", "--trust-key", f"110000={keys / 'qh.pub.pem'}", "--json", text)
    assert code == 1
    obj = json.loads(out)
    assert obj["valid"] is False and obj["error"]["code"] == "issuer_mismatch" and obj["error"]["stage"] == "scope"
    assert "issuer_mismatch" in err
    code, out, err = run(capsys, "verify", "--trust-key", f"630000={keys / 'qh.pub.pem'}",
                         "--at", "2099-01-01T00:00:00Z", text)
    assert code == 1 and out == "" and "expired" in err


def test_verify_at_forms(keys: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = mint(capsys, keys)
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    for at in (now.strftime("%Y-%m-%dT%H:%M:%SZ"), now.strftime("%Y-%m-%dT%H:%M:%S.123456789Z"),
               now.strftime("%Y-%m-%dT%H:%M:%S+00:00"), now.strftime("%Y-%m-%dT%H:%M+0000")):
        code, _, err = run(capsys, "verify", "--trust-key", f"630000={keys / 'qh.pub.pem'}", "--at", at, text)
        assert code == 0, (at, err)
    # no zone: refused (issue 15 item 4), the message says why
    code, out, err = run(capsys, "verify", "--trust-key", f"630000={keys / 'qh.pub.pem'}", "--at",
                         now.strftime("%Y-%m-%dT%H:%M:%S"), text)
    assert code == 2 and out == "" and "without a time zone" in err


def test_usage_errors_exit_2_without_json(keys: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = mint(capsys, keys)
    for argv in (["verify", "--json", text],  # no trust
                 ["verify", "--trust-key", "nonsense", "--json", text],
                 ["verify", "--trust-key", f"630000={keys / 'qh.pub.pem'}", "--at", "yesterday", "--json", text],
                 ["mint", "--key", str(keys / "qh.key.pem"), "--issuer", "999999", "--in", SAMPLE],
                 ["mint", "--key", str(keys / "qh.key.pem"), "--issuer", "630000", "--in", SAMPLE,
                  "--valid-for", "3 weeks"],
                 ["frobnicate"]):
        code, out, err = run(capsys, *argv)
        assert code == 2, argv
        assert out == "" and err


def test_mint_rejects_bad_credential(keys: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"status": {"colour": "purple", "set_at": "2026-01-01T00:00:00Z"}}))
    code, _, err = run(capsys, "mint", "--key", str(keys / "qh.key.pem"), "--issuer", "630000", "--in", str(bad))
    assert code == 1 and "credential_invalid" in err and "status.colour" in err


def test_mint_out_file(keys: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_file = tmp_path / "code.txt"
    code, _, _ = run(capsys, "mint", "--key", str(keys / "qh.key.pem"), "--issuer", "630000", "--in", SAMPLE,
                     "--out", str(out_file))
    assert code == 0 and out_file.read_text().startswith("HP1:")


def test_decode_is_marked_unverified(keys: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = mint(capsys, keys)
    code, out, _ = run(capsys, "decode", text)
    assert code == 0 and out.startswith("UNVERIFIED")
    assert json.loads(out[out.index("{"):])["credential"]["status"]["colour"] == "green"
    code, _, _ = run(capsys, "decode", "HP1:zz")
    assert code == 1


def test_verify_batch_keeps_order_and_line_numbers(keys: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    text = mint(capsys, keys)
    batch = tmp_path / "codes.txt"
    batch.write_text(f"{text}\n\ngarbage\n{text}\nHP1:\x00\n" + "X" * 100_000 + "\n")
    for workers in ("1", "2"):
        code, out, _ = run(capsys, "verify", "--trust-key", f"630000={keys / 'qh.pub.pem'}", "--json",
                           "--batch", str(batch), "--workers", workers)
        assert code == 1  # some lines were rejected
        rows = [json.loads(line) for line in out.splitlines()]
        assert [r["line"] for r in rows] == [1, 3, 4, 5, 6]
        assert [r["valid"] for r in rows] == [True, False, True, False, False]
        assert rows[-1]["error"]["code"] == "payload_too_large"
    code, out, _ = run(capsys, "verify", "--trust-key", f"630000={keys / 'qh.pub.pem'}", "--batch", str(batch),
                       "--workers", "1")
    assert out.splitlines()[0].startswith("1: VALID") and out.splitlines()[1].startswith("3: REJECTED")


def test_mint_batch(keys: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    people = tmp_path / "people.jsonl"
    one = json.dumps(json.loads(Path(SAMPLE).read_text("utf-8")), ensure_ascii=False)
    people.write_text(f"{one}\nnot json\n{one}\n", encoding="utf-8")
    out_file = tmp_path / "codes.txt"
    code, _, err = run(capsys, "mint", "--key", str(keys / "qh.key.pem"), "--issuer", "630000",
                       "--batch", str(people), "--out", str(out_file), "--workers", "1")
    assert code == 1 and "line 2" in err
    lines = out_file.read_text().splitlines()
    assert len(lines) == 3 and lines[0].startswith("HP1:") and lines[1] == "" and lines[2].startswith("HP1:")


def test_trust_build_show_and_verify(keys: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "keygen", "--alg", "ES256", "--out", str(tmp_path / "root"))
    run(capsys, "keygen", "--alg", "EdDSA", "--out", str(tmp_path / "bj"))
    tl = tmp_path / "list.cbor"
    code, out, err = run(capsys, "trust", "build", "--root-key", str(tmp_path / "root.key.pem"), "--seq", "3",
                         "--valid-for", "7d", "--issuer-key", f"630000={keys / 'qh.pub.pem'}:kinds=status,naat",
                         "--issuer-key", f"CN-BJ={tmp_path / 'bj.pub.pem'}:from=2020-01-01T00:00:00Z",
                         "--out", str(tl))
    assert code == 0, err
    code, out, _ = run(capsys, "trust", "show", str(tl), "--root", str(tmp_path / "root.pub.pem"))
    assert code == 0 and "seq 3" in out and "630000" in out and "naat,status" in out
    code, out, _ = run(capsys, "trust", "show", str(tl), "--root", str(keys / "qh.pub.pem"))
    assert code == 1
    text = mint(capsys, keys)
    code, out, err = run(capsys, "verify", "--root", str(tmp_path / "root.pub.pem"), "--trust-list", str(tl),
                         "--json", text)
    obj = json.loads(out)
    assert code == 1 and obj["error"]["code"] == "usage_not_allowed"
    code, out, err = run(capsys, "verify", "--root", f"{tmp_path / 'root.pub.pem'}:regions=110000",
                         "--trust-list", str(tl), "--json", text)
    assert code == 1 and "trust_list_invalid" in err


def test_trust_build_from_manifest(keys: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "keygen", "--alg", "ES256", "--out", str(tmp_path / "root"))
    run(capsys, "keygen", "--alg", "EdDSA", "--out", str(tmp_path / "zj"))
    manifest = tmp_path / "manifest.json"
    entries = [
        {"region": "630000", "public_key": str(keys / "qh.pub.pem")},
        {"region": "CN-ZJ", "public_key": str(tmp_path / "zj.pub.pem"), "status": "retired",
         "retired_at": "2026-01-01T00:00:00Z"},
    ]
    # a list holds each key once (its kid is the entry's key in the list): the same key twice is refused
    manifest.write_text(json.dumps({"seq": 9, "valid_for": "30d", "keys": [*entries, {**entries[0],
                                                                                      "region": "110000"}]}))
    tl = tmp_path / "list.cbor"
    code, _, err = run(capsys, "trust", "build", "--root-key", str(tmp_path / "root.key.pem"),
                       "--manifest", str(manifest), "--out", str(tl))
    assert code == 2 and "keys[2]: the same key as keys[0]" in err and not tl.exists()
    manifest.write_text(json.dumps({"seq": 9, "valid_for": "30d", "keys": entries}))
    code, _, err = run(capsys, "trust", "build", "--root-key", str(tmp_path / "root.key.pem"),
                       "--manifest", str(manifest), "--issuer-key", f"110000={tmp_path / 'zj.pub.pem'}",
                       "--out", str(tl))
    assert code == 2 and "listed twice" in err and "Traceback" not in err and not tl.exists()
    code, _, err = run(capsys, "trust", "build", "--root-key", str(tmp_path / "root.key.pem"),
                       "--manifest", str(manifest), "--out", str(tl))
    assert code == 0, err
    code, out, _ = run(capsys, "trust", "show", str(tl))
    assert code == 0 and out.startswith("UNVERIFIED") and "retired" in out and "seq 9" in out
    text = mint(capsys, keys)
    code, out, _ = run(capsys, "verify", "--root", str(tmp_path / "root.pub.pem"), "--trust-list", str(tl),
                       "--state", str(tmp_path / "state"), "--json", text)
    assert code == 0 and json.loads(out)["valid"] is True


def test_trust_show_checks_every_entry(keys: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A list whose root signed one malformed entry: verifiers use the rest of it (the entry is checked on
    first use), while ``trust show`` runs the full check and refuses it, verified or not."""
    import cbor2

    from healthpass.codec.cbor import encode
    from healthpass.cose import seal_document
    from healthpass.crypto import kid_for
    from healthpass.signers import SoftwareSigner

    run(capsys, "keygen", "--alg", "EdDSA", "--out", str(tmp_path / "root"))
    root = SoftwareSigner.from_pem((tmp_path / "root.key.pem").read_bytes())
    qh_der = SoftwareSigner.from_pem((keys / "qh.key.pem").read_bytes()).public_key_der
    stranger = SoftwareSigner.generate().public_key_der
    body = {kid_for(qh_der): encode({2: qh_der, 4: 630000, 5: [1, 2, 3, 4, 5], 8: 1}),
            kid_for(stranger): encode({2: qh_der, 4: 630000, 5: [1], 8: 1})}  # the kid of another key
    payload = encode({1: 1, 2: 5, 3: 1_700_000_000, 4: 4_000_000_000, 5: body})
    tl = tmp_path / "list.cbor"
    tl.write_bytes(seal_document(root, "application/healthpass-trust-list+cbor", payload))
    assert cbor2.loads(tl.read_bytes()).tag == 18
    code, out, err = run(capsys, "verify", "--root", str(tmp_path / "root.pub.pem"), "--trust-list", str(tl),
                         "--json", mint(capsys, keys))
    assert code == 0 and json.loads(out)["valid"] is True, err
    for extra in (["--root", str(tmp_path / "root.pub.pem")], []):
        code, out, err = run(capsys, "trust", "show", str(tl), *extra)
        assert code == 1 and "trust_list_invalid" in err and kid_for(stranger).hex() in err and out == ""
        assert "Traceback" not in err


def test_console_script_runs_in_a_fresh_process(keys: Path, tmp_path: Path) -> None:
    env = dict(os.environ)
    proc = subprocess.run([sys.executable, "-m", "healthpass", "mint", "--key", str(keys / "qh.key.pem"),
                           "--issuer", "630000", "--in", SAMPLE], capture_output=True, text=True, env=env,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout.strip().splitlines()[-1]
    proc = subprocess.run([sys.executable, "-m", "healthpass", "verify", "--trust-key",
                           f"630000={keys / 'qh.pub.pem'}", "-"], input=text, capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0 and proc.stdout.startswith("VALID")


def test_png_scan_and_verify_image(keys: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    png = tmp_path / "code.png"
    text = mint(capsys, keys, "--png", str(png))
    assert png.stat().st_size > 0
    code, out, _ = run(capsys, "scan", str(png))
    assert code == 0 and out.strip() == text
    code, out, _ = run(capsys, "verify", "--trust-key", f"630000={keys / 'qh.pub.pem'}", "--json",
                       "--image", str(png))
    assert code == 0 and json.loads(out)["valid"] is True
    blank = tmp_path / "blank.png"
    from PIL import Image

    Image.new("L", (200, 200), 255).save(blank)
    code, out, err = run(capsys, "scan", str(blank))
    assert code == 1 and out == "" and "no_code_found" in err
    code, out, _ = run(capsys, "verify", "--trust-key", f"630000={keys / 'qh.pub.pem'}", "--image", str(blank))
    assert code == 1


def test_verify_eu_certificate_with_dsc(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from ._shared import shared_dir

    case = json.loads((shared_dir() / "vectors" / "dgc-testdata" / "common" / "2DCode" / "raw" / "CO1.json")
                      .read_text("utf-8"))
    cert = tmp_path / "dsc.b64"
    cert.write_text(case["TESTCTX"]["CERTIFICATE"])
    code, out, err = run(capsys, "verify", "--dsc", str(cert), "--at", case["TESTCTX"]["VALIDATIONCLOCK"],
                         "--json", case["PREFIX"])
    assert code == 0, err
    obj = json.loads(out)
    assert obj["valid"] is True and obj["format"] == "HC1" and "dcc" in obj["credential"]


@pytest.mark.parametrize("argv", [
    ["mint", "--issuer", "630000", "--in", SAMPLE, "--valid-for", "0h"],
    ["mint", "--issuer", "630000", "--in", SAMPLE, "--valid-for", "99999d"],
    ["mint", "--issuer", "630000", "--in", "/nonexistent/credential.json"],
    ["trust", "build", "--seq", "-1", "--valid-for", "1d", "--out", "/tmp/never-written.cbor"],
])
def test_bad_option_values_are_usage_errors_without_traceback(keys: Path, argv: list[str],
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    key_option = ["--root-key"] if argv[0] == "trust" else ["--key"]
    extra = ["--issuer-key", f"630000={keys / 'qh.pub.pem'}"] if argv[0] == "trust" else []
    code, out, err = run(capsys, *argv, *key_option, str(keys / "qh.key.pem"), *extra)
    assert code == 2 and out == "" and "Traceback" not in err and err


def test_unwritable_output_exits_1(keys: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "mint", "--key", str(keys / "qh.key.pem"), "--issuer", "630000", "--in", SAMPLE,
                       "--out", "/nonexistent/dir/code.txt")
    assert code == 1 and "Traceback" not in err


def test_verify_image_that_is_missing_is_a_usage_error(keys: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "verify", "--trust-key", f"630000={keys / 'qh.pub.pem'}", "--image", "/nonexistent.png")
    assert code == 2 and out == ""


@pytest.mark.parametrize(("argv", "one_shot"), [
    (["verify", "HP1:0"], True), (["verify", "--batch", "-"], False), (["mint", "--issuer", "630000"], True),
    (["mint", "--issuer", "630000", "--batch", "in.jsonl"], False), (["decode", "HP1:0"], True),
    (["trust", "show", "tl.cbor"], True), (["rules", "eval"], False), (["rules", "test", "dir"], False),
])
def test_one_shot_commands(argv: list[str], one_shot: bool) -> None:
    """The commands the program runs without the cyclic collector: those handling one bounded input."""
    from healthpass.cli import _one_shot, build_parser

    assert _one_shot(build_parser(argv[0]).parse_args(argv)) is one_shot


@pytest.mark.parametrize(("argv", "stdin"), [(["decode", "-"], "HP1:0"), (["rules", "eval"], "")])
def test_program_freezes_what_is_left_at_exit(argv: list[str], stdin: str) -> None:
    """``main()`` on ``sys.argv``: what is left at the end is frozen so that the interpreter's shutdown does not
    scan it, and the collector is left as it was."""
    script = ("import gc, sys; from healthpass.cli import main; sys.argv[0] = 'healthpass'; status = main(); "
              "print(status, gc.isenabled(), gc.get_freeze_count() > 0)")
    proc = subprocess.run([sys.executable, "-c", script, *argv], input=stdin, capture_output=True, text=True,
                          check=False)
    assert proc.stdout.strip().splitlines()[-1] == f"{1 if argv[0] == 'decode' else 0} True True", proc.stderr
