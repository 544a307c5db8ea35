"""``healthpass keygen`` (cli/keys.py): key files, their modes, encrypted keys."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from ._run import SAMPLE, run


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
