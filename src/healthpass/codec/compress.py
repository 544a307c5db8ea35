"""Bounded zlib (RFC 1950): compression with zlib-ng, inflation with the standard library's zlib.

Decompression never produces more than ``max_size + 1`` bytes, so a zlib bomb is refused after at most that
much work, with ``payload_too_large``; a stream that is truncated, corrupt, or followed by extra bytes is
``decompress_failed``.
"""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING

from healthpass._lazy import LazyModule
from healthpass.errors import DecodeError, ErrorCode, Stage

if TYPE_CHECKING:
    from zlib_ng import zlib_ng
else:  # gain: ~1 ms of verifier start-up (zlib_ng imports gzip); a 10M-entry status list: 2.3 ms to inflate, not 1.1
    zlib_ng = LazyModule("zlib_ng.zlib_ng")

__all__ = ["compress", "decompress"]


def compress(data: bytes) -> bytes:
    """zlib at maximum compression (the issuer side; size matters more than time for a QR code)."""
    return zlib_ng.compress(data, 9)


def decompress(data: bytes, *, max_size: int) -> bytes:
    """Inflate a complete zlib stream of at most ``max_size`` output bytes. Raises DecodeError."""
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, max_size + 1)
    except zlib.error as err:
        raise DecodeError(ErrorCode.DECOMPRESS_FAILED, Stage.DECOMPRESS, "not a valid zlib stream") from err
    if len(out) > max_size:
        raise DecodeError(
            ErrorCode.PAYLOAD_TOO_LARGE, Stage.DECOMPRESS, f"decompressed size exceeds {max_size} bytes"
        )
    if not inflater.eof:
        raise DecodeError(ErrorCode.DECOMPRESS_FAILED, Stage.DECOMPRESS, "zlib stream is truncated")
    if inflater.unused_data:
        raise DecodeError(
            ErrorCode.DECOMPRESS_FAILED, Stage.DECOMPRESS, "bytes follow the end of the zlib stream"
        )
    return out
