"""Business rules: the CertLogic evaluator and validator, and the EU rule-test runner."""

from healthpass.rules.certlogic import (
    MAX_DEPTH,
    EuRuleTestOutcome,
    EuRuleTestReport,
    ValidationIssue,
    eval_jsonl,
    evaluate,
    is_falsy,
    is_truthy,
    run_eu_rule_tests,
    to_json_value,
    validate,
    validation_issues,
)

__all__ = [
    "MAX_DEPTH",
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
