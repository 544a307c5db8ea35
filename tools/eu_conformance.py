"""EU DCC conformance: pass rates per flag and per country over the EU test data (dgc-testdata).

    python tools/eu_conformance.py                 # markdown tables
    python tools/eu_conformance.py --json          # the same counts as JSON
    python tools/eu_conformance.py --failures      # also list every check that did not pass
    python tools/eu_conformance.py --shared DIR --skiplist FILE --no-pictures --no-schemas

The logic is ``tests/eu_dcc_harness.py``, shared with ``tests/test_eu_dcc.py``: the same flag mapping,
skip-list and outcomes. The shared folder is ``--shared``, else ``$HEALTHPASS_SHARED``, else ``../shared``.
Exit status: 0 when no gated check fails (failed or stale), 1 otherwise, 2 when the data is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests import eu_dcc_harness as harness  # noqa: E402

from healthpass.formats.eu_dcc import DccSchemas  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path,
                        default=Path(os.environ.get("HEALTHPASS_SHARED", ROOT.parent / "shared")))
    parser.add_argument("--skiplist", type=Path, default=ROOT / "tests" / "eu_dcc_skiplist.csv")
    parser.add_argument("--json", action="store_true", help="print JSON instead of markdown")
    parser.add_argument("--failures", action="store_true", help="list the checks that did not pass")
    parser.add_argument("--no-pictures", action="store_true", help="do not decode the QR pictures")
    parser.add_argument("--no-schemas", action="store_true", help="do not compare the schema flags")
    args = parser.parse_args(argv)

    data = args.shared / "vectors" / "dgc-testdata"
    if not data.is_dir():
        print(f"EU DCC test data not found: {data}", file=sys.stderr)
        return 2
    schema_dir = args.shared / "vectors" / "eu-dcc-schema"
    schemas = None if args.no_schemas or not schema_dir.is_dir() else DccSchemas.load(schema_dir)
    skiplist = harness.SkipList.load(args.skiplist)
    started = time.perf_counter()
    reports = [harness.evaluate(case, skiplist, schemas=schemas, pictures=not args.no_pictures)
               for case in harness.load_cases(data)]
    elapsed = time.perf_counter() - started
    summary = harness.summarise(reports)
    listed = [
        {"file": r.name, "flag": c.flag, "expected": c.expected, "outcome": c.outcome.value, "detail": c.detail}
        for r in reports for c in r.checks if c.outcome is not harness.Outcome.PASS
    ]
    if args.json:
        out = {**summary, "seconds": round(elapsed, 2)}
        if args.failures:
            out["checks"] = listed
        print(json.dumps(out, indent=2, ensure_ascii=False))
    else:
        print(harness.markdown(summary), end="")
        if args.failures and listed:
            print("\n| file | flag | expected | outcome | detail |\n|---|---|---|---|---|")
            for item in listed:
                detail = str(item["detail"]).replace("|", "/")
                print(f"| {item['file']} | {item['flag']} | {item['expected']} | {item['outcome']} | {detail} |")
        print(f"\n({len(reports)} files in {elapsed:.1f} s)")
    gated_bad = sum(c.get("failed", 0) + c.get("stale", 0) for c in summary["by_flag"].values())
    return 1 if gated_bad else 0


if __name__ == "__main__":
    sys.exit(main())
