"""What the command-line tests share, and what other test files import: the CLI run in-process, a code minted
by it, the sample credential, and the two batch commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from healthpass.cli import main

from ..conftest import ROOT

SAMPLE = str(ROOT / "examples" / "credential.json")
ONE = json.dumps(json.loads(Path(SAMPLE).read_text("utf-8")), ensure_ascii=False)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def mint(capsys: pytest.CaptureFixture[str], keys: Path, *extra: str) -> str:
    code, out, err = run(capsys, "mint", "--key", str(keys / "qh.key.pem"), "--issuer", "630000", "--in", SAMPLE,
                         *extra)
    assert code == 0, err
    return out.strip().splitlines()[-1]


def verify_batch(capsys: pytest.CaptureFixture[str], keys: Path, batch: Path, *extra: str) -> tuple[int, str, str]:
    # the codes are minted at the clock's time by the CLI, so they are verified at the clock's time too
    return run(capsys, "verify", "--trust-key", f"630000={keys / 'qh.pub.pem'}", "--batch", str(batch),
               "--workers", "1", *extra)


def mint_batch(capsys: pytest.CaptureFixture[str], keys: Path, people: Path, out: Path) -> tuple[int, str, str]:
    return run(capsys, "mint", "--key", str(keys / "qh.key.pem"), "--issuer", "630000", "--batch", str(people),
               "--out", str(out), "--workers", "1")
