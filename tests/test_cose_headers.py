"""What COSE headers mean is decided in one place, :func:`healthpass.cose.read_headers` (issue 16 item 4):
``crit``, where alg must sit, where the kid may sit. The codec checks only structure and value types."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from healthpass import cose
from healthpass.codec import decode_sign1, encode_sign1
from healthpass.codec.cbor import encode
from healthpass.errors import DecodeError, ErrorCode, Stage, VerificationError
from healthpass.model.cose import Algorithm, HeaderLabel
from healthpass.model.policy import Limits

ALG, CRIT, CTY, KID = (int(label) for label in (HeaderLabel.ALG, HeaderLabel.CRIT, HeaderLabel.CONTENT_TYPE,
                                                HeaderLabel.KID))
KID_BYTES = bytes(range(8))


def _message(protected: dict[int, Any], unprotected: dict[int, Any] | None = None, *, strict: bool) -> Any:
    data = encode_sign1(encode(protected) if protected else b"", unprotected or {}, b"\xa0", bytes(64))
    return decode_sign1(data, limits=Limits(), strict=strict)


def _read(msg: Any, *, kid_protected: bool) -> cose.HeaderInfo:
    return cose.read_headers(msg, allowed=frozenset(Algorithm), kid_protected=kid_protected)


@pytest.mark.parametrize("crit", [[[1]], [], [b"x"], "alg", [99], [CTY]])
def test_issue16_item4_crit_is_judged_by_read_headers_alone(crit: object) -> None:
    """A malformed or unsatisfiable ``crit`` passes the strict codec (structure) and is refused by
    read_headers, with the code and stage the codec used to give: no second opinion elsewhere."""
    protected = {ALG: int(Algorithm.ES256), CRIT: crit, KID: KID_BYTES}
    msg = _message(protected, strict=True)  # the codec no longer judges crit
    with pytest.raises(DecodeError) as info:
        _read(msg, kid_protected=True)
    assert (info.value.code, info.value.stage) == (ErrorCode.COSE_INVALID, Stage.COSE)
    assert "crit" in info.value.message


def test_issue16_item4_crit_naming_an_understood_present_parameter_passes() -> None:
    msg = _message({ALG: int(Algorithm.ES256), CRIT: [ALG], KID: KID_BYTES}, strict=True)
    headers = _read(msg, kid_protected=True)
    assert (headers.algorithm, headers.kid) == (Algorithm.ES256, KID_BYTES)


def test_issue16_item4_kid_placement_is_one_switch() -> None:
    """An EU-style message (kid unprotected) reads with ``kid_protected=False`` and is refused with it True;
    a missing kid is refused either way (a kid is always required), and the protected kid wins."""
    eu = _message({ALG: int(Algorithm.ES256)}, {KID: KID_BYTES}, strict=False)
    assert _read(eu, kid_protected=False).kid == KID_BYTES
    with pytest.raises(DecodeError, match="no kid in the protected header"):
        _read(eu, kid_protected=True)
    bare = _message({ALG: int(Algorithm.ES256)}, strict=False)
    for placement, message in ((True, "no kid in the protected header"), (False, "no kid in the headers")):
        with pytest.raises(DecodeError, match=message) as info:
            _read(bare, kid_protected=placement)
        assert info.value.code is ErrorCode.COSE_INVALID
    both = _message({ALG: int(Algorithm.ES256), KID: KID_BYTES}, {KID: b"other-kid"}, strict=False)
    assert _read(both, kid_protected=False).kid == KID_BYTES


def test_issue16_item4_alg_only_in_the_protected_header() -> None:
    """An alg only in the unprotected header is refused (the old ``protected_alg_only=False`` path, which no
    caller used, is gone), and an alg outside the allow-list is ``algorithm_unsupported``."""
    unprotected_alg = _message({KID: KID_BYTES}, {ALG: int(Algorithm.ES256)}, strict=False)
    with pytest.raises(DecodeError, match="no alg in the protected header"):
        _read(unprotected_alg, kid_protected=False)
    es384 = _message({ALG: -35, KID: KID_BYTES}, strict=True)
    with pytest.raises(VerificationError) as info:
        _read(es384, kid_protected=True)
    assert info.value.code is ErrorCode.ALGORITHM_UNSUPPORTED


def test_issue16_item6_dead_code_is_gone() -> None:
    """``utc()``, ``KeyRing.merged`` and the ``protected_alg_only`` switch had no caller outside tests."""
    from healthpass.model import credential
    from healthpass.trust import KeyRing

    assert not hasattr(credential, "utc")
    assert not hasattr(KeyRing, "merged")
    assert "protected_alg_only" not in inspect.signature(cose.read_headers).parameters
