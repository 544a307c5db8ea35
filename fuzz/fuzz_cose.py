#!/usr/bin/env python3
"""Fuzz target: COSE_Sign1 structure and header resolution (strict HP1 or lenient EU, by the first byte).
Invariant: only HealthPassError (cbor_invalid, cose_invalid, algorithm_unsupported)."""

from __future__ import annotations

from _common import instrumented, run

with instrumented():
    from healthpass import cose
    from healthpass.codec import decode_sign1
    from healthpass.errors import ErrorCode, HealthPassError
    from healthpass.model.cose import Algorithm
    from healthpass.model.policy import Limits

LIMITS = Limits()
CODES = {ErrorCode.CBOR_INVALID, ErrorCode.COSE_INVALID, ErrorCode.ALGORITHM_UNSUPPORTED}


def test_one_input(data: bytes) -> None:
    if not data:
        return
    strict = bool(data[0] & 1)
    try:
        msg = decode_sign1(data[1:], limits=LIMITS, strict=strict)
        info = cose.read_headers(msg, allowed=frozenset(Algorithm), protected_alg_only=bool(data[0] & 2))
    except HealthPassError as err:
        assert err.code in CODES, err
        return
    assert isinstance(info.algorithm, Algorithm)
    assert info.kid is None or type(info.kid) is bytes
    assert len(msg.protected_header) <= LIMITS.max_header_entries


def seeds():  # type: ignore[no-untyped-def]
    from _common import cose_messages

    for message in cose_messages():
        yield b"\x03" + message
        yield b"\x00" + message


if __name__ == "__main__":
    run(test_one_input, seeds)
