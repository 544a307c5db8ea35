#!/usr/bin/env python3
"""Fuzz target: strict base45. Invariant: only DecodeError(base45_invalid), and a decoded text is canonical
(encoding the bytes again gives the same text: exactly one text per byte string)."""

from __future__ import annotations

from _common import instrumented, run

with instrumented():
    from healthpass.codec import b45decode, b45encode
    from healthpass.errors import DecodeError, ErrorCode


def test_one_input(data: bytes) -> None:
    text = data.decode("latin-1")
    try:
        out = b45decode(text)
    except DecodeError as err:
        assert err.code is ErrorCode.BASE45_INVALID
        return
    assert b45encode(out) == text, "non-canonical base45 accepted"
    assert b45decode(data) == out


def seeds():  # type: ignore[no-untyped-def]
    from _common import code_texts

    for text in code_texts():
        yield text[4:].encode("utf-8", "replace")


if __name__ == "__main__":
    run(test_one_input, seeds)
