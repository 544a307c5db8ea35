"""Time: the one place where datetimes, NumericDates and ISO 8601 text are checked and converted.

The time policy, one for the library and the command line (README, "Times"):

- **Datetimes given to the API are timezone-aware.** A naive datetime (no ``tzinfo``) is refused with
  ValueError naming the parameter, at every entry point (``Issuer.issue(now=)``, ``TrustList.build(now=)``,
  ``Verifier.verify(at=)``, rule bundles, ``IssuerKey`` windows, ...): healthpass never guesses whether it
  meant local time or UTC. Anything that is not a datetime is a TypeError.
- **Times read from text carry a zone** (``Z`` or an offset such as ``+08:00``): credential JSON, trust-list
  manifests, rule files, ``--at``. Text without a zone is refused with a message that says so. (Inside
  signed EU certificates, the EU adapter reads the EU's own date-time forms as EU verifiers do: that is
  foreign signed data, not healthpass input, see ``formats/eu_dcc.py``.)
- Values come out in UTC. Datetime's own range (years 1 to 9999) bounds every conversion: a value outside
  it is a ValueError, never an OverflowError.

Standard library only; no clock (callers that default to "now" read it themselves).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

__all__ = [
    "EARLIEST",
    "EARLIEST_SECOND",
    "EPOCH",
    "LATEST",
    "LATEST_SECOND",
    "aware",
    "format_iso",
    "from_numeric_date",
    "optional_numeric_date",
    "parse_iso",
    "to_numeric_date",
]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: The first and last instants a datetime can hold, in UTC.
EARLIEST = datetime.min.replace(tzinfo=UTC)
LATEST = datetime.max.replace(tzinfo=UTC)
_SECOND = timedelta(seconds=1)
#: The NumericDates (seconds since the epoch) of the first and last whole seconds of years 1 to 9999.
EARLIEST_SECOND = (EARLIEST - EPOCH) // _SECOND
LATEST_SECOND = (LATEST - EPOCH) // _SECOND

#: fromtimestamp is exact on every platform from 1970 to 3000 (Windows refuses earlier and later ones)
_FROMTIMESTAMP_LIMIT = 32503680000
_RANGE = "outside the supported range of dates (years 1 to 9999 in UTC)"

# date, separator, hh:mm[:ss[.fraction]], zone; each part checked for its range by datetime itself
_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?"
    r"([Zz]|[+-]\d{2}(?::?\d{2})?)?)?",
    re.ASCII,
)


def aware(value: object, name: str) -> datetime:
    """``value`` in UTC. TypeError when it is not a datetime, ValueError (naming ``name``) when it is naive or
    cannot be expressed in UTC within years 1 to 9999."""
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(value).__name__}")
    if value.utcoffset() is None:
        raise ValueError(
            f"{name} is a naive datetime: give it a time zone (e.g. datetime.now(UTC), or tzinfo="
            "ZoneInfo('Asia/Shanghai')); healthpass does not guess between local time and UTC"
        )
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{name} is {_RANGE}") from None


def optional_numeric_date(seconds: int | None) -> datetime | None:
    """:func:`from_numeric_date`, passing None (an absent claim) through."""
    return None if seconds is None else from_numeric_date(seconds)


def to_numeric_date(value: datetime, name: str = "time") -> int:
    """Whole seconds since 1970-01-01T00:00:00Z (floored) of an aware datetime (see :func:`aware`)."""
    return (aware(value, name) - EPOCH) // _SECOND


def from_numeric_date(seconds: int, name: str = "NumericDate") -> datetime:
    """The UTC datetime of a NumericDate (integer seconds since the epoch). TypeError for a non-integer,
    ValueError outside years 1 to 9999."""
    if type(seconds) is int:
        if 0 <= seconds < _FROMTIMESTAMP_LIMIT:  # every code's times: fromtimestamp is ~0.4 µs faster per call
            return datetime.fromtimestamp(seconds, UTC)
        if EARLIEST_SECOND <= seconds <= LATEST_SECOND:
            return EPOCH + timedelta(seconds=seconds)  # exact on every platform (fromtimestamp is not)
    else:
        raise TypeError(f"{name} must be an int, not {type(seconds).__name__}")
    raise ValueError(f"{name} {seconds} is {_RANGE}")


def parse_iso(text: object, *, name: str = "time", whole_minutes: bool = False) -> datetime:
    """An ISO 8601 / RFC 3339 date-time with its zone, in UTC.

    Accepts ``YYYY-MM-DDThh:mm[:ss[.fraction]]`` (``T``, ``t`` or a space; up to nine fractional digits,
    kept to the microsecond) followed by ``Z`` or an offset ``+hh:mm``, ``+hhmm``, ``+hh``. Raises ValueError
    naming ``name`` and the one problem found: not a date-time, no zone (a bare date included), seconds
    where ``whole_minutes`` are required, a field or the result out of range. Messages never repeat the
    text (it may be personal data).
    """
    if not isinstance(text, str):
        raise ValueError(f"{name} must be an ISO 8601 date-time string")
    match = _ISO.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{name} is not an ISO 8601 date-time (YYYY-MM-DDThh:mm with Z or an offset)")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    if zone is None:
        what = "a date without a time and time zone" if hour is None else "a date-time without a time zone"
        raise ValueError(f"{name} is {what}: add Z for UTC or an offset such as +08:00")
    if whole_minutes and (int(second or 0) or int(fraction or 0)):
        raise ValueError(f"{name} must be in whole minutes: it has seconds (write hh:mm or hh:mm:00)")
    try:
        offset = _offset(zone)
        parsed = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0),
                          int((fraction or "0")[:6].ljust(6, "0")), tzinfo=offset)
    except ValueError:
        raise ValueError(f"{name} is not a valid date-time (a field is out of range)") from None
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{name} is {_RANGE}") from None


def _offset(zone: str) -> timezone:
    if zone in "Zz":
        return UTC
    digits = zone[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        raise ValueError("offset out of range")
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if zone[0] == "-" else delta)


def format_iso(value: datetime, name: str = "time") -> str:
    """ISO 8601 in UTC with a ``Z`` (``2026-11-25T12:00:00Z``; microseconds only when present)."""
    return aware(value, name).replace(tzinfo=None).isoformat() + "Z"
