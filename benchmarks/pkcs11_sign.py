"""Signatures per second through a PKCS#11 token (SoftHSM2 by default) against the software key.

Each signer is measured single-threaded, with 2 threads sharing one signer, and with 2 worker processes
each holding a pickled copy (which opens its own session). Every worker signs for ``--seconds`` after a
warm-up (the first signature opens the session) and a barrier, so set-up and process start-up are not
counted. The work per iteration is a ``SignFn``: today a bare ``signer.sign(payload)``; swap in a function
that mints a whole code to measure the issuer end to end.

    python benchmarks/pkcs11_sign.py                  # a throwaway SoftHSM2 token, markdown table
    python benchmarks/pkcs11_sign.py --json           # one JSON document on stdout, nothing else
    python benchmarks/pkcs11_sign.py --module /usr/lib/vendor/libpkcs11.so --token prod \\
        --key healthpass-dsc --pin-env HSM_PIN         # an existing key in a real token

Needs python-pkcs11 and, for the default, SoftHSM2 (``softhsm2-util`` and ``libsofthsm2.so``).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from healthpass.model.cose import Algorithm
from healthpass.signers import Signer, SoftwareSigner
from healthpass.signers.pkcs11 import Pkcs11Config, Pkcs11Signer, generate_key

#: One unit of work. Later: ``lambda signer, payload: mint(credential, signer)``.
SignFn = Callable[[Signer, bytes], object]

PAYLOAD = bytes(range(256)) * 2  # about the size of a COSE Sig_structure for a compact code
SOFTHSM_MODULES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
    "/opt/homebrew/lib/softhsm/libsofthsm2.so",
)
BENCH_PIN_ENV = "HEALTHPASS_BENCH_PIN"
MODES = (("1 thread", "thread", 1), ("2 threads", "thread", 2), ("2 processes", "process", 2))


def sign_only(signer: Signer, payload: bytes) -> object:
    """The default SignFn: one signature over the payload."""
    return signer.sign(payload)


_SAMPLE = Path(__file__).resolve().parents[1] / "examples" / "credential.json"


def mint_code(signer: Signer, payload: bytes) -> object:
    """``--mint``: a whole code (the sample credential, QR text out) minted with the signer."""
    from healthpass import Issuer, Region, payload_from_json

    credential = payload_from_json(json.loads(_SAMPLE.read_text("utf-8"))) if not _CACHE else _CACHE[0]
    if not _CACHE:
        _CACHE.append(credential)
    return Issuer(signer, Region("630000")).issue(credential)


_CACHE: list[Any] = []  # the parsed sample, per process (benchmark script, not library code)


class _Barrier(Protocol):
    def wait(self, timeout: float | None = None) -> int: ...


class _Results(Protocol):
    def put(self, item: tuple[int, float], block: bool = True, timeout: float | None = None) -> None: ...


@dataclass(frozen=True, slots=True)
class Result:
    signer: str
    algorithm: str
    mode: str
    workers: int
    signatures: int
    signatures_per_second: float


def _worker(
    signer: Signer, sign_fn: SignFn, payload: bytes, seconds: float, barrier: _Barrier, results: _Results
) -> None:
    sign_fn(signer, payload)  # warm-up: opens the session in this process
    barrier.wait()
    count, start = 0, time.perf_counter()
    deadline = start + seconds
    while (now := time.perf_counter()) < deadline:
        sign_fn(signer, payload)
        count += 1
    results.put((count, now - start))


def measure(signer: Signer, sign_fn: SignFn, mode: str, workers: int, seconds: float) -> tuple[int, float]:
    """Run ``workers`` threads or spawned processes for ``seconds``; returns (signatures, per second)."""
    outcomes: list[tuple[int, float]] = []
    if mode == "thread":
        barrier = threading.Barrier(workers)
        results: queue.SimpleQueue[tuple[int, float]] = queue.SimpleQueue()
        threads = [
            threading.Thread(target=_worker, args=(signer, sign_fn, PAYLOAD, seconds, barrier, results))
            for _ in range(workers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        outcomes = [results.get() for _ in threads]
    else:
        context = multiprocessing.get_context("spawn")  # the portable choice for PKCS#11 modules
        pbarrier = context.Barrier(workers)
        presults: Any = context.SimpleQueue()
        processes = [
            context.Process(target=_worker, args=(signer, sign_fn, PAYLOAD, seconds, pbarrier, presults))
            for _ in range(workers)
        ]
        for process in processes:
            process.start()
        outcomes = [presults.get() for _ in processes]
        for process in processes:
            process.join()
            if process.exitcode != 0:
                raise RuntimeError(f"a worker process failed with exit code {process.exitcode}")
    total = sum(count for count, _ in outcomes)
    return total, sum(count / elapsed for count, elapsed in outcomes)


def _softhsm_module() -> str:
    configured = os.environ.get("SOFTHSM2_MODULE")
    for candidate in (configured, *SOFTHSM_MODULES):
        if candidate and Path(candidate).is_file():
            return candidate
    raise SystemExit("libsofthsm2.so not found: apt-get install softhsm2, or set SOFTHSM2_MODULE")


@contextmanager
def throwaway_softhsm_token() -> Iterator[tuple[str, str]]:
    """A fresh SoftHSM2 token in a temporary directory; yields (module, token label). Sets env vars."""
    if shutil.which("softhsm2-util") is None:
        raise SystemExit("softhsm2-util not found: apt-get install softhsm2")
    module = _softhsm_module()
    pin = os.urandom(8).hex()
    with tempfile.TemporaryDirectory(prefix="healthpass-bench-") as tmp:
        tokens = Path(tmp) / "tokens"
        tokens.mkdir()
        conf = Path(tmp) / "softhsm2.conf"
        conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n")
        os.environ["SOFTHSM2_CONF"] = str(conf)  # inherited by the spawned workers
        os.environ[BENCH_PIN_ENV] = pin
        subprocess.run(
            ["softhsm2-util", "--init-token", "--free", "--label", "bench", "--so-pin", pin, "--pin", pin],
            check=True,
            capture_output=True,
        )
        yield module, "bench"


def run(args: argparse.Namespace, token: tuple[str, str] | None, sign_fn: SignFn = sign_only) -> list[Result]:
    results: list[Result] = []
    for alg_name in args.alg:
        algorithm = Algorithm.from_name(alg_name)
        signers: list[tuple[str, Signer]] = [("software key", SoftwareSigner.generate(algorithm))]
        if token is not None:  # a throwaway SoftHSM2 token: make a key per algorithm
            module, label = token
            config = Pkcs11Config(module, label, key_label=f"bench-{alg_name}", pin_env=BENCH_PIN_ENV)
            signers.append(("SoftHSM2 (PKCS#11)", generate_key(config, algorithm)))
        else:
            config = Pkcs11Config(args.module, args.token, key_label=args.key, pin_env=args.pin_env)
            hsm = Pkcs11Signer(config)
            if hsm.algorithm is not algorithm:
                continue
            signers.append((f"PKCS#11 token {args.token!r}", hsm))
        for name, signer in signers:
            for mode_name, mode, workers in MODES:
                total, rate = measure(signer, sign_fn, mode, workers, args.seconds)
                results.append(Result(name, algorithm.jose_name, mode_name, workers, total, rate))
        for _, signer in signers:
            if isinstance(signer, Pkcs11Signer):
                signer.close()
    return results


def markdown(results: list[Result]) -> str:
    baseline = {(r.algorithm, r.mode): r.signatures_per_second for r in results if r.signer == "software key"}
    lines = [
        "| algorithm | signer | mode | per second (signatures, or codes with --mint) | vs software key |",
        "|---|---|---|---:|---:|",
    ]
    for r in results:
        base = baseline.get((r.algorithm, r.mode))
        ratio = f"{r.signatures_per_second / base:.2f}x" if base else "-"
        lines.append(f"| {r.algorithm} | {r.signer} | {r.mode} | {r.signatures_per_second:,.0f} | {ratio} |")
    return "\n".join(lines)


def environment() -> dict[str, Any]:
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
    }
    try:
        version = subprocess.run(["softhsm2-util", "--version"], capture_output=True, text=True, check=False)
        info["softhsm2"] = version.stdout.strip() or None
    except OSError:
        info["softhsm2"] = None
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=2.0, help="measuring time per row (default 2)")
    parser.add_argument(
        "--alg", action="append", choices=["ES256", "EdDSA"], help="algorithm(s) (default: both)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document and nothing else")
    parser.add_argument("--mint", action="store_true",
                        help="mint whole codes (examples/credential.json) instead of bare signatures")
    parser.add_argument("--module", help="PKCS#11 module of an existing token (default: throwaway SoftHSM2)")
    parser.add_argument("--token", help="token label (with --module)")
    parser.add_argument("--key", help="key label in the token (with --module)")
    parser.add_argument("--pin-env", help="environment variable holding the user PIN (with --module)")
    args = parser.parse_args(argv)
    args.alg = args.alg or ["ES256", "EdDSA"]
    if args.module and not (args.token and args.key and args.pin_env):
        parser.error("--module needs --token, --key and --pin-env")

    work: SignFn = mint_code if args.mint else sign_only
    if args.module:
        results = run(args, None, work)
    else:
        with throwaway_softhsm_token() as token:
            results = run(args, token, work)

    if args.json:
        document = {
            "benchmark": "pkcs11_sign",
            "seconds_per_row": args.seconds,
            "payload_bytes": len(PAYLOAD),
            "work": "mint whole codes" if args.mint else "bare signatures",
            "environment": environment(),
            "results": [asdict(r) for r in results],
        }
        json.dump(document, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(markdown(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
