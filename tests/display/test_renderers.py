"""issue 19: SVG, PNG, HTML and terminal renderers — readable at both sizes, escaped, fonts named when missing."""

from __future__ import annotations

import html.parser
import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image

from healthpass.display import (
    CARD_SIZES,
    CheckpointView,
    Colour,
    Language,
    Row,
    Verdict,
    build_view,
    card_bytes,
    render_html,
    render_png,
    render_svg,
    render_terminal,
    write_card,
)
from healthpass.display import png as png_module
from healthpass.display.layout import card_layout, estimate_width
from healthpass.signers import SoftwareSigner

from ..conftest import NOW
from ._build import sample, verified

HOSTILE = '<script>alert(1)</script>&"\'\x1b[31m\x07\u202e\x9b2J]]>'


def hostile_view() -> CheckpointView:
    return CheckpointView(
        language=Language.EN, profile="default", verdict=Verdict.FAIL, verdict_text="STOP " + HOSTILE,
        reason=HOSTILE, colour=Colour.RED, colour_text=HOSTILE,
        rows=(Row("holder", HOSTILE, HOSTILE), Row("issuer", "Issued by", "x" * 300)), warnings=(HOSTILE,),
        error_code="expired",
    )


def long_view(es_signer: SoftwareSigner, language: Language) -> CheckpointView:
    import dataclasses

    credential = dataclasses.replace(verified(es_signer, sample()),
                                     warnings=("trust_list_stale", "dcc_schema", "dcc_schema_unavailable"))
    return build_view(credential, now=NOW, language=language, profile="clinic")


def test_issue19_svg_escapes_everything() -> None:
    svg = render_svg(hostile_view())
    root = ET.fromstring(svg.encode("utf-8"))  # well-formed XML
    assert root.tag.endswith("svg") and root.get("data-verdict") == "fail"
    assert "<script" not in svg and "\x1b" not in svg and "\x07" not in svg and "\u202e" not in svg
    texts = "".join(t.text or "" for t in root.iter() if t.tag.endswith("text"))
    assert "<script>alert(1)</script>" in texts  # shown as text, not markup


def test_issue19_html_fragment_escapes_everything() -> None:
    fragment = render_html(hostile_view())
    tags: list[str] = []

    class Collect(html.parser.HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            tags.append(tag)

    Collect().feed(fragment)
    assert set(tags) <= {"section", "div", "p", "dl", "dt", "dd", "ul", "li"}
    assert "script" not in tags and "&lt;script&gt;" in fragment
    assert "\x1b" not in fragment and "\u202e" not in fragment
    assert 'data-verdict="fail"' in fragment and 'data-error="expired"' in fragment


def test_issue19_terminal_block_strips_control_characters() -> None:
    out = render_terminal(hostile_view())
    ours = re.sub(r"\x1b\[[0-9;]*m", "", out)  # the renderer's own SGR sequences
    assert "\x1b" not in ours and "\x07" not in ours and "\x9b" not in ours and "\u202e" not in ours
    assert "[31m" in ours  # the hostile text's printable rest is shown, harmless
    plain = render_terminal(hostile_view(), colour=False)
    assert "\x1b" not in plain and plain.startswith("[RED] STOP")


def test_issue19_terminal_block_colours(es_signer: SoftwareSigner) -> None:
    view = build_view(verified(es_signer, sample()), now=NOW, language="zh-Hans")
    out = render_terminal(view)
    assert out.startswith("\x1b[1;97;42m") and "通过 · 绿码" in out and "张*" in out


@pytest.mark.parametrize("size", CARD_SIZES)
@pytest.mark.parametrize("language", list(Language))
def test_issue19_layout_fits_the_card(es_signer: SoftwareSigner, size: tuple[int, int], language: Language) -> None:
    """Everything is placed inside the card at both sizes; a clinic view with warnings fits without a cut."""
    width, height = size
    view = long_view(es_signer, language)
    measure = _png_measure(language)
    for how in (estimate_width, measure):
        boxes, labels = card_layout(view, width, height, how)
        for label in labels:
            half = how(label.text, label.size, label.bold) / 2 if label.anchor == "middle" else 0
            assert label.x - half >= 0 and label.x + (half or how(label.text, label.size, label.bold)) <= width + 1
            assert label.y >= 0 and label.y + label.size * 1.3 <= height
        shown = " ".join(label.text for label in labels)
        assert "…" not in shown and view.rows[-1].value.replace(" ", "") in shown.replace(" ", "")
        assert all(w.replace(" ", "") in shown.replace(" ", "") for w in view.warnings)
        assert len(boxes) == 2


def _png_measure(language: Language):  # type: ignore[no-untyped-def]
    from healthpass.display.png import _FACES, _font, find_fonts

    regular, bold = find_fonts()
    return lambda text, size, is_bold: _font(bold if is_bold else regular, _FACES[language.value], size).getlength(text)


def test_issue19_overflow_is_cut_not_drawn_off() -> None:
    view = hostile_view()
    view = CheckpointView(**{**{f: getattr(view, f) for f in view.__dataclass_fields__},
                             "rows": tuple(Row("holder", "L", "word " * 40) for _ in range(30))})
    _, labels = card_layout(view, 480, 800, estimate_width)
    assert all(label.y + label.size * 1.3 <= 800 for label in labels)
    assert labels[-1].text.endswith("…")  # the cut is marked


@pytest.mark.parametrize("size", CARD_SIZES)
def test_issue19_png_cards_at_both_sizes(es_signer: SoftwareSigner, size: tuple[int, int], tmp_path: Path) -> None:
    width, height = size
    view = long_view(es_signer, Language.ZH_HANS)
    image = Image.open(io.BytesIO(render_png(view, width=width, height=height)))
    assert image.format == "PNG" and image.size == (width, height)
    rgb = image.convert("RGB")
    assert rgb.getpixel((4, 4)) == (0x1B, 0x87, 0x3F)  # the green block
    body = rgb.crop((20, height // 2, width - 20, height - 20)) if width < height else \
        rgb.crop((width * 2 // 5 + 10, 20, width - 10, height - 20))
    assert min(body.convert("L").getextrema()) < 80  # dark text drawn in the body
    (tmp_path / f"card-{width}x{height}.png").write_bytes(render_png(view, width=width, height=height))


def test_issue19_png_without_fonts_names_the_package(es_signer: SoftwareSigner, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(png_module, "_FONT_DIRS", (str(tmp_path),))
    monkeypatch.delenv("HEALTHPASS_CJK_FONT_DIR", raising=False)
    view = build_view(verified(es_signer, sample()), now=NOW)
    with pytest.raises(png_module.FontsMissingError, match="install the Debian package fonts-noto-cjk"):
        render_png(view)


def test_issue19_write_card_by_extension(es_signer: SoftwareSigner, tmp_path: Path) -> None:
    view = build_view(verified(es_signer, sample()), now=NOW, language="en")
    assert write_card(view, tmp_path / "c.svg").read_text("utf-8").startswith("<svg")
    assert write_card(view, tmp_path / "c.PNG").read_bytes().startswith(b"\x89PNG")
    assert "Z*** S**" in write_card(view, tmp_path / "c.html").read_text("utf-8")
    with pytest.raises(ValueError, match=r"\.svg, \.png, \.html"):
        write_card(view, tmp_path / "c.jpg")
    with pytest.raises(ValueError, match="card sides"):
        card_bytes(view, ".svg", width=10, height=10)
