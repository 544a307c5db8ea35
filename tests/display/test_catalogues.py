"""issue 19: the message catalogues are complete — every error code and warning, in every language."""

from __future__ import annotations

import importlib
import io
import pkgutil
import re
import string

import pytest

import healthpass
from healthpass.display import Language, messages
from healthpass.display.i18n import DOMAIN, _po_text, catalogue_ids
from healthpass.errors import ErrorCode

_OPTIONAL = {"healthpass.signers.pkcs11"}  # needs python-pkcs11 (installed in dev; skipped elsewhere)


def warning_constants() -> dict[str, str]:
    """Every ``WARNING_*`` string constant of every healthpass module: new warnings are found by themselves."""
    found: dict[str, str] = {}
    for info in pkgutil.walk_packages(healthpass.__path__, "healthpass."):
        if info.name.startswith("healthpass.display") or info.name.endswith("__main__"):
            continue
        try:
            module = importlib.import_module(info.name)
        except ImportError:
            if info.name in _OPTIONAL:
                continue
            raise
        for name, value in vars(module).items():
            if name.startswith("WARNING_") and isinstance(value, str):
                found[f"{info.name}.{name}"] = value
    return found


def test_issue19_warning_constants_are_found() -> None:
    found = warning_constants()
    assert found["healthpass.verify.WARNING_TRUST_LIST_STALE"] == "trust_list_stale"
    assert "dcc_schema" in found.values()


@pytest.mark.parametrize("language", list(Language))
def test_issue19_catalogue_has_every_error_code(language: Language) -> None:
    msgs = messages(language)
    missing = [code.value for code in ErrorCode if not msgs.has(f"error.{code.value}")]
    assert not missing, f"{language}: no message for {missing}"


@pytest.mark.parametrize("language", list(Language))
def test_issue19_catalogue_has_every_warning(language: Language) -> None:
    msgs = messages(language)
    missing = sorted({value for value in warning_constants().values() if not msgs.has(f"warning.{value}")})
    assert not missing, f"{language}: no message for warnings {missing}"


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_issue19_catalogues_agree() -> None:
    """Same ids everywhere, no empty or fuzzy entry, the same {placeholders} as English, no markup."""
    english = catalogue_ids(Language.EN)
    for language in Language:
        ids = catalogue_ids(language)
        assert set(ids) == set(english), (language, set(ids) ^ set(english))
        for msgid, text in ids.items():
            assert text.strip(), (language, msgid)
            assert _fields(text) == _fields(english[msgid]), (language, msgid)
            assert not re.search(r"[<>&\x00-\x1f]", text), (language, msgid)
        po = _po_text(language).decode("utf-8")
        assert "#, fuzzy" not in po


def test_issue19_catalogues_compile_with_babel() -> None:
    """The .po files compile with Babel's tooling (what the package does in memory at first use)."""
    from babel.messages.mofile import read_mo, write_mo
    from babel.messages.pofile import read_po

    for language in Language:
        catalog = read_po(io.BytesIO(_po_text(language)), locale=language.babel_locale, domain=DOMAIN)
        assert not list(catalog.check())  # Babel's own checkers (python-format and the like)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        assert len(read_mo(buffer)) == len(catalog)


def test_issue19_chinese_catalogues_are_chinese() -> None:
    """Each Chinese message holds Chinese (a copied English string would slip through a completeness check)."""
    han = re.compile(r"[\u4e00-\u9fff]")
    for language in (Language.ZH_HANS, Language.ZH_HANT):
        ids = catalogue_ids(language)
        # a message is Chinese, or a pure template (placeholders and punctuation only, as value.valid_until)
        english = [msgid for msgid, text in ids.items()
                   if not han.search(text) and re.search(r"[A-Za-z]", re.sub(r"\{\w+\}", "", text))]
        assert english == [], (language, english)
    simplified, traditional = catalogue_ids(Language.ZH_HANS), catalogue_ids(Language.ZH_HANT)
    assert simplified["error.expired"] != traditional["error.expired"]
