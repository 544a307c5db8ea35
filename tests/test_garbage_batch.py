"""``healthpass verify --batch FILE --json`` goes through a file of garbage without stopping: one result line
per non-blank input line, in order, exit 1 (lines were rejected), in flat memory. Runs the real CLI in a
subprocess on the output of ``tools/garbage_batch.py`` (20,000 lines here; the million-line run is recorded
in fuzz/README.md)."""

from __future__ import annotations

import importlib.util
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from healthpass.cli import _bounded_lines

ROOT = Path(__file__).resolve().parents[1]
LINES = 20_000
SMALL = 2_000
#: Peak resident memory of the CLI process (the largest of it and its workers), in MiB.
MAX_RSS_MIB = 160
#: How much more the 20,000-line run may take than the 2,000-line run: memory must not grow with the input
#: (measured: about 30 MiB of allocator warm-up with one worker; a leak of cbor2's on invalid UTF-8 made 63).
MAX_GROWTH_MIB = 55


def _tool() -> Any:
    spec = importlib.util.spec_from_file_location("garbage_batch", ROOT / "tools" / "garbage_batch.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GARBAGE = _tool()

#: Runs the command given as arguments and prints the peak RSS (KiB) of its process tree, as the only
#: child of this wrapper, so other tests' subprocesses never count.
_MEASURE = (
    "import resource, subprocess, sys\n"
    "with open(sys.argv[1], 'wb') as out:\n"
    "    code = subprocess.run(sys.argv[2:], stdout=out, stderr=subprocess.PIPE).returncode\n"
    "print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("garbage")
    files = {"big": folder / "garbage.txt", "small": folder / "small.txt", "key": folder / "PUB.pem"}
    GARBAGE.write(files["big"], LINES)
    GARBAGE.write(files["small"], SMALL)
    files["key"].write_text(GARBAGE.public_key_pem(), "utf-8")
    return files


def _run(batch: dict[str, Path], which: str, workers: int, out: Path) -> tuple[int, float]:
    command = [sys.executable, "-m", "healthpass", "verify", "--trust-key", f"630000={batch['key']}",
               "--at", GARBAGE.AT, "--json", "--batch", str(batch[which]), "--workers", str(workers)]
    done = subprocess.run([sys.executable, "-c", _MEASURE, str(out), *command], capture_output=True, text=True,
                          timeout=600, check=True)
    code, rss_kib = done.stdout.split()
    return int(code), int(rss_kib) / 1024


def _check_output(batch: dict[str, Path], which: str, out: Path) -> list[dict[str, Any]]:
    expected = list(GARBAGE.expected_lines(batch[which]))
    results = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert len(results) == len(expected), "one result line per non-blank input line"
    assert [r["line"] for r in results] == expected, "results in input order, numbered as the input"
    for r in results:
        assert (r["valid"] is True) == (r["error"] is None)
        if r["error"] is not None:
            assert set(r["error"]) == {"code", "stage", "message"}
    return results


@pytest.mark.parametrize("workers", [1, 2])
def test_garbage_batch_one_result_per_line_in_flat_memory(batch: dict[str, Path], workers: int,
                                                          tmp_path: Path) -> None:
    code, rss = _run(batch, "big", workers, tmp_path / "out.jsonl")
    assert code == 1  # some lines were rejected (issue 15 item 5)
    results = _check_output(batch, "big", tmp_path / "out.jsonl")
    assert any(r["valid"] for r in results), "the valid codes among the garbage verify"
    assert {r["error"]["code"] for r in results if r["error"]} >= {
        "prefix_invalid", "base45_invalid", "decompress_failed", "cbor_invalid", "payload_too_large",
        "signature_invalid"}
    small_code, small_rss = _run(batch, "small", workers, tmp_path / "small.jsonl")
    assert small_code == 1
    _check_output(batch, "small", tmp_path / "small.jsonl")
    assert rss < MAX_RSS_MIB, f"peak RSS {rss:.0f} MiB"
    assert rss - small_rss < MAX_GROWTH_MIB, f"memory grew from {small_rss:.0f} to {rss:.0f} MiB with the input"


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("length", [10, 65_535, 65_536, 65_537, 70_000, 131_072, 131_073])
def test_long_lines_never_swallow_the_next_line(end: str, length: int) -> None:
    """The CLI cuts a line beyond 65,536 characters and skips its rest; with a lone CR (or a CRLF that the
    cut splits) as terminator, the skipping used to run into the following line."""
    data = ("A" * length + end + "second" + end + end + "third" + end).encode()

    def stream() -> io.TextIOWrapper:
        return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="replace", newline="")

    got = list(_bounded_lines(stream()))
    reference = [line.rstrip("\r\n") for line in stream()]
    assert len(got) == len(reference) == 4
    assert got[1:] == reference[1:] == ["second", "", "third"]
    assert got[0] == "A" * min(length, 65_537)
