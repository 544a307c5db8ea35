"""Business rules: the CertLogic evaluator and validator, the EU rule-test runner, and signed rule bundles."""

from healthpass.rules.bundle import (
    CERTIFICATE_TYPES,
    HEALTHPASS_CERTIFICATE_TYPE,
    Profile,
    Rule,
    RuleBundle,
    RuleTest,
    RuleTestOutcome,
    run_tests_at_path,
)
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
    "CERTIFICATE_TYPES",
    "HEALTHPASS_CERTIFICATE_TYPE",
    "MAX_DEPTH",
    "EuRuleTestOutcome",
    "EuRuleTestReport",
    "Profile",
    "Rule",
    "RuleBundle",
    "RuleTest",
    "RuleTestOutcome",
    "ValidationIssue",
    "eval_jsonl",
    "evaluate",
    "is_falsy",
    "is_truthy",
    "run_eu_rule_tests",
    "run_tests_at_path",
    "to_json_value",
    "validate",
    "validation_issues",
]
