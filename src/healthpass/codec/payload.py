"""The health payload on the wire: compact integer-keyed CBOR maps (``specs/credential.md`` §3).

Times are whole minutes, encoded as the number of minutes before the code's ``iat`` minute (negative:
after it), which takes 3 bytes instead of 5 for anything within 45 days; calendar dates are integer days since
1970-01-01, region codes are six-digit unsigned integers. Unknown keys, wrong types and out-of-range values
are rejected (``schema_invalid``).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import IntEnum
from typing import Any

from healthpass.codec.cbor import has_key_order, key_orders
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
from healthpass.model.time import from_numeric_date

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


# The keys as plain integers for the encoder and decoders (enum attribute access costs a Python call
# per use on 3.11).
_H_NAME, _H_NAME_STD, _H_BIRTH, _H_SEX, _H_NATIONALITY, _H_DOCUMENT = map(int, HolderKey)
_D_TYPE, _D_HINT, _D_KEYED_HASH = map(int, DocumentKey)
_S_COLOUR, _S_SET_AT, _S_REASON = map(int, StatusKey)
_N_SAMPLED_AT, _N_RESULT, _N_TYPE, _N_FACILITY, _N_REGION = map(int, NaatKey)
_A_SAMPLED_AT, _A_TYPE, _A_RESULT = map(int, AntibodyKey)
_V_PRODUCT, _V_MANUFACTURER, _V_DOSE, _V_SERIES, _V_KIND, _V_DATE, _V_PLACE = map(int, VaccinationKey)
_I_KIND, _I_FIRST_POSITIVE, _I_RECOVERED, _I_VALID_FROM, _I_VALID_UNTIL = map(int, InfectionKey)
_R_REGION, _R_LEVEL, _R_AS_OF = map(int, RiskKey)
_P_VERSION, _P_HOLDER, _P_STATUS, _P_NAAT, _P_ANTIBODY, _P_VACCINATIONS, _P_INFECTION, _P_RISK = map(int, PayloadKey)



# ---------------------------------------------------------------- encoding


def _t(value: datetime, anchor: int) -> int:
    """Minutes before the anchor minute (``iat // 60``); negative after it."""
    return anchor - int(value.timestamp()) // 60


def _d(value: date) -> int:
    return (value - _EPOCH).days


def _dob_to_int(text: str) -> int:
    parts = [int(p) for p in text.split("-")] + [0, 0]
    return parts[0] * 10000 + parts[1] * 100 + parts[2]


def payload_to_cbor(p: HealthPayload, *, iat: int) -> dict[int, Any]:
    """The payload as an integer-keyed map, ready for deterministic CBOR encoding. Absent fields and fields
    at their default are omitted (one payload, one encoding).

    Times are encoded relative to the code's ``iat`` (minutes before ``iat // 60``), so they must be whole
    minutes (the model enforces it).
    """
    anchor = iat // 60
    out: dict[int, Any] = {_P_VERSION: p.version}
    if p.holder is not None:
        h = p.holder
        holder: dict[int, Any] = {_H_NAME: h.name}
        if h.name_std is not None:
            holder[_H_NAME_STD] = h.name_std
        if h.birth_date is not None:
            holder[_H_BIRTH] = _dob_to_int(h.birth_date)
        if h.sex is not None:
            holder[_H_SEX] = int(h.sex)
        if h.nationality is not None:
            holder[_H_NATIONALITY] = h.nationality
        if h.document is not None:
            doc: dict[int, Any] = {_D_TYPE: int(h.document.document_type)}
            if h.document.number_hint is not None:
                doc[_D_HINT] = h.document.number_hint
            if h.document.keyed_hash is not None:
                doc[_D_KEYED_HASH] = h.document.keyed_hash
            holder[_H_DOCUMENT] = doc
        out[_P_HOLDER] = holder
    if p.status is not None:
        s = p.status
        status: dict[int, Any] = {_S_COLOUR: int(s.colour), _S_SET_AT: _t(s.set_at, anchor)}
        if s.reason is not None:
            status[_S_REASON] = int(s.reason)
        out[_P_STATUS] = status
    if p.naat:
        tests = []
        for t in p.naat:
            m: dict[int, Any] = {_N_SAMPLED_AT: _t(t.sampled_at, anchor), _N_RESULT: int(t.result)}
            if t.test_type is not NaatType.PCR:
                m[_N_TYPE] = int(t.test_type)
            if t.facility is not None:
                m[_N_FACILITY] = t.facility
            if t.region is not None:
                m[_N_REGION] = int(t.region)
            tests.append(m)
        out[_P_NAAT] = tests
    if p.antibody:
        out[_P_ANTIBODY] = [
            {_A_SAMPLED_AT: _t(t.sampled_at, anchor), _A_TYPE: int(t.antibody), _A_RESULT: int(t.result)}
            for t in p.antibody
        ]
    if p.vaccinations:
        doses = []
        for v in p.vaccinations:
            m = {_V_PRODUCT: int(v.product) if isinstance(v.product, VaccineProduct) else v.product}
            if v.manufacturer is not None:
                m[_V_MANUFACTURER] = v.manufacturer
            m[_V_DOSE], m[_V_SERIES] = v.dose_number, v.series_total
            if v.kind is not DoseKind.PRIMARY:
                m[_V_KIND] = int(v.kind)
            m[_V_DATE] = _d(v.date)
            if v.place is not None:
                m[_V_PLACE] = int(v.place) if v.place.isdigit() else v.place
            doses.append(m)
        out[_P_VACCINATIONS] = doses
    if p.infection is not None:
        i = p.infection
        inf: dict[int, Any] = {_I_KIND: int(i.kind), _I_FIRST_POSITIVE: _d(i.first_positive)}
        if i.recovered is not None:
            inf[_I_RECOVERED] = _d(i.recovered)
        if i.valid_from is not None:
            inf[_I_VALID_FROM] = _d(i.valid_from)
        if i.valid_until is not None:
            inf[_I_VALID_UNTIL] = _d(i.valid_until)
        out[_P_INFECTION] = inf
    if p.region_risk is not None:
        r = p.region_risk
        risk: dict[int, Any] = {_R_REGION: int(r.region), _R_LEVEL: int(r.level)}
        if r.as_of is not None:
            risk[_R_AS_OF] = _t(r.as_of, anchor)
        out[_P_RISK] = risk
    return out


# ---------------------------------------------------------------- decoding


class _Invalid(ValueError):
    pass


class _MapSpec:
    """A payload map's schema: its key enum, the keys it requires, and every valid key sequence (in canonical
    order, which for keys below 24 is ascending order, and holding the required keys): one set lookup checks
    the keys' order, that they are known and that the required ones are present. (A plain slotted class:
    a dataclass would add about half a millisecond to every process start.)"""

    __slots__ = ("keys", "name", "required", "valid")

    def __init__(self, name: str, keys: type[IntEnum], *required: IntEnum) -> None:
        self.name, self.keys = name, keys
        self.required = frozenset(int(k) for k in required)
        self.valid = key_orders(sorted(int(k) for k in keys), required=self.required)


_PAYLOAD = _MapSpec("payload", PayloadKey, PayloadKey.VERSION)
_HOLDER = _MapSpec("holder", HolderKey, HolderKey.NAME)
_DOCUMENT = _MapSpec("holder.document", DocumentKey, DocumentKey.TYPE)
_STATUS = _MapSpec("status", StatusKey, StatusKey.COLOUR, StatusKey.SET_AT)
_NAAT = _MapSpec("naat", NaatKey, NaatKey.SAMPLED_AT, NaatKey.RESULT)
_ANTIBODY = _MapSpec("antibody", AntibodyKey, AntibodyKey.SAMPLED_AT, AntibodyKey.TYPE, AntibodyKey.RESULT)
_VACCINATION = _MapSpec("vaccination", VaccinationKey, VaccinationKey.PRODUCT, VaccinationKey.DOSE_NUMBER,
                           VaccinationKey.SERIES_TOTAL, VaccinationKey.DATE)
_INFECTION = _MapSpec("infection", InfectionKey, InfectionKey.KIND, InfectionKey.FIRST_POSITIVE)
_RISK = _MapSpec("region_risk", RiskKey, RiskKey.REGION, RiskKey.LEVEL)


def _map(value: object, spec: _MapSpec) -> dict[int, Any]:
    """A payload map: known integer keys only, in canonical order, no nulls, the required keys present."""
    if type(value) is not dict:
        raise _Invalid(f"{spec.name} must be a map")
    if has_key_order(tuple(value), spec.valid) and None not in value.values():
        return value
    previous = -1
    for k, v in value.items():  # the defect, named
        if type(k) is not int or k not in spec.keys._value2member_map_:
            raise _Invalid(f"{spec.name} has an unknown key")
        if k <= previous:
            raise _Invalid(f"{spec.name} keys are not in canonical order")
        if v is None:  # an absent field is omitted, never null: one payload, one encoding
            raise _Invalid(f"{spec.name}.{spec.keys(k).name.lower()} is null")
        previous = k
    missing = min(spec.required - value.keys())
    raise _Invalid(f"{spec.name}.{spec.keys(missing).name.lower()} is missing")


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
    return from_numeric_date(minutes * 60)


def _day(value: object, name: str) -> date:
    days = _int(value, name)
    if not 0 <= days <= _MAX_DAY:
        raise _Invalid(f"{name} is out of range")
    return _EPOCH + timedelta(days=days)


def _member(enum: type[IntEnum], value: object, name: str) -> Any:
    member = enum._value2member_map_.get(value) if type(value) is int else None
    if member is None:
        raise _Invalid(f"{name} has an unknown value" if type(value) is int else f"{name} must be an integer")
    return member


def _non_default(m: dict[int, Any], key: int, enum: type[IntEnum], default: IntEnum, name: str) -> Any:
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
    m = _map(value, _HOLDER)
    get = m.get
    doc = None
    if _H_DOCUMENT in m:
        d = _map(m[_H_DOCUMENT], _DOCUMENT)
        hint, keyed = d.get(_D_HINT), d.get(_D_KEYED_HASH)
        if keyed is not None and type(keyed) is not bytes:
            raise _Invalid("holder.document.keyed_hash must be bytes")
        doc = DocumentBinding(
            _member(DocumentType, d[_D_TYPE], "holder.document.type"),
            None if hint is None else _str(hint, "holder.document.hint"),
            keyed,
        )
    name_std, birth, sex, nationality = get(_H_NAME_STD), get(_H_BIRTH), get(_H_SEX), get(_H_NATIONALITY)
    return Holder(
        name=_str(m[_H_NAME], "holder.name"),
        name_std=None if name_std is None else _str(name_std, "holder.name_std"),
        birth_date=None if birth is None else _dob_from_int(birth, "holder.birth_date"),
        sex=None if sex is None else _member(Sex, sex, "holder.sex"),
        nationality=None if nationality is None else _str(nationality, "holder.nationality"),
        document=doc,
    )


def _status(value: object, anchor: int) -> HealthStatus:
    m = _map(value, _STATUS)
    reason = m.get(_S_REASON)
    return HealthStatus(
        colour=_int(m[_S_COLOUR], "status.colour"),
        set_at=_time(m[_S_SET_AT], "status.set_at", anchor),
        reason=None if reason is None else _member(StatusReason, reason, "status.reason"),
    )


def _naat(value: object, anchor: int) -> NaatTest:
    m = _map(value, _NAAT)
    facility, region = m.get(_N_FACILITY), m.get(_N_REGION)
    return NaatTest(
        sampled_at=_time(m[_N_SAMPLED_AT], "naat.sampled_at", anchor),
        result=_member(TestResult, m[_N_RESULT], "naat.result"),
        test_type=_non_default(m, _N_TYPE, NaatType, NaatType.PCR, "naat.type"),
        facility=None if facility is None else _str(facility, "naat.facility"),
        region=None if region is None else _region(region, "naat.region"),
    )


def _antibody(value: object, anchor: int) -> AntibodyTest:
    m = _map(value, _ANTIBODY)
    return AntibodyTest(
        sampled_at=_time(m[_A_SAMPLED_AT], "antibody.sampled_at", anchor),
        antibody=_member(AntibodyType, m[_A_TYPE], "antibody.type"),
        result=_member(TestResult, m[_A_RESULT], "antibody.result"),
    )


def _vaccination(value: object) -> Vaccination:
    m = _map(value, _VACCINATION)
    manufacturer, place = m.get(_V_MANUFACTURER), m.get(_V_PLACE)
    return Vaccination(
        product=_product(m[_V_PRODUCT]),
        dose_number=_int(m[_V_DOSE], "vaccination.dose_number"),
        series_total=_int(m[_V_SERIES], "vaccination.series_total"),
        kind=_non_default(m, _V_KIND, DoseKind, DoseKind.PRIMARY, "vaccination.kind"),
        date=_day(m[_V_DATE], "vaccination.date"),
        manufacturer=None if manufacturer is None else _str(manufacturer, "vaccination.manufacturer"),
        place=None if place is None else _place(place, "vaccination.place"),
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
    m = _map(value, _INFECTION)
    recovered, valid_from, valid_until = m.get(_I_RECOVERED), m.get(_I_VALID_FROM), m.get(_I_VALID_UNTIL)
    return Infection(
        kind=_member(InfectionKind, m[_I_KIND], "infection.kind"),
        first_positive=_day(m[_I_FIRST_POSITIVE], "infection.first_positive"),
        recovered=None if recovered is None else _day(recovered, "infection.recovered"),
        valid_from=None if valid_from is None else _day(valid_from, "infection.valid_from"),
        valid_until=None if valid_until is None else _day(valid_until, "infection.valid_until"),
    )


def _risk(value: object, anchor: int) -> RegionRisk:
    m = _map(value, _RISK)
    as_of = m.get(_R_AS_OF)
    return RegionRisk(
        region=_region(m[_R_REGION], "region_risk.region"),
        level=_member(RiskLevel, m[_R_LEVEL], "region_risk.level"),
        as_of=None if as_of is None else _time(as_of, "region_risk.as_of", anchor),
    )


def payload_from_cbor(value: object, *, iat: int) -> HealthPayload:
    """Parse a decoded payload map of a code issued at ``iat``. Raises DecodeError(``schema_invalid``)."""
    anchor = iat // 60
    try:
        m = _map(value, _PAYLOAD)
        get = m.get
        version = _int(m[_P_VERSION], "payload.version")
        holder, status, naat, antibody = get(_P_HOLDER), get(_P_STATUS), get(_P_NAAT), get(_P_ANTIBODY)
        doses, infection, risk = get(_P_VACCINATIONS), get(_P_INFECTION), get(_P_RISK)
        return HealthPayload(
            holder=None if holder is None else _holder(holder),
            status=None if status is None else _status(status, anchor),
            naat=() if naat is None else tuple([_naat(t, anchor) for t in _list(naat, "naat")]),
            antibody=() if antibody is None else tuple([_antibody(t, anchor) for t in _list(antibody, "antibody")]),
            vaccinations=() if doses is None else tuple([_vaccination(v) for v in _list(doses, "vaccinations")]),
            infection=None if infection is None else _infection(infection),
            region_risk=None if risk is None else _risk(risk, anchor),
            version=version,
        )
    except ValueError as err:  # _Invalid and the model's own validation
        raise DecodeError(ErrorCode.SCHEMA_INVALID, Stage.SCHEMA, str(err)) from None
