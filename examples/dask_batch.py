"""Mint and verify batches on a Dask cluster: the batch API takes any ``concurrent.futures.Executor``.

``Issuer.issue_many(payloads, executor=...)`` and ``Verifier.verify_many(texts, executor=...)`` cut their
input into chunks, keep a bounded number of chunks in flight and yield results in input order, so memory
stays flat however long the input is. A process pool is enough on one machine; a user who outgrows it
passes the executor of a Dask (or Ray) cluster instead and nothing else changes. Here the cluster is local
(two worker processes, one thread each); point ``Client`` at a scheduler address for a real one. The
issuer (with its signer) and the verifier are pickled to the workers once per chunk.

    pip install "dask[distributed]"
    python examples/dask_batch.py [--n 2000] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from healthpass import Issuer, Region, SoftwareSigner, Verifier, issuer_key, payload_from_json

HERE = Path(__file__).resolve().parent
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def run(n: int = 2000, workers: int = 2, chunk_size: int = 128) -> dict[str, object]:
    """Mint ``n`` codes and verify them on a local Dask cluster; returns a summary (used by the test)."""
    from distributed import Client

    signer = SoftwareSigner.generate()
    region = Region.parse("CN-QH")
    issuer = Issuer(signer, region)
    verifier = Verifier(keys=[issuer_key(signer.public_key_pem(), region=region)])
    sample = payload_from_json(json.loads((HERE / "credential.json").read_text("utf-8")))
    assert sample.status is not None

    def payloads():  # a generator: the input is never held in memory as a whole
        for i in range(n):  # status set i minutes earlier, so the order of results can be checked
            yield replace(sample, status=replace(sample.status, set_at=sample.status.set_at - timedelta(minutes=i)))

    with Client(processes=True, n_workers=workers, threads_per_worker=1, dashboard_address=None) as client:
        executor = client.get_executor()
        started = time.perf_counter()
        codes = list(issuer.issue_many(payloads(), now=NOW, executor=executor, chunk_size=chunk_size))
        minted = time.perf_counter()
        results = list(verifier.verify_many(codes, at=NOW, executor=executor, chunk_size=chunk_size))
        verified = time.perf_counter()
    failures = [r for r in codes if not isinstance(r, str)] + [r.error for r in results if r.error is not None]
    in_order = all(
        r.credential is not None and r.credential.payload is not None and r.credential.payload.status is not None
        and r.credential.payload.status.set_at == sample.status.set_at - timedelta(minutes=i)
        for i, r in enumerate(results)
    )
    return {"codes": len(codes), "valid": sum(r.credential is not None for r in results), "failures": failures,
            "in_order": in_order, "mint_s": round(minted - started, 2), "verify_s": round(verified - minted, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2000, help="codes to mint and verify")
    parser.add_argument("--workers", type=int, default=2, help="Dask worker processes")
    args = parser.parse_args()
    summary = run(args.n, args.workers)
    print(f"minted {summary['codes']} codes in {summary['mint_s']} s, verified {summary['valid']} valid in "
          f"{summary['verify_s']} s on {args.workers} Dask workers; results in input order: {summary['in_order']}")
    return 0 if summary["valid"] == args.n and summary["in_order"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
