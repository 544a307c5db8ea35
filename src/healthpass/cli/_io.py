"""What every command shares: exit codes and usage errors, option values (durations, instants, passwords),
reading files and bounded lines, printing escaped text and JSON, worker pools and the progress bar.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from healthpass.cli._progress import Progress

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "UsageError", "_InputFailure", "_MAX_DURATION", "_MAX_LINE",
           "_MAX_KEY_FILE", "_MAX_MANIFEST",
           "_bounded_lines", "_dumps", "_executor", "_json_default", "_lines", "_open_text", "_password",
           "_progress", "_read", "_read_small", "_say", "parse_at", "parse_duration"]


EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
_MAX_LINE = 65536
#: bounds on files named as options (documents: healthpass.trust.MAX_DOCUMENT_BYTES): a key, certificate or
#: credential file is a few KiB; a trust-list manifest names one file per key
_MAX_KEY_FILE = 1 << 20
_MAX_MANIFEST = 1 << 26
_MAX_DURATION = timedelta(days=3660)  # ten years: anything longer is a typo, and codes must expire before 2100


class UsageError(Exception):
    """Bad command-line usage: reported on stderr with exit code 2."""


def parse_duration(text: str) -> timedelta:
    """``90m``, ``72h``, ``30d``, ``45s``: a positive whole number and one unit; the message of a refused
    duration names its problem (negative, fractional, no unit, unknown unit, zero, too long)."""
    from healthpass.model.jsonform import parse_duration as parse

    try:
        duration = parse(text)
    except ValueError as err:
        raise UsageError(str(err)) from None
    if duration > _MAX_DURATION:
        raise UsageError(f"invalid duration {text!r}: at most {_MAX_DURATION.days} days")
    return duration


def parse_at(text: str) -> datetime:
    """``--at``: ISO 8601 with a zone (``Z`` or an offset), up to nine fractional digits."""
    from healthpass.model.time import parse_iso

    try:
        return parse_iso(text, name="--at")
    except ValueError as err:
        raise UsageError(str(err)) from None


def _read(path: str, what: str, *, limit: int) -> bytes:
    """The file's bytes, at most ``limit + 1`` of them: enough for the reader (a document's load, the image
    scanner) to refuse an oversized file, never a device file or a file of gigabytes read whole. A named pipe
    is opened without waiting for a writer (one with none reads as empty instead of hanging the command), then
    read as usual (``<(command)`` works)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
        try:
            os.set_blocking(fd, True)
            with os.fdopen(fd, "rb", closefd=False) as handle:
                return handle.read(limit + 1)
        finally:
            os.close(fd)
    except OSError as err:
        raise UsageError(f"cannot read {what} {path!r}: {err.strerror}") from None


def _read_small(path: str, what: str, *, limit: int = _MAX_KEY_FILE) -> bytes:
    """A small file's bytes (a key, a certificate, credential JSON); one larger than ``limit`` is a usage
    error, read no further."""
    data = _read(path, what, limit=limit)
    if len(data) > limit:
        raise UsageError(f"{what} {path!r} is larger than {limit} bytes")
    return data


def _password(var: str | None) -> bytes | None:
    if var is None:
        return None
    value = os.environ.get(var)
    if value is None:
        raise UsageError(f"environment variable {var} is not set")
    return value.encode("utf-8")


def _json_default(value: object) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _dumps(obj: Any) -> str:
    """Compact JSON, every character that is not printable written as a ``\\u`` escape (safe to print)."""
    from healthpass.model.text import escape_json

    return escape_json(json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=_json_default))


def _say(text: object, *, file: IO[str] | None = None) -> None:
    """Print one line of text output. Every line the CLI prints that may hold untrusted text (an issuer, an
    error message quoting input, a rule or file name from a bundle, a scanned code) goes through here or
    :func:`_lines`: escaped by :func:`healthpass.model.text.escape_text`, it can neither start a new line nor
    drive the terminal. JSON output goes through :func:`_dumps` instead."""
    from healthpass.model.text import escape_text

    print(escape_text(text), file=file if file is not None else sys.stdout)


def _lines(lines: Sequence[str]) -> str:
    """Several lines of text output, each escaped as :func:`_say` escapes one."""
    from healthpass.model.text import escape_text

    return "\n".join(escape_text(line) for line in lines)


class _InputFailure(Exception):
    """A trust list or bundle given on the command line was rejected (exit 1, reported like a code)."""

    def __init__(self, error: Any) -> None:
        super().__init__(str(error))
        self.error = error


def _open_text(path: str) -> IO[str]:
    try:
        return open(path, encoding="utf-8", errors="replace", newline="")
    except OSError as err:
        raise UsageError(f"cannot read {path!r}: {err.strerror}") from None


def _bounded_lines(stream: IO[str], limit: int = _MAX_LINE) -> Iterator[str]:
    """Lines without their terminator; a line longer than ``limit`` is cut to ``limit + 1`` characters
    (enough for the verifier to reject it as too large) and the rest of it skipped, in bounded memory.
    Lines end as the stream's universal newlines say (LF, CR or CRLF, even when a size limit cuts a CRLF)."""
    ends = ("\n", "\r")
    after_cr = False
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        if after_cr and line == "\n":  # the LF of a CRLF whose CR ended the previous, size-limited read
            after_cr = False
            continue
        last = line
        if len(line) > limit and not line.endswith(ends):
            while True:
                last = stream.readline(limit)
                if not last or last.endswith(ends):
                    break
        after_cr = last.endswith("\r")
        yield line.rstrip("\r\n")


def _executor(workers: int | None) -> Any:
    count = workers if workers is not None else (os.cpu_count() or 1)
    if count < 1:
        raise UsageError("--workers must be at least 1")
    if count == 1:
        return None
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=count, mp_context=multiprocessing.get_context("spawn"))


def _progress(what: str, source: str, *, results_on_stdout: bool = False) -> Progress:
    """The progress bar of a batch (stderr, terminals only), with a total when the input is a file; none when
    the results themselves go to a terminal (they show the progress, and a bar would split their lines)."""
    from healthpass.cli._progress import Progress, count_lines

    enabled = sys.stderr.isatty() and not (results_on_stdout and sys.stdout.isatty())
    total = count_lines(source) if enabled and source != "-" else None
    return Progress(what, total=total, enabled=enabled)
