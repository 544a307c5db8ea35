"""Message catalogues and locale formatting for the checkpoint view (the only Babel import).

The catalogues are gettext ``.po`` files kept in the repository beside this module
(``locale/<lang>/LC_MESSAGES/healthpass.po``). They are compiled on first use, in memory, with Babel's own
tooling (``read_po`` then ``write_mo``) into a standard :class:`gettext.GNUTranslations`: no ``.mo`` file is
generated at build time, none is cached on disk, and a source tree, an editable install and a wheel behave
the same. Each catalogue is compiled once per process (memoised per language; the compiled catalogue is
never mutated).

Message ids are symbolic (``verdict.pass``, ``error.expired``, ``warning.trust_list_stale``): a missing
translation is detectable (gettext returns the id) and ``tests/display/test_catalogues.py`` holds every
catalogue complete for every :class:`~healthpass.errors.ErrorCode` and warning constant.

Dates, times and durations are formatted for the locale by Babel (CLDR data).
"""

from __future__ import annotations

import functools
import gettext
import io
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum
from importlib import resources
from typing import Final

from babel import Locale
from babel.dates import format_skeleton, format_time
from babel.lists import format_list
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.units import format_unit

__all__ = [
    "DOMAIN",
    "Language",
    "Messages",
    "catalogue_ids",
    "messages",
]

#: The gettext domain: ``locale/<lang>/LC_MESSAGES/healthpass.po``.
DOMAIN: Final = "healthpass"


class Language(StrEnum):
    """The languages of the checkpoint view (BCP 47 tags, as ``--lang`` takes them)."""

    ZH_HANS = "zh-Hans"
    ZH_HANT = "zh-Hant"
    EN = "en"

    @property
    def babel_locale(self) -> str:
        """The CLDR locale used for dates and durations."""
        return _BABEL_LOCALES[self]

    @property
    def folder(self) -> str:
        """The catalogue's folder name under ``locale/``."""
        return self.value.replace("-", "_")

    @property
    def is_chinese(self) -> bool:
        return self is not Language.EN


_BABEL_LOCALES: Final = {Language.ZH_HANS: "zh_Hans_CN", Language.ZH_HANT: "zh_Hant_TW", Language.EN: "en"}
_SECONDS_PER = (("duration-day", 86400), ("duration-hour", 3600), ("duration-minute", 60))


def _po_text(language: Language) -> bytes:
    path = resources.files("healthpass.display") / "locale" / language.folder / "LC_MESSAGES" / f"{DOMAIN}.po"
    return path.read_bytes()


def catalogue_ids(language: Language) -> dict[str, str]:
    """``{msgid: msgstr}`` of a language's ``.po`` file as written (for the completeness tests and tools)."""
    catalog = read_po(io.BytesIO(_po_text(language)), locale=language.babel_locale)
    return {str(m.id): str(m.string) for m in catalog if m.id and not isinstance(m.id, tuple)}


@functools.cache  # one compiled catalogue per language (three at most), never mutated
def _compiled(language: Language) -> gettext.GNUTranslations:
    catalog = read_po(io.BytesIO(_po_text(language)), locale=language.babel_locale, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


class Messages:
    """One language's messages and locale formatting. Obtain with :func:`messages`."""

    __slots__ = ("_locale", "_translations", "language")

    def __init__(self, language: Language) -> None:
        self.language = language
        self._translations = _compiled(language)
        self._locale = Locale.parse(language.babel_locale)

    def has(self, msgid: str) -> bool:
        """Whether the catalogue translates ``msgid``."""
        return self._translations.gettext(msgid) != msgid

    def text(self, msgid: str, /, **values: str) -> str:
        """The message ``msgid`` with ``{name}`` placeholders filled (``KeyError`` for an unknown id)."""
        template = self._translations.gettext(msgid)
        if template == msgid:
            raise KeyError(msgid)
        return template.format(**values) if values else template

    def datetime(self, value: datetime, tz: tzinfo) -> str:
        """A date and a 24-hour time in the locale's order (``2026年11月28日 20:00``, ``Nov 28, 2026 20:00``)."""
        local = value.astimezone(tz)
        day = format_skeleton("yMMMd", local, locale=self._locale)
        clock = format_time(local, "HH:mm", locale=self._locale)
        pattern = self._locale.datetime_formats["medium"]
        return str(pattern).replace("{1}", day).replace("{0}", clock)

    def date(self, value: date) -> str:
        """A calendar date (``2022年1月10日``, ``Jan 10, 2022``)."""
        return format_skeleton("yMMMd", value, locale=self._locale)

    def duration(self, span: timedelta) -> str:
        """The two largest units of a span, narrow (``2天3小时``, ``2d 3h``); at least ``1m`` (``1分钟``)."""
        seconds = max(int(abs(span.total_seconds())), 0)
        parts: list[tuple[str, int]] = []
        for unit, size in _SECONDS_PER:
            count, seconds = divmod(seconds, size)
            if count or parts:
                parts.append((unit, count))
        parts = [p for p in parts[:2] if p[1]] or [("duration-minute", 0 if span == timedelta(0) else 1)]
        texts = [format_unit(count, unit, length="narrow", locale=self._locale) for unit, count in parts]
        return format_list(texts, style="unit-narrow", locale=self._locale)

    def relative(self, span: timedelta) -> str:
        """``in 2d 3h`` for a future span, ``26h ago`` for a past one (the catalogue's words)."""
        duration = self.duration(span)
        return self.text("time.in" if span >= timedelta(0) else "time.ago", duration=duration)

    def territory(self, code: str) -> str | None:
        """A country's name in this language (ISO 3166-1 alpha-2), or None when CLDR has none."""
        name = self._locale.territories.get(code)
        return str(name) if name else None


@functools.cache  # immutable per language
def messages(language: Language | str) -> Messages:
    """The :class:`Messages` of a language (``ValueError`` for a language without a catalogue)."""
    return Messages(Language(language))
