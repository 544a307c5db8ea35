"""The checkpoint view: a verification outcome, a profile and a language in; an immutable display model out.

What a guard sees for a second: the verdict (pass / stop / look closer) with its reason in plain words, the
status colour, the holder de-identified (:mod:`healthpass.display.mask`), the issuing region by name, the
validity, and — for a clinic-like profile — the latest NAAT and the vaccinations. Nothing else from the
payload reaches the view (no sex, nationality, exact birth date, document hash, product, facility, kid).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from enum import StrEnum
from typing import Final

from healthpass.display.i18n import Language, Messages, messages
from healthpass.display.mask import birth_year, mask_name
from healthpass.errors import ErrorCode, HealthPassError
from healthpass.model.credential import HealthPayload, HealthStatus, StatusColour
from healthpass.model.provenance import SourceFormat
from healthpass.model.regions import Region, RegionLevel
from healthpass.verify import VerifiedCredential

__all__ = [
    "CHINA_STANDARD_TIME",
    "CLINIC",
    "DEFAULT",
    "GATE",
    "CheckpointView",
    "Colour",
    "Row",
    "Verdict",
    "ViewProfile",
    "build_view",
    "region_name",
    "view_profile",
]

#: UTC+8, no daylight saving: the default time zone of dates on the view (``tz=`` chooses another).
CHINA_STANDARD_TIME: Final = timezone(timedelta(hours=8), "CST")


class Verdict(StrEnum):
    """What the guard does."""

    PASS = "pass"  # noqa: S105 - a verdict, not a password
    FAIL = "fail"
    LOOK_CLOSER = "look_closer"


class Colour(StrEnum):
    """The large status block: the health-code colour where the code has one."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"
    GREY = "grey"

    @property
    def hex(self) -> str:
        """The block's fill (``#rrggbb``)."""
        return _FILLS[self]

    @property
    def ink(self) -> str:
        """The text colour on the block (``#rrggbb``), readable against :attr:`hex`."""
        return "#1a1a1a" if self is Colour.YELLOW else "#ffffff"


_FILLS: Final = {Colour.GREEN: "#1b873f", Colour.YELLOW: "#f2c200", Colour.RED: "#c62828", Colour.GREY: "#5f6b76"}
_STATUS_COLOURS: Final = {StatusColour.GREEN: Colour.GREEN, StatusColour.YELLOW: Colour.YELLOW,
                          StatusColour.RED: Colour.RED}
#: Errors that say nothing about the code (no code was read): try again rather than turn the person away.
_RETRY_CODES: Final = frozenset({ErrorCode.NO_CODE_FOUND, ErrorCode.IMAGE_INVALID})


@dataclass(frozen=True, slots=True)
class ViewProfile:
    """Which parts a kind of checkpoint shows (the verdict, its reason and the colour always)."""

    name: str
    holder: bool = True
    validity: bool = True
    issuer: bool = True
    tests: bool = False
    vaccinations: bool = False
    warnings: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError("a view profile needs a name")


#: Verdict, colour, masked holder, issuing region, validity, warnings.
DEFAULT: Final = ViewProfile("default")
#: A gate: colour and verdict (with its reason) only.
GATE: Final = ViewProfile("gate", holder=False, validity=False, issuer=False, warnings=False)
#: A clinic: the default plus the latest NAAT and the vaccinations.
CLINIC: Final = ViewProfile("clinic", tests=True, vaccinations=True)
_GATE_WORDS: Final = frozenset({"gate", "turnstile", "entrance"})
_CLINIC_WORDS: Final = frozenset({"clinic", "hospital", "medical"})


def view_profile(name: str | ViewProfile | None) -> ViewProfile:
    """The view for a checkpoint profile name — the same name ``--profile`` gives the rule bundle.

    A name with a word ``gate`` (or ``turnstile``, ``entrance``) shows like :data:`GATE`; one with ``clinic``
    (or ``hospital``, ``medical``) like :data:`CLINIC`; any other name, and None, like :data:`DEFAULT`.
    Words are split on ``-``, ``_``, ``.`` and spaces (``station-gate``, ``clinic_entry``). A
    :class:`ViewProfile` is returned as given.
    """
    if isinstance(name, ViewProfile):
        return name
    if name is None:
        return DEFAULT
    if not isinstance(name, str):
        raise TypeError("profile must be a name, a ViewProfile or None")
    words = set(name.lower().replace("-", " ").replace("_", " ").replace(".", " ").split())
    base = GATE if words & _GATE_WORDS else CLINIC if words & _CLINIC_WORDS else DEFAULT
    return ViewProfile(name, holder=base.holder, validity=base.validity, issuer=base.issuer, tests=base.tests,
                       vaccinations=base.vaccinations, warnings=base.warnings)


@dataclass(frozen=True, slots=True)
class Row:
    """One labelled line of the view: ``key`` is stable (``holder``, ``born``, ``document``, ``issuer``,
    ``valid_until``, ``naat``, ``vaccination``), ``label`` and ``value`` are in the view's language."""

    key: str
    label: str
    value: str


@dataclass(frozen=True, slots=True)
class CheckpointView:
    """Everything a checkpoint shows, already in words of one language. Immutable; renderers only lay it out.

    ``error_code`` is the :class:`~healthpass.errors.ErrorCode` value of a rejected code (None otherwise).
    """

    language: Language
    profile: str
    verdict: Verdict
    verdict_text: str
    reason: str
    colour: Colour
    colour_text: str
    rows: tuple[Row, ...] = ()
    warnings: tuple[str, ...] = ()
    error_code: str | None = None

    def value(self, key: str) -> str | None:
        """The value of the row ``key``, or None when the view has no such row."""
        return next((row.value for row in self.rows if row.key == key), None)

    def text_lines(self) -> tuple[str, ...]:
        """The view as plain lines (verdict, reason, colour, rows, warnings): for logs, tests, screen readers."""
        lines = [self.verdict_text, self.reason, self.colour_text]
        lines += [f"{row.label}: {row.value}" for row in self.rows]
        lines += self.warnings
        return tuple(lines)


#: Traditional-script names of the province-level divisions (GB/T 2260), by two-digit prefix.
_PROVINCES_HANT: Final = {
    "11": "北京市", "12": "天津市", "13": "河北省", "14": "山西省", "15": "內蒙古自治區", "21": "遼寧省",
    "22": "吉林省", "23": "黑龍江省", "31": "上海市", "32": "江蘇省", "33": "浙江省", "34": "安徽省",
    "35": "福建省", "36": "江西省", "37": "山東省", "41": "河南省", "42": "湖北省", "43": "湖南省",
    "44": "廣東省", "45": "廣西壯族自治區", "46": "海南省", "50": "重慶市", "51": "四川省", "52": "貴州省",
    "53": "雲南省", "54": "西藏自治區", "61": "陝西省", "62": "甘肅省", "63": "青海省", "64": "寧夏回族自治區",
    "65": "新疆維吾爾自治區", "71": "臺灣省", "81": "香港特別行政區", "82": "澳門特別行政區",
}


def region_name(region: Region, language: Language | str) -> str:
    """A GB/T 2260 region by name: the province-level name, with the code for a prefecture or county."""
    lang = Language(language)
    province = region.province
    name = {Language.ZH_HANS: province.name_zh, Language.ZH_HANT: _PROVINCES_HANT[region.code[:2]],
            Language.EN: province.name_en}[lang]
    if region.level is RegionLevel.PROVINCE:
        return name
    return messages(lang).text("value.region_part", province=name, code=region.code)


def _error_view(error: HealthPassError, msgs: Messages, profile: ViewProfile) -> CheckpointView:
    code = error.code.value
    reason = msgs.text(f"error.{code}") if msgs.has(f"error.{code}") else msgs.text("error.unknown")
    retry = error.code in _RETRY_CODES
    verdict = Verdict.LOOK_CLOSER if retry else Verdict.FAIL
    colour = Colour.GREY if retry else Colour.RED
    return CheckpointView(
        language=msgs.language, profile=profile.name, verdict=verdict, verdict_text=msgs.text(f"verdict.{verdict}"),
        reason=reason, colour=colour, colour_text=msgs.text("status.unread" if retry else "status.rejected"),
        error_code=code,
    )


def _judge(credential: VerifiedCredential) -> tuple[Verdict, str, Colour]:
    """Verdict, reason id and colour of a verified credential."""
    payload = credential.payload
    status: HealthStatus | None = payload.status if payload is not None else None
    if status is None:
        if credential.rules:  # the checkpoint's rules were applied and all passed
            verdict, reason, colour = Verdict.PASS, "reason.rules_passed", Colour.GREEN
        else:
            verdict, reason, colour = Verdict.LOOK_CLOSER, "reason.no_status", Colour.GREY
    elif status.is_extension:
        verdict, reason, colour = Verdict.LOOK_CLOSER, "reason.extension", Colour.GREY
    elif status.colour is StatusColour.PENDING:
        verdict, reason, colour = Verdict.LOOK_CLOSER, "reason.pending", Colour.GREY
    elif status.colour is StatusColour.GREEN:
        verdict = Verdict.PASS
        reason = "reason.rules_passed" if credential.rules else "reason.green"
        colour = Colour.GREEN
    else:
        colour = _STATUS_COLOURS[StatusColour(status.colour)]
        verdict, reason = Verdict.FAIL, f"reason.{colour}"
    if verdict is Verdict.PASS and credential.warnings:
        verdict, reason = Verdict.LOOK_CLOSER, "reason.warnings"
    return verdict, reason, colour


def _warning_text(warning: str, msgs: Messages) -> str:
    """A warning in plain words: by its name (the part before ``:``), never its detail (which may quote data)."""
    name = warning.split(":", 1)[0].strip()
    msgid = f"warning.{name}"
    return msgs.text(msgid) if msgs.has(msgid) else msgs.text("warning.unknown")


def _holder_rows(payload: HealthPayload, msgs: Messages) -> list[Row]:
    holder = payload.holder
    if holder is None:
        return []
    lang = msgs.language
    name = holder.name if lang.is_chinese or not holder.name_std else holder.name_std
    rows = [Row("holder", msgs.text("label.holder"), mask_name(name))]
    year = birth_year(holder.birth_date)
    if year is not None:
        rows.append(Row("born", msgs.text("label.born"), msgs.text("value.born", year=year)))
    document = holder.document
    if document is not None and document.number_hint is not None:
        kind = msgs.text(f"document.{document.document_type.name.lower()}")
        rows.append(Row("document", msgs.text("label.document"),
                        msgs.text("value.document", type=kind, hint=document.number_hint)))
    return rows


def _issuer_row(credential: VerifiedCredential, msgs: Messages) -> list[Row]:
    rows = []
    name = _origin_name(credential.issuer, hp1=credential.issuer_region is not None, msgs=msgs)
    if name is not None:
        rows.append(Row("issuer", msgs.text("label.issuer"), name))
    source = credential.transcoded_from
    if source is not None:  # a code re-issued locally from a foreign one: say where it came from
        origin = _origin_name(source.origin, hp1=source.format is SourceFormat.HP1, msgs=msgs)
        rows.append(Row("transcoded_from", msgs.text("label.transcoded_from"),
                        msgs.text("value.transcoded_from", origin=origin or "?", format=source.format.value)))
    return rows


def _origin_name(code: str | None, *, hp1: bool, msgs: Messages) -> str | None:
    """A healthpass region or an EU country by name; None when it is neither."""
    if code is None:
        return None
    if hp1:
        try:
            return region_name(Region(code), msgs.language)
        except ValueError:
            return None
    if len(code) == 2 and code.isascii() and code.isalpha():
        return msgs.territory(code.upper()) or code.upper()
    return None


def _record_rows(payload: HealthPayload, msgs: Messages, now: datetime, profile: ViewProfile) -> list[Row]:
    rows = []
    if profile.tests and payload.naat:
        latest = max(payload.naat, key=lambda t: t.sampled_at)
        result = msgs.text(f"result.{latest.result.name.lower()}")
        rows.append(Row("naat", msgs.text("label.naat"),
                        msgs.text("value.naat", result=result, relative=msgs.relative(latest.sampled_at - now))))
    if profile.vaccinations and payload.vaccinations:
        last = max(payload.vaccinations, key=lambda v: (v.date, v.dose_number))
        day = msgs.date(last.date)
        value = (msgs.text("value.vaccination_one", date=day) if last.dose_number == 1
                 else msgs.text("value.vaccination", doses=str(last.dose_number), date=day))
        rows.append(Row("vaccination", msgs.text("label.vaccination"), value))
    return rows


def build_view(
    outcome: VerifiedCredential | HealthPassError,
    *,
    now: datetime,
    language: Language | str = Language.ZH_HANS,
    profile: str | ViewProfile | None = None,
    tz: tzinfo = CHINA_STANDARD_TIME,
) -> CheckpointView:
    """The checkpoint view of one verification outcome.

    ``outcome`` is what :meth:`healthpass.Verifier.verify` returned or raised (a
    :class:`~healthpass.verify.VerifiedCredential` or a :class:`~healthpass.errors.HealthPassError`, e.g. a
    ``ScanError`` from reading the picture). ``now`` (timezone-aware) is the time the relative phrases count
    from — time is an input; ``tz`` the zone dates are shown in; ``profile`` a checkpoint profile name
    (:func:`view_profile`) or a :class:`ViewProfile`. Raises ``TypeError``/``ValueError`` on misuse only.
    """
    if not isinstance(now, datetime) or now.tzinfo is None:
        raise ValueError("now must be a timezone-aware datetime")
    msgs = messages(language)
    chosen = view_profile(profile)
    if isinstance(outcome, HealthPassError):
        return _error_view(outcome, msgs, chosen)
    if not isinstance(outcome, VerifiedCredential):
        raise TypeError("outcome must be a VerifiedCredential or a HealthPassError")
    verdict, reason, colour = _judge(outcome)
    rows: list[Row] = []
    payload = outcome.payload
    if chosen.holder and payload is not None:
        rows += _holder_rows(payload, msgs)
    if chosen.issuer:
        rows += _issuer_row(outcome, msgs)
    if chosen.validity and outcome.expires_at is not None:
        rows.append(Row("valid_until", msgs.text("label.valid_until"),
                        msgs.text("value.valid_until", date=msgs.datetime(outcome.expires_at, tz),
                                  relative=msgs.relative(outcome.expires_at - now))))
    if payload is not None:
        rows += _record_rows(payload, msgs, now, chosen)
    warnings = tuple(dict.fromkeys(_warning_text(w, msgs) for w in outcome.warnings)) if chosen.warnings else ()
    return CheckpointView(
        language=msgs.language, profile=chosen.name, verdict=verdict, verdict_text=msgs.text(f"verdict.{verdict}"),
        reason=msgs.text(reason), colour=colour, colour_text=msgs.text(f"colour.{colour}"), rows=tuple(rows),
        warnings=warnings,
    )
