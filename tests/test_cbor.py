"""Strict CBOR: one item, definite lengths, no duplicates, no foreign tags, bounded, deterministic."""

from __future__ import annotations

import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from healthpass.codec.cbor import CborLimits, Tagged, decode, encode
from healthpass.errors import DecodeError, ErrorCode

LIMITS = CborLimits()


def _decode(data: bytes, deterministic: bool = True, **kw: object) -> object:
    return decode(data, what="test", deterministic=deterministic, limits=LIMITS, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("duplicate key", bytes.fromhex("a201010102")),
        ("trailing bytes", bytes.fromhex("0102")),
        ("indefinite array", bytes.fromhex("9f01ff")),
        ("indefinite text", bytes.fromhex("7f6161ff")),
        ("regex tag 35", bytes.fromhex("d82363616263")),
        ("mime tag 36", bytes.fromhex("d8246161")),
        ("datetime tag 0", cbor2.dumps(cbor2.CBORTag(0, "2020-01-01T00:00:00Z"))),
        ("bignum tag 2", bytes.fromhex("c249010000000000000000")),
        ("undefined", bytes.fromhex("f7")),
        ("simple value", bytes.fromhex("f0")),
        ("float", bytes.fromhex("f93c00")),
        ("truncated", bytes.fromhex("a20101")),
        ("reserved info", bytes.fromhex("1c")),
        ("invalid utf-8", bytes.fromhex("62c328")),
        ("array as map key", bytes.fromhex("a1810101")),
        ("small bignum", bytes.fromhex("c24101")),
        ("shareable", bytes.fromhex("d81c01")),
        ("self-describe", bytes.fromhex("d9d9f701")),
        ("epoch datetime", bytes.fromhex("c11a5f5e1000")),
    ],
)
@pytest.mark.parametrize("deterministic", [True, False])
def test_rejected(name: str, data: bytes, deterministic: bool) -> None:
    with pytest.raises(DecodeError) as info:
        _decode(data, deterministic)
    assert info.value.code is ErrorCode.CBOR_INVALID


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("non-shortest int", bytes.fromhex("1801")),
        ("keys out of order", bytes.fromhex("a202010101")),
        ("bytewise order instead of length-first", bytes.fromhex("a30a00186400" + "2000")),
    ],
)
def test_non_deterministic_rejected_only_in_deterministic_mode(name: str, data: bytes) -> None:
    with pytest.raises(DecodeError):
        _decode(data, True)
    _decode(data, False)


def test_depth_bound() -> None:
    deep = b"\x81" * 40 + b"\x01"
    for det in (True, False):
        with pytest.raises(DecodeError) as info:
            _decode(deep, det)
        assert "nesting" in info.value.message


def test_very_deep_input_is_refused_without_crash() -> None:
    with pytest.raises(DecodeError):
        _decode(b"\x81" * 100_000 + b"\x01", False)


def test_item_and_string_bounds() -> None:
    small = CborLimits(max_items=10, max_string=4)
    with pytest.raises(DecodeError):
        decode(encode(list(range(20))), what="t", deterministic=True, limits=small)
    with pytest.raises(DecodeError):
        decode(encode("abcdefgh"), what="t", deterministic=True, limits=small)


def test_allowed_tag_is_returned_as_tagged() -> None:
    value = _decode(encode(Tagged(18, [1, 2])), allowed_tags=frozenset({18}))
    assert value == Tagged(18, [1, 2])
    with pytest.raises(DecodeError):
        _decode(encode(Tagged(18, [1, 2])))


def test_length_first_key_order() -> None:
    # RFC 8949 4.2.3 (RFC 7049 canonical): shorter encodings first: 10 (0a), -1 (20), 100 (1864)
    assert encode({-1: 0, 100: 0, 10: 0}) == bytes.fromhex("a30a00200018640" + "0")


plain = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63) | st.text(max_size=20) | st.binary(max_size=20),
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.integers(-1000, 1000) | st.text(max_size=5), children, max_size=5),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(plain)
def test_deterministic_round_trip(value: object) -> None:
    data = encode(value)
    assert _decode(data) == value
    assert encode(_decode(data)) == data


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_escape_as_other_exceptions(data: bytes) -> None:
    for det in (True, False):
        try:
            _decode(data, det)
        except DecodeError as err:
            assert err.code is ErrorCode.CBOR_INVALID


@pytest.mark.parametrize("payload", [b"\x00\x00\x00\x00", b"\xd8\x1c\x00\x00", b"\xd9\x01\x00\x00"])
def test_typed_decode_does_not_depend_on_a_chance_reference_tag_head(payload: bytes) -> None:
    """A typed decode (the caller's schema bounds what it reads) accepts the same data whether or not its bytes
    hold a tag-25/28/29/256 head by chance (inside a signature, a key or a number), which sends them through
    the reference pre-scan first: that scan proves only that no references are present. Before, it applied
    the generic item limits too, and 3-key trust lists under ``max_items=3`` failed about one load in 140.
    A generic decode applies its limits either way."""
    limits = CborLimits(max_depth=2, max_items=3, max_string=8)
    data = cbor2.dumps([1, 2, payload, 4])
    assert decode(data, what="x", deterministic=True, limits=limits, typed=True) == [1, 2, payload, 4]
    with pytest.raises(DecodeError, match=r"more than 3 items|array too long"):
        decode(data, what="x", deterministic=True, limits=limits)
