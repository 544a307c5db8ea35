"""The argparse parser: usage errors exit with code 2, options are added on first use, help shows defaults."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn

from healthpass.cli._io import EXIT_USAGE, _say

__all__ = ["_HelpFormatter", "_Parser"]


class _HelpFormatter(argparse.HelpFormatter):
    """Help with each option's default shown where it has a meaningful one (not None, False or []), as wide as
    the terminal (as argparse's own)."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        # gain: ~1 ms of every command's start-up: argparse would import shutil (and bz2, lzma) for the width
        super().__init__(prog, indent_increment, max_help_position, _terminal_columns() - 2 if width is None else width)

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if (default not in (None, False, [], argparse.SUPPRESS) and "%(default)" not in text
                and action.option_strings and "default" not in text):
            text += " (default: %(default)s)"
        return text


def _terminal_columns() -> int:
    """``shutil.get_terminal_size().columns``: $COLUMNS, else the terminal's width, else 80."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class _Parser(argparse.ArgumentParser):
    """Usage errors exit with code 2. ``arguments`` adds the parser's options when it is first used (to parse,
    or to print its usage or help), not when it is built."""

    def __init__(self, *args: Any, arguments: Callable[[_Parser], None] | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)
        self._arguments = arguments

    def _complete(self) -> None:
        arguments, self._arguments = self._arguments, None
        if arguments is not None:
            arguments(self)

    def parse_known_args(self, *args: Any, **kwargs: Any) -> Any:
        self._complete()
        return super().parse_known_args(*args, **kwargs)

    def format_usage(self) -> str:
        self._complete()
        return super().format_usage()

    def format_help(self) -> str:
        self._complete()
        return super().format_help()

    def _get_value(self, action: argparse.Action, arg_string: str) -> Any:
        # An option given an empty value is a usage error, never taken as absent: `--rules "$BUNDLE"` or
        # `--state "$DIR"` with the variable unset used to verify without rules or rollback state, `--at ""` at
        # the current time, `trust show FILE --root ""` without a root (UNVERIFIED, exit 0).
        if arg_string == "" and action.option_strings and arg_string is not action.default:
            raise argparse.ArgumentError(action, "an empty value (an unset variable?)")
        return super()._get_value(action, arg_string)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        _say(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)
