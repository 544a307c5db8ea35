"""The batch commands' progress bar (standard library only).

Drawn on a terminal only: piped or redirected, stderr stays clean for scripts (and the caller turns it off
where results go to the same terminal, so that the bar never splits a result line). A bar with a percentage, a
rate and the time left when the number of lines is known (an input file), a running count otherwise
(standard input). A tick costs a counter increment and, every 64 ticks, a clock read: the line is redrawn at
most ten times a second.
"""

from __future__ import annotations

import os
import stat
import sys
import time
from collections.abc import Callable
from typing import IO

__all__ = ["Progress", "count_lines"]

_CHUNK = 1 << 20
_REDRAW_S = 0.1
_CLOCK_EVERY = 64  # ticks between clock reads (a power of two: a mask test)
_ERASE = "\x1b[K"  # erase to the end of the line (ANSI / ECMA-48 EL)


def count_lines(path: str, *, chunk: int = _CHUNK) -> int | None:
    """Lines in a regular file as universal newlines count them (LF, CRLF or CR; a last line without its
    terminator counts), read in ``chunk``-byte blocks so memory stays flat; None for anything but a readable
    regular file (a pipe, a FIFO, a device), which must not be read twice."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
        lines, last = 0, b""
        with open(path, "rb") as handle:
            while block := handle.read(chunk):
                lines += block.count(b"\n") + block.count(b"\r") - block.count(b"\r\n")
                if last == b"\r" and block[:1] == b"\n":  # a CRLF split between two blocks
                    lines -= 1
                last = block[-1:]
    except OSError:
        return None
    return lines + (1 if last not in (b"", b"\n", b"\r") else 0)


class Progress:
    """``with Progress("verified", total=n) as p: ... p.tick()`` draws on ``stream`` (stderr) if a terminal."""

    __slots__ = ("_clock", "_count", "_drawn", "_started", "_stream", "_total", "_what", "_width")

    def __init__(self, what: str, *, total: int | None = None, stream: IO[str] | None = None,
                 clock: Callable[[], float] = time.monotonic, width: int = 30, enabled: bool = True) -> None:
        out = sys.stderr if stream is None else stream
        self._stream = out if enabled and out.isatty() else None
        self._what, self._total, self._clock, self._width = what, total or None, clock, width
        self._count = 0
        self._started = self._drawn = clock()

    def __enter__(self) -> Progress:
        return self

    def tick(self) -> None:
        self._count += 1
        if self._stream is not None and not self._count % _CLOCK_EVERY:
            now = self._clock()
            if now - self._drawn >= _REDRAW_S:
                self._drawn = now
                self._write(self.line(now))

    def line(self, now: float) -> str:
        """The progress line at ``now``: a bar when the total is known, else a count."""
        done, elapsed = self._count, now - self._started
        rate = f"{done / elapsed:,.0f}/s" if elapsed > 0 else "-/s"
        if self._total is None:
            return f"{self._what}: {done:,}  {rate}"
        fraction = min(done / self._total, 1.0)
        filled = int(fraction * self._width)
        left = (self._total - done) * elapsed / done if 0 < done < self._total else 0.0
        return (f"{self._what} [{'#' * filled}{'-' * (self._width - filled)}] {fraction:4.0%}  "
                f"{done:,}/{self._total:,}  {rate}  {left:.0f} s left")

    def summary(self, now: float) -> str:
        """The last line: how many, in how long."""
        elapsed = now - self._started
        rate = f" ({self._count / elapsed:,.0f}/s)" if elapsed > 0 else ""
        return f"{self._what}: {self._count:,} in {elapsed:.1f} s{rate}"

    def __exit__(self, *exc: object) -> None:
        if self._stream is not None and self._count:
            self._write(self.summary(self._clock()), end="\n")

    def _write(self, text: str, end: str = "") -> None:
        assert self._stream is not None
        self._stream.write(f"\r{text}{_ERASE}{end}")
        self._stream.flush()
