#!/usr/bin/env python3
"""Fuzz target: bounded zlib. Invariant: only DecodeError (decompress_failed / payload_too_large), never more
than ``max_size`` bytes out, and whatever is accepted is exactly what the reference zlib inflates."""

from __future__ import annotations

import zlib

from _common import instrumented, run

with instrumented():
    from healthpass.codec import decompress
    from healthpass.errors import DecodeError, ErrorCode

MAX = 4096


def test_one_input(data: bytes) -> None:
    try:
        out = decompress(data, max_size=MAX)
    except DecodeError as err:
        assert err.code in (ErrorCode.DECOMPRESS_FAILED, ErrorCode.PAYLOAD_TOO_LARGE)
        return
    assert len(out) <= MAX
    assert zlib.decompress(data) == out, "accepted something the reference zlib reads differently"


def seeds():  # type: ignore[no-untyped-def]
    from _common import code_texts

    from healthpass.codec import b45decode
    from healthpass.errors import HealthPassError

    for text in code_texts():
        try:
            yield b45decode(text.strip()[4:])
        except HealthPassError:
            continue


if __name__ == "__main__":
    run(test_one_input, seeds)
