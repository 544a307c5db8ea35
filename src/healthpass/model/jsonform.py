"""The documented JSON shape of a credential (issuer input, verifier output). Pure conversion, no I/O.

Enums are written as lower-case names (``"green"``, ``"negative"``, ``"booster"``); times as ISO 8601 with a
zone, in whole minutes (refused without a zone or with seconds; output: UTC with ``Z``); dates as
``YYYY-MM-DD``; regions as six-digit codes or ISO 3166-2:CN aliases on input and as
``{"code", "name_zh", "name_en"}`` objects on output (names for province-level codes only).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from enum import IntEnum
from typing import Any, TypeVar

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
    StatusColour,
    StatusReason,
    TestResult,
    Vaccination,
    VaccineProduct,
)
from healthpass.model.regions import Region, as_region
from healthpass.model.time import format_iso, parse_iso

__all__ = ["format_duration", "parse_duration", "payload_from_json", "payload_to_json"]

E = TypeVar("E", bound=IntEnum)
_TOP = frozenset({"holder", "status", "naat", "antibody", "vaccinations", "infection", "region_risk"})


def _time(text: object, name: str) -> datetime:
    """A credential time: ISO 8601 with a zone, in whole minutes (see :mod:`healthpass.model.time`)."""
    return parse_iso(text, name=name, whole_minutes=True)


_DURATION = re.compile(r"\A(\d{1,9})([smhd])\Z")
_DURATION_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
_UNIT_SECONDS = dict(_DURATION_UNITS)


def parse_duration(text: object) -> timedelta:
    """A positive duration written ``45s``, ``90m``, ``72h`` or ``30d``. Raises ValueError."""
    match = _DURATION.match(text.strip()) if isinstance(text, str) else None
    if not match:
        problem = _duration_problem(text.strip()) if isinstance(text, str) else "not a string"
        raise ValueError(f"invalid duration {text!r}: {problem}")
    seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds <= 0:
        raise ValueError(f"invalid duration {text!r}: a duration must be positive (e.g. 72h)")
    return timedelta(seconds=seconds)


def _duration_problem(value: str) -> str:
    """Why ``value`` is no DURATION, in words."""
    number, unit = re.match(r"\A(.*?)([A-Za-z]*)\Z", value, re.DOTALL).groups()  # type: ignore[union-attr]
    if number.startswith("-"):
        return "a duration must be positive (e.g. 72h)"
    if unit and unit not in _UNIT_SECONDS:
        return f"unknown unit {unit!r}: use s, m, h or d (e.g. 72h)"
    if re.fullmatch(r"\d+[.,]\d+", number):
        if unit in ("m", "h", "d"):
            smaller = {"m": ("s", 60), "h": ("m", 60), "d": ("h", 24)}[unit]
            exact = float(number.replace(",", ".")) * smaller[1]
            hint = f" (e.g. {exact:g}{smaller[0]})" if exact.is_integer() else ""
            return f"a duration is a whole number of units: write it in a smaller unit{hint}"
        return "a duration is a whole number of seconds, minutes, hours or days"
    if number.isdigit() and not unit:
        return "no unit: add s, m, h or d (e.g. 72h)"
    if number.isdigit() and len(number) > 9:
        return "too many digits"
    return "use a whole number with s, m, h or d (e.g. 72h)"


def format_duration(value: timedelta) -> str:
    """A duration in the largest unit that divides it (``30d``, ``36h``, ``90m``, ``45s``); whole seconds."""
    seconds = int(value.total_seconds())
    for unit, size in _DURATION_UNITS:
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    raise AssertionError("unreachable")


def _date(text: object, name: str) -> date:
    if not isinstance(text, str):
        raise ValueError(f"{name} must be a YYYY-MM-DD string")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{name} must be a YYYY-MM-DD date") from None


def _enum(enum: type[E], value: object, name: str) -> E:
    if isinstance(value, str):
        try:
            return enum[value.strip().upper()]
        except KeyError:
            pass
    allowed = ", ".join(m.name.lower() for m in enum)
    raise ValueError(f"{name} must be one of: {allowed}")


def _region(value: object, name: str) -> Region:
    if isinstance(value, Mapping):
        value = value.get("code")
    if not isinstance(value, str):  # JSON input: a wrong type is bad data (ValueError), not misuse
        raise ValueError(f"{name} must be a region code")
    return as_region(value, name)


def _obj(value: object, name: str, allowed: frozenset[str]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{name} must be an object")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise ValueError(f"{name}: unknown field(s) {', '.join(map(str, unknown))}")
    return value


def _opt(obj: Mapping[str, Any], key: str, conv: Callable[[Any], Any]) -> Any:
    value = obj.get(key)
    return None if value is None else conv(value)


def _list(value: object, name: str, conv: Callable[[Any, str], Any]) -> tuple[Any, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ValueError(f"{name} must be a list")
    return tuple(conv(item, f"{name}[{i}]") for i, item in enumerate(value))


def _holder(value: object, name: str) -> Holder:
    o = _obj(value, name, frozenset({"name", "name_std", "birth_date", "sex", "nationality", "document"}))
    doc = None
    if o.get("document") is not None:
        d = _obj(o["document"], f"{name}.document", frozenset({"type", "hint", "keyed_hash"}))
        keyed = d.get("keyed_hash")
        if keyed is not None:
            try:
                keyed = bytes.fromhex(keyed)
            except (TypeError, ValueError):
                raise ValueError(f"{name}.document.keyed_hash must be hex") from None
        doc = DocumentBinding(_enum(DocumentType, d.get("type"), f"{name}.document.type"), d.get("hint"), keyed)
    return Holder(
        name=o.get("name"),  # type: ignore[arg-type]  # validated by Holder
        name_std=o.get("name_std"),
        birth_date=o.get("birth_date"),
        sex=_opt(o, "sex", lambda v: _enum(Sex, v, f"{name}.sex")),
        nationality=o.get("nationality"),
        document=doc,
    )


def _status(value: object, name: str) -> HealthStatus:
    o = _obj(value, name, frozenset({"colour", "set_at", "reason"}))
    colour = o.get("colour")
    if type(colour) is not int:
        colour = _enum(StatusColour, colour, f"{name}.colour")
    return HealthStatus(
        colour=colour,
        set_at=_time(o.get("set_at"), f"{name}.set_at"),
        reason=_opt(o, "reason", lambda v: _enum(StatusReason, v, f"{name}.reason")),
    )


def _naat(value: object, name: str) -> NaatTest:
    o = _obj(value, name, frozenset({"sampled_at", "result", "type", "facility", "region"}))
    return NaatTest(
        sampled_at=_time(o.get("sampled_at"), f"{name}.sampled_at"),
        result=_enum(TestResult, o.get("result"), f"{name}.result"),
        test_type=_enum(NaatType, o.get("type", "pcr"), f"{name}.type"),
        facility=o.get("facility"),
        region=_opt(o, "region", lambda v: _region(v, f"{name}.region")),
    )


def _antibody(value: object, name: str) -> AntibodyTest:
    o = _obj(value, name, frozenset({"sampled_at", "type", "result"}))
    return AntibodyTest(
        sampled_at=_time(o.get("sampled_at"), f"{name}.sampled_at"),
        antibody=_enum(AntibodyType, o.get("type"), f"{name}.type"),
        result=_enum(TestResult, o.get("result"), f"{name}.result"),
    )


def _vaccination(value: object, name: str) -> Vaccination:
    fields = frozenset({"product", "manufacturer", "dose_number", "series_total", "kind", "date", "place"})
    o = _obj(value, name, fields)
    return Vaccination(
        product=_product(o.get("product"), f"{name}.product"),
        manufacturer=o.get("manufacturer"),
        dose_number=o.get("dose_number"),  # type: ignore[arg-type]
        series_total=o.get("series_total"),  # type: ignore[arg-type]
        kind=_enum(DoseKind, o.get("kind", "primary"), f"{name}.kind"),
        date=_date(o.get("date"), f"{name}.date"),
        place=o.get("place"),
    )


def _product(value: object, name: str) -> VaccineProduct | str:
    if isinstance(value, str) and value.strip().upper().replace("-", "_") in VaccineProduct.__members__:
        return VaccineProduct[value.strip().upper().replace("-", "_")]
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a product code name or text")
    return value


def _infection(value: object, name: str) -> Infection:
    o = _obj(value, name, frozenset({"kind", "first_positive", "recovered", "valid_from", "valid_until"}))
    return Infection(
        kind=_enum(InfectionKind, o.get("kind"), f"{name}.kind"),
        first_positive=_date(o.get("first_positive"), f"{name}.first_positive"),
        recovered=_opt(o, "recovered", lambda v: _date(v, f"{name}.recovered")),
        valid_from=_opt(o, "valid_from", lambda v: _date(v, f"{name}.valid_from")),
        valid_until=_opt(o, "valid_until", lambda v: _date(v, f"{name}.valid_until")),
    )


def _risk(value: object, name: str) -> RegionRisk:
    o = _obj(value, name, frozenset({"region", "level", "as_of"}))
    return RegionRisk(
        region=_region(o.get("region"), f"{name}.region"),
        level=_enum(RiskLevel, o.get("level"), f"{name}.level"),
        as_of=_opt(o, "as_of", lambda v: _time(v, f"{name}.as_of")),
    )


def payload_from_json(obj: object) -> HealthPayload:
    """Build a payload from the documented JSON shape. Raises ValueError naming the offending field."""
    o = _obj(obj, "credential", _TOP)
    return HealthPayload(
        holder=_opt(o, "holder", lambda v: _holder(v, "holder")),
        status=_opt(o, "status", lambda v: _status(v, "status")),
        naat=_list(o.get("naat"), "naat", _naat),
        antibody=_list(o.get("antibody"), "antibody", _antibody),
        vaccinations=_list(o.get("vaccinations"), "vaccinations", _vaccination),
        infection=_opt(o, "infection", lambda v: _infection(v, "infection")),
        region_risk=_opt(o, "region_risk", lambda v: _risk(v, "region_risk")),
    )


def _name(value: IntEnum) -> str:
    return value.name.lower()


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def payload_to_json(p: HealthPayload) -> dict[str, Any]:
    """The documented JSON shape of a payload (regions described with their names)."""
    out: dict[str, Any] = {}
    if p.holder is not None:
        h = p.holder
        doc = None
        if h.document is not None:
            doc = _drop_none({
                "type": _name(h.document.document_type),
                "hint": h.document.number_hint,
                "keyed_hash": h.document.keyed_hash.hex() if h.document.keyed_hash else None,
            })
        out["holder"] = _drop_none({
            "name": h.name, "name_std": h.name_std, "birth_date": h.birth_date,
            "sex": _name(h.sex) if h.sex is not None else None, "nationality": h.nationality, "document": doc,
        })
    if p.status is not None:
        s = p.status
        out["status"] = _drop_none({
            "colour": s.colour_name if not s.is_extension else int(s.colour),
            "set_at": format_iso(s.set_at),
            "reason": _name(s.reason) if s.reason is not None else None,
        })
    if p.naat:
        out["naat"] = [_drop_none({
            "sampled_at": format_iso(t.sampled_at), "result": _name(t.result), "type": _name(t.test_type),
            "facility": t.facility, "region": t.region.describe() if t.region else None,
        }) for t in p.naat]
    if p.antibody:
        out["antibody"] = [{"sampled_at": format_iso(t.sampled_at), "type": _name(t.antibody),
                            "result": _name(t.result)} for t in p.antibody]
    if p.vaccinations:
        out["vaccinations"] = [_drop_none({
            "product": _name(v.product) if isinstance(v.product, VaccineProduct) else v.product,
            "manufacturer": v.manufacturer, "dose_number": v.dose_number,
            "series_total": v.series_total, "kind": _name(v.kind), "date": v.date.isoformat(), "place": v.place,
        }) for v in p.vaccinations]
    if p.infection is not None:
        i = p.infection
        out["infection"] = _drop_none({
            "kind": _name(i.kind), "first_positive": i.first_positive.isoformat(),
            "recovered": i.recovered.isoformat() if i.recovered else None,
            "valid_from": i.valid_from.isoformat() if i.valid_from else None,
            "valid_until": i.valid_until.isoformat() if i.valid_until else None,
        })
    if p.region_risk is not None:
        r = p.region_risk
        out["region_risk"] = _drop_none({
            "region": r.region.describe(), "level": _name(r.level),
            "as_of": format_iso(r.as_of) if r.as_of else None,
        })
    return out
