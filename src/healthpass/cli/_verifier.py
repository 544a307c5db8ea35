"""The trust options (keys, certificates, roots and trust lists, state, rules, status lists) and
the Verifier they build; used by verify, transcode and status show.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
from typing import TYPE_CHECKING, Any

from healthpass.cli._io import UsageError, _InputFailure, _read, _read_small, _say, parse_duration

if TYPE_CHECKING:
    from healthpass.verify import Verifier

__all__ = ["_SPEC_OPTION", "_load_trust_lists", "_regions", "_split_spec", "_status_options", "_trust_options",
           "build_verifier"]


def _trust_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("trust (any mix; all keys are pooled)")
    g.add_argument("--trust-key", action="append", default=[], metavar="REGION=PUB.pem[:max_validity=30d]",
                   help="a directly trusted issuer key or certificate, scoped to REGION and the regions under it; "
                        "its codes may live at most max_validity (default 30d)")
    g.add_argument("--dsc", action="append", default=[], metavar="CERT[:max_validity=D]",
                   help="an EU DCC signer certificate (PEM, DER or base64 DER); its notAfter bounds its codes, "
                        "max_validity (default for a bare public key: 30d) their lifetime")
    g.add_argument("--root", action="append", default=[], metavar="ROOT.pub.pem[:regions=R1,R2]",
                   help="a trust-list root key, optionally scoped to regions")
    g.add_argument("--trust-list", action="append", default=[], metavar="FILE",
                   help="a signed trust list (needs --root; repeat for several)")
    g.add_argument("--state", metavar="DIR",
                   help="anti-rollback state directory for trust lists, rules and status lists (created, with a "
                   "note on stderr, when it does not exist)")
    g.add_argument("--rules", metavar="BUNDLE", help="a signed rule bundle applied after the cryptographic checks")
    g.add_argument("--profile", metavar="NAME", help="the rule profile to apply (default: all rules)")
    g.add_argument("--strict-schema", action="store_true",
                   help="reject EU certificates deviating from the EU DCC JSON schema (default: warn)")
    g.add_argument("--dcc-schema", metavar="DIR", default=os.environ.get("HEALTHPASS_DCC_SCHEMA_DIR"),
                   help="directory of EU DCC JSON schemas (*.combined-schema.json); env HEALTHPASS_DCC_SCHEMA_DIR")


def _status_options(p: argparse.ArgumentParser) -> None:
    """What ``verify`` and ``transcode`` check a code's status with (Token Status Lists)."""
    g = p.add_argument_group("credential status (Token Status Lists)")
    g.add_argument("--status-list", action="append", default=[], metavar="FILE",
                   help="a signed status list (repeatable); codes referencing it must have status valid")
    g.add_argument("--status-delta", action="append", default=[], metavar="FILE",
                   help="a signed status delta, applied to the list it names when that exact list is held")
    g.add_argument("--require-status", action="store_true",
                   help="reject a code whose status list is not held (status_unavailable) instead of warning")


_SPEC_OPTION = r":(?=(?:kinds|from|until|regions|max_validity)=)"


def _split_spec(spec: str, option: str) -> tuple[str, dict[str, str]]:
    """``PATH[:key=value]...`` where key is one of kinds, from, until, regions, max_validity (values may hold
    ':')."""
    path, *options = re.split(_SPEC_OPTION, spec)
    extras: dict[str, str] = {}
    for part in options:
        key, _, value = part.partition("=")
        if key in extras:
            raise UsageError(f"{option}: {key} given twice in {spec!r}")
        extras[key] = value
    if not path:
        raise UsageError(f"{option}: no file in {spec!r}")
    return path, extras


def _regions(text: str, option: str) -> list[Any]:
    from healthpass import Region

    try:
        return [Region.parse(r) for r in text.split(",") if r.strip()]
    except ValueError as err:
        raise UsageError(f"{option}: {err}") from None


def build_verifier(args: argparse.Namespace) -> Verifier:
    from healthpass import Region
    from healthpass.errors import HealthPassError
    from healthpass.trust import issuer_key, trust_root
    from healthpass.verify import Verifier, VerifierPolicy

    if not (args.trust_key or args.dsc or args.trust_list):
        raise UsageError("no trust given: use --trust-key, --dsc, or --root with --trust-list")
    if args.trust_list and not args.root:
        raise UsageError("--trust-list needs at least one --root")
    keys = []
    for spec in args.trust_key:
        region_text, sep, rest = spec.partition("=")
        if not sep:
            raise UsageError(f"--trust-key expects REGION=PUB.pem[:max_validity=30d], got {spec!r}")
        path, extras = _split_spec(rest, "--trust-key")
        if set(extras) - {"max_validity"}:
            raise UsageError(f"--trust-key: unknown option {sorted(set(extras) - {'max_validity'})[0]}")
        max_validity = parse_duration(extras["max_validity"]) if "max_validity" in extras else None
        try:
            region = Region.parse(region_text)
        except ValueError as err:
            raise UsageError(f"--trust-key: {err}") from None
        try:
            keys.append(issuer_key(_read_small(path, "key"), region=region, max_validity=max_validity))
        except ValueError as err:
            raise UsageError(f"--trust-key {path}: {err}") from None
    for spec in args.dsc:
        path, extras = _split_spec(spec, "--dsc")
        if set(extras) - {"max_validity"}:
            raise UsageError(f"--dsc: unknown option {sorted(set(extras) - {'max_validity'})[0]}")
        max_validity = parse_duration(extras["max_validity"]) if "max_validity" in extras else None
        try:
            keys.append(issuer_key(_read_small(path, "certificate"), source="dsc", max_validity=max_validity))
        except ValueError as err:
            raise UsageError(f"--dsc {path}: {err}") from None
    roots = []
    for spec in args.root:
        path, extras = _split_spec(spec, "--root")
        unknown = set(extras) - {"regions"}
        if unknown:
            raise UsageError(f"--root: unknown option {sorted(unknown)[0]}")
        regions = _regions(extras["regions"], "--root") if "regions" in extras else None
        try:
            roots.append(trust_root(_read_small(path, "root key"), regions=regions))
        except ValueError as err:
            raise UsageError(f"--root {path}: {err}") from None
    state = None
    if args.state:
        from healthpass.state import StateStore

        if not os.path.lexists(args.state):  # a mistyped --state must not silently start an empty state
            _say(f"healthpass: note: state directory {args.state} does not exist; creating it (the anti-rollback "
                 "state starts empty)", file=sys.stderr)
            with contextlib.suppress(OSError):  # if it cannot be made, the state fails closed when first used
                os.makedirs(args.state)
        state = StateStore(args.state)
    lists = _load_trust_lists(args.trust_list, roots, state)
    rules = None
    if args.rules:
        from healthpass.rules import RuleBundle
        from healthpass.trust import MAX_DOCUMENT_BYTES

        try:
            rules = RuleBundle.load(_read(args.rules, "rule bundle", limit=MAX_DOCUMENT_BYTES), roots, state=state)
        except HealthPassError as err:
            raise _InputFailure(err) from None
    schemas = None
    if args.dcc_schema:
        from healthpass.formats.eu_dcc import DccSchemas

        try:
            schemas = DccSchemas.load(args.dcc_schema)
        except (ValueError, ImportError) as err:
            raise UsageError(f"--dcc-schema: {err}") from None
    policy = VerifierPolicy(strict_schema=args.strict_schema, dcc_schemas=schemas)
    status_lists: Any = ()
    list_files, delta_files = getattr(args, "status_list", []), getattr(args, "status_delta", [])
    if list_files or delta_files:
        from healthpass.status import MAX_DOCUMENT_BYTES, load_all
        from healthpass.trust import KeyRing

        try:
            status_lists = load_all([_read(p, "status list", limit=MAX_DOCUMENT_BYTES) for p in list_files],
                                    [_read(p, "status delta", limit=MAX_DOCUMENT_BYTES) for p in delta_files],
                                    KeyRing(keys, trust_lists=lists), state=state)
        except HealthPassError as err:
            raise _InputFailure(err) from None
    return Verifier(keys=keys, trust_lists=lists, policy=policy, rules=rules, status_lists=status_lists,
                    require_status=getattr(args, "require_status", False))


def _load_trust_lists(paths: list[str], roots: list[Any], state: Any) -> list[Any]:
    """The newest list of each root among ``paths`` (in any order), recorded in ``state``: an older list
    given beside a newer one from the same root is never used, nor checked against the state (a note on
    stderr says so). Raises _InputFailure for a list that does not verify or rolls back."""
    from healthpass.errors import HealthPassError
    from healthpass.trust import MAX_DOCUMENT_BYTES, TrustList, newest_per_root

    try:
        loaded = [(path, data, TrustList.load(data, roots)) for path in paths
                  for data in [_read(path, "trust list", limit=MAX_DOCUMENT_BYTES)]]
        newest = newest_per_root(tl for _, _, tl in loaded)
        for path, _, tl in loaded:
            if not any(tl is kept for kept in newest):
                _say(f"healthpass: note: trust list {path} (seq {tl.seq}) is not used: a newer list from root "
                     f"{tl.root.kid.hex()} is given", file=sys.stderr)
        if state is None:
            return list(newest)
        return [TrustList.load(data, roots, state=state) for _, data, tl in loaded if any(tl is k for k in newest)]
    except HealthPassError as err:
        raise _InputFailure(err) from None
