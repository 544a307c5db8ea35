"""Strict base45: the RFC 9285 vectors and the ``base45`` package as oracle."""

from __future__ import annotations

import json

import base45
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from healthpass.codec.base45 import ALPHABET, b45decode, b45encode
from healthpass.errors import DecodeError, ErrorCode

from ._shared import find_shared_dir, shared_dir


def _vectors() -> dict:
    folder = find_shared_dir()
    if folder is None:
        return {"valid": [], "invalid_decode": []}
    return json.loads((folder / "vectors" / "base45-rfc9285.json").read_text("utf-8"))


VECTORS = _vectors()


def test_shared_vectors_present() -> None:
    shared_dir()
    assert len(VECTORS["valid"]) >= 4 and VECTORS["invalid_decode"]


@pytest.mark.parametrize("case", VECTORS["valid"], ids=lambda c: c["encoded"])
def test_rfc9285_valid(case: dict) -> None:
    raw = bytes.fromhex(case["hex"])
    assert b45encode(raw) == case["encoded"]
    assert b45decode(case["encoded"]) == raw


@pytest.mark.parametrize("case", VECTORS["invalid_decode"], ids=lambda c: c["encoded"])
def test_rfc9285_invalid(case: dict) -> None:
    with pytest.raises(DecodeError) as info:
        b45decode(case["encoded"])
    assert info.value.code is ErrorCode.BASE45_INVALID


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_round_trip_matches_oracle(data: bytes) -> None:
    text = b45encode(data)
    assert text == base45.b45encode(data).decode("ascii")
    assert b45decode(text) == data


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=ALPHABET + "abc\u00e9#", max_size=60))
def test_decode_agrees_with_oracle_or_rejects(text: str) -> None:
    try:
        expected = base45.b45decode(text)
    except Exception:  # the oracle rejects: so must we
        with pytest.raises(DecodeError):
            b45decode(text)
        return
    assert b45decode(text) == expected


@pytest.mark.parametrize("text", ["abc", "BB8 ", "\u00c0BB", "BB\x00"])
def test_lowercase_and_foreign_characters_rejected(text: str) -> None:
    with pytest.raises(DecodeError):
        b45decode(text)


def test_lane_division_constant_is_exact() -> None:
    """The encoder divides by 45 as a multiplication and a shift, lane by lane: exact for every 16-bit word."""
    from healthpass.codec.base45 import _DIV45, _DIV45_SHIFT

    assert all((n * _DIV45) >> _DIV45_SHIFT == n // 45 for n in range(65536))


@pytest.mark.parametrize("data", [b"", b"\x00", b"\xff", b"\xff\xff" * 40, b"\x00" * 41, bytes(range(256)),
                                  bytes(range(256)) * 16, bytes(range(256)) * 16 + b"\x07", bytes(range(256)) * 40])
def test_encode_edges_match_oracle(data: bytes) -> None:
    """Including inputs on both sides of the lane-mask cache bound (2,048 words = 4,096 bytes), twice each."""
    assert b45encode(data) == base45.b45encode(data).decode("ascii")
    assert b45encode(data) == base45.b45encode(data).decode("ascii")
