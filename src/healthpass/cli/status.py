"""``healthpass status new|set|publish|delta|show``: the status registry and signed status lists."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from healthpass.cli._io import _MAX_LINE, EXIT_FAILED, EXIT_OK, UsageError, _read, _say, parse_duration
from healthpass.cli._parser import _Parser
from healthpass.cli._signers import _add_pkcs11_options, _signer
from healthpass.cli._verifier import build_verifier

__all__ = ["_ShowArgs", "_open_registry", "_status_arguments", "_status_delta_arguments", "_status_new_arguments",
           "_status_publish_arguments", "_status_set_arguments", "_status_show_arguments",
           "_status_signing_arguments", "cmd_status_delta", "cmd_status_new", "cmd_status_publish", "cmd_status_set",
           "cmd_status_show"]


def _open_registry(dsn: str) -> Any:
    from healthpass.registry import open_registry

    return open_registry(dsn)


def cmd_status_new(args: argparse.Namespace) -> int:
    from healthpass.status import DEFAULT_MIN_ENTRIES

    if args.size < DEFAULT_MIN_ENTRIES:
        _say(f"healthpass: warning: a list of fewer than {DEFAULT_MIN_ENTRIES} entries gives its holders less "
             "herd privacy", file=sys.stderr)
    with _open_registry(args.registry) as registry:
        info = registry.create_list(args.uri, size=args.size, bits=args.bits)
    _say(f"status list {info.uri}: {info.size} entries of {info.bits} bits")
    return EXIT_OK


def cmd_status_set(args: argparse.Namespace) -> int:
    from healthpass import StatusReference, StatusValue
    from healthpass.errors import HealthPassError
    from healthpass.unverified import decode_unverified

    try:
        value = StatusValue.parse(args.to)
    except ValueError as err:
        raise UsageError(f"--to: {err}") from None
    ref = credential_id = None
    if args.code is not None:
        try:
            content = decode_unverified(sys.stdin.read(_MAX_LINE * 4).strip() if args.code == "-" else args.code)
        except HealthPassError as err:
            _say(f"healthpass: {err}", file=sys.stderr)
            return EXIT_FAILED
        found = content.get("status_reference")
        if not found or not content.get("credential_id"):
            _say("healthpass: the code carries no status reference", file=sys.stderr)
            return EXIT_FAILED
        ref = StatusReference(found["uri"], found["idx"])
        credential_id = bytes.fromhex(content["credential_id"])
    else:
        try:
            credential_id = bytes.fromhex(args.credential_id)
        except ValueError:
            raise UsageError("--credential-id must be hex") from None
        if not credential_id:
            raise UsageError("--credential-id must not be empty")
    with _open_registry(args.registry) as registry:
        where, previous = registry.set_status(value, credential_id=credential_id, ref=ref)
    old = previous.label if hasattr(previous, "label") else str(previous)
    _say(f"{where.uri} index {where.idx}: {old} -> {value.label}")
    return EXIT_OK


def cmd_status_publish(args: argparse.Namespace) -> int:
    import hashlib
    from datetime import UTC
    from datetime import datetime as _datetime
    from pathlib import Path

    from healthpass.model.time import from_numeric_date, to_numeric_date
    from healthpass.status import StatusList

    signer = _signer(args, "key")
    valid_for = parse_duration(args.valid_for)
    ttl = parse_duration(args.ttl) if args.ttl else None
    with _open_registry(args.registry) as registry:
        info, entries = registry.snapshot(args.uri)
        # iat strictly increases per list (verifiers' rollback check)
        iat = max(to_numeric_date(_datetime.now(UTC)), info.last_iat + 1)
        data = StatusList.build(signer, uri=args.uri, size=info.size, bits=info.bits, entries=entries,
                                valid_for=valid_for, ttl=ttl, now=from_numeric_date(iat))
        # recorded first: a concurrent publisher that took this iat makes this one fail before any file exists
        registry.record_publication(args.uri, iat=iat, sha256=hashlib.sha256(data).digest(),
                                    version=info.version)
        Path(args.out).write_bytes(data)
    _say(f"status list {args.uri} ({info.size} entries, {len(entries)} not valid, {len(data)} bytes) "
         f"written to {args.out}")
    return EXIT_OK


def cmd_status_delta(args: argparse.Namespace) -> int:
    import hashlib
    from pathlib import Path

    from healthpass.errors import HealthPassError
    from healthpass.model.time import to_numeric_date
    from healthpass.status import MAX_DOCUMENT_BYTES, StatusDelta
    from healthpass.unverified import inspect_status_list_unverified as inspect_unverified

    signer = _signer(args, "key")
    valid_for = parse_duration(args.valid_for)
    ttl = parse_duration(args.ttl) if args.ttl else None
    base = _read(args.base, "base status list", limit=MAX_DOCUMENT_BYTES)
    try:
        uri, issued = inspect_unverified(base)[:2]
    except HealthPassError as err:
        _say(f"healthpass: --base: {err}", file=sys.stderr)
        return EXIT_FAILED
    if uri != args.uri:
        raise UsageError(f"--base is a list for {uri}, not {args.uri}")
    with _open_registry(args.registry) as registry:
        _, changes = registry.changes_since(args.uri, iat=to_numeric_date(issued),
                                            sha256=hashlib.sha256(base).digest())
    data = StatusDelta.build(signer, base=base, changes=changes, valid_for=valid_for, ttl=ttl)
    Path(args.out).write_bytes(data)
    _say(f"status delta for {args.uri} ({len(changes)} changes, {len(data)} bytes) written to {args.out}")
    return EXIT_OK


def cmd_status_show(args: argparse.Namespace) -> int:
    from healthpass.errors import HealthPassError
    from healthpass.status import MAX_DOCUMENT_BYTES, StatusDelta, StatusList
    from healthpass.trust import KeyRing
    from healthpass.unverified import inspect_status_list_unverified as inspect_unverified

    data = _read(args.file, "status list", limit=MAX_DOCUMENT_BYTES)
    trusted = bool(args.trust_key or args.trust_list or args.root)  # --root alone: a usage error, not UNVERIFIED
    try:
        uri, iat, exp, kind, summary = inspect_unverified(data)
    except HealthPassError as err:
        _say(f"healthpass: {err}", file=sys.stderr)
        return EXIT_FAILED
    header = "UNVERIFIED (no --trust-key or --root/--trust-list given)"
    if trusted:
        verifier = build_verifier(_ShowArgs(args))
        ring = KeyRing(verifier.keys.direct_keys, trust_lists=verifier.keys.trust_lists)
        try:
            doc: Any = (StatusList.load(data, ring) if kind == "list" else StatusDelta.load(data, ring))
        except HealthPassError as err:
            _say(f"healthpass: {err}", file=sys.stderr)
            return EXIT_FAILED
        regions = ",".join(sorted(region.code for region in doc.regions))  # every entry trusting the signer
        header = f"VERIFIED: signed by kid {doc.signer.kid.hex()} for region {regions}"
    _say(header)
    _say(f"{kind} {uri}  issued {iat.isoformat()}  expires {exp.isoformat()}  {summary}")
    return EXIT_OK


class _ShowArgs(argparse.Namespace):
    """The trust options of ``status show``, as ``build_verifier`` reads them."""

    def __init__(self, args: argparse.Namespace) -> None:
        super().__init__(trust_key=args.trust_key, dsc=[], root=args.root, trust_list=args.trust_list,
                         state=None, rules=None, dcc_schema=None, strict_schema=False, status_list=[],
                         status_delta=[], require_status=False)


def _status_arguments(status: _Parser) -> None:
    ssub = status.add_subparsers(dest="status_command", required=True, parser_class=_Parser)
    ssub.add_parser("new", help="create a status list in the registry", arguments=_status_new_arguments)
    ssub.add_parser("set", help="set a credential's status", arguments=_status_set_arguments)
    ssub.add_parser("publish", help="sign the full status list", arguments=_status_publish_arguments)
    ssub.add_parser("delta", help="sign the changes since a published list", arguments=_status_delta_arguments)
    ssub.add_parser("show", help="print (and verify) a status list or delta", arguments=_status_show_arguments)


def _status_new_arguments(p: _Parser) -> None:
    from healthpass.status import DEFAULT_MIN_ENTRIES

    p.add_argument("--registry", required=True, metavar="DB", help="a SQLite file path or postgresql://...")
    p.add_argument("--uri", required=True, metavar="URI", help="the list's short URI, e.g. hp:630000:3")
    p.add_argument("--size", type=int, default=DEFAULT_MIN_ENTRIES, metavar="N", help="entries in the list")
    p.add_argument("--bits", type=int, default=2, choices=(1, 2, 4, 8), help="bits per status entry")
    p.set_defaults(func=cmd_status_new)


def _status_set_arguments(p: _Parser) -> None:
    p.add_argument("--registry", required=True, metavar="DB", help="a SQLite file path or postgresql://...")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--code", metavar="TEXT", help="the code's text ('-' for stdin)")
    which.add_argument("--credential-id", metavar="HEX", help="the code's credential id (cti) in hex")
    p.add_argument("--to", required=True, metavar="STATUS", choices=("valid", "revoked", "suspended", "superseded"),
                   help="the new status: valid, revoked, suspended or superseded")
    p.set_defaults(func=cmd_status_set)


def _status_signing_arguments(p: _Parser) -> None:
    p.add_argument("--registry", required=True, metavar="DB", help="a SQLite file path or postgresql://...")
    p.add_argument("--uri", required=True, metavar="URI", help="the list's short URI, e.g. hp:630000:3")
    p.add_argument("--key", metavar="KEY.pem", help="the issuer's private key (required unless --pkcs11-module)")
    p.add_argument("--password-env", metavar="VAR", help="the environment variable holding the key's password")
    p.add_argument("--valid-for", required=True, metavar="DURATION", help="how long the list is fresh, e.g. 1d")
    p.add_argument("--ttl", metavar="DURATION", help="how long verifiers may cache it before fetching again")
    p.add_argument("--out", required=True, metavar="FILE", help="write the signed list or delta here")
    _add_pkcs11_options(p)


def _status_publish_arguments(p: _Parser) -> None:
    _status_signing_arguments(p)
    p.set_defaults(func=cmd_status_publish)


def _status_delta_arguments(p: _Parser) -> None:
    _status_signing_arguments(p)
    p.add_argument("--base", required=True, metavar="FILE", help="the published list the delta applies to")
    p.set_defaults(func=cmd_status_delta)


def _status_show_arguments(p: _Parser) -> None:
    p.add_argument("file", metavar="FILE", help="a signed status list or delta")
    p.add_argument("--root", action="append", default=[], metavar="ROOT.pub.pem[:regions=R1,R2]",
                   help="a trust-list root key (with --trust-list) to verify the signer")
    p.add_argument("--trust-list", action="append", default=[], metavar="TL", help="a signed trust list")
    p.add_argument("--trust-key", action="append", default=[], metavar="REGION=PUB.pem",
                   help="a directly trusted issuer key for REGION")
    p.set_defaults(func=cmd_status_show)
