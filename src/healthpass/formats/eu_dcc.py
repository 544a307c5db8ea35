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
a compiled fastjsonschema validator decides a conforming payload in about 14 µs against 190-480 µs for a
cached jsonschema validator; a payload it rejects is re-checked with jsonschema, the reference, which also
lists every deviation (see ``docs/eu-dcc.md``).
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
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from healthpass.errors import DecodeError, ErrorCode, Stage
from healthpass.model.cose import ClaimKey, CwtClaims
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
    "WARNING_NOT_NORMALISED",
    "WARNING_SCHEMA",
    "WARNING_SCHEMA_UNAVAILABLE",
    "DccResult",
    "DccSchemas",
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

_HCERT_DCC_KEY = 1
#: At most this many schema deviations are listed as warnings (then one ``... and N more``).
_MAX_SCHEMA_WARNINGS = 12
#: EU value set ``covid-19-lab-result``.
_TEST_RESULTS = {"260415000": TestResult.NEGATIVE, "260373001": TestResult.POSITIVE}
_VERSION = re.compile(r"\A(\d{1,4})\.(\d{1,4})\.(\d{1,4})\Z")
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

    Raises DecodeError(``schema_invalid``).
    """
    if not _json_value(dcc):
        raise _schema_error("the DCC is not a JSON value (byte string, or a map key that is not text)")
    groups = []
    for kind in DCC_TYPES:
        if kind not in dcc:
            continue
        if type(dcc[kind]) is not list:
            raise _schema_error(f"DCC {kind} must be an array")
        if dcc[kind]:
            groups.append(kind)
    if len(groups) != 1:
        raise _schema_error(f"a DCC holds exactly one non-empty of v, t, r (found {len(groups)})")
    kind = groups[0]
    entries = dcc[kind]
    if len(entries) != 1 or type(entries[0]) is not dict:
        raise _schema_error(f"DCC {kind} must hold exactly one entry, a map")
    entry = entries[0]
    for name in _ENTRY_TEXT_FIELDS[kind]:
        if name in entry and type(entry[name]) is not str:
            raise _schema_error(f"DCC {kind}[0].{name} must be text")
    if kind == "v":
        for name in ("dn", "sd"):
            if name in entry and not _is_count(entry[name]):
                raise _schema_error(f"DCC v[0].{name} must be an integer")
    if "nam" in dcc:
        nam = dcc["nam"]
        if type(nam) is not dict:
            raise _schema_error("DCC nam must be a map")
        for name in _NAME_FIELDS:
            if name in nam and type(nam[name]) is not str:
                raise _schema_error(f"DCC nam.{name} must be text")
    for name in ("dob", "ver"):
        if name in dcc and type(dcc[name]) is not str:
            raise _schema_error(f"DCC {name} must be text")
    return kind


# ------------------------------------------------------------------------------------------------ schemas


def _version_key(text: str) -> tuple[int, int, int] | None:
    match = _VERSION.match(text)
    if match is None:
        return None
    major, minor, patch = match.groups()
    return int(major), int(minor), int(patch)


def _check_date(value: object) -> bool:
    """JSON Schema ``date`` (RFC 3339 full-date): ``YYYY-MM-DD``, a calendar date."""
    if not isinstance(value, str):
        return True
    match = _DATE.match(value)
    if match is None:
        return False
    try:
        date(*map(int, match.groups()))
    except ValueError:
        return False
    return True


def _check_date_time(value: object) -> bool:
    """JSON Schema ``date-time`` (RFC 3339 date-time, with a zone offset), with valid field ranges."""
    if not isinstance(value, str):
        return True
    match = _DATE_TIME.match(value)
    if match is None:
        return False
    year, month, day, hour, minute, second, _, _, off_h, off_m = match.groups()
    try:
        date(int(year), int(month), int(day))
    except ValueError:
        return False
    # second 60 is a leap second (RFC 3339 §5.7)
    if int(hour) > 23 or int(minute) > 59 or int(second) > 60:
        return False
    return off_h is None or (int(off_h) <= 23 and int(off_m) <= 59)


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
        place=alpha3(entry.get("co")),
    )


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
    birth_date = dob if Holder.is_birth_date(dob) else None  # "" or not a (partial) date in 1900-2099: omitted
    return Holder(name=name, name_std=name_std, birth_date=birth_date)


def normalise(dcc: Mapping[str, Any], dcc_type: str) -> tuple[HealthPayload | None, tuple[str, ...]]:
    """healthpass's model view of a structurally valid DCC (see :func:`check_structure`).

    ``v`` -> :class:`Vaccination` (``mp`` as product text, ``ma`` manufacturer, ``dn``/``sd``, BOOSTER when
    ``dn > sd``, ``dt`` date, ``co`` as ISO alpha-3 place when known); ``t`` with ``tt`` LP6464-4 ->
    :class:`NaatTest` (``sc`` truncated to the minute in UTC, ``tr`` negative/positive; a rapid antigen test
    LP217198-3 is not represented); ``r`` -> :class:`Infection` (CONFIRMED, ``fr``, ``df``, ``du``); holder
    from ``nam`` (``fn gn`` as name, ``FNT<<GNT`` as name_std) and ``dob`` when it is a valid (partial) date.

    Returns ``(None, (warning,))`` when the data cannot form valid model values.
    """
    entry = dcc[dcc_type][0]
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


# --------------------------------------------------------------------------------------------- interpret


def interpret(
    claims: CwtClaims,
    *,
    strict_schema: bool,
    limits: Limits,
    schemas: object | None = None,
) -> DccResult:
    """Extract, check and normalise the DCC of verified CWT claims (module docstring, steps 1-4).

    ``schemas`` is a :class:`DccSchemas` (``VerifierPolicy.dcc_schemas``) or None (structural rules only).
    ``limits`` bounded the decoding already; it is accepted for symmetry with the healthpass payload codec.
    Raises DecodeError (``claims_invalid``, ``schema_invalid``).
    """
    del limits  # the CBOR decoder enforced depth, item and string bounds on the claims
    if schemas is not None and not isinstance(schemas, DccSchemas):
        raise TypeError("VerifierPolicy.dcc_schemas must be a healthpass.formats.eu_dcc.DccSchemas")
    dcc = extract(claims)
    dcc_type = check_structure(dcc)
    warnings: list[str] = []
    schema_version = None
    if schemas is not None:
        report = schemas.check(dcc)
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
