"""Where the time of one verification goes: each stage of ``Verifier.verify``, timed on its own.

``run.py`` times whole verifications against the floor, a raw ``cryptography`` signature check. This script
splits one verification into the stages of ``Verifier._verify`` and times each in a tight loop, on the
inputs the previous stage produced (computed once beforehand), with the same functions and arguments the
verifier uses:

1. ``prefix+base45`` - ``split_prefix`` + ``b45decode``;
2. ``zlib``          - ``decompress`` (bounded by ``limits.max_decompressed``);
3. ``cose``          - ``decode_sign1`` (strict for HP1, lenient for HC1);
4. ``headers``       - ``cose.read_headers`` (crit, alg allow-list, kid);
5. ``signature``     - ``Verifier._verify_signature``: key lookup by kid, trust-list window, ``Sig_structure``,
                       the ``cryptography`` call;
6. ``claims``        - ``decode_claims``;
7. ``payload``       - HP1: ``payload_from_cbor`` of the healthpass claim; HC1: ``eu_dcc.interpret`` with the
                       policy's arguments (no EU JSON schema, as in ``run.py``);
8. ``finish``        - ``Verifier._finish_hp1`` / ``_finish_hc1`` as is: claims checks, scope, key window,
                       validity and the result object. It calls stage 7 itself, so stage 7 is inside it;
9. ``whole``         - ``Verifier.verify(text, at=...)``;

and ``raw``, the floor of ``run.py`` (``raw_verifier``), is the baseline of every group.

``sum`` = stages 1-6 + 8 (stage 7 is not added: it is part of 8). ``unattributed`` = whole - sum, a
difference of medians: the glue of ``_verify`` that no stage holds (``_aware``, the prefix allow-list and kid
checks, ``_check_clock``, the calls themselves) plus the difference between running the stages back to back
on cold-ish caches, interleaved Python and OpenSSL work, and each alone in a hot loop. It can be negative.
What the signature stage costs *inside* the whole pipeline is not measured: that would need patching the
library, which this script does not do. Every timed stage also carries one Python function call.

Timing is ``run.interleaved``: each round times every case once in a rotating order, with the garbage
collector paused; a time is the median over rounds, ``x raw`` the median of the per-round ratios to the raw
check of the same round. Variants: the four ``HP1`` codes of ``run.build_fixture`` per algorithm (ES256,
EdDSA; the verifier built from its loaded 50-key trust list) and the EU ``HC1`` test codes of
``run.HC1_FILES`` when ``shared/`` is found (``run.shared_dir``). ``--quick``: fewer rounds, the ``status``
and ``complete sample`` codes and one EU code per algorithm.

    python benchmarks/breakdown.py            # full run (under a minute)
    python benchmarks/breakdown.py --quick    # smoke run
    python benchmarks/breakdown.py --json     # one JSON document on stdout, nothing else
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization

from healthpass import Verifier
from healthpass import cose as hp_cose
from healthpass.codec import Prefix, b45decode, decode_claims, decode_sign1, decompress, split_prefix
from healthpass.codec.payload import payload_from_cbor
from healthpass.model.cose import ClaimKey

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # benchmarks/run.py: fixtures, timing, the table

#: Timed stages in pipeline order (key, label); ``raw`` is the baseline.
STAGES = (
    ("prefix_base45", "1 prefix+base45"),
    ("zlib", "2 zlib"),
    ("cose", "3 cose (decode_sign1)"),
    ("headers", "4 headers"),
    ("signature", "5 signature (_verify_signature)"),
    ("claims", "6 claims (decode_claims)"),
    ("payload", "7 payload (inside 8)"),
    ("finish", "8 finish (_finish_*, incl. 7)"),
    ("whole", "9 whole (Verifier.verify)"),
)
#: The stages whose medians add up to ``sum`` (7 is inside 8).
SUMMED = ("prefix_base45", "zlib", "cose", "headers", "signature", "claims", "finish")
QUICK_HP1 = ("status", "complete sample")
_HEALTHPASS = int(ClaimKey.HEALTHPASS)


@dataclass
class Variant:
    fmt: str  # "HP1" or "HC1"
    alg: str
    code: str
    text: str
    at: datetime
    verifier: Verifier
    public_key: Any  # the cryptography public key, for the raw check


def hp1_variants(quick: bool) -> list[Variant]:
    fx = run.build_fixture()
    run.warm_up(fx, 0.5 if quick else 2.0)
    names = QUICK_HP1 if quick else tuple(fx.payloads)
    out = []
    for alg, signer in (("ES256", fx.es), ("EdDSA", fx.ed)):
        public = serialization.load_pem_public_key(signer.public_key_pem())
        for name in names:
            out.append(Variant("HP1", alg, name, fx.codes[(alg, name)], run.NOW, fx.verifier, public))
    return out


def hc1_variants(shared: Path, quick: bool) -> list[Variant]:
    """The EU test codes, each with a verifier trusting its DSC (as ``run.section_verify`` builds them)."""
    out = []
    for rel, alg in run.hc1_files(quick):
        case = run.load_hc1_case(shared, rel)
        out.append(Variant("HC1", alg, case.name, case.text, case.at, Verifier(keys=[case.dsc]), case.public_key))
    return out


def stage_cases(v: Variant) -> dict[str, Callable[[], object]]:
    """One callable per stage, each on the precomputed output of the stages before it."""
    verifier, text, at = v.verifier, v.text, v.at
    policy = verifier.policy
    limits = policy.limits
    now = at.astimezone(UTC)  # what Verifier.verify passes down (_aware)
    # the pipeline once, keeping every intermediate value (the same calls as Verifier._verify)
    prefix, body = split_prefix(text, max_text=limits.max_text)
    strict = prefix is Prefix.HP1
    compressed = b45decode(body)
    message = decompress(compressed, max_size=limits.max_decompressed)
    sign1 = decode_sign1(message, limits=limits, strict=strict)
    headers = hp_cose.read_headers(sign1, allowed=policy.algorithms, kid_protected=False)
    entry, warnings = verifier._verify_signature(sign1, headers, now, strict=strict)
    claims = decode_claims(sign1.payload, limits=limits, strict=strict)

    payload: Callable[[], object]
    finish: Callable[[], object]
    if strict:
        iat = claims.iat
        assert iat is not None

        def payload() -> object:
            return payload_from_cbor(claims.other[_HEALTHPASS], iat=iat)

        def finish() -> object:
            return verifier._finish_hp1(sign1, headers, entry, claims, now, warnings)
    else:
        from healthpass.formats import eu_dcc

        def payload() -> object:
            return eu_dcc.interpret(
                claims, strict_schema=policy.strict_schema, limits=limits, schemas=policy.dcc_schemas
            )

        def finish() -> object:
            return verifier._finish_hc1(headers, entry, claims, now, warnings)

    if finish() != verifier.verify(text, at=at):  # the stages rebuild exactly what the verifier returns
        raise RuntimeError(f"{v.fmt} {v.code}: the staged pipeline disagrees with Verifier.verify")
    return {
        "raw": run.raw_verifier(v.alg, v.public_key, text),
        "prefix_base45": lambda: b45decode(split_prefix(text, max_text=limits.max_text)[1]),
        "zlib": lambda: decompress(compressed, max_size=limits.max_decompressed),
        "cose": lambda: decode_sign1(message, limits=limits, strict=strict),
        "headers": lambda: hp_cose.read_headers(sign1, allowed=policy.algorithms, kid_protected=False),
        "signature": lambda: verifier._verify_signature(sign1, headers, now, strict=strict),
        "claims": lambda: decode_claims(sign1.payload, limits=limits, strict=strict),
        "payload": payload,
        "finish": finish,
        "whole": lambda: verifier.verify(text, at=at),
    }


def measure(v: Variant, rounds: int) -> dict[str, Any]:
    m = run.interleaved(stage_cases(v), "raw", rounds=rounds)
    stages = {key: {"us": round(m[key].median_us, 2), "x_raw": round(m[key].ratio or 0, 3)} for key, _ in STAGES}
    sum_us = sum(m[key].median_us for key in SUMMED)
    sum_x = sum(m[key].ratio or 0 for key in SUMMED)
    whole = m["whole"]
    return {
        "format": v.fmt,
        "alg": v.alg,
        "code": v.code,
        "chars": len(v.text),
        "raw_us": round(m["raw"].median_us, 2),
        "stages": stages,
        "finish_minus_payload_us": round(m["finish"].median_us - m["payload"].median_us, 2),
        "sum_us": round(sum_us, 2),
        "sum_x_raw": round(sum_x, 3),
        "whole_us": round(whole.median_us, 2),
        "whole_x_raw": round(whole.ratio or 0, 3),
        "unattributed_us": round(whole.median_us - sum_us, 2),
        "unattributed_x_raw": round((whole.ratio or 0) - sum_x, 3),
        "unattributed_share": round((whole.median_us - sum_us) / whole.median_us, 3),
    }


# ------------------------------------------------------------------------------------------- report


def _cell(us: float, x: float | None) -> str:
    return f"{us:.1f}" if x is None else f"{us:.1f} ({x:.2f}x)"


def group_table(rows: list[dict[str, Any]]) -> str:
    """One format/alg: a row per stage, a column per code; a cell is ``median µs (x raw)``."""
    lines: list[dict[str, Any]] = [{"stage": "chars", **{r["code"]: r["chars"] for r in rows}}]
    lines.append({"stage": "raw signature check", **{r["code"]: _cell(r["raw_us"], None) for r in rows}})
    for key, label in STAGES:
        lines.append(
            {"stage": label, **{r["code"]: _cell(r["stages"][key]["us"], r["stages"][key]["x_raw"]) for r in rows}}
        )
    lines.append(
        {
            "stage": "8 - 7 (finish without payload)",
            **{r["code"]: _cell(r["finish_minus_payload_us"], None) for r in rows},
        }
    )
    lines.append({"stage": "sum of 1-6 + 8", **{r["code"]: _cell(r["sum_us"], r["sum_x_raw"]) for r in rows}})
    lines.append(
        {
            "stage": "unattributed (9 - sum)",
            **{
                r["code"]: f"{_cell(r['unattributed_us'], r['unattributed_x_raw'])}, {r['unattributed_share']:.0%}"
                for r in rows
            },
        }
    )
    return run._table(lines)


def print_report(results: dict[str, Any]) -> None:
    info = results["machine"]
    print(
        f"# Where the time goes ({'quick' if results['quick'] else 'full'} run, {results['rounds']} rounds, "
        f"{results['seconds']} s)\n"
    )
    print(
        f"{info['nproc']} CPUs, {info['cpu']}, Python {info['versions']['python']}, "
        f"cryptography {info['versions']['cryptography']} ({info['openssl']}), {info['platform']}\n"
    )
    print(
        "Cell: median µs over interleaved rounds (median per-round ratio to the raw signature check). "
        "sum = stages 1-6 + 8 (7 is inside 8); unattributed = 9 - sum, also as a share of 9.\n"
    )
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in results["rows"]:
        groups.setdefault((row["format"], row["alg"]), []).append(row)
    for (fmt, alg), rows in groups.items():
        print(f"## {fmt} {alg}\n")
        print(group_table(rows))
        print()
    if results.get("note"):
        print(results["note"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer rounds and codes (smoke run)")
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout, nothing else")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    rounds = 5 if args.quick else 15
    variants = hp1_variants(args.quick)
    shared = run.shared_dir()
    note = None
    if shared is None:
        note = "EU test codes skipped: shared/ not found (HEALTHPASS_SHARED or ../shared)"
    else:
        variants += hc1_variants(shared, args.quick)
    rows = []
    for v in variants:
        if not args.json:
            print(f"... {v.fmt} {v.alg} {v.code}", file=sys.stderr, flush=True)
        rows.append(measure(v, rounds))
    results: dict[str, Any] = {
        "machine": run.machine(),
        "quick": args.quick,
        "rounds": rounds,
        "summed_stages": list(SUMMED),
        "rows": rows,
        "note": note,
        "seconds": round(time.perf_counter() - started, 1),
    }
    run.emit(results, args.json, print_report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
