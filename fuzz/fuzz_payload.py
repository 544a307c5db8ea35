#!/usr/bin/env python3
"""Fuzz target: the healthpass payload (claim -300) decoder. The input is the payload's CBOR; it is decoded
strictly, then parsed. Invariants: only DecodeError (cbor_invalid, schema_invalid); an accepted payload
re-encodes to exactly the same map (one payload, one encoding: spec P4)."""

from __future__ import annotations

from _common import instrumented, run

with instrumented():
    from healthpass.codec.cbor import CborLimits, decode
    from healthpass.codec.payload import payload_from_cbor, payload_to_cbor
    from healthpass.errors import DecodeError, ErrorCode

IAT = 1764072000
LIMITS = CborLimits(max_depth=12, max_items=2048, max_string=8192)


def test_one_input(data: bytes) -> None:
    try:
        value = decode(data, what="payload", deterministic=True, limits=LIMITS)
        payload = payload_from_cbor(value, iat=IAT)
    except DecodeError as err:
        assert err.code in (ErrorCode.CBOR_INVALID, ErrorCode.SCHEMA_INVALID), err
        return
    assert payload_to_cbor(payload, iat=IAT) == value, "a second encoding of the same payload was accepted"


def seeds():  # type: ignore[no-untyped-def]
    from _common import cose_messages, payloads_of, safe_loads

    from healthpass.codec.cbor import encode

    for claims in payloads_of(cose_messages("HP1:")):
        value = safe_loads(claims)
        if isinstance(value, dict) and isinstance(value.get(-300), dict):
            try:
                yield encode(value[-300])
            except (TypeError, ValueError):
                continue


if __name__ == "__main__":
    run(test_one_input, seeds)
