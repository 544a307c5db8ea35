"""Hostile input within budget: the time and peak memory of every crafted image and CertLogic bomb.

Issue 14 items 7 and 8 promise that any image under 10 kB is scanned or refused in under 1 s and 150 MB, and
that any rule or rule test under 10 kB evaluates or fails within 1 s. The tests check the outcomes and the
memory (``tests/test_issue14_dos.py``); this measures the times, each input in a fresh process (so that the
peak resident memory, ``VmHWM``, is that input's alone, interpreter and imports included).

    python benchmarks/hostile_input.py            # a table
    python benchmarks/hostile_input.py --json

Inputs: ``tests/_hostile_images.py`` (decompression bombs of every allowed format, truncated files, bad CRCs,
animations, huge palettes, finder-pattern tiles, foreign formats) and the bombs of
``tests/test_issue14_dos.py`` (nested ``reduce`` of depth 6 and 12, shared values compared or returned,
huge literal arrays, long paths and strings). Each is run ``--repeat`` times (default 3); the median time and
the largest peak are reported. The machine may be noisy.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_PROBE = r"""
import json, sys, time
from pathlib import Path
kind, path = sys.argv[1], Path(sys.argv[2])
if kind == "image":
    from healthpass import qr
    from healthpass.errors import ScanError
    import PIL.Image, zxingcpp  # imported before timing, as a long-running scanner has them
    data = path.read_bytes()
    started = time.perf_counter()
    try:
        qr.scan(data)
        outcome = "found"
    except ScanError as err:
        outcome = err.code.value
else:
    from healthpass.rules import evaluate
    from healthpass.errors import RuleError
    logic, data = json.loads(path.read_text())
    started = time.perf_counter()
    try:
        evaluate(logic, data)
        outcome = "result"
    except RuleError as err:
        outcome = err.code.value
elapsed = time.perf_counter() - started
peak = next(int(l.split()[1]) for l in Path("/proc/self/status").read_text().splitlines() if l.startswith("VmHWM:"))
print(json.dumps({"seconds": elapsed, "peak_kib": peak, "outcome": outcome}))
"""


def _inputs(directory: Path) -> list[tuple[str, str, Path, int]]:
    sys.path.insert(0, str(ROOT))
    from tests._hostile_images import HOSTILE_IMAGES
    from tests.test_issue14_dos import BOMB_DATA, BOMBS

    out = []
    for name, (make, _) in HOSTILE_IMAGES.items():
        path = directory / f"image-{name}"
        path.write_bytes(make())
        out.append(("image", name, path, path.stat().st_size))
    for name, bomb in BOMBS.items():
        path = directory / f"rule-{name}.json"
        path.write_text(json.dumps([bomb, BOMB_DATA], separators=(",", ":")))
        out.append(("rule", name, path, path.stat().st_size))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind, name, path, size in _inputs(Path(tmp)):
            runs = [json.loads(subprocess.run([sys.executable, "-c", _PROBE, kind, str(path)], check=True,
                                              capture_output=True, text=True).stdout) for _ in range(args.repeat)]
            rows.append({"kind": kind, "name": name, "bytes": size, "outcome": runs[0]["outcome"],
                         "seconds": statistics.median(r["seconds"] for r in runs),
                         "peak_mib": max(r["peak_kib"] for r in runs) / 1024})
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    print(f"{'input':42} {'bytes':>7} {'outcome':22} {'ms':>7} {'peak MiB':>9}")
    for row in rows:
        print(f"{row['kind'] + ' ' + row['name']:42} {row['bytes']:>7} {row['outcome']:22} "
              f"{row['seconds'] * 1000:>7.1f} {row['peak_mib']:>9.1f}")
    small = [r for r in rows if r["bytes"] < 10_000]
    print(f"under 10 kB: {len(small)} inputs, slowest {max(r['seconds'] for r in small) * 1000:.0f} ms, "
          f"largest peak {max(r['peak_mib'] for r in small):.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
