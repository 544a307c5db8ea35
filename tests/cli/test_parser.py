"""The argument parser (cli/_parser.py): every option has help and shows its default; help texts."""

from __future__ import annotations

import argparse

import pytest

from ._run import run


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
