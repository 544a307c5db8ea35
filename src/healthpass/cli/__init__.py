"""The ``healthpass`` command line: argparse, files, printing and exit codes over the public API.

Exit codes for every command: 0 success, 1 the operation failed on its input (a rejected code, no code
found, failing tests), 2 usage error (message on stderr, no JSON).

One module per command group (keys, mint, verify, transcode, decode, scan, trust, status, rules)
beside the shared ones (_io, _parser, _signers, _verifier, _progress); a command's module is imported
only when that command runs. The CLI uses healthpass's public API only (tests/test_layers.py).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from importlib import import_module

from healthpass.cli._io import EXIT_FAILED, EXIT_USAGE, UsageError, _InputFailure, _say
from healthpass.cli._io import _bounded_lines as _bounded_lines  # re-exported for the tests
from healthpass.cli._parser import _HelpFormatter as _HelpFormatter  # re-exported for the tests
from healthpass.cli._parser import _Parser

__all__ = ["build_parser", "main"]


#: the sub-commands: name, help line, the module and function adding their options
_COMMANDS: tuple[tuple[str, str, str, str], ...] = (
    ("keygen", "create a signing key pair", "keys", "_keygen_arguments"),
    ("mint", "sign a credential and print its HP1: text", "mint", "_mint_arguments"),
    ("verify", "verify a code offline", "verify", "_verify_arguments"),
    ("transcode", "re-issue a verified foreign code as a local HP1: code", "transcode", "_transcode_arguments"),
    ("decode", "print a code's content WITHOUT verifying it", "decode", "_decode_arguments"),
    ("scan", "print the code text found in an image", "scan", "_scan_arguments"),
    ("trust", "build and inspect trust lists", "trust", "_trust_arguments"),
    ("rules", "CertLogic acceptance rules", "rules", "_rules_arguments"),
    ("status", "credential status lists: registry, publishing, deltas", "status", "_status_arguments"),
)


def _arguments_in(module: str, function: str) -> Callable[[_Parser], None]:
    """The function adding a sub-command's options; its module (``healthpass.cli.<module>``) is imported only
    when the sub-command is parsed or its help printed."""

    def arguments(parser: _Parser) -> None:
        getattr(import_module(f"healthpass.cli.{module}"), function)(parser)

    return arguments


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command-line parser. A sub-command's options are added only when it is parsed or its help printed;
    with ``command`` (a sub-command name) the other sub-commands are not even built (each costs some 0.1 ms),
    though usage messages still list them all."""
    parser = _Parser(prog="healthpass", description="Mint and verify offline health codes.")
    parser.add_argument("--version", action="version", version=_version())
    names = [name for name, _, _, _ in _COMMANDS]
    subset = command in names
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser,
                                metavar="{" + ",".join(names) + "}" if subset else None)
    for name, help_text, module, function in _COMMANDS:
        if not subset or name == command:
            sub.add_parser(name, help=help_text, arguments=_arguments_in(module, function))
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
