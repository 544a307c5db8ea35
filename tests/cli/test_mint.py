"""``healthpass mint`` (cli/mint.py): one credential or a batch, --out, bad credentials and their messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ._run import ONE, SAMPLE, mint_batch, run


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


def test_unwritable_output_exits_1(keys: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "mint", "--key", str(keys / "qh.key.pem"), "--issuer", "630000", "--in", SAMPLE,
                       "--out", "/nonexistent/dir/code.txt")
    assert code == 1 and "Traceback" not in err


def test_issue15_item5_mint_batch_exit_codes(keys: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    people, out = tmp_path / "people.jsonl", tmp_path / "codes.txt"
    people.write_text(f"{ONE}\n{ONE}\n", encoding="utf-8")
    assert mint_batch(capsys, keys, people, out)[0] == 0
    people.write_text(f"{ONE}\n{{\"status\": 1}}\n", encoding="utf-8")
    code, _, err = mint_batch(capsys, keys, people, out)
    assert code == 1 and err.count("line 2") == 1 and "line 1" not in err


def test_issue15_item9_invalid_json_gives_line_and_column(keys: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    cred = tmp_path / "cred.json"
    cred.write_text('{\n  "status": {"colour": "green",\n    "set_at": 2026-11-25}\n}\n', encoding="utf-8")
    code, _, err = run(capsys, "mint", "--key", str(keys / "qh.key.pem"), "--issuer", "630000", "--in", str(cred))
    assert code == 1 and "not JSON" in err and "line 3 column" in err, err
    people, out = tmp_path / "people.jsonl", tmp_path / "codes.txt"
    people.write_text(f"{ONE}\n{{\"status\": }}\n", encoding="utf-8")
    code, _, err = mint_batch(capsys, keys, people, out)
    assert code == 1 and "line 2: " in err and "column 12" in err, err
    cred.write_bytes(b'{"status": "\xff"}')
    code, _, err = run(capsys, "mint", "--key", str(keys / "qh.key.pem"), "--issuer", "630000", "--in", str(cred))
    assert code == 1 and "not UTF-8" in err, err
