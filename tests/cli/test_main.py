"""The program (cli/__init__.py, ``python -m healthpass``): a fresh process, one-shot commands without the cyclic
collector, freezing at exit, negative option values."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ._run import SAMPLE


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


def test_issue15_item9_a_negative_value_is_attached_only_to_its_option() -> None:
    from healthpass.cli import _attach_negative_values

    assert _attach_negative_values(["mint", "--valid-for", "-5h", "--out", "-"]) == [
        "mint", "--valid-for=-5h", "--out", "-"]
    assert _attach_negative_values(["verify", "--json", "-"]) == ["verify", "--json", "-"]
    assert _attach_negative_values(["mint", "--valid-for", "--out", "x"]) == ["mint", "--valid-for", "--out", "x"]
