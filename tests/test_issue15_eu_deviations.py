"""Issue 15, item 3: real EU certificates that member states issued, and the EU reference verifiers accepted,
verify here too: each tolerated deviation (``healthpass.formats.eu_dcc.Deviation``) is accepted with a
``dcc_deviation: <code>: <where>`` warning, refused (``schema_invalid``) under ``strict_schema``, and never
allowed in ``HP1:`` codes. Every code here is signed by a fresh test DSC (real ECDSA signatures).
"""

from __future__ import annotations

import copy
import zlib
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from healthpass.codec import Prefix, b45encode
from healthpass.errors import ErrorCode, HealthPassError, Stage
from healthpass.formats.eu_dcc import DccSchemas, Deviation

from ._shared import find_shared_dir
from .test_eu_dcc import NOW, SECRET_DOB, SECRET_NAME, VACCINATION, Dsc, expect_error, make_code, make_dsc, verify

IAT = int((NOW - timedelta(days=1)).timestamp())
EXP = int((NOW + timedelta(days=30)).timestamp())
_SHARED = find_shared_dir()
_SCHEMAS = _SHARED / "vectors" / "eu-dcc-schema" if _SHARED else None


def _claims(dcc: dict[str, Any] | None = None, *, iat: Any = IAT, exp: Any = EXP, **extra: Any) -> dict[Any, Any]:
    return {1: "AT", 6: iat, 4: exp, -260: {1: dcc if dcc is not None else VACCINATION}, **extra}


def _deviations(warnings: tuple[str, ...]) -> list[str]:
    return [w.removeprefix("dcc_deviation: ") for w in warnings if w.startswith("dcc_deviation: ")]


def _accepted_with(code: str, dsc: Dsc, *expected: str) -> Any:
    """Verifies with exactly the ``expected`` deviation warnings; refused under strict_schema, naming the
    first; no warning or error carries a personal value."""
    result = verify(code, dsc.issuer_key())
    assert _deviations(result.warnings) == list(expected)
    err = expect_error(ErrorCode.SCHEMA_INVALID, Stage.SCHEMA, code, dsc.issuer_key(), strict_schema=True)
    assert f"deviation {expected[0].split(':')[0]} at" in err.message
    for text in (*result.warnings, str(err), repr(err)):
        assert SECRET_NAME not in text and SECRET_DOB not in text
    return result


# -- CWT claims ---------------------------------------------------------------------------------------------


def test_issue15_item3_iat_exp_in_cbor_tag_1_accepted_with_a_warning() -> None:
    dsc = make_dsc()
    code = make_code(dsc, claims=_claims(iat=cbor2.CBORTag(1, IAT), exp=cbor2.CBORTag(1, EXP)))
    result = _accepted_with(code, dsc, "cwt_time_tag: iat", "cwt_time_tag: exp")
    assert int(result.issued_at.timestamp()) == IAT and int(result.expires_at.timestamp()) == EXP
    assert result.dcc == VACCINATION and result.payload is not None


def test_issue15_item3_tag_1_in_every_head_width_and_with_a_float() -> None:
    """Tag 1 written with a one-byte argument (``d8 01``) and around a float: the same claim."""
    dsc = make_dsc()
    body = cbor2.dumps(_claims(iat=cbor2.CBORTag(1, float(IAT) + 0.5)))
    wide = body.replace(b"\xc1", b"\xd8\x01", 1)
    assert wide != body
    result = verify(make_code(dsc, claims=_claims(exp=cbor2.CBORTag(1, EXP))), dsc.issuer_key())
    assert _deviations(result.warnings) == ["cwt_time_tag: exp"]
    for payload in (body, wide):
        result = verify(_code_with_payload(dsc, payload), dsc.issuer_key())
        assert _deviations(result.warnings) == ["cwt_time_tag: iat", "cwt_time_float: iat"]
        assert int(result.issued_at.timestamp()) == IAT


def _code_with_payload(dsc: Dsc, payload: bytes, *, tags: tuple[int, ...] = (18,)) -> str:
    protected = cbor2.dumps({1: dsc.alg, 4: dsc.kid})
    message: Any = [protected, {}, payload, dsc.sign(cbor2.dumps(["Signature1", protected, b"", payload]))]
    for tag in reversed(tags):
        message = cbor2.CBORTag(tag, message)
    return Prefix.HC1.value + b45encode(zlib.compress(cbor2.dumps(message)))


@pytest.mark.parametrize("claims", [
    _claims(iat=cbor2.CBORTag(1, None)),
    _claims(iat=cbor2.CBORTag(1, "2021-05-31T12:00:00Z")),
    _claims(exp=cbor2.CBORTag(1, cbor2.CBORTag(1, EXP))),
    _claims(exp=cbor2.CBORTag(1, float("nan"))),
    _claims(exp=cbor2.CBORTag(1, 2**40)),
    _claims(iat=cbor2.CBORTag(0, "2021-05-31T12:00:00Z")),
    _claims(iat=cbor2.CBORTag(1, EXP), exp=cbor2.CBORTag(1, IAT)),
    {**_claims(), 1: cbor2.CBORTag(1, IAT)},
    {**_claims(), 99: cbor2.CBORTag(1, IAT)},
    _claims({**VACCINATION, "dob": cbor2.CBORTag(1, 0)}),
], ids=["tag1-null", "tag1-text", "tag1-nested", "tag1-nan", "tag1-out-of-range", "tag0", "tag1-exp-before-iat",
        "tag1-iss",
        "tag1-other-claim", "tag1-in-dcc"])
def test_issue15_item3_tag_1_elsewhere_or_around_a_non_number_is_refused(claims: dict[Any, Any]) -> None:
    dsc = make_dsc()
    with pytest.raises(HealthPassError) as info:
        verify(make_code(dsc, claims=claims), dsc.issuer_key())
    assert info.value.code in (ErrorCode.CLAIMS_INVALID, ErrorCode.CBOR_INVALID), info.value


def test_issue15_item3_float_iat_exp_accepted_with_a_warning() -> None:
    """Floats were accepted silently before (truncated to the second): now named like the other deviations."""
    dsc = make_dsc()
    code = make_code(dsc, claims=_claims(iat=IAT + 0.75, exp=float(EXP)))
    result = _accepted_with(code, dsc, "cwt_time_float: iat", "cwt_time_float: exp")
    assert int(result.issued_at.timestamp()) == IAT and int(result.expires_at.timestamp()) == EXP


# -- COSE shapes ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("tags", "warning"), [((), "cose_untagged: COSE_Sign1"),
                                               ((61, 18), "cose_cwt_tag: COSE_Sign1")])
def test_issue15_item3_untagged_and_tag_61_accepted_with_a_warning(tags: tuple[int, ...], warning: str) -> None:
    dsc = make_dsc()
    _accepted_with(make_code(dsc, tags=tags), dsc, warning)


def test_issue15_item3_kid_only_in_the_unprotected_header_accepted_with_a_warning() -> None:
    dsc = make_dsc()
    _accepted_with(make_code(dsc, kid_where="unprotected"), dsc, "kid_unprotected: COSE_Sign1")
    assert _deviations(verify(make_code(dsc, kid_where="both"), dsc.issuer_key()).warnings) == []


# -- the DCC payload ------------------------------------------------------------------------------------------


def _vaccination(**fields: Any) -> dict[str, Any]:
    return {**VACCINATION["v"][0], **fields}


def test_issue15_item3_several_v_entries_under_schema_1_2_take_the_latest_dose() -> None:
    dsc = make_dsc()
    doses = [_vaccination(dn=1, sd=2, dt="2021-03-01"), _vaccination(dn=3, sd=2, dt="2021-05-30"),
             _vaccination(dn=2, sd=2, dt="2021-04-12")]
    for ver in ("1.0.0", "1.0.1", "1.1.0", "1.2.1"):
        dcc = {**VACCINATION, "ver": ver, "v": doses}
        result = _accepted_with(make_code(dsc, dcc), dsc, "multiple_entries: $.v")
        assert result.dcc == dcc  # the payload as received
        (dose,) = result.payload.vaccinations
        assert (dose.dose_number, dose.date) == (3, date(2021, 5, 30))
    # same date: the higher dose number
    same_day = {**VACCINATION, "ver": "1.2.1", "v": [_vaccination(dn=2, dt="2021-05-18"), _vaccination(dn=1)]}
    assert verify(make_code(dsc, same_day), dsc.issuer_key()).payload.vaccinations[0].dose_number == 2


@pytest.mark.parametrize("ver", ["1.3.0", "1.3.3", "2.0.0", None])
def test_issue15_item3_several_v_entries_from_schema_1_3_on_stay_refused(ver: str | None) -> None:
    dsc = make_dsc()
    dcc: dict[str, Any] = {**VACCINATION, "v": [_vaccination(dn=1), _vaccination(dn=2)]}
    if ver is None:
        del dcc["ver"]
    else:
        dcc["ver"] = ver
    err = expect_error(ErrorCode.SCHEMA_INVALID, Stage.SCHEMA, make_code(dsc, dcc), dsc.issuer_key())
    assert "exactly one entry" in err.message
    tests = {**VACCINATION, "ver": "1.2.1", "v": None, "t": [{"tt": "LP6464-4"}, {"tt": "LP6464-4"}]}
    expect_error(ErrorCode.SCHEMA_INVALID, Stage.SCHEMA, make_code(dsc, tests), dsc.issuer_key())


def test_issue15_item3_null_group_beside_the_real_one_accepted_with_a_warning() -> None:
    dsc = make_dsc()
    dcc = {**VACCINATION, "t": None, "r": None}
    result = _accepted_with(make_code(dsc, dcc), dsc, "null_group: $.t", "null_group: $.r")
    assert result.dcc == dcc and result.payload.vaccinations[0].dose_number == 2
    only_nulls = {**VACCINATION, "v": None, "t": None}
    expect_error(ErrorCode.SCHEMA_INVALID, Stage.SCHEMA, make_code(dsc, only_nulls), dsc.issuer_key())


def test_issue15_item3_empty_group_accepted_with_a_warning() -> None:
    dsc = make_dsc()
    _accepted_with(make_code(dsc, {**VACCINATION, "r": []}), dsc, "empty_group: $.r")


def test_issue15_item3_dates_with_time_parts_read_as_dates() -> None:
    dsc = make_dsc()
    dcc = {**VACCINATION, "dob": SECRET_DOB + "T00:00:00", "v": [_vaccination(dt="2021-05-18T10:20:00Z")]}
    result = _accepted_with(make_code(dsc, dcc), dsc, "date_with_time: $.v[0].dt", "date_with_time: $.dob")
    assert result.payload.holder.birth_date == SECRET_DOB
    assert result.payload.vaccinations[0].date == date(2021, 5, 18)


def test_issue15_item3_lower_case_country_read_upper_cased() -> None:
    dsc = make_dsc()
    result = _accepted_with(make_code(dsc, {**VACCINATION, "v": [_vaccination(co="at")]}), dsc,
                            "country_lower_case: $.v[0].co")
    assert result.payload.vaccinations[0].place == "AUT"
    assert verify(make_code(dsc, {**VACCINATION, "v": [_vaccination(co="zz")]}), dsc.issuer_key()).warnings == ()


def test_issue15_item3_white_space_around_names_trimmed() -> None:
    dsc = make_dsc()
    nam = {**VACCINATION["nam"], "fn": SECRET_NAME + "  ", "gnt": " ERIKA"}
    result = _accepted_with(make_code(dsc, {**VACCINATION, "nam": nam}), dsc,
                            "name_whitespace: $.nam.fn", "name_whitespace: $.nam.gnt")
    assert result.payload.holder.name == f"{SECRET_NAME} Erika"
    assert result.payload.holder.name_std == "ZYXWVUTSSON<<ERIKA"


def test_issue15_item3_integral_float_dose_numbers_named() -> None:
    dsc = make_dsc()
    dcc = {**VACCINATION, "v": [_vaccination(dn=2.0, sd=2.0)]}
    _accepted_with(make_code(dsc, dcc), dsc, "count_float: $.v[0].dn", "count_float: $.v[0].sd")


def test_issue15_item3_unknown_fields_named_by_safe_path_only() -> None:
    dsc = make_dsc()
    dcc = {**VACCINATION, "extra": 1, SECRET_NAME + " x": 2, "nam": {**VACCINATION["nam"], "mn": "M"},
           "v": [_vaccination(vx="1")]}
    _accepted_with(make_code(dsc, dcc), dsc, "unknown_field: $.v[0].vx", "unknown_field: $.nam.mn",
                   "unknown_field: $.extra", "unknown_field: $.?")


@pytest.mark.parametrize("ver", ["1.3", "v1.3.0", " 1.3.0", "1.3.0 ", "V1.3"])
def test_issue15_item3_ver_variants_read_as_their_release(ver: str) -> None:
    dsc = make_dsc()
    code = make_code(dsc, {**VACCINATION, "ver": ver})
    _accepted_with(code, dsc, "ver_variant: $.ver")
    if _SCHEMAS is not None and _SCHEMAS.is_dir():
        result = verify(code, dsc.issuer_key(), dcc_schemas=DccSchemas.load(_SCHEMAS))
        assert result.warnings == ("dcc_deviation: ver_variant: $.ver",)  # checked against 1.3.0, conforming


def test_issue15_item3_schema_judges_the_payload_as_read() -> None:
    """Null groups and a ver variant add no schema warnings on top of their deviation warnings; several v
    entries under 1.2.x are what that release allowed."""
    if _SCHEMAS is None or not _SCHEMAS.is_dir():
        pytest.skip("EU DCC schemas (vectors/eu-dcc-schema) not found in the shared folder")
    schemas = DccSchemas.load(_SCHEMAS)
    dsc = make_dsc()
    dcc = {**VACCINATION, "ver": "1.3", "t": None}
    result = verify(make_code(dsc, dcc), dsc.issuer_key(), dcc_schemas=schemas)
    assert result.warnings == ("dcc_deviation: ver_variant: $.ver", "dcc_deviation: null_group: $.t")
    several = {**VACCINATION, "ver": "1.2.1", "v": [_vaccination(dn=1), _vaccination(dn=2)]}
    result = verify(make_code(dsc, several), dsc.issuer_key(), dcc_schemas=schemas)
    assert result.warnings == ("dcc_deviation: multiple_entries: $.v",)  # 1.2.1 allowed several entries


def test_issue15_item3_every_deviation_is_documented() -> None:
    doc = (Path(__file__).resolve().parents[1] / "docs" / "eu-dcc.md").read_text("utf-8")
    for deviation in Deviation:
        assert f"`{deviation.value}`" in doc, deviation


def test_issue15_item3_several_deviations_at_once() -> None:
    dsc = make_dsc()
    dcc = copy.deepcopy({**VACCINATION, "ver": "1.2.0", "t": None,
                         "v": [_vaccination(dn=1, co="at"), _vaccination(dn=2, dt="2021-05-20T00:00:00")]})
    code = make_code(dsc, claims=_claims(dcc, iat=cbor2.CBORTag(1, IAT)), tags=())
    result = verify(code, dsc.issuer_key())
    assert _deviations(result.warnings) == [
        "cose_untagged: COSE_Sign1", "cwt_time_tag: iat", "null_group: $.t", "multiple_entries: $.v",
        "country_lower_case: $.v[0].co", "date_with_time: $.v[1].dt"]
    assert result.payload.vaccinations[0].date == date(2021, 5, 20)
    err = expect_error(ErrorCode.SCHEMA_INVALID, Stage.SCHEMA, code, dsc.issuer_key(), strict_schema=True)
    assert "cose_untagged" in err.message and "and 5 more" in err.message


def test_issue15_item3_cli_warns_and_strict_schema_refuses(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``healthpass verify --dsc``: the deviation shows in ``--json`` warnings; ``--strict-schema`` exits 1."""
    import json

    from healthpass.cli import main

    dsc = make_dsc()
    cert = tmp_path / "dsc.der"
    cert.write_bytes(dsc.der)
    code = make_code(dsc, claims=_claims({**VACCINATION, "t": None}, iat=cbor2.CBORTag(1, IAT)))
    at = NOW.isoformat()
    assert main(["verify", "--dsc", str(cert), "--at", at, "--json", code]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["valid"] is True
    assert out["warnings"] == ["dcc_deviation: cwt_time_tag: iat", "dcc_deviation: null_group: $.t"]
    assert main(["verify", "--dsc", str(cert), "--at", at, "--strict-schema", "--json", code]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["valid"] is False and out["error"]["code"] == "schema_invalid"


@pytest.mark.parametrize("deviation", ["tag1_iat", "float_exp", "untagged", "tag61", "kid_unprotected"])
def test_issue15_item3_hp1_stays_strict(deviation: str, es_signer: Any, sample: Any, verifier: Any) -> None:
    """The same deviations in an ``HP1:`` code, signed by a trusted healthpass key: refused, never a warning."""
    from healthpass.model.cose import HeaderLabel

    from . import _craft
    from .conftest import NOW as HP_NOW

    iat = int(HP_NOW.timestamp())
    claims = _craft.claims_for(sample, iat=iat, exp=iat + 3600)
    options: dict[str, Any] = {}
    if deviation == "tag1_iat":
        claims[6] = cbor2.CBORTag(1, iat)  # deterministically encoded: only the tag is wrong
    elif deviation == "float_exp":
        claims[4] = float(iat + 3600)
    elif deviation == "untagged":
        options["tag"] = None
    elif deviation == "tag61":
        options["tag"] = 61
    else:
        options["protected"] = {HeaderLabel.ALG.value: es_signer.algorithm.value}
        options["unprotected"] = {HeaderLabel.KID.value: es_signer.kid}
    text = _craft.make_code(es_signer, claims, **options)
    assert verifier.verify(_craft.make_code(es_signer, _craft.claims_for(sample, iat=iat, exp=iat + 3600)),
                           at=HP_NOW).format is Prefix.HP1  # the control verifies
    with pytest.raises(HealthPassError) as info:
        verifier.verify(text, at=HP_NOW)
    assert info.value.code in (ErrorCode.CLAIMS_INVALID, ErrorCode.COSE_INVALID, ErrorCode.CBOR_INVALID)
    if deviation == "tag1_iat":  # cbor2 reads tag 1 as a datetime, which re-encodes as other bytes
        assert (info.value.code, info.value.stage) == (ErrorCode.CLAIMS_INVALID, Stage.CLAIMS)


_PLAIN = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**64), 2**64 - 1) | st.floats(allow_nan=False) | st.text(max_size=8)
    | st.binary(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.integers(-30, 30) | st.text(max_size=4),
                                                                      children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(value=_PLAIN, tagged=st.booleans())
def test_issue15_item3_python_reader_agrees_with_cbor2(value: Any, tagged: bool) -> None:
    """The pure-Python reader (used when a claims set may hold tag 1) decodes what cbor2 decodes, alike."""
    from healthpass.codec.cbor import CborLimits, _Scanner

    if tagged:
        value = {6: cbor2.CBORTag(1, 1622548800), 9: value}
    data = cbor2.dumps(value)
    limits = CborLimits(max_depth=16, max_items=4096, max_string=16384, allow_floats=True)
    got, reference = _Scanner(data, limits, frozenset({1}), Stage.CLAIMS, "test").decode(), cbor2.loads(data)
    if tagged:  # tag 1 stays a tag (cbor2 makes it a datetime)
        assert type(got[6]) is cbor2.CBORTag and (got[6].tag, got[6].value) == (1, 1622548800)
        got, reference = got[9], reference[9]
    assert got == reference and repr(got) == repr(reference)
