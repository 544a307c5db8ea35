"""The command line's edges (issue 15): batch exit codes and blank lines, help texts, messages."""

from __future__ import annotations

import argparse
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


def _every_option() -> list[tuple[str, argparse.Action]]:
    """(command path, action) for every option and positional of every sub-command."""
    from healthpass.cli import build_parser

    found: list[tuple[str, argparse.Action]] = []

    def walk(parser: argparse.ArgumentParser, path: str) -> None:
        parser.format_help()  # adds a lazily built sub-command's options
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, f"{path} {name}".strip())
            elif not isinstance(action, argparse._HelpAction | argparse._VersionAction):
                found.append((path, action))

    walk(build_parser(), "")
    return found


def test_issue15_item9_every_option_has_help_and_shows_its_default() -> None:
    options = _every_option()
    assert len(options) > 60
    missing = [f"{path} {action.option_strings or action.dest}" for path, action in options if not action.help]
    assert missing == []
    for path, action in options:
        default = action.default
        if action.option_strings and default not in (None, False, [], argparse.SUPPRESS):
            from healthpass.cli import _HelpFormatter

            shown = _HelpFormatter("x")._get_help_string(action) or ""
            assert "default" in shown, (path, action.option_strings)


def _help(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code, out, _ = run(capsys, *argv, "--help")
    assert code == 0
    return " ".join(out.split())  # argparse wraps lines


def test_issue15_item9_help_texts_say_what_users_asked(capsys: pytest.CaptureFixture[str]) -> None:
    assert "(default: 72h)" in _help(capsys, "mint")
    verify = _help(capsys, "verify")
    assert "TEXT the code's text, or '-' to read it from standard input" in verify
    assert "with its zone" in verify and "exit 1 if any code was rejected" in verify
    build = _help(capsys, "trust", "build")
    usage = build.split("options:")[0]
    assert "--seq N --valid-for DURATION" in usage and "[--seq" not in usage and "[--valid-for" not in usage
    assert "required: the list's sequence number" in build


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


def test_issue15_item9_a_negative_value_is_attached_only_to_its_option() -> None:
    from healthpass.cli import _attach_negative_values

    assert _attach_negative_values(["mint", "--valid-for", "-5h", "--out", "-"]) == [
        "mint", "--valid-for=-5h", "--out", "-"]
    assert _attach_negative_values(["verify", "--json", "-"]) == ["verify", "--json", "-"]
    assert _attach_negative_values(["mint", "--valid-for", "--out", "x"]) == ["mint", "--valid-for", "--out", "x"]


def test_issue15_item9_key_kind_confusion_in_the_cli(keys: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "mint", "--key", str(keys / "qh.pub.pem"), "--issuer", "630000", "--in", SAMPLE)
    assert code == 1 and "this is a public key or certificate, not a private key" in err
    code, _, err = run(capsys, "verify", "--trust-key", f"630000={keys / 'qh.key.pem'}", "HP1:0")
    assert code == 2 and "this is a private key, not a public key" in err


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


def test_issue15_item9_rule_file_json_errors_give_line_and_column(tmp_path: Path) -> None:
    import shutil
    from datetime import UTC, datetime, timedelta

    from healthpass import SoftwareSigner
    from healthpass.errors import RuleError
    from healthpass.rules import RuleBundle

    from .conftest import ROOT

    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "examples" / "rules", rules)
    rule_file = rules / "HP-STATUS-0001" / "rule.json"
    rule_file.write_text(rule_file.read_text("utf-8").replace('"ValidFrom"', '"ValidFrom" "'), encoding="utf-8")
    with pytest.raises(RuleError, match=r"is not valid JSON: Expecting ':' delimiter at line \d+ column \d+"):
        RuleBundle.build(SoftwareSigner.generate(), rules, seq=1, valid_for=timedelta(days=1),
                         now=datetime(2026, 11, 25, tzinfo=UTC))
