"""QR codes: capacity planning, rendering (PNG, SVG) and reading codes back from images.

A code is text such as ``HC1:`` or ``HP1:`` followed by base45, so every character belongs to the QR
alphanumeric set (``0-9 A-Z space $ % * + - . / :``) and the whole text is encoded as a single
alphanumeric segment (11 bits per 2 characters, against 8 bits per character in byte mode).

Writing uses segno, which lets us pin the mode and the exact error-correction level (``boost_error`` is
off) and reports the version and mode it chose, which :func:`render_png` checks against the planner.
Reading uses zxing-cpp (far more robust than zbar on tiny, skewed and perspective-distorted images, and
faster: ``docs/qr.md``), then retries on sharpened, upscaled and smoothed copies, and pyzbar as a fallback
when it is installed (alone when zxing-cpp is not).  Only QR symbols are read: a 1D barcode printed next
to the code is never returned.  See ``docs/qr.md`` for the measurements.

Reading is hostile-input hardened (issue 14 item 7, docs/qr.md): only PNG, JPEG, GIF, BMP and WebP, recognised
from their magic bytes with Pillow pinned to that one format, within a pixel budget checked from the header;
every failure is ``ScanError(IMAGE_INVALID)``.

This is the only module of the library that imports QR or imaging libraries (segno, zxingcpp, pyzbar,
PIL), and it imports them lazily inside the functions that need them, so ``import healthpass`` stays
light.  Install them with the ``qr`` extra.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias

from healthpass.errors import ErrorCode, ScanError, Stage
from healthpass.model.qr_capacity import (
    DEFAULT_MAX_QR_VERSION,
    MAX_QR_VERSION,
    QR_ALPHANUMERIC_CAPACITY,
    ErrorCorrection,
)
from healthpass.model.qr_capacity import check_capacity as _check_capacity

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

__all__ = [
    "ALPHANUMERIC_CAPACITY",
    "ALPHANUMERIC_CHARS",
    "DEFAULT_BORDER",
    "DEFAULT_MAX_VERSION",
    "DEFAULT_SCALE",
    "FREE_IMAGE_PIXELS",
    "MAX_IMAGE_BYTES",
    "MAX_IMAGE_PIXELS",
    "MAX_IMAGE_SIDE",
    "MAX_JPEG_SCANS",
    "MAX_PIXELS_PER_BYTE",
    "MAX_READ_PIXELS",
    "RETRY_SECONDS",
    "ErrorCorrection",
    "ImageFormat",
    "ImageInput",
    "QRInfo",
    "Reader",
    "check_capacity",
    "detect_format",
    "is_alphanumeric",
    "max_length",
    "plan",
    "qr_info",
    "render_png",
    "render_svg",
    "scan",
    "scan_all",
    "write_png",
    "write_svg",
]


#: The QR alphanumeric character set (ISO/IEC 18004, table 5).
ALPHANUMERIC_CHARS: Final[frozenset[str]] = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")

#: Largest QR version a code may need unless the caller chooses otherwise (the model's one constant).
DEFAULT_MAX_VERSION: Final = DEFAULT_MAX_QR_VERSION
#: Default quiet zone, in modules (the minimum ISO/IEC 18004 requires).
DEFAULT_BORDER: Final = 4
#: Default module size of PNG output, in pixels (0.5 mm at 300 dpi).
DEFAULT_SCALE: Final = 6
#: Images decoding to more pixels than this are refused, from their header, before any pixel is decoded
#: (a JPEG is decoded at 1/2, 1/4 or 1/8 scale when that fits): a 4000x4000 camera frame.
MAX_IMAGE_PIXELS: Final = 16_000_000
#: Images wider or taller than this are refused (no camera or screen makes them; the readers take at most
#: 65,535 a side, and a 2x upscale of a 1 x 55,808 GIF went past it: found by fuzz_image).
MAX_IMAGE_SIDE: Final = 16_384
#: Pixels an image file may declare whatever its size: a version-40 code at 10 px/module, a phone screenshot.
FREE_IMAGE_PIXELS: Final = 4_000_000
#: Beyond :data:`FREE_IMAGE_PIXELS`, pixels declared per byte of file at most.  Photographs hold far fewer
#: (a 12 MP JPEG is over a megabyte); a larger ratio is a decompression bomb: a 5 kB PNG of 40 Mpx.
MAX_PIXELS_PER_BYTE: Final = 400
#: The QR readers see at most this many pixels a pass: larger images are area-averaged down to fit (a 12 MP
#: photo by about 6: the code must then span a quarter of its width).  The readers' worst case grows faster
#: than the pixel count (a picture tiled with thousands of finder patterns keeps zxing-cpp busy 10 s at 4 Mpx,
#: 0.1 s at this size).
MAX_READ_PIXELS: Final = 360_000
#: Retries (sharpened, upscaled, smoothed copies; the second reader) start only within this many seconds of
#: the start of the first pass, so a picture without a code costs at most about two passes.
RETRY_SECONDS: Final = 0.25
#: Image files larger than this are refused before they are read whole.
MAX_IMAGE_BYTES: Final = 32 * 1024 * 1024
#: A JPEG with more scans (SOS markers) than this is refused: each scan of a progressive JPEG is another pass
#: over the whole image, so a small file of many tiny scans costs many full decodes.
MAX_JPEG_SCANS: Final = 100


class ImageFormat(StrEnum):
    """The raster formats :func:`scan` reads (what cameras and screenshots produce): the allow-list.

    The format is recognised from the file's first bytes, and Pillow is told to open that format only: no
    other Pillow plugin (EPS and PostScript run Ghostscript; DDS, BLP, SPIDER, TIFF, ICO, PSD, ...) ever sees
    the input."""

    PNG = "PNG"
    JPEG = "JPEG"
    GIF = "GIF"
    BMP = "BMP"
    WEBP = "WEBP"

#: Maximum number of alphanumeric characters per QR version (index 0 is version 1), per
#: error-correction level: ISO/IEC 18004:2015 table 7 (one table for the library, in the model layer).
ALPHANUMERIC_CAPACITY: Final[Mapping[ErrorCorrection, tuple[int, ...]]] = QR_ALPHANUMERIC_CAPACITY

_MIN_VERSION: Final = 1
_MAX_QR_VERSION: Final = MAX_QR_VERSION

#: What :func:`scan` accepts: a path, the bytes of an image file, or a PIL image.
ImageInput: TypeAlias = "str | os.PathLike[str] | bytes | bytearray | memoryview | PILImage"
#: Which decoder :func:`scan` uses.
Reader: TypeAlias = Literal["auto", "zxing", "pyzbar"]


@dataclass(frozen=True, slots=True)
class QRInfo:
    """What a rendered symbol is: version (1-40), error correction, encoding mode, width in modules."""

    version: int
    error_correction: ErrorCorrection
    mode: str
    modules: int

    def size(self, border: int = DEFAULT_BORDER) -> int:
        """Width (= height) of the symbol in modules, quiet zone included."""
        return self.modules + 2 * border


# --------------------------------------------------------------------------------------------- planning


def _ec(value: ErrorCorrection | str) -> ErrorCorrection:
    if isinstance(value, ErrorCorrection):
        return value
    if isinstance(value, str):
        try:
            return ErrorCorrection(value.upper())
        except ValueError:
            pass
    raise ValueError(f"error correction must be one of L, M, Q, H, not {value!r}")


def is_alphanumeric(text: str) -> bool:
    """Whether every character of ``text`` is in the QR alphanumeric set."""
    return ALPHANUMERIC_CHARS.issuperset(text)


def _check_text(text: str) -> None:
    if not isinstance(text, str):
        raise TypeError(f"the code must be a str, not {type(text).__name__}")
    if not text:
        raise ValueError("the code is empty")
    if not is_alphanumeric(text):
        bad = sorted({c for c in text if c not in ALPHANUMERIC_CHARS})
        shown = "".join(bad[:10])
        raise ValueError(
            f"the code holds {len(bad)} character(s) outside the QR alphanumeric set "
            f"(0-9 A-Z space $%*+-./:): {shown!r}"
        )


def _length(text_or_length: str | int) -> int:
    if isinstance(text_or_length, str):
        _check_text(text_or_length)
        return len(text_or_length)
    if isinstance(text_or_length, bool) or not isinstance(text_or_length, int):
        raise TypeError(f"expected a str or an int length, not {type(text_or_length).__name__}")
    if text_or_length < 0:
        raise ValueError(f"a length cannot be negative: {text_or_length}")
    return text_or_length


def _check_version(version: int, what: str) -> None:
    if isinstance(version, bool) or not isinstance(version, int):
        raise TypeError(f"{what} must be an int, not {type(version).__name__}")
    if not _MIN_VERSION <= version <= _MAX_QR_VERSION:
        raise ValueError(f"{what} must be between 1 and 40, not {version}")


def max_length(version: int, error_correction: ErrorCorrection | str = ErrorCorrection.M) -> int:
    """Maximum number of alphanumeric characters a QR symbol of ``version`` holds at that EC level."""
    _check_version(version, "version")
    return ALPHANUMERIC_CAPACITY[_ec(error_correction)][version - 1]


def plan(text_or_length: str | int, *, error_correction: ErrorCorrection | str = ErrorCorrection.M) -> int:
    """The smallest QR version (1-40) holding ``text_or_length`` characters in alphanumeric mode.

    Raises :class:`ValueError` for a text with non-alphanumeric characters and
    :class:`~healthpass.errors.IssueError` (``too_large_for_qr``) beyond the capacity of version 40.
    """
    return check_capacity(text_or_length, max_version=_MAX_QR_VERSION, error_correction=error_correction)


def check_capacity(
    text_or_length: str | int,
    *,
    max_version: int = DEFAULT_MAX_VERSION,
    error_correction: ErrorCorrection | str = ErrorCorrection.M,
) -> int:
    """Return the QR version the code needs; raise ``IssueError(TOO_LARGE_FOR_QR)`` above ``max_version``
    (see :func:`healthpass.model.qr_capacity.check_capacity`, which the issuer's planner also uses)."""
    _check_version(max_version, "max_version")
    return _check_capacity(_length(text_or_length), max_version=max_version, error_correction=_ec(error_correction))


# --------------------------------------------------------------------------------------------- writing


def _make(text: str, ec: ErrorCorrection, max_version: int) -> tuple[Any, QRInfo]:
    """Build the segno symbol, after checking the text, the capacity and what segno actually made."""
    _check_text(text)
    version = check_capacity(text, max_version=max_version, error_correction=ec)
    import segno

    qr = segno.make_qr(text, error=ec.value, mode="alphanumeric", boost_error=False)
    info = QRInfo(
        version=int(qr.version),
        error_correction=ErrorCorrection(str(qr.error).upper()),
        mode=str(qr.mode),
        modules=int(qr.symbol_size(scale=1, border=0)[0]),
    )
    if info.mode != "alphanumeric" or info.error_correction is not ec or info.version != version:
        raise RuntimeError(  # pragma: no cover - would be a segno regression
            f"QR writer produced {info}, expected version {version}, alphanumeric mode, EC {ec.value}"
        )
    return qr, info


def qr_info(
    text: str,
    error_correction: ErrorCorrection | str = ErrorCorrection.M,
    *,
    max_version: int = _MAX_QR_VERSION,
) -> QRInfo:
    """Describe the symbol :func:`render_png` / :func:`render_svg` produce for ``text``."""
    return _make(text, _ec(error_correction), max_version)[1]


def _check_border(border: int) -> None:
    if isinstance(border, bool) or not isinstance(border, int) or border < 0:
        raise ValueError(f"border must be a non-negative number of modules, not {border!r}")


def render_png(
    text: str,
    *,
    error_correction: ErrorCorrection | str = ErrorCorrection.M,
    scale: int = DEFAULT_SCALE,
    border: int = DEFAULT_BORDER,
    max_version: int = DEFAULT_MAX_VERSION,
) -> bytes:
    """Render ``text`` as a black-on-white 1-bit PNG, ``scale`` pixels per module.

    Raises :class:`ValueError` for non-alphanumeric text and ``IssueError(TOO_LARGE_FOR_QR)`` when the
    code needs a version above ``max_version``.
    """
    return _png(text, _ec(error_correction), scale, border, max_version)[0]


def _png(text: str, ec: ErrorCorrection, scale: int, border: int, max_version: int) -> tuple[bytes, QRInfo]:
    if isinstance(scale, bool) or not isinstance(scale, int) or scale < 1:
        raise ValueError(f"scale must be a positive whole number of pixels per module, not {scale!r}")
    _check_border(border)
    qr, info = _make(text, ec, max_version)
    out = io.BytesIO()
    qr.save(out, kind="png", scale=scale, border=border)
    return out.getvalue(), info


def render_svg(
    text: str,
    *,
    error_correction: ErrorCorrection | str = ErrorCorrection.M,
    scale: float = 1,
    border: int = DEFAULT_BORDER,
    unit: str | None = None,
    title: str | None = None,
    max_version: int = DEFAULT_MAX_VERSION,
) -> str:
    """Render ``text`` as an SVG document: one path, ``scale`` user units (or ``unit``, e.g. "mm") per module.

    ``render_svg(code, scale=0.5, unit="mm")`` gives a symbol with 0.5 mm modules for print.
    """
    return _svg(text, _ec(error_correction), scale, border, unit, title, max_version)[0]


def _svg(
    text: str, ec: ErrorCorrection, scale: float, border: int, unit: str | None, title: str | None, max_version: int
) -> tuple[str, QRInfo]:
    if isinstance(scale, bool) or not isinstance(scale, int | float) or not scale > 0:
        raise ValueError(f"scale must be a positive number, not {scale!r}")
    if unit is not None and unit not in {"mm", "cm", "in", "pt", "pc", "px"}:
        raise ValueError(f"unit must be one of mm, cm, in, pt, pc, px, not {unit!r}")
    _check_border(border)
    qr, info = _make(text, ec, max_version)
    out = io.BytesIO()
    qr.save(out, kind="svg", scale=scale, border=border, unit=unit, title=title, xmldecl=True, nl=False)
    return out.getvalue().decode("utf-8"), info


def write_png(
    text: str,
    path: str | os.PathLike[str],
    *,
    error_correction: ErrorCorrection | str = ErrorCorrection.M,
    scale: int = DEFAULT_SCALE,
    border: int = DEFAULT_BORDER,
    max_version: int = DEFAULT_MAX_VERSION,
) -> QRInfo:
    """Write :func:`render_png` output to ``path``; return what was written."""
    data, info = _png(text, _ec(error_correction), scale, border, max_version)
    Path(path).write_bytes(data)
    return info


def write_svg(
    text: str,
    path: str | os.PathLike[str],
    *,
    error_correction: ErrorCorrection | str = ErrorCorrection.M,
    scale: float = 1,
    border: int = DEFAULT_BORDER,
    unit: str | None = None,
    max_version: int = DEFAULT_MAX_VERSION,
) -> QRInfo:
    """Write :func:`render_svg` output to ``path``; return what was written."""
    data, info = _svg(text, _ec(error_correction), scale, border, unit, None, max_version)
    Path(path).write_text(data, encoding="utf-8")
    return info


# --------------------------------------------------------------------------------------------- reading


def _invalid(message: str) -> ScanError:
    return ScanError(ErrorCode.IMAGE_INVALID, Stage.SCAN, message)


def detect_format(data: bytes | bytearray | memoryview) -> ImageFormat | None:
    """The allowed raster format ``data`` starts as (its magic bytes), or None."""
    head = bytes(data[:12])
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return ImageFormat.PNG
    if head.startswith(b"\xff\xd8\xff"):
        return ImageFormat.JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return ImageFormat.GIF
    if head.startswith(b"BM"):
        return ImageFormat.BMP
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return ImageFormat.WEBP
    return None


def _read_file(path: str | os.PathLike[str]) -> bytes:
    try:
        with Path(path).open("rb") as handle:
            data = handle.read(MAX_IMAGE_BYTES + 1)
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise _invalid(f"the image file cannot be read ({reason})") from None
    return data


def _open(image: ImageInput) -> PILImage:
    """Decode the input to a fully loaded greyscale PIL image (mode ``L``), refusing anything but the allowed
    formats, files over :data:`MAX_IMAGE_BYTES` and images over the pixel budget (checked from the header)."""
    from PIL import Image

    if isinstance(image, Image.Image):  # opened by the caller, in a format the caller chose
        _check_pixels(image.width, image.height, None)
        try:
            return _prepare(image)
        except Exception as exc:  # e.g. a lazily opened file that turns out corrupt
            raise _invalid(f"the image data cannot be decoded ({type(exc).__name__})") from None
    if isinstance(image, bytes | bytearray | memoryview):
        data = bytes(image)
    elif isinstance(image, str | os.PathLike):
        data = _read_file(image)
    else:
        raise TypeError(f"scan() takes a path, the bytes of an image file or a PIL image, not {type(image).__name__}")
    if len(data) > MAX_IMAGE_BYTES:
        raise _invalid(f"the image file is larger than {MAX_IMAGE_BYTES} bytes")
    kind = detect_format(data)
    if kind is None:
        allowed = ", ".join(f.value for f in ImageFormat)
        raise _invalid(f"the input is not an image in an allowed format ({allowed})")
    if kind is ImageFormat.JPEG and data.count(b"\xff\xda") > MAX_JPEG_SCANS:
        raise _invalid(f"the JPEG has more than {MAX_JPEG_SCANS} scans")
    if kind is ImageFormat.BMP and _bmp_palette(data) > _MAX_PALETTE:
        raise _invalid(f"the BMP declares a palette of more than {_MAX_PALETTE} colours")
    try:
        img = Image.open(io.BytesIO(data), formats=[kind.value])  # reads the header only
        _check_pixels(img.width, img.height, len(data))
        if kind is ImageFormat.JPEG:
            _jpeg_draft(img)
        _check_pixels(img.width, img.height, None)
        return _prepare(img)
    except ScanError:
        raise
    except Exception as exc:  # any failure of an image decoder on hostile input is image_invalid
        # (Pillow raises OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, ... on corrupt data)
        raise _invalid(f"the input is not a decodable {kind.value} image ({type(exc).__name__})") from None


#: Colours a palette may hold (8 bits a pixel); Pillow reads BMP palettes of up to 65,536 and walks them.
_MAX_PALETTE: Final = 256


def _bmp_palette(data: bytes) -> int:
    """The colours a BMP's info header declares (``biClrUsed``), 0 when it has none or is too short."""
    if len(data) < 50 or int.from_bytes(data[14:18], "little") < 40:  # OS/2 core headers have no such field
        return 0
    return int.from_bytes(data[46:50], "little")


def _check_pixels(width: int, height: int, file_size: int | None) -> None:
    """The pixel budget: at most :data:`MAX_IMAGE_PIXELS`, and for a file, at most
    :data:`MAX_PIXELS_PER_BYTE` per byte beyond :data:`FREE_IMAGE_PIXELS`."""
    if width < 1 or height < 1:
        raise _invalid("the image is empty")
    if max(width, height) > MAX_IMAGE_SIDE:
        raise _invalid(f"the image is {width}x{height} pixels, wider or taller than {MAX_IMAGE_SIDE}")
    pixels = width * height
    if file_size is not None:
        allowed = max(FREE_IMAGE_PIXELS, file_size * MAX_PIXELS_PER_BYTE)
        if pixels > allowed:
            raise _invalid(f"the image declares {width}x{height} pixels in {file_size} bytes, above the limit of "
                           f"{allowed} pixels for a file of that size (decompression bomb)")
        if pixels > MAX_IMAGE_PIXELS:
            return  # a JPEG may still be decoded at a reduced scale: checked again after the draft
    if pixels > MAX_IMAGE_PIXELS:
        raise _invalid(f"the image is {width}x{height} pixels, above the limit of {MAX_IMAGE_PIXELS}")


def _jpeg_draft(img: PILImage) -> None:
    """Have the JPEG decoder produce greyscale directly, at the largest of scales 1, 1/2, 1/4, 1/8 that fits
    :data:`MAX_IMAGE_PIXELS` (libjpeg scales while decoding, at a fraction of the cost)."""
    width, height = img.size
    for scale in (1, 2, 4, 8):
        if (width // scale) * (height // scale) <= MAX_IMAGE_PIXELS:
            img.draft("L", (max(1, width // scale), max(1, height // scale)))
            return


def _prepare(img: PILImage) -> PILImage:
    img.load()
    _check_pixels(img.width, img.height, None)  # a decoder may settle the size only while loading
    return _greyscale(img)


def _greyscale(img: PILImage) -> PILImage:
    from PIL import Image

    if img.mode == "L":
        return img
    if img.mode in {"I", "F"} or img.mode.startswith("I;"):  # 16/32-bit greyscale: stretch to 0-255
        wide = img if img.mode in {"I", "F"} else img.convert("I")
        low, high = wide.getextrema()
        if not isinstance(low, int | float) or not isinstance(high, int | float) or high <= low:
            return Image.new("L", img.size, 255)
        factor = 255 / (high - low)
        return wide.point(lambda v: (v - low) * factor).convert("L")
    has_alpha = img.mode in {"RGBA", "LA", "PA", "RGBa", "La"} or "transparency" in img.info
    if has_alpha:
        # A transparent background must read as white, not as the (often black) colour under it.
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("L")
    return img.convert("L")


#: Images up to this many pixels are also tried upscaled 2x when nothing is found at first.
_UPSCALE_MAX_PIXELS: Final = MAX_READ_PIXELS // 4


def _fit_for_reading(grey: PILImage) -> PILImage:
    """``grey``, area-averaged down by a whole factor when it has more than :data:`MAX_READ_PIXELS`."""
    pixels = grey.width * grey.height
    if pixels <= MAX_READ_PIXELS:
        return grey
    factor = 2
    while pixels > MAX_READ_PIXELS * factor * factor:
        factor += 1
    return grey.reduce(factor)


def _variants(grey: PILImage, retry: bool) -> Iterator[PILImage]:
    """The image as given, then retries that rescue hard pictures (tried only while nothing is found).

    Measured on 50 generated codes (benchmarks/qr_degradation.py, docs/qr.md): sharpening rescues blur of
    sigma 0.5 module, contrast down to grey 135 on 150 and some glare; a 2x bicubic upscale (of images up
    to a quarter of :data:`MAX_READ_PIXELS`) rescues modules of 1.2 px; a 3x3 box blur rescues heavy
    sensor noise.
    """
    from PIL import Image, ImageFilter

    yield grey
    if not retry:
        return
    yield grey.filter(ImageFilter.UnsharpMask(radius=2, percent=200, threshold=0))
    if grey.width * grey.height <= _UPSCALE_MAX_PIXELS:
        yield grey.resize((grey.width * 2, grey.height * 2), Image.Resampling.BICUBIC)
    yield grey.filter(ImageFilter.BoxBlur(1))


def _zxing_reader() -> Callable[[PILImage], list[str]] | None:
    try:
        import zxingcpp
    except ImportError:
        return None
    qr_only: Any = zxingcpp.BarcodeFormat.QRCode  # QR Code (model 1, 2), Micro QR, rMQR; no 1D symbology

    def read(img: PILImage) -> list[str]:
        return [r.text for r in zxingcpp.read_barcodes(img, formats=qr_only) if r.valid]

    return read


def _pyzbar_reader() -> Callable[[PILImage], list[str]] | None:
    try:
        from pyzbar import pyzbar
    except (ImportError, OSError):  # the package, or the libzbar0 shared library, is missing
        return None

    def read(img: PILImage) -> list[str]:
        out = []
        for symbol in pyzbar.decode(img, symbols=[pyzbar.ZBarSymbol.QRCODE]):
            data: bytes = symbol.data
            try:
                out.append(data.decode("utf-8"))
            except UnicodeDecodeError:
                out.append(data.decode("latin-1"))
        return out

    return read


def _missing(name: str) -> ImportError:
    hint = "pip install 'healthpass[qr]'" if name == "zxing-cpp" else "pip install pyzbar and apt install libzbar0"
    return ImportError(f"reading QR codes with {name} needs it installed: {hint}")


def _readers(reader: Reader, retry: bool) -> list[Callable[[PILImage], list[str]]]:
    if reader not in {"auto", "zxing", "pyzbar"}:
        raise ValueError(f"reader must be 'auto', 'zxing' or 'pyzbar', not {reader!r}")
    if reader == "zxing":
        zxing = _zxing_reader()
        if zxing is None:
            raise _missing("zxing-cpp")
        return [zxing]
    if reader == "pyzbar":
        zbar = _pyzbar_reader()
        if zbar is None:
            raise _missing("pyzbar")
        return [zbar]
    zxing = _zxing_reader()
    if zxing is not None and not retry:
        return [zxing]
    found = [r for r in (zxing, _pyzbar_reader()) if r is not None]
    if not found:
        raise _missing("zxing-cpp")
    return found[:1] if not retry else found


def scan_all(image: ImageInput, *, reader: Reader = "auto", retry: bool = True) -> list[str]:
    """Texts of all QR symbols found in ``image`` (in the reader's order, duplicates removed).

    ``reader`` is ``"zxing"`` (zxing-cpp), ``"pyzbar"`` (zbar) or ``"auto"``: zxing-cpp, and pyzbar too
    when it is installed and zxing-cpp found nothing (it reads some pictures zxing-cpp misses, such as
    codes half washed out by glare).  When nothing is found and ``retry`` is true, the image is tried
    again sharpened, upscaled 2x (small images) and smoothed: this reads blurred, tiny, faint and noisy
    pictures, but a picture without a code then costs several decoder passes; retries start only within
    :data:`RETRY_SECONDS` of the first pass.  ``retry=False`` makes one pass with one reader, for a live
    camera loop that will get another frame anyway.  Images over :data:`MAX_READ_PIXELS` are read
    area-averaged down to that size.

    Only PNG, JPEG, GIF, BMP and WebP files are read (:class:`ImageFormat`, recognised from their first
    bytes), within a pixel budget checked from their header (:data:`MAX_IMAGE_PIXELS`,
    :data:`FREE_IMAGE_PIXELS`, :data:`MAX_PIXELS_PER_BYTE`) and :data:`MAX_IMAGE_BYTES`.

    Returns an empty list when no QR symbol is found.  Raises ``ScanError(IMAGE_INVALID)`` when the input
    is not a decodable image in an allowed format, exceeds a budget or its path cannot be read,
    :class:`ImportError` when the reader is not installed, :class:`TypeError` for another type of input.
    """
    readers = _readers(reader, retry)
    grey = _fit_for_reading(_open(image))
    deadline: float | None = None
    for variant in _variants(grey, retry):
        for read in readers:
            if deadline is None:
                deadline = time.monotonic() + RETRY_SECONDS
            elif time.monotonic() > deadline:
                return []
            try:
                texts = read(variant)
            except (ValueError, RuntimeError) as exc:  # a reader refusing the picture (never seen since the
                # side limit; kept so that a reader's own limits can only ever give image_invalid)
                raise _invalid(f"the image cannot be read ({type(exc).__name__})") from None
            if texts:
                return list(dict.fromkeys(texts))
    return []


def scan(image: ImageInput, *, reader: Reader = "auto", retry: bool = True) -> str:
    """Text of the QR code in ``image`` (a path, the bytes of a PNG/JPEG/... file, or a PIL image).

    When several QR symbols are present the first one found is returned (see :func:`scan_all`).
    Raises ``ScanError(NO_CODE_FOUND)`` when no QR symbol can be read (1D barcodes are ignored) and
    ``ScanError(IMAGE_INVALID)`` when the input cannot be decoded as an image.
    """
    texts = scan_all(image, reader=reader, retry=retry)
    if not texts:
        raise ScanError(ErrorCode.NO_CODE_FOUND, Stage.SCAN, "no QR code could be read in the image")
    return texts[0]
