"""The batch commands' progress bar: drawn on terminals only, with a total when the input is a file."""

from __future__ import annotations

import io
import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest

from healthpass import Issuer
from healthpass.cli._progress import Progress, count_lines
from healthpass.model.jsonform import payload_from_json
from healthpass.model.regions import Region
from healthpass.signers import SoftwareSigner

from ..conftest import ROOT


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(("data", "lines"), [
    (b"", 0), (b"a", 1), (b"a\n", 1), (b"a\nb", 2), (b"a\r\nb\r\n", 2), (b"a\rb\r", 2), (b"a\n\nb\n", 3),
    (b"a\r\n\rb", 3), (b"\n", 1), (b"\r\n", 1),
])
@pytest.mark.parametrize("chunk", [1, 2, 3, 1 << 20])
def test_count_lines_counts_universal_newlines_across_blocks(tmp_path: Path, data: bytes, lines: int,
                                                             chunk: int) -> None:
    path = tmp_path / "lines.txt"
    path.write_bytes(data)
    assert count_lines(str(path), chunk=chunk) == lines
    with open(path, encoding="utf-8", newline=None) as handle:  # what the batch reader sees
        assert len(handle.read().splitlines()) == lines


def test_count_lines_reads_only_regular_files(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert count_lines(str(fifo)) is None  # never opened: reading it would consume the input
    assert count_lines(str(tmp_path)) is None
    assert count_lines(str(tmp_path / "missing")) is None


def test_bar_with_a_total() -> None:
    out, clock = _Terminal(), _Clock()
    with Progress("verified", total=1000, stream=out, clock=clock, width=10) as progress:
        for _ in range(250):
            clock.now += 1 / 256  # 256 codes a second (exact in binary)
            progress.tick()
        assert progress.line(clock.now) == "verified [##--------]  25%  250/1,000  256/s  3 s left"
    drawn = out.getvalue()
    assert drawn.count("\r") >= 2 and "\x1b[K" in drawn  # redrawn in place
    assert drawn.endswith("\rverified: 250 in 1.0 s (256/s)\x1b[K\n")


def test_count_without_a_total_and_at_most_ten_redraws_a_second() -> None:
    out, clock = _Terminal(), _Clock()
    with Progress("minted", stream=out, clock=clock) as progress:
        for _ in range(64 * 200):  # every clock read (each 64th tick) sees 1/512 s more
            clock.now += 1 / 512 / 64
            progress.tick()
        assert progress.line(clock.now) == "minted: 12,800  32,768/s"
    # 200 clock reads over 0.39 s, redrawn only when 0.1 s passed since the last: 3 redraws, then the summary
    assert out.getvalue().count("\r") == 3 + 1


def test_nothing_is_drawn_off_a_terminal() -> None:
    out = io.StringIO()
    with Progress("verified", total=10, stream=out) as progress:
        for _ in range(1000):
            progress.tick()
    assert out.getvalue() == ""


def _codes(tmp_path: Path, count: int) -> tuple[Path, str]:
    signer = SoftwareSigner.generate()
    (tmp_path / "pub.pem").write_bytes(signer.public_key_pem())
    payload = payload_from_json(json.loads((ROOT / "examples" / "credential.json").read_text("utf-8")))
    code = Issuer(signer, Region("630000")).issue(payload)
    codes = tmp_path / "codes.txt"
    codes.write_text((code + "\n") * count, encoding="ascii")
    return codes, signer.kid.hex()


def _run_on_terminal(tmp_path: Path, codes: Path, *, stdout_too: bool) -> tuple[int, bytes, bytes]:
    """``healthpass verify --batch`` with stderr (and, with ``stdout_too``, stdout) on a pseudo-terminal:
    exit status, what stdout's pipe got, what the terminal got."""
    main_fd, term_fd = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "healthpass", "verify", "--trust-key", f"630000={tmp_path / 'pub.pem'}",
             "--batch", str(codes), "--workers", "1"],
            stdout=term_fd if stdout_too else subprocess.PIPE, stderr=term_fd, stdin=subprocess.DEVNULL)
        os.close(term_fd)
        drawn = b""
        while select.select([main_fd], [], [], 60)[0]:
            try:
                block = os.read(main_fd, 4096)
            except OSError:  # the terminal's other end closed (Linux: EIO)
                break
            if not block:
                break
            drawn += block
        out, _ = proc.communicate(timeout=60)
    finally:
        os.close(main_fd)
    return proc.returncode, out or b"", drawn


def test_verify_batch_results_on_the_terminal_get_no_bar(tmp_path: Path) -> None:
    codes, kid = _codes(tmp_path, 50)
    status, _, drawn = _run_on_terminal(tmp_path, codes, stdout_too=True)
    lines = drawn.decode().splitlines()
    assert status == 0 and b"\x1b[K" not in drawn and b"verified:" not in drawn
    assert lines == [f"{n}: VALID HP1 issuer 630000 kid {kid}" for n in range(1, 51)]


def test_verify_batch_draws_on_a_terminal_and_keeps_stdout_clean(tmp_path: Path) -> None:
    """A real ``healthpass verify --batch`` with stderr on a pseudo-terminal and stdout on a pipe."""
    codes, kid = _codes(tmp_path, 300)
    status, out, drawn = _run_on_terminal(tmp_path, codes, stdout_too=False)
    assert status == 0
    assert out.decode().splitlines() == [f"{n}: VALID HP1 issuer 630000 kid {kid}" for n in range(1, 301)]
    assert b"verified: 300 in " in drawn and b"\x1b[K" in drawn
