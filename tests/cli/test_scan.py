"""``healthpass scan`` (cli/scan.py) and codes read from images."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ._run import mint, run


def test_png_scan_and_verify_image(keys: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    png = tmp_path / "code.png"
    text = mint(capsys, keys, "--png", str(png))
    assert png.stat().st_size > 0
    code, out, _ = run(capsys, "scan", str(png))
    assert code == 0 and out.strip() == text
    code, out, _ = run(capsys, "verify", "--trust-key", f"630000={keys / 'qh.pub.pem'}", "--json",
                       "--image", str(png))
    assert code == 0 and json.loads(out)["valid"] is True
    blank = tmp_path / "blank.png"
    from PIL import Image

    Image.new("L", (200, 200), 255).save(blank)
    code, out, err = run(capsys, "scan", str(blank))
    assert code == 1 and out == "" and "no_code_found" in err
    code, out, _ = run(capsys, "verify", "--trust-key", f"630000={keys / 'qh.pub.pem'}", "--image", str(blank))
    assert code == 1
