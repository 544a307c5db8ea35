"""The ``healthpass`` command line: argparse, files, printing and exit codes over the public API.

Exit codes for every command: 0 success, 1 the operation failed on its input (a rejected code, no code
found, failing tests), 2 usage error (message on stderr, no JSON).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import IO, TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from healthpass._progress import Progress
    from healthpass.signers.base import Signer
    from healthpass.verify import Verifier

__all__ = ["main"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
_MAX_LINE = 65536
_MAX_DURATION = timedelta(days=3660)  # ten years: anything longer is a typo, and codes must expire before 2100
_CTI_BYTES = 8  # the credential id a registry records (as Issuer draws it)
_ALLOCATION_BLOCK = 1024  # codes per registry transaction in mint --batch


class UsageError(Exception):
    """Bad command-line usage: reported on stderr with exit code 2."""


class _HelpFormatter(argparse.HelpFormatter):
    """Help with each option's default shown where it has a meaningful one (not None, False or [])."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if (default not in (None, False, [], argparse.SUPPRESS) and "%(default)" not in text
                and action.option_strings and "default" not in text):
            text += " (default: %(default)s)"
        return text


class _Parser(argparse.ArgumentParser):
    """Usage errors exit with code 2. ``arguments`` adds the parser's options when it is first used (to parse,
    or to print its usage or help), not when it is built."""

    def __init__(self, *args: Any, arguments: Callable[[_Parser], None] | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)
        self._arguments = arguments

    def _complete(self) -> None:
        arguments, self._arguments = self._arguments, None
        if arguments is not None:
            arguments(self)

    def parse_known_args(self, *args: Any, **kwargs: Any) -> Any:
        self._complete()
        return super().parse_known_args(*args, **kwargs)

    def format_usage(self) -> str:
        self._complete()
        return super().format_usage()

    def format_help(self) -> str:
        self._complete()
        return super().format_help()

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        _say(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


# ---------------------------------------------------------------- small parsers


def parse_duration(text: str) -> timedelta:
    """``90m``, ``72h``, ``30d``, ``45s``: a positive whole number and one unit; the message of a refused
    duration names its problem (negative, fractional, no unit, unknown unit, zero, too long)."""
    from healthpass.model.jsonform import parse_duration as parse

    try:
        duration = parse(text)
    except ValueError as err:
        raise UsageError(str(err)) from None
    if duration > _MAX_DURATION:
        raise UsageError(f"invalid duration {text!r}: at most {_MAX_DURATION.days} days")
    return duration


def parse_at(text: str) -> datetime:
    """``--at``: ISO 8601 with a zone (``Z`` or an offset), up to nine fractional digits."""
    from healthpass.model.time import parse_iso

    try:
        return parse_iso(text, name="--at")
    except ValueError as err:
        raise UsageError(str(err)) from None


def _read(path: str, what: str, *, limit: int | None = None) -> bytes:
    """The file's bytes (at most ``limit + 1`` of them: enough for the reader to refuse an oversized file)."""
    try:
        with open(path, "rb") as handle:
            return handle.read(-1 if limit is None else limit + 1)
    except OSError as err:
        raise UsageError(f"cannot read {what} {path!r}: {err.strerror}") from None


def _password(var: str | None) -> bytes | None:
    if var is None:
        return None
    value = os.environ.get(var)
    if value is None:
        raise UsageError(f"environment variable {var} is not set")
    return value.encode("utf-8")


def _json_default(value: object) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _dumps(obj: Any) -> str:
    """Compact JSON, every character that is not printable written as a ``\\u`` escape (safe to print)."""
    from healthpass.model.text import escape_json

    return escape_json(json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=_json_default))


def _say(text: object, *, file: IO[str] | None = None) -> None:
    """Print one line of text output. Every line the CLI prints that may hold untrusted text (an issuer, an
    error message quoting input, a rule or file name from a bundle, a scanned code) goes through here or
    :func:`_lines`: escaped by :func:`healthpass.model.text.escape_text`, it can neither start a new line nor
    drive the terminal. JSON output goes through :func:`_dumps` instead."""
    from healthpass.model.text import escape_text

    print(escape_text(text), file=file if file is not None else sys.stdout)


def _lines(lines: Sequence[str]) -> str:
    """Several lines of text output, each escaped as :func:`_say` escapes one."""
    from healthpass.model.text import escape_text

    return "\n".join(escape_text(line) for line in lines)


# ---------------------------------------------------------------- signers


def _add_pkcs11_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("PKCS#11 signing key (instead of a key file)")
    g.add_argument("--pkcs11-module", metavar="LIB.so", help="the vendor's PKCS#11 module (shared library)")
    g.add_argument("--pkcs11-token", metavar="LABEL", help="the token's label (required with --pkcs11-module)")
    g.add_argument("--pkcs11-key", metavar="LABEL", help="the key's label (or --pkcs11-key-id)")
    g.add_argument("--pkcs11-key-id", metavar="HEX", help="the key's CKA_ID in hex (or --pkcs11-key)")
    g.add_argument("--pkcs11-pin-env", metavar="VAR", help="read the user PIN from this environment variable")
    g.add_argument("--pkcs11-pin-file", metavar="FILE", help="read the user PIN from this file")


def _pkcs11_config(args: argparse.Namespace) -> Any:
    from healthpass.signers.pkcs11 import Pkcs11Config

    if not args.pkcs11_token:
        raise UsageError("--pkcs11-module needs --pkcs11-token")
    if (args.pkcs11_key is None) == (args.pkcs11_key_id is None):
        raise UsageError("give exactly one of --pkcs11-key and --pkcs11-key-id")
    if (args.pkcs11_pin_env is None) == (args.pkcs11_pin_file is None):
        raise UsageError("give exactly one of --pkcs11-pin-env and --pkcs11-pin-file")
    key_id = None
    if args.pkcs11_key_id is not None:
        try:
            key_id = bytes.fromhex(args.pkcs11_key_id)
        except ValueError:
            raise UsageError("--pkcs11-key-id must be hex") from None
    return Pkcs11Config(
        module=args.pkcs11_module,
        token_label=args.pkcs11_token,
        key_label=args.pkcs11_key,
        key_id=key_id,
        pin_env=args.pkcs11_pin_env,
        pin_file=args.pkcs11_pin_file,
    )


def _signer(args: argparse.Namespace, key_option: str) -> Signer:
    from healthpass.signers import SoftwareSigner

    key_path = getattr(args, key_option)
    if getattr(args, "pkcs11_module", None):
        if key_path:
            raise UsageError(f"give either --{key_option.replace('_', '-')} or --pkcs11-module, not both")
        from healthpass.signers.pkcs11 import Pkcs11Signer

        signer: Signer = Pkcs11Signer(_pkcs11_config(args))
        return signer
    if not key_path:
        raise UsageError(f"--{key_option.replace('_', '-')} (or --pkcs11-module) is required")
    return SoftwareSigner.from_pem(_read(key_path, "key"), _password(args.password_env))


# ---------------------------------------------------------------- keygen


def cmd_keygen(args: argparse.Namespace) -> int:
    from pathlib import Path

    from healthpass import crypto
    from healthpass.model.cose import Algorithm
    from healthpass.signers import SoftwareSigner

    try:
        alg = Algorithm.from_name(args.alg)
    except ValueError as err:
        raise UsageError(str(err)) from None
    if alg is Algorithm.PS256:
        raise UsageError("healthpass signs with ES256, EdDSA or SM2")
    prefix = Path(args.out)
    if args.pkcs11_module:
        if alg is Algorithm.SM2:
            raise UsageError("SM2 keys are software keys only: PKCS#11 SM2 signing is out of scope (docs/hsm.md)")
        from healthpass.signers.pkcs11 import generate_key

        hsm = generate_key(_pkcs11_config(args), alg)
        pub = crypto.public_key_pem(crypto.load_public_key(hsm.public_key_der)[0])
        kid = hsm.kid
    else:
        signer = SoftwareSigner.generate(alg)
        key_file = prefix.with_name(prefix.name + ".key.pem")
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(signer.private_key_pem(_password(args.password_env)))
        os.chmod(key_file, 0o600)
        pub = signer.public_key_pem()
        kid = signer.kid
    prefix.with_name(prefix.name + ".pub.pem").write_bytes(pub)
    print(kid.hex())
    return EXIT_OK


# ---------------------------------------------------------------- mint


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
    from healthpass.issue import Issuer
    from healthpass.model.regions import Region

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
    source = sys.stdin.buffer.read() if args.input == "-" else _read(args.input, "credential")
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


# ---------------------------------------------------------------- verify


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
    from healthpass.model.regions import Region

    try:
        return [Region.parse(r) for r in text.split(",") if r.strip()]
    except ValueError as err:
        raise UsageError(f"{option}: {err}") from None


def build_verifier(args: argparse.Namespace) -> Verifier:
    from healthpass.errors import HealthPassError
    from healthpass.model.regions import Region
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
            keys.append(issuer_key(_read(path, "key"), region=region, max_validity=max_validity))
        except ValueError as err:
            raise UsageError(f"--trust-key {path}: {err}") from None
    for spec in args.dsc:
        path, extras = _split_spec(spec, "--dsc")
        if set(extras) - {"max_validity"}:
            raise UsageError(f"--dsc: unknown option {sorted(set(extras) - {'max_validity'})[0]}")
        max_validity = parse_duration(extras["max_validity"]) if "max_validity" in extras else None
        try:
            keys.append(issuer_key(_read(path, "certificate"), source="dsc", max_validity=max_validity))
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
            roots.append(trust_root(_read(path, "root key"), regions=regions))
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
        from healthpass.rules.bundle import RuleBundle

        try:
            rules = RuleBundle.load(_read(args.rules, "rule bundle"), roots, state=state)
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
        from healthpass.status import load_all
        from healthpass.trust import KeyRing

        try:
            status_lists = load_all([_read(p, "status list") for p in list_files],
                                    [_read(p, "status delta") for p in delta_files],
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
    from healthpass.trust import TrustList, newest_per_root

    try:
        loaded = [(path, data, TrustList.load(data, roots)) for path in paths for data in [_read(path, "trust list")]]
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


class _InputFailure(Exception):
    """A trust list or bundle given on the command line was rejected (exit 1, reported like a code)."""

    def __init__(self, error: Any) -> None:
        super().__init__(str(error))
        self.error = error


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


def cmd_transcode(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from healthpass.errors import HealthPassError, IssueError

    at = parse_at(args.at) if args.at else datetime.now(UTC)  # one instant for both passes below
    issuer = _issuer(args)
    registry = _mint_registry(args)
    try:
        verifier = build_verifier(args)
    except _InputFailure as failure:
        return _report_failure(args, failure.error)
    text = sys.stdin.read(_MAX_LINE * 4).strip() if args.text == "-" else args.text
    try:
        # the source is verified here once more inside transcode(); this first pass gives --json its view and
        # keeps a source that does not verify from taking a status-list index
        source = verifier.verify(text, at=at, profile=args.profile)
        def allocate(cti: bytes) -> Any:  # called only once the source is accepted: a refusal takes no index
            with registry:
                return registry.allocate(args.status_uri, [cti])[0]

        code = issuer.transcode(text, verifier=verifier, now=at, profile=args.profile, max_depth=args.max_depth,
                                status=allocate if registry is not None else None)
    except IssueError as err:
        _say(f"healthpass: {err}", file=sys.stderr)
        if args.json:
            from healthpass.verify import VerificationResult

            print(_dumps(VerificationResult(None, err).to_json()))
        return EXIT_FAILED
    except HealthPassError as err:  # the source did not verify: its own error
        return _report_failure(args, err)
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


def _scan_or_fail(path: str) -> str | None:
    from healthpass import qr
    from healthpass.errors import ScanError

    try:
        return qr.scan(_read(path, "image", limit=qr.MAX_IMAGE_BYTES))
    except ScanError as err:
        _say(f"healthpass: {err}", file=sys.stderr)
        return None


def _open_text(path: str) -> IO[str]:
    try:
        return open(path, encoding="utf-8", errors="replace", newline="")
    except OSError as err:
        raise UsageError(f"cannot read {path!r}: {err.strerror}") from None


def _bounded_lines(stream: IO[str], limit: int = _MAX_LINE) -> Iterator[str]:
    """Lines without their terminator; a line longer than ``limit`` is cut to ``limit + 1`` characters
    (enough for the verifier to reject it as too large) and the rest of it skipped, in bounded memory.
    Lines end as the stream's universal newlines say (LF, CR or CRLF, even when a size limit cuts a CRLF)."""
    ends = ("\n", "\r")
    after_cr = False
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        if after_cr and line == "\n":  # the LF of a CRLF whose CR ended the previous, size-limited read
            after_cr = False
            continue
        last = line
        if len(line) > limit and not line.endswith(ends):
            while True:
                last = stream.readline(limit)
                if not last or last.endswith(ends):
                    break
        after_cr = last.endswith("\r")
        yield line.rstrip("\r\n")


def _executor(workers: int | None) -> Any:
    count = workers if workers is not None else (os.cpu_count() or 1)
    if count < 1:
        raise UsageError("--workers must be at least 1")
    if count == 1:
        return None
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=count, mp_context=multiprocessing.get_context("spawn"))


def _progress(what: str, source: str, *, results_on_stdout: bool = False) -> Progress:
    """The progress bar of a batch (stderr, terminals only), with a total when the input is a file; none when
    the results themselves go to a terminal (they show the progress, and a bar would split their lines)."""
    from healthpass._progress import Progress, count_lines

    enabled = sys.stderr.isatty() and not (results_on_stdout and sys.stdout.isatty())
    total = count_lines(source) if enabled and source != "-" else None
    return Progress(what, total=total, enabled=enabled)


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


# ---------------------------------------------------------------- decode / scan


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


def cmd_scan(args: argparse.Namespace) -> int:
    text = _scan_or_fail(args.image)
    if text is None:
        return EXIT_FAILED
    _say(text)
    return EXIT_OK


# ---------------------------------------------------------------- trust


def _issuer_key_spec(spec: str) -> Any:
    from healthpass.model.credential import Kind
    from healthpass.model.regions import Region
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
        key = issuer_key(_read(path, "issuer key"), region=region, max_validity=max_validity)
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
            manifest = json.loads(_read(args.manifest, "manifest"))
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
    from healthpass.trust import TrustList, trust_root
    from healthpass.unverified import inspect_trust_list_unverified

    data = _read(args.file, "trust list")
    if args.root:
        try:
            root = trust_root(_read(args.root, "root key"))
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


# ---------------------------------------------------------------- status


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
    from healthpass.errors import HealthPassError
    from healthpass.model.status import StatusReference, StatusValue
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
    from healthpass.status import StatusDelta
    from healthpass.unverified import inspect_status_list_unverified as inspect_unverified

    signer = _signer(args, "key")
    valid_for = parse_duration(args.valid_for)
    ttl = parse_duration(args.ttl) if args.ttl else None
    base = _read(args.base, "base status list")
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
    from healthpass.status import StatusDelta, StatusList
    from healthpass.trust import KeyRing
    from healthpass.unverified import inspect_status_list_unverified as inspect_unverified

    data = _read(args.file, "status list")
    trusted = bool(args.trust_key or args.trust_list)
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
        region = doc.signer.region.code if doc.signer.region else "*"
        header = f"VERIFIED: signed by kid {doc.signer.kid.hex()} for region {region}"
    _say(header)
    _say(f"{kind} {uri}  issued {iat.isoformat()}  expires {exp.isoformat()}  {summary}")
    return EXIT_OK


class _ShowArgs(argparse.Namespace):
    """The trust options of ``status show``, as ``build_verifier`` reads them."""

    def __init__(self, args: argparse.Namespace) -> None:
        super().__init__(trust_key=args.trust_key, dsc=[], root=args.root, trust_list=args.trust_list,
                         state=None, rules=None, dcc_schema=None, strict_schema=False, status_list=[],
                         status_delta=[], require_status=False)


# ---------------------------------------------------------------- rules


def cmd_rules_eval(args: argparse.Namespace) -> int:
    from healthpass.model.text import escape_json
    from healthpass.rules import eval_jsonl

    for line in eval_jsonl(_bounded_lines(sys.stdin)):
        sys.stdout.write(escape_json(line) + "\n")
    return EXIT_OK


def cmd_rules_test(args: argparse.Namespace) -> int:
    from healthpass.rules.bundle import run_tests_at_path

    passed, failed, details = run_tests_at_path(args.path)
    for line in details:
        _say(line, file=sys.stderr)
    _say(f"{passed} passed, {failed} failed")
    return EXIT_OK if failed == 0 and passed > 0 else EXIT_FAILED


def cmd_rules_build(args: argparse.Namespace) -> int:
    from pathlib import Path

    from healthpass.errors import HealthPassError
    from healthpass.rules.bundle import RuleBundle

    try:
        data = RuleBundle.build(_signer(args, "root_key"), Path(args.rules_dir), seq=args.seq,
                                valid_for=parse_duration(args.valid_for))
    except HealthPassError as err:
        _say(f"healthpass: {err}", file=sys.stderr)
        return EXIT_FAILED
    Path(args.out).write_bytes(data)
    _say(f"rule bundle seq {args.seq} written to {args.out}")
    return EXIT_OK


# ---------------------------------------------------------------- parser


def _keygen_arguments(p: _Parser) -> None:
    p.add_argument("--alg", required=True, help="ES256, EdDSA or SM2 (SM2 needs the healthpass[sm] extra)")
    p.add_argument("--out", required=True, metavar="PREFIX",
                   help="write PREFIX.key.pem (mode 0600) and PREFIX.pub.pem; prints the kid")
    p.add_argument("--password-env", metavar="VAR", help="encrypt the private key with this variable's value")
    _add_pkcs11_options(p)
    p.set_defaults(func=cmd_keygen)


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


def _verify_arguments(p: _Parser) -> None:
    _trust_options(p)
    g = p.add_argument_group("credential status (Token Status Lists)")
    g.add_argument("--status-list", action="append", default=[], metavar="FILE",
                   help="a signed status list (repeatable); codes referencing it must have status valid")
    g.add_argument("--status-delta", action="append", default=[], metavar="FILE",
                   help="a signed status delta, applied to the list it names when that exact list is held")
    g.add_argument("--require-status", action="store_true",
                   help="reject a code whose status list is not held (status_unavailable) instead of warning")
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
    p.add_argument("--status-list", action="append", default=[], metavar="FILE",
                   help="a signed status list (repeatable): a source referencing it must have status valid")
    p.add_argument("--at", metavar="ISO8601", help="the instant of the whole operation (default: now)")
    p.add_argument("--json", action="store_true", help='print {"code", "source"} (or the error object)')
    p.add_argument("--png", metavar="FILE", help="also write the new code's QR as a PNG")
    p.add_argument("text", metavar="TEXT", help="the foreign code's text ('-': read it from stdin)")
    _add_pkcs11_options(p)
    p.set_defaults(func=cmd_transcode)


def _decode_arguments(p: _Parser) -> None:
    p.add_argument("text", metavar="TEXT", help="the code's text, or '-' to read it from standard input")
    p.set_defaults(func=cmd_decode)


def _scan_arguments(p: _Parser) -> None:
    p.add_argument("image", metavar="IMAGE", help="a PNG, JPEG, ... image holding a QR code")
    p.set_defaults(func=cmd_scan)


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


def _rules_arguments(rules: _Parser) -> None:
    rsub = rules.add_subparsers(dest="rules_command", required=True, parser_class=_Parser)
    rsub.add_parser("eval", help="evaluate JSON Lines {logic, data} from stdin", arguments=_rules_eval_arguments)
    rsub.add_parser("test", help="run a bundle's or a rules directory's tests", arguments=_rules_test_arguments)
    rsub.add_parser("build", help="sign a rule bundle", arguments=_rules_build_arguments)


def _rules_eval_arguments(p: _Parser) -> None:
    p.set_defaults(func=cmd_rules_eval)


def _rules_test_arguments(p: _Parser) -> None:
    p.add_argument("path", metavar="BUNDLE_OR_DIR", help="a rule bundle or a rules directory")
    p.set_defaults(func=cmd_rules_test)


def _rules_build_arguments(p: _Parser) -> None:
    p.add_argument("--root-key", metavar="ROOT.key.pem",
                   help="the root's private key (required unless --pkcs11-module)")
    p.add_argument("--password-env", metavar="VAR", help="the environment variable holding the key's password")
    p.add_argument("--seq", type=int, required=True, metavar="N",
                   help="the bundle's sequence number, above every earlier bundle's")
    p.add_argument("--valid-for", required=True, metavar="DURATION", help="how long the bundle is fresh, e.g. 30d")
    p.add_argument("rules_dir", metavar="RULES_DIR", help="the rules directory (rule.json and tests per rule)")
    p.add_argument("--out", required=True, metavar="BUNDLE", help="write the signed bundle here")
    _add_pkcs11_options(p)
    p.set_defaults(func=cmd_rules_build)


#: the sub-commands: name, help line, the function adding their options
_COMMANDS: tuple[tuple[str, str, Callable[[_Parser], None]], ...] = (
    ("keygen", "create a signing key pair", _keygen_arguments),
    ("mint", "sign a credential and print its HP1: text", _mint_arguments),
    ("verify", "verify a code offline", _verify_arguments),
    ("transcode", "re-issue a verified foreign code as a local HP1: code", _transcode_arguments),
    ("decode", "print a code's content WITHOUT verifying it", _decode_arguments),
    ("scan", "print the code text found in an image", _scan_arguments),
    ("trust", "build and inspect trust lists", _trust_arguments),
    ("rules", "CertLogic acceptance rules", _rules_arguments),
    ("status", "credential status lists: registry, publishing, deltas", _status_arguments),
)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command-line parser. A sub-command's options are added only when it is parsed or its help printed;
    with ``command`` (a sub-command name) the other sub-commands are not even built (each costs some 0.1 ms),
    though usage messages still list them all."""
    parser = _Parser(prog="healthpass", description="Mint and verify offline health codes.")
    parser.add_argument("--version", action="version", version=_version())
    names = [name for name, _, _ in _COMMANDS]
    subset = command in names
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser,
                                metavar="{" + ",".join(names) + "}" if subset else None)
    for name, help_text, arguments in _COMMANDS:
        if not subset or name == command:
            sub.add_parser(name, help=help_text, arguments=arguments)
    return parser


def _version() -> str:
    from healthpass import __version__

    return f"healthpass {__version__}"


#: options whose value may start with '-' as a typo (``--valid-for -5h``): argparse would read it as an option
#: and say only "expected one argument"; attached to the option, the value gets a message naming its problem
_VALUE_OPTIONS = frozenset({"--valid-for"})


def _attach_negative_values(argv: Sequence[str]) -> list[str]:
    """``--valid-for -5h`` as ``--valid-for=-5h``."""
    out: list[str] = []
    pending = False
    for token in argv:
        if pending and token[:1] == "-" and token[1:2].isdigit():
            out[-1] = f"{out[-1]}={token}"
        else:
            out.append(token)
        pending = token in _VALUE_OPTIONS
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code (0 success, 1 failed on its input, 2 usage error).

    Without ``argv`` this is the ``healthpass`` program (the console script, ``python -m healthpass``) on
    ``sys.argv``, about to exit: a one-shot command (everything but ``--batch`` and ``rules``) runs without the
    cyclic garbage collector, and the objects left at the end are frozen (``gc.freeze``) so that the
    interpreter's shutdown does not scan them. That is about a tenth of a one-code ``verify``: its start-up
    allocates some 20,000 long-lived objects (classes, functions, tables) that the collector would otherwise
    traverse a few times while importing and twice more at exit, for nothing.
    """
    if argv is not None:
        return _run(build_parser(argv[0] if argv else None).parse_args(_attach_negative_values(argv)))
    import gc

    collecting = gc.isenabled()
    gc.disable()
    try:
        args = build_parser(sys.argv[1] if len(sys.argv) > 1 else None).parse_args(
            _attach_negative_values(sys.argv[1:]))
        if collecting and not _one_shot(args):
            gc.enable()
        return _run(args)
    finally:
        gc.freeze()
        if collecting:
            gc.enable()


def _one_shot(args: argparse.Namespace) -> bool:
    """Whether the command handles one bounded input (its garbage is bounded too)."""
    return args.command in {"keygen", "decode", "scan", "trust", "transcode", "status"} or (
        args.command in {"verify", "mint"} and args.batch is None
    )


def _run(args: argparse.Namespace) -> int:
    from healthpass.errors import HealthPassError

    try:
        code: int = args.func(args)
    except UsageError as err:
        _say(f"healthpass: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except _InputFailure as failure:
        _say(f"healthpass: {failure.error}", file=sys.stderr)
        return EXIT_FAILED
    except BrokenPipeError:
        return EXIT_FAILED
    except HealthPassError as err:  # e.g. a signer that cannot sign, a trust list that does not load
        _say(f"healthpass: {err}", file=sys.stderr)
        return EXIT_FAILED
    except ValueError as err:  # an option value the library refused (e.g. a negative --seq)
        _say(f"healthpass: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as err:  # e.g. an --out file that cannot be written
        _say(f"healthpass: cannot write or read a file: {err.strerror or err}", file=sys.stderr)
        return EXIT_FAILED
    return code


if __name__ == "__main__":
    raise SystemExit(main())
