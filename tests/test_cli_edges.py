"""The command line's edges (issue 15): batch exit codes and blank lines, help texts, messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .test_cli import SAMPLE, mint, run


@pytest.fixture()
def keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    code, _, _ = run(capsys, "keygen", "--alg", "ES256", "--out", str(tmp_path / "qh"))
    assert code == 0
    return tmp_path


ONE = json.dumps(json.loads(Path(SAMPLE).read_text("utf-8")), ensure_ascii=False)


def _verify_batch(capsys: pytest.CaptureFixture[str], keys: Path, batch: Path, *extra: str) -> tuple[int, str, str]:
    # the codes are minted at the clock's time by the CLI, so they are verified at the clock's time too
    return run(capsys, "verify", "--trust-key", f"630000={keys / 'qh.pub.pem'}", "--batch", str(batch),
               "--workers", "1", *extra)


def _mint_batch(capsys: pytest.CaptureFixture[str], keys: Path, people: Path, out: Path) -> tuple[int, str, str]:
    return run(capsys, "mint", "--key", str(keys / "qh.key.pem"), "--issuer", "630000", "--batch", str(people),
               "--out", str(out), "--workers", "1")


def test_issue15_item5_verify_batch_exit_codes(keys: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    text = mint(capsys, keys)
    batch = tmp_path / "codes.txt"
    batch.write_text(f"{text}\n{text}\n")
    for extra in ((), ("--json",)):
        assert _verify_batch(capsys, keys, batch, *extra)[0] == 0  # all valid
    batch.write_text(f"{text}\nHP1:garbage\n{text}\n")
    for extra in ((), ("--json",)):
        code, out, _ = _verify_batch(capsys, keys, batch, *extra)
        assert code == 1 and len(out.splitlines()) == 3  # one bad line fails the batch, every result printed
    batch.write_text("garbage\nHP1:0\n")
    assert _verify_batch(capsys, keys, batch)[0] == 1  # every line rejected: was exit 0


def test_issue15_item5_mint_batch_exit_codes(keys: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    people, out = tmp_path / "people.jsonl", tmp_path / "codes.txt"
    people.write_text(f"{ONE}\n{ONE}\n", encoding="utf-8")
    assert _mint_batch(capsys, keys, people, out)[0] == 0
    people.write_text(f"{ONE}\n{{\"status\": 1}}\n", encoding="utf-8")
    code, _, err = _mint_batch(capsys, keys, people, out)
    assert code == 1 and err.count("line 2") == 1 and "line 1" not in err


def test_issue15_item5_blank_lines_one_rule(keys: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Blank (empty or whitespace-only) lines are skipped by both batches: no result, no error, exit 0;
    line numbers count them; mint's --out keeps one line per input line."""
    people, out = tmp_path / "people.jsonl", tmp_path / "codes.txt"
    people.write_text(f"\n{ONE}\n  \t\n{ONE}\n\n", encoding="utf-8")
    code, _, err = _mint_batch(capsys, keys, people, out)
    assert code == 0 and err == ""
    minted = out.read_text().split("\n")
    assert minted[:-1] == ["", minted[1], "", minted[3], ""] and minted[1].startswith("HP1:")
    assert minted[3].startswith("HP1:")
    batch = tmp_path / "verify.txt"
    batch.write_text(out.read_text().replace("\n\n", "\n \t\n"))
    code, text_out, err = _verify_batch(capsys, keys, batch)
    assert code == 0 and err == ""
    assert [line.split(":")[0] for line in text_out.splitlines()] == ["2", "4"]
    code, json_out, _ = _verify_batch(capsys, keys, batch, "--json")
    assert code == 0 and [json.loads(line)["line"] for line in json_out.splitlines()] == [2, 4]
    # a bad line among blank ones: named once, by its physical line number
    people.write_text(f"\n\nnot json\n{ONE}\n", encoding="utf-8")
    code, _, err = _mint_batch(capsys, keys, people, out)
    assert code == 1 and err.count("line 3") == 1 and len(err.strip().splitlines()) == 1
    assert out.read_text().split("\n")[:3] == ["", "", ""]


def test_issue15_item9_invalid_json_gives_line_and_column(keys: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    cred = tmp_path / "cred.json"
    cred.write_text('{\n  "status": {"colour": "green",\n    "set_at": 2026-11-25}\n}\n', encoding="utf-8")
    code, _, err = run(capsys, "mint", "--key", str(keys / "qh.key.pem"), "--issuer", "630000", "--in", str(cred))
    assert code == 1 and "not JSON" in err and "line 3 column" in err, err
    people, out = tmp_path / "people.jsonl", tmp_path / "codes.txt"
    people.write_text(f"{ONE}\n{{\"status\": }}\n", encoding="utf-8")
    code, _, err = _mint_batch(capsys, keys, people, out)
    assert code == 1 and "line 2: " in err and "column 12" in err, err
    cred.write_bytes(b'{"status": "\xff"}')
    code, _, err = run(capsys, "mint", "--key", str(keys / "qh.key.pem"), "--issuer", "630000", "--in", str(cred))
    assert code == 1 and "not UTF-8" in err, err
