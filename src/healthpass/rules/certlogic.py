"""A CertLogic evaluator and validator (CertLogic specification 1.3.3).

CertLogic is the restricted, JSON-encoded subset of JsonLogic used for EU DCC business rules.  This
module implements:

* :func:`validate` / :func:`validation_issues` -- the structural check of an expression, done before
  any evaluation (unknown operators, wrong arity, non-literal ``plusTime`` amounts, bad ``var`` paths,
  non-integer numbers, nesting deeper than :data:`MAX_DEPTH`);
* :func:`evaluate` -- evaluation of a valid expression against a JSON data context;
* :func:`eval_jsonl` -- the JSON Lines loop behind ``healthpass rules eval``;
* :func:`run_eu_rule_tests` -- the runner of EU-style rule folders behind ``healthpass rules test``.

Values are the JSON values as decoded by :mod:`json` (``dict``, ``list``, ``str``, ``int``, ``float``,
``bool``, ``None``) plus date-times, which only ``plusTime`` and ``dccDateOfBirth`` construct: they are
timezone-aware :class:`datetime.datetime` objects in UTC with millisecond precision.  :func:`to_json_value`
renders them as ``YYYY-MM-DDThh:mm:ss.sssZ`` (JavaScript's ``Date.prototype.toJSON``).

Semantics worth knowing (all from the specification, the reference implementation or its test suite):

* ``bool`` is never an integer: ``true`` is not ``1``, neither for ``===``/``in`` nor for comparisons
  or ``+``.  A number with a zero fractional part (``2.0``) is an integer, as in JSON Schema.
* Truthy: ``true``, non-empty strings and arrays and objects, non-zero integers.  Falsy: ``false``,
  ``null``, ``""``, ``0``, ``[]``, ``{}``.  Anything else (a date-time, a non-integer number) is neither,
  and ``if``, ``and`` and ``!`` raise an error on it.
* ``plusTime`` adds years/months/days/hours with the JavaScript ``Date.setUTC*`` semantics: the day of
  the month *overflows* rather than clamps (2021-01-31 + 1 month = 2021-03-03, 2020-02-29 + 1 year =
  2021-03-01).  Partial dates (``YYYY``, ``YYYY-MM``) are read as ``dccDateOfBirth`` reads them: the
  last day they can mean.
* ``reduce`` on ``null`` yields the initial value; ``in`` on a non-array right-hand side is an error.
* ``===`` is strict, structural equality of JSON values (date-times compare by instant).

Every failure is a :class:`~healthpass.errors.RuleError`: ``RULE_INVALID`` for an invalid expression,
``RULE_EVALUATION_FAILED`` for an error during evaluation.  Messages name the operator and the location
in the expression (``$.and[1].plusTime[0]``), never a data value.

Standard library only.
"""

from __future__ import annotations

import json
import operator as _operator
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, Literal, NamedTuple

from healthpass.errors import ErrorCode, RuleError, Stage

__all__ = [
    "DEFAULT_OPERATION_BUDGET",
    "MAX_DEPTH",
    "MAX_SAFE_INTEGER",
    "EuRuleTestOutcome",
    "EuRuleTestReport",
    "ValidationIssue",
    "eval_jsonl",
    "evaluate",
    "is_falsy",
    "is_truthy",
    "run_eu_rule_tests",
    "to_json_value",
    "validate",
    "validation_issues",
]

MAX_DEPTH: Final = 64
"""How deeply operations and arrays may nest in an expression (the root is level 1; literals are no level)."""

DEFAULT_OPERATION_BUDGET: Final = 100_000
"""How many operations one :func:`evaluate` may spend (see ``docs/rules.md``, "Evaluation budget").

One unit per sub-expression evaluated (operations, ``var``, literals, array elements; each ``reduce`` step
evaluates its lambda again), per further fragment of a ``var`` path, two per pair of values ``===``/``in``
compare, one per value of the result, and one per 8 characters of a string that ``plusTime``,
``dccDateOfBirth``, ``extractFromUVCI`` or a ``var`` path makes it read.  The EU rules
and every national rule of the CertLogic test data need at most a few hundred; the whole budget is spent in
well under a second.  Past it, evaluation stops with ``rule_budget_exceeded``."""

MAX_SAFE_INTEGER: Final = 2**53 - 1
"""The largest integer ``+`` may produce (JavaScript's ``Number.MAX_SAFE_INTEGER``; beyond it the reference
implementation loses precision).  A larger sum is an evaluation error, which also keeps repeated doubling in
``reduce`` from building huge numbers."""

_TIME_UNITS: Final = ("year", "month", "day", "hour")
_CHARACTERS_PER_OPERATION: Final = 8  # string parsing is charged one operation per this many characters
_MAX_MESSAGE_NAME: Final = 40  # operator names quoted in messages are cut to this length


# ---------------------------------------------------------------------------------------------------
# Values: kinds, truthiness, strict equality
# ---------------------------------------------------------------------------------------------------


def _is_integer(value: Any) -> bool:
    """An integer in the JSON sense: ``int`` but not ``bool``, or a float with no fractional part."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and value.is_integer()


def _kind(value: Any) -> str:
    """The name of a value's type, for messages (never the value itself)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if _is_integer(value):
        return "integer"
    if isinstance(value, float):
        return "non-integer number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, datetime):
        return "date-time"
    return "non-JSON value"


def is_truthy(value: Any) -> bool:
    """CertLogic truthiness: ``true``, a non-empty string/array/object, or a non-zero integer."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str | list | dict):
        return len(value) > 0
    return _is_integer(value) and value != 0


def is_falsy(value: Any) -> bool:
    """CertLogic falsiness: ``false``, ``null``, ``""``, ``0``, ``[]`` or ``{}``.

    Not the negation of :func:`is_truthy`: date-times and non-integer numbers are neither.
    """
    if value is None:
        return True
    if isinstance(value, bool):
        return not value
    if isinstance(value, str | list | dict):
        return len(value) == 0
    return _is_integer(value) and value == 0


_NUMBER_KINDS: Final = frozenset({"integer", "non-integer number"})


class _Failure(Exception):
    """An evaluation error; ``segments`` collects the location while it propagates (innermost first)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.segments: list[str] = []


class _OverBudget(_Failure):
    """The evaluation spent its operation budget."""


class _Budget:
    """The operations one evaluation may still spend (a fresh one per :func:`evaluate` call)."""

    __slots__ = ("left", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.left = limit

    def spend(self, operations: int = 1) -> None:
        self.left -= operations
        if self.left < 0:
            raise _OverBudget(f"the evaluation exceeded its budget of {self.limit} operations")

    def parse(self, text: str) -> None:
        """Charge the parsing of ``text``: one operation per started group of characters."""
        self.spend(1 + len(text) // _CHARACTERS_PER_OPERATION)


def _unbounded() -> _Budget:
    return _Budget(1 << 62)


def _strict_equal(left: Any, right: Any, budget: _Budget | None = None) -> bool:
    """Equality without type coercion, structural on arrays and objects; iterative (no recursion).

    Values built by ``reduce`` may share sub-values, so their size is not bounded by the memory they use:
    each pair compared is charged to ``budget``."""
    spend = (budget or _unbounded()).spend
    pending = [(left, right)]
    while pending:
        spend(2)  # a pair costs about twice an evaluation step
        a, b = pending.pop()
        kind = _kind(a)
        if kind != _kind(b):
            if not (kind in _NUMBER_KINDS and _kind(b) in _NUMBER_KINDS and a == b):
                return False
        elif kind == "array":
            if len(a) != len(b):
                return False
            pending.extend(zip(a, b, strict=True))
        elif kind == "object":
            if a.keys() != b.keys():
                return False
            pending.extend((a[key], b[key]) for key in a)
        elif kind == "non-JSON value":
            if a is not b:
                return False
        elif a != b:
            return False
    return True


def to_json_value(value: Any) -> Any:
    """``value`` with every date-time replaced by its ``YYYY-MM-DDThh:mm:ss.sssZ`` string."""
    if isinstance(value, datetime):
        return _format_date_time(value)
    if isinstance(value, list):
        return [to_json_value(item) for item in value]
    if isinstance(value, dict):
        return {key: to_json_value(item) for key, item in value.items()}
    return value


def _format_date_time(value: datetime) -> str:
    utc = value.astimezone(UTC) if value.tzinfo is not None else value
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


# ---------------------------------------------------------------------------------------------------
# Date-times
# ---------------------------------------------------------------------------------------------------

_DATE_TIME: Final = re.compile(
    r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})"
    r"(?:T(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})(?:\.(?P<fraction>[0-9]+))?"
    r"(?:(?P<zulu>Z)|(?P<sign>[+-])(?P<offset_hours>[0-9]{1,2})(?::?(?P<offset_minutes>[0-9]{2}))?)?)?"
)
_PARTIAL_DATE: Final = re.compile(r"(?P<year>[0-9]{4})(?:-(?P<month>[0-9]{2}))?")
_DATE_OF_BIRTH: Final = re.compile(r"(?P<year>[0-9]{4})(?:-(?P<month>[0-9]{2})(?:-(?P<day>[0-9]{2}))?)?")


def _last_day_of(year: int, month: int) -> datetime:
    """Midnight UTC of the last day of ``year-month``."""
    first_of_next = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return first_of_next - timedelta(days=1)


def _date_of_birth(text: str, operation: str) -> datetime:
    """``dccDateOfBirth``: the last instant-at-midnight consistent with ``YYYY[-MM[-DD]]``."""
    match = _DATE_OF_BIRTH.fullmatch(text)
    if match is None:
        raise _Failure(f'the operand of "{operation}" is not a date of the form YYYY, YYYY-MM or YYYY-MM-DD')
    year = int(match["year"])
    try:
        if match["month"] is None:
            return datetime(year, 12, 31, tzinfo=UTC)
        month = int(match["month"])
        if match["day"] is None:
            if not 1 <= month <= 12:
                raise ValueError("month out of range")
            return _last_day_of(year, month)
        return datetime(year, month, int(match["day"]), tzinfo=UTC)
    except (ValueError, OverflowError):
        raise _Failure(f'the operand of "{operation}" is not a valid calendar date') from None


def _parse_date_time(text: str) -> datetime:
    """Parse one of the date(-time) formats ``plusTime`` allows, normalised to UTC milliseconds."""
    if _PARTIAL_DATE.fullmatch(text):
        return _date_of_birth(text, "plusTime")
    match = _DATE_TIME.fullmatch(text)
    if match is None:
        raise _Failure('the date-time operand of "plusTime" is not in an allowed date(-time) format')
    try:
        offset = timedelta(0)
        if match["sign"] is not None:
            hours = int(match["offset_hours"])
            minutes = int(match["offset_minutes"] or "0")
            if hours > 23 or minutes > 59:
                raise ValueError("offset out of range")
            offset = timedelta(hours=hours, minutes=minutes)
            if match["sign"] == "-":
                offset = -offset
        fraction = match["fraction"] or ""
        local = datetime(
            int(match["year"]),
            int(match["month"]),
            int(match["day"]),
            int(match["hour"] or "0"),
            int(match["minute"] or "0"),
            int(match["second"] or "0"),
            int((fraction[:3]).ljust(3, "0")) * 1000,  # truncated to milliseconds
            tzinfo=timezone(offset),
        )
        return local.astimezone(UTC)
    except (ValueError, OverflowError):
        raise _Failure('the date-time operand of "plusTime" is not a valid date-time') from None


def _shift_calendar(moment: datetime, months: int) -> datetime:
    """Add whole months like ``Date.setUTCMonth``: the day of the month overflows into the next month."""
    total = moment.year * 12 + (moment.month - 1) + months
    year, month_index = divmod(total, 12)
    first = moment.replace(year=year, month=month_index + 1, day=1)
    return first + timedelta(days=moment.day - 1)


_TIME_SHIFTS: Final[MappingProxyType[str, Callable[[datetime, int], datetime]]] = MappingProxyType(
    {
        "year": lambda moment, amount: _shift_calendar(moment, 12 * amount),
        "month": _shift_calendar,
        "day": lambda moment, amount: moment + timedelta(days=amount),
        "hour": lambda moment, amount: moment + timedelta(hours=amount),
    }
)


# ---------------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------------


class ValidationIssue(NamedTuple):
    """One problem found by :func:`validation_issues`: where (``$``-path), the sub-expression, what."""

    path: str
    expr: Any
    message: str


def _shortened(text: str) -> str:
    return text if len(text) <= _MAX_MESSAGE_NAME else text[:_MAX_MESSAGE_NAME] + "..."


def _quoted(name: str) -> str:
    return json.dumps(_shortened(name), ensure_ascii=False)


def _operator_path(name: str) -> str:
    return f".{name}" if name.isidentifier() else f"[{_quoted(name)}]"


def _arity(expected: str, allowed: Callable[[int], bool]) -> Callable[[str, list[Any]], list[str]]:
    def check(name: str, operands: list[Any]) -> list[str]:
        if allowed(len(operands)):
            return []
        return [
            f"an operation with operator {_quoted(name)} must have {expected}, but it has {len(operands)}"
        ]

    return check


_EXACTLY_1: Final = _arity("exactly 1 operand", lambda n: n == 1)
_EXACTLY_2: Final = _arity("exactly 2 operands", lambda n: n == 2)
_EXACTLY_3: Final = _arity("exactly 3 operands", lambda n: n == 3)


def _check_plus_time(name: str, operands: list[Any]) -> list[str]:
    problems = _EXACTLY_3(name, operands)
    if len(operands) > 1 and not _is_integer(operands[1]):
        problems.append('"amount" argument (#2) of "plusTime" must be an integer literal')
    if len(operands) > 2 and not (isinstance(operands[2], str) and operands[2] in _TIME_UNITS):
        problems.append(f'"unit" argument (#3) of "plusTime" must be one of {", ".join(_TIME_UNITS)}')
    return problems


def _check_extract_from_uvci(name: str, operands: list[Any]) -> list[str]:
    problems = _EXACTLY_2(name, operands)
    if len(operands) > 1 and not _is_integer(operands[1]):
        problems.append('"index" argument (#2) of "extractFromUVCI" must be an integer literal')
    return problems


def _validate_node(expr: Any, path: str, depth: int, issues: list[ValidationIssue]) -> None:
    """Append the issues of ``expr`` (at ``path``, nesting level ``depth``) to ``issues``."""
    if isinstance(expr, bool | str) or _is_integer(expr):
        return
    if isinstance(expr, float):
        issues.append(ValidationIssue(path, expr, f"{expr} is a non-integer number"))
        return
    if not isinstance(expr, list | dict):
        issues.append(ValidationIssue(path, expr, "invalid CertLogic expression"))
        return
    if depth > MAX_DEPTH:
        issues.append(ValidationIssue(path, expr, f"expression is nested deeper than {MAX_DEPTH} levels"))
        return
    if isinstance(expr, list):
        for index, item in enumerate(expr):
            _validate_node(item, f"{path}[{index}]", depth + 1, issues)
        return
    if len(expr) != 1:
        message = f"expression object must have exactly one key, but it has {len(expr)}"
        issues.append(ValidationIssue(path, expr, message))
        return
    ((name, operands),) = expr.items()
    if not isinstance(name, str):
        issues.append(ValidationIssue(path, expr, "operator must be a string"))
        return
    if name == "var":
        issues.extend(ValidationIssue(path, expr, message) for message in _check_var(operands))
        return
    if not isinstance(operands, list):
        issues.append(
            ValidationIssue(path, expr, 'operation not of the form { "<operator>": [ <values...> ] }')
        )
        return
    operation = _OPERATIONS.get(name)
    if operation is None:
        issues.append(ValidationIssue(path, expr, f"unrecognised operator: {_quoted(name)}"))
        return
    issues.extend(ValidationIssue(path, expr, message) for message in operation.check(name, operands))
    limit = len(operands) if operation.expression_operands is None else operation.expression_operands
    for index, operand in enumerate(operands[:limit]):
        _validate_node(operand, f"{path}{_operator_path(name)}[{index}]", depth + 1, issues)


def _check_var(path: Any) -> list[str]:
    if not isinstance(path, str):
        return ['not of the form { "var": "<path>" }']
    if path and any(fragment == "" for fragment in path.split(".")):
        return [f"data access path doesn't have a valid format: {_shortened(path)}"]
    return []


def validation_issues(expression: Any) -> list[ValidationIssue]:
    """All structural problems of a CertLogic expression, each with its location; empty when valid."""
    issues: list[ValidationIssue] = []
    try:
        _validate_node(expression, "$", 1, issues)
    except Exception:  # defensive: validation must never raise (depth is bounded, so this is unexpected)
        issues.append(ValidationIssue("$", expression, "expression could not be validated"))
    return issues


def validate(expression: Any) -> list[str]:
    """The messages of :func:`validation_issues`, in the wording of the CertLogic validation suite."""
    return [issue.message for issue in validation_issues(expression)]


# ---------------------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------------------


def _eval(expr: Any, data: Any, budget: _Budget) -> Any:
    """Evaluate an already validated expression, charging ``budget`` one operation per node."""
    budget.spend()
    if isinstance(expr, list):
        results = []
        for index, item in enumerate(expr):
            try:
                results.append(_eval(item, data, budget))
            except _Failure as failure:
                failure.segments.append(f"[{index}]")
                raise
        return results
    if isinstance(expr, dict):
        ((name, operands),) = expr.items()
        if name == "var":
            return _eval_var(operands, data, budget)
        operation = _OPERATIONS.get(name)
        if operation is None or not isinstance(operands, list):  # unreachable after validation
            raise _Failure("invalid operation")
        return operation.evaluate(name, operands, data, budget)
    return expr  # a literal: boolean, integer or string


def _operand(name: str, operands: list[Any], index: int, data: Any, budget: _Budget) -> Any:
    """Evaluate operand ``index`` of operation ``name``, recording the location of any failure."""
    try:
        return _eval(operands[index], data, budget)
    except _Failure as failure:
        failure.segments.append(f"{_operator_path(name)}[{index}]")
        raise


def _eval_var(path: str, data: Any, budget: _Budget) -> Any:
    if path == "":
        return data
    budget.spend(path.count(".") + len(path) // _CHARACTERS_PER_OPERATION)  # one per fragment looked up
    current = data
    for fragment in path.split("."):
        if isinstance(current, dict):
            current = current.get(fragment)
        elif isinstance(current, list) and fragment.isascii() and fragment.isdigit():
            digits = fragment.lstrip("0") or "0"
            index = int(digits) if len(digits) <= 18 else len(current)
            current = current[index] if index < len(current) else None
        else:
            return None
    return current


def _eval_if(name: str, operands: list[Any], data: Any, budget: _Budget) -> Any:
    guard = _operand(name, operands, 0, data, budget)
    if is_truthy(guard):
        return _operand(name, operands, 1, data, budget)
    if is_falsy(guard):
        return _operand(name, operands, 2, data, budget)
    raise _Failure(f'the guard of an "if" operation is neither truthy nor falsy (got {_kind(guard)})')


def _eval_and(name: str, operands: list[Any], data: Any, budget: _Budget) -> Any:
    value: Any = None
    for index in range(len(operands)):
        value = _operand(name, operands, index, data, budget)
        if is_falsy(value):
            return value
        if not is_truthy(value):
            raise _Failure(
                f'operand #{index + 1} of an "and" operation is neither truthy nor falsy (got {_kind(value)})'
            )
    return value


def _eval_not(name: str, operands: list[Any], data: Any, budget: _Budget) -> Any:
    value = _operand(name, operands, 0, data, budget)
    if is_truthy(value):
        return False
    if is_falsy(value):
        return True
    raise _Failure(f'the operand of a "!" operation is neither truthy nor falsy (got {_kind(value)})')


def _eval_equal(name: str, operands: list[Any], data: Any, budget: _Budget) -> Any:
    left = _operand(name, operands, 0, data, budget)
    return _strict_equal(left, _operand(name, operands, 1, data, budget), budget)


def _eval_in(name: str, operands: list[Any], data: Any, budget: _Budget) -> Any:
    member = _operand(name, operands, 0, data, budget)
    collection = _operand(name, operands, 1, data, budget)
    if not isinstance(collection, list):
        raise _Failure(f'the right-hand side of an "in" operation must be an array (got {_kind(collection)})')
    return any(_strict_equal(member, item, budget) for item in collection)


def _eval_plus(name: str, operands: list[Any], data: Any, budget: _Budget) -> Any:
    left = _operand(name, operands, 0, data, budget)
    right = _operand(name, operands, 1, data, budget)
    if not (_is_integer(left) and _is_integer(right)):
        raise _Failure(
            f'the operands of a "+" operation must be integers (got {_kind(left)} and {_kind(right)})'
        )
    total = int(left) + int(right)
    if abs(total) > MAX_SAFE_INTEGER:
        raise _Failure(f'the result of a "+" operation is outside the safe integer range (+/-{MAX_SAFE_INTEGER})')
    return total


_INTEGER_COMPARISONS: Final[MappingProxyType[str, Callable[[Any, Any], bool]]] = MappingProxyType(
    {"<": _operator.lt, ">": _operator.gt, "<=": _operator.le, ">=": _operator.ge}
)
_DATE_TIME_COMPARISONS: Final[MappingProxyType[str, Callable[[Any, Any], bool]]] = MappingProxyType(
    {"before": _operator.lt, "after": _operator.gt, "not-after": _operator.le, "not-before": _operator.ge}
)


def _is_date_time(value: Any) -> bool:
    return isinstance(value, datetime)


def _eval_compare(name: str, operands: list[Any], data: Any, budget: _Budget) -> Any:
    values = [_operand(name, operands, index, data, budget) for index in range(len(operands))]
    if name in _DATE_TIME_COMPARISONS:
        compare = _DATE_TIME_COMPARISONS[name]
        wanted, accept = "date-times", _is_date_time
    else:
        compare = _INTEGER_COMPARISONS[name]
        wanted, accept = "integers", _is_integer
    for index, value in enumerate(values):
        if not accept(value):
            raise _Failure(
                f"all operands of {_quoted(name)} must be {wanted} (operand #{index + 1} is {_kind(value)})"
            )
    return all(compare(left, right) for left, right in pairwise(values))


def _eval_plus_time(name: str, operands: list[Any], data: Any, budget: _Budget) -> Any:
    text = _operand(name, operands, 0, data, budget)
    if not isinstance(text, str):
        raise _Failure(f'the date-time operand (#1) of "plusTime" must be a string (got {_kind(text)})')
    budget.parse(text)
    moment = _parse_date_time(text)
    amount, unit = int(operands[1]), operands[2]
    try:
        return _TIME_SHIFTS[unit](moment, amount)
    except (ValueError, OverflowError):
        raise _Failure('the result of "plusTime" is outside the supported range of date-times') from None


def _eval_date_of_birth(name: str, operands: list[Any], data: Any, budget: _Budget) -> Any:
    text = _operand(name, operands, 0, data, budget)
    if not isinstance(text, str):
        raise _Failure(f'the operand of "dccDateOfBirth" must be a string (got {_kind(text)})')
    budget.parse(text)
    return _date_of_birth(text, name)


def _eval_reduce(name: str, operands: list[Any], data: Any, budget: _Budget) -> Any:
    items = _operand(name, operands, 0, data, budget)
    if items is not None and not isinstance(items, list):
        raise _Failure(f'the operand of "reduce" must be an array or null (got {_kind(items)})')
    accumulator = _operand(name, operands, 2, data, budget)
    for current in items or ():
        accumulator = _operand(name, operands, 1, {"accumulator": accumulator, "current": current}, budget)
    return accumulator


_UVCI_PREFIX: Final = "URN:UVCI:"
_UVCI_SEPARATORS: Final = re.compile(r"[/#:]")


def _eval_extract_from_uvci(name: str, operands: list[Any], data: Any, budget: _Budget) -> Any:
    uvci = _operand(name, operands, 0, data, budget)
    if uvci is None:
        return None
    if not isinstance(uvci, str):
        raise _Failure(f'the operand (#1) of "extractFromUVCI" must be a string or null (got {_kind(uvci)})')
    budget.parse(uvci)
    index = int(operands[1])
    fragments = _UVCI_SEPARATORS.split(uvci.removeprefix(_UVCI_PREFIX))
    return fragments[index] if 0 <= index < len(fragments) else None


@dataclass(frozen=True, slots=True)
class _Operation:
    """How to check (arity, literal operands) and evaluate one operator."""

    check: Callable[[str, list[Any]], list[str]]
    evaluate: Callable[[str, list[Any], Any, _Budget], Any]
    expression_operands: int | None = None  # how many leading operands are expressions (None: all)


_COMPARISON: Final = _Operation(_arity("2 or 3 operands", lambda n: n in {2, 3}), _eval_compare)

_OPERATIONS: Final[MappingProxyType[str, _Operation]] = MappingProxyType(
    {
        "if": _Operation(_EXACTLY_3, _eval_if),
        "and": _Operation(_arity("at least 2 operands", lambda n: n >= 2), _eval_and),
        "!": _Operation(_EXACTLY_1, _eval_not),
        "===": _Operation(_EXACTLY_2, _eval_equal),
        "in": _Operation(_EXACTLY_2, _eval_in),
        "+": _Operation(_EXACTLY_2, _eval_plus),
        "<": _COMPARISON,
        ">": _COMPARISON,
        "<=": _COMPARISON,
        ">=": _COMPARISON,
        "after": _COMPARISON,
        "before": _COMPARISON,
        "not-after": _COMPARISON,
        "not-before": _COMPARISON,
        "plusTime": _Operation(_check_plus_time, _eval_plus_time, expression_operands=1),
        "dccDateOfBirth": _Operation(_EXACTLY_1, _eval_date_of_birth),
        "reduce": _Operation(_EXACTLY_3, _eval_reduce),
        "extractFromUVCI": _Operation(
            _check_extract_from_uvci, _eval_extract_from_uvci, expression_operands=1
        ),
    }
)


def _charge_result(value: Any, budget: _Budget) -> None:
    """Charge one operation per value in ``value``: what is returned (then compared, converted, printed)
    is bounded by the budget too, even when ``reduce`` built it from shared sub-values."""
    pending = [value]
    while pending:
        budget.spend()
        item = pending.pop()
        if isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, dict):
            pending.extend(item.values())


def evaluate(expression: Any, data: Any, *, budget: int = DEFAULT_OPERATION_BUDGET) -> Any:
    """Evaluate a CertLogic ``expression`` against the JSON ``data`` context.

    The expression is validated first (:func:`validation_issues`).  The result is a JSON value, or a
    date-time (an aware UTC :class:`~datetime.datetime`) where the expression produces one; see
    :func:`to_json_value`.  Evaluation spends at most ``budget`` operations
    (:data:`DEFAULT_OPERATION_BUDGET`), the size of the result included.

    :raises RuleError: ``RULE_INVALID`` if the expression is invalid, ``RULE_EVALUATION_FAILED`` if an
        error occurs during evaluation (type mismatch, unparseable date-time, a sum beyond
        :data:`MAX_SAFE_INTEGER`, ...), ``RULE_BUDGET_EXCEEDED`` when it needs more than ``budget``
        operations.
    :raises ValueError: ``budget`` is not a positive integer.
    """
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 1:
        raise ValueError("budget must be a positive integer")
    issues = validation_issues(expression)
    if issues:
        first = issues[0]
        extra = f" (and {len(issues) - 1} more issues)" if len(issues) > 1 else ""
        message = f"invalid CertLogic expression at {first.path}: {first.message}{extra}"
        raise RuleError(ErrorCode.RULE_INVALID, Stage.RULES, message)
    spent = _Budget(budget)
    try:
        result = _eval(expression, data, spent)
        _charge_result(result, spent)
        return result
    except _OverBudget as failure:
        raise RuleError(ErrorCode.RULE_BUDGET_EXCEEDED, Stage.RULES, failure.message) from None
    except _Failure as failure:
        location = "$" + "".join(reversed(failure.segments))
        raise RuleError(
            ErrorCode.RULE_EVALUATION_FAILED,
            Stage.RULES,
            f"evaluation failed at {location}: {failure.message}",
        ) from None
    except Exception as exc:  # defensive: no other exception may escape the evaluator
        raise RuleError(
            ErrorCode.RULE_EVALUATION_FAILED, Stage.RULES, f"evaluation failed: internal {type(exc).__name__}"
        ) from None


# ---------------------------------------------------------------------------------------------------
# JSON Lines (``healthpass rules eval``)
# ---------------------------------------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return _format_date_time(value)
    raise TypeError("not JSON-serialisable")


def _dump_line(obj: dict[str, Any], *, ascii_only: bool = False) -> str:
    text = json.dumps(
        obj, ensure_ascii=ascii_only, separators=(",", ":"), allow_nan=False, default=_json_default
    )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from "\udxxx" escapes: keep them escaped
        return _dump_line(obj, ascii_only=True)
    return text


def _eval_line(line: str, number: int) -> str:
    try:
        request = json.loads(line, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return _error_line(ErrorCode.RULE_INVALID, f"line {number} is not valid JSON")
    if not isinstance(request, dict) or "logic" not in request:
        message = f'line {number} is not an object of the form {{"logic": <expression>, "data": <value>}}'
        return _error_line(ErrorCode.RULE_INVALID, message)
    try:
        result = evaluate(request["logic"], request.get("data"))
    except RuleError as exc:
        return _dump_line({"error": _error_text(exc)})
    try:
        return _dump_line({"result": result})
    except (ValueError, TypeError, RecursionError):
        return _error_line(
            ErrorCode.RULE_EVALUATION_FAILED, f"the result of line {number} cannot be written as JSON"
        )


def _error_line(code: ErrorCode, message: str) -> str:
    return _dump_line({"error": _error_text(RuleError(code, Stage.RULES, message))})


def _error_text(exc: RuleError) -> str:
    """The ``"error"`` string of ``rules eval`` output: ``code at stage: message`` (machine output, kept as it
    was when ``str()`` of an error changed to ``message [code, stage stage]``)."""
    return f"{exc.code.value} at {exc.stage.value}: {exc.message}"


def eval_jsonl(lines: Iterable[str]) -> Iterator[str]:
    """Evaluate JSON Lines ``{"logic": <expression>, "data": <value>}``, one output line per input line.

    Yields ``{"result": <value>}`` or ``{"error": "<message>"}`` as compact JSON (without a trailing
    newline), in input order.  Blank lines are skipped; malformed lines yield an error line.  A missing
    ``"data"`` is ``null``.  Date-times in results are written as ``YYYY-MM-DDThh:mm:ss.sssZ``.
    """
    for number, line in enumerate(lines, start=1):
        if line.strip():
            yield _eval_line(line, number)


# ---------------------------------------------------------------------------------------------------
# EU rule folders (``healthpass rules test DIR``)
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EuRuleTestOutcome:
    """The outcome of one test of an EU rule folder."""

    rule: str  # the rule folder's name (its identifier)
    test: str  # the test file's name
    name: str | None  # the test's "name", when it has one
    status: Literal["passed", "failed", "skipped"]
    expected: Any = None
    actual: Any = None
    error: str | None = None  # why the rule or test could not be evaluated


class EuRuleTestReport(NamedTuple):
    """Counts and outcomes of :func:`run_eu_rule_tests`; unpacks as ``passed, failed, details``."""

    passed: int
    failed: int
    details: tuple[EuRuleTestOutcome, ...]

    @property
    def skipped(self) -> int:
        return sum(1 for outcome in self.details if outcome.status == "skipped")

    def summary(self) -> str:
        """``"N passed, M failed"`` (``", K skipped"`` appended when tests were skipped)."""
        text = f"{self.passed} passed, {self.failed} failed"
        return f"{text}, {self.skipped} skipped" if self.skipped else text


def _load_json(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return json.load(handle, parse_constant=_reject_constant)


def _load_rule_logic(rule_file: Path) -> tuple[Any, str | None]:
    """The rule's ``Logic`` and ``None``, or ``None`` and why it cannot be used."""
    try:
        rule = _load_json(rule_file)
    except (OSError, ValueError, RecursionError):
        return None, "rule.json cannot be read as JSON"
    if not isinstance(rule, dict) or "Logic" not in rule:
        return None, 'rule.json has no "Logic"'
    problems = validation_issues(rule["Logic"])
    if problems:
        return None, f"invalid rule logic at {problems[0].path}: {problems[0].message}"
    return rule["Logic"], None


def _run_rule_test(rule_id: str, logic: Any, rule_error: str | None, test_file: Path) -> EuRuleTestOutcome:
    try:
        test = _load_json(test_file)
    except (OSError, ValueError, RecursionError):
        test = None
    if not isinstance(test, dict) or "expected" not in test:
        return EuRuleTestOutcome(
            rule_id, test_file.name, None, "failed", error="test file is not a valid rule test"
        )
    name = test.get("name") if isinstance(test.get("name"), str) else None
    expected = test["expected"]
    if test.get("directive") == "skip":
        return EuRuleTestOutcome(rule_id, test_file.name, name, "skipped", expected)
    if rule_error is not None:
        return EuRuleTestOutcome(rule_id, test_file.name, name, "failed", expected, error=rule_error)
    data = {"payload": test.get("payload"), "external": test.get("external", {})}
    try:
        actual = evaluate(logic, data)
    except RuleError as exc:
        return EuRuleTestOutcome(rule_id, test_file.name, name, "failed", expected, error=exc.message)
    status: Literal["passed", "failed"] = "passed" if _strict_equal(actual, expected) else "failed"
    return EuRuleTestOutcome(rule_id, test_file.name, name, status, expected, actual)


def _rule_folders(root: Path) -> Sequence[Path]:
    if (root / "rule.json").is_file():
        return [root]
    return sorted(child for child in root.iterdir() if (child / "rule.json").is_file())


def run_eu_rule_tests(path: str | os.PathLike[str]) -> EuRuleTestReport:
    """Run the tests of EU-style rule folders: ``path/<RULE-ID>/rule.json`` and ``.../tests/*.json``.

    ``path`` may also be a single rule folder.  Each test file holds ``payload``, ``external`` (with
    ``valueSets``, ``validationClock``, ...) and ``expected``; the rule's ``Logic`` is evaluated against
    ``{"payload": <payload>, "external": <external>}`` exactly as the EU test runner does, and the result
    must equal ``expected`` (strictly: ``1`` is not ``true``).  An evaluation error fails the test.  Test
    files with ``"directive": "skip"`` are skipped.

    :raises RuleError: ``RULE_INVALID`` if ``path`` is not a directory.
    """
    root = Path(path)
    if not root.is_dir():
        raise RuleError(ErrorCode.RULE_INVALID, Stage.RULES, "the rule test path is not a directory")
    outcomes: list[EuRuleTestOutcome] = []
    for folder in _rule_folders(root):
        logic, rule_error = _load_rule_logic(folder / "rule.json")
        tests_dir = folder / "tests"
        test_files = sorted(tests_dir.glob("*.json")) if tests_dir.is_dir() else []
        if rule_error is not None and not test_files:
            outcomes.append(EuRuleTestOutcome(folder.name, "rule.json", None, "failed", error=rule_error))
        outcomes.extend(_run_rule_test(folder.name, logic, rule_error, test_file) for test_file in test_files)
    passed = sum(1 for outcome in outcomes if outcome.status == "passed")
    failed = sum(1 for outcome in outcomes if outcome.status == "failed")
    return EuRuleTestReport(passed, failed, tuple(outcomes))
