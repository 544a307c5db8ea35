"""CertLogic: the official evaluator and validation suites, the EU rule tests, and our own edge cases.

The reference vectors live in ``<shared>/vectors/certlogic`` (see ``tests/_shared.py``); the tests that
need them skip with a clear message when the folder is absent.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from healthpass.errors import ErrorCode, HealthPassError, RuleError, Stage
from healthpass.rules import (
    MAX_DEPTH,
    EuRuleTestReport,
    eval_jsonl,
    evaluate,
    is_falsy,
    is_truthy,
    run_eu_rule_tests,
    to_json_value,
    validate,
    validation_issues,
)

from ._shared import shared_dir

# ---------------------------------------------------------------------------------------------------
# Locating the reference vectors (at collection time, without skipping the whole module)
# ---------------------------------------------------------------------------------------------------

_ABSENT = (
    "CertLogic reference vectors not found: set HEALTHPASS_SHARED to the shared folder "
    "(it must contain vectors/certlogic)"
)


def _certlogic_dir() -> Path | None:
    try:
        base = shared_dir()
    except pytest.skip.Exception:
        return None
    folder = base / "vectors" / "certlogic"
    return folder if folder.is_dir() else None


_CERTLOGIC = _certlogic_dir()
_MISSING = [pytest.param(None, id="vectors-absent", marks=pytest.mark.skip(reason=_ABSENT))]


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _same(actual: Any, expected: Any) -> bool:
    """Equality of JSON values that tells ``true`` from ``1`` (the suites compare JSON)."""
    return json.dumps(to_json_value(actual), sort_keys=True) == json.dumps(expected, sort_keys=True)


# ---------------------------------------------------------------------------------------------------
# (a) The evaluator test suite: one test per assertion
# ---------------------------------------------------------------------------------------------------

# Why the suite marks these files "directive": "skip" (the suite itself gives no reason):
_SKIP_EXPLANATIONS = {
    "patched-reduce": "tests a patched reduce whose lambda also sees the outer data as 'data', which the "
    "spec says CertLogic only *may* add some day",
    "ins-with-nulls": "expects false for 'in' on a null right-hand side, which the spec defines as an error",
}


def _evaluator_params() -> list[Any]:
    if _CERTLOGIC is None:
        return _MISSING
    params = []
    for path in sorted((_CERTLOGIC / "testSuite").glob("*.json")):
        suite = _load(path)
        for case_index, case in enumerate(suite["cases"]):
            for assertion_index, assertion in enumerate(case["assertions"]):
                levels = [
                    level
                    for level, item in (("file", suite), ("case", case), ("assertion", assertion))
                    if item.get("directive") == "skip"
                ]
                marks = []
                if levels:
                    reason = _SKIP_EXPLANATIONS.get(path.stem, "no explanation recorded")
                    marks.append(pytest.mark.skip(reason=f"directive skip ({levels[0]} level): {reason}"))
                expression = assertion.get("certLogicExpression", case.get("certLogicExpression"))
                item = (
                    case["name"],
                    expression,
                    assertion["data"],
                    assertion["expected"],
                    assertion.get("message"),
                )
                test_id = f"{path.stem}-{case_index}.{assertion_index}"
                params.append(pytest.param(item, id=test_id, marks=marks))
    return params


@pytest.mark.parametrize("item", _evaluator_params())
def test_evaluator_suite(item: tuple[str, Any, Any, Any, str | None]) -> None:
    case_name, expression, data, expected, message = item
    result = evaluate(expression, data)
    assert _same(result, expected), f"{case_name}: {message or ''} -> {to_json_value(result)!r}"


def test_evaluator_suite_inventory() -> None:
    """Every file of the suite is picked up: 60 cases, 232 assertions, 14 of them marked skip."""
    if _CERTLOGIC is None:
        pytest.skip(_ABSENT)
    params = _evaluator_params()
    skipped = [param for param in params if param.marks]
    assert (len(params), len(skipped)) == (232, 14)
    cases = sum(len(_load(path)["cases"]) for path in (_CERTLOGIC / "testSuite").glob("*.json"))
    assert cases == 60


# ---------------------------------------------------------------------------------------------------
# (b) The validation test suite
# ---------------------------------------------------------------------------------------------------


def _validation_params() -> list[Any]:
    if _CERTLOGIC is None:
        return _MISSING
    params = []
    for path in sorted((_CERTLOGIC / "validation-testSuite").glob("*.json")):
        suite = _load(path)
        for index, case in enumerate(suite["cases"]):
            skip = "skip" in (suite.get("directive"), case.get("directive"))
            marks = [pytest.mark.skip(reason="directive skip")] if skip else []
            params.append(pytest.param(case, id=f"{path.stem}-{index}", marks=marks))
    return params


@pytest.mark.parametrize("case", _validation_params())
def test_validation_suite(case: dict[str, Any]) -> None:
    expression = case["certLogicExpression"]
    expected_messages = [issue["message"] for issue in case["issues"]]
    assert validate(expression) == expected_messages
    issues = validation_issues(expression)
    assert [issue.expr for issue in issues] == [issue["expr"] for issue in case["issues"]]
    assert all(issue.path == "$" for issue in issues)
    if expected_messages:
        with pytest.raises(RuleError) as raised:
            evaluate(expression, {})
        assert raised.value.code is ErrorCode.RULE_INVALID


def test_real_rules_are_valid() -> None:
    """The 194 rules published by the member states all pass validation."""
    if _CERTLOGIC is None:
        pytest.skip(_ABSENT)
    rule_files = sorted((_CERTLOGIC / "rules" / "all-countries-rule-json").rglob("*.json"))
    assert rule_files
    for rule_file in rule_files:
        assert validate(_load(rule_file)["Logic"]) == [], rule_file.name


# ---------------------------------------------------------------------------------------------------
# (c) The EU rule tests
# ---------------------------------------------------------------------------------------------------


def _eu_root() -> Path | None:
    return None if _CERTLOGIC is None else _CERTLOGIC / "rules" / "EU-with-tests"


def _eu_params() -> list[Any]:
    root = _eu_root()
    if root is None:
        return _MISSING
    return [
        pytest.param(test_file, id=f"{test_file.parent.parent.name}-{test_file.stem}")
        for test_file in sorted(root.glob("*/tests/*.json"))
    ]


@pytest.mark.parametrize("test_file", _eu_params())
def test_eu_rule(test_file: Path) -> None:
    logic = _load(test_file.parent.parent / "rule.json")["Logic"]
    test = _load(test_file)
    data = {"payload": test["payload"], "external": test["external"]}
    result = evaluate(logic, data)
    assert result is test["expected"], test.get("name")


def test_run_eu_rule_tests_on_the_eu_rules() -> None:
    root = _eu_root()
    if root is None:
        pytest.skip(_ABSENT)
    count = len(list(root.glob("*/tests/*.json")))
    report = run_eu_rule_tests(root)
    passed, failed, details = report
    assert (passed, failed, len(details)) == (count, 0, count)
    assert report.summary() == f"{count} passed, 0 failed"
    # a single rule folder works too
    single = run_eu_rule_tests(root / "VR-EU-0000")
    assert (single.passed, single.failed) == (len(list((root / "VR-EU-0000" / "tests").glob("*.json"))), 0)


def _write(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(value if isinstance(value, str) else json.dumps(value), encoding="utf-8")


def test_run_eu_rule_tests_counts_failures_and_skips(tmp_path: Path) -> None:
    clock_rule = {
        "Logic": {
            "before": [
                {"plusTime": [{"var": "external.validationClock"}, 0, "day"]},
                {"plusTime": [{"var": "payload.t.0.sc"}, 48, "hour"]},
            ]
        }
    }
    _write(tmp_path / "TR-XX-0001" / "rule.json", clock_rule)
    tests = tmp_path / "TR-XX-0001" / "tests"
    sample = {"t": [{"sc": "2021-06-01T00:00:00Z"}]}
    _write(
        tests / "a.json", {"payload": sample, "external": {"validationClock": "2021-06-02"}, "expected": True}
    )
    _write(
        tests / "b.json", {"payload": sample, "external": {"validationClock": "2021-06-04"}, "expected": True}
    )
    _write(
        tests / "c.json", {"payload": {}, "external": {"validationClock": "2021-06-02"}, "expected": False}
    )
    _write(tests / "d.json", "{not json")
    _write(tests / "e.json", {"payload": {}, "external": {}, "expected": True, "directive": "skip"})
    _write(tmp_path / "XX-BAD" / "rule.json", {"Logic": {"all": [1]}})
    _write(tmp_path / "XX-BAD" / "tests" / "a.json", {"payload": {}, "external": {}, "expected": True})
    report = run_eu_rule_tests(tmp_path)
    assert isinstance(report, EuRuleTestReport)
    by_test = {(outcome.rule, outcome.test): outcome for outcome in report.details}
    assert by_test["TR-XX-0001", "a.json"].status == "passed"
    assert by_test["TR-XX-0001", "b.json"].status == "failed"  # wrong result
    assert by_test["TR-XX-0001", "c.json"].error is not None  # plusTime on a missing value: an error fails
    assert by_test["TR-XX-0001", "d.json"].status == "failed"
    assert by_test["TR-XX-0001", "e.json"].status == "skipped"
    assert (
        by_test["XX-BAD", "a.json"].error is not None
        and "unrecognised operator" in by_test["XX-BAD", "a.json"].error
    )
    assert (report.passed, report.failed, report.skipped) == (1, 4, 1)
    assert report.summary() == "1 passed, 4 failed, 1 skipped"
    with pytest.raises(RuleError) as raised:
        run_eu_rule_tests(tmp_path / "missing")
    assert raised.value.code is ErrorCode.RULE_INVALID


# ---------------------------------------------------------------------------------------------------
# (d) JSON Lines
# ---------------------------------------------------------------------------------------------------


def test_eval_jsonl_results_errors_and_bad_lines() -> None:
    lines = [
        '{"logic": {"+": [1, {"var": "x"}]}, "data": {"x": 2}}\n',
        "\n",
        "   \n",
        '{"logic": {"plusTime": [{"var": "d"}, 1, "month"]}, "data": {"d": "2021-01-31"}}',
        '{"logic": {"var": "name"}, "data": {"name": "Zoë"}}',
        "{not json",
        "[1, 2]",
        '{"data": 1}',
        '{"logic": 1.5}',
        '{"logic": {"in": [1, {"var": "x"}]}, "data": {"x": "SECRET-VALUE"}}',
        '{"logic": {"var": "x"}, "data": {"x": NaN}}',
        '{"logic": [true, 1]}',
    ]
    output = list(eval_jsonl(lines))
    assert output[:3] == ['{"result":3}', '{"result":"2021-03-03T00:00:00.000Z"}', '{"result":"Zoë"}']
    assert output[-1] == '{"result":[true,1]}'
    errors = [json.loads(line)["error"] for line in output[3:-1]]
    assert len(errors) == 6
    assert errors[0].startswith("rule_invalid") and "line 6" in errors[0]
    assert errors[1].startswith("rule_invalid") and "line 7" in errors[1]
    assert errors[2].startswith("rule_invalid") and "line 8" in errors[2]
    assert errors[3].startswith("rule_invalid") and "non-integer" in errors[3]
    assert errors[4].startswith("rule_evaluation_failed") and '"in"' in errors[4]
    assert "SECRET" not in errors[4]
    assert errors[5].startswith("rule_invalid")  # NaN is not JSON


def test_eval_jsonl_never_crashes_on_hostile_lines() -> None:
    deep = "[" * 200_000 + "]" * 200_000
    huge_int = '{"logic": {"+": [1, 1]}, "data": ' + "9" * 5000 + "}"
    surrogate = '{"logic": {"var": ""}, "data": "\\ud800"}'
    deep_logic = json.dumps({"logic": _nested_not(MAX_DEPTH + 5), "data": 0})
    output = list(eval_jsonl([deep, huge_int, surrogate, deep_logic]))
    assert len(output) == 4
    assert "error" in json.loads(output[0]) and "error" in json.loads(output[1])
    assert json.loads(output[2]) == {"result": "\ud800"}
    output[2].encode("utf-8")
    assert json.loads(output[3])["error"].startswith("rule_invalid")


# ---------------------------------------------------------------------------------------------------
# Our own cases: the documented traps
# ---------------------------------------------------------------------------------------------------


def _nested_not(levels: int) -> Any:
    """``levels`` nested "!" operations around ``0`` (literals are no nesting level)."""
    expression: Any = 0
    for _ in range(levels):
        expression = {"!": [expression]}
    return expression


def _ev(expression: Any, data: Any = None) -> Any:
    return to_json_value(evaluate(expression, data))


def _plus(text: str, amount: int, unit: str) -> str:
    return str(_ev({"plusTime": [text, amount, unit]}))


@pytest.mark.parametrize(
    ("text", "amount", "unit", "expected"),
    [
        ("2020-02-29", 1, "day", "2020-03-01T00:00:00.000Z"),
        ("2020-02-29", 1, "month", "2020-03-29T00:00:00.000Z"),
        ("2020-02-29", 1, "year", "2021-03-01T00:00:00.000Z"),  # overflow, as JS setUTCFullYear
        ("2021-01-31", 1, "month", "2021-03-03T00:00:00.000Z"),  # overflow, not clamping
        ("2020-01-31", 1, "month", "2020-03-02T00:00:00.000Z"),
        ("2021-03-31", -1, "month", "2021-03-03T00:00:00.000Z"),
        ("2021-01-15", -13, "month", "2019-12-15T00:00:00.000Z"),
        ("2021-12-31T23:30:00-01:00", 1, "hour", "2022-01-01T01:30:00.000Z"),
        ("2021-03-28T00:00:00+01", 24, "hour", "2021-03-28T23:00:00.000Z"),
        ("2021-06-01T10:00:00.123999+1:30", 0, "day", "2021-06-01T08:30:00.123Z"),
        ("2021-06-01T10:00:00.5-0130", 0, "day", "2021-06-01T11:30:00.500Z"),
        ("2021-06-01T10:00:00+130", 0, "day", "2021-06-01T08:30:00.000Z"),
        ("2021-06-01T10:00:00", 0, "day", "2021-06-01T10:00:00.000Z"),
        ("2004", 18, "year", "2022-12-31T00:00:00.000Z"),
        ("2004-02", 0, "day", "2004-02-29T00:00:00.000Z"),
        ("2004-02", 1, "month", "2004-03-29T00:00:00.000Z"),
    ],
)
def test_plus_time(text: str, amount: int, unit: str, expected: str) -> None:
    assert _plus(text, amount, unit) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2021-09-99",
        "2022-13",
        "2021-06-01T10:00",
        "2021-06-01 10:00:00",
        "01/06/2021",
        "9999-12-31T23:00:00-02:00",
    ],
)
def test_plus_time_rejects_bad_date_times(text: str) -> None:
    with pytest.raises(RuleError) as raised:
        evaluate({"plusTime": [{"var": "d"}, 0, "day"]}, {"d": text})
    assert raised.value.code is ErrorCode.RULE_EVALUATION_FAILED
    assert raised.value.stage is Stage.RULES


def test_plus_time_out_of_range_and_non_strings() -> None:
    for expression in (
        {"plusTime": ["9999-12-31", 1, "day"]},
        {"plusTime": ["2000-01-01", 10**30, "hour"]},
        {"plusTime": ["0001-01-01", -1, "month"]},
        {"plusTime": [{"var": "x"}, 0, "day"]},
    ):
        with pytest.raises(RuleError) as raised:
            evaluate(expression, {"x": 20210601})
        assert raised.value.code is ErrorCode.RULE_EVALUATION_FAILED
    for amount in ({"var": "n"}, "1", 1.5, True):
        assert validate({"plusTime": ["2021", amount, "day"]}) == [
            '"amount" argument (#2) of "plusTime" must be an integer literal'
        ]
    assert validate({"plusTime": ["2021", 1, "week"]})
    assert _ev({"plusTime": ["2021-06-01", 2.0, "day"]}) == "2021-06-03T00:00:00.000Z"  # 2.0 is an integer


def test_dcc_date_of_birth() -> None:
    def dob(text: Any) -> Any:
        return _ev({"dccDateOfBirth": [{"var": ""}]}, text)

    assert dob("1980") == "1980-12-31T00:00:00.000Z"
    assert dob("1980-02") == "1980-02-29T00:00:00.000Z"
    assert dob("1981-02") == "1981-02-28T00:00:00.000Z"
    assert dob("1980-12") == "1980-12-31T00:00:00.000Z"
    assert dob("1980-05-17") == "1980-05-17T00:00:00.000Z"
    for bad in ("", "1980-13", "1980-02-30", "1980-05-17T00:00:00Z", None, 1980):
        with pytest.raises(RuleError):
            dob(bad)
    assert validate({"dccDateOfBirth": []}) and validate({"dccDateOfBirth": ["1980", "1981"]})


def test_booleans_are_not_integers() -> None:
    assert _ev({"===": [True, 1]}) is False
    assert _ev({"===": [{"var": "0"}, {"var": "1"}]}, [False, 0]) is False
    assert _ev({"in": [True, [1, 2]]}) is False
    assert _ev({"in": [1, {"var": ""}]}, [True]) is False
    assert _ev({"in": [0, {"var": ""}]}, [False, None, ""]) is False
    assert _ev({"===": [2, {"var": ""}]}, 2.0) is True  # 2.0 is the JSON integer 2
    for expression in (
        {"<": [True, 2]},
        {"+": [True, 1]},
        {">=": [{"var": "a"}, 0]},
        {"+": [1, {"var": "f"}]},
    ):
        with pytest.raises(RuleError) as raised:
            evaluate(expression, {"a": False, "f": 1.5})
        assert raised.value.code is ErrorCode.RULE_EVALUATION_FAILED
    assert not is_truthy(False) and not is_falsy(True) and is_truthy(True) and is_falsy(False)


def test_truthiness() -> None:
    moment = datetime(2021, 1, 1, tzinfo=UTC)
    for value in (True, "a", "0", 1, -1, 2.0, [0], {"a": None}):
        assert is_truthy(value) and not is_falsy(value), value
    for value in (False, None, "", 0, 0.0, [], {}):
        assert is_falsy(value) and not is_truthy(value), value
    for value in (moment, 1.5, float("nan"), float("inf")):
        assert not is_truthy(value) and not is_falsy(value), value
    clock = {"plusTime": ["2021-01-01", 0, "day"]}
    for expression in (
        {"!": [clock]},
        {"if": [clock, 1, 2]},
        {"and": [True, clock]},
        {"and": [{"var": "f"}, 1]},
    ):
        with pytest.raises(RuleError) as raised:
            evaluate(expression, {"f": 1.5})
        assert raised.value.code is ErrorCode.RULE_EVALUATION_FAILED


def test_and_is_lazy_and_returns_operands() -> None:
    boom = {"plusTime": ["not a date", 0, "day"]}
    assert _ev({"and": [0, boom]}) == 0
    assert _ev({"and": [[], boom]}) == []
    assert _ev({"and": [1, "x", [1]]}) == [1]
    assert _ev({"and": [{"var": "a"}, {"var": "b"}]}, {"a": {"k": 1}, "b": {}}) == {}
    with pytest.raises(RuleError):
        evaluate({"and": [1, boom]}, None)
    assert validate({"and": [True]}) and validate({"and": []})


def test_if_and_not() -> None:
    boom = {"plusTime": ["not a date", 0, "day"]}
    assert _ev({"if": [1, "then", boom]}) == "then"
    assert _ev({"if": ["", boom, "else"]}) == "else"
    assert _ev({"!": [{"!": [{"var": "x"}]}]}, {"x": "a"}) is True  # "!!" is written as two "!"
    assert validate({"!!": [1]}) == ['unrecognised operator: "!!"']
    assert validate({"or": [1, 2]}) == ['unrecognised operator: "or"']
    assert validate({"if": [1, 2]}) and validate({"if": [1, 2, 3, 4]}) and validate({"!": [1, 2]})


@pytest.mark.parametrize(
    ("operator", "operands", "expected"),
    [
        ("<", [1, 2, 3], True),
        ("<", [1, 3, 3], False),
        ("<=", [1, 3, 3], True),
        (">", [3, 2, 1], True),
        (">=", [3, 3, 4], False),
        ("after", ["2021-01-03", "2021-01-02", "2021-01-01"], True),
        ("after", ["2021-01-03", "2021-01-03"], False),
        ("before", ["2021-01-01", "2021-01-02", "2021-01-02"], False),
        ("not-after", ["2021-01-01", "2021-01-02", "2021-01-02"], True),
        ("not-before", ["2021-01-02T00:00:00+01:00", "2021-01-01T23:00:00Z"], True),
        ("not-before", ["2021-01-02T00:00:00+01:00", "2021-01-01T23:00:00.001Z"], False),
    ],
)
def test_comparisons(operator: str, operands: list[Any], expected: bool) -> None:
    if operator[0].isalpha():
        operands = [{"plusTime": [text, 0, "day"]} for text in operands]
    assert _ev({operator: operands}) is expected


def test_comparison_arity_and_types() -> None:
    for operator in ("<", "after", "not-before"):
        assert validate({operator: [1]}) and validate({operator: [1, 2, 3, 4]})
    with pytest.raises(RuleError):
        evaluate({"after": [{"plusTime": ["2021", 0, "day"]}, 1]}, None)
    with pytest.raises(RuleError):
        evaluate({"<": [{"plusTime": ["2021", 0, "day"]}, {"plusTime": ["2022", 0, "day"]}]}, None)
    with pytest.raises(RuleError):
        evaluate({"<": ["1", 2]}, None)
    with pytest.raises(RuleError):
        evaluate({"<": [None, 2]}, None)


def test_var_paths() -> None:
    data = {"a": [{"b": "x"}, [10, 20]], "0": "zero", "k": {"1": "one"}, "s": "text"}
    assert _ev({"var": "a.0.b"}, data) == "x"
    assert _ev({"var": "a.1.1"}, data) == 20
    assert _ev({"var": "a.01.1"}, data) == 20
    assert _ev({"var": "a.2"}, data) is None
    assert _ev({"var": "a.-1"}, data) is None
    assert _ev({"var": "a.b"}, data) is None
    assert _ev({"var": "a.99999999999999999999999"}, data) is None
    assert _ev({"var": "0"}, data) == "zero"
    assert _ev({"var": "k.1"}, data) == "one"
    assert _ev({"var": "s.0"}, data) is None  # strings are not arrays
    assert _ev({"var": ""}, data) == data
    for path in ("a.", ".a", "a..b", "."):
        assert validate({"var": path}) == [f"data access path doesn't have a valid format: {path}"]
    for bad in (0, None, ["a"], ["a", 1]):
        assert validate({"var": bad}) == ['not of the form { "var": "<path>" }']


def test_in_and_equality() -> None:
    assert _ev({"in": [{"var": "x"}, {"var": "y"}]}, {"y": ["a", None]}) is True
    assert _ev({"in": [[1], {"var": "y"}]}, {"y": [[1], 2]}) is True
    assert _ev({"===": [{"var": "a"}, {"var": "b"}]}, {"a": {"k": [1]}, "b": {"k": [1]}}) is True
    assert _ev({"===": [{"var": "a"}, {"var": "b"}]}, {"a": {"k": [1]}, "b": {"k": [True]}}) is False
    assert (
        _ev({"===": [{"plusTime": ["2021-01-01", 0, "day"]}, {"plusTime": ["2020-12-31", 1, "day"]}]}) is True
    )
    for data in (None, {"y": None}, {"y": "abc"}, {"y": {"a": 1}}):
        with pytest.raises(RuleError) as raised:
            evaluate({"in": ["a", {"var": "y"}]}, data)
        assert raised.value.code is ErrorCode.RULE_EVALUATION_FAILED
    assert validate({"in": [1]}) and validate({"===": [1, 2, 3]}) and validate({"+": [1, 2, 3]})


def test_reduce() -> None:
    count_vaccinations = {
        "reduce": [{"var": "v"}, {"+": [{"var": "accumulator"}, {"if": [{"var": "current.dn"}, 1, 0]}]}, 0]
    }
    assert _ev(count_vaccinations, {"v": [{"dn": 1}, {}, {"dn": 2}]}) == 2
    assert _ev(count_vaccinations, {"v": None}) == 0
    assert _ev(count_vaccinations, {"v": []}) == 0
    collect = {"reduce": [{"var": ""}, [{"var": "current"}, {"var": "accumulator"}], "start"]}
    assert _ev(collect, [1, 2]) == [2, [1, "start"]]
    assert _ev({"reduce": [{"var": "x"}, {"var": "data"}, 7]}, {"x": [1]}) is None  # no "data" key
    for data in ({"v": "abc"}, {"v": {"a": 1}}, {"v": 5}):
        with pytest.raises(RuleError):
            evaluate(count_vaccinations, data)
    assert validate({"reduce": [[], 1]})


def test_extract_from_uvci() -> None:
    def extract(uvci: Any, index: int) -> Any:
        return _ev({"extractFromUVCI": [{"var": ""}, index]}, uvci)

    assert extract("URN:UVCI:01:NL:187/37512422923", 1) == "NL"
    assert extract("urn:uvci:01:NL:187/37512422923", 1) == "uvci"  # only the exact prefix is dropped
    assert extract("a::c/#/f", 5) == "f"
    assert extract("a::c/#/f", 6) is None
    assert extract("a", -1) is None
    assert extract(None, 0) is None
    with pytest.raises(RuleError):
        extract(42, 0)
    assert validate({"extractFromUVCI": ["x", {"var": "i"}]})
    assert validate({"extractFromUVCI": ["x"]})


def test_plus_requires_integers() -> None:
    assert _ev({"+": [{"var": "a"}, -3]}, {"a": 5}) == 2
    for data in ({"a": None}, {"a": "5"}, {"a": True}, {"a": [1]}):
        with pytest.raises(RuleError):
            evaluate({"+": [{"var": "a"}, 1]}, data)


def test_invalid_expressions_and_depth_bound() -> None:
    assert validate(_nested_not(MAX_DEPTH)) == []
    assert evaluate(_nested_not(MAX_DEPTH), None) is (MAX_DEPTH % 2 == 1)
    too_deep = _nested_not(MAX_DEPTH + 1)
    assert validate(too_deep) == [f"expression is nested deeper than {MAX_DEPTH} levels"]
    very_deep: Any = 0
    for _ in range(100_000):
        very_deep = [very_deep]
    for expression in (too_deep, very_deep, {"if": [None, 1, 2]}, {"var": "x", "if": []}, {1: [2]}, (1, 2)):
        with pytest.raises(RuleError) as raised:
            evaluate(expression, None)
        assert raised.value.code is ErrorCode.RULE_INVALID
        assert raised.value.stage is Stage.RULES
    issues = validation_issues({"and": [True, {"if": [1, {"bogus": []}, 3]}]})
    assert [(issue.path, issue.message) for issue in issues] == [
        ("$.and[1].if[1]", 'unrecognised operator: "bogus"')
    ]
    assert validation_issues({"===": [1, 1.5]})[0].path == '$["==="][1]'


def test_evaluation_errors_name_the_location_not_the_data() -> None:
    expression = {"and": [True, {"after": [{"plusTime": [{"var": "dob"}, 0, "day"]}, 1]}]}
    with pytest.raises(RuleError) as raised:
        evaluate(expression, {"dob": "Jane Doe 1980"})
    error = raised.value
    assert isinstance(error, HealthPassError)
    assert "$.and[1].after[0].plusTime[0]" not in error.message  # the failing node is plusTime itself
    assert "$.and[1].after[0]" in error.message
    assert "Jane" not in str(error) and "1980" not in str(error)


def test_date_times_in_results() -> None:
    result = evaluate([{"plusTime": ["2021-06-01T12:00:00+02:00", 0, "hour"]}], None)
    assert result == [datetime(2021, 6, 1, 10, tzinfo=UTC)]
    assert result[0].tzinfo is not None
    assert to_json_value({"a": result}) == {"a": ["2021-06-01T10:00:00.000Z"]}


# ---------------------------------------------------------------------------------------------------
# (e) Property: any JSON "expression" yields a value or a RuleError, never anything else
# ---------------------------------------------------------------------------------------------------

_OPERATORS = (
    "if", "and", "!", "===", "in", "+", "<", ">", "<=", ">=", "after", "before", "not-after", "not-before",
    "plusTime", "dccDateOfBirth", "reduce", "extractFromUVCI", "var", "or", "!!", "all",
)  # fmt: skip
_STRINGS = st.sampled_from(
    ["", "x", "x.0", "0", "current", "accumulator", "a.b", "year", "month", "day", "hour",
     "2021-06-01", "2021-06-01T12:00:00Z", "2004", "2004-02", "2021-02-29", "URN:UVCI:01:NL:1/2#3"]
) | st.text(max_size=8)  # fmt: skip
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**6), max_value=10**6)
    | st.sampled_from([0, 1, -1, 2.0, 1.5, 10**40, -(10**40)])
    | _STRINGS
)
_DATA = st.recursive(
    _SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(["x", "0", "a", "b", "current", "dn"]), children, max_size=4)
    ),
    max_leaves=12,
)


def _well_formed(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Operations with the right arity and literal operands, so evaluation gets past validation."""
    two_or_three = st.lists(children, min_size=2, max_size=3)
    comparisons = st.sampled_from(["<", ">", "<=", ">=", "after", "before", "not-after", "not-before"])
    return st.one_of(
        st.builds(lambda a, b, c: {"if": [a, b, c]}, children, children, children),
        st.builds(lambda operands: {"and": operands}, two_or_three),
        st.builds(lambda a: {"!": [a]}, children),
        st.builds(lambda op, a, b: {op: [a, b]}, st.sampled_from(["===", "in", "+"]), children, children),
        st.builds(lambda op, operands: {op: operands}, comparisons, two_or_three),
        st.builds(
            lambda a, n, unit: {"plusTime": [a, n, unit]},
            children,
            st.integers(min_value=-500, max_value=500) | st.sampled_from([10**6, -(10**9), 10**30]),
            st.sampled_from(["year", "month", "day", "hour"]),
        ),
        st.builds(lambda a: {"dccDateOfBirth": [a]}, children),
        st.builds(lambda a, b, c: {"reduce": [a, b, c]}, children, children, children),
        st.builds(lambda a, i: {"extractFromUVCI": [a, i]}, children, st.integers(min_value=-1, max_value=6)),
    )


_EXPRESSIONS = st.recursive(
    _SCALARS | st.builds(lambda path: {"var": path}, _STRINGS),
    lambda children: (
        _well_formed(children)
        | st.lists(children, max_size=4)
        | st.builds(
            lambda op, operands: {op: operands}, st.sampled_from(_OPERATORS), st.lists(children, max_size=4)
        )
        | st.dictionaries(st.sampled_from(_OPERATORS), children, max_size=2)
    ),
    max_leaves=24,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expression=_EXPRESSIONS, data=_DATA)
def test_property_value_or_rule_error(expression: Any, data: Any) -> None:
    issues = validate(expression)
    try:
        result = evaluate(expression, data)
    except RuleError as exc:
        assert exc.stage is Stage.RULES
        expected_code = ErrorCode.RULE_INVALID if issues else ErrorCode.RULE_EVALUATION_FAILED
        assert exc.code is expected_code
        return
    assert not issues
    json.dumps(to_json_value(result))  # a JSON value (date-times rendered as strings)


@settings(max_examples=100, deadline=None)
@given(lines=st.lists(st.text(max_size=40) | st.builds(json.dumps, st.fixed_dictionaries(
    {"logic": _EXPRESSIONS, "data": _DATA})), max_size=5))  # fmt: skip
def test_property_eval_jsonl_one_line_per_input(lines: list[str]) -> None:
    output = list(eval_jsonl(lines))
    assert len(output) == sum(1 for line in lines if line.strip())
    for line in output:
        decoded = json.loads(line)
        assert list(decoded) in (["result"], ["error"])
