"""``healthpass verify`` (cli/verify.py): one code or a batch, text and JSON output, exit codes, --at, --image."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ._run import mint, run, verify_batch


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


def test_verify_image_that_is_missing_is_a_usage_error(keys: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "verify", "--trust-key", f"630000={keys / 'qh.pub.pem'}", "--image", "/nonexistent.png")
    assert code == 2 and out == ""


def test_issue15_item5_verify_batch_exit_codes(keys: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    text = mint(capsys, keys)
    batch = tmp_path / "codes.txt"
    batch.write_text(f"{text}\n{text}\n")
    for extra in ((), ("--json",)):
        assert verify_batch(capsys, keys, batch, *extra)[0] == 0  # all valid
    batch.write_text(f"{text}\nHP1:garbage\n{text}\n")
    for extra in ((), ("--json",)):
        code, out, _ = verify_batch(capsys, keys, batch, *extra)
        assert code == 1 and len(out.splitlines()) == 3  # one bad line fails the batch, every result printed
    batch.write_text("garbage\nHP1:0\n")
    assert verify_batch(capsys, keys, batch)[0] == 1  # every line rejected: was exit 0


def test_issue15_item9_base45_offsets_count_from_the_text_given(capsys: pytest.CaptureFixture[str],
                                                                keys: Path) -> None:
    for text, offset in (("HP1:AB!", 6), ("  HP1:AB!", 8), ("HP1:ABCDEF:::", 10), ("HC1:AB:", 4)):
        code, _, err = run(capsys, "verify", "--trust-key", f"630000={keys / 'qh.pub.pem'}", text)
        assert code == 1 and f"offset {offset}" in err, (text, err)
        code, _, err = run(capsys, "decode", text)
        assert code == 1 and f"offset {offset}" in err, (text, err)


def test_issue15_item9_rejected_line_reads_naturally_and_json_keeps_the_context(
        keys: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = mint(capsys, keys)  # minted now, valid 72 h
    argv = ["verify", "--trust-key", f"630000={keys / 'qh.pub.pem'}", "--at", "2099-01-01T00:00Z"]
    code, out, err = run(capsys, *argv, text)
    assert code == 1 and out == ""
    first = err.splitlines()[0]
    assert first.startswith("REJECTED: expired at ") and first.endswith("[expired, stage validity]"), first
    assert "expired at validity" not in err
    assert "signature verified: HP1 code issued by 630000, kid " in err
    code, out, _ = run(capsys, *argv, "--json", text)
    obj = json.loads(out)
    assert obj["valid"] is False and obj["error"]["code"] == "expired"
    assert obj["issuer"] == "630000" and len(obj["kid"]) == 16 and obj["expires_at"].endswith("Z")
    assert obj["issued_at"] < obj["expires_at"] and obj["credential"] is None  # never the payload
    # out of scope: the same context
    code, out, _ = run(capsys, "verify", "--trust-key", f"110000={keys / 'qh.pub.pem'}", "--json", text)
    obj = json.loads(out)
    assert obj["error"]["code"] == "issuer_mismatch" and obj["issuer"] == "630000" and obj["kid"]
    # before the signature verified: nothing
    other = keys / "other"
    run(capsys, "keygen", "--alg", "ES256", "--out", str(other))
    code, out, err = run(capsys, "verify", "--trust-key", f"630000={other}.pub.pem", "--json", text)
    obj = json.loads(out)
    assert obj["error"]["code"] == "key_unknown" and obj["issuer"] is None and obj["kid"] is None
    assert "signature verified" not in err
