"""``healthpass transcode``: re-issue a verified foreign code as a local HP1: code."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from healthpass.cli._io import _MAX_LINE, EXIT_FAILED, EXIT_OK, _dumps, _InputFailure, _say, parse_at
from healthpass.cli._parser import _Parser
from healthpass.cli._signers import _add_pkcs11_options
from healthpass.cli._verifier import _status_options, _trust_options, build_verifier
from healthpass.cli.mint import _issuer, _mint_registry
from healthpass.cli.verify import _report_failure, _result_json

__all__ = ["_transcode_arguments", "cmd_transcode"]


def cmd_transcode(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from healthpass import StatusAllocator
    from healthpass.errors import HealthPassError, IssueError

    at = parse_at(args.at) if args.at else datetime.now(UTC)  # the instant of the whole operation
    issuer = _issuer(args)
    registry = _mint_registry(args)
    try:
        verifier = build_verifier(args)
    except _InputFailure as failure:
        return _report_failure(args, failure.error)
    text = sys.stdin.read(_MAX_LINE * 4).strip() if args.text == "-" else args.text

    def allocate(ctis: Sequence[bytes]) -> Any:  # called only once the source and the new code pass their checks
        with registry:
            return registry.allocate(args.status_uri, ctis)

    status: Any = None
    if registry is not None:
        try:
            status = StatusAllocator(args.status_uri, allocate)
        except ValueError:  # no list URI: no list of the registry either (RegistryError once the source passed)
            status = lambda cti: allocate([cti])[0]  # noqa: E731

    try:
        # the source is verified once, inside transcode_verified(), which returns it beside the new code for
        # --json and the summary line
        transcoded = issuer.transcode_verified(text, verifier=verifier, now=at, profile=args.profile,
                                               max_depth=args.max_depth,
                                               status=status)
    except IssueError as err:
        _say(f"healthpass: {err}", file=sys.stderr)
        if args.json:
            from healthpass.verify import VerificationResult

            print(_dumps(VerificationResult(None, err).to_json()))
        return EXIT_FAILED
    except HealthPassError as err:  # the source did not verify: its own error
        return _report_failure(args, err)
    code, source = transcoded.code, transcoded.source
    if args.png:
        from healthpass import qr

        qr.write_png(code, args.png)
    if args.json:
        print(_dumps({"code": code, "source": _result_json(source)}))
    else:
        origin = source.transcoded_from
        _say(f"transcoded {source.format.value.rstrip(':')} code of {source.issuer} (kid {source.kid.hex()})"
             + (f", itself transcoded from {origin.format.value} {origin.origin}" if origin else ""),
             file=sys.stderr)
        _say(code)
    return EXIT_OK


def _transcode_arguments(p: _Parser) -> None:
    p.add_argument("--key", metavar="KEY.pem", help="the local issuer's private key")
    p.add_argument("--password-env", metavar="VAR", help="the variable holding the key's password")
    p.add_argument("--issuer", required=True, metavar="REGION", help="the local issuing region")
    p.add_argument("--valid-for", default="72h", metavar="DURATION",
                   help="the new code's validity, never beyond the source's expiry (default: %(default)s)")
    p.add_argument("--max-depth", type=int, default=1, metavar="N",
                   help="refuse sources that are already transcoded N times (default: %(default)s)")
    p.add_argument("--registry", metavar="DB", help="status registry (SQLite file or postgresql://...) that "
                   "allocates the new code's status-list index (with --status-uri)")
    p.add_argument("--status-uri", metavar="URI", help="the status list the new code is entered in")
    _trust_options(p)
    _status_options(p)  # a source with a status reference is refused unless its list is held and says valid
    p.add_argument("--at", metavar="ISO8601", help="the instant of the whole operation (default: now)")
    p.add_argument("--json", action="store_true", help='print {"code", "source"} (or the error object)')
    p.add_argument("--png", metavar="FILE", help="also write the new code's QR as a PNG")
    p.add_argument("text", metavar="TEXT", help="the foreign code's text ('-': read it from stdin)")
    _add_pkcs11_options(p)
    p.set_defaults(func=cmd_transcode)
