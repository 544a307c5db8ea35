"""EU DCC conformance harness: runs the ``EXPECTEDRESULTS`` flags of the EU test data through healthpass.

Shared by ``tests/test_eu_dcc.py`` and ``tools/eu_conformance.py`` (no pytest import here). The data is the
dgc-testdata repository (``<shared>/vectors/dgc-testdata``); its README defines the flags. Every gated flag
is mapped to one healthpass pipeline stage and error code, decided before the verifier runs:

=================  ====================================================  ============================================
flag               true: must hold                                        false: must fail with
=================  ====================================================  ============================================
UNPREFIX           ``split_prefix(PREFIX)`` is HC1 and the rest == BASE45  ``prefix_invalid`` at ``prefix``
B45DECODE          ``b45decode(BASE45)`` == COMPRESSED                    ``base45_invalid`` at ``base45``
COMPRESSION        ``decompress(COMPRESSED)`` == COSE                     ``decompress_failed`` at ``decompress``
PICTUREDECODE      ``qr.scan(picture)`` == PREFIX                         ScanError (no code / not an image) or
                                                                          another text
DECODE             COSE -> COSE_Sign1 -> claims -> DCC; DCC == CBOR       ``cbor_invalid``/``cose_invalid``/
                                                                          ``claims_invalid`` (decoding stages)
VALIDJSON          PREFIX -> ... -> DCC (whole chain); DCC == JSON        any DecodeError, or DCC != JSON
VERIFY             verifier passes the key and signature stages           ``key_unknown`` at ``key`` or
                                                                          ``signature_invalid`` at ``signature``
KEYUSAGE           verifier passes the scope stage                        ``usage_not_allowed`` at ``scope``
EXPIRATIONCHECK    verifier passes the validity stage                     at ``validity``, the code computed from
                                                                          the data (see below)
=================  ====================================================  ============================================

The verifier flags (VERIFY, KEYUSAGE, EXPIRATIONCHECK) run :class:`healthpass.verify.Verifier` on the text
``HC1:`` + base45(zlib(COSE)) with the DSC of ``TESTCTX.CERTIFICATE`` as the only trusted key (loaded by
:func:`healthpass.trust.issuer_key`) at ``TESTCTX.VALIDATIONCLOCK`` under the default policy. EXPIRATIONCHECK
is checked on its own, with the certificate's DCC key-usage restriction lifted (KEYUSAGE is its own flag).
The expected code of EXPIRATIONCHECK=false follows the pipeline order: ``key_expired`` when ``iat`` precedes
or ``exp`` exceeds the certificate validity, else ``expired`` when the clock is past ``exp`` + leeway, else
``not_yet_valid`` when it is before ``iat`` - leeway (claims and certificate read with cbor2 and
cryptography, independently of healthpass).

A flag set to true whose stage is not reached because the pipeline stopped earlier, exactly as another flag
of the same file set to false demands (e.g. KEYUSAGE=true after VERIFY=false), is *unreachable*: reported,
not gated. When a field a check reads is absent, the check reads the nearest earlier encoding (e.g. no COSE:
the decoded PREFIX).

``EXPECTEDSCHEMAVALIDATION``/``EXPECTEDVALIDOBJECT`` are compared with :class:`DccSchemas` and reported,
never gated; ``EXPECTEDENCODE`` (issuer side) and misspelt flags are listed as not applicable.

Skip-list (``tests/eu_dcc_skiplist.csv``: ``path,flag,reason``, ``path`` may use ``*`` wildcards): a listed
check that fails is *skipped*; one that passes is *stale* (the entry must go), which fails the test.
"""

from __future__ import annotations

import base64
import csv
import dataclasses
import fnmatch
import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any

import cbor2

from healthpass.codec import (
    Prefix,
    b45decode,
    b45encode,
    compress,
    decode_claims,
    decode_sign1,
    decompress,
    split_prefix,
)
from healthpass.errors import DecodeError, ErrorCode, HealthPassError, ScanError, Stage
from healthpass.formats import eu_dcc
from healthpass.model.policy import Limits
from healthpass.model.trust import IssuerKey
from healthpass.trust import issuer_key
from healthpass.verify import Verifier, VerifierPolicy

__all__ = [
    "GATED_FLAGS",
    "REPORTED_FLAGS",
    "Case",
    "Check",
    "FileReport",
    "Outcome",
    "SkipList",
    "evaluate",
    "find_pictures",
    "load_cases",
    "markdown",
    "parse_clock",
    "summarise",
]

GATED_FLAGS = (
    "UNPREFIX", "B45DECODE", "COMPRESSION", "PICTUREDECODE", "DECODE", "VALIDJSON", "VERIFY", "KEYUSAGE",
    "EXPIRATIONCHECK",
)
REPORTED_FLAGS = ("SCHEMAVALIDATION", "VALIDOBJECT")
#: Flags of the data that a verifier cannot check (issuer side), or misspelt ones.
NOT_APPLICABLE = ("ENCODE",)

#: Pipeline order of the stages (verify.py module docstring).
STAGE_ORDER = (
    Stage.PREFIX, Stage.BASE45, Stage.DECOMPRESS, Stage.CBOR, Stage.COSE, Stage.ALGORITHM, Stage.TRUST_LIST,
    Stage.KEY, Stage.SIGNATURE, Stage.CLAIMS, Stage.SCHEMA, Stage.SCOPE, Stage.VALIDITY, Stage.POLICY,
)
_RANK = {stage: i for i, stage in enumerate(STAGE_ORDER)}
_LIMITS = Limits()
_POLICY = VerifierPolicy()
_DECODE_CODES = frozenset({ErrorCode.CBOR_INVALID, ErrorCode.COSE_INVALID, ErrorCode.CLAIMS_INVALID})


class Outcome(StrEnum):
    PASS = "passed"
    FAIL = "failed"
    SKIPPED = "skipped"  # listed in the skip-list and failing
    STALE = "stale"  # listed in the skip-list but passing: the entry must be removed
    UNREACHABLE = "unreachable"  # an earlier expected failure of the same file stops the pipeline first
    UNAVAILABLE = "unavailable"  # a tool the check needs is not installed (e.g. a QR reader)


@dataclass(frozen=True, slots=True)
class Check:
    flag: str
    expected: bool
    outcome: Outcome
    detail: str = ""


# ------------------------------------------------------------------------------------------------ inputs


_CLOCK = re.compile(
    r"\A(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}(?::\d{2})?)(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}(?::?\d{2})?)?\Z"
)


def parse_clock(text: str) -> datetime:
    """``TESTCTX.VALIDATIONCLOCK``: ISO 8601 with or without a zone (none = UTC), up to 9 fractional digits
    (truncated to microseconds), offsets as ``+02:00``, ``+0200`` or ``Z``. Raises ValueError."""
    match = _CLOCK.match(text.strip())
    if match is None:
        raise ValueError(f"not an ISO 8601 date-time: {text!r}")
    day, clock, fraction, zone = match.groups()
    if len(clock) == 5:
        clock += ":00"
    micro = (fraction or "").ljust(6, "0")[:6]
    if zone in (None, "Z", "z"):
        offset = "+00:00"
    else:
        digits = zone[1:].replace(":", "")
        offset = f"{zone[0]}{digits[:2]}:{(digits[2:] or '00')}"
    return datetime.fromisoformat(f"{day}T{clock}.{micro}{offset}").astimezone(UTC)


def _picture_key(stem: str) -> str:
    return stem.lower().replace("-", "_").removesuffix("_raw")


def find_pictures(root: Path, path: Path, doc: Mapping[str, Any]) -> list[tuple[str, bytes]]:
    """The pictures of a test file: its ``2DCODE``; without one, the PNG beside the JSON files with the same
    name (``png/<name>.png``, ``_Raw`` dropped, ``-``/``_`` alike, IE: ``<name>_qr.png``; the rule of
    tests/test_qr.py)."""
    if isinstance(doc.get("2DCODE"), str):
        return [("2DCODE", base64.b64decode(doc["2DCODE"]))]
    found = []
    for folder in (path.parent.parent / "png", path.parent.parent.parent / "png"):
        if not folder.is_dir():
            continue
        pngs = {_picture_key(p.stem): p for p in folder.glob("*.png")}
        for key in (_picture_key(path.stem), _picture_key(path.stem) + "_qr"):
            if key in pngs:
                found.append((str(pngs[key].relative_to(root)), pngs[key].read_bytes()))
    return found


@dataclass
class Case:
    """One test file of the EU data."""

    root: Path
    path: Path
    doc: dict[str, Any]

    @property
    def name(self) -> str:
        return self.path.relative_to(self.root).as_posix()

    @property
    def country(self) -> str:
        return self.name.split("/", 1)[0]

    @property
    def expected(self) -> dict[str, bool]:
        """``EXPECTEDRESULTS`` without the ``EXPECTED`` prefix (only boolean values)."""
        raw = self.doc.get("EXPECTEDRESULTS", {})
        return {k.removeprefix("EXPECTED"): v for k, v in raw.items() if isinstance(v, bool)}

    @property
    def clock(self) -> datetime:
        return parse_clock(self.doc["TESTCTX"]["VALIDATIONCLOCK"])

    def field_bytes(self, name: str) -> bytes | None:
        value = self.doc.get(name)
        return bytes.fromhex(value) if isinstance(value, str) and value else None

    # The text reaching each stage, from the field the EU README names (else the nearest earlier one).

    def base45_text(self) -> str:
        base45 = self.doc.get("BASE45")
        if isinstance(base45, str):
            return base45
        text = str(self.doc["PREFIX"])
        return text[4:] if text.startswith("HC1:") else text

    def compressed(self) -> bytes:
        data = self.field_bytes("COMPRESSED")
        return data if data is not None else b45decode(self.base45_text())

    def cose(self) -> bytes:
        data = self.field_bytes("COSE")
        return data if data is not None else decompress(self.compressed(), max_size=_LIMITS.max_decompressed)

    def cose_text(self) -> str:
        """``HC1:`` + base45(zlib(COSE)): the verifier's input for the verification flags."""
        data = self.field_bytes("COSE")
        if data is None:
            return str(self.doc["PREFIX"])
        return Prefix.HC1.value + b45encode(compress(data))

    @cached_property
    def key(self) -> IssuerKey | None:
        try:
            return issuer_key(str(self.doc["TESTCTX"]["CERTIFICATE"]).encode(), source="dsc")
        except (ValueError, KeyError):
            return None


def load_cases(root: Path) -> list[Case]:
    """Every test file (a JSON object with ``EXPECTEDRESULTS``) under ``root``, sorted by path."""
    cases = []
    for path in sorted(root.rglob("*.json")):
        try:
            doc = json.loads(path.read_text(encoding="utf-8-sig"))
        except ValueError:
            continue
        if isinstance(doc, dict) and isinstance(doc.get("EXPECTEDRESULTS"), dict):
            cases.append(Case(root, path, doc))
    return cases


class SkipList:
    """``path,flag,reason`` rows; ``path`` is relative to the dgc-testdata root and may use ``*``."""

    def __init__(self, rows: Iterable[tuple[str, str, str]]) -> None:
        self.rows = [(p.strip(), f.strip().upper().removeprefix("EXPECTED"), r.strip()) for p, f, r in rows]

    @classmethod
    def load(cls, path: Path) -> SkipList:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = [r for r in csv.reader(handle) if r and not r[0].lstrip().startswith("#")]
        if not rows or [c.strip() for c in rows[0]] != ["path", "flag", "reason"]:
            raise ValueError(f"{path}: the header must be path,flag,reason")
        for row in rows[1:]:
            if len(row) != 3 or not all(c.strip() for c in row):
                raise ValueError(f"{path}: every row needs path, flag and reason: {row}")
        return cls((r[0], r[1], r[2]) for r in rows[1:])

    def reason(self, name: str, flag: str) -> str | None:
        for pattern, listed, reason in self.rows:
            if listed == flag and fnmatch.fnmatchcase(name, pattern):
                return reason
        return None


# -------------------------------------------------------------------------------------- the checks


def _error_text(err: BaseException | None) -> str:
    if err is None:
        return "no error"
    if isinstance(err, HealthPassError):
        return f"{err.code.value} at {err.stage.value}"
    return f"{type(err).__name__}: {err}"


def _cbor_value(value: Any) -> Any:
    """A decoded CBOR value in JSON terms (for comparing with the JSON field)."""
    if isinstance(value, dict):
        return {str(k): _cbor_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_cbor_value(v) for v in value]
    if isinstance(value, cbor2.CBORTag):
        return _cbor_value(value.value)
    return value


def _same(left: Any, right: Any) -> bool:
    """Equality of JSON values, numbers compared by value (``1 == 1.0``), booleans distinct from numbers."""
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_same(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(_same(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left == right
    return type(left) is type(right) and left == right


def _decode(cose: bytes) -> tuple[bytes, dict[str, Any]]:
    """The claims bytes and the DCC of a COSE message, decoded by healthpass's HC1 decoding stages."""
    sign1 = decode_sign1(cose, limits=_LIMITS, strict=False)
    claims = decode_claims(sign1.payload, limits=_LIMITS, strict=False)
    return sign1.payload, eu_dcc.extract(claims)


def _decode_dcc(cose: bytes) -> dict[str, Any]:
    return _decode(cose)[1]


def _verifier_error(case: Case, *, neutral_usage: bool, schemas: object | None) -> HealthPassError | None:
    key = case.key
    assert key is not None
    if neutral_usage:
        key = dataclasses.replace(key, dcc_types=None)
    policy = dataclasses.replace(_POLICY, dcc_schemas=schemas)
    try:
        Verifier(keys=[key], policy=policy).verify(case.cose_text(), at=case.clock)
    except HealthPassError as err:
        return err
    return None


def expected_validity_code(case: Case, leeway: timedelta = _POLICY.leeway) -> ErrorCode | None:
    """The validity error the data calls for at the clock (pipeline order), read without healthpass."""
    from cryptography import x509

    value = cbor2.loads(case.cose())
    while isinstance(value, cbor2.CBORTag):
        value = value.value
    claims = cbor2.loads(value[2])
    iat = None if claims.get(6) is None else int(claims[6])
    exp = None if claims.get(4) is None else int(claims[4])
    nbf = None if claims.get(5) is None else int(claims[5])
    cert = x509.load_der_x509_certificate(base64.b64decode(case.doc["TESTCTX"]["CERTIFICATE"]))
    start, end = cert.not_valid_before_utc.timestamp(), cert.not_valid_after_utc.timestamp()
    if (iat is not None and iat < start) or (exp is not None and exp > end):
        return ErrorCode.KEY_EXPIRED
    now, slack = case.clock.timestamp(), leeway.total_seconds()
    if exp is not None and now > exp + slack:
        return ErrorCode.EXPIRED
    if any(t is not None and now < t - slack for t in (nbf, iat)):
        return ErrorCode.NOT_YET_VALID
    return None


def _false_matches(flag: str, case: Case, err: HealthPassError | None) -> bool:
    """Whether ``err`` is the failure a false ``flag`` demands (for the verifier flags)."""
    if err is None:
        return False
    if flag == "VERIFY":
        return (err.code, err.stage) in {(ErrorCode.KEY_UNKNOWN, Stage.KEY),
                                         (ErrorCode.SIGNATURE_INVALID, Stage.SIGNATURE)}
    if flag == "KEYUSAGE":
        return err.code is ErrorCode.USAGE_NOT_ALLOWED and err.stage is Stage.SCOPE
    if flag == "EXPIRATIONCHECK":
        try:
            wanted = expected_validity_code(case)
        except Exception:
            return False
        return wanted is not None and err.code is wanted and err.stage is Stage.VALIDITY
    if flag == "DECODE":
        return err.code in _DECODE_CODES
    return False


@dataclass
class _Run:
    """One file's evaluation; the verifier runs once per variant and is shared by the flags."""

    case: Case
    schemas: object | None
    pictures: bool
    _errors: dict[bool, HealthPassError | None] = field(default_factory=dict)

    def verifier_error(self, *, neutral_usage: bool = False) -> HealthPassError | None:
        if neutral_usage not in self._errors:
            self._errors[neutral_usage] = _verifier_error(self.case, neutral_usage=neutral_usage,
                                                          schemas=self.schemas)
        return self._errors[neutral_usage]

    def explained(self, err: HealthPassError | None) -> bool:
        return any(not value and _false_matches(flag, self.case, err) for flag, value in self.case.expected.items())

    # Each returns (passed, detail); UNREACHABLE/UNAVAILABLE are signalled with the outcome directly.

    def check_unprefix(self, expected: bool) -> tuple[Outcome, str]:
        text = str(self.case.doc["PREFIX"])
        if not expected:
            err = _verify_text(text)
            ok = err is not None and err.code is ErrorCode.PREFIX_INVALID and err.stage is Stage.PREFIX
            return _outcome(ok), _error_text(err)
        try:
            prefix, body = split_prefix(text, max_text=_LIMITS.max_text)
        except DecodeError as err:
            return Outcome.FAIL, _error_text(err)
        base45 = self.case.doc.get("BASE45")
        if prefix is not Prefix.HC1:
            return Outcome.FAIL, f"prefix {prefix.value}"
        if isinstance(base45, str) and body != base45:
            return Outcome.FAIL, "the text after HC1: differs from BASE45"
        return Outcome.PASS, ""

    def check_b45decode(self, expected: bool) -> tuple[Outcome, str]:
        source = self.case.base45_text()
        if not expected:
            err = _verify_text(Prefix.HC1.value + source)
            ok = err is not None and err.code is ErrorCode.BASE45_INVALID and err.stage is Stage.BASE45
            return _outcome(ok), _error_text(err)
        try:
            data = b45decode(source)
        except DecodeError as err:
            return Outcome.FAIL, _error_text(err)
        wanted = self.case.field_bytes("COMPRESSED")
        if wanted is not None and data != wanted:
            return Outcome.FAIL, "base45 decodes to bytes other than COMPRESSED"
        return Outcome.PASS, ""

    def check_compression(self, expected: bool) -> tuple[Outcome, str]:
        try:
            source = self.case.compressed()
        except DecodeError as err:
            return Outcome.FAIL, f"input not available: {_error_text(err)}"
        if not expected:
            failure = _verify_text(Prefix.HC1.value + b45encode(source))
            ok = failure is not None and (failure.code, failure.stage) == (ErrorCode.DECOMPRESS_FAILED,
                                                                           Stage.DECOMPRESS)
            return _outcome(ok), _error_text(failure)
        try:
            data = decompress(source, max_size=_LIMITS.max_decompressed)
        except DecodeError as err:
            return Outcome.FAIL, _error_text(err)
        wanted = self.case.field_bytes("COSE")
        if wanted is not None and data != wanted:
            return Outcome.FAIL, "zlib inflates to bytes other than COSE"
        return Outcome.PASS, ""

    def check_picturedecode(self, expected: bool) -> tuple[Outcome, str]:
        if not self.pictures:
            return Outcome.UNAVAILABLE, "picture checks disabled"
        try:
            from healthpass import qr
        except ImportError as err:
            return Outcome.UNAVAILABLE, f"healthpass.qr is not importable ({err})"
        pictures = find_pictures(self.case.root, self.case.path, self.case.doc)
        if not pictures:
            return Outcome.FAIL, "no picture: neither 2DCODE nor a matching PNG file"
        prefix = str(self.case.doc["PREFIX"])
        results = []
        for source, data in pictures:
            try:
                text: str | None = qr.scan(data)
                detail = "decodes to PREFIX" if text == prefix else "decodes to another text"
            except ScanError as err:
                text, detail = None, _error_text(err)
            except ImportError as err:
                return Outcome.UNAVAILABLE, f"no QR reader installed ({err})"
            results.append((text == prefix, f"{source}: {detail}"))
        ok = all(r for r, _ in results) if expected else not any(r for r, _ in results)
        return _outcome(ok), "; ".join(d for _, d in results)

    def check_decode(self, expected: bool) -> tuple[Outcome, str]:
        try:
            payload, dcc = _decode(self.case.cose())
        except DecodeError as err:
            ok = not expected and err.code in _DECODE_CODES
            return _outcome(ok), _error_text(err)
        if not expected:
            return Outcome.FAIL, "decodes"
        wanted = self.case.field_bytes("CBOR")
        if wanted is None:
            return Outcome.PASS, "no CBOR field to compare"
        try:
            reference = _cbor_value(cbor2.loads(wanted))
        except Exception as err:
            return Outcome.FAIL, f"the CBOR field does not decode ({type(err).__name__})"
        # Most files hold the DCC in CBOR; some (NL, FR, CZ, ...) the whole claims set.
        if isinstance(reference, dict) and "-260" in reference:
            if not _same(_cbor_value(cbor2.loads(payload)), reference):
                return Outcome.FAIL, "the CWT claims differ from the CBOR field"
        elif not _same(_cbor_value(dcc), reference):
            return Outcome.FAIL, "the DCC differs from the CBOR field"
        return Outcome.PASS, ""

    def check_validjson(self, expected: bool) -> tuple[Outcome, str]:
        try:
            _, body = split_prefix(str(self.case.doc["PREFIX"]), max_text=_LIMITS.max_text)
            dcc = _decode_dcc(decompress(b45decode(body), max_size=_LIMITS.max_decompressed))
        except DecodeError as err:
            return _outcome(not expected), _error_text(err)
        wanted = self.case.doc.get("JSON")
        if not isinstance(wanted, dict):
            return Outcome.FAIL, "no JSON field to compare"
        same = _same(_cbor_value(dcc), wanted)
        return _outcome(same == expected), "" if same else "the DCC differs from the JSON field"

    def _pipeline(self, flag: str, expected: bool, *, neutral_usage: bool, after: Stage) -> tuple[Outcome, str]:
        if self.case.key is None:
            return Outcome.FAIL, "TESTCTX.CERTIFICATE does not load as a DSC"
        err = self.verifier_error(neutral_usage=neutral_usage)
        if not expected:
            return _outcome(_false_matches(flag, self.case, err)), _error_text(err)
        if err is None or _RANK[err.stage] > _RANK[after]:
            return Outcome.PASS, _error_text(err)
        if err.stage is not after and self.explained(err):
            return Outcome.UNREACHABLE, f"stopped earlier, as expected: {_error_text(err)}"
        return Outcome.FAIL, _error_text(err)

    def check_verify(self, expected: bool) -> tuple[Outcome, str]:
        return self._pipeline("VERIFY", expected, neutral_usage=False, after=Stage.SIGNATURE)

    def check_keyusage(self, expected: bool) -> tuple[Outcome, str]:
        return self._pipeline("KEYUSAGE", expected, neutral_usage=False, after=Stage.SCOPE)

    def check_expirationcheck(self, expected: bool) -> tuple[Outcome, str]:
        return self._pipeline("EXPIRATIONCHECK", expected, neutral_usage=True, after=Stage.VALIDITY)


def _outcome(ok: bool) -> Outcome:
    return Outcome.PASS if ok else Outcome.FAIL


def _verify_text(text: str) -> HealthPassError | None:
    try:
        Verifier(keys=()).verify(text)
    except HealthPassError as err:
        return err
    return None


_CHECKS: Mapping[str, Callable[[_Run, bool], tuple[Outcome, str]]] = {
    "UNPREFIX": _Run.check_unprefix,
    "B45DECODE": _Run.check_b45decode,
    "COMPRESSION": _Run.check_compression,
    "PICTUREDECODE": _Run.check_picturedecode,
    "DECODE": _Run.check_decode,
    "VALIDJSON": _Run.check_validjson,
    "VERIFY": _Run.check_verify,
    "KEYUSAGE": _Run.check_keyusage,
    "EXPIRATIONCHECK": _Run.check_expirationcheck,
}


@dataclass(frozen=True, slots=True)
class FileReport:
    name: str
    country: str
    checks: tuple[Check, ...]
    #: SCHEMAVALIDATION / VALIDOBJECT: (flag, expected, our verdict or None when no schema applies)
    schema: tuple[tuple[str, bool, bool | None], ...]
    not_applicable: tuple[str, ...]


def evaluate(case: Case, skiplist: SkipList, *, schemas: object | None = None, pictures: bool = True) -> FileReport:
    """Run every flag of one test file."""
    run = _Run(case, schemas, pictures)
    checks = []
    expected = case.expected
    for flag in GATED_FLAGS:
        if flag not in expected:
            continue
        try:
            outcome, detail = _CHECKS[flag](run, expected[flag])
        except Exception as err:  # a harness or data problem is a failure, never a crash of the run
            outcome, detail = Outcome.FAIL, f"check raised {type(err).__name__}: {err}"
        reason = skiplist.reason(case.name, flag)
        if reason is not None and outcome is not Outcome.UNAVAILABLE:
            outcome = Outcome.STALE if outcome in (Outcome.PASS, Outcome.UNREACHABLE) else Outcome.SKIPPED
            detail = f"{reason} [{detail}]"
        checks.append(Check(flag, expected[flag], outcome, detail))
    schema: list[tuple[str, bool, bool | None]] = []
    if isinstance(schemas, eu_dcc.DccSchemas):
        verdict: bool | None
        try:
            verdict = schemas.check(_decode_dcc(case.cose())).valid
        except Exception:
            verdict = None
        schema = [(flag, expected[flag], verdict) for flag in REPORTED_FLAGS if flag in expected]
    others = tuple(sorted(set(expected) - set(GATED_FLAGS) - set(REPORTED_FLAGS)))
    return FileReport(case.name, case.country, tuple(checks), tuple(schema), others)


# ---------------------------------------------------------------------------------------------- summary


def summarise(reports: Sequence[FileReport]) -> dict[str, Any]:
    """Counts per flag and per country (gated checks), schema agreement, not-applicable flags."""
    by_flag: dict[str, Counter[str]] = {flag: Counter() for flag in GATED_FLAGS}
    by_country: dict[str, Counter[str]] = defaultdict(Counter)
    schema: dict[str, Counter[str]] = {flag: Counter() for flag in REPORTED_FLAGS}
    others: Counter[str] = Counter()
    for report in reports:
        for check in report.checks:
            by_flag[check.flag][check.outcome.value] += 1
            by_country[report.country][check.outcome.value] += 1
        for flag, expected, verdict in report.schema:
            key = "no schema" if verdict is None else ("agree" if verdict == expected else "disagree")
            schema[flag][key] += 1
        others.update(report.not_applicable)
    return {
        "files": len(reports),
        "by_flag": {k: dict(v) for k, v in by_flag.items()},
        "by_country": {k: dict(by_country[k]) for k in sorted(by_country)},
        "schema_flags": {k: dict(v) for k, v in schema.items()},
        "not_applicable": dict(sorted(others.items())),
    }


def _rate(counts: Mapping[str, int]) -> str:
    passed, failed = counts.get("passed", 0), counts.get("failed", 0) + counts.get("stale", 0)
    gated = passed + failed
    return f"{100 * passed / gated:.1f} %" if gated else "-"


def markdown(summary: Mapping[str, Any]) -> str:
    """The summary as markdown tables."""
    columns = [o.value for o in Outcome]
    out = [f"EU DCC test data: {summary['files']} files.", ""]
    for title, rows in (("flag", summary["by_flag"]), ("country", summary["by_country"])):
        out.append(f"| {title} | " + " | ".join(columns) + " | pass rate |")
        out.append("|---|" + "---:|" * (len(columns) + 1))
        total: Counter[str] = Counter()
        for name, counts in rows.items():
            total.update(counts)
            out.append(f"| {name} | " + " | ".join(str(counts.get(c, 0)) for c in columns)
                       + f" | {_rate(counts)} |")
        out.append("| **all** | " + " | ".join(str(total.get(c, 0)) for c in columns) + f" | {_rate(total)} |")
        out.append("")
    out.append("Pass rate = passed / (passed + failed + stale); skipped, unreachable and unavailable checks "
               "are not gated.")
    out.append("")
    out.append("| reported flag (not gated) | agree | disagree | no schema |")
    out.append("|---|---:|---:|---:|")
    for flag, counts in summary["schema_flags"].items():
        out.append(f"| {flag} | {counts.get('agree', 0)} | {counts.get('disagree', 0)} | "
                   f"{counts.get('no schema', 0)} |")
    if summary["not_applicable"]:
        out.append("")
        out.append("Flags not checked (issuer side or misspelt): "
                   + ", ".join(f"{k} ({v})" for k, v in summary["not_applicable"].items()))
    return "\n".join(out) + "\n"
