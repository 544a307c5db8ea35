"""``healthpass mint``: sign one credential or a batch of them, optionally with status-list indices."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from typing import Any

from healthpass.cli._io import (
    _MAX_KEY_FILE,
    EXIT_FAILED,
    EXIT_OK,
    UsageError,
    _bounded_lines,
    _executor,
    _open_text,
    _progress,
    _read_small,
    _say,
    parse_duration,
)
from healthpass.cli._parser import _Parser
from healthpass.cli._signers import _add_pkcs11_options, _signer

__all__ = ["_ALLOCATION_BLOCK", "_CTI_BYTES", "_issuer", "_load_credential", "_mint_arguments", "_mint_batch",
           "_mint_chunk", "_mint_registry", "_with_references", "cmd_mint"]


_CTI_BYTES = 8  # the credential id a registry records (as Issuer draws it)
_ALLOCATION_BLOCK = 1024  # codes per registry transaction in mint --batch


def _load_credential(data: bytes | str, where: str | None) -> Any:
    """Parse one credential; ``where`` (a file name) prefixes messages, None for a batch line (whose number the
    caller prints). Invalid JSON is reported with its line and column (column only for a batch line)."""
    from healthpass.errors import ErrorCode, IssueError, Stage
    from healthpass.model.jsonform import payload_from_json

    prefix = f"{where}: " if where is not None else ""
    try:
        obj = json.loads(data)
    except json.JSONDecodeError as err:
        place = f"line {err.lineno} column {err.colno}" if where is not None else f"column {err.colno}"
        raise IssueError(ErrorCode.CREDENTIAL_INVALID, Stage.ISSUE, f"{prefix}not JSON: {err.msg} at {place}") from None
    except UnicodeDecodeError as err:
        raise IssueError(ErrorCode.CREDENTIAL_INVALID, Stage.ISSUE,
                         f"{prefix}not JSON: not UTF-8 text (byte {err.start + 1})") from None
    except ValueError as err:  # json.loads' other refusals (e.g. an integer with too many digits)
        raise IssueError(ErrorCode.CREDENTIAL_INVALID, Stage.ISSUE,
                         f"{prefix}not JSON ({err.__class__.__name__})") from None
    try:
        return payload_from_json(obj)
    except ValueError as err:
        raise IssueError(ErrorCode.CREDENTIAL_INVALID, Stage.ISSUE, f"{prefix}{err}") from None


def _issuer(args: argparse.Namespace) -> Any:
    from healthpass import Region
    from healthpass.issue import Issuer

    try:
        region = Region.parse(args.issuer)
    except ValueError as err:
        raise UsageError(f"--issuer: {err}") from None
    validity = parse_duration(args.valid_for)
    return Issuer(_signer(args, "key"), region, validity=validity)


def cmd_mint(args: argparse.Namespace) -> int:
    from pathlib import Path

    from healthpass.errors import HealthPassError

    if args.batch:
        return _mint_batch(args)
    if not args.input:
        raise UsageError("--in CREDENTIAL.json is required (or --batch)")
    issuer = _issuer(args)
    registry = _mint_registry(args)
    if args.input == "-":
        source = sys.stdin.buffer.read(_MAX_KEY_FILE + 1)
        if len(source) > _MAX_KEY_FILE:
            raise UsageError(f"the credential on standard input is larger than {_MAX_KEY_FILE} bytes")
    else:
        source = _read_small(args.input, "credential")
    try:
        payload = _load_credential(source, "standard input" if args.input == "-" else args.input)
        if registry is None:
            text = issuer.issue(payload)
        else:
            with registry:
                cti = os.urandom(_CTI_BYTES)
                ref = registry.allocate(args.status_uri, [cti])[0]
            text = issuer.issue(payload, credential_id=cti, status=ref)
    except HealthPassError as err:
        _say(f"healthpass: {err}", file=sys.stderr)
        return EXIT_FAILED
    if args.png:
        from healthpass import qr

        qr.write_png(text, args.png)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="ascii")
    else:
        _say(text)
    return EXIT_OK


def _mint_registry(args: argparse.Namespace) -> Any:
    """The status registry of ``mint --registry DB --status-uri URI`` (None without them)."""
    if (args.registry is None) != (args.status_uri is None):
        raise UsageError("--registry and --status-uri go together")
    if args.registry is None:
        return None
    from healthpass.registry import open_registry

    return open_registry(args.registry)


def _with_references(registry: Any, uri: str, lines: Iterator[tuple[int, str]]) -> Iterator[tuple[Any, ...]]:
    """Numbered lines, each with a fresh credential id and an index allocated for it (in blocks of
    ``_ALLOCATION_BLOCK``, one registry transaction each)."""
    from itertools import islice

    while True:
        block = list(islice(lines, _ALLOCATION_BLOCK))
        if not block:
            return
        wanted = [i for i, (_, line) in enumerate(block) if line.strip()]  # blank lines are skipped: no index
        ctis = [os.urandom(_CTI_BYTES) for _ in wanted]
        refs = dict(zip(wanted, zip(ctis, registry.allocate(uri, ctis), strict=True), strict=True))
        for i, item in enumerate(block):
            yield (*item, *refs[i]) if i in refs else item


def _mint_batch(args: argparse.Namespace) -> int:
    from healthpass.batch import ordered_chunks
    from healthpass.errors import HealthPassError

    if not args.out:
        raise UsageError("--batch needs --out CODES.txt")
    issuer = _issuer(args)
    registry = _mint_registry(args)
    source = sys.stdin if args.batch == "-" else _open_text(args.batch)
    failed = 0

    executor = _executor(args.workers)
    try:
        with open(args.out, "w", encoding="ascii") as out, _progress("minted", args.batch) as progress:
            # the workers parse the JSON too: the main process only reads lines and writes codes (and, with a
            # registry, allocates the indices)
            lines: Iterator[tuple[Any, ...]] = enumerate(_bounded_lines(source), start=1)
            if registry is not None:
                lines = _with_references(registry, args.status_uri, lines)
            results = ordered_chunks(executor, _mint_chunk, issuer, lines, 128)
            for number, result in enumerate(results, start=1):
                if result is None:  # a blank line: skipped, an empty line keeps --out aligned with the input
                    out.write("\n")
                    continue
                if isinstance(result, HealthPassError):
                    failed += 1
                    _say(f"line {number}: {result}", file=sys.stderr)
                    out.write("\n")
                else:
                    out.write(result + "\n")
                progress.tick()
    finally:
        if executor is not None:
            executor.shutdown(cancel_futures=True)
        if registry is not None:
            registry.close()
    return EXIT_FAILED if failed else EXIT_OK


def _mint_chunk(issuer: Any, chunk: list[tuple[Any, ...]]) -> list[Any]:
    """Parse and mint numbered JSON lines (with a credential id and status reference when given); a rejected
    line yields its error in its place (its index stays allocated, never reused), a blank one None."""
    from healthpass.errors import HealthPassError

    out: list[Any] = []
    for _, line, *reference in chunk:
        if not line.strip():
            out.append(None)
            continue
        try:
            payload = _load_credential(line, None)
            if reference:
                out.append(issuer.issue(payload, credential_id=reference[0], status=reference[1]))
            else:
                out.append(issuer.issue(payload))
        except HealthPassError as err:
            out.append(err)
    return out


def _mint_arguments(p: _Parser) -> None:
    p.add_argument("--key", metavar="KEY.pem", help="the issuer's private key (required unless --pkcs11-module)")
    p.add_argument("--password-env", metavar="VAR", help="the environment variable holding the key's password")
    p.add_argument("--issuer", required=True, metavar="REGION",
                   help="the issuing region: a six-digit GB/T 2260 code or CN-XX")
    p.add_argument("--in", dest="input", metavar="CREDENTIAL.json",
                   help="the credential as JSON ('-': standard input; required unless --batch)")
    p.add_argument("--valid-for", default="72h", metavar="DURATION",
                   help="how long the code is valid: a whole number with s, m, h or d")
    p.add_argument("--out", metavar="FILE",
                   help="write the code text here (default: standard output; required with --batch)")
    p.add_argument("--png", metavar="FILE", help="also write the code's QR symbol as a PNG")
    p.add_argument("--batch", metavar="PEOPLE.jsonl",
                   help="one JSON credential per line ('-': standard input); codes to --out, one line per input "
                        "line; blank lines skipped; exit 1 if any line failed")
    p.add_argument("--workers", type=int, metavar="N", help="worker processes for --batch (default: all cores)")
    p.add_argument("--registry", metavar="DB", help="status registry (SQLite file or postgresql://...)")
    p.add_argument("--status-uri", metavar="URI", help="allocate each code an index in this status list")
    _add_pkcs11_options(p)
    p.set_defaults(func=cmd_mint)
