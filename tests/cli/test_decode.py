"""``healthpass decode`` (cli/decode.py): the payload, marked unverified."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ._run import mint, run


def test_decode_is_marked_unverified(keys: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = mint(capsys, keys)
    code, out, _ = run(capsys, "decode", text)
    assert code == 0 and out.startswith("UNVERIFIED")
    assert json.loads(out[out.index("{"):])["credential"]["status"]["colour"] == "green"
    code, _, _ = run(capsys, "decode", "HP1:zz")
    assert code == 1
