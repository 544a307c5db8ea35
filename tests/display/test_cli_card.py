"""issue 19: ``healthpass verify ... --card FILE [--lang] [--profile]`` and ``--show``; exit codes unchanged."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from healthpass.signers import SoftwareSigner

from ..cli._run import run

AT = "2026-11-25T12:00:00Z"
LATE = "2026-12-05T12:00:00Z"  # after the code's 72 h


@pytest.fixture()
def pub(tmp_path: Path, es_signer: SoftwareSigner) -> str:
    path = tmp_path / "qh.pub.pem"
    path.write_bytes(es_signer.public_key_pem())
    return f"630000={path}"


def test_issue19_cli_card_formats_by_extension(capsys: pytest.CaptureFixture[str], tmp_path: Path, pub: str,
                                               code: str) -> None:
    for name in ("card.svg", "card.png", "card.html"):
        target = tmp_path / name
        status, out, err = run(capsys, "verify", "--trust-key", pub, "--at", AT, "--card", str(target), "--lang",
                               "en", "--profile", "clinic", code)
        assert status == 0, err
        assert out.startswith("VALID")  # the usual output is unchanged
        data = target.read_bytes()
        assert data.startswith({"card.svg": b"<svg", "card.png": b"\x89PNG", "card.html": b"<section"}[name])
    svg = (tmp_path / "card.svg").read_text("utf-8")
    root = ET.fromstring(svg)
    assert (root.get("data-verdict"), root.get("data-colour")) == ("pass", "green")
    assert "Z*** S**" in svg and "Negative, sampled" in svg and "ZHANG" not in svg


def test_issue19_cli_rejected_code_red_card_exit_1(capsys: pytest.CaptureFixture[str], tmp_path: Path, pub: str,
                                                   code: str) -> None:
    target = tmp_path / "card.svg"
    status, _, err = run(capsys, "verify", "--trust-key", pub, "--at", LATE, "--card", str(target), "--lang",
                         "zh-Hant", code)
    assert status == 1 and "REJECTED: expired" in err
    svg = target.read_text("utf-8")
    assert 'data-verdict="fail"' in svg and 'data-colour="red"' in svg and "碼已過期" in svg


def test_issue19_cli_show_prints_the_terminal_block(capsys: pytest.CaptureFixture[str], pub: str, code: str) -> None:
    status, out, _ = run(capsys, "verify", "--trust-key", pub, "--at", AT, "--show", code)
    assert status == 0
    assert out.splitlines()[0].startswith("[GREEN] 通过 · 绿码") and "张*" in out and "VALID" not in out
    status, out, _ = run(capsys, "verify", "--trust-key", pub, "--at", LATE, "--show", "--lang", "en", code)
    assert status == 1 and out.startswith("[RED] STOP") and "Code expired" in out


def test_issue19_cli_gate_profile_shows_no_holder(capsys: pytest.CaptureFixture[str], pub: str, code: str) -> None:
    status, out, _ = run(capsys, "verify", "--trust-key", pub, "--at", AT, "--show", "--profile", "gate", code)
    assert status == 0 and "张" not in out and "1980" not in out


def test_issue19_cli_usage_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path, pub: str, code: str) -> None:
    status, out, err = run(capsys, "verify", "--trust-key", pub, "--show", "--json", code)
    assert status == 2 and out == "" and "--show" in err
    status, _, err = run(capsys, "verify", "--trust-key", pub, "--card", str(tmp_path / "c.jpg"), code)
    assert status == 2 and ".svg, .png or .html" in err and not (tmp_path / "c.jpg").exists()
    status, _, err = run(capsys, "verify", "--trust-key", pub, "--batch", "-", "--card", str(tmp_path / "c.svg"))
    assert status == 2 and "--batch" in err
    status, _, _ = run(capsys, "verify", "--trust-key", pub, "--lang", "fr", "--show", code)
    assert status == 2


def test_issue19_cli_json_with_card(capsys: pytest.CaptureFixture[str], tmp_path: Path, pub: str, code: str) -> None:
    import json

    status, out, _ = run(capsys, "verify", "--trust-key", pub, "--at", AT, "--json", "--card",
                         str(tmp_path / "c.html"), code)
    assert status == 0 and json.loads(out)["valid"] is True and (tmp_path / "c.html").exists()


def test_issue19_cli_image_without_code_look_closer(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                     pub: str) -> None:
    from PIL import Image

    blank = tmp_path / "blank.png"
    Image.new("L", (200, 200), 255).save(blank)
    target = tmp_path / "card.svg"
    status, _, _ = run(capsys, "verify", "--trust-key", pub, "--at", AT, "--image", str(blank), "--card",
                       str(target), "--lang", "en")
    assert status == 1
    svg = target.read_text("utf-8")
    assert 'data-verdict="look_closer"' in svg and "No code found" in svg


def test_issue19_cli_png_card_without_fonts_names_the_package(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                               pub: str, code: str,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from healthpass.display import png

    monkeypatch.setattr(png, "_FONT_DIRS", (str(tmp_path),))
    monkeypatch.delenv("HEALTHPASS_CJK_FONT_DIR", raising=False)
    status, _, err = run(capsys, "verify", "--trust-key", pub, "--at", AT, "--card", str(tmp_path / "c.png"), code)
    assert status == 1 and "fonts-noto-cjk" in err and not (tmp_path / "c.png").exists()
    status, _, _ = run(capsys, "verify", "--trust-key", pub, "--at", AT, "--card", str(tmp_path / "c.svg"), code)
    assert status == 0  # SVG needs no font files
