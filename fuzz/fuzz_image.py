#!/usr/bin/env python3
"""Fuzz target: image input (``qr.scan_all``) on the allowed formats. The first byte picks the format whose
magic bytes head the rest (mod 5: PNG, JPEG, GIF, BMP, WebP), so every input reaches a Pillow plugin of the
allow-list; the second picks the reading mode (one pass, or the retries). Seeds: small valid QR images in
each format and the hostile files of ``tests/_hostile_images.py``.

Invariants: only ``ScanError`` (``image_invalid`` or ``no_code_found``) escapes; an input under 10 kB is
scanned or refused within 8 s under instrumentation (the budget is 1 s uninstrumented, measured by
``benchmarks/hostile_input.py``; atheris' coverage hooks slow Pillow's Python plugins several fold); libFuzzer's
``-rss_limit_mb`` bounds memory."""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Iterator

from _common import ROOT, instrumented, run

with instrumented("PIL"):  # Pillow's format plugins are Python: coverage feedback inside them
    from PIL import BmpImagePlugin, GifImagePlugin, JpegImagePlugin, PngImagePlugin, WebPImagePlugin  # noqa: F401

    from healthpass import qr
    from healthpass.errors import ErrorCode, ScanError

MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF89a", b"BM", b"RIFF")
SMALL = 10_000
SECONDS = 8.0  # instrumented Pillow runs many times slower than plain: benchmarks measure the real time


def _image(data: bytes) -> bytes:
    magic = MAGIC[data[0] % len(MAGIC)]
    body = data[2:]
    if magic == b"RIFF":  # RIFF <size> WEBP
        return magic + body[:4].ljust(4, b"\x00") + b"WEBP" + body[4:]
    return magic + body


def test_one_input(data: bytes) -> None:
    if len(data) < 2:
        return
    image = _image(data)
    started = time.monotonic()
    try:
        qr.scan_all(image, retry=bool(data[1] & 1))
    except ScanError as err:
        assert err.code in (ErrorCode.IMAGE_INVALID, ErrorCode.NO_CODE_FOUND), err.code
    elapsed = time.monotonic() - started
    assert len(image) >= SMALL or elapsed < SECONDS, f"{len(image)} bytes took {elapsed:.2f} s"


def _unwrap(image: bytes) -> bytes:
    """A file as a fuzz input: the format selector, the mode, then the file without its magic bytes."""
    for index, magic in enumerate(MAGIC):
        if image.startswith(magic):
            if magic == b"RIFF":
                return bytes([index, 1]) + image[4:8] + image[12:]
            return bytes([index, 1]) + image[len(magic):]
    return b""


def seeds() -> Iterator[bytes]:
    from PIL import Image

    sys.path.insert(0, str(ROOT))
    from tests._hostile_images import HOSTILE_IMAGES

    png = qr.render_png("HC1:6BFOXN*TS0BI$ZD4N9:9S6RCVN5+O30K3/XIV0W23NTDE", scale=2)
    symbol = Image.open(io.BytesIO(png))
    for fmt in ("PNG", "JPEG", "GIF", "BMP", "WEBP"):
        out = io.BytesIO()
        symbol.convert("L").save(out, fmt)
        yield _unwrap(out.getvalue())
    for make, _ in HOSTILE_IMAGES.values():
        data = make()
        if len(data) < 30_000 and (seed := _unwrap(data)):
            yield seed


if __name__ == "__main__":
    run(test_one_input, seeds)
