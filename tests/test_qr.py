"""QR rendering, capacity planning and scanning (``healthpass.qr``).

Round trips through PNG and SVG at every error-correction level, the capacity table against segno at
every boundary, refusals (too large, not alphanumeric, not an image, no QR, 1D barcode only), every input
form, camera-like degradations, and every picture of the EU DCC test data (``<shared>/vectors/dgc-testdata``).
"""

from __future__ import annotations

import base64
import io
import itertools
import random
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

segno = pytest.importorskip("segno")
PIL_Image = pytest.importorskip("PIL.Image")
zxingcpp = pytest.importorskip("zxingcpp")

from PIL import Image, ImageChops, ImageFilter  # noqa: E402

from healthpass import qr  # noqa: E402
from healthpass.errors import ErrorCode, IssueError, ScanError, Stage  # noqa: E402
from healthpass.qr import ErrorCorrection  # noqa: E402

from ._shared import find_shared_dir, shared_dir  # noqa: E402
from .eu_dcc_harness import load_cases  # noqa: E402

B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
SVG_NS = "{http://www.w3.org/2000/svg}"
EC_LEVELS = list(ErrorCorrection)


def code_of_length(length: int, seed: int = 0) -> str:
    rng = random.Random(seed * 10_007 + length)
    return "HP1:" + "".join(rng.choice(B45) for _ in range(length - 4))


def pyzbar_available() -> bool:
    try:
        from pyzbar import pyzbar  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


needs_pyzbar = pytest.mark.skipif(not pyzbar_available(), reason="pyzbar or libzbar0 not installed")


def zxing_symbol(png: bytes) -> Any:
    """What zxing-cpp reads in the PNG, independently of healthpass.qr: one QR symbol."""
    grey = Image.open(io.BytesIO(png)).convert("L")
    found = zxingcpp.read_barcodes(grey, formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(found) == 1
    return found[0]


# ------------------------------------------------------------------------------------------- start-up


def test_import_healthpass_does_not_import_qr_or_imaging_libraries() -> None:
    probe = (
        "import sys, healthpass, healthpass.qr\n"
        "heavy = [m for m in ('segno', 'qrcode', 'zxingcpp', 'pyzbar', 'PIL', 'numpy') if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_public_api() -> None:
    for name in qr.__all__:
        assert hasattr(qr, name), name
    assert {"plan", "check_capacity", "max_length", "render_png", "render_svg", "scan", "scan_all"} <= set(qr.__all__)


# ------------------------------------------------------------------------------------ capacity planning


def test_capacity_table_is_immutable_and_complete() -> None:
    table = qr.ALPHANUMERIC_CAPACITY
    assert set(table) == set(ErrorCorrection)
    with pytest.raises(TypeError):
        table[ErrorCorrection.L] = ()  # type: ignore[index]
    for ec, caps in table.items():
        assert isinstance(caps, tuple)
        assert len(caps) == 40
        assert all(a < b for a, b in itertools.pairwise(caps)), ec
    # stronger error correction always holds less
    for version in range(1, 41):
        row = [qr.max_length(version, ec) for ec in "LMQH"]
        assert row == sorted(row, reverse=True)
        assert len(set(row)) == 4
    # well-known corners of ISO/IEC 18004 table 7
    assert table[ErrorCorrection.L][0] == 25
    assert table[ErrorCorrection.H][0] == 10
    assert table[ErrorCorrection.L][39] == 4296
    assert table[ErrorCorrection.H][39] == 1852


@pytest.mark.parametrize("ec", EC_LEVELS)
def test_capacity_table_matches_segno_at_every_boundary(ec: ErrorCorrection) -> None:
    for version, capacity in enumerate(qr.ALPHANUMERIC_CAPACITY[ec], start=1):
        full = code_of_length(capacity)
        # mask=0 skips the mask penalty search: the version choice does not depend on it
        symbol = segno.make_qr(full, error=ec.value, mode="alphanumeric", boost_error=False, mask=0)
        assert (symbol.version, symbol.mode, symbol.error) == (version, "alphanumeric", ec.value)
        with pytest.raises(segno.DataOverflowError):
            segno.make_qr(full + "A", error=ec.value, mode="alphanumeric", boost_error=False, version=version)
        assert qr.plan(capacity, error_correction=ec) == version
        assert qr.plan(full, error_correction=ec) == version
        if version < 40:
            assert qr.plan(capacity + 1, error_correction=ec) == version + 1


def test_plan() -> None:
    assert qr.plan(0) == 1
    assert qr.plan("HC1:ABC") == 1
    assert qr.plan(600) == 15
    assert qr.plan(601) == 16
    assert qr.plan(600, error_correction="q") == 19
    assert qr.plan(600, error_correction=ErrorCorrection.L) == 13
    assert qr.max_length(15) == 600
    assert qr.max_length(15, "H") == 321


@pytest.mark.parametrize(
    ("call", "exc"),
    [
        (lambda: qr.plan("hc1:abc"), ValueError),
        (lambda: qr.plan("HC1:É"), ValueError),
        (lambda: qr.plan(-1), ValueError),
        (lambda: qr.plan(True), TypeError),
        (lambda: qr.plan(3.0), TypeError),  # type: ignore[arg-type]
        (lambda: qr.plan(10, error_correction="X"), ValueError),
        (lambda: qr.max_length(0), ValueError),
        (lambda: qr.max_length(41), ValueError),
        (lambda: qr.check_capacity(10, max_version=0), ValueError),
        (lambda: qr.check_capacity(10, max_version=41), ValueError),
    ],
)
def test_planner_rejects_bad_arguments(call: Any, exc: type[Exception]) -> None:
    with pytest.raises(exc):
        call()


def test_plan_beyond_version_40() -> None:
    with pytest.raises(IssueError) as info:
        qr.plan(4297, error_correction="L")
    assert info.value.code is ErrorCode.TOO_LARGE_FOR_QR
    assert info.value.stage is Stage.ISSUE
    assert "version 40" in info.value.message


def test_check_capacity_default_maximum_is_version_15() -> None:
    assert qr.DEFAULT_MAX_VERSION == 15
    assert qr.check_capacity(600) == 15
    assert qr.check_capacity(code_of_length(600)) == 15
    with pytest.raises(IssueError) as info:
        qr.check_capacity(601)
    err = info.value
    assert err.code is ErrorCode.TOO_LARGE_FOR_QR
    assert err.stage is Stage.ISSUE
    assert "601 characters" in err.message
    assert "version 16" in err.message
    assert "maximum version 15" in err.message
    assert "600" in err.message


def test_check_capacity_other_levels_and_limits() -> None:
    assert qr.check_capacity(321, error_correction="H") == 15
    with pytest.raises(IssueError):
        qr.check_capacity(322, error_correction="H")
    assert qr.check_capacity(322, error_correction="H", max_version=16) == 16
    assert qr.check_capacity(900, max_version=40) == 19
    with pytest.raises(IssueError, match="maximum version 10"):
        qr.check_capacity(312, max_version=10)


# -------------------------------------------------------------------------------------------- rendering


@pytest.mark.parametrize("ec", EC_LEVELS)
@pytest.mark.parametrize("length", [50, 200, 450, 600, 900])
def test_png_round_trip(length: int, ec: ErrorCorrection) -> None:
    text = code_of_length(length, seed=1)
    png = qr.render_png(text, error_correction=ec, scale=3, max_version=40)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    info = qr.qr_info(text, ec)
    assert info.mode == "alphanumeric"
    assert info.error_correction is ec
    assert info.version == qr.plan(text, error_correction=ec)
    assert info.modules == 17 + 4 * info.version
    # what the picture really holds, read by zxing-cpp directly
    symbol = zxing_symbol(png)
    assert symbol.text == text
    assert symbol.ec_level == ec.value
    assert int(symbol.extra["Version"]) == info.version
    assert qr.scan(png) == text


def test_png_geometry_scale_and_border() -> None:
    text = code_of_length(300)
    info = qr.qr_info(text)
    for scale, border in [(1, 4), (4, 4), (6, 0), (2, 10)]:
        png = qr.render_png(text, scale=scale, border=border)
        with Image.open(io.BytesIO(png)) as img:
            assert img.size == ((info.modules + 2 * border) * scale,) * 2
            assert info.size(border) * scale == img.width
            # quiet zone is white
            if border:
                assert img.convert("L").getpixel((0, 0)) == 255
    assert qr.scan(qr.render_png(text, scale=1)) == text


def test_default_png() -> None:
    text = code_of_length(400)
    png = qr.render_png(text)
    with Image.open(io.BytesIO(png)) as img:
        assert img.width == qr.qr_info(text).size(qr.DEFAULT_BORDER) * qr.DEFAULT_SCALE
    assert qr.scan(png) == text


@pytest.mark.parametrize("text", ["", "hc1:abc", "HC1:ABC\n", "HC1:É", "HC1:ABC#", "HC1:ABC_", "HC1:ABC,"], ids=repr)
def test_rendering_rejects_non_alphanumeric_text(text: str) -> None:
    for render in (qr.render_png, qr.render_svg):
        with pytest.raises(ValueError, match=r"alphanumeric|empty"):
            render(text)  # type: ignore[operator]
    with pytest.raises(ValueError):
        qr.qr_info(text)


def test_rendering_rejects_bad_options() -> None:
    text = code_of_length(100)
    with pytest.raises(TypeError):
        qr.render_png(b"HC1:ABC")  # type: ignore[arg-type]
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError):
            qr.render_png(text, scale=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        qr.render_png(text, border=-1)
    with pytest.raises(ValueError):
        qr.render_svg(text, scale=0)
    with pytest.raises(ValueError):
        qr.render_svg(text, unit="furlong")
    with pytest.raises(ValueError):
        qr.render_png(text, error_correction="Z")


def test_rendering_refuses_codes_above_the_maximum_version() -> None:
    text = code_of_length(601)
    with pytest.raises(IssueError) as info:
        qr.render_png(text)
    assert info.value.code is ErrorCode.TOO_LARGE_FOR_QR
    with pytest.raises(IssueError):
        qr.render_svg(text)
    with pytest.raises(IssueError):
        qr.render_png(code_of_length(100), error_correction="H", max_version=3)
    assert qr.qr_info(text).version == 16  # describing is not printing
    assert qr.scan(qr.render_png(text, max_version=16, scale=2)) == text


def svg_to_image(svg: str) -> Image.Image:
    """Rasterise segno's SVG (one path of horizontal strokes, 1 unit per module) without a renderer."""
    root = ET.fromstring(svg)
    size = int(float(root.attrib["width"]))
    paths = root.findall(f"{SVG_NS}path")
    assert len(paths) == 1
    img = Image.new("L", (size, size), 255)
    x = y = 0.0
    for cmd, a, b in re.findall(r"([MmHh])\s*(-?[\d.]+)(?:[ ,](-?[\d.]+))?", paths[0].attrib["d"]):
        if cmd == "M":
            x, y = float(a), float(b)
        elif cmd == "m":
            x, y = x + float(a), y + float(b)
        elif cmd in "hH":
            end = x + float(a) if cmd == "h" else float(a)
            for col in range(round(min(x, end)), round(max(x, end))):
                img.putpixel((col, int(y)), 0)  # the stroke of width 1 is centred on y + 0.5
            x = end
    return img


@pytest.mark.parametrize("ec", EC_LEVELS)
def test_svg_is_well_formed_and_holds_the_code(ec: ErrorCorrection) -> None:
    text = code_of_length(500, seed=2)
    svg = qr.render_svg(text, error_correction=ec, max_version=40)
    assert svg.startswith("<?xml")
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG_NS}svg"
    info = qr.qr_info(text, ec)
    assert float(root.attrib["width"]) == float(root.attrib["height"]) == info.size(4)
    picture = svg_to_image(svg).resize((info.size(4) * 4,) * 2, Image.Resampling.NEAREST)
    assert qr.scan(picture) == text
    # same modules as the PNG
    png = Image.open(io.BytesIO(qr.render_png(text, error_correction=ec, scale=1, max_version=40)))
    assert ImageChops.difference(png.convert("L"), svg_to_image(svg)).getbbox() is None


def test_svg_units_scale_and_title() -> None:
    text = code_of_length(450)
    modules = qr.qr_info(text).size(4)
    svg = qr.render_svg(text, scale=0.5, unit="mm", title="Health pass")
    root = ET.fromstring(svg)
    assert root.attrib["width"] == f"{modules * 0.5:g}mm"
    assert root.attrib["viewBox"] == f"0 0 {modules * 0.5:g} {modules * 0.5:g}"
    assert root.find(f"{SVG_NS}title") is not None
    svg0 = ET.fromstring(qr.render_svg(text, border=0))
    assert float(svg0.attrib["width"]) == modules - 8


def test_write_png_and_svg(tmp_path: Path) -> None:
    text = code_of_length(350)
    info = qr.write_png(text, tmp_path / "code.png", error_correction="Q", scale=3)
    assert info == qr.qr_info(text, "Q")
    assert qr.scan(tmp_path / "code.png") == text
    assert qr.scan(str(tmp_path / "code.png")) == text
    assert qr.write_svg(text, tmp_path / "code.svg", unit="mm") == qr.qr_info(text)
    assert ET.parse(tmp_path / "code.svg").getroot().tag == f"{SVG_NS}svg"


def test_qr_info_is_frozen() -> None:
    info = qr.qr_info("HC1:ABC")
    assert info == qr.QRInfo(1, ErrorCorrection.M, "alphanumeric", 21)
    with pytest.raises(AttributeError):
        info.version = 2  # type: ignore[misc]


# ---------------------------------------------------------------------------------------------- reading


@pytest.fixture(scope="module")
def code() -> str:
    return code_of_length(600, seed=3)


@pytest.fixture(scope="module")
def png(code: str) -> bytes:
    return qr.render_png(code, scale=4)


def test_scan_input_forms(code: str, png: bytes, tmp_path: Path) -> None:
    path = tmp_path / "c.png"
    path.write_bytes(png)
    img = Image.open(io.BytesIO(png))
    for source in (path, str(path), png, bytearray(png), memoryview(png), img):
        assert qr.scan(source) == code
    for mode in ("1", "L", "RGB", "P", "CMYK", "LA", "I;16"):
        assert qr.scan(img.convert(mode)) == code, mode
    sixteen_bit = img.convert("I").point(lambda v: v * 257).convert("I;16")  # 0..65535
    assert sixteen_bit.getextrema() == (0, 65535)
    assert qr.scan(sixteen_bit) == code
    assert qr.scan(img.convert("F")) == code
    assert img.mode == "1"  # the caller's image is not modified


def test_scan_jpeg(code: str, png: bytes) -> None:
    for quality in (90, 40):
        buf = io.BytesIO()
        Image.open(io.BytesIO(png)).convert("RGB").save(buf, "JPEG", quality=quality)
        assert buf.getvalue()[:2] == b"\xff\xd8"
        assert qr.scan(buf.getvalue()) == code


def test_scan_transparent_background(code: str, png: bytes) -> None:
    """Black modules on a transparent background (alpha only): transparent must read as white."""
    grey = Image.open(io.BytesIO(png)).convert("L")
    rgba = Image.new("RGBA", grey.size, (0, 0, 0, 0))
    rgba.putalpha(ImageChops.invert(grey))
    out = io.BytesIO()
    rgba.save(out, "PNG")
    assert qr.scan(out.getvalue()) == code


@pytest.mark.parametrize("reader", ["auto", "zxing", pytest.param("pyzbar", marks=needs_pyzbar)])
def test_readers(reader: Any, code: str, png: bytes) -> None:
    assert qr.scan(png, reader=reader) == code
    assert qr.scan_all(png, reader=reader) == [code]


def test_unknown_reader(png: bytes) -> None:
    with pytest.raises(ValueError, match="reader"):
        qr.scan(png, reader="opencv")  # type: ignore[arg-type]


@needs_pyzbar
def test_auto_falls_back_to_pyzbar(monkeypatch: pytest.MonkeyPatch, code: str, png: bytes) -> None:
    monkeypatch.setitem(sys.modules, "zxingcpp", None)  # import zxingcpp now raises ImportError
    assert qr.scan(png) == code
    with pytest.raises(ImportError, match="zxing-cpp"):
        qr.scan(png, reader="zxing")


def test_no_reader_installed(monkeypatch: pytest.MonkeyPatch, png: bytes) -> None:
    monkeypatch.setitem(sys.modules, "zxingcpp", None)
    monkeypatch.setitem(sys.modules, "pyzbar", None)
    monkeypatch.setitem(sys.modules, "pyzbar.pyzbar", None)
    with pytest.raises(ImportError, match="healthpass\\[qr\\]"):
        qr.scan(png)
    with pytest.raises(ImportError, match="pyzbar"):
        qr.scan(png, reader="pyzbar")


@pytest.mark.parametrize("reader", ["auto", pytest.param("pyzbar", marks=needs_pyzbar)])
def test_no_code_found(reader: Any) -> None:
    blank = Image.new("L", (400, 300), 255)
    noise = Image.effect_noise((300, 300), 60)
    for img in (blank, noise, Image.new("L", (1, 1), 0)):
        with pytest.raises(ScanError) as info:
            qr.scan(img, reader=reader)
        assert info.value.code is ErrorCode.NO_CODE_FOUND
        assert info.value.stage is Stage.SCAN
        assert qr.scan_all(img, reader=reader) == []


def code128_image(content: str) -> Image.Image:
    barcode = zxingcpp.create_barcode(content, zxingcpp.BarcodeFormat.Code128)
    bitmap = memoryview(barcode.to_image(scale=3))
    height, width = bitmap.shape or (0, 0)
    img = Image.frombuffer("L", (width, height), bitmap.tobytes(), "raw", "L", 0, 1)
    return img.resize((img.width, 120), Image.Resampling.NEAREST)  # bars 120 px high


@pytest.mark.parametrize("reader", ["auto", pytest.param("pyzbar", marks=needs_pyzbar)])
def test_1d_barcode_is_never_read_as_a_code(reader: Any) -> None:
    content = "HC1:6BFOXN TSMAHN-H"
    img = code128_image(content)
    # the picture really holds a readable Code 128 symbol
    found = zxingcpp.read_barcodes(img)
    assert [(b.format, b.text) for b in found] == [(zxingcpp.BarcodeFormat.Code128, content)]
    with pytest.raises(ScanError) as info:
        qr.scan(img, reader=reader)
    assert info.value.code is ErrorCode.NO_CODE_FOUND


@pytest.mark.parametrize("reader", ["auto", pytest.param("pyzbar", marks=needs_pyzbar)])
def test_qr_next_to_a_1d_barcode_and_two_codes(reader: Any, code: str, png: bytes) -> None:
    symbol = Image.open(io.BytesIO(png)).convert("L")
    other = "HC1:" + "9" * 60
    second = Image.open(io.BytesIO(qr.render_png(other, scale=4))).convert("L")
    bars = code128_image("HC1:NOTTHIS")
    sheet = Image.new("L", (symbol.width + second.width + 40, symbol.height + bars.height + 40), 255)
    sheet.paste(symbol, (0, 0))
    sheet.paste(bars, (0, symbol.height + 20))
    assert qr.scan_all(sheet, reader=reader) == [code]
    sheet.paste(second, (symbol.width + 40, 0))
    assert sorted(qr.scan_all(sheet, reader=reader)) == sorted([code, other])
    assert qr.scan(sheet, reader=reader) in {code, other}


@pytest.mark.parametrize(
    "data",
    [b"", b"garbage", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, b"<svg xmlns='http://www.w3.org/2000/svg'/>"],
    ids=["empty", "garbage", "png-signature-only", "svg"],
)
def test_image_invalid(data: bytes) -> None:
    with pytest.raises(ScanError) as info:
        qr.scan(data)
    assert info.value.code is ErrorCode.IMAGE_INVALID
    assert info.value.stage is Stage.SCAN


def test_truncated_png_is_invalid(png: bytes) -> None:
    with pytest.raises(ScanError) as info:
        qr.scan(png[: len(png) // 2])
    assert info.value.code is ErrorCode.IMAGE_INVALID


def test_paths(tmp_path: Path) -> None:
    text_file = tmp_path / "notes.txt"
    text_file.write_text("HC1:ABC", encoding="utf-8")
    with pytest.raises(ScanError) as info:
        qr.scan(text_file)
    assert info.value.code is ErrorCode.IMAGE_INVALID
    with pytest.raises(ScanError) as info:  # as the README promises (issue 15 item 7)
        qr.scan(tmp_path / "missing.png")
    assert info.value.code is ErrorCode.IMAGE_INVALID
    with pytest.raises(TypeError):
        qr.scan(12345)  # type: ignore[arg-type]


def test_oversized_images_are_refused_before_decoding() -> None:
    huge = Image.new("1", (8000, 6000), 1)  # 48 megapixels
    buf = io.BytesIO()
    huge.save(buf, "PNG")
    for source in (huge, buf.getvalue()):
        with pytest.raises(ScanError) as info:
            qr.scan(source)
        assert info.value.code is ErrorCode.IMAGE_INVALID
        assert "limit" in info.value.message
    assert qr.MAX_IMAGE_PIXELS == 16_000_000


# ------------------------------------------------------------------------------ camera-like degradations


def _render(text: str, ppm: float) -> Image.Image:
    big = Image.open(io.BytesIO(qr.render_png(text, scale=8))).convert("L")
    size = round(big.width / 8 * ppm)
    return big.resize((size, size), Image.Resampling.BOX)


def _keystone(img: Image.Image, top: float) -> Image.Image:
    w, h = img.size
    spread = w * (1 / top - 1) / 2  # the input quad wider at the top: its top edge shrinks to `top`
    canvas = Image.new("L", (w + w // 2, h + h // 4), 255)
    canvas.paste(img, (w // 4, h // 8))
    cw, ch = canvas.size
    quad = (-spread, 0, 0, ch, cw, ch, cw + spread, 0)  # NW, SW, SE, NE corners sampled
    return canvas.transform(canvas.size, Image.Transform.QUAD, quad, Image.Resampling.BILINEAR, fillcolor=255)


def _noise(img: Image.Image, sd: float) -> Image.Image:
    return ImageChops.add(img, Image.effect_noise(img.size, sd), scale=1.0, offset=-128)


def _jpeg(img: Image.Image, quality: int) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


DEGRADATIONS: dict[str, Any] = {
    "rotate 10": lambda t: _render(t, 4).rotate(10, Image.Resampling.BILINEAR, expand=True, fillcolor=255),
    "rotate 45": lambda t: _render(t, 4).rotate(45, Image.Resampling.BILINEAR, expand=True, fillcolor=255),
    "rotate 173": lambda t: _render(t, 4).rotate(173, Image.Resampling.BILINEAR, expand=True, fillcolor=255),
    "keystone 80%": lambda t: _keystone(_render(t, 4), 0.8),
    "blur 0.33 module": lambda t: _render(t, 4).filter(ImageFilter.GaussianBlur(0.33 * 4)),
    "noise sd 40": lambda t: _noise(_render(t, 4), 40),
    "jpeg 20": lambda t: _jpeg(_render(t, 4), 20),
    "1.5 px/module": lambda t: _render(t, 1.5),
    "low contrast": lambda t: _render(t, 4).point(lambda v: 100 + v * 60 // 255),
}


@pytest.mark.parametrize("name", list(DEGRADATIONS))
def test_reads_camera_like_degradations(name: str) -> None:
    """The targets of docs/qr.md on two version-15 codes (the benchmark measures 50 per row)."""
    for seed in (4, 5):
        text = code_of_length(600, seed=seed)
        assert qr.scan(DEGRADATIONS[name](text)) == text


def test_retries_rescue_a_blurred_picture_and_can_be_turned_off() -> None:
    text = code_of_length(600, seed=6)
    blurred = _render(text, 4).filter(ImageFilter.GaussianBlur(0.5 * 4))  # sigma 0.5 module
    assert qr.scan(blurred) == text  # read after sharpening
    assert qr.scan_all(blurred, retry=False) == []  # a single zxing-cpp pass does not read it
    with pytest.raises(ScanError) as info:
        qr.scan(blurred, retry=False)
    assert info.value.code is ErrorCode.NO_CODE_FOUND


# ---------------------------------------------------------------------------------------- EU test data


def _eu_root() -> Path:
    root = shared_dir() / "vectors" / "dgc-testdata"
    if not root.is_dir():
        pytest.skip(f"EU DCC test data not found under {root}")
    return root


def _key(stem: str) -> str:
    stem = stem.lower().replace("-", "_")
    return stem.removesuffix("_raw")


def _eu_cases(root: Path) -> list[tuple[str, dict[str, Any], list[tuple[str, bytes]]]]:
    """(name, document, pictures) for each test JSON: the embedded 2DCODE, else the matching PNG files."""
    pngs: dict[Path, dict[str, Path]] = {}
    for png in root.rglob("*.png"):
        pngs.setdefault(png.parent, {})[_key(png.stem)] = png
    cases = []
    for case in load_cases(root):
        path, doc = case.path, case.doc
        pictures = []
        if "2DCODE" in doc:
            pictures.append(("2DCODE", base64.b64decode(doc["2DCODE"])))
            cases.append((str(path.relative_to(root)), doc, pictures))
            continue
        # No embedded picture (FR, IE): the PNG file beside the JSON files.  Only then: where both exist
        # they may differ (ES/png/210x.png hold re-signed certificates, not the JSON's PREFIX).
        for folder in (path.parent.parent / "png", path.parent.parent.parent / "png"):
            for key in (_key(path.stem), _key(path.stem) + "_qr"):  # IE: 1.json -> png/1_qr.png
                if key in pngs.get(folder, {}):
                    png = pngs[folder][key]
                    pictures.append((str(png.relative_to(root)), png.read_bytes()))
        cases.append((str(path.relative_to(root)), doc, pictures))
    return cases


@pytest.mark.skipif(find_shared_dir() is None, reason="HEALTHPASS_SHARED not found")
def test_eu_pictures_decode_to_prefix() -> None:
    """Every picture whose EXPECTEDPICTUREDECODE is true decodes to the file's PREFIX, exactly."""
    root = _eu_root()
    checked = 0
    failures = []
    expected_false = 0
    for name, doc, pictures in _eu_cases(root):
        expected = doc["EXPECTEDRESULTS"].get("EXPECTEDPICTUREDECODE")
        if expected is None:
            continue
        for source, data in pictures:
            try:
                text: str | None = qr.scan(data)
            except ScanError:
                text = None
            if expected:
                checked += 1
                if text != doc["PREFIX"]:
                    failures.append(f"{name} ({source}): {text!r:.40}")
            else:
                expected_false += 1
                assert text != doc["PREFIX"], name
    assert failures == []
    assert checked >= 430  # 409 embedded 2DCODE pictures, 25 PNG files for the JSON files without one
    assert expected_false >= 1  # common/Q1: "QR code cannot be read"


@pytest.mark.skipif(find_shared_dir() is None, reason="HEALTHPASS_SHARED not found")
def test_eu_png_files() -> None:
    """Every QR PNG file decodes to an HC1 code; Aztec pictures are not QR and are not read."""
    root = _eu_root()
    outcome: dict[str, list[str]] = {"qr": [], "aztec": [], "invalid": []}
    for png in sorted(root.rglob("*.png")):
        name = str(png.relative_to(root))
        try:
            text = qr.scan(png)
        except ScanError as exc:
            if exc.code is ErrorCode.IMAGE_INVALID:
                outcome["invalid"].append(name)
            else:
                assert "aztec" in png.name, name
                outcome["aztec"].append(name)
            continue
        assert "aztec" not in png.name, name
        assert text.startswith("HC1:"), name
        outcome["qr"].append(name)
    assert len(outcome["qr"]) >= 430  # 432 files
    assert len(outcome["aztec"]) == 4
    assert outcome["invalid"] == ["IE/2DCode/Raw/Test.png"]  # an empty file
