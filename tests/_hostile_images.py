"""Small hostile image files (each under 10 kB) for the image-input guarantees of issue 14 item 7.

Used by ``tests/test_issue14_dos.py`` (each is refused with ``image_invalid`` or scanned, within the memory
budget), ``benchmarks/hostile_images.py`` (time and peak memory per file) and ``fuzz/fuzz_image.py`` (seeds).
Everything is built here from bytes or with Pillow: deterministic, nothing downloaded.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable

from PIL import Image

__all__ = ["HOSTILE_IMAGES", "png_chunk"]


def png_chunk(kind: bytes, data: bytes, *, crc: int | None = None) -> bytes:
    checksum = zlib.crc32(kind + data) if crc is None else crc
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", checksum)


_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _png(width: int, height: int, *, depth: int = 1, colour: int = 3, rows: bytes | None = None,
         extra: bytes = b"", interlace: int = 0) -> bytes:
    """A PNG of ``width`` x ``height`` whose rows are all zero (filter 0) unless ``rows`` is given."""
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, interlace)
    if rows is None:
        channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour]
        row = b"\x00" + b"\x00" * ((width * depth * channels + 7) // 8)
        compressor = zlib.compressobj(9)
        body = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    else:
        body = zlib.compress(rows, 9)
    plte = png_chunk(b"PLTE", b"\x00\x00\x00\xff\xff\xff") if colour == 3 else b""
    return (_PNG_MAGIC + png_chunk(b"IHDR", ihdr) + extra + plte + png_chunk(b"IDAT", body)
            + png_chunk(b"IEND", b""))


def png_palette_bomb() -> bytes:
    """The issue's 5 kB one-bit palette PNG of about 40 megapixels."""
    return _png(6400, 6250)


def png_16bit_rgba() -> bytes:
    """16-bit RGBA: 8 bytes a pixel in the file's raw data, 1000x1000."""
    return _png(1000, 1000, depth=16, colour=6)


def png_at_free_budget() -> bytes:
    """A 1-bit PNG right at the pixel budget any file may declare (2000x2000): decoded and scanned."""
    return _png(2000, 2000)


def _finder_tiles(side: int, module: int) -> bytes:
    """``side`` x ``side`` pixels tiled with QR finder patterns (7x7 modules and a 1-module gap) of ``module``
    pixels a module: thousands of candidate symbols, which the QR readers pair up (zxing-cpp took 10 s on
    2000x2000 with 1-pixel modules)."""
    pattern = ["11111110", "10000010", "10111010", "10111010", "10111010", "10000010", "11111110", "00000000"]
    rows = bytearray()
    stride = (side + 7) // 8
    for y in range(side):
        bits = "".join(bit * module for bit in pattern[(y // module) % 8])
        line = (bits * (side // len(bits) + 1))[:side].ljust(stride * 8, "0")
        rows += b"\x00" + int(line, 2).to_bytes(stride, "big")
    return _png(side, side, rows=bytes(rows))


def png_finder_tiles() -> bytes:
    return _finder_tiles(2000, 1)


def png_finder_tiles_read_size() -> bytes:
    """Finder tiles with 1-pixel modules at the largest size the readers see unscaled (600x600)."""
    return _finder_tiles(600, 1)


def png_finder_tiles_after_downscale() -> bytes:
    """2000x2000 with 4-pixel modules: 1-pixel modules once area-averaged down for the reader."""
    return _finder_tiles(2000, 4)


def png_bad_crc() -> bytes:
    data = _png(64, 64)
    return data[:29] + b"\x00\x00\x00\x00" + data[33:]  # the IHDR CRC zeroed


def png_truncated() -> bytes:
    return png_finder_tiles()[:600]


def png_text_bomb() -> bytes:
    """zTXt chunks that inflate to 1 MB each (Pillow's per-chunk limit) in front of a small image."""
    text = png_chunk(b"zTXt", b"k\x00\x00" + zlib.compress(b"\x00" * 1_000_000, 9))
    return _png(32, 32, extra=text * 8)


def png_iccp_bomb() -> bytes:
    icc = png_chunk(b"iCCP", b"icc\x00\x00" + zlib.compress(b"\x00" * 1_000_000, 9))
    return _png(32, 32, extra=icc)


def png_idat_trailing() -> bytes:
    """An IDAT stream with far more data than the image holds (a 1x1 image, 4 MB of rows)."""
    return _png(1, 1, depth=8, colour=0, rows=b"\x00" * 4_000_000)


def apng_many_frames() -> bytes:
    frames = [Image.new("1", (8, 8), i % 2) for i in range(400)]
    buf = io.BytesIO()
    frames[0].save(buf, "PNG", save_all=True, append_images=frames[1:], duration=1)
    return buf.getvalue()


def _gif(width: int, height: int, frames: int = 1, frame_size: tuple[int, int] = (1, 1)) -> bytes:
    """A GIF89a with a ``width`` x ``height`` screen and ``frames`` tiny frames (LZW, 2 colours)."""
    out = bytearray(b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff")
    fw, fh = frame_size
    for _ in range(frames):
        out += b"\x2c" + struct.pack("<HHHHB", 0, 0, fw, fh, 0)
        out += b"\x02\x02\x44\x01\x00"  # min code size 2; one sub-block: clear, 0, end
    out += b"\x3b"
    return bytes(out)


def gif_screen_bomb() -> bytes:
    return _gif(65535, 65535)


def gif_many_frames() -> bytes:
    return _gif(1000, 1000, frames=900)


def gif_tall_strip() -> bytes:
    """A 1 x 55,808 GIF: few pixels, but upscaled for a retry it outgrew the reader's 65,535 (fuzz_image)."""
    return _gif(1, 55808)


def gif_lzw_bomb() -> bytes:
    """One frame of 1000x1000 pixels of one colour: LZW packs it into a few kB."""
    buf = io.BytesIO()
    Image.new("P", (1000, 1000), 0).save(buf, "GIF")
    return buf.getvalue()


def _bmp(width: int, height: int, *, bpp: int = 8, compression: int = 0, colours: int = 2,
         pixels: bytes = b"") -> bytes:
    palette = b"\x00\x00\x00\x00\xff\xff\xff\x00" + b"\x00" * max(0, 4 * min(colours, 256) - 8)
    header_size = 14 + 40 + len(palette)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, bpp, compression, len(pixels), 2835, 2835, colours, 0)
    file_header = b"BM" + struct.pack("<IHHI", header_size + len(pixels), 0, 0, header_size)
    return file_header + info + palette + pixels


def bmp_dimension_bomb() -> bytes:
    return _bmp(30000, 30000, compression=1, pixels=b"\x00\x01")  # RLE8: end of bitmap at once


def bmp_rle_at_budget() -> bytes:
    """An RLE8 bitmap of 2000x2000 that ends at once (the rest is background): decoded and scanned."""
    return _bmp(2000, 2000, compression=1, pixels=b"\x00\x01")


def bmp_rle_bomb() -> bytes:
    """An RLE8 bitmap of 8000x8000 (64 Mpx, under Pillow's own bomb limit) in 64 bytes."""
    return _bmp(8000, 8000, compression=1, pixels=b"\x00\x01")


def bmp_huge_palette() -> bytes:
    return _bmp(16, 16, colours=0x7FFFFFFF, pixels=b"\x00" * 256)


def bmp_palette_65536() -> bytes:
    """An 8-bit BMP declaring 65,535 palette colours (found by fuzz_image: Pillow walks the whole palette)."""
    return _bmp(16, 16, colours=0xFFFF, pixels=b"\x00" * 256)


def bmp_negative_height() -> bytes:
    return _bmp(16, -(2**31) + 1, pixels=b"\x00" * 256)


def jpeg_dimension_bomb() -> bytes:
    """A baseline JPEG whose SOF says 65500x65500, with a few bytes of entropy-coded data."""
    buf = io.BytesIO()
    Image.new("L", (16, 16), 255).save(buf, "JPEG", quality=50)
    data = bytearray(buf.getvalue())
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", 65500, 65500)
    return bytes(data)


def jpeg_at_budget() -> bytes:
    """A 1000x1000 greyscale JPEG of one grey level: decoded and scanned."""
    buf = io.BytesIO()
    Image.new("L", (1000, 1000), 200).save(buf, "JPEG", quality=10)
    return buf.getvalue()


def jpeg_many_scans() -> bytes:
    """A progressive JPEG whose last scan is repeated until the file has 400 scans."""
    buf = io.BytesIO()
    Image.new("L", (64, 64), 128).save(buf, "JPEG", quality=50, progressive=True)
    data = buf.getvalue()
    last = data.rindex(b"\xff\xda")
    scan = data[last:-2]
    return data[:-2] + scan * 400 + b"\xff\xd9"


def jpeg_truncated() -> bytes:
    return jpeg_at_budget()[:700]


def webp_canvas_bomb() -> bytes:
    """A lossless WebP of 3000x3000 in a few hundred bytes."""
    buf = io.BytesIO()
    Image.new("L", (3000, 3000), 255).save(buf, "WEBP", lossless=True)
    return buf.getvalue()


def webp_animated() -> bytes:
    frames = [Image.new("L", (64, 64), 255 * (i % 2)) for i in range(200)]
    buf = io.BytesIO()
    frames[0].save(buf, "WEBP", save_all=True, append_images=frames[1:], lossless=True, duration=1)
    return buf.getvalue()


def webp_truncated() -> bytes:
    buf = io.BytesIO()
    Image.new("L", (300, 300), 255).save(buf, "WEBP", quality=50)
    return buf.getvalue()[:40]


# Formats outside the allow-list (each must be refused before any Pillow plugin sees it)
FOREIGN: dict[str, bytes] = {
    "eps": b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n",
    "ps": b"%!PS\n{} loop\n",
    "pdf": b"%PDF-1.4\n%%EOF\n",
    "dds": b"DDS " + struct.pack("<I", 124) + b"\x00" * 120,
    "blp": b"BLP1" + b"\x00" * 40,
    "spider": struct.pack(">27f", *([1.0] * 27)),
    "tiff": b"II*\x00\x08\x00\x00\x00" + b"\x00" * 16,
    "ico": b"\x00\x00\x01\x00\x01\x00" + b"\x00" * 16,
    "psd": b"8BPS\x00\x01" + b"\x00" * 30,
    "svg": b"<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'/>",
    "xbm": b"#define a_width 10\n#define a_height 10\nstatic char a_bits[] = {0};\n",
    "tga": b"\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x10\x00\x10\x00\x18\x00",
}

#: name -> (maker, whether the file must be refused with image_invalid; the others may also be decoded and
#: scanned, finding no code)
HOSTILE_IMAGES: dict[str, tuple[Callable[[], bytes], bool]] = {
    "png_palette_bomb_40mpx": (png_palette_bomb, True),
    "png_16bit_rgba": (png_16bit_rgba, False),
    "png_at_free_budget": (png_at_free_budget, False),
    "png_finder_tiles": (png_finder_tiles, False),
    "png_finder_tiles_read_size": (png_finder_tiles_read_size, False),
    "png_finder_tiles_after_downscale": (png_finder_tiles_after_downscale, False),
    "png_bad_crc": (png_bad_crc, True),
    "png_truncated": (png_truncated, True),
    "png_text_bomb": (png_text_bomb, False),
    "png_iccp_bomb": (png_iccp_bomb, False),
    "png_idat_trailing": (png_idat_trailing, False),
    "apng_many_frames": (apng_many_frames, False),
    "gif_screen_bomb": (gif_screen_bomb, True),
    "gif_many_frames": (gif_many_frames, False),
    "gif_lzw_bomb": (gif_lzw_bomb, False),
    "gif_tall_strip": (gif_tall_strip, True),
    "bmp_dimension_bomb": (bmp_dimension_bomb, True),
    "bmp_rle_at_budget": (bmp_rle_at_budget, False),
    "bmp_rle_bomb": (bmp_rle_bomb, True),
    "bmp_huge_palette": (bmp_huge_palette, True),
    "bmp_palette_65536": (bmp_palette_65536, True),
    "bmp_negative_height": (bmp_negative_height, True),
    "jpeg_dimension_bomb": (jpeg_dimension_bomb, True),
    "jpeg_at_budget": (jpeg_at_budget, False),
    "jpeg_many_scans": (jpeg_many_scans, True),
    "jpeg_truncated": (jpeg_truncated, True),
    "webp_canvas_bomb": (webp_canvas_bomb, True),
    "webp_animated": (webp_animated, False),
    "webp_truncated": (webp_truncated, True),
    **{f"foreign_{name}": ((lambda data=data: data), True) for name, data in FOREIGN.items()},
}
