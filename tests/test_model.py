"""The model: regions, document binding, and validation that never echoes personal data."""

from __future__ import annotations

from datetime import date

import pytest

from healthpass.model.credential import (
    DocumentBinding,
    DocumentType,
    DoseKind,
    HealthPayload,
    Holder,
    Vaccination,
    VaccineProduct,
)
from healthpass.model.jsonform import payload_from_json
from healthpass.model.regions import PROVINCES, Region, RegionLevel
from healthpass.signers import SoftwareSigner


def test_region_levels_and_coverage() -> None:
    qinghai, xining, district = Region("630000"), Region("630100"), Region("630102")
    assert (qinghai.level, xining.level, district.level) == (RegionLevel.PROVINCE, RegionLevel.PREFECTURE,
                                                             RegionLevel.COUNTY)
    assert qinghai.covers(xining) and qinghai.covers(district) and xining.covers(district)
    assert not xining.covers(qinghai) and not qinghai.covers(Region("110000"))
    assert not Region("630200").covers(district)
    assert qinghai.describe() == {"code": "630000", "name_zh": "青海省", "name_en": "Qinghai"}
    assert xining.describe() == {"code": "630100"}


@pytest.mark.parametrize("alias", ["CN-QH", "cn-qh", " CN-QH ", "CN-63", "630000"])
def test_iso_aliases(alias: str) -> None:
    assert Region.parse(alias) == Region("630000")


def test_all_34_province_level_divisions() -> None:
    assert len(PROVINCES) == 34
    assert {Region.parse(p.iso).code for p in PROVINCES.values()} == {p.code for p in PROVINCES.values()}


FULLWIDTH_630000 = "\uff16\uff13\uff10\uff10\uff10\uff10"


@pytest.mark.parametrize("bad", ["63000", "6300000", "990000", "630001", "abcdef", FULLWIDTH_630000, "CN-XX"])
def test_invalid_regions(bad: str) -> None:
    with pytest.raises(ValueError):
        Region.parse(bad)


def test_document_binding_hint_and_keyed_hash() -> None:
    number = "630102198005171234"
    hint = DocumentBinding.hint_for(number)
    assert hint == "63*34"
    binding = DocumentBinding(DocumentType.RESIDENT_ID, number_hint=hint)
    assert binding.matches(number) and not binding.matches("110101198005171299")
    key = b"verifier-shared-key"
    keyed = DocumentBinding(DocumentType.RESIDENT_ID, keyed_hash=DocumentBinding.keyed_hash_for(number, key))
    assert keyed.matches(number.lower(), key=key) and not keyed.matches("630102198005171235", key=key)
    import hashlib
    import hmac

    assert keyed.keyed_hash == hmac.new(key, number.encode(), hashlib.sha256).digest()[:16]  # HMAC-SHA-256
    assert number not in repr(binding) + repr(keyed)
    with pytest.raises(ValueError):
        DocumentBinding(DocumentType.RESIDENT_ID, number_hint=number)  # the full number is never allowed
    with pytest.raises(ValueError):
        DocumentBinding(DocumentType.RESIDENT_ID)


@pytest.mark.parametrize("dob", ["1980", "1980-05", "1980-05-17", "2000-02-29"])
def test_partial_birth_dates(dob: str) -> None:
    Holder(name="x", birth_date=dob)


@pytest.mark.parametrize("dob", ["1980-13", "1980-02-30", "1899", "80-05-17", "1980-5-17", "19800517"])
def test_bad_birth_dates_never_echo_the_value(dob: str) -> None:
    with pytest.raises(ValueError) as info:
        Holder(name="x", birth_date=dob)
    assert dob not in str(info.value)


def test_booster_semantics_are_explicit() -> None:
    day = date(2022, 1, 10)
    Vaccination(VaccineProduct.BBIBP_CORV, dose_number=3, series_total=2, date=day, kind=DoseKind.BOOSTER)
    assert Vaccination("X", dose_number=2, series_total=2, date=day).completes_primary_series
    with pytest.raises(ValueError):  # "2/1" without saying it is a booster
        Vaccination("X", dose_number=2, series_total=1, date=day)
    with pytest.raises(ValueError):
        Vaccination("X", dose_number=2, series_total=2, date=day, kind=DoseKind.BOOSTER)


def test_json_errors_name_the_field_not_the_value() -> None:
    secret = "Zhang Secretname"
    with pytest.raises(ValueError) as info:
        payload_from_json({"holder": {"name": secret, "birth_date": "1980-13-45"}})
    assert "holder.birth_date" in str(info.value) and secret not in str(info.value)
    with pytest.raises(ValueError) as info:
        payload_from_json({"holder": {"name": secret, "phone": "13800000000"}})
    assert "phone" in str(info.value) and "13800000000" not in str(info.value)


def test_empty_payload_refused() -> None:
    with pytest.raises(ValueError):
        HealthPayload()


@pytest.mark.parametrize("bad", ["63000", "990000", "CN-XX", "\uff16\uff13\uff10\uff10\uff10\uff10", ""])
def test_issue16_item6_json_regions_parse_like_api_regions(bad: str) -> None:
    """The JSON form reads a region through the API's one parser (``as_region``): the same regions accepted
    (a code, an ISO alias, an output-shaped ``{"code": ...}`` object), the same message for a bad string, and a
    value of another type is bad data there (ValueError), never misuse (TypeError)."""
    from healthpass.model.regions import as_region

    def risk(region: object) -> Region | None:
        read = payload_from_json({"region_risk": {"region": region, "level": "low"}}).region_risk
        return None if read is None else read.region

    assert risk("CN-QH") == risk("630000") == risk({"code": "630000", "name_en": "x"}) == as_region("CN-QH", "x")
    with pytest.raises(ValueError) as api:
        as_region(bad, "region_risk.region")
    with pytest.raises(ValueError) as json_form:
        risk(bad)
    assert str(json_form.value) == str(api.value)
    for other in (630000, None, ["630000"], {"code": 630000}):
        with pytest.raises(ValueError, match=r"^region_risk\.region must be a region code$"):
            risk(other)


@pytest.mark.parametrize("name", ["max_text", "max_decompressed", "max_depth", "max_items", "max_string",
                                  "max_header_entries"])
def test_limits_are_bounded_so_that_no_bound_overflows(name: str, code: str, es_signer: SoftwareSigner) -> None:
    """A bound beyond :data:`MAX_LIMIT` is ValueError at construction (``max_decompressed=2**63 - 1`` made
    ``verify`` raise OverflowError inside zlib); the largest allowed bound verifies a code."""
    from healthpass.model.policy import MAX_LIMIT, Limits
    from healthpass.trust import issuer_key
    from healthpass.verify import Verifier, VerifierPolicy

    from .conftest import NOW

    with pytest.raises(ValueError, match=r"at most 2\*\*32"):
        Limits(**{name: 2**63 - 1})
    with pytest.raises(ValueError, match=r"at most 2\*\*32"):
        Limits(**{name: MAX_LIMIT + 1})
    key = issuer_key(es_signer.public_key_pem(), region=Region("630000"))
    wide = Verifier(keys=[key], policy=VerifierPolicy(limits=Limits(**{name: MAX_LIMIT})))
    assert wide.verify(code, at=NOW).payload is not None
