"""What the commands share (cli/_io.py): usage errors exit 2 with nothing on stdout, durations, blank lines in
batches."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ._run import ONE, SAMPLE, mint, mint_batch, run, verify_batch


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


def test_issue15_item5_blank_lines_one_rule(keys: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Blank (empty or whitespace-only) lines are skipped by both batches: no result, no error, exit 0;
    line numbers count them; mint's --out keeps one line per input line."""
    people, out = tmp_path / "people.jsonl", tmp_path / "codes.txt"
    people.write_text(f"\n{ONE}\n  \t\n{ONE}\n\n", encoding="utf-8")
    code, _, err = mint_batch(capsys, keys, people, out)
    assert code == 0 and err == ""
    minted = out.read_text().split("\n")
    assert minted[:-1] == ["", minted[1], "", minted[3], ""] and minted[1].startswith("HP1:")
    assert minted[3].startswith("HP1:")
    batch = tmp_path / "verify.txt"
    batch.write_text(out.read_text().replace("\n\n", "\n \t\n"))
    code, text_out, err = verify_batch(capsys, keys, batch)
    assert code == 0 and err == ""
    assert [line.split(":")[0] for line in text_out.splitlines()] == ["2", "4"]
    code, json_out, _ = verify_batch(capsys, keys, batch, "--json")
    assert code == 0 and [json.loads(line)["line"] for line in json_out.splitlines()] == [2, 4]
    # a bad line among blank ones: named once, by its physical line number
    people.write_text(f"\n\nnot json\n{ONE}\n", encoding="utf-8")
    code, _, err = mint_batch(capsys, keys, people, out)
    assert code == 1 and err.count("line 3") == 1 and len(err.strip().splitlines()) == 1
    assert out.read_text().split("\n")[:3] == ["", "", ""]


@pytest.mark.parametrize(("value", "problem"), [
    ("-5h", "must be positive"),
    ("1.5h", "whole number of units: write it in a smaller unit (e.g. 90m)"),
    ("2.5d", "(e.g. 60h)"),
    ("0.5s", "whole number of seconds"),
    ("72", "no unit: add s, m, h or d"),
    ("72w", "unknown unit 'w'"),
    ("3 weeks", "unknown unit 'weeks'"),
    ("0h", "must be positive"),
    ("99999d", "at most 3660 days"),
])
def test_issue15_item9_duration_messages_name_the_problem(keys: Path, capsys: pytest.CaptureFixture[str],
                                                           value: str, problem: str) -> None:
    for argv in (["mint", "--key", str(keys / "qh.key.pem"), "--issuer", "630000", "--in", SAMPLE,
                  "--valid-for", value],
                 ["mint", "--key", str(keys / "qh.key.pem"), "--issuer", "630000", "--in", SAMPLE,
                  f"--valid-for={value}"]):
        code, out, err = run(capsys, *argv)
        assert code == 2 and out == "" and problem in err, err
        assert "expected one argument" not in err
