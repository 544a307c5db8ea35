# ruff: noqa: RUF001  (Chinese punctuation in expected texts is intended)
"""issue 19: the checkpoint view — verdict, colour, minimised holder, region, validity, records, warnings."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from healthpass.display import (
    CLINIC,
    DEFAULT,
    GATE,
    CheckpointView,
    Colour,
    Language,
    Verdict,
    ViewProfile,
    birth_year,
    build_view,
    mask_name,
    region_name,
    render_html,
    render_svg,
    render_terminal,
    view_profile,
)
from healthpass.errors import ErrorCode, HealthPassError, ScanError, Stage, VerificationError
from healthpass.model.regions import Region
from healthpass.signers import SoftwareSigner
from healthpass.verify import Verifier

from ..conftest import NOW
from ._build import issue, sample, verified

ALL = tuple(Language)


def everything(view: CheckpointView) -> str:
    """Every rendering of a view, as one text to search."""
    return "\n".join([*view.text_lines(), render_svg(view), render_svg(view, width=800, height=480),
                      render_html(view), render_terminal(view), repr(view)])


@pytest.mark.parametrize(("name", "masked"), [
    ("张三", "张*"), ("张小三", "张*三"), ("欧阳娜娜", "欧**娜"), ("爱新觉罗溥仪", "爱**仪"),
    ("ZHANG SAN", "Z*** S**"), ("ZHANG XIAOSAN", "Z*** X***"), ("阿依古丽·买买提", "阿**提"),
    ("张 三", "张*"), ("张　小　三", "张*三"), ("张·三", "张*"), ("李 X", "李* *"), ("LI X", "L* *"), ("X LI", "X* L*"),
    ("John  Smith", "J*** S***"), ("张", "*"), ("Li", "L*"), ("", "*"),
    ("张\u202e三", "张*"), ("Z\x1bHANG", "Z***"),
])
def test_issue19_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_issue19_birth_year_at_most() -> None:
    assert birth_year("1980-05-17") == "1980"
    assert birth_year("1980-05") == "1980"
    assert birth_year("1980") == "1980"
    assert birth_year(None) is None
    assert birth_year("19x0") is None


def test_issue19_green_default_view(es_signer: SoftwareSigner) -> None:
    credential = verified(es_signer, sample(holder={**sample()["holder"], "name": "张小三"}))
    view = build_view(credential, now=NOW, language="zh-Hans")
    assert view.verdict is Verdict.PASS and view.colour is Colour.GREEN
    assert (view.verdict_text, view.colour_text, view.reason) == ("通过", "绿码", "有效，健康码为绿码")
    assert [r.key for r in view.rows] == ["holder", "born", "document", "issuer", "valid_until"]
    assert view.value("holder") == "张*三"
    assert view.value("born") == "1980年"
    assert view.value("document") == "居民身份证 63*12"
    assert view.value("issuer") == "青海省"
    assert view.value("valid_until") == "2026年11月28日 20:00（3天后）"
    en = build_view(credential, now=NOW, language="en")
    assert en.value("holder") == "Z*** S**" and en.value("issuer") == "Qinghai"
    assert en.value("valid_until") == "Nov 28, 2026, 20:00 (in 3d)"
    hant = build_view(credential, now=NOW, language="zh-Hant")
    assert (hant.verdict_text, hant.colour_text, hant.value("document")) == ("通過", "綠碼", "居民身份證 63*12")


def test_issue19_nothing_else_from_the_payload(es_signer: SoftwareSigner) -> None:
    """Name, birth date, sex, nationality, facility, product, places, kid, id: none reach any rendering."""
    credential = verified(es_signer, sample(holder={**sample()["holder"], "name": "张小三"}))
    secrets = ["张小三", "ZHANG", "SAN ", "05-17", "1980-05", "CHN", "male", "Xining", "coronavac", "CoronaVac",
               "bbibp", "630100", credential.kid.hex(), (credential.credential_id or b"").hex() or "-none-",
               "routine", "asymptomatic", "igg", "IgG", "low"]
    for language in ALL:
        for profile in (DEFAULT, GATE, CLINIC):
            text = everything(build_view(credential, now=NOW, language=language, profile=profile))
            leaked = [s for s in secrets if s in text]
            assert not leaked, (language, profile.name, leaked)


def test_issue19_profiles_decide_what_is_shown(es_signer: SoftwareSigner) -> None:
    credential = verified(es_signer, sample())
    gate = build_view(credential, now=NOW, language="en", profile="gate")
    assert gate.rows == () and gate.verdict is Verdict.PASS and gate.profile == "gate"
    clinic = build_view(credential, now=NOW, language="en", profile="clinic")
    assert [r.key for r in clinic.rows] == ["holder", "born", "document", "issuer", "valid_until", "naat",
                                            "vaccination"]
    assert view_profile("station-gate").holder is False
    assert view_profile("hospital_entrance").holder is False  # a gate word wins: the least shown
    assert view_profile("clinic-b").tests is True
    assert view_profile("venue-basic") == dataclasses.replace(DEFAULT, name="venue-basic")
    assert view_profile(None) is DEFAULT
    custom = ViewProfile("lab", holder=False, validity=False, issuer=False, tests=True)
    assert [r.key for r in build_view(credential, now=NOW, profile=custom).rows] == ["naat"]
    with pytest.raises(TypeError):
        view_profile(3)  # type: ignore[arg-type]


def test_issue19_validity_in_days_and_hours(es_signer: SoftwareSigner) -> None:
    credential = verified(es_signer, sample(), valid_for=timedelta(days=2, hours=3, minutes=20))
    assert build_view(credential, now=NOW, language="en").value("valid_until") == "Nov 27, 2026, 23:20 (in 2d 3h)"
    assert build_view(credential, now=NOW, language="zh-Hans").value("valid_until") == \
        "2026年11月27日 23:20（2天3小时后）"
    later = build_view(credential, now=NOW + timedelta(days=2, hours=3, minutes=10), language="en")
    assert later.value("valid_until").endswith("(in 10m)")


def test_issue19_naat_latest_and_how_long_ago(es_signer: SoftwareSigner) -> None:
    naat = [{"sampled_at": "2026-11-23T09:30:00+08:00", "result": "positive", "type": "pcr"},
            {"sampled_at": "2026-11-24T18:00:00+08:00", "result": "negative", "type": "pcr"}]
    credential = verified(es_signer, sample(naat=naat))
    clinic = build_view(credential, now=NOW, language="en", profile="clinic")
    assert clinic.value("naat") == "Negative, sampled 1d 2h ago"
    assert build_view(credential, now=NOW, language="zh-Hans", profile="clinic").value("naat") == \
        "阴性，采样于1天2小时前"


def test_issue19_vaccination_doses_and_latest(es_signer: SoftwareSigner) -> None:
    credential = verified(es_signer, sample())
    assert build_view(credential, now=NOW, language="en", profile="clinic").value("vaccination") == \
        "3 doses, latest Jan 10, 2022"
    one = [{"product": "coronavac", "dose_number": 1, "series_total": 2, "kind": "primary", "date": "2021-06-01"}]
    assert build_view(verified(es_signer, sample(vaccinations=one)), now=NOW, language="zh-Hant",
                      profile="clinic").value("vaccination") == "已接種1劑，2021年6月1日"


@pytest.mark.parametrize(("colour", "verdict", "shown", "reason"), [
    ("yellow", Verdict.FAIL, Colour.YELLOW, "Health code yellow: entry restricted"),
    ("red", Verdict.FAIL, Colour.RED, "Health code red: no entry"),
    ("pending", Verdict.LOOK_CLOSER, Colour.GREY, "Health code status pending"),
    (17, Verdict.LOOK_CLOSER, Colour.GREY, "Regional status colour: apply the local rules"),
])
def test_issue19_status_colours(es_signer: SoftwareSigner, colour: object, verdict: Verdict, shown: Colour,
                                reason: str) -> None:
    credential = verified(es_signer, sample(status={**sample()["status"], "colour": colour}))
    view = build_view(credential, now=NOW, language="en")
    assert (view.verdict, view.colour, view.reason) == (verdict, shown, reason)


def test_issue19_no_status_is_look_closer(es_signer: SoftwareSigner) -> None:
    credential = verified(es_signer, sample(status=None))
    view = build_view(credential, now=NOW, language="en")
    assert view.verdict is Verdict.LOOK_CLOSER and view.colour is Colour.GREY


def test_issue19_warnings_in_plain_words_only(es_signer: SoftwareSigner) -> None:
    credential = dataclasses.replace(verified(es_signer, sample()),
                                     warnings=("trust_list_stale", "dcc_schema: 1.3.0: /nam/fn 'MUSTERMANN'",
                                               "someone_elses_new_warning: detail"))
    view = build_view(credential, now=NOW, language="en")
    assert view.verdict is Verdict.LOOK_CLOSER and view.colour is Colour.GREEN
    assert view.warnings == ("Trust list past its date (grace period): update this device soon",
                             "EU certificate deviates from the EU schema", "Unrecognised warning: look closer")
    assert "MUSTERMANN" not in everything(view)
    assert build_view(credential, now=NOW, profile="gate").warnings == ()


ERRORS = {
    ErrorCode.EXPIRED: ("Code expired", "码已过期", "碼已過期"),
    ErrorCode.KEY_UNKNOWN: ("Issuer not trusted: unknown signing key", "签发机构不受信任：签名密钥未知",
                            "簽發機構不受信任：簽名金鑰未知"),
}


def test_issue19_rejected_codes_red_with_reason(es_signer: SoftwareSigner) -> None:
    text = issue(es_signer, sample())
    verifier = Verifier(keys=[])  # no key trusted
    outcomes = []
    with pytest.raises(VerificationError) as unknown:
        verifier.verify(text, at=NOW)
    outcomes.append(unknown.value)
    from healthpass.trust import issuer_key

    trusted = Verifier(keys=[issuer_key(es_signer.public_key_pem(), region=Region("630000"))])
    with pytest.raises(VerificationError) as expired:
        trusted.verify(text, at=NOW + timedelta(days=4))
    outcomes.append(expired.value)
    for error in outcomes:
        for language, reason in zip(ALL, [ERRORS[error.code][1], ERRORS[error.code][2], ERRORS[error.code][0]],
                                    strict=True):
            view = build_view(error, now=NOW, language=language)
            assert (view.verdict, view.colour, view.reason) == (Verdict.FAIL, Colour.RED, reason)
            assert view.rows == () and view.error_code == error.code.value
            # a rejected code is not a red health code: the block is red, its words say "not accepted"
            assert view.colour_text == {"en": "Code not accepted", "zh-Hans": "验证未通过",
                                        "zh-Hant": "驗證未通過"}[language.value]


def test_issue19_no_code_read_is_look_closer() -> None:
    view = build_view(ScanError(ErrorCode.NO_CODE_FOUND, Stage.SCAN, "none"), now=NOW, language="en")
    assert (view.verdict, view.colour) == (Verdict.LOOK_CLOSER, Colour.GREY)
    assert view.reason == "No code found: hold the code steady and try again"


def test_issue19_error_message_never_shown() -> None:
    """The view words the code, never the library's technical message (which may name a kid or a time)."""
    error = HealthPassError(ErrorCode.SIGNATURE_INVALID, Stage.SIGNATURE, "kid 0011223344556677 <b>")
    text = everything(build_view(error, now=NOW, language="en"))
    assert "0011223344556677" not in text and "<b>" not in text


@pytest.mark.parametrize(("code", "zh", "hant", "en"), [
    ("630000", "青海省", "青海省", "Qinghai"),
    ("440000", "广东省", "廣東省", "Guangdong"),
    ("810000", "香港特别行政区", "香港特別行政區", "Hong Kong"),
    ("630100", "青海省（630100）", "青海省（630100）", "Qinghai (630100)"),
])
def test_issue19_region_by_name(code: str, zh: str, hant: str, en: str) -> None:
    region = Region(code)
    assert (region_name(region, "zh-Hans"), region_name(region, "zh-Hant"), region_name(region, "en")) == \
        (zh, hant, en)


def test_issue19_every_province_named_in_each_language() -> None:
    from healthpass.model.regions import PROVINCES

    for province in PROVINCES.values():
        for language in ALL:
            name = region_name(Region(province.code), language)
            assert name and name.isprintable() and province.code not in name


def test_issue19_eu_issuer_country_by_name(es_signer: SoftwareSigner) -> None:
    credential = dataclasses.replace(verified(es_signer, sample()), issuer="AT",
                                     format=__import__("healthpass").Prefix.HC1)
    assert build_view(credential, now=NOW, language="zh-Hans").value("issuer") == "奥地利"
    assert build_view(credential, now=NOW, language="en").value("issuer") == "Austria"


def test_issue19_time_is_an_input(es_signer: SoftwareSigner) -> None:
    credential = verified(es_signer, sample())
    first = build_view(credential, now=NOW, language="en")
    assert first == build_view(credential, now=NOW, language="en")  # deterministic
    assert first != build_view(credential, now=NOW + timedelta(hours=5), language="en")
    with pytest.raises(ValueError, match="timezone-aware"):
        build_view(credential, now=NOW.replace(tzinfo=None))


def test_issue19_view_is_immutable_and_misuse_is_typed(es_signer: SoftwareSigner) -> None:
    view = build_view(verified(es_signer, sample()), now=NOW)
    with pytest.raises(dataclasses.FrozenInstanceError):
        view.reason = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        build_view("HP1:...", now=NOW)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        build_view(view, now=NOW, language="fr")  # type: ignore[arg-type]


def test_issue19_mask_name_always_hides_something() -> None:
    """Property: whatever the name (any script, separators, control characters), the masked form has a star
    and is not the name; at most the first character of each part (and a Han name's last) survives."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from healthpass.display.mask import _SEPARATORS

    letters = st.sampled_from(list("张小三欧阳娜李王ZHANGSAN李XJ·. \u3000\t\x1b\u202e-"))

    @settings(max_examples=400, deadline=None)
    @given(st.text(letters, min_size=0, max_size=12))
    def check(name: str) -> None:
        masked = mask_name(name)
        assert "*" in masked
        visible = [c for c in masked if c not in "* ·"]
        parts = [p for p in _SEPARATORS.split(name)[::2] if p]
        assert len(visible) <= max(2, len(parts)), (name, masked)
        assert masked != name.strip()

    check()


def test_issue19_eu_certificate_view() -> None:
    """A real HC1 vaccination certificate: no status (look closer), the ICAO name masked per part, the birth
    year, Austria by name, the doses; nothing else of the EU payload."""
    from ..test_eu_dcc import NOW as EU_NOW
    from ..test_eu_dcc import SECRET_DOB, SECRET_NAME, make_code, make_dsc
    from ..test_eu_dcc import verify as eu_verify

    dsc = make_dsc()
    credential = eu_verify(make_code(dsc), dsc.issuer_key())
    view = build_view(credential, now=EU_NOW, language="en", profile="clinic")
    assert (view.verdict, view.colour) == (Verdict.LOOK_CLOSER, Colour.GREY)
    assert view.value("holder") == "Z*** E***" and view.value("born") == SECRET_DOB[:4]
    assert view.value("issuer") == "Austria" and view.value("vaccination") == "2 doses, latest May 18, 2021"
    text = everything(view) + everything(build_view(credential, now=EU_NOW, language="zh-Hans", profile="clinic"))
    for secret in (SECRET_NAME, "ZYXWVUTSSON", "ERIKA", "Erika", SECRET_DOB, "EU/1/20/1528", "ORG-100030215",
                   "Ministry of Health", "URN:UVCI", "840539006"):
        assert secret not in text, secret
