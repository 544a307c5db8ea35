"""Property tests: round trips at every layer; any single-byte change to a valid code is rejected."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from healthpass.codec import b45decode, b45encode, compress, decompress
from healthpass.codec.cbor import CborLimits, decode, encode
from healthpass.codec.payload import payload_from_cbor, payload_to_cbor
from healthpass.errors import HealthPassError
from healthpass.issue import Issuer
from healthpass.model.credential import (
    AntibodyTest,
    AntibodyType,
    DocumentBinding,
    DocumentType,
    DoseKind,
    HealthPayload,
    HealthStatus,
    Holder,
    Infection,
    InfectionKind,
    NaatTest,
    NaatType,
    RegionRisk,
    RiskLevel,
    Sex,
    StatusReason,
    TestResult,
    Vaccination,
    VaccineProduct,
)
from healthpass.model.jsonform import payload_from_json, payload_to_json
from healthpass.model.regions import PROVINCES, Region
from healthpass.verify import Verifier

from .conftest import NOW

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

minutes = st.integers(0, 60 * 24 * 400).map(lambda m: NOW.replace(second=0) - timedelta(minutes=m))
days = st.dates(date(1990, 1, 1), date(2030, 12, 31))
regions = st.sampled_from(sorted(PROVINCES)).flatmap(
    lambda p: st.sampled_from([Region(p + "0000"), Region(p + "0100"), Region(p + "0102")])
)
names = st.text(st.characters(codec="utf-8", categories=("L", "N")), min_size=1, max_size=12)


@st.composite
def birth_dates(draw: st.DrawFn) -> str:
    d = draw(st.dates(date(1900, 1, 1), date(2026, 1, 1)))
    return draw(st.sampled_from([d.isoformat(), d.isoformat()[:7], d.isoformat()[:4]]))


holders = st.builds(
    Holder, name=names, name_std=st.none() | names, birth_date=st.none() | birth_dates(),
    sex=st.none() | st.sampled_from(Sex), nationality=st.none() | st.sampled_from(["CHN", "FRA", "USA"]),
    document=st.none() | st.builds(DocumentBinding, st.sampled_from(DocumentType), st.just("11*34")),
)
statuses = st.builds(HealthStatus, colour=st.sampled_from([0, 1, 2, 3, 16, 255]), set_at=minutes,
                     reason=st.none() | st.sampled_from(StatusReason))
naats = st.builds(NaatTest, sampled_at=minutes, result=st.sampled_from(TestResult),
                  test_type=st.sampled_from(NaatType), facility=st.none() | names, region=st.none() | regions)
antibodies = st.builds(AntibodyTest, sampled_at=minutes, antibody=st.sampled_from(AntibodyType),
                       result=st.sampled_from(TestResult))


@st.composite
def vaccinations(draw: st.DrawFn) -> Vaccination:
    total = draw(st.integers(1, 3))
    booster = draw(st.booleans())
    dose = draw(st.integers(total + 1, 6)) if booster else draw(st.integers(1, total))
    return Vaccination(product=draw(st.sampled_from(VaccineProduct) | names), dose_number=dose, series_total=total,
                       date=draw(days), kind=DoseKind.BOOSTER if booster else DoseKind.PRIMARY,
                       manufacturer=draw(st.none() | names),
                       place=draw(st.none() | regions.map(str) | st.just("FRA")))


@st.composite
def infections(draw: st.DrawFn) -> Infection:
    first = draw(days)
    recovered = draw(st.none() | st.just(first + timedelta(days=10)))
    return Infection(kind=draw(st.sampled_from(InfectionKind)), first_positive=first, recovered=recovered,
                     valid_from=recovered, valid_until=draw(st.none() | st.just(first + timedelta(days=180))))


payloads = st.builds(
    HealthPayload, holder=holders, status=st.none() | statuses,
    naat=st.lists(naats, max_size=2).map(tuple), antibody=st.lists(antibodies, max_size=2).map(tuple),
    vaccinations=st.lists(vaccinations(), max_size=3).map(tuple), infection=st.none() | infections(),
    region_risk=st.none() | st.builds(RegionRisk, regions, st.sampled_from(RiskLevel), st.none() | minutes),
)


@SETTINGS
@given(payload=payloads)
def test_payload_round_trips_through_cbor_and_json(payload: HealthPayload) -> None:
    iat = int(NOW.timestamp())
    wire = decode(encode(payload_to_cbor(payload, iat=iat)), what="payload", deterministic=True,
                  limits=CborLimits(), typed=True)
    assert payload_from_cbor(wire, iat=iat) == payload
    assert payload_from_json(_json_input(payload_to_json(payload))) == payload
    data = encode(payload_to_cbor(payload, iat=iat))
    assert decompress(compress(data), max_size=1 << 16) == data
    assert b45decode(b45encode(data)) == data


def _json_input(obj: dict) -> dict:
    """Output regions are described objects; input accepts them as they are."""
    return obj


@SETTINGS
@given(payload=payloads)
def test_ordered_encoding_is_the_deterministic_encoding(payload: HealthPayload) -> None:
    """The issuer encodes claims with cbor2's plain encoder (insertion order): every map it builds lists its
    keys in canonical order, so the bytes are exactly the sorted deterministic encoding."""
    from healthpass.codec.cbor import encode_ordered

    claims = {1: "630000", 4: 1_800_000_000, 6: 1_700_000_000, 7: b"\x01" * 8,
              -300: payload_to_cbor(payload, iat=int(NOW.timestamp()))}
    assert encode_ordered(claims) == encode(claims)


@SETTINGS
@given(payload=payloads)
def test_mint_verify_round_trip(payload: HealthPayload, issuer: Issuer, verifier: Verifier) -> None:
    text = Issuer(issuer.signer, issuer.region, max_qr_version=40).issue(payload, now=NOW)
    assert verifier.verify(text, at=NOW).payload == payload


@pytest.fixture(scope="module")
def small_code(issuer: Issuer) -> str:
    return issuer.issue(HealthPayload(status=HealthStatus(colour=1, set_at=NOW)), now=NOW)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_single_character_change_is_rejected(data: st.DataObject, small_code: str, verifier: Verifier) -> None:
    index = data.draw(st.integers(0, len(small_code) - 1))
    replacement = data.draw(st.sampled_from("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:a\n"))
    if small_code[index] == replacement:
        return
    mutated = small_code[:index] + replacement + small_code[index + 1:]
    if mutated.strip() == small_code:
        return  # only surrounding whitespace changed
    with pytest.raises(HealthPassError):
        verifier.verify(mutated, at=NOW)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_single_byte_change_of_the_cose_message_is_rejected(data: st.DataObject, small_code: str,
                                                                 verifier: Verifier) -> None:
    message = bytearray(decompress(b45decode(small_code[4:]), max_size=4096))
    index = data.draw(st.integers(0, len(message) - 1))
    delta = data.draw(st.integers(1, 255))
    message[index] ^= delta
    with pytest.raises(HealthPassError):
        verifier.verify("HP1:" + b45encode(compress(bytes(message))), at=NOW)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        HealthStatus(colour=1, set_at=datetime(2026, 1, 1))
    with pytest.raises(ValueError):
        HealthStatus(colour=1, set_at=datetime(2026, 1, 1, 0, 0, 30, tzinfo=UTC))


def test_every_single_byte_change_of_a_cose_message_is_rejected_exhaustively(small_code: str,
                                                                             verifier: Verifier) -> None:
    """Not sampled: every position, every non-zero XOR, of the status-only code's COSE message."""
    message = decompress(b45decode(small_code[4:]), max_size=4096)
    for index in range(len(message)):
        for delta in range(1, 256):
            mutated = bytearray(message)
            mutated[index] ^= delta
            try:
                verifier.verify("HP1:" + b45encode(compress(bytes(mutated))), at=NOW)
            except HealthPassError:
                continue
            pytest.fail(f"byte {index} ^ {delta:#x} was accepted")


# --------------------------------------------------------------- the hand-read fast path of COSE_Sign1


def test_plain_sign1_agrees_with_the_generic_decoder_on_every_hp1_attack() -> None:
    """Every HP1 code of the hostile-input catalogue that base45-decodes and inflates: the fast path either
    declines or returns exactly what the generic strict decoder returns (never accepts what it refuses)."""
    import json
    from pathlib import Path

    catalogue = json.loads((Path(__file__).with_name("vectors") / "attacks.json").read_text("utf-8"))
    seen = used = 0
    for vector in catalogue["vectors"]:
        text = vector.get("text")
        if not text or not text.startswith("HP1:"):
            continue
        try:
            message = decompress(b45decode(text[4:]), max_size=1 << 16)
        except HealthPassError:
            continue
        seen += 1
        used += _plain_sign1_is_used(message)
        try:
            _same_sign1(message)
        except HealthPassError:
            pytest.fail(f"fast path accepted {vector['name']}, which the generic decoder refuses")
    assert seen > 50 and used > 20  # the catalogue exercises both the fast path and its refusals


def _same_sign1(data: bytes, *, strict: bool = True, limits: Any = None) -> bool:
    """The fast path declines or returns exactly the generic decoder's result (with the same limits);
    True when it was used."""
    from healthpass.codec.sign1 import decode_sign1_generic as _generic_sign1
    from healthpass.codec.sign1_fast import decode_sign1_fast as _plain_sign1
    from healthpass.model.policy import Limits

    limits = limits or Limits()
    plain = _plain_sign1(data, limits, strict=strict)
    if plain is None:
        return False
    generic = _generic_sign1(data, limits=limits, strict=strict)
    assert (plain.protected, list(plain.protected_header.items()), list(plain.unprotected_header.items()),
            plain.payload, plain.signature, plain.tags) == (
        generic.protected, list(generic.protected_header.items()), list(generic.unprotected_header.items()),
        generic.payload, generic.signature, generic.tags)
    return True


def test_plain_sign1_agrees_with_the_lenient_generic_decoder_on_the_eu_test_codes() -> None:
    """Every EU test message (``HC1:``): the lenient fast path declines or returns exactly the generic result,
    header order included, and it reads most of them (tagged, protected alg + kid in either order, or alg
    protected and kid unprotected)."""
    from .test_eu_dcc import _CASES

    if not _CASES:
        pytest.skip("EU DCC test data not found (set HEALTHPASS_SHARED to the shared/ folder)")
    seen = used = 0
    for case in _CASES:
        try:
            message = case.cose()
        except (HealthPassError, ValueError, KeyError):
            continue
        seen += 1
        try:
            used += _same_sign1(message, strict=False)
        except HealthPassError:
            pytest.fail(f"fast path accepted {case.name}, which the generic decoder refuses")
    assert seen > 400 and used > 0.9 * seen


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_plain_sign1_accepts_only_what_the_generic_decoder_accepts(data: st.DataObject, small_code: str) -> None:
    """The hand-read layout is a fast path: on any input it returns None or exactly the generic result.
    Mutations: byte changes, insertions, deletions and truncations of a valid message."""
    message = decompress(b45decode(small_code[4:]), max_size=1 << 20)
    assert _plain_sign1_is_used(message)
    strict = data.draw(st.booleans())
    i = data.draw(st.integers(0, len(message) - 1))
    op = data.draw(st.sampled_from(["replace", "insert", "delete", "truncate"]))
    b = data.draw(st.integers(0, 255))
    mutated = {
        "replace": message[:i] + bytes([b]) + message[i + 1 :],
        "insert": message[:i] + bytes([b]) + message[i:],
        "delete": message[:i] + message[i + 1 :],
        "truncate": message[:i],
    }[op]
    try:
        _same_sign1(mutated, strict=strict)
    except HealthPassError:  # the generic decoder refused what the fast path accepted
        pytest.fail(f"fast path accepted a message the generic decoder refuses ({op} at {i})")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(strict=st.booleans(), kid_unprotected=st.booleans(), max_depth=st.integers(1, 5),
       max_items=st.integers(1, 10), max_string=st.sampled_from([1, 7, 8, 13, 63, 64, 65, 100, 8192]),
       max_header_entries=st.integers(1, 3))
def test_plain_sign1_declines_below_the_limits_the_generic_decoder_applies(
    small_code: str, strict: bool, kid_unprotected: bool, max_depth: int, max_items: int, max_string: int,
    max_header_entries: int,
) -> None:
    """With any limits, the fast path accepts only what the generic decoder accepts under the same limits,
    with the same result, so tight limits are never bypassed: on a healthpass message and on the EU layout
    with the kid in the unprotected header."""
    from healthpass.codec.cbor import Tagged
    from healthpass.codec.cose import decode_sign1
    from healthpass.model.policy import Limits

    message = decompress(b45decode(small_code[4:]), max_size=1 << 20)
    if kid_unprotected:
        sign1 = decode_sign1(message, limits=Limits(), strict=True)
        kid = sign1.protected_header[4]
        message = encode(Tagged(18, [encode({1: sign1.protected_header[1]}), {4: kid}, sign1.payload,
                                     sign1.signature]))
        assert _same_sign1(message, strict=False)  # the EU layout is read by the fast path
    limits = Limits(max_depth=max_depth, max_items=max_items, max_string=max_string,
                    max_header_entries=max_header_entries)
    try:
        _same_sign1(message, strict=strict, limits=limits)
    except HealthPassError:
        pytest.fail(f"fast path accepted under {limits}, which the generic decoder refuses")


def _plain_sign1_is_used(message: bytes) -> bool:
    from healthpass.codec.sign1_fast import decode_sign1_fast as _plain_sign1
    from healthpass.model.policy import Limits

    return _plain_sign1(message, Limits(), strict=True) is not None


@settings(max_examples=150, deadline=None)
@given(protected=st.binary(max_size=300), payload=st.binary(max_size=70000), signature=st.binary(max_size=300),
       aad=st.binary(max_size=40), unprotected=st.sampled_from([{}, {4: b"kid"}]))
def test_concatenated_cose_structures_equal_the_cbor_encoding(protected: bytes, payload: bytes, signature: bytes,
                                                               aad: bytes, unprotected: dict) -> None:
    """sig_structure and encode_sign1 concatenate byte-string heads: exactly the encoder's output."""
    from healthpass.codec.cbor import Tagged
    from healthpass.codec.sign1 import encode_sign1, sig_structure

    assert sig_structure(protected, payload, aad) == encode(["Signature1", protected, aad, payload])
    assert encode_sign1(protected, unprotected, payload, signature) == encode(
        Tagged(18, [protected, unprotected, payload, signature]))


@pytest.mark.parametrize("mutate", [
    pytest.param(lambda m: {0: 1, True: m[1], 2: m[2]}, id="holder under the boolean key true"),
    pytest.param(lambda m: {0: 1, 1.0: m[1], 2: m[2]}, id="holder under the float key 1.0"),
    pytest.param(lambda m: {0: 1, 2: m[2], 1: m[1]}, id="keys out of canonical order"),
    pytest.param(lambda m: {0: 1, 1: {**m[1], 99: "x"}, 2: m[2]}, id="unknown holder key"),
    pytest.param(lambda m: {0: 1, 1: {k: v for k, v in m[1].items() if k != 1}, 2: m[2]}, id="holder without a name"),
    pytest.param(lambda m: {0: 1, 1: m[1], 2: {1: m[2][1], 3: 0, 2: m[2][2]}}, id="status keys out of order"),
    pytest.param(lambda m: {0: 1, 1: m[1], 2: {**m[2], 3: None}}, id="null status reason"),
    pytest.param(lambda m: {0: 1, 1: m[1], 2: {True: 1, 2: m[2][2]}}, id="status colour under true"),
])
def test_payload_maps_refuse_non_integer_unordered_unknown_and_missing_keys(mutate: Any) -> None:
    """The payload parser's one-lookup map check (order, known keys, required keys) still refuses keys that
    merely compare equal to integers (True == 1 == 1.0), misordered keys, unknown keys, nulls and gaps."""
    from healthpass.errors import DecodeError, ErrorCode

    good = {0: 1, 1: {1: "张三", 3: 19800517}, 2: {1: 1, 2: 0}}
    payload_from_cbor(good, iat=1_795_608_000)  # the control decodes
    with pytest.raises(DecodeError) as err:
        payload_from_cbor(mutate(good), iat=1_795_608_000)
    assert err.value.code is ErrorCode.SCHEMA_INVALID


@pytest.mark.parametrize("key", [True, 1.0], ids=["true", "double 1.0"])
def test_claim_keys_equal_to_integers_are_not_integers(key: object) -> None:
    """``true`` (f5) or the double 1.0 (fb 3ff0...) in place of the claim key 1 re-encodes to the same bytes
    and compares equal to 1: the strict claims decoder must still refuse it (one code, one encoding)."""
    import cbor2

    from healthpass.codec import decode_claims
    from healthpass.errors import DecodeError, ErrorCode
    from healthpass.model.policy import Limits

    claims = {1: "630000", 4: 1_795_867_200, 6: 1_795_608_000, 7: bytes(8), -300: {0: 1}}
    decode_claims(cbor2.dumps(claims), limits=Limits(), strict=True)  # the control decodes
    forged = {key: "630000", **{k: v for k, v in claims.items() if k != 1}}
    with pytest.raises(DecodeError) as err:
        decode_claims(cbor2.dumps(forged), limits=Limits(), strict=True)
    assert err.value.code is ErrorCode.CLAIMS_INVALID
