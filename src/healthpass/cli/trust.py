"""``healthpass trust build|show``: sign and inspect trust lists."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from healthpass.cli._io import _MAX_MANIFEST, EXIT_FAILED, EXIT_OK, UsageError, _read, _read_small, _say, parse_duration
from healthpass.cli._parser import _Parser
from healthpass.cli._signers import _add_pkcs11_options, _signer
from healthpass.cli._verifier import _split_spec

__all__ = ["_issuer_key_spec", "_trust_arguments", "_trust_build_arguments", "_trust_show_arguments",
           "cmd_trust_build", "cmd_trust_show"]


def _issuer_key_spec(spec: str) -> Any:
    from healthpass import Kind, Region
    from healthpass.model.time import parse_iso
    from healthpass.trust import issuer_key

    region_text, sep, rest = spec.partition("=")
    if not sep:
        raise UsageError(f"--issuer-key expects REGION=PUB.pem[:kinds=...][:from=...][:until=...]"
                         f"[:max_validity=...], got {spec!r}")
    path, extras = _split_spec(rest, "--issuer-key")
    unknown = set(extras) - {"kinds", "from", "until", "max_validity"}
    if unknown:
        raise UsageError(f"--issuer-key: unknown option {sorted(unknown)[0]}")
    try:
        region = Region.parse(region_text)
        kinds = frozenset(Kind(k.strip()) for k in extras["kinds"].split(",")) if "kinds" in extras else None
        valid_from = parse_iso(extras["from"], name="from") if "from" in extras else None
        valid_until = parse_iso(extras["until"], name="until") if "until" in extras else None
        max_validity = parse_duration(extras["max_validity"]) if "max_validity" in extras else None
        key = issuer_key(_read_small(path, "issuer key"), region=region, max_validity=max_validity)
    except ValueError as err:
        raise UsageError(f"--issuer-key {spec!r}: {err}") from None
    import dataclasses

    return dataclasses.replace(key, kinds=kinds or key.kinds, valid_from=valid_from, valid_until=valid_until)


def cmd_trust_build(args: argparse.Namespace) -> int:
    from pathlib import Path

    from healthpass.trust import TrustList, keys_from_manifest, trust_root

    keys = [_issuer_key_spec(spec) for spec in args.issuer_key]
    seq, valid_for = args.seq, parse_duration(args.valid_for) if args.valid_for else None
    if args.manifest:
        try:
            manifest = json.loads(_read_small(args.manifest, "manifest", limit=_MAX_MANIFEST))
            m_keys, m_seq, m_valid = keys_from_manifest(manifest, base=Path(args.manifest).parent)
        except ValueError as err:
            raise UsageError(f"--manifest: {err}") from None
        keys.extend(m_keys)
        seq = seq if seq is not None else m_seq
        valid_for = valid_for or (parse_duration(m_valid) if m_valid else None)
    if seq is None or valid_for is None:
        raise UsageError("--seq and --valid-for are required (or in the manifest)")
    if not keys:
        raise UsageError("no issuer keys: use --issuer-key or --manifest")
    signer = _signer(args, "root_key")
    data = TrustList.build(signer, seq=seq, keys=keys, valid_for=valid_for)
    # Read back as a verifier will, every entry checked: a list that would not verify is never written.
    TrustList.load(data, [trust_root(signer.public_key_der)], check_all=True)
    Path(args.out).write_bytes(data)
    _say(f"trust list seq {seq} with {len(keys)} keys written to {args.out}")
    return EXIT_OK


def cmd_trust_show(args: argparse.Namespace) -> int:
    from healthpass.errors import HealthPassError
    from healthpass.model.jsonform import format_duration
    from healthpass.trust import MAX_DOCUMENT_BYTES, TrustList, trust_root
    from healthpass.unverified import inspect_trust_list_unverified

    data = _read(args.file, "trust list", limit=MAX_DOCUMENT_BYTES)
    if args.root:
        try:
            root = trust_root(_read_small(args.root, "root key"))
        except ValueError as err:
            raise UsageError(f"--root: {err}") from None
        try:
            tl = TrustList.load(data, [root], check_all=True)  # every entry, not only those first used
        except HealthPassError as err:
            _say(f"healthpass: {err}", file=sys.stderr)
            return EXIT_FAILED
        header = "VERIFIED against root " + root.kid.hex()
        seq, issued, not_after = tl.seq, tl.issued_at, tl.not_after
        keys: tuple[Any, ...] = tuple(tl.keys)
    else:
        try:
            seq, issued, not_after, keys = inspect_trust_list_unverified(data)
        except HealthPassError as err:
            _say(f"healthpass: {err}", file=sys.stderr)
            return EXIT_FAILED
        header = "UNVERIFIED (no --root given)"
    _say(header)
    _say(f"seq {seq}  issued {issued.isoformat()}  not after {not_after.isoformat()}  keys {len(keys)}")
    for k in keys:
        start = k.valid_from.isoformat() if k.valid_from else "-"
        window = f"{start} .. {k.valid_until.isoformat() if k.valid_until else '-'}"
        kinds = ",".join(sorted(kind.value for kind in k.kinds))
        status = k.status.name.lower() + (f" at {k.retired_at.isoformat()}" if k.retired_at else "")
        longest = format_duration(k.max_validity) if k.max_validity is not None else "-"
        _say(f"  kid {k.kid.hex()}  region {k.region.code if k.region else '*'}  kinds {kinds}  "
             f"window {window}  {status}  max validity {longest}{'  (certificate)' if k.is_certificate else ''}")
    return EXIT_OK


def _trust_arguments(trust: _Parser) -> None:
    tsub = trust.add_subparsers(dest="trust_command", required=True, parser_class=_Parser)
    tsub.add_parser("build", help="sign a trust list with the root key", arguments=_trust_build_arguments)
    tsub.add_parser("show", help="print a trust list", arguments=_trust_show_arguments)


def _trust_build_arguments(p: _Parser) -> None:
    # --seq and --valid-for are required, from the command line or the manifest: the usage line says so
    p.usage = ("%(prog)s (--root-key ROOT.key.pem | --pkcs11-module LIB.so ...) --seq N --valid-for DURATION "
               "(--issuer-key SPEC ... | --manifest FILE) --out FILE")
    p.add_argument("--root-key", metavar="ROOT.key.pem",
                   help="the national root's private key (required unless --pkcs11-module)")
    p.add_argument("--password-env", metavar="VAR", help="the environment variable holding the key's password")
    p.add_argument("--seq", type=int, metavar="N",
                   help="required: the list's sequence number, above every earlier list's (or seq in --manifest)")
    p.add_argument("--valid-for", metavar="DURATION",
                   help="required: how long the list is fresh, e.g. 30d (or valid_for in --manifest)")
    p.add_argument("--issuer-key", action="append", default=[],
                   metavar="REGION=PUB.pem[:kinds=..][:from=..][:until=..][:max_validity=30d]",
                   help="an issuer key for REGION; kinds a comma list, from/until ISO 8601 with a zone, "
                        "max_validity the longest code it may sign (repeat)")
    p.add_argument("--manifest", metavar="FILE", help="the keys (and seq, valid_for) as JSON: specs/trust-list.md")
    p.add_argument("--out", required=True, metavar="FILE", help="write the signed list here")
    _add_pkcs11_options(p)
    p.set_defaults(func=cmd_trust_build)


def _trust_show_arguments(p: _Parser) -> None:
    p.add_argument("file", metavar="FILE", help="a signed trust list")
    p.add_argument("--root", metavar="ROOT.pub.pem",
                   help="verify the list against this root (exit 1 if it does not); without it: UNVERIFIED")
    p.set_defaults(func=cmd_trust_show)
