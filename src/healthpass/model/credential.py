"""The health payload: frozen values, typed enums, validated on construction.

Validation errors are ``ValueError`` naming the field, never its value (values may be personal data); the
codec turns them into ``schema_invalid`` and the issuer into ``credential_invalid``. ``repr()`` of anything
carrying personal data is redacted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import IntEnum, StrEnum
from typing import TYPE_CHECKING

from healthpass._lazy import LazyModule
from healthpass.model.regions import Region, as_region

if TYPE_CHECKING:
    import hashlib
    import hmac
else:  # only the keyed document hash needs them, and hashlib loads OpenSSL (start-up: benchmarks/README.md)
    hashlib = LazyModule("hashlib")
    hmac = LazyModule("hmac")

__all__ = [
    "MAX_ENTRIES",
    "PAYLOAD_VERSION",
    "AntibodyTest",
    "AntibodyType",
    "DocumentBinding",
    "DocumentType",
    "DoseKind",
    "HealthPayload",
    "HealthStatus",
    "Holder",
    "Infection",
    "InfectionKind",
    "Kind",
    "NaatTest",
    "NaatType",
    "RegionRisk",
    "RiskLevel",
    "Sex",
    "StatusColour",
    "StatusReason",
    "TestResult",
    "Vaccination",
    "VaccineProduct",
]

PAYLOAD_VERSION = 1
#: At most this many entries in each list (tests, vaccinations).
MAX_ENTRIES = 8
_MAX_NAME = 64
_MAX_TEXT = 48
_DOB = re.compile(r"\A(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?\Z")
_NATIONALITY = re.compile(r"\A[A-Z]{3}\Z")
_HINT = re.compile(r"\A[0-9A-Z]{0,4}\*[0-9A-Z]{0,4}\Z")
_KEYED_HASH_LEN = 16


class Kind(StrEnum):
    """The kinds of data a credential may carry; a trust-list key is scoped to a set of them."""

    STATUS = "status"
    NAAT = "naat"
    ANTIBODY = "antibody"
    VACCINATION = "vaccination"
    RECOVERY = "recovery"
    #: not data in a code: a trust-list key with this kind may sign status lists (and deltas) for its region
    STATUS_LIST = "status_list"


class StatusColour(IntEnum):
    """Health-code status. Values 16-255 are regional extensions."""

    PENDING = 0
    GREEN = 1
    YELLOW = 2
    RED = 3


class StatusReason(IntEnum):
    """Why the status was set (reason category)."""

    ROUTINE = 0
    CLOSE_CONTACT = 1
    RISK_AREA_TRAVEL = 2
    POSITIVE_TEST = 3
    SYMPTOMS = 4
    QUARANTINE = 5
    TEST_OVERDUE = 6
    OTHER = 9


class TestResult(IntEnum):
    __test__ = False  # not a pytest class
    NEGATIVE = 0
    POSITIVE = 1
    INCONCLUSIVE = 2


class NaatType(IntEnum):
    PCR = 1
    ISOTHERMAL = 2
    PCR_POOLED = 3
    OTHER = 9


class AntibodyType(IntEnum):
    IGM = 1
    IGG = 2
    TOTAL = 3


class DoseKind(IntEnum):
    """Whether a dose belongs to the primary series or is a booster beyond it (no "2/1" guessing)."""

    PRIMARY = 1
    BOOSTER = 2


class VaccineProduct(IntEnum):
    """Coded vaccine products (the wire carries the code; other products travel as text)."""

    CORONAVAC = 1  # Sinovac, inactivated
    BBIBP_CORV = 2  # Sinopharm / Beijing Institute of Biological Products, inactivated
    WIBP_CORV = 3  # Sinopharm / Wuhan Institute of Biological Products, inactivated
    CONVIDECIA = 4  # CanSino Ad5-nCoV, intramuscular
    CONVIDECIA_AIR = 5  # CanSino Ad5-nCoV, inhaled
    ZIFIVAX = 6  # Anhui Zhifei Longcom ZF2001, recombinant protein
    KCONVAC = 7  # Shenzhen Kangtai, inactivated
    COVIDFUL = 8  # Institute of Medical Biology, CAMS, inactivated
    SCTV01E = 9  # Sinocelltech, recombinant protein
    COMIRNATY = 20  # BioNTech / Pfizer, mRNA
    SPIKEVAX = 21  # Moderna, mRNA
    VAXZEVRIA = 22  # AstraZeneca, viral vector
    JCOVDEN = 23  # Janssen, viral vector
    NUVAXOVID = 24  # Novavax, protein
    COVAXIN = 25  # Bharat Biotech, inactivated


class InfectionKind(IntEnum):
    ASYMPTOMATIC = 1
    CONFIRMED = 2


class RiskLevel(IntEnum):
    LOW = 1
    MEDIUM = 2
    HIGH = 3


class Sex(IntEnum):
    """GB/T 2261.1-2003."""

    UNKNOWN = 0
    MALE = 1
    FEMALE = 2
    UNSPECIFIED = 9


class DocumentType(IntEnum):
    RESIDENT_ID = 1
    PASSPORT = 2
    HK_MACAO_PERMIT = 3
    TAIWAN_PERMIT = 4
    FOREIGN_PERMANENT_RESIDENT_ID = 5
    HMT_RESIDENCE_PERMIT = 6
    OTHER = 9


def _is_region(value: str) -> bool:
    """Whether ``value`` is a six-digit region code (the wire form; ISO aliases are for input only)."""
    if not (len(value) == 6 and value.isascii() and value.isdigit()):
        return False
    try:
        Region(value)
    except ValueError:
        return False
    return True


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


def _text(value: object, name: str, limit: int) -> None:
    if not (isinstance(value, str) and 0 < len(value) <= limit and value.isprintable()):
        raise ValueError(f"{name} must be printable text of 1-{limit} characters")


#: The times and dates a payload holds: what the encoding carries (NumericDate minutes, days since 1970).
_FIRST_INSTANT = datetime(1970, 1, 1, tzinfo=UTC)
_END_INSTANT = datetime(2100, 1, 1, tzinfo=UTC)
_LAST_DAY = date(2099, 12, 31)


def _aware(value: object, name: str) -> None:
    if not (isinstance(value, datetime) and value.tzinfo is not None and value.second == 0
            and value.microsecond == 0):
        # one message per problem: a zone message never stands for seconds, nor the reverse
        if not isinstance(value, datetime):
            raise ValueError(f"{name} must be a datetime")
        if value.utcoffset() is None:
            raise ValueError(f"{name} must be timezone-aware (a naive datetime is refused)")
        raise ValueError(f"{name} must be in whole minutes (no seconds)")
    try:
        inside = _FIRST_INSTANT <= value <= _END_INSTANT
    except OverflowError:  # an offset that takes the time out of years 1-9999 in UTC
        inside = False
    if not inside:
        raise ValueError(f"{name} must be between 1970-01-01 and 2100-01-01 (UTC)")


def _day(value: object, name: str) -> None:
    if not (type(value) is date and date(1970, 1, 1) <= value <= _LAST_DAY):
        raise ValueError(f"{name} must be a date from 1970-01-01 to 2099-12-31")


def _enum(value: object, enum: type[IntEnum], name: str) -> None:
    if not isinstance(value, enum):
        raise ValueError(f"{name} must be a {enum.__name__}")


def _count(value: object, name: str) -> None:
    if not (type(value) is int and 1 <= value <= 20):
        raise ValueError(f"{name} must be an integer 1-20")


@dataclass(frozen=True, slots=True, repr=False)  # __repr__ below
class DocumentBinding:
    """Binds the code to an identity document without carrying its number.

    ``number_hint`` keeps at most four leading and four trailing characters around one ``*``
    (``"63*12"``); ``keyed_hash`` is HMAC-SHA-256 of the normalised number under a key the verifiers hold,
    truncated to 16 bytes. At least one of the two is present.
    """

    document_type: DocumentType
    number_hint: str | None = None
    keyed_hash: bytes | None = None

    def __post_init__(self) -> None:
        _enum(self.document_type, DocumentType, "document.type")
        _require(self.number_hint is not None or self.keyed_hash is not None,
                 "document needs a number hint or a keyed hash")
        if self.number_hint is not None:
            _require(isinstance(self.number_hint, str) and bool(_HINT.match(self.number_hint)),
                     "document.hint must be up to 4 leading and 4 trailing characters around one '*'")
        if self.keyed_hash is not None:
            _require(isinstance(self.keyed_hash, bytes) and len(self.keyed_hash) == _KEYED_HASH_LEN,
                     "document.keyed_hash must be 16 bytes")

    @staticmethod
    def _normalise(number: str) -> str:
        return "".join(number.split()).upper()

    @classmethod
    def hint_for(cls, number: str, *, leading: int = 2, trailing: int = 2) -> str:
        """The hint for a document number: ``leading`` first and ``trailing`` last characters."""
        norm = cls._normalise(number)
        _require(0 <= leading <= 4 and 0 <= trailing <= 4 and leading + trailing < len(norm),
                 "hint must hide part of the number")
        return norm[:leading] + "*" + (norm[len(norm) - trailing :] if trailing else "")

    @classmethod
    def keyed_hash_for(cls, number: str, key: bytes) -> bytes:
        """HMAC-SHA-256(key, normalised number), truncated to 16 bytes."""
        return hmac.new(key, cls._normalise(number).encode("utf-8"), hashlib.sha256).digest()[:_KEYED_HASH_LEN]

    def matches(self, number: str, *, key: bytes | None = None) -> bool:
        """Whether a presented document number is consistent with this binding.

        With a keyed hash and the key, the match is exact; otherwise only the hint is compared.
        """
        if self.keyed_hash is not None and key is not None:
            return hmac.compare_digest(self.keyed_hash, self.keyed_hash_for(number, key))
        if self.number_hint is None:
            return False
        head, _, tail = self.number_hint.partition("*")
        norm = self._normalise(number)
        return len(norm) > len(head) + len(tail) and norm.startswith(head) and norm.endswith(tail)

    def __repr__(self) -> str:
        return f"DocumentBinding(document_type={self.document_type.name}, <redacted>)"


@dataclass(frozen=True, slots=True, repr=False)  # __repr__ below
class Holder:
    """The person. Phone, address and medical history never go into a code."""

    name: str
    name_std: str | None = None
    birth_date: str | None = None
    sex: Sex | None = None
    nationality: str | None = None
    document: DocumentBinding | None = None

    def __post_init__(self) -> None:
        _text(self.name, "holder.name", _MAX_NAME)
        if self.name_std is not None:
            _text(self.name_std, "holder.name_std", _MAX_NAME)
        if self.birth_date is not None:
            problem = _birth_date_problem(self.birth_date)
            if problem is not None:
                raise ValueError(f"holder.birth_date {problem}")
        if self.sex is not None:
            _enum(self.sex, Sex, "holder.sex")
        if self.nationality is not None:
            _require(isinstance(self.nationality, str) and bool(_NATIONALITY.match(self.nationality)),
                     "holder.nationality must be an ISO 3166-1 alpha-3 code")
        if self.document is not None:
            _require(isinstance(self.document, DocumentBinding), "holder.document must be a DocumentBinding")

    def __repr__(self) -> str:
        return "Holder(<redacted>)"

    @staticmethod
    def is_birth_date(value: object) -> bool:
        """Whether ``value`` is a valid ``birth_date``: YYYY, YYYY-MM or YYYY-MM-DD, a year in 1900-2099."""
        return _birth_date_problem(value) is None


def _birth_date_problem(value: object) -> str | None:
    """What is wrong with a birth date (message tail without the field name), or None."""
    match = _DOB.match(value) if isinstance(value, str) else None
    if match is None:
        return "must be YYYY, YYYY-MM or YYYY-MM-DD"
    year, month, day = match.groups()
    if not 1900 <= int(year) <= 2099:
        return "year out of range"
    if month is not None and not 1 <= int(month) <= 12:
        return "month out of range"
    if day is not None:
        try:
            date(int(year), int(month), int(day))
        except ValueError:
            return "is not a calendar date"
    return None


@dataclass(frozen=True, slots=True)
class HealthStatus:
    """The health-code colour, when it was set, and why."""

    colour: int
    set_at: datetime
    reason: StatusReason | None = None

    def __post_init__(self) -> None:
        _require(type(self.colour) is int or isinstance(self.colour, StatusColour), "status.colour must be an integer")
        _require(0 <= self.colour <= 3 or 16 <= self.colour <= 255,
                 "status.colour must be 0-3 or a regional extension 16-255")
        if type(self.colour) is int and self.colour <= 3:
            object.__setattr__(self, "colour", StatusColour(self.colour))
        _aware(self.set_at, "status.set_at")
        if self.reason is not None:
            _enum(self.reason, StatusReason, "status.reason")

    @property
    def is_extension(self) -> bool:
        return not isinstance(self.colour, StatusColour)

    @property
    def colour_name(self) -> str:
        return self.colour.name.lower() if isinstance(self.colour, StatusColour) else f"extension-{self.colour}"


@dataclass(frozen=True, slots=True)
class NaatTest:
    """A nucleic-acid amplification test."""

    sampled_at: datetime
    result: TestResult
    test_type: NaatType = NaatType.PCR
    facility: str | None = None
    region: Region | None = None

    def __post_init__(self) -> None:
        _aware(self.sampled_at, "naat.sampled_at")
        _enum(self.result, TestResult, "naat.result")
        _enum(self.test_type, NaatType, "naat.type")
        if self.facility is not None:
            _text(self.facility, "naat.facility", _MAX_TEXT)
        if self.region is not None and type(self.region) is not Region:
            object.__setattr__(self, "region", as_region(self.region, "naat.region"))


@dataclass(frozen=True, slots=True)
class AntibodyTest:
    """An antibody test (IgM, IgG or total antibodies) and its result."""

    sampled_at: datetime
    antibody: AntibodyType
    result: TestResult

    def __post_init__(self) -> None:
        _aware(self.sampled_at, "antibody.sampled_at")
        _enum(self.antibody, AntibodyType, "antibody.type")
        _enum(self.result, TestResult, "antibody.result")


@dataclass(frozen=True, slots=True)
class Vaccination:
    """One dose. ``series_total`` is the number of doses in the primary series; a booster has
    ``kind=BOOSTER`` and ``dose_number > series_total`` (a third dose after two: 3 of 2, booster)."""

    product: VaccineProduct | str
    dose_number: int
    series_total: int
    date: date
    kind: DoseKind = DoseKind.PRIMARY
    manufacturer: str | None = None
    place: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.product, VaccineProduct):
            _text(self.product, "vaccination.product", _MAX_TEXT)
        _count(self.dose_number, "vaccination.dose_number")
        _count(self.series_total, "vaccination.series_total")
        _enum(self.kind, DoseKind, "vaccination.kind")
        if self.kind is DoseKind.PRIMARY:
            _require(self.dose_number <= self.series_total,
                     "vaccination: a primary dose number cannot exceed the series total")
        else:
            _require(self.dose_number > self.series_total,
                     "vaccination: a booster dose number must exceed the primary series total")
        _day(self.date, "vaccination.date")
        if self.manufacturer is not None:
            _text(self.manufacturer, "vaccination.manufacturer", _MAX_TEXT)
        if self.place is not None:
            _require(isinstance(self.place, str) and (bool(_NATIONALITY.match(self.place)) or _is_region(self.place)),
                     "vaccination.place must be a region code or an ISO 3166-1 alpha-3 country code")

    @property
    def completes_primary_series(self) -> bool:
        return self.kind is DoseKind.PRIMARY and self.dose_number == self.series_total


@dataclass(frozen=True, slots=True)
class Infection:
    """Asymptomatic or confirmed infection and recovery."""

    kind: InfectionKind
    first_positive: date
    recovered: date | None = None
    valid_from: date | None = None
    valid_until: date | None = None

    def __post_init__(self) -> None:
        _enum(self.kind, InfectionKind, "infection.kind")
        _day(self.first_positive, "infection.first_positive")
        for name in ("recovered", "valid_from", "valid_until"):
            value = getattr(self, name)
            if value is not None:
                _day(value, f"infection.{name}")
                if name != "valid_until" and value < self.first_positive:
                    raise ValueError(f"infection.{name} precedes the first positive")
        if self.valid_from is not None and self.valid_until is not None:
            _require(self.valid_from <= self.valid_until, "infection.valid_until precedes valid_from")


@dataclass(frozen=True, slots=True)
class RegionRisk:
    """The epidemic risk level of the holder's region."""

    region: Region
    level: RiskLevel
    as_of: datetime | None = None

    def __post_init__(self) -> None:
        if type(self.region) is not Region:
            object.__setattr__(self, "region", as_region(self.region, "region_risk.region"))
        _enum(self.level, RiskLevel, "region_risk.level")
        if self.as_of is not None:
            _aware(self.as_of, "region_risk.as_of")


@dataclass(frozen=True, slots=True, repr=False)  # __repr__ below
class HealthPayload:
    """Everything a healthpass code says about its holder. At least one part is present."""

    holder: Holder | None = None
    status: HealthStatus | None = None
    naat: tuple[NaatTest, ...] = ()
    antibody: tuple[AntibodyTest, ...] = ()
    vaccinations: tuple[Vaccination, ...] = ()
    infection: Infection | None = None
    region_risk: RegionRisk | None = None
    version: int = field(default=PAYLOAD_VERSION)

    def __post_init__(self) -> None:
        if self.version != PAYLOAD_VERSION:
            raise ValueError(f"payload version must be {PAYLOAD_VERSION}")
        for name, kind in _SEQUENCES:
            items = getattr(self, name)
            if isinstance(items, list):
                items = tuple(items)
                object.__setattr__(self, name, items)
            if not (isinstance(items, tuple) and len(items) <= MAX_ENTRIES
                    and all(type(i) is kind or isinstance(i, kind) for i in items)):  # message only on failure
                raise ValueError(f"{name} must hold at most {MAX_ENTRIES} {kind.__name__} entries")
        for name, single in _SINGLES:
            value = getattr(self, name)
            if not (value is None or isinstance(value, single)):
                raise ValueError(f"{name} must be a {single.__name__}")
        _require(bool(self.holder or self.status or self.naat or self.antibody or self.vaccinations
                      or self.infection or self.region_risk), "a payload must carry at least one part")

    def kinds(self) -> frozenset[Kind]:
        """The kinds of data present (holder data is no kind: it is always allowed)."""
        return _KIND_SETS[
            (self.status is not None or self.region_risk is not None)
            | bool(self.naat) << 1
            | bool(self.antibody) << 2
            | bool(self.vaccinations) << 3
            | (self.infection is not None) << 4
        ]

    def __repr__(self) -> str:
        kinds = ",".join(sorted(k.value for k in self.kinds()))
        return f"HealthPayload(version={self.version}, kinds=[{kinds}], holder={'<redacted>' if self.holder else None})"


_SEQUENCES: tuple[tuple[str, type], ...] = (("naat", NaatTest), ("antibody", AntibodyTest),
                                            ("vaccinations", Vaccination))
_SINGLES: tuple[tuple[str, type], ...] = (("holder", Holder), ("status", HealthStatus), ("infection", Infection),
                                          ("region_risk", RegionRisk))
#: ``HealthPayload.kinds()`` by presence bit mask (status, naat, antibody, vaccination, recovery: bits 0-4).
_KIND_ORDER = (Kind.STATUS, Kind.NAAT, Kind.ANTIBODY, Kind.VACCINATION, Kind.RECOVERY)
_KIND_SETS = tuple(
    frozenset(k for i, k in enumerate(_KIND_ORDER) if mask >> i & 1) for mask in range(1 << len(_KIND_ORDER))
)
