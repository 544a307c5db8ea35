#!/usr/bin/env python3
"""Fuzz target: CWT claims (strict HP1 or lenient EU by the first byte). Invariants: only
DecodeError(claims_invalid); accepted times are integers in range and consistent (iat <= exp, nbf <= exp)."""

from __future__ import annotations

from _common import instrumented, run

with instrumented():
    from healthpass.codec import decode_claims
    from healthpass.errors import DecodeError, ErrorCode
    from healthpass.model.policy import Limits

LIMITS = Limits()


def test_one_input(data: bytes) -> None:
    if not data:
        return
    try:
        claims = decode_claims(data[1:], limits=LIMITS, strict=bool(data[0] & 1))
    except DecodeError as err:
        assert err.code is ErrorCode.CLAIMS_INVALID, err
        return
    for value in (claims.iat, claims.exp, claims.nbf):
        assert value is None or (type(value) is int and 0 <= value <= 4102444800)
    if claims.iat is not None and claims.exp is not None:
        assert claims.iat <= claims.exp
    if claims.nbf is not None and claims.exp is not None:
        assert claims.nbf <= claims.exp
    assert claims.iss is None or type(claims.iss) is str
    assert claims.cti is None or type(claims.cti) is bytes


def seeds():  # type: ignore[no-untyped-def]
    from _common import cose_messages, payloads_of

    for payload in payloads_of(cose_messages()):
        yield b"\x01" + payload
        yield b"\x00" + payload


if __name__ == "__main__":
    run(test_one_input, seeds)
