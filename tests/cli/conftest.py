"""Fixtures of the command-line tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from ._run import run


@pytest.fixture()
def keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """An ES256 key pair made by ``healthpass keygen``: ``qh.key.pem`` and ``qh.pub.pem`` in the directory."""
    code, out, _ = run(capsys, "keygen", "--alg", "ES256", "--out", str(tmp_path / "qh"))
    assert code == 0 and len(out.strip()) == 16
    return tmp_path
