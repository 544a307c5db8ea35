"""The health payload on the wire: compact integer-keyed CBOR maps (``specs/credential.md`` §3).

Times are whole minutes, encoded as the number of minutes before the code's ``iat`` minute (negative:
after it), which takes 3 bytes instead of 5 for anything within 45 days; calendar dates are integer days since
1970-01-01, region codes are six-digit unsigned integers. Unknown keys, wrong types and out-of-range values
are rejected (``schema_invalid``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from enum import IntEnum
from typing import Any

from healthpass.errors import DecodeError, ErrorCode, Stage
from healthpass.model.cose import MAX_NUMERIC_DATE
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
from healthpass.model.regions import Region

__all__ = [
    "AntibodyKey",
    "DocumentKey",
    "HolderKey",
    "InfectionKey",
    "NaatKey",
    "PayloadKey",
    "RiskKey",
    "StatusKey",
    "VaccinationKey",
    "payload_from_cbor",
    "payload_to_cbor",
]

_EPOCH = date(1970, 1, 1)
_MIN_INT = -(2**63)
_MAX_INT = 2**64 - 1
_MAX_DAY = 47482  # 2099-12-31


class PayloadKey(IntEnum):
    VERSION = 0
    HOLDER = 1
    STATUS = 2
    NAAT = 3
    ANTIBODY = 4
    VACCINATIONS = 5
    INFECTION = 6
    REGION_RISK = 7


class HolderKey(IntEnum):
    NAME = 1
    NAME_STD = 2
    BIRTH_DATE = 3
    SEX = 4
    NATIONALITY = 5
    DOCUMENT = 6


class DocumentKey(IntEnum):
    TYPE = 1
    HINT = 2
    KEYED_HASH = 3


class StatusKey(IntEnum):
    COLOUR = 1
    SET_AT = 2
    REASON = 3


class NaatKey(IntEnum):
    SAMPLED_AT = 1
    RESULT = 2
    TYPE = 3
    FACILITY = 4
    REGION = 5


class AntibodyKey(IntEnum):
    SAMPLED_AT = 1
    TYPE = 2
    RESULT = 3


class VaccinationKey(IntEnum):
    PRODUCT = 1
    MANUFACTURER = 2
    DOSE_NUMBER = 3
    SERIES_TOTAL = 4
    KIND = 5
    DATE = 6
    PLACE = 7


class InfectionKey(IntEnum):
    KIND = 1
    FIRST_POSITIVE = 2
    RECOVERED = 3
    VALID_FROM = 4
    VALID_UNTIL = 5


class RiskKey(IntEnum):
    REGION = 1
    LEVEL = 2
    AS_OF = 3


# ---------------------------------------------------------------- encoding


def _t(value: datetime, anchor: int) -> int:
    """Minutes before the anchor minute (``iat // 60``); negative after it."""
    return anchor - int(value.timestamp()) // 60


def _d(value: date) -> int:
    return (value - _EPOCH).days


def _dob_to_int(text: str) -> int:
    parts = [int(p) for p in text.split("-")] + [0, 0]
    return parts[0] * 10000 + parts[1] * 100 + parts[2]


def _put(out: dict[int, Any], key: IntEnum, value: Any) -> None:
    if value is not None:
        out[int(key)] = value


def payload_to_cbor(p: HealthPayload, *, iat: int) -> dict[int, Any]:
    """The payload as an integer-keyed map, ready for deterministic CBOR encoding.

    Times are encoded relative to the code's ``iat`` (minutes before ``iat // 60``), so they must be whole
    minutes (the model enforces it).
    """
    anchor = iat // 60
    out: dict[int, Any] = {int(PayloadKey.VERSION): p.version}
    if p.holder is not None:
        h = p.holder
        holder: dict[int, Any] = {}
        _put(holder, HolderKey.NAME, h.name)
        _put(holder, HolderKey.NAME_STD, h.name_std)
        _put(holder, HolderKey.BIRTH_DATE, None if h.birth_date is None else _dob_to_int(h.birth_date))
        _put(holder, HolderKey.SEX, None if h.sex is None else int(h.sex))
        _put(holder, HolderKey.NATIONALITY, h.nationality)
        if h.document is not None:
            doc: dict[int, Any] = {int(DocumentKey.TYPE): int(h.document.document_type)}
            _put(doc, DocumentKey.HINT, h.document.number_hint)
            _put(doc, DocumentKey.KEYED_HASH, h.document.keyed_hash)
            holder[int(HolderKey.DOCUMENT)] = doc
        out[int(PayloadKey.HOLDER)] = holder
    if p.status is not None:
        s = p.status
        status: dict[int, Any] = {
            int(StatusKey.COLOUR): int(s.colour),
            int(StatusKey.SET_AT): _t(s.set_at, anchor),
        }
        _put(status, StatusKey.REASON, None if s.reason is None else int(s.reason))
        out[int(PayloadKey.STATUS)] = status
    if p.naat:
        tests = []
        for t in p.naat:
            m: dict[int, Any] = {int(NaatKey.SAMPLED_AT): _t(t.sampled_at, anchor), int(NaatKey.RESULT): int(t.result)}
            _put(m, NaatKey.TYPE, None if t.test_type is NaatType.PCR else int(t.test_type))
            _put(m, NaatKey.FACILITY, t.facility)
            _put(m, NaatKey.REGION, None if t.region is None else int(t.region))
            tests.append(m)
        out[int(PayloadKey.NAAT)] = tests
    if p.antibody:
        out[int(PayloadKey.ANTIBODY)] = [
            {int(AntibodyKey.SAMPLED_AT): _t(t.sampled_at, anchor), int(AntibodyKey.TYPE): int(t.antibody),
             int(AntibodyKey.RESULT): int(t.result)}
            for t in p.antibody
        ]
    if p.vaccinations:
        doses = []
        for v in p.vaccinations:
            product = int(v.product) if isinstance(v.product, VaccineProduct) else v.product
            place: int | str | None = int(v.place) if v.place is not None and v.place.isdigit() else v.place
            m = {int(VaccinationKey.PRODUCT): product, int(VaccinationKey.DOSE_NUMBER): v.dose_number,
                 int(VaccinationKey.SERIES_TOTAL): v.series_total, int(VaccinationKey.DATE): _d(v.date)}
            _put(m, VaccinationKey.KIND, None if v.kind is DoseKind.PRIMARY else int(v.kind))
            _put(m, VaccinationKey.MANUFACTURER, v.manufacturer)
            _put(m, VaccinationKey.PLACE, place)
            doses.append(m)
        out[int(PayloadKey.VACCINATIONS)] = doses
    if p.infection is not None:
        i = p.infection
        inf: dict[int, Any] = {
            int(InfectionKey.KIND): int(i.kind),
            int(InfectionKey.FIRST_POSITIVE): _d(i.first_positive),
        }
        _put(inf, InfectionKey.RECOVERED, None if i.recovered is None else _d(i.recovered))
        _put(inf, InfectionKey.VALID_FROM, None if i.valid_from is None else _d(i.valid_from))
        _put(inf, InfectionKey.VALID_UNTIL, None if i.valid_until is None else _d(i.valid_until))
        out[int(PayloadKey.INFECTION)] = inf
    if p.region_risk is not None:
        r = p.region_risk
        risk: dict[int, Any] = {int(RiskKey.REGION): int(r.region), int(RiskKey.LEVEL): int(r.level)}
        _put(risk, RiskKey.AS_OF, None if r.as_of is None else _t(r.as_of, anchor))
        out[int(PayloadKey.REGION_RISK)] = risk
    return out


# ---------------------------------------------------------------- decoding


class _Invalid(ValueError):
    pass


def _map(value: object, keys: type[IntEnum], name: str, required: tuple[IntEnum, ...] = ()) -> dict[int, Any]:
    """A payload map: known integer keys only (all below 24, so canonical order is ascending order), no nulls,
    the required keys present."""
    if type(value) is not dict:
        raise _Invalid(f"{name} must be a map")
    known = keys._value2member_map_
    previous = -1
    for k, v in value.items():
        if type(k) is not int or k not in known:
            raise _Invalid(f"{name} has an unknown key")
        if k <= previous:
            raise _Invalid(f"{name} keys are not in canonical order")
        if v is None:  # an absent field is omitted, never null: one payload, one encoding
            raise _Invalid(f"{name}.{keys(k).name.lower()} is null")
        previous = k
    for k in required:
        if k not in value:
            raise _Invalid(f"{name}.{k.name.lower()} is missing")
    return value


def _int(value: object, name: str) -> int:
    if type(value) is not int or not _MIN_INT <= value <= _MAX_INT:  # bignums (tags 2/3) are not integers here
        raise _Invalid(f"{name} must be an integer")
    return value


def _str(value: object, name: str) -> str:
    if type(value) is not str:
        raise _Invalid(f"{name} must be text")
    return value


def _time(value: object, name: str, anchor: int) -> datetime:
    minutes = anchor - _int(value, name)
    if not 0 <= minutes <= MAX_NUMERIC_DATE // 60:
        raise _Invalid(f"{name} is out of range")
    return datetime.fromtimestamp(minutes * 60, UTC)


def _day(value: object, name: str) -> date:
    days = _int(value, name)
    if not 0 <= days <= _MAX_DAY:
        raise _Invalid(f"{name} is out of range")
    return _EPOCH + timedelta(days=days)


def _member(enum: type[IntEnum], value: object, name: str) -> Any:
    member = enum._value2member_map_.get(_int(value, name))
    if member is None:
        raise _Invalid(f"{name} has an unknown value")
    return member


def _non_default(m: dict[int, Any], key: IntEnum, enum: type[IntEnum], default: IntEnum, name: str) -> Any:
    """A field whose default value must be omitted (one encoding per payload): explicit default is invalid."""
    if key not in m:
        return default
    value = _member(enum, m[key], name)
    if value is default:
        raise _Invalid(f"{name} carries its default value, which must be omitted")
    return value


def _region(value: object, name: str) -> Region:
    try:
        return Region.from_int(_int(value, name))
    except ValueError:
        raise _Invalid(f"{name} is not a known region code") from None


def _opt(m: dict[int, Any], key: IntEnum, conv: Any, label: str) -> Any:
    """``conv(m[key], label)``, or None when the field is absent (``label`` names it in errors)."""
    value = m.get(key)
    return None if value is None else conv(value, label)


def _list(value: object, name: str) -> list[Any]:
    if type(value) is not list or not value:
        raise _Invalid(f"{name} must be a non-empty array")
    return value


def _dob_from_int(value: object, name: str) -> str:
    number = _int(value, name)
    if not 19000000 <= number <= 20991231:
        raise _Invalid(f"{name} is out of range")
    year, month, day = number // 10000, number // 100 % 100, number % 100
    if month == 0:
        if day:
            raise _Invalid(f"{name} has a day without a month")
        return f"{year:04d}"
    return f"{year:04d}-{month:02d}" if day == 0 else f"{year:04d}-{month:02d}-{day:02d}"


def _holder(value: object) -> Holder:
    m = _map(value, HolderKey, "holder", (HolderKey.NAME,))
    doc = None
    if HolderKey.DOCUMENT in m:
        d = _map(m[HolderKey.DOCUMENT], DocumentKey, "holder.document", (DocumentKey.TYPE,))
        keyed = d.get(DocumentKey.KEYED_HASH)
        if keyed is not None and type(keyed) is not bytes:
            raise _Invalid("holder.document.keyed_hash must be bytes")
        doc = DocumentBinding(
            _member(DocumentType, d[DocumentKey.TYPE], "holder.document.type"),
            _opt(d, DocumentKey.HINT, _str, "holder.document.hint"),
            keyed,
        )
    return Holder(
        name=_str(m[HolderKey.NAME], "holder.name"),
        name_std=_opt(m, HolderKey.NAME_STD, _str, "holder.name_std"),
        birth_date=_opt(m, HolderKey.BIRTH_DATE, _dob_from_int, "holder.birth_date"),
        sex=_opt(m, HolderKey.SEX, lambda v, n: _member(Sex, v, n), "holder.sex"),
        nationality=_opt(m, HolderKey.NATIONALITY, _str, "holder.nationality"),
        document=doc,
    )


def _status(value: object, anchor: int) -> HealthStatus:
    m = _map(value, StatusKey, "status", (StatusKey.COLOUR, StatusKey.SET_AT))
    return HealthStatus(
        colour=_int(m[StatusKey.COLOUR], "status.colour"),
        set_at=_time(m[StatusKey.SET_AT], "status.set_at", anchor),
        reason=_opt(m, StatusKey.REASON, lambda v, n: _member(StatusReason, v, n), "status.reason"),
    )


def _naat(value: object, anchor: int) -> NaatTest:
    m = _map(value, NaatKey, "naat", (NaatKey.SAMPLED_AT, NaatKey.RESULT))
    return NaatTest(
        sampled_at=_time(m[NaatKey.SAMPLED_AT], "naat.sampled_at", anchor),
        result=_member(TestResult, m[NaatKey.RESULT], "naat.result"),
        test_type=_non_default(m, NaatKey.TYPE, NaatType, NaatType.PCR, "naat.type"),
        facility=_opt(m, NaatKey.FACILITY, _str, "naat.facility"),
        region=_opt(m, NaatKey.REGION, _region, "naat.region"),
    )


def _antibody(value: object, anchor: int) -> AntibodyTest:
    m = _map(value, AntibodyKey, "antibody", (AntibodyKey.SAMPLED_AT, AntibodyKey.TYPE, AntibodyKey.RESULT))
    return AntibodyTest(
        sampled_at=_time(m[AntibodyKey.SAMPLED_AT], "antibody.sampled_at", anchor),
        antibody=_member(AntibodyType, m[AntibodyKey.TYPE], "antibody.type"),
        result=_member(TestResult, m[AntibodyKey.RESULT], "antibody.result"),
    )


def _vaccination(value: object) -> Vaccination:
    required = (VaccinationKey.PRODUCT, VaccinationKey.DOSE_NUMBER, VaccinationKey.SERIES_TOTAL,
                VaccinationKey.DATE)
    m = _map(value, VaccinationKey, "vaccination", required)
    return Vaccination(
        product=_product(m[VaccinationKey.PRODUCT]),
        dose_number=_int(m[VaccinationKey.DOSE_NUMBER], "vaccination.dose_number"),
        series_total=_int(m[VaccinationKey.SERIES_TOTAL], "vaccination.series_total"),
        kind=_non_default(m, VaccinationKey.KIND, DoseKind, DoseKind.PRIMARY, "vaccination.kind"),
        date=_day(m[VaccinationKey.DATE], "vaccination.date"),
        manufacturer=_opt(m, VaccinationKey.MANUFACTURER, _str, "vaccination.manufacturer"),
        place=_opt(m, VaccinationKey.PLACE, _place, "vaccination.place"),
    )


def _product(value: object) -> VaccineProduct | str:
    if type(value) is int:
        return _member(VaccineProduct, value, "vaccination.product")  # type: ignore[no-any-return]
    return _str(value, "vaccination.product")


def _place(value: object, name: str) -> str:
    if type(value) is int:
        return _region(value, name).code
    return _str(value, name)


def _infection(value: object) -> Infection:
    m = _map(value, InfectionKey, "infection", (InfectionKey.KIND, InfectionKey.FIRST_POSITIVE))
    return Infection(
        kind=_member(InfectionKind, m[InfectionKey.KIND], "infection.kind"),
        first_positive=_day(m[InfectionKey.FIRST_POSITIVE], "infection.first_positive"),
        recovered=_opt(m, InfectionKey.RECOVERED, _day, "infection.recovered"),
        valid_from=_opt(m, InfectionKey.VALID_FROM, _day, "infection.valid_from"),
        valid_until=_opt(m, InfectionKey.VALID_UNTIL, _day, "infection.valid_until"),
    )


def _risk(value: object, anchor: int) -> RegionRisk:
    m = _map(value, RiskKey, "region_risk", (RiskKey.REGION, RiskKey.LEVEL))
    return RegionRisk(
        region=_region(m[RiskKey.REGION], "region_risk.region"),
        level=_member(RiskLevel, m[RiskKey.LEVEL], "region_risk.level"),
        as_of=_opt(m, RiskKey.AS_OF, lambda v, n: _time(v, n, anchor), "region_risk.as_of"),
    )


def payload_from_cbor(value: object, *, iat: int) -> HealthPayload:
    """Parse a decoded payload map of a code issued at ``iat``. Raises DecodeError(``schema_invalid``)."""
    anchor = iat // 60
    try:
        m = _map(value, PayloadKey, "payload", (PayloadKey.VERSION,))
        version = _int(m[PayloadKey.VERSION], "payload.version")
        holder = m.get(PayloadKey.HOLDER)
        status = m.get(PayloadKey.STATUS)
        naat = m.get(PayloadKey.NAAT)
        antibody = m.get(PayloadKey.ANTIBODY)
        doses = m.get(PayloadKey.VACCINATIONS)
        infection = m.get(PayloadKey.INFECTION)
        risk = m.get(PayloadKey.REGION_RISK)
        return HealthPayload(
            holder=None if holder is None else _holder(holder),
            status=None if status is None else _status(status, anchor),
            naat=() if naat is None else tuple(_naat(t, anchor) for t in _list(naat, "naat")),
            antibody=() if antibody is None else tuple(_antibody(t, anchor) for t in _list(antibody, "antibody")),
            vaccinations=() if doses is None else tuple(_vaccination(v) for v in _list(doses, "vaccinations")),
            infection=None if infection is None else _infection(infection),
            region_risk=None if risk is None else _risk(risk, anchor),
            version=version,
        )
    except ValueError as err:  # _Invalid and the model's own validation
        raise DecodeError(ErrorCode.SCHEMA_INVALID, Stage.SCHEMA, str(err)) from None
