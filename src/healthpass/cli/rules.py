"""``healthpass rules eval|test|build``: CertLogic evaluation, rule tests and signed rule bundles."""

from __future__ import annotations

import argparse
import sys

from healthpass.cli._io import EXIT_FAILED, EXIT_OK, _bounded_lines, _say, parse_duration
from healthpass.cli._parser import _Parser
from healthpass.cli._signers import _add_pkcs11_options, _signer

__all__ = ["_rules_arguments", "_rules_build_arguments", "_rules_eval_arguments", "_rules_test_arguments",
           "cmd_rules_build", "cmd_rules_eval", "cmd_rules_test"]


def cmd_rules_eval(args: argparse.Namespace) -> int:
    from healthpass.model.text import escape_json
    from healthpass.rules import eval_jsonl

    for line in eval_jsonl(_bounded_lines(sys.stdin)):
        sys.stdout.write(escape_json(line) + "\n")
    return EXIT_OK


def cmd_rules_test(args: argparse.Namespace) -> int:
    from healthpass.rules import run_tests_at_path

    passed, failed, details = run_tests_at_path(args.path)
    for line in details:
        _say(line, file=sys.stderr)
    _say(f"{passed} passed, {failed} failed")
    return EXIT_OK if failed == 0 and passed > 0 else EXIT_FAILED


def cmd_rules_build(args: argparse.Namespace) -> int:
    from pathlib import Path

    from healthpass.errors import HealthPassError
    from healthpass.rules import RuleBundle

    try:
        data = RuleBundle.build(_signer(args, "root_key"), Path(args.rules_dir), seq=args.seq,
                                valid_for=parse_duration(args.valid_for))
    except HealthPassError as err:
        _say(f"healthpass: {err}", file=sys.stderr)
        return EXIT_FAILED
    Path(args.out).write_bytes(data)
    _say(f"rule bundle seq {args.seq} written to {args.out}")
    return EXIT_OK


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
