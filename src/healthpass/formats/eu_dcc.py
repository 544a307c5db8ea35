"""EU Digital COVID Certificate (HCERT) payloads: extraction, checks, schema validation and a normalised view.

The verifier hands the CWT claims of an ``HC1:`` code to :func:`interpret` once the signature verified.

1. **Extraction** (``claims_invalid``): the DCC is the map under claim -260 (``hcert``), key 1.
2. **Structure** (``schema_invalid``, always, without any schema file): the DCC is a JSON value (maps with
   text keys, arrays, text, numbers, booleans, null: the HCERT spec §3.3.7 defines the claim as a JSON
   object); exactly one of ``v``/``t``/``r`` is non-empty and holds exactly one entry, a map; ``nam``/``dob``
   and the entry fields the normalised view reads have the right types where present (text; ``dn``/``sd``
   integers, an integral float accepted as the spec's "reasonable type conversion").
3. **EU JSON schema**, only when a :class:`DccSchemas` is given: deviations become warnings
   (``dcc_schema: <release>: <path>: <keyword>``), or ``schema_invalid`` under a strict policy.
4. **Normalised view** in healthpass's own model (:func:`normalise`); when the data cannot form valid model
   values the view is None and a ``dcc_not_normalised: <reason>`` warning says why.

Warnings and error messages never carry payload values: schema deviations name a JSON path of schema-defined
properties and the failed keyword, normalisation failures name the model field.

Schema validation imports ``jsonschema`` (the ``eu`` extra) lazily, and ``fastjsonschema`` when installed:
a compiled fastjsonschema validator decides a conforming payload far faster than a cached jsonschema
validator (figures: ``benchmarks/README.md``, "Kept optimisations"); a payload it rejects is re-checked with
jsonschema, the reference, which also lists every deviation (see ``docs/eu-dcc.md``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from healthpass.errors import DecodeError, ErrorCode, Stage
from healthpass.model.cose import ClaimKey, CoseSign1, CoseTag, CwtClaims, HeaderLabel
from healthpass.model.credential import (
    DoseKind,
    HealthPayload,
    Holder,
    Infection,
    InfectionKind,
    Kind,
    NaatTest,
    NaatType,
    TestResult,
    Vaccination,
)
from healthpass.model.policy import Limits

__all__ = [
    "DCC_TYPES",
    "KIND_OF_DCC_TYPE",
    "NAAT_TEST_TYPE",
    "RAT_TEST_TYPE",
    "WARNING_DEVIATION",
    "WARNING_NOT_NORMALISED",
    "WARNING_SCHEMA",
    "WARNING_SCHEMA_UNAVAILABLE",
    "DccResult",
    "DccSchemas",
    "Deviation",
    "SchemaReport",
    "alpha3",
    "check_structure",
    "extract",
    "interpret",
    "normalise",
]

#: The three DCC entry arrays: vaccination, test, recovery.
DCC_TYPES = ("v", "t", "r")
#: The healthpass kind a DCC type counts as, for trust-list key scopes.
KIND_OF_DCC_TYPE: MappingProxyType[str, Kind] = MappingProxyType(
    {"v": Kind.VACCINATION, "t": Kind.NAAT, "r": Kind.RECOVERY}
)
#: EU value set ``covid-19-lab-test-type``: nucleic acid amplification (NAAT) and rapid antigen test (RAT).
NAAT_TEST_TYPE = "LP6464-4"
RAT_TEST_TYPE = "LP217198-3"
#: Warning prefixes (a warning is ``"<prefix>: <detail>"``).
WARNING_SCHEMA = "dcc_schema"
WARNING_SCHEMA_UNAVAILABLE = "dcc_schema_unavailable"
WARNING_NOT_NORMALISED = "dcc_not_normalised"
WARNING_DEVIATION = "dcc_deviation"


class Deviation(StrEnum):
    """A deviation from the HCERT specification or the EU DCC schema that member states' issuers produced and
    the EU reference verifiers accepted. An ``HC1:`` code carrying one verifies with the warning
    ``dcc_deviation: <code>: <where>`` (``where`` names a claim, ``COSE_Sign1`` or a JSON path, never a
    value), or fails with ``schema_invalid`` under ``VerifierPolicy.strict_schema``. ``HP1:`` codes allow
    none of them. The table with the reasons is in docs/eu-dcc.md."""

    #: ``iat``/``exp``/``nbf`` wrapped in CBOR tag 1 (epoch-based date/time)
    CWT_TIME_TAG = "cwt_time_tag"
    #: ``iat``/``exp``/``nbf`` as a float (truncated to the second)
    CWT_TIME_FLOAT = "cwt_time_float"
    #: the COSE_Sign1 without its tag 18
    COSE_UNTAGGED = "cose_untagged"
    #: the COSE_Sign1 wrapped in the CWT tag 61
    COSE_CWT_TAG = "cose_cwt_tag"
    #: the kid only in the unprotected header
    KID_UNPROTECTED = "kid_unprotected"
    #: ``ver`` not ``X.Y.Z`` but readable as a release (``1.3``, ``v1.3.0``, `` 1.3.0``): read as ``X.Y.Z``
    VER_VARIANT = "ver_variant"
    #: a group (``v``, ``t``, ``r``) present with the value null beside the real one: read as absent
    NULL_GROUP = "null_group"
    #: a group present as an empty array beside the real one: read as absent
    EMPTY_GROUP = "empty_group"
    #: more than one ``v`` entry under schema 1.0.x-1.2.x (1.3.0 added ``maxItems: 1``): the view reads the
    #: latest dose
    MULTIPLE_ENTRIES = "multiple_entries"
    #: a time part after a date (``dob``, ``v.dt``, ``r.fr``/``df``/``du``): the view reads the date
    DATE_WITH_TIME = "date_with_time"
    #: a lower-case country code (``co``): the view reads it upper-cased
    COUNTRY_LOWER_CASE = "country_lower_case"
    #: leading or trailing white space in a name field: the view reads it trimmed
    NAME_WHITESPACE = "name_whitespace"
    #: ``dn``/``sd`` as an integral float (HCERT §3.3.7: "any reasonable type conversion")
    COUNT_FLOAT = "count_float"
    #: a field the EU schema does not define (ignored)
    UNKNOWN_FIELD = "unknown_field"

_HCERT_DCC_KEY = 1
#: At most this many schema deviations are listed as warnings (then one ``... and N more``).
_MAX_SCHEMA_WARNINGS = 12
#: EU value set ``covid-19-lab-result``.
_TEST_RESULTS = {"260415000": TestResult.NEGATIVE, "260373001": TestResult.POSITIVE}
_VERSION = re.compile(r"\A(\d{1,4})\.(\d{1,4})\.(\d{1,4})\Z")
#: ``ver`` values issuers wrote for a release: a ``v`` prefix, two parts, surrounding white space
_VERSION_VARIANT = re.compile(r"\A\s*[vV]?(\d{1,4})\.(\d{1,4})(?:\.(\d{1,4}))?\s*\Z")
#: schema releases below this allowed more than one entry per group
_SINGLE_ENTRY_SINCE = (1, 3, 0)
_SCHEMA_FILE = re.compile(r"\A(\d{1,4}\.\d{1,4}\.\d{1,4})(?:\.combined-schema)?\.json\Z")
_SAFE_KEY = re.compile(r"\A[A-Za-z0-9_-]{1,16}\Z")
_DATE = re.compile(r"\A(\d{4})-(\d{2})-(\d{2})\Z")
_DATE_TIME = re.compile(
    r"\A(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))\Z"
)
#: A date, optionally followed by a time part (``2021-05-18T00:00:00``): the normalised view reads the date.
_DATE_PREFIX = re.compile(r"\A(\d{4}-\d{2}-\d{2})(?:[Tt ].*)?\Z", re.DOTALL)
_LOCAL_DATE_TIME = re.compile(r"\A\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\Z")
_ENTRY_TEXT_FIELDS: Mapping[str, tuple[str, ...]] = {
    "v": ("mp", "ma", "dt", "co"),
    "t": ("tt", "sc", "tr"),
    "r": ("fr", "df", "du"),
}
_NAME_FIELDS = ("fn", "gn", "fnt", "gnt")
#: The fields the EU schema (1.0.0-1.3.x) defines, per object
_TOP_FIELDS = frozenset({"ver", "nam", "dob", "v", "t", "r"})
_ENTRY_FIELDS: Mapping[str, frozenset[str]] = {
    "v": frozenset({"tg", "vp", "mp", "ma", "dn", "sd", "dt", "co", "is", "ci"}),
    "t": frozenset({"tg", "tt", "nm", "ma", "sc", "dr", "tr", "tc", "co", "is", "ci"}),
    "r": frozenset({"tg", "fr", "co", "is", "df", "du", "ci"}),
}
#: Fields holding a date (``YYYY-MM-DD``), where some issuers appended a time
_DATE_FIELDS: Mapping[str, tuple[str, ...]] = {"v": ("dt",), "t": (), "r": ("fr", "df", "du")}

# ISO 3166-1 alpha-2 -> alpha-3 (all 249 assigned codes; "XK", used by the EU value set, is not ISO).
_ALPHA3_TABLE = (
    "ADAND AEARE AFAFG AGATG AIAIA ALALB AMARM AOAGO AQATA ARARG ASASM ATAUT AUAUS AWABW AXALA AZAZE "
    "BABIH BBBRB BDBGD BEBEL BFBFA BGBGR BHBHR BIBDI BJBEN BLBLM BMBMU BNBRN BOBOL BQBES BRBRA BSBHS "
    "BTBTN BVBVT BWBWA BYBLR BZBLZ CACAN CCCCK CDCOD CFCAF CGCOG CHCHE CICIV CKCOK CLCHL CMCMR CNCHN "
    "COCOL CRCRI CUCUB CVCPV CWCUW CXCXR CYCYP CZCZE DEDEU DJDJI DKDNK DMDMA DODOM DZDZA ECECU EEEST "
    "EGEGY EHESH ERERI ESESP ETETH FIFIN FJFJI FKFLK FMFSM FOFRO FRFRA GAGAB GBGBR GDGRD GEGEO GFGUF "
    "GGGGY GHGHA GIGIB GLGRL GMGMB GNGIN GPGLP GQGNQ GRGRC GSSGS GTGTM GUGUM GWGNB GYGUY HKHKG HMHMD "
    "HNHND HRHRV HTHTI HUHUN IDIDN IEIRL ILISR IMIMN ININD IOIOT IQIRQ IRIRN ISISL ITITA JEJEY JMJAM "
    "JOJOR JPJPN KEKEN KGKGZ KHKHM KIKIR KMCOM KNKNA KPPRK KRKOR KWKWT KYCYM KZKAZ LALAO LBLBN LCLCA "
    "LILIE LKLKA LRLBR LSLSO LTLTU LULUX LVLVA LYLBY MAMAR MCMCO MDMDA MEMNE MFMAF MGMDG MHMHL MKMKD "
    "MLMLI MMMMR MNMNG MOMAC MPMNP MQMTQ MRMRT MSMSR MTMLT MUMUS MVMDV MWMWI MXMEX MYMYS MZMOZ NANAM "
    "NCNCL NENER NFNFK NGNGA NINIC NLNLD NONOR NPNPL NRNRU NUNIU NZNZL OMOMN PAPAN PEPER PFPYF PGPNG "
    "PHPHL PKPAK PLPOL PMSPM PNPCN PRPRI PSPSE PTPRT PWPLW PYPRY QAQAT RERES ROROU RSSRB RURUS RWRWA "
    "SASAU SBSLB SCSYC SDSDN SESWE SGSGP SHSHN SISVN SJSJM SKSVK SLSLE SMSMR SNSEN SOSOM SRSUR SSSSD "
    "STSTP SVSLV SXSXM SYSYR SZSWZ TCTCA TDTCD TFATF TGTGO THTHA TJTJK TKTKL TLTLS TMTKM TNTUN TOTON "
    "TRTUR TTTTO TVTUV TWTWN TZTZA UAUKR UGUGA UMUMI USUSA UYURY UZUZB VAVAT VCVCT VEVEN VGVGB VIVIR "
    "VNVNM VUVUT WFWLF WSWSM YEYEM YTMYT ZAZAF ZMZMB ZWZWE"
)
_ALPHA3: Mapping[str, str] = {chunk[:2]: chunk[2:] for chunk in _ALPHA3_TABLE.split()}


def alpha3(code: object) -> str | None:
    """The ISO 3166-1 alpha-3 code for an alpha-2 code (``"AT"`` -> ``"AUT"``); None when unknown."""
    return _ALPHA3.get(code) if isinstance(code, str) else None


# ---------------------------------------------------------------------------------------------- result


@dataclass(frozen=True, slots=True, repr=False)  # __repr__ below
class DccResult:
    """An interpreted DCC: the payload as received, its type (``v``, ``t`` or ``r``), the normalised view
    (None when the data cannot form valid model values) and the warnings."""

    payload: Mapping[str, Any]
    dcc_type: str
    normalised: HealthPayload | None
    warnings: tuple[str, ...] = ()
    #: the schema release the payload was checked against (None: no schemas configured or none fits)
    schema_version: str | None = None

    def __repr__(self) -> str:
        return (f"DccResult(dcc_type={self.dcc_type!r}, schema_version={self.schema_version!r}, "
                f"normalised={self.normalised is not None}, warnings={len(self.warnings)})")


def _schema_error(message: str) -> DecodeError:
    return DecodeError(ErrorCode.SCHEMA_INVALID, Stage.SCHEMA, message)


# ------------------------------------------------------------------------------------ extraction, structure


def extract(claims: CwtClaims) -> dict[str, Any]:
    """The DCC map under claim -260 / 1. Raises DecodeError(``claims_invalid``) when it is absent."""
    hcert = claims.other.get(ClaimKey.HCERT)
    if type(hcert) is not dict or type(hcert.get(_HCERT_DCC_KEY)) is not dict:
        raise DecodeError(ErrorCode.CLAIMS_INVALID, Stage.CLAIMS, "no EU DCC map under claim -260/1")
    dcc: dict[str, Any] = hcert[_HCERT_DCC_KEY]
    return dcc


_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})


def _json_value(value: object) -> bool:
    """Whether a decoded item is a JSON value: scalars, arrays and maps with text keys (no byte strings).
    Iterative; the CBOR decoder has already bounded its depth and size."""
    stack: list[Any] = [value]
    pop, extend = stack.pop, stack.extend
    while stack:
        item = pop()
        kind = type(item)
        if kind is dict:
            for key in item:
                if type(key) is not str:
                    return False
            extend(item.values())
        elif kind is list:
            extend(item)
        elif kind not in _JSON_SCALARS:
            return False
    return True


def _is_count(value: object) -> bool:
    # An integral float is accepted: HCERT §3.3.7 asks decoders to accept "any reasonable type conversion".
    return (type(value) is int) or (type(value) is float and value.is_integer())


def check_structure(dcc: Mapping[str, Any]) -> str:
    """healthpass's own structural rules (module docstring, step 2); returns the DCC type.

    Raises DecodeError(``schema_invalid``). Tolerated deviations (:class:`Deviation`) pass; :func:`interpret`
    reports them.
    """
    return _structure(dcc).kind


@dataclass(frozen=True, slots=True)
class _Shape:
    kind: str
    #: ``ver`` as ``X.Y.Z`` (a :attr:`Deviation.VER_VARIANT` read as its release), or None
    version: str | None
    deviations: tuple[tuple[Deviation, str], ...]


def _release(ver: object) -> str | None:
    """``ver`` as an ``X.Y.Z`` release: exact, or a variant (:attr:`Deviation.VER_VARIANT`); None otherwise."""
    if not isinstance(ver, str):
        return None
    if _VERSION.match(ver):
        return ver
    match = _VERSION_VARIANT.match(ver)
    if match is None:
        return None
    major, minor, patch = match.groups()
    return f"{int(major)}.{int(minor)}.{int(patch or 0)}"


def _has_time(value: object) -> bool:
    """A date followed by a time part (``2021-05-18T00:00:00``)."""
    return isinstance(value, str) and len(value) > 10 and _DATE_PREFIX.match(value) is not None


def _structure(dcc: Mapping[str, Any]) -> _Shape:
    if not _json_value(dcc):
        raise _schema_error("the DCC is not a JSON value (byte string, or a map key that is not text)")
    for name in ("dob", "ver"):
        if name in dcc and type(dcc[name]) is not str:
            raise _schema_error(f"DCC {name} must be text")
    deviations: list[tuple[Deviation, str]] = []
    version = _release(dcc.get("ver"))
    if version is not None and version != dcc.get("ver"):
        deviations.append((Deviation.VER_VARIANT, "$.ver"))
    groups = []
    for kind in DCC_TYPES:
        if kind not in dcc:
            continue
        if dcc[kind] is None:
            deviations.append((Deviation.NULL_GROUP, f"$.{kind}"))
            continue
        if type(dcc[kind]) is not list:
            raise _schema_error(f"DCC {kind} must be an array")
        if dcc[kind]:
            groups.append(kind)
        else:
            deviations.append((Deviation.EMPTY_GROUP, f"$.{kind}"))
    if len(groups) != 1:
        raise _schema_error(f"a DCC holds exactly one non-empty of v, t, r (found {len(groups)})")
    kind = groups[0]
    entries = dcc[kind]
    if any(type(entry) is not dict for entry in entries):
        raise _schema_error(f"DCC {kind} must hold exactly one entry, a map")
    if len(entries) > 1:
        key = _version_key(version) if version is not None else None
        if kind != "v" or key is None or key[0] != 1 or key >= _SINGLE_ENTRY_SINCE:
            raise _schema_error(f"DCC {kind} must hold exactly one entry (several v entries only under schema "
                                "releases 1.0.0-1.2.x)")
        deviations.append((Deviation.MULTIPLE_ENTRIES, f"$.{kind}"))
    for index, entry in enumerate(entries):
        for name in _ENTRY_TEXT_FIELDS[kind]:
            if name in entry and type(entry[name]) is not str:
                raise _schema_error(f"DCC {kind}[{index}].{name} must be text")
        if kind == "v":
            for name in ("dn", "sd"):
                if name in entry:
                    if not _is_count(entry[name]):
                        raise _schema_error(f"DCC v[{index}].{name} must be an integer")
                    if type(entry[name]) is float:
                        deviations.append((Deviation.COUNT_FLOAT, f"$.v[{index}].{name}"))
        deviations += _entry_deviations(kind, index, entry)
    if "nam" in dcc:
        nam = dcc["nam"]
        if type(nam) is not dict:
            raise _schema_error("DCC nam must be a map")
        for name in _NAME_FIELDS:
            if name in nam and type(nam[name]) is not str:
                raise _schema_error(f"DCC nam.{name} must be text")
            if name in nam and nam[name] != nam[name].strip():
                deviations.append((Deviation.NAME_WHITESPACE, f"$.nam.{name}"))
        deviations += [(Deviation.UNKNOWN_FIELD, _path(["nam", key])) for key in nam if key not in _NAME_FIELDS]
    if _has_time(dcc.get("dob")):
        deviations.append((Deviation.DATE_WITH_TIME, "$.dob"))
    deviations += [(Deviation.UNKNOWN_FIELD, _path([key])) for key in dcc if key not in _TOP_FIELDS]
    return _Shape(kind, version, tuple(deviations))


def _entry_deviations(kind: str, index: int, entry: Mapping[str, Any]) -> list[tuple[Deviation, str]]:
    found = [(Deviation.DATE_WITH_TIME, f"$.{kind}[{index}].{name}")
             for name in _DATE_FIELDS[kind] if _has_time(entry.get(name))]
    country = entry.get("co")
    if isinstance(country, str) and country != country.upper() and _country(country) is not None:
        found.append((Deviation.COUNTRY_LOWER_CASE, f"$.{kind}[{index}].co"))
    found += [(Deviation.UNKNOWN_FIELD, _path([kind, index, key])) for key in entry if key not in _ENTRY_FIELDS[kind]]
    return found


def _country(code: str) -> str | None:
    """A two-letter country code of the EU value set in any case, upper-cased; None when it is none."""
    upper = code.upper()
    return upper if len(upper) == 2 and (upper in _ALPHA3 or upper == "XK") else None


# ------------------------------------------------------------------------------------------------ schemas


def _version_key(text: str) -> tuple[int, int, int] | None:
    match = _VERSION.match(text)
    if match is None:
        return None
    major, minor, patch = match.groups()
    return int(major), int(minor), int(patch)


def _is_calendar_date(year: str, month: str, day: str) -> bool:
    """Whether the digits name a day of the calendar (not 2021-02-30)."""
    try:
        date(int(year), int(month), int(day))
    except ValueError:
        return False
    return True


def _check_date(value: object) -> bool:
    """JSON Schema ``date`` (RFC 3339 full-date): ``YYYY-MM-DD``, a calendar date."""
    if not isinstance(value, str):
        return True
    match = _DATE.match(value)
    return match is not None and _is_calendar_date(*match.groups())


def _check_date_time(value: object) -> bool:
    """JSON Schema ``date-time`` (RFC 3339 date-time, with a zone offset), with valid field ranges."""
    if not isinstance(value, str):
        return True
    match = _DATE_TIME.match(value)
    if match is None:
        return False
    year, month, day, hour, minute, second, _, _, off_h, off_m = match.groups()
    # second 60 is a leap second (RFC 3339 §5.7)
    return (_is_calendar_date(year, month, day) and int(hour) <= 23 and int(minute) <= 59 and int(second) <= 60
            and (off_h is None or (int(off_h) <= 23 and int(off_m) <= 59)))


_FORMATS: Mapping[str, Callable[[object], bool]] = {"date": _check_date, "date-time": _check_date_time}

Engine = Literal["auto", "jsonschema", "fastjsonschema"]


@dataclass(frozen=True, slots=True)
class SchemaReport:
    """Outcome of checking one DCC against the EU schema.

    ``schema_version`` is the release used (None when no release fits the payload's ``ver``); ``issues`` are
    ``"<path>: <keyword>"`` strings (no payload values), empty when the payload conforms.
    """

    requested: str | None
    schema_version: str | None
    issues: tuple[str, ...]

    @property
    def valid(self) -> bool:
        return self.schema_version is not None and not self.issues


class _Compiled:
    __slots__ = ("fast", "full", "schema")

    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        self.fast: Callable[[Any], Any] | None = None
        self.full: Any = None


class DccSchemas:
    """The EU DCC JSON schema releases found in a directory, compiled lazily and cached per release.

    :meth:`load` lists ``<major>.<minor>.<patch>.json`` or ``<major>.<minor>.<patch>.combined-schema.json``
    files (the layout of ehn-dcc-development/eu-dcc-schema releases) without reading them; a release is
    parsed and compiled the first time a payload needs it. Release choice for a payload's ``ver``: the
    exact release when present, else the nearest lower release **of the same major version**; none (``ver``
    missing, not ``X.Y.Z``, or older than every release of its major) means the payload cannot be checked.

    ``engine``: ``"auto"`` uses fastjsonschema for the accept decision when it is installed and jsonschema
    (the reference) to list deviations; ``"jsonschema"`` / ``"fastjsonschema"`` force one engine. The
    schema files are trusted configuration (fastjsonschema compiles a schema into Python code).
    Thread-safe; picklable (the cache is rebuilt in the receiving process).
    """

    __slots__ = ("_cache", "_engine", "_files", "_lock")

    def __init__(self, files: Mapping[str, Path], *, engine: Engine = "auto") -> None:
        if engine not in ("auto", "jsonschema", "fastjsonschema"):
            raise ValueError("engine must be 'auto', 'jsonschema' or 'fastjsonschema'")
        versions = {}
        for version, path in files.items():
            key = _version_key(version)
            if key is None:
                raise ValueError(f"not a schema release version: {version!r}")
            versions[key] = Path(path)
        if not versions:
            raise ValueError("no EU DCC schema release given")
        self._files = dict(sorted(versions.items()))
        self._engine = self._resolve_engine(engine)
        self._cache: dict[tuple[int, int, int], _Compiled] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _resolve_engine(engine: Engine) -> Engine:
        has_full = importlib.util.find_spec("jsonschema") is not None
        has_fast = importlib.util.find_spec("fastjsonschema") is not None
        if engine == "jsonschema" and not has_full:
            raise ImportError("schema validation needs jsonschema (pip install 'healthpass[eu]')")
        if engine == "fastjsonschema" and not has_fast:
            raise ImportError("engine 'fastjsonschema' needs fastjsonschema (pip install fastjsonschema)")
        if engine == "auto":
            if not has_full and not has_fast:
                raise ImportError("schema validation needs jsonschema (pip install 'healthpass[eu]')")
            return "auto" if has_full and has_fast else ("jsonschema" if has_full else "fastjsonschema")
        return engine

    @classmethod
    def load(cls, directory: str | os.PathLike[str], *, engine: Engine = "auto") -> DccSchemas:
        """The schema releases in ``directory`` (not read until needed). Raises ValueError when it has none,
        ImportError when no validation engine is installed."""
        root = Path(directory)
        if not root.is_dir():
            raise ValueError(f"not a directory: {root}")
        files: dict[str, Path] = {}
        for path in sorted(root.iterdir()):
            match = _SCHEMA_FILE.match(path.name)
            if match is not None and path.is_file():
                files.setdefault(match.group(1), path)
        if not files:
            raise ValueError(f"no EU DCC schema files (<X.Y.Z>[.combined-schema].json) in {root}")
        return cls(files, engine=engine)

    def __reduce__(self) -> tuple[object, ...]:
        files = {".".join(map(str, k)): v for k, v in self._files.items()}
        return (_rebuild_schemas, (files, self._engine))

    def __repr__(self) -> str:
        return f"DccSchemas(releases={list(self.versions)}, engine={self._engine})"

    @property
    def versions(self) -> tuple[str, ...]:
        """The available releases, ascending."""
        return tuple(".".join(map(str, k)) for k in self._files)

    @property
    def engine(self) -> str:
        return self._engine

    def preload(self) -> DccSchemas:
        """Read and compile every release now (fail fast on an unreadable file); returns ``self``."""
        for key in self._files:
            self._compiled(key)
        return self

    def select(self, ver: object) -> str | None:
        """The release used for a payload whose ``ver`` is ``ver`` (see the class docstring), or None."""
        key = self._select(ver)
        return None if key is None else ".".join(map(str, key))

    def _select(self, ver: object) -> tuple[int, int, int] | None:
        wanted = _version_key(ver) if isinstance(ver, str) else None
        if wanted is None:
            return None
        if wanted in self._files:
            return wanted
        lower = [k for k in self._files if k[0] == wanted[0] and k < wanted]
        return max(lower) if lower else None

    def _compiled(self, key: tuple[int, int, int]) -> _Compiled:
        compiled = self._cache.get(key)
        if compiled is not None:
            return compiled
        with self._lock:
            compiled = self._cache.get(key)
            if compiled is None:
                path = self._files[key]
                try:
                    schema = json.loads(path.read_text(encoding="utf-8"))
                except (OSError, ValueError) as err:
                    raise ValueError(f"EU DCC schema {path.name} cannot be read") from err
                if not isinstance(schema, dict):
                    raise ValueError(f"EU DCC schema {path.name} is not a JSON object")
                compiled = _Compiled(schema)
                if self._engine in ("auto", "fastjsonschema"):
                    import fastjsonschema

                    compiled.fast = fastjsonschema.compile(
                        schema, formats=dict(_FORMATS), use_default=False, detailed_exceptions=True
                    )
                if self._engine in ("auto", "jsonschema"):
                    compiled.full = _full_validator(schema)
                self._cache[key] = compiled
        return compiled

    def check(self, dcc: Mapping[str, Any]) -> SchemaReport:
        """Check a DCC payload against the release its ``ver`` selects."""
        ver = dcc.get("ver")
        requested = ver if isinstance(ver, str) and _VERSION.match(ver) else None
        key = self._select(ver)
        if key is None:
            return SchemaReport(requested, None, ())
        compiled = self._compiled(key)
        version = ".".join(map(str, key))
        fast_issue: str | None = None
        if compiled.fast is not None:
            import fastjsonschema

            try:
                compiled.fast(dcc)
            except fastjsonschema.JsonSchemaValueException as err:
                parts = [int(p) if p.isdigit() else p for p in err.path[1:]]
                fast_issue = f"{_path(parts)}: {err.rule or 'invalid'}"
            else:
                return SchemaReport(requested, version, ())
        if compiled.full is None:
            return SchemaReport(requested, version, (fast_issue,) if fast_issue else ())
        return SchemaReport(requested, version, _issues(compiled.full, dcc))


def _message_deviations(message: CoseSign1 | None) -> list[tuple[Deviation, str]]:
    if message is None:
        return []
    found = []
    if not message.tags:
        found.append((Deviation.COSE_UNTAGGED, "COSE_Sign1"))
    elif message.tags[0] == CoseTag.CWT:
        found.append((Deviation.COSE_CWT_TAG, "COSE_Sign1"))
    if HeaderLabel.KID not in message.protected_header and HeaderLabel.KID in message.unprotected_header:
        found.append((Deviation.KID_UNPROTECTED, "COSE_Sign1"))
    return found


def _claims_deviations(claims: CwtClaims) -> list[tuple[Deviation, str]]:
    return [(Deviation.CWT_TIME_TAG if how == "tag" else Deviation.CWT_TIME_FLOAT, name)
            for name, how in claims.time_deviations]


def _rebuild_schemas(files: Mapping[str, Path], engine: Engine) -> DccSchemas:
    return DccSchemas(files, engine=engine)


def _full_validator(schema: dict[str, Any]) -> Any:
    import jsonschema

    checker = jsonschema.FormatChecker(formats=())
    for name, function in _FORMATS.items():
        checker.checks(name)(function)
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    return cls(schema, format_checker=checker)


def _path(parts: Iterable[object]) -> str:
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += "." + (str(part) if isinstance(part, str) and _SAFE_KEY.match(part) else "?")
    return out


def _issues(validator: Any, dcc: Mapping[str, Any]) -> tuple[str, ...]:
    found = set()
    for error in validator.iter_errors(dcc):
        detail = str(error.validator)
        if error.validator == "required" and isinstance(error.instance, dict):
            missing = [p for p in error.validator_value if p not in error.instance]
            detail = "required " + ",".join(p if _SAFE_KEY.match(str(p)) else "?" for p in missing)
        found.add(f"{_path(error.absolute_path)}: {detail}")
    return tuple(sorted(found))


# --------------------------------------------------------------------------------------------- normalise


class _Unmappable(ValueError):
    """The DCC cannot form a model value (the message names a field, never a value)."""


def _day(value: object, name: str) -> date:
    match = _DATE_PREFIX.match(value) if isinstance(value, str) else None
    if match is None:
        raise _Unmappable(f"{name} is not a date")
    try:
        return date.fromisoformat(match.group(1))
    except ValueError:
        raise _Unmappable(f"{name} is not a calendar date") from None


def _instant(value: object, name: str) -> datetime:
    if not isinstance(value, str):
        raise _Unmappable(f"{name} is not a date-time")
    text = value.strip()
    if not (_DATE_TIME.match(text) or _LOCAL_DATE_TIME.match(text)):
        raise _Unmappable(f"{name} is not an RFC 3339 date-time")
    if text[-1] in "Zz":
        text = text[:-1] + "+00:00"
    fraction = re.search(r"\.(\d+)", text)
    if fraction is not None:  # at most microseconds for fromisoformat; the view keeps whole minutes anyway
        text = text[: fraction.start()] + text[fraction.end():]
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise _Unmappable(f"{name} is not a valid date-time") from None
    if parsed.tzinfo is None:  # no zone: UTC, as for every other time healthpass reads
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC).replace(second=0, microsecond=0)
    except OverflowError:  # 0001-01-01T00:00+01:00 is in the year 0, 9999-12-31T23:59-01:00 in 10000
        raise _Unmappable(f"{name} is outside the supported range of dates") from None


def _count(value: object, name: str) -> int:
    if not _is_count(value):
        raise _Unmappable(f"{name} is not an integer")
    assert isinstance(value, int | float)
    return int(value)


def _vaccination(entry: Mapping[str, Any]) -> Vaccination:
    dn, sd = _count(entry.get("dn"), "v.dn"), _count(entry.get("sd"), "v.sd")
    product = entry.get("mp")
    if not isinstance(product, str):
        raise _Unmappable("v.mp is missing")
    manufacturer = entry.get("ma")
    return Vaccination(
        product=product,
        dose_number=dn,
        series_total=sd,
        date=_day(entry.get("dt"), "v.dt"),
        kind=DoseKind.BOOSTER if dn > sd else DoseKind.PRIMARY,
        manufacturer=manufacturer if isinstance(manufacturer, str) and manufacturer.strip() else None,  # "": none
        place=_place(entry.get("co")),
    )


def _place(code: object) -> str | None:
    """``co`` as an ISO alpha-3 code (a lower-case code read upper-cased); None when unknown."""
    return alpha3(_country(code)) if isinstance(code, str) else None


def _naat(entry: Mapping[str, Any]) -> NaatTest | None:
    test_type = entry.get("tt")
    if test_type != NAAT_TEST_TYPE:
        if test_type == RAT_TEST_TYPE:
            return None  # a rapid antigen test stays in the DCC part only (healthpass has no RAT model)
        raise _Unmappable("t.tt is not a known test type")
    result = _TEST_RESULTS.get(entry.get("tr"))  # type: ignore[arg-type]
    if result is None:
        raise _Unmappable("t.tr is not a known test result")
    # LP6464-4 names nucleic acid amplification, not its technique: OTHER claims no PCR it may not be.
    return NaatTest(sampled_at=_instant(entry.get("sc"), "t.sc"), result=result, test_type=NaatType.OTHER)


def _infection(entry: Mapping[str, Any]) -> Infection:
    def optional(name: str) -> date | None:
        return _day(entry[name], f"r.{name}") if name in entry else None

    return Infection(
        kind=InfectionKind.CONFIRMED,
        first_positive=_day(entry.get("fr"), "r.fr"),
        valid_from=optional("df"),
        valid_until=optional("du"),
    )


def _holder(dcc: Mapping[str, Any]) -> Holder | None:
    nam = dcc.get("nam")
    if not isinstance(nam, dict):
        return None

    def text(name: str) -> str | None:
        value = nam.get(name)
        return value.strip() if isinstance(value, str) and value.strip() else None

    fn, gn, fnt, gnt = (text(n) for n in _NAME_FIELDS)
    # ICAO Doc 9303 machine-readable order: SURNAME<<GIVEN<NAMES
    name_std = "<<".join(p for p in (fnt, gnt) if p) or None
    name = " ".join(p for p in (fn, gn) if p) or name_std
    if name is None:
        return None
    dob = dcc.get("dob")
    if isinstance(dob, str) and _has_time(dob):  # a date with a time part: the date
        dob = dob[:10]
    birth_date = dob if Holder.is_birth_date(dob) else None  # "" or not a (partial) date in 1900-2099: omitted
    return Holder(name=name, name_std=name_std, birth_date=birth_date)


def normalise(dcc: Mapping[str, Any], dcc_type: str) -> tuple[HealthPayload | None, tuple[str, ...]]:
    """healthpass's model view of a structurally valid DCC (see :func:`check_structure`).

    ``v`` -> :class:`Vaccination` (``mp`` as product text, ``ma`` manufacturer, ``dn``/``sd``, BOOSTER when
    ``dn > sd``, ``dt`` date, ``co`` as ISO alpha-3 place when known); ``t`` with ``tt`` LP6464-4 ->
    :class:`NaatTest` (``sc`` truncated to the minute in UTC, ``tr`` negative/positive; a rapid antigen test
    LP217198-3 is not represented); ``r`` -> :class:`Infection` (CONFIRMED, ``fr``, ``df``, ``du``); holder
    from ``nam`` (``fn gn`` as name, ``FNT<<GNT`` as name_std) and ``dob`` when it is a valid (partial) date.
    Of several ``v`` entries (schema 1.0.x-1.2.x), the latest dose: the latest ``dt``, then the highest ``dn``
    (the entry the EU business rules evaluate).

    Returns ``(None, (warning,))`` when the data cannot form valid model values.
    """
    entries = dcc[dcc_type]
    entry = entries[0] if len(entries) == 1 else _latest_dose(entries)
    try:
        holder = _holder(dcc)
        parts: dict[str, Any] = {"holder": holder}
        if dcc_type == "v":
            parts["vaccinations"] = (_vaccination(entry),)
        elif dcc_type == "t":
            test = _naat(entry)
            parts["naat"] = (test,) if test is not None else ()
        else:
            parts["infection"] = _infection(entry)
        return HealthPayload(**parts), ()
    except ValueError as err:  # _Unmappable or a model validator: both name the field only
        return None, (f"{WARNING_NOT_NORMALISED}: {err}",)


def _latest_dose(entries: list[Mapping[str, Any]]) -> Mapping[str, Any]:
    """The latest of several vaccination entries: latest ``dt``, then highest ``dn``, then the later in the
    array; an entry whose date or dose number cannot be read ranks below every entry whose can."""

    def rank(indexed: tuple[int, Mapping[str, Any]]) -> tuple[bool, date, float, int]:
        index, entry = indexed
        try:
            day = _day(entry.get("dt"), "v.dt")
        except _Unmappable:
            return False, date.min, 0.0, index
        dn = entry.get("dn")
        return True, day, float(dn) if isinstance(dn, int | float) and _is_count(dn) else 0.0, index

    return max(enumerate(entries), key=rank)[1]


# --------------------------------------------------------------------------------------------- interpret


def interpret(
    claims: CwtClaims,
    *,
    strict_schema: bool,
    limits: Limits,
    schemas: object | None = None,
    message: CoseSign1 | None = None,
) -> DccResult:
    """Extract, check and normalise the DCC of verified CWT claims (module docstring, steps 1-4).

    ``schemas`` is a :class:`DccSchemas` (``VerifierPolicy.dcc_schemas``) or None (structural rules only).
    ``message``: the COSE_Sign1 the claims came from, for its tolerated deviations (:class:`Deviation`).
    ``limits`` bounded the decoding already; it is accepted for symmetry with the healthpass payload codec.
    Raises DecodeError (``claims_invalid``, ``schema_invalid``; under ``strict_schema`` also for every
    tolerated deviation).
    """
    del limits  # the CBOR decoder enforced depth, item and string bounds on the claims
    if schemas is not None and not isinstance(schemas, DccSchemas):
        raise TypeError("VerifierPolicy.dcc_schemas must be a healthpass.formats.eu_dcc.DccSchemas")
    dcc = extract(claims)
    shape = _structure(dcc)
    dcc_type = shape.kind
    deviations = [*_message_deviations(message), *_claims_deviations(claims), *shape.deviations]
    if deviations and strict_schema:
        code, where = deviations[0]
        raise _schema_error(f"EU DCC deviation {code.value} at {where}"
                            + (f" and {len(deviations) - 1} more" if len(deviations) > 1 else "")
                            + " (refused under strict_schema)")
    warnings: list[str] = [f"{WARNING_DEVIATION}: {code.value}: {where}" for code, where in deviations]
    schema_version = None
    if schemas is not None:
        # the schema judges the payload as the deviations were read: null groups absent, ver as its release
        checked = dcc
        if shape.deviations:
            checked = {k: v for k, v in dcc.items() if not (k in DCC_TYPES and v is None)}
            if shape.version is not None:
                checked["ver"] = shape.version
        report = schemas.check(checked)
        schema_version = report.schema_version
        if report.schema_version is None:
            what = f"ver {report.requested}" if report.requested else "ver missing or not X.Y.Z"
            if strict_schema:
                raise _schema_error(f"no EU DCC schema release for the payload ({what})")
            warnings.append(f"{WARNING_SCHEMA_UNAVAILABLE}: {what}")
        elif report.issues:
            if strict_schema:
                raise _schema_error(
                    f"DCC deviates from EU DCC schema {report.schema_version} at {report.issues[0]}"
                    + (f" and {len(report.issues) - 1} more" if len(report.issues) > 1 else "")
                )
            shown = report.issues[:_MAX_SCHEMA_WARNINGS]
            warnings.extend(f"{WARNING_SCHEMA}: {report.schema_version}: {issue}" for issue in shown)
            if len(report.issues) > len(shown):
                warnings.append(f"{WARNING_SCHEMA}: {report.schema_version}: ... and "
                                f"{len(report.issues) - len(shown)} more")
    normalised, notes = normalise(dcc, dcc_type)
    return DccResult(dcc, dcc_type, normalised, (*warnings, *notes), schema_version)
