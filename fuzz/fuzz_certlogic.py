#!/usr/bin/env python3
"""Fuzz target: CertLogic evaluation under its operation budget. The input is JSON text: ``[logic, data]``
(anything else is evaluated as the logic, with null data). Seeds: the EU rules with their tests, the
CertLogic evaluator suite (when ``HEALTHPASS_SHARED`` points at the shared vectors) and the bombs of
``tests/test_issue14_dos.py``.

Invariants: ``evaluate`` returns or raises ``RuleError`` (``rule_invalid``, ``rule_evaluation_failed``,
``rule_budget_exceeded``), nothing else; a result converts to JSON text (``to_json_value``); an input under
10 kB evaluates or fails within 8 s under instrumentation (1 s plain: atheris' coverage hooks slow the
evaluator down up to 25x; a nested-reduce bomb taking 0.13 s plain took 3.3 s)."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from _common import ROOT, instrumented, run

with instrumented():
    from healthpass.errors import ErrorCode, RuleError
    from healthpass.rules import evaluate, to_json_value

SMALL = 10_000
SECONDS = 8.0  # instrumented: the evaluator runs up to 25x slower than plain (benchmarks measure the real time)
CODES = (ErrorCode.RULE_INVALID, ErrorCode.RULE_EVALUATION_FAILED, ErrorCode.RULE_BUDGET_EXCEEDED)


def test_one_input(data: bytes) -> None:
    try:
        request = json.loads(data)
    except (ValueError, RecursionError):
        return
    logic, context = (request[0], request[1]) if isinstance(request, list) and len(request) == 2 else (request, None)
    started = time.monotonic()
    try:
        result = evaluate(logic, context)
    except RuleError as err:
        assert err.code in CODES, err.code
    else:
        with contextlib.suppress(RecursionError):  # nested deeper than the interpreter's stack: reported by the CLI
            json.dumps(to_json_value(result))
    elapsed = time.monotonic() - started
    assert len(data) >= SMALL or elapsed < SECONDS, f"{len(data)} bytes took {elapsed:.2f} s"


def seeds() -> Iterator[bytes]:
    sys.path.insert(0, str(ROOT))
    from tests.test_issue14_dos import BOMB_DATA, BOMBS

    for bomb in BOMBS.values():
        yield json.dumps([bomb, BOMB_DATA], separators=(",", ":")).encode()
    shared = Path(os.environ.get("HEALTHPASS_SHARED", ROOT.parent / "shared")) / "vectors" / "certlogic"
    for rule in sorted((shared / "rules" / "EU-with-tests").glob("*/rule.json")):
        logic = json.loads(rule.read_text("utf-8"))["Logic"]
        for test in sorted((rule.parent / "tests").glob("*.json"))[:3]:
            case = json.loads(test.read_text("utf-8"))
            data = {"payload": case.get("payload"), "external": case.get("external")}
            yield json.dumps([logic, data], separators=(",", ":")).encode()
    for suite in sorted((shared / "testSuite").glob("*.json")):
        for case in json.loads(suite.read_text("utf-8")).get("cases", []):
            for assertion in case.get("assertions", [])[:2]:
                logic = assertion.get("certLogicExpression", case.get("certLogicExpression"))
                yield json.dumps([logic, assertion.get("data")], separators=(",", ":")).encode()


if __name__ == "__main__":
    run(test_one_input, seeds)
