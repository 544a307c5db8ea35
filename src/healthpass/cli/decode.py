"""``healthpass decode``: a code's content WITHOUT verifying it (debugging only)."""

from __future__ import annotations

import argparse
import sys

from healthpass.cli._io import _MAX_LINE, EXIT_FAILED, EXIT_OK, _dumps, _say
from healthpass.cli._parser import _Parser

__all__ = ["_decode_arguments", "cmd_decode"]


def cmd_decode(args: argparse.Namespace) -> int:
    from healthpass.errors import HealthPassError
    from healthpass.unverified import decode_unverified

    text = sys.stdin.read(_MAX_LINE * 4) if args.text == "-" else args.text
    try:
        content = decode_unverified(text)
    except HealthPassError as err:
        _say(f"UNVERIFIED: cannot decode: {err}", file=sys.stderr)
        return EXIT_FAILED
    print("UNVERIFIED (signature, issuer and validity NOT checked) " + _dumps(content))
    return EXIT_OK


def _decode_arguments(p: _Parser) -> None:
    p.add_argument("text", metavar="TEXT", help="the code's text, or '-' to read it from standard input")
    p.set_defaults(func=cmd_decode)
