"""Issue 14, denial of service and crashes (items 7-10): image input, CertLogic budget, extreme dates,
text-output injection. Every test is named after its item; docs/hostile-input.md lists them."""

from __future__ import annotations

import io
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from healthpass import cose
from healthpass.cli import main
from healthpass.codec.signed_doc import ContentType, encode_envelope
from healthpass.errors import ErrorCode, PolicyError, RuleError
from healthpass.issue import Issuer
from healthpass.model.jsonform import payload_from_json
from healthpass.model.regions import Region
from healthpass.rules import DEFAULT_OPERATION_BUDGET, RuleBundle, eval_jsonl, evaluate, run_tests_at_path
from healthpass.signers import SoftwareSigner
from healthpass.trust import issuer_key, trust_root
from healthpass.verify import Verifier

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_RULES = ROOT / "examples" / "rules"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
BUILT = NOW - timedelta(days=1)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


# ---------------------------------------------------------------------------------------------------
# Item 8: CertLogic evaluation runs under an operation budget
# ---------------------------------------------------------------------------------------------------

TEN = list(range(10))


def nested_reduce(depth: int) -> dict[str, Any]:
    """``reduce`` in ``reduce`` over ten elements: 10**depth evaluations of the innermost lambda."""
    expr: Any = {"+": [{"var": "accumulator"}, 1]}
    for _ in range(depth):
        expr = {"reduce": [TEN, expr, {"var": "accumulator"}]}
    return {"reduce": [TEN, expr, 0]}


def doubling(steps: int) -> dict[str, Any]:
    """An accumulator that holds itself twice: memory grows linearly, the logical size as 2**steps."""
    return {"reduce": [list(range(steps)), [{"var": "accumulator"}, {"var": "accumulator"}], 0]}


BOMBS: dict[str, Any] = {
    "nested_reduce_6": nested_reduce(6),
    "nested_reduce_12": nested_reduce(12),
    # a huge array literal walked by "in" many times
    "in_over_literal_array": {"reduce": [[0] * 800, {"in": [1, [0] * 800]}, False]},
    # values shared by reference, then compared or returned whole
    "equal_on_shared_values": {"===": [doubling(40), doubling(40)]},
    "in_on_shared_values": {"in": [doubling(40), [doubling(40)]]},
    "returned_shared_value": doubling(60),
    # a long var path read again and again
    "long_var_path": {"reduce": [[0] * 1000, {"var": ".".join(["a"] * 1500)}, 0]},
    # a long string parsed again and again ("reduce" shows its lambda only accumulator and current: the
    # string rides in the accumulator)
    "long_uvci": {"reduce": [[0] * 2000, {"if": [{"extractFromUVCI": [{"var": "accumulator"}, 1]},
                                                 {"var": "accumulator"}, {"var": "accumulator"}]},
                             {"var": "uvci"}]},
}
BOMB_DATA = {"uvci": "URN:UVCI:" + "a/" * 2000}  # a 4 kB string (rules eval: the data of the line)


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":")))


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_issue14_item8_bombs_stop_at_the_budget(name: str) -> None:
    expr = BOMBS[name]
    assert _size(expr) + _size(BOMB_DATA) < 10_000
    with pytest.raises(RuleError) as info:
        evaluate(expr, BOMB_DATA)
    assert info.value.code is ErrorCode.RULE_BUDGET_EXCEEDED
    assert str(DEFAULT_OPERATION_BUDGET) in info.value.message


def test_issue14_item8_budget_is_an_input() -> None:
    assert evaluate(nested_reduce(2), None) == 1000
    with pytest.raises(RuleError) as info:
        evaluate(nested_reduce(2), None, budget=500)
    assert info.value.code is ErrorCode.RULE_BUDGET_EXCEEDED
    with pytest.raises(ValueError, match="budget"):
        evaluate(True, None, budget=0)


def test_issue14_item8_sums_stay_safe_integers() -> None:
    doubling_sum = {"reduce": [list(range(200)), {"+": [{"var": "accumulator"}, {"var": "accumulator"}]}, 1]}
    with pytest.raises(RuleError) as info:
        evaluate(doubling_sum, None)
    assert info.value.code is ErrorCode.RULE_EVALUATION_FAILED and "safe integer" in info.value.message
    assert evaluate({"+": [2**53 - 2, 1]}, None) == 2**53 - 1


def test_issue14_item8_deep_results_are_reported_not_raised() -> None:
    deep = {"reduce": [[0] * 3000, [{"var": "accumulator"}], 0]}  # a result nested 3000 deep
    line = json.dumps({"logic": deep, "data": None})
    out = list(eval_jsonl([line]))
    assert len(out) == 1 and "error" in json.loads(out[0])


def test_issue14_item8_rules_eval_cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    lines = [json.dumps({"logic": BOMBS[name], "data": None}) for name in ("nested_reduce_6", "nested_reduce_12")]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join([*lines, '{"logic": {"+": [1, 2]}}']) + "\n"))
    code, out, _ = run(capsys, "rules", "eval")
    results = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(results) == 3
    assert all("rule_budget_exceeded" in r["error"] for r in results[:2]) and results[2] == {"result": 3}


def _bomb_rule(rules: Path) -> None:
    """Add rule HP-BOMB-0001 to a copy of the example rules: a bomb unless the issuer is "test"; its one
    embedded test (issuer "test") passes, so the bundle builds and loads."""
    folder = rules / "HP-BOMB-0001"
    (folder / "tests").mkdir(parents=True)
    rule = json.loads((rules / "HP-STATUS-0001" / "rule.json").read_text("utf-8"))
    rule.update(Identifier="HP-BOMB-0001",
                Logic={"if": [{"===": [{"var": "payload.issuer"}, "test"]}, True, nested_reduce(12)]})
    (folder / "rule.json").write_text(json.dumps(rule), "utf-8")
    (folder / "tests" / "t.json").write_text(json.dumps({"payload": {"issuer": "test"}, "expected": True}), "utf-8")


def _bomb_test(rules: Path) -> None:
    (rules / "HP-BOMB-0001" / "tests" / "t2.json").write_text(
        json.dumps({"payload": {"issuer": "630000"}, "expected": True}), "utf-8")


def test_issue14_item8_rules_test_directory_and_build(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(EXAMPLE_RULES, rules)
    _bomb_rule(rules)
    _bomb_test(rules)
    _, failed, details = run_tests_at_path(rules)
    assert failed == 1 and any("HP-BOMB-0001/t2.json" in d and "budget" in d for d in details)
    code, out, err = run(capsys, "rules", "test", str(rules))
    assert code == 1 and "1 failed" in out and "budget" in err
    signer = SoftwareSigner.generate()
    with pytest.raises(RuleError) as info:
        RuleBundle.build(signer, rules, seq=1, valid_for=timedelta(days=1), now=BUILT)
    assert info.value.code is ErrorCode.RULE_TESTS_FAILED and "budget" in info.value.message


def _seal_directory(signer: SoftwareSigner, rules: Path) -> bytes:
    """A bundle sealed by hand from a rules directory (bypassing the checks of :meth:`RuleBundle.build`)."""
    texts, tests = [], []
    for folder in sorted(p for p in rules.iterdir() if p.is_dir()):
        texts.append((folder / "rule.json").read_text("utf-8"))
        tests.extend([folder.name, t.name, t.read_text("utf-8")] for t in sorted((folder / "tests").glob("*.json")))
    issued = int(BUILT.timestamp())
    body = {1: texts, 2: (rules / "profiles.json").read_text("utf-8"), 3: tests}
    return cose.seal_document(signer, ContentType.RULE_BUNDLE.value,
                              encode_envelope(1, issued, issued + 30 * 86400, body))


def test_issue14_item8_rules_test_unverified_bundle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(EXAMPLE_RULES, rules)
    _bomb_rule(rules)
    _bomb_test(rules)
    path = tmp_path / "bomb.bundle"
    path.write_bytes(_seal_directory(SoftwareSigner.generate(), rules))  # never checked: no root given
    code, out, err = run(capsys, "rules", "test", str(path))
    assert code == 1 and "1 failed" in out and "UNVERIFIED" in err and "budget" in err


def test_issue14_item8_verification_with_a_bundle_fails_closed(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(EXAMPLE_RULES, rules)
    _bomb_rule(rules)
    root = SoftwareSigner.generate()
    bundle = RuleBundle.load(RuleBundle.build(root, rules, seq=1, valid_for=timedelta(days=30), now=BUILT),
                             [trust_root(root.public_key_pem())])
    signer = SoftwareSigner.generate()
    payload = payload_from_json(json.loads((ROOT / "examples" / "credential.json").read_text("utf-8")))
    code = Issuer(signer, Region("630000")).issue(payload, now=NOW)
    verifier = Verifier(keys=[issuer_key(signer.public_key_pem(), region=Region("630000"))], rules=bundle)
    with pytest.raises(PolicyError) as info:
        verifier.verify(code, at=NOW, profile=None)
    assert "HP-BOMB-0001" in info.value.failed_rules
    bomb = next(r for r in info.value.results if r["id"] == "HP-BOMB-0001")
    assert bomb["passed"] is False and "budget" in bomb["error"]
