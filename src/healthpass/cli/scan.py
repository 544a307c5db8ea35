"""``healthpass scan``: the code text found in an image."""

from __future__ import annotations

import argparse
import sys

from healthpass.cli._io import EXIT_FAILED, EXIT_OK, _read, _say
from healthpass.cli._parser import _Parser

__all__ = ["_scan_arguments", "_scan_or_fail", "cmd_scan"]


def _scan_or_fail(path: str) -> str | None:
    from healthpass import qr
    from healthpass.errors import ScanError

    try:
        return qr.scan(_read(path, "image", limit=qr.MAX_IMAGE_BYTES))
    except ScanError as err:
        _say(f"healthpass: {err}", file=sys.stderr)
        return None


def cmd_scan(args: argparse.Namespace) -> int:
    text = _scan_or_fail(args.image)
    if text is None:
        return EXIT_FAILED
    _say(text)
    return EXIT_OK


def _scan_arguments(p: _Parser) -> None:
    p.add_argument("image", metavar="IMAGE", help="a PNG, JPEG, ... image holding a QR code")
    p.set_defaults(func=cmd_scan)
