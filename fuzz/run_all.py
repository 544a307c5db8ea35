#!/usr/bin/env python3
"""Run every fuzz target for a bounded time and print the figures libFuzzer reports.

    python fuzz/run_all.py --seconds 600 --jobs 2 --work /tmp/healthpass-fuzz [TARGET ...]

Each target gets a corpus directory under ``--work`` (seeded from the attack catalogue on first use) and
runs as its own process with ``-max_total_time``; ``--jobs`` targets run at once. Findings (crash-*, oom-*,
timeout-*) are written under ``--work/<target>/findings``; the summary lists executions, exec/s, coverage
(``cov``, ``ft``) and corpus size per target, and the total. Exit status 1 when any target found anything.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGETS = ["base45", "zlib", "cbor", "cose", "claims", "payload", "verify_hp1", "verify_hc1", "trust_list", "image",
           "certlogic"]
_STATS = re.compile(
    r"#(\d+)\s+(?:DONE|pulse|NEW|REDUCE|INITED)\s+cov: (\d+) ft: (\d+)(?: corp: (\d+)/\S+)?.*exec/s: (\d+)"
)
_DONE = re.compile(r"Done (\d+) runs in (\d+) second")


@dataclass
class Result:
    target: str
    runs: int = 0
    seconds: float = 0.0
    cov: int = 0
    ft: int = 0
    corpus: int = 0
    findings: int = 0
    status: int = 0

    @property
    def rate(self) -> float:
        return self.runs / self.seconds if self.seconds else 0.0


def run_target(target: str, seconds: int, work: Path, max_len: int, rss_limit_mb: int) -> Result:
    corpus = work / target / "corpus"
    findings = work / target / "findings"
    findings.mkdir(parents=True, exist_ok=True)
    script = HERE / f"fuzz_{target}.py"
    if not corpus.exists() or not any(corpus.iterdir()):
        subprocess.run([sys.executable, str(script), "--write-seeds", str(corpus)], check=True, cwd=HERE)
    log = work / target / "fuzz.log"
    started = time.monotonic()
    with log.open("w") as out:
        status = subprocess.run(
            [sys.executable, str(script), str(corpus), f"-max_total_time={seconds}", f"-max_len={max_len}",
             f"-rss_limit_mb={rss_limit_mb}", "-timeout=10", f"-artifact_prefix={findings}/",
             "-print_final_stats=1"],
            cwd=HERE, stdout=out, stderr=subprocess.STDOUT, check=False,
        ).returncode
    result = Result(target, seconds=time.monotonic() - started, status=status)
    for line in log.read_text(errors="replace").splitlines():
        if match := _STATS.search(line):
            result.runs, result.cov, result.ft = int(match[1]), int(match[2]), int(match[3])
            result.corpus = int(match[4] or result.corpus)
        if match := _DONE.search(line):
            result.runs = int(match[1])
    result.findings = len(list(findings.iterdir()))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("targets", nargs="*", metavar="TARGET", help=f"default: all of {', '.join(TARGETS)}")
    parser.add_argument("--seconds", type=int, default=300, help="time per target (default 300)")
    parser.add_argument("--jobs", type=int, default=1, help="targets run at once (default 1)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/healthpass-fuzz"))
    parser.add_argument("--max-len", type=int, default=8192)
    parser.add_argument("--rss-limit-mb", type=int, default=1024)
    args = parser.parse_args(argv)
    unknown = set(args.targets) - set(TARGETS)
    if unknown:
        parser.error(f"unknown targets: {', '.join(sorted(unknown))}")
    args.targets = args.targets or TARGETS
    with ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(lambda t: run_target(t, args.seconds, args.work, args.max_len, args.rss_limit_mb),
                                args.targets))
    print(f"{'target':12} {'executions':>12} {'seconds':>8} {'exec/s':>8} {'cov':>6} {'ft':>7} {'corpus':>7} findings")
    for r in results:
        print(f"{r.target:12} {r.runs:>12,} {r.seconds:>8.0f} {r.rate:>8,.0f} {r.cov:>6} {r.ft:>7} {r.corpus:>7} "
              f"{r.findings}{'' if r.status == 0 else f' (exit {r.status})'}")
    total_runs = sum(r.runs for r in results)
    total_seconds = sum(r.seconds for r in results)
    print(f"{'total':12} {total_runs:>12,} {total_seconds:>8.0f} {total_runs / max(total_seconds, 1):>8,.0f}")
    return 1 if any(r.findings or r.status for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
