"""``healthpass verify``: one code (text, stdin or image; text, JSON or a result card) or a batch."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

from healthpass.cli._io import (
    _MAX_LINE,
    EXIT_FAILED,
    EXIT_OK,
    UsageError,
    _bounded_lines,
    _dumps,
    _executor,
    _InputFailure,
    _lines,
    _open_text,
    _progress,
    _read,
    _say,
    parse_at,
)
from healthpass.cli._parser import _Parser
from healthpass.cli._verifier import _status_options, _trust_options, build_verifier

if TYPE_CHECKING:
    from healthpass.verify import Verifier

__all__ = ["_card_format", "_emit_card", "_human", "_report_failure", "_result_json", "_verify_arguments",
           "_verify_batch", "_verify_lines", "cmd_verify"]


def _result_json(result: Any) -> dict[str, Any]:
    return dict(result.to_json())


def _human(credential: Any) -> str:
    region = credential.issuer_region
    where = f" ({region.province.name_zh} {region.province.name_en})" if region and region.level == 1 else ""
    lines = [
        f"VALID {credential.format.value.rstrip(':')} code issued by {credential.issuer}{where}",
        f"  kid {credential.kid.hex()} ({credential.algorithm.jose_name}), key from {credential.key_source}",
    ]
    if credential.issued_at:
        lines.append(f"  issued {credential.issued_at.isoformat()}, expires "
                     f"{credential.expires_at.isoformat() if credential.expires_at else '-'}")
    origin = credential.transcoded_from
    if origin is not None:
        lines.append(f"  transcoded from a {origin.format.value} code of {origin.origin} (kid {origin.kid.hex()}, "
                     f"issued {origin.issued_at.isoformat()}, expires {origin.expires_at.isoformat()}, "
                     f"depth {origin.depth})")
    status = credential.credential_status
    if status is not None:
        shown = status.value.label if status.value is not None else "unchecked"
        lines.append(f"  status {shown} (list {status.uri}, index {status.idx})")
    for warning in credential.warnings:
        lines.append(f"  warning: {warning}")
    body = credential.to_json().get("credential")
    return _lines(lines) + (f"\n  {_dumps(body)}" if body else "")  # JSON: escaped by _dumps


def cmd_verify(args: argparse.Namespace) -> int:
    from healthpass.errors import HealthPassError

    at = parse_at(args.at) if args.at else None
    if args.show and args.json:
        raise UsageError("--show prints the terminal card: not with --json")
    if args.batch is not None:
        if args.text is not None or args.image:
            raise UsageError("--batch takes no TEXT or --image")
        if args.card or args.show:
            raise UsageError("--card and --show take one code, not --batch")
        verifier = build_verifier(args)
        return _verify_batch(args, verifier, at)
    if args.image and args.text is not None:
        raise UsageError("give either TEXT or --image, not both")
    if not args.image and args.text is None:
        raise UsageError("TEXT (or '-' for stdin, --image, --batch) is required")
    if args.card:
        _card_format(args.card)
    if args.card or args.show:  # the card's relative times count from the verification time
        from datetime import UTC

        at = at or datetime.now(UTC)
    try:
        verifier = build_verifier(args)
    except _InputFailure as failure:
        return _report_failure(args, failure.error, at)
    if args.image:
        from healthpass import qr

        try:
            text = qr.scan(_read(args.image, "image", limit=qr.MAX_IMAGE_BYTES))
        except HealthPassError as err:  # no code found, not an image
            return _report_failure(args, err, at)
    else:
        text = sys.stdin.read(_MAX_LINE * 4) if args.text == "-" else args.text
    try:
        credential = verifier.verify(text, at=at, profile=args.profile)
    except HealthPassError as err:
        return _report_failure(args, err, at)
    if args.json:
        print(_dumps(_result_json(credential)))
    elif not args.show:
        print(_human(credential))
    return _emit_card(args, credential, at, EXIT_OK)


def _card_format(path: str) -> str:
    from pathlib import Path

    suffix = Path(path).suffix.lower()
    if suffix not in {".svg", ".png", ".html"}:
        raise UsageError(f"--card {path!r}: the file name must end in .svg, .png or .html")
    return suffix


def _emit_card(args: argparse.Namespace, outcome: Any, at: datetime | None, status: int) -> int:
    """Write ``--card`` and print ``--show`` for a verification outcome; ``status`` is the verify exit code."""
    if not (getattr(args, "card", None) or getattr(args, "show", False)) or at is None:  # transcode has neither
        return status
    from healthpass.display import build_view, card_bytes, render_terminal

    local = datetime.now().astimezone().tzinfo  # dates on the card in this machine's zone
    view = build_view(outcome, now=at, language=args.lang, profile=args.profile,
                      **({"tz": local} if local is not None else {}))
    if args.show:
        print(render_terminal(view, colour=sys.stdout.isatty()), end="")
    if args.card:
        try:
            data = card_bytes(view, _card_format(args.card))
        except RuntimeError as err:  # the PNG fonts are missing: the message names the Debian package
            _say(f"healthpass: {err}", file=sys.stderr)
            return EXIT_FAILED
        with open(args.card, "wb") as handle:
            handle.write(data)
    return status


def _report_failure(args: argparse.Namespace, err: Any, at: datetime | None = None) -> int:
    from healthpass.verify import VerificationResult

    if args.json:
        print(_dumps(VerificationResult(None, err).to_json()))
    _say(f"REJECTED: {err}", file=sys.stderr)
    context = getattr(err, "verified", None)
    if context is not None:  # the signature verified before the code was rejected
        expires = context.expires_at.isoformat() if context.expires_at else "-"
        _say(f"  signature verified: {context.format} code issued by {context.issuer or '-'}, kid "
             f"{context.kid.hex()} ({context.algorithm}), expires {expires}", file=sys.stderr)
    failed_rules = getattr(err, "failed_rules", ())
    for rule in failed_rules:
        _say(f"  failed rule: {rule}", file=sys.stderr)
    return _emit_card(args, err, at, EXIT_FAILED)


def _verify_batch(args: argparse.Namespace, verifier: Verifier, at: datetime | None) -> int:
    from datetime import UTC
    from datetime import datetime as _datetime

    from healthpass.batch import ordered_chunks

    source = sys.stdin if args.batch == "-" else _open_text(args.batch)
    numbered = ((n, line) for n, line in enumerate(_bounded_lines(source), start=1) if line.strip())
    # One clock for the whole batch; the workers verify and format, the main process only writes lines.
    context = (verifier, at or _datetime.now(UTC), args.profile, args.json)
    executor = _executor(args.workers)
    out = sys.stdout
    failed = 0
    try:
        with _progress("verified", args.batch, results_on_stdout=True) as progress:
            for line, valid in ordered_chunks(executor, _verify_lines, context, numbered, 256):
                out.write(line)
                failed += not valid
                progress.tick()
    finally:
        if executor is not None:
            executor.shutdown(cancel_futures=True)
    out.flush()
    return EXIT_FAILED if failed else EXIT_OK


def _verify_lines(context: tuple[Any, datetime, str | None, bool],
                  chunk: list[tuple[int, str]]) -> list[tuple[str, bool]]:
    """Verify numbered code lines and format one output line each (JSON with ``"line"``, or short text), with
    whether the code was valid."""
    verifier, at, profile, as_json = context
    results = verifier.verify_many([text for _, text in chunk], at=at, profile=profile, chunk_size=len(chunk))
    out = []
    for (number, _), result in zip(chunk, results, strict=True):
        valid = result.credential is not None
        if as_json:
            obj = _result_json(result)
            obj["line"] = number
            out.append((_dumps(obj) + "\n", valid))
        elif result.credential is not None:
            c = result.credential
            text = f"{number}: VALID {c.format.value.rstrip(':')} issuer {c.issuer} kid {c.kid.hex()}"
            out.append((_lines([text]) + "\n", True))
        elif result.error is not None:
            out.append((f"{number}: REJECTED {result.error.code.value} ({result.error.stage.value})\n", False))
    return out


def _verify_arguments(p: _Parser) -> None:
    _trust_options(p)
    _status_options(p)
    p.add_argument("--at", metavar="ISO8601",
                   help="verify as of this time, with its zone, e.g. 2026-12-03T08:00+08:00 (default: now)")
    p.add_argument("--json", action="store_true", help="print one JSON object per code on standard output")
    p.add_argument("--batch", metavar="FILE",
                   help="one code per line ('-': standard input), one result per line in order; blank lines "
                        "skipped; exit 1 if any code was rejected")
    p.add_argument("--workers", type=int, metavar="N", help="worker processes for --batch (default: all cores)")
    p.add_argument("--image", metavar="IMAGE", help="read the code from a QR image instead of TEXT")
    g = p.add_argument_group("the checkpoint card (healthpass.display; the display extra)")
    g.add_argument("--card", metavar="FILE", help="write the result card: .svg, .png or .html by the extension")
    g.add_argument("--show", action="store_true", help="print the result card on the terminal (not with --json)")
    g.add_argument("--lang", choices=("zh-Hans", "zh-Hant", "en"), default="zh-Hans",
                   help="the card's language (default zh-Hans)")
    p.add_argument("text", nargs="?", metavar="TEXT", help="the code's text, or '-' to read it from standard input")
    p.set_defaults(func=cmd_verify)
