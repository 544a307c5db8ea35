"""Signed rule bundles: CertLogic acceptance rules distributed like trust lists, and applied to credentials.

A rule bundle is a rules directory (EU-style rule folders, each ``rule.json`` with ``tests/*.json``, plus
an optional ``profiles.json`` and ``valueSets.json``) signed by a trust-list root.  It travels in the same
container as a trust list (:mod:`healthpass.documents`: a COSE_Sign1 over ``{1: version, 2: seq,
3: issued_at, 4: not_after, 5: body}`` with content type ``application/healthpass-rules+cbor``), and is
guarded by the same anti-rollback state (namespace ``rules-<root kid>``) and freshness checks; this module
parses only the body.

The body is a CBOR map holding the files' JSON *text*, exactly as written (UTF-8 strings)::

    {1: [rule_json_text, ...],                      # one per rule, in folder order
     2: profiles_json_text,                         # "{}" when the directory has no profiles.json
     3: [[rule_id, test_file_name, test_json_text], ...],
     4: value_sets_json_text}                       # optional: the EU value sets given to rules

Every embedded test is run when the bundle is built *and again* when it is loaded, on the loading
device's engine: a bundle whose tests do not all pass there is refused (``rule_tests_failed``), so two
devices can never silently disagree on what a rule means.

:meth:`RuleBundle.apply` evaluates the rules against a verified credential in the data context documented
in ``docs/rules.md`` (:meth:`RuleBundle.context`) and attaches per-rule results, or raises
:class:`~healthpass.errors.PolicyError` naming the rules that failed.  Time is always an input.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import InitVar, dataclass, field
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from pathlib import Path
from typing import Any, ClassVar, Final, Literal, NoReturn, Protocol, TypeVar

from healthpass.codec import decode_sign1
from healthpass.codec.signed_doc import ContentType, decode_envelope, encode_envelope
from healthpass.documents import (
    LOAD_TOKEN,
    RULE_BUNDLE,
    open_signed,
    record,
    refuse_subclass,
    require_fresh,
    require_loaded,
    seal,
)
from healthpass.errors import DecodeError, ErrorCode, HealthPassError, PolicyError, RuleError, Stage, TrustListError
from healthpass.model.cose import HeaderLabel
from healthpass.model.credential import HealthPayload
from healthpass.model.jsonform import payload_to_json
from healthpass.model.policy import MAX_DOCUMENT_BYTES, Limits
from healthpass.model.provenance import Provenance
from healthpass.model.regions import Region
from healthpass.model.signer import Signer
from healthpass.model.time import aware, format_iso, from_numeric_date, parse_iso, to_numeric_date
from healthpass.model.trust import TrustRoot
from healthpass.rules.certlogic import EuRuleTestOutcome, evaluate, run_eu_rule_tests, to_json_value, validate
from healthpass.state import (
    StateStore,
    _read_regular,  # the state directory's bounded reader of regular files
)

__all__ = [
    "BUNDLE_LIMITS",
    "CERTIFICATE_TYPES",
    "COUNTRY_CODE",
    "HEALTHPASS_CERTIFICATE_TYPE",
    "BodyKey",
    "CredentialView",
    "Profile",
    "Rule",
    "RuleBundle",
    "RuleTest",
    "RuleTestOutcome",
    "RulesRejected",
    "run_tests_at_path",
]

#: The ``CertificateType`` of rules applied to healthpass (``HP1:``) codes.
HEALTHPASS_CERTIFICATE_TYPE: Final = "HealthPass"
#: Every ``CertificateType`` a rule may have: healthpass codes, and the EU's four for EU DCCs.
CERTIFICATE_TYPES: Final = frozenset({HEALTHPASS_CERTIFICATE_TYPE, "General", "Vaccination", "Test", "Recovery"})
#: ``external.countryCode``: the country of the verifier.
COUNTRY_CODE: Final = "CN"
#: Decoding bounds for bundles (the whole body is one COSE payload string).
BUNDLE_LIMITS: Final = Limits(max_decompressed=1 << 26, max_items=1 << 16, max_string=1 << 24)

_RULE_TYPES: Final = frozenset({"Acceptance", "Invalidation"})
_ENGINE: Final = "CERTLOGIC"
_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_DCC_CERTIFICATE_TYPES: Final = (("v", "Vaccination"), ("t", "Test"), ("r", "Recovery"))
_MAX_LISTED: Final = 10  # failing tests named in one message


class CredentialView(Protocol):
    """What rules need of a verified credential (``healthpass.verify.VerifiedCredential`` fits): a frozen
    dataclass whose ``rules`` field receives the per-rule results."""

    __dataclass_fields__: ClassVar[dict[str, Any]]

    @property
    def issuer(self) -> str | None: ...

    @property
    def issued_at(self) -> datetime | None: ...

    @property
    def expires_at(self) -> datetime | None: ...

    @property
    def payload(self) -> HealthPayload | None: ...

    @property
    def dcc(self) -> Mapping[str, Any] | None: ...

    @property
    def issuer_region(self) -> Region | None: ...

    @property
    def transcoded_from(self) -> Provenance | None: ...


C = TypeVar("C", bound=CredentialView)


class RulesRejected(PolicyError):
    """``policy_rejected`` raised by :meth:`RuleBundle.apply`: ``failed_rules`` names the rules that failed,
    ``results`` holds every applied rule's ``{"id", "passed", "description"[, "error"]}``."""

    __slots__ = ()


class BodyKey(IntEnum):
    """Keys of a rule bundle's body map."""

    RULES = 1
    PROFILES = 2
    TESTS = 3
    VALUE_SETS = 4


# ---------------------------------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rule:
    """One validated rule. ``text`` is its ``rule.json`` exactly as signed; ``logic`` is parsed from it."""

    identifier: str
    rule_type: str
    country: str
    version: str
    certificate_type: str
    descriptions: tuple[tuple[str, str], ...]
    valid_from: datetime
    valid_to: datetime
    text: str = field(repr=False)
    logic: Any = field(compare=False, repr=False)

    def description(self) -> dict[str, str]:
        """``{lang: text}`` for every language the rule describes itself in (e.g. ``zh``, ``en``)."""
        return dict(self.descriptions)

    def in_force(self, now: datetime) -> bool:
        """Whether ``now`` lies in ``[ValidFrom, ValidTo]``."""
        return self.valid_from <= now <= self.valid_to


@dataclass(frozen=True, slots=True)
class Profile:
    """A named set of rule ids (a checkpoint profile), with optional string attributes such as
    ``province`` or ``venue`` that rules see as ``external.profile.<attribute>``."""

    name: str
    rule_ids: tuple[str, ...]
    attributes: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class RuleTest:
    """One embedded test: the rule it tests, its file name and its JSON text as signed."""

    rule_id: str
    file: str
    text: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class RuleTestOutcome:
    """The outcome of running one embedded test on this engine."""

    rule_id: str
    file: str
    name: str | None
    status: Literal["passed", "failed", "skipped"]
    problem: str | None = None  # why it failed (never a data value from the test's payload)

    def describe(self) -> str:
        label = f"{self.rule_id}/{self.file}" + (f" ({self.name})" if self.name else "")
        if self.status == "passed":
            return f"PASS {label}"
        if self.status == "skipped":
            return f"SKIP {label}"
        return f"FAIL {label}: {self.problem}"


# ---------------------------------------------------------------------------------------------------
# JSON text -> validated values
# ---------------------------------------------------------------------------------------------------


def _invalid(message: str) -> RuleError:
    return RuleError(ErrorCode.RULE_INVALID, Stage.RULES, message)


def _container_invalid(message: str) -> TrustListError:
    return TrustListError(ErrorCode.TRUST_LIST_INVALID, Stage.RULES, message)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError("duplicate object key")
        out[key] = value
    return out


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _parse_json(text: str, what: str) -> Any:
    """Strict JSON: no duplicate keys (parsers disagree on them), no NaN/Infinity."""
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
    except json.JSONDecodeError as err:  # where the syntax breaks (the text itself is never repeated)
        raise _invalid(f"{what} is not valid JSON: {err.msg} at line {err.lineno} column {err.colno}") from None
    except (ValueError, RecursionError):
        raise _invalid(f"{what} is not valid JSON (or has duplicate keys)") from None


def _string(obj: Mapping[str, Any], key: str, where: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise _invalid(f"{where}: {key} must be a non-empty string")
    return value


def _instant(obj: Mapping[str, Any], key: str, where: str) -> datetime:
    try:
        return parse_iso(_string(obj, key, where), name=f"{where}: {key}")
    except ValueError as err:
        raise _invalid(str(err)) from None


def _descriptions(value: Any, where: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, list) or not value:
        raise _invalid(f"{where}: Description must be a non-empty array of {{lang, desc}} objects")
    out: dict[str, str] = {}
    for item in value:
        if not (isinstance(item, dict) and isinstance(item.get("lang"), str) and item["lang"]
                and isinstance(item.get("desc"), str) and item["desc"]):
            raise _invalid(f"{where}: each Description entry must have a non-empty lang and desc")
        if item["lang"] in out:
            raise _invalid(f"{where}: Description has language {item['lang'][:8]!r} twice")
        out[item["lang"]] = item["desc"]
    return tuple(out.items())


def _parse_rule(text: str, where: str) -> Rule:
    obj = _parse_json(text, where)
    if not isinstance(obj, dict):
        raise _invalid(f"{where}: a rule must be a JSON object")
    identifier = _string(obj, "Identifier", where)
    if not _NAME.fullmatch(identifier):
        raise _invalid(f"{where}: Identifier must be 1-64 letters, digits, '.', '_' or '-'")
    where = f"rule {identifier}"
    rule_type = _string(obj, "Type", where)
    if rule_type not in _RULE_TYPES:
        raise _invalid(f"{where}: Type must be one of {', '.join(sorted(_RULE_TYPES))}")
    if _string(obj, "Engine", where) != _ENGINE:
        raise _invalid(f"{where}: Engine must be {_ENGINE}")
    for key in ("SchemaVersion", "EngineVersion"):
        _string(obj, key, where)
    certificate_type = _string(obj, "CertificateType", where)
    if certificate_type not in CERTIFICATE_TYPES:
        raise _invalid(f"{where}: CertificateType must be one of {', '.join(sorted(CERTIFICATE_TYPES))}")
    valid_from, valid_to = _instant(obj, "ValidFrom", where), _instant(obj, "ValidTo", where)
    if valid_to <= valid_from:
        raise _invalid(f"{where}: ValidTo must follow ValidFrom")
    fields = obj.get("AffectedFields", [])
    if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        raise _invalid(f"{where}: AffectedFields must be an array of strings")
    if "Logic" not in obj:
        raise _invalid(f'{where}: no "Logic"')
    problems = validate(obj["Logic"])
    if problems:
        extra = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise _invalid(f"{where}: invalid CertLogic: {problems[0]}{extra}")
    return Rule(
        identifier=identifier,
        rule_type=rule_type,
        country=_string(obj, "Country", where),
        version=_string(obj, "Version", where),
        certificate_type=certificate_type,
        descriptions=_descriptions(obj.get("Description"), where),
        valid_from=valid_from,
        valid_to=valid_to,
        text=text,
        logic=_freeze(obj["Logic"]),
    )


def _parse_profiles(text: str, known: Iterable[str]) -> tuple[Profile, ...]:
    obj = _parse_json(text, "profiles.json")
    if not isinstance(obj, dict):
        raise _invalid("profiles.json must be an object mapping profile names to rule ids")
    ids = set(known)
    profiles = []
    for name, spec in obj.items():
        if not _NAME.fullmatch(name):
            raise _invalid("profile names must be 1-64 letters, digits, '.', '_' or '-'")
        attributes: dict[str, Any] = {}
        rule_ids = spec
        if isinstance(spec, dict):
            attributes = {k: v for k, v in spec.items() if k != "rules"}
            rule_ids = spec.get("rules")
        if not isinstance(rule_ids, list) or not rule_ids or not all(isinstance(r, str) for r in rule_ids):
            raise _invalid(f"profile {name}: needs a non-empty array of rule ids")
        if len(set(rule_ids)) != len(rule_ids):
            raise _invalid(f"profile {name}: names a rule twice")
        unknown = [r for r in rule_ids if r not in ids]
        if unknown:
            raise _invalid(f"profile {name}: unknown rule {unknown[0][:64]}")
        if "name" in attributes or not all(isinstance(k, str) and isinstance(v, str) for k, v in attributes.items()):
            raise _invalid(f'profile {name}: attributes other than "rules" must be strings (and not "name")')
        profiles.append(Profile(name, tuple(rule_ids), tuple(sorted(attributes.items()))))
    return tuple(profiles)


def _parse_value_sets(text: str) -> dict[str, Any]:
    obj = _parse_json(text, "valueSets.json")
    if not isinstance(obj, dict):
        raise _invalid("valueSets.json must be a JSON object")
    return _freeze(obj)  # type: ignore[no-any-return]


def _read_only(*_: object, **__: object) -> NoReturn:
    raise TypeError("a rule bundle's rules and value sets are read-only (verified when the bundle loaded)")


class _FrozenDict(dict[Any, Any]):
    """A JSON object of a verified bundle (a rule's logic, the value sets): shared by every verification and handed
    out by :meth:`RuleBundle.context` and ``Rule.logic``, so it refuses changes (a caller editing it changed the
    verified rules of every later verification); CertLogic reads it as the dict it is."""

    __slots__ = ()
    __setitem__ = __delitem__ = __ior__ = clear = pop = popitem = setdefault = update = _read_only

    def __reduce__(self) -> tuple[object, ...]:
        return (_FrozenDict, (dict(self),))


class _FrozenList(list[Any]):
    """A JSON array of a verified bundle (see :class:`_FrozenDict`)."""

    __slots__ = ()
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _read_only
    append = extend = insert = pop = remove = clear = sort = reverse = _read_only

    def __reduce__(self) -> tuple[object, ...]:
        return (_FrozenList, (list(self),))


def _freeze(value: Any) -> Any:
    """``value`` (parsed JSON) with every object and array read-only."""
    if isinstance(value, dict):
        return _FrozenDict({key: _freeze(item) for key, item in value.items()})
    if isinstance(value, list):
        return _FrozenList(_freeze(item) for item in value)
    return value


@dataclass(frozen=True, slots=True)
class _Contents:
    """What a rules directory or a bundle body holds, validated (tests not yet run)."""

    rules: tuple[Rule, ...]
    profiles_text: str
    profiles: tuple[Profile, ...]
    tests: tuple[RuleTest, ...]
    value_sets_text: str | None
    value_sets: dict[str, Any] = field(compare=False, repr=False)


def _contents(
    rule_texts: Sequence[tuple[str, str]],
    profiles_text: str,
    tests: Sequence[RuleTest],
    value_sets_text: str | None,
) -> _Contents:
    """Validate rules (``(where, text)`` pairs), profiles, tests' attachment, and value sets."""
    if not rule_texts:
        raise _invalid("there are no rules")
    rules = tuple(_parse_rule(text, where) for where, text in rule_texts)
    ids = [rule.identifier for rule in rules]
    seen: set[str] = set()
    for identifier in ids:
        if identifier in seen:
            raise _invalid(f"rule {identifier} is defined twice")
        seen.add(identifier)
    tested = {test.rule_id for test in tests}
    if not tested <= seen:
        unknown = next(test for test in tests if test.rule_id not in seen)
        raise _invalid(f"test {unknown.file[:64]} is attached to unknown rule {unknown.rule_id[:64]}")
    untested = [identifier for identifier in ids if identifier not in tested]
    if untested:
        raise RuleError(ErrorCode.RULE_TESTS_FAILED, Stage.RULES,
                        f"rule {untested[0]} has no tests (every rule needs at least one)")
    profiles = _parse_profiles(profiles_text, ids)
    value_sets = _parse_value_sets(value_sets_text) if value_sets_text is not None else _FrozenDict()
    return _Contents(rules, profiles_text, profiles, tuple(tests), value_sets_text, value_sets)


# ---------------------------------------------------------------------------------------------------
# Running tests
# ---------------------------------------------------------------------------------------------------


def _canonical(value: Any) -> Any:
    """A form in which ``==`` is CertLogic's strict equality (``true`` is not ``1``; ``2.0`` is ``2``)."""
    if isinstance(value, bool):
        return ("boolean", value)
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value) and value.is_integer()):
        return ("integer", int(value))
    if isinstance(value, float):
        return ("number", value)
    if isinstance(value, str):
        return ("string", value)
    if value is None:
        return ("null",)
    if isinstance(value, list):
        return ("array", tuple(_canonical(item) for item in value))
    if isinstance(value, dict):
        return ("object", tuple(sorted((key, _canonical(item)) for key, item in value.items())))
    if isinstance(value, datetime):
        return ("date-time", value.astimezone(UTC))
    return ("other", id(value))


def _run_test(logic_by_id: Mapping[str, Any], test: RuleTest) -> RuleTestOutcome:
    try:
        obj = json.loads(test.text, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        obj = None
    if not isinstance(obj, dict) or "expected" not in obj:
        return RuleTestOutcome(test.rule_id, test.file, None, "failed", "not a valid rule test (JSON object "
                               'with "expected")')
    name = obj["name"] if isinstance(obj.get("name"), str) else None
    if obj.get("directive") == "skip":
        return RuleTestOutcome(test.rule_id, test.file, name, "skipped")
    data = {"payload": obj.get("payload"), "external": obj.get("external", {})}
    try:
        actual = evaluate(logic_by_id[test.rule_id], data)
    except RuleError as err:
        return RuleTestOutcome(test.rule_id, test.file, name, "failed", err.message)
    try:
        same = _canonical(actual) == _canonical(obj["expected"])
    except RecursionError:
        same = False
    if same:
        return RuleTestOutcome(test.rule_id, test.file, name, "passed")
    problem = f"expected {_short_json(obj['expected'])}, got {_short_json(actual)}"
    return RuleTestOutcome(test.rule_id, test.file, name, "failed", problem)


def _short_json(value: Any) -> str:
    try:
        text = json.dumps(to_json_value(value), ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        return "a value that is not JSON"
    return text if len(text) <= 40 else text[:40] + "..."


def _run_tests(contents: _Contents) -> tuple[RuleTestOutcome, ...]:
    logic_by_id = {rule.identifier: rule.logic for rule in contents.rules}
    return tuple(_run_test(logic_by_id, test) for test in contents.tests)


def _require_passing(outcomes: Sequence[RuleTestOutcome], when: str) -> None:
    failed = [o for o in outcomes if o.status == "failed"]
    if failed:
        listed = ", ".join(f"{o.rule_id}/{o.file}" for o in failed[:_MAX_LISTED])
        more = f" and {len(failed) - _MAX_LISTED} more" if len(failed) > _MAX_LISTED else ""
        raise RuleError(ErrorCode.RULE_TESTS_FAILED, Stage.RULES,
                        f"{when}: {len(failed)} of {len(outcomes)} embedded rule tests failed on this engine "
                        f"({listed}{more}); first: {failed[0].problem}")
    for rule_id in {o.rule_id for o in outcomes}:
        if not any(o.rule_id == rule_id and o.status == "passed" for o in outcomes):
            raise RuleError(ErrorCode.RULE_TESTS_FAILED, Stage.RULES,
                            f"{when}: rule {rule_id} has no test that runs (all are skipped)")


# ---------------------------------------------------------------------------------------------------
# Reading a rules directory, encoding and decoding the body
# ---------------------------------------------------------------------------------------------------


def _read_text(path: Path, what: str) -> str:
    """A file of a rules directory: a regular file (never a FIFO or a device) of at most one bundle string."""
    try:
        data = _read_regular(path, BUNDLE_LIMITS.max_string + 1)
    except OSError:
        raise _invalid(f"cannot read {what}") from None
    if len(data) > BUNDLE_LIMITS.max_string:
        raise _invalid(f"{what} is larger than {BUNDLE_LIMITS.max_string} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise _invalid(f"{what} is not UTF-8") from None


def _rule_folders(root: Path) -> list[Path]:
    if (root / "rule.json").is_file():
        return [root]
    return sorted(child for child in root.iterdir() if (child / "rule.json").is_file())


def _read_directory(rules_dir: Path) -> _Contents:
    if not rules_dir.is_dir():
        raise _invalid("the rules path is not a directory")
    rule_texts: list[tuple[str, str]] = []
    tests: list[RuleTest] = []
    for folder in _rule_folders(rules_dir):
        where = f"{folder.name}/rule.json"
        text = _read_text(folder / "rule.json", where)
        rule_texts.append((where, text))
        identifier = _parse_rule(text, where).identifier
        tests_dir = folder / "tests"
        test_files = sorted(tests_dir.glob("*.json")) if tests_dir.is_dir() else []
        tests.extend(RuleTest(identifier, path.name, _read_text(path, f"{folder.name}/tests/{path.name}"))
                     for path in test_files)
    profiles_path = rules_dir / "profiles.json"
    profiles_text = _read_text(profiles_path, "profiles.json") if profiles_path.is_file() else "{}"
    value_sets_path = rules_dir / "valueSets.json"
    value_sets_text = _read_text(value_sets_path, "valueSets.json") if value_sets_path.is_file() else None
    return _contents(rule_texts, profiles_text, tests, value_sets_text)


def _encode_body(contents: _Contents) -> dict[int, Any]:
    body: dict[int, Any] = {
        BodyKey.RULES.value: [rule.text for rule in contents.rules],
        BodyKey.PROFILES.value: contents.profiles_text,
        BodyKey.TESTS.value: [[t.rule_id, t.file, t.text] for t in contents.tests],
    }
    if contents.value_sets_text is not None:
        body[BodyKey.VALUE_SETS.value] = contents.value_sets_text
    return body


def _decode_body(body: Any) -> _Contents:
    if type(body) is not dict or not {1, 2, 3} <= set(body) <= {k.value for k in BodyKey}:
        raise _container_invalid("body is not a map with keys 1-3 (and optionally 4)")
    rules, profiles, tests = body[BodyKey.RULES], body[BodyKey.PROFILES], body[BodyKey.TESTS]
    value_sets = body.get(BodyKey.VALUE_SETS)
    if type(rules) is not list or not all(type(r) is str for r in rules):
        raise _container_invalid("body rules must be an array of JSON texts")
    if type(profiles) is not str or (value_sets is not None and type(value_sets) is not str):
        raise _container_invalid("body profiles and value sets must be JSON texts")
    if type(tests) is not list or not all(
        type(t) is list and len(t) == 3 and all(type(part) is str for part in t) for t in tests
    ):
        raise _container_invalid("body tests must be an array of [rule id, file name, JSON text]")
    rule_texts = [(f"rule #{index}", text) for index, text in enumerate(rules)]
    return _contents(rule_texts, profiles, [RuleTest(*t) for t in tests], value_sets)


def _decode_payload(payload: bytes, limits: Limits) -> tuple[int, int, int, _Contents]:
    try:
        _, seq, issued, not_after, body = decode_envelope(payload, limits=limits, stage=Stage.RULES,
                                                          code=ErrorCode.TRUST_LIST_INVALID,
                                                          versions=RULE_BUNDLE.versions)
    except DecodeError as err:
        raise _container_invalid(err.message) from err
    return seq, issued, not_after, _decode_body(body)


# ---------------------------------------------------------------------------------------------------
# The data context
# ---------------------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A plain JSON value (dicts with string keys, lists) from decoded CBOR; bytes become hex."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, bytes):
        return value.hex()
    return value


def _certificate_types(credential: CredentialView) -> frozenset[str]:
    if credential.dcc is None:
        return frozenset({HEALTHPASS_CERTIFICATE_TYPE})
    present = {name for key, name in _DCC_CERTIFICATE_TYPES if credential.dcc.get(key)}
    return frozenset({"General", *present})


def _optional_time(value: datetime | None) -> str | None:
    return format_iso(value) if value is not None else None


# ---------------------------------------------------------------------------------------------------
# The bundle
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, repr=False)  # __repr__ below
class RuleBundle:
    """A verified rule bundle: rules, checkpoint profiles, embedded tests and optional EU value sets.

    Obtain one with :meth:`load` (verifies signature, root, anti-rollback state, and re-runs every
    embedded test on this engine); publish one with :meth:`build`; apply it with :meth:`apply` (or pass it
    to ``Verifier(rules=...)``).  ``clock_floor`` is the bundle's issue time: a verification time before it
    means the device clock is wrong (``clock_untrusted``).  The bundle governs only the codes its root vouches
    for (:meth:`governs`): a national root's bundle every code, a regional root's only codes issued in its
    regions.
    """

    seq: int
    issued_at: datetime
    not_after: datetime
    root: TrustRoot
    rules: tuple[Rule, ...]
    profiles: tuple[Profile, ...]
    tests: tuple[RuleTest, ...]
    clock_floor: datetime
    value_sets_text: str | None = field(default=None, repr=False)
    value_sets: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    _proof: InitVar[object] = None

    def __post_init__(self, _proof: object) -> None:
        require_loaded(_proof, "RuleBundle")

    def __init_subclass__(cls, **kwargs: object) -> None:
        refuse_subclass(cls)

    def __repr__(self) -> str:
        return (f"RuleBundle(seq={self.seq}, issued_at={self.issued_at.isoformat()}, "
                f"not_after={self.not_after.isoformat()}, rules={len(self.rules)}, "
                f"profiles={[p.name for p in self.profiles]}, root={self.root.kid.hex()})")

    # -- publishing ---------------------------------------------------------------------------------

    @staticmethod
    def build(
        signer: Signer,
        rules_dir: str | os.PathLike[str],
        *,
        seq: int,
        valid_for: timedelta,
        now: datetime | None = None,
    ) -> bytes:
        """Sign the rules in ``rules_dir`` with the root ``signer``; return the bundle bytes.

        Every rule is validated and every embedded test run first.  Raises RuleError: ``rule_invalid``
        (a rule, profile or value-set file is invalid, ``seq``/``valid_for`` out of range),
        ``rule_tests_failed`` (a test fails, or a rule has no test that runs); ValueError for a naive ``now``
        (the issue time, a timezone-aware datetime; the current time by default), TypeError for one that is
        no datetime.
        """
        if type(seq) is not int or not 0 <= seq <= 2**53:
            raise _invalid("seq must be a non-negative integer")
        if not isinstance(valid_for, timedelta) or valid_for < timedelta(seconds=1):
            raise _invalid("valid_for must be at least one second")
        issued_at = to_numeric_date(now if now is not None else datetime.now(UTC), "now")
        contents = _read_directory(Path(rules_dir))
        _require_passing(_run_tests(contents), "refusing to build the bundle")
        not_after = issued_at + int(valid_for.total_seconds())
        body = _encode_body(contents)
        try:
            _decode_payload(encode_envelope(seq, issued_at, not_after, body), BUNDLE_LIMITS)  # must round-trip
        except HealthPassError as err:
            raise _invalid(f"the bundle would not load: {err.message}") from err
        return seal(signer, RULE_BUNDLE, seq=seq, issued_at=issued_at, not_after=not_after, body=body)

    # -- loading ------------------------------------------------------------------------------------

    @classmethod
    def load(
        cls,
        data: bytes,
        roots: Sequence[TrustRoot],
        *,
        state: StateStore | None = None,
        limits: Limits | None = None,
    ) -> RuleBundle:
        """Verify and decode a rule bundle signed by one of ``roots``.

        Raises TrustListError at stage ``rules``: ``trust_list_invalid`` (undecodable, wrong content type,
        unknown root, bad signature, malformed body), ``trust_list_rollback`` (``state`` accepted a later
        bundle from this root); RuleError: ``rule_invalid`` (a rule or profile is invalid),
        ``rule_tests_failed`` (an embedded test fails on this engine).  Nothing of a refused bundle is used,
        and it is not recorded in ``state``.  Expiry is judged at each :meth:`apply`.
        """
        limits = limits or BUNDLE_LIMITS
        root, payload = open_signed(data, roots, RULE_BUNDLE, limits=limits)
        seq, issued, not_after, contents = _decode_payload(payload, limits)
        _require_passing(_run_tests(contents), "refusing the bundle")
        if state is not None:
            record(state, RULE_BUNDLE, root.kid, seq=seq, issued_at=issued, data=data)
        # the clock floor follows the newest accepted bundle of this root, which this one now is
        return cls(seq, from_numeric_date(issued), from_numeric_date(not_after), root, contents.rules,
                   contents.profiles, contents.tests, from_numeric_date(issued), contents.value_sets_text,
                   contents.value_sets, LOAD_TOKEN)

    # -- applying -----------------------------------------------------------------------------------

    def governs(self, credential: CredentialView) -> bool:
        """Whether this bundle's root governs the rules for ``credential``: a root with no region scope (the
        national root) governs every code; a root scoped to regions governs only ``HP1:`` codes issued in
        them, never another region's codes nor EU certificates (``docs/rules.md``, "Who governs rules")."""
        return self.root.vouches_for(credential.issuer_region)

    def profile(self, name: str) -> Profile:
        """The profile called ``name``. Raises RuleError(``rule_invalid``) when there is none."""
        for profile in self.profiles:
            if profile.name == name:
                return profile
        raise _invalid(f"the rule bundle has no profile {name[:64]!r}")

    def select(self, credential: CredentialView, *, now: datetime, profile: str | None = None) -> tuple[Rule, ...]:
        """The rules applied to ``credential`` at ``now``: those of ``profile`` (all rules when None) whose
        ``CertificateType`` matches the credential and which are in force at ``now``."""
        now = aware(now, "now")
        wanted = set(self.profile(profile).rule_ids) if profile is not None else None
        types = _certificate_types(credential)
        return tuple(
            rule for rule in self.rules
            if (wanted is None or rule.identifier in wanted) and rule.certificate_type in types
            and rule.in_force(now)
        )

    def context(
        self, credential: CredentialView, *, now: datetime, profile: str | None = None
    ) -> dict[str, Any]:
        """The CertLogic data context ``{"payload": ..., "external": ...}`` for ``credential`` at ``now``
        (documented in ``docs/rules.md``)."""
        now = aware(now, "now")
        attributes = dict(self.profile(profile).attributes) if profile is not None else {}
        external: dict[str, Any] = {
            "validationClock": format_iso(now),
            "countryCode": COUNTRY_CODE,
            "valueSets": self.value_sets,
            "profile": {"name": profile, **attributes},
        }
        if credential.dcc is not None:
            external.update({
                "issuerCountryCode": credential.issuer,
                "iat": _optional_time(credential.issued_at),
                "exp": _optional_time(credential.expires_at),
            })
            return {"payload": _plain(credential.dcc), "external": external}
        payload = payload_to_json(credential.payload) if credential.payload is not None else {}
        payload.update({
            "issuer": credential.issuer,
            "issued_at": _optional_time(credential.issued_at),
            "expires_at": _optional_time(credential.expires_at),
            "transcoded_from": (credential.transcoded_from.to_json()
                                if credential.transcoded_from is not None else None),
        })
        return {"payload": payload, "external": external}

    def apply(self, credential: C, *, now: datetime, profile: str | None = None) -> C:
        """Evaluate the selected rules (:meth:`select`) against ``credential`` at ``now``.

        A rule passes when it evaluates to exactly ``true``; an evaluation error fails it.  Returns the
        credential with ``rules`` set to one ``{"id", "passed", "description"}`` dict per rule (plus
        ``"error"`` when evaluation failed).

        Raises :class:`RulesRejected` (a PolicyError, ``policy_rejected``) first when the bundle's root does
        not govern rules for this credential (:meth:`governs`: a regional root's bundle applied to another
        region's code; fail closed, nothing is evaluated); TrustListError at stage ``rules``:
        ``trust_list_expired`` (``now`` is past the bundle's not-after), ``clock_untrusted`` (``now``
        precedes the bundle's issue time); RuleError ``rule_invalid`` for an unknown profile;
        :class:`RulesRejected` when a rule fails, or when no rule applies to this kind of credential (fail
        closed): ``failed_rules`` lists the failed rule ids, ``results`` every applied rule's result.
        ValueError for a naive ``now``, TypeError for one that is no datetime (as :meth:`select` and
        :meth:`context`).
        """
        now = aware(now, "now")
        if not self.governs(credential):
            region = credential.issuer_region
            scope = ",".join(sorted(r.code for r in self.root.regions or ()))
            raise RulesRejected(
                f"the rule bundle's root {self.root.kid.hex()} governs rules only for regions {scope}, not for "
                + (f"codes of region {region.code}" if region is not None else "codes without a healthpass region")
            )
        require_fresh(RULE_BUNDLE, subject=f"the rule bundle (seq {self.seq})", issued_at=self.clock_floor,
                      not_after=self.not_after, now=now)
        selected = self.select(credential, now=now, profile=profile)
        scope = f"profile {profile}" if profile is not None else "the rule bundle"
        if not selected:
            raise RulesRejected(f"no rule of {scope} applies to this kind of credential at this time")
        context = self.context(credential, now=now, profile=profile)
        results: list[dict[str, Any]] = []
        for rule in selected:
            error = None
            try:
                passed = evaluate(rule.logic, context) is True
            except RuleError as err:
                passed, error = False, err.message
            result: dict[str, Any] = {"id": rule.identifier, "passed": passed, "description": rule.description()}
            if error is not None:
                result["error"] = error
            results.append(result)
        failed = tuple(r["id"] for r in results if not r["passed"])
        if failed:
            raise RulesRejected(f"{len(failed)} of {len(results)} rules of {scope} failed: {', '.join(failed)}",
                                failed, tuple(results))
        return dataclasses.replace(credential, rules=tuple(results))


# ---------------------------------------------------------------------------------------------------
# ``healthpass rules test``
# ---------------------------------------------------------------------------------------------------


def _describe_eu(outcome: EuRuleTestOutcome) -> str:
    label = f"{outcome.rule}/{outcome.test}" + (f" ({outcome.name})" if outcome.name else "")
    if outcome.status == "skipped":
        return f"SKIP {label}"
    problem = outcome.error or f"expected {_short_json(outcome.expected)}, got {_short_json(outcome.actual)}"
    return f"FAIL {label}: {problem}"


def _test_directory(root: Path) -> tuple[int, int, list[str]]:
    report = run_eu_rule_tests(root)
    details = [_describe_eu(o) for o in report.details if o.status != "passed"]
    passed, failed = report.passed, report.failed
    if failed == 0:
        try:
            _read_directory(root)  # what ``rules build`` would also refuse: metadata, profiles, untested rules
        except RuleError as err:
            failed += 1
            details.append(f"FAIL cannot be built into a bundle: {err}")
    return passed, failed, details


def _test_bundle_file(path: Path) -> tuple[int, int, list[str]]:
    details = ["UNVERIFIED: the bundle's signature and root were not checked (no root is given to this "
               "command); only its embedded tests were run"]
    try:
        data = _read_regular(path, MAX_DOCUMENT_BYTES + 1)
    except OSError:
        return 0, 1, [*details, "FAIL cannot read the bundle file"]
    if len(data) > MAX_DOCUMENT_BYTES:
        return 0, 1, [*details, f"FAIL not a readable rule bundle: larger than {MAX_DOCUMENT_BYTES} bytes"]
    try:
        msg = decode_sign1(data, limits=BUNDLE_LIMITS, strict=True)
        if msg.protected_header.get(HeaderLabel.CONTENT_TYPE) != ContentType.RULE_BUNDLE.value:
            raise _container_invalid(f"content type is not {ContentType.RULE_BUNDLE.value}")
        _, _, _, contents = _decode_payload(msg.payload, BUNDLE_LIMITS)
    except HealthPassError as err:
        return 0, 1, [*details, f"FAIL not a readable rule bundle: {err}"]
    outcomes = _run_tests(contents)
    details.extend(o.describe() for o in outcomes if o.status != "passed")
    return (sum(1 for o in outcomes if o.status == "passed"), sum(1 for o in outcomes if o.status == "failed"),
            details)


def run_tests_at_path(path: str | os.PathLike[str]) -> tuple[int, int, list[str]]:
    """Run rule tests: ``(passed, failed, details)``; ``details`` has one line per failed or skipped test.

    A directory holds EU-style rule folders (``<RULE>/rule.json`` and ``<RULE>/tests/*.json``, see
    :func:`~healthpass.rules.certlogic.run_eu_rule_tests`); when all its tests pass it is also checked as
    ``rules build`` would check it (one more failure if it could not be built).  A file is a rule bundle,
    decoded WITHOUT verifying its signature (the first detail line says so), whose embedded tests are run.
    """
    target = Path(path)
    if target.is_dir():
        return _test_directory(target)
    if target.is_file():
        return _test_bundle_file(target)
    return 0, 1, ["FAIL the path is neither a rules directory nor a bundle file"]
