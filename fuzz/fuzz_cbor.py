#!/usr/bin/env python3
"""Fuzz target: strict bounded CBOR. The first byte picks the mode (deterministic or lenient, floats, allowed
tags). Invariants: only DecodeError(cbor_invalid); in deterministic mode an accepted item re-encodes to
exactly the input bytes; the result respects the limits."""

from __future__ import annotations

from _common import instrumented, run

with instrumented():
    from healthpass.codec.cbor import CborLimits, decode, encode
    from healthpass.errors import DecodeError, ErrorCode

LIMITS = (CborLimits(max_depth=12, max_items=2048, max_string=8192),
          CborLimits(max_depth=12, max_items=2048, max_string=8192, allow_floats=True))


def test_one_input(data: bytes) -> None:
    if not data:
        return
    mode, body = data[0], data[1:]
    deterministic = bool(mode & 1)
    limits = LIMITS[(mode >> 1) & 1]
    tags = frozenset({18, 61}) if mode & 4 else frozenset()
    try:
        value = decode(body, what="fuzz", deterministic=deterministic, limits=limits, allowed_tags=tags)
    except DecodeError as err:
        assert err.code is ErrorCode.CBOR_INVALID
        return
    if deterministic and not limits.allow_floats:
        assert encode(value) == body, "deterministic decode of bytes that do not re-encode identically"


def seeds():  # type: ignore[no-untyped-def]
    from _common import cose_messages, payloads_of

    for message in cose_messages():
        yield b"\x05" + message
    for payload in payloads_of(cose_messages()):
        yield b"\x01" + payload
        yield b"\x02" + payload


if __name__ == "__main__":
    run(test_one_input, seeds)
