"""One time module and one time policy (issue 15 item 4, issue 16 item 5).

Library: every datetime an entry point takes must be timezone-aware (a naive one is a ValueError naming the
parameter, at once). Input text (credential JSON, manifests, rule files, --at): a zone is required, and the
message names the problem found (no zone, or seconds), never the other one.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from healthpass import (
    HealthPayload,
    HealthStatus,
    Issuer,
    IssuerKey,
    NaatTest,
    Region,
    RegionRisk,
    SoftwareSigner,
    TrustList,
    Verifier,
    issuer_key,
    payload_from_json,
    trust_root,
)
from healthpass.cli import main
from healthpass.errors import RuleError
from healthpass.model.credential import RiskLevel, TestResult
from healthpass.model.time import (
    EARLIEST,
    EARLIEST_SECOND,
    LATEST,
    LATEST_SECOND,
    aware,
    format_iso,
    from_numeric_date,
    parse_iso,
    to_numeric_date,
)
from healthpass.rules import RuleBundle
from healthpass.trust import keys_from_manifest

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
BEIJING = timezone(timedelta(hours=8))
NAIVE = datetime(2026, 11, 25, 12, 0)  # no tzinfo
STATUS = HealthPayload(status=HealthStatus(colour=1, set_at=NOW))


# ---------------------------------------------------------------- the module (issue 16 item 5)


def test_issue16_item5_numeric_date_round_trip_and_bounds() -> None:
    assert from_numeric_date(0) == datetime(1970, 1, 1, tzinfo=UTC)
    assert to_numeric_date(datetime(2026, 11, 25, 20, 0, tzinfo=BEIJING)) == to_numeric_date(NOW) == 1795608000
    assert from_numeric_date(EARLIEST_SECOND) == datetime(1, 1, 1, tzinfo=UTC)
    assert from_numeric_date(LATEST_SECOND) == datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert to_numeric_date(EARLIEST) == EARLIEST_SECOND and to_numeric_date(LATEST) == LATEST_SECOND  # floored
    assert to_numeric_date(datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=UTC)) == -1  # floor, not truncation
    for seconds in (-1, 1, 4102444800, 32503680000, -62135596799, 253402300798):  # both conversion paths
        assert to_numeric_date(from_numeric_date(seconds)) == seconds
    for outside in (EARLIEST_SECOND - 1, LATEST_SECOND + 1, 10**30, -(10**30)):
        with pytest.raises(ValueError, match="outside the supported range of dates"):
            from_numeric_date(outside)
    for wrong in (1.5, True, "0", None):
        with pytest.raises(TypeError):
            from_numeric_date(wrong)  # type: ignore[arg-type]


def test_issue16_item5_years_1_and_9999_never_overflow() -> None:
    """Offsets that push a time past datetime's range are ValueErrors, never OverflowError."""
    year_1_east = datetime(1, 1, 1, 0, 0, tzinfo=BEIJING)  # 0000-12-31T16:00Z does not exist
    year_9999_west = datetime(9999, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-5)))
    for value in (year_1_east, year_9999_west):
        with pytest.raises(ValueError, match="outside the supported range of dates"):
            aware(value, "now")
        with pytest.raises(ValueError, match="outside"):
            to_numeric_date(value)
        with pytest.raises(ValueError, match="outside"):
            format_iso(value)
    for text in ("0001-01-01T00:00+08:00", "9999-12-31T23:59-01:00"):
        with pytest.raises(ValueError, match="outside the supported range of dates"):
            parse_iso(text)
    assert parse_iso("0001-01-01T00:00Z") == EARLIEST
    assert format_iso(LATEST) == "9999-12-31T23:59:59.999999Z"
    with pytest.raises(ValueError, match="outside"):  # an issuer at the end of time: refused, no OverflowError
        TrustList.build(SoftwareSigner.generate(), seq=1, keys=[], valid_for=timedelta(days=1),
                        now=datetime(9999, 12, 31, tzinfo=UTC))


def test_issue16_item5_aware_checks() -> None:
    assert aware(datetime(2026, 11, 25, 20, 0, tzinfo=BEIJING), "now") == NOW
    assert aware(NOW, "now").tzinfo is UTC
    with pytest.raises(ValueError, match="now is a naive datetime"):
        aware(NAIVE, "now")
    for wrong in ("2026-11-25T12:00Z", date(2026, 11, 25), 1764072000, None):
        with pytest.raises(TypeError, match="now must be a datetime"):
            aware(wrong, "now")


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-11-25T12:00Z", NOW),
    ("2026-11-25T20:00+08:00", NOW),
    ("2026-11-25t20:00:00+0800", NOW),
    ("2026-11-25 20:00+08", NOW),
    ("2026-11-25T06:30-05:30", NOW),
    (" 2026-11-25T12:00:00.000z ", NOW),
    ("2026-11-25T12:00:00.123456789Z", NOW + timedelta(microseconds=123456)),
    ("2026-11-25T12:00:00,5Z", NOW + timedelta(microseconds=500000)),
])
def test_issue16_item5_parse_iso_forms(text: str, expected: datetime) -> None:
    parsed = parse_iso(text)
    assert parsed == expected and parsed.tzinfo is UTC


@pytest.mark.parametrize(("text", "message"), [
    ("2026-11-25T12:00", "without a time zone"),
    ("2026-11-25T12:00:00", "without a time zone"),
    ("2026-11-25", "a date without a time and time zone"),
    ("2026-11-25T12Z", "not an ISO 8601 date-time"),
    ("2026-11-25T12:00:00.1234567890Z", "not an ISO 8601 date-time"),
    ("2026-13-01T00:00Z", "out of range"),
    ("2026-02-29T00:00Z", "out of range"),
    ("2026-11-25T24:00Z", "out of range"),
    ("2026-11-25T12:00+24:00", "out of range"),
    ("2026-11-25T12:00+05:60", "out of range"),
    ("\uff12\uff10\uff12\uff16-11-25T12:00Z", "not an ISO 8601"),
    ("", "not an ISO 8601"),
])
def test_issue16_item5_parse_iso_refusals(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        parse_iso(text, name="status.set_at")
    assert str(info.value).startswith("status.set_at ")
    assert text == "" or text.strip() not in str(info.value)  # never echoes the input


def test_issue16_item5_one_module_replaces_the_helpers() -> None:
    """No other module parses ISO text or converts NumericDates by itself any more (the EU adapter and
    CertLogic read foreign formats by their own specifications and are listed)."""
    own_rules = {"formats/eu_dcc.py", "rules/certlogic.py", "model/time.py"}
    for path in sorted((ROOT / "src" / "healthpass").rglob("*.py")):
        relative = path.relative_to(ROOT / "src" / "healthpass").as_posix()
        text = path.read_text("utf-8")
        assert "def _ts(" not in text and "def _epoch(" not in text, relative
        if relative != "model/credential.py":  # its _aware validates whole-minute instants (no conversion)
            assert "def _aware(" not in text, relative
        if relative not in own_rules:
            assert "fromisoformat" not in text.replace("date.fromisoformat", ""), relative
            assert ".fromtimestamp(" not in text and "strptime" not in text, relative


# ---------------------------------------------------------------- input text (issue 15 item 4)


def test_issue15_item4_json_time_without_zone_is_refused() -> None:
    for field, body in (("status.set_at", {"status": {"colour": "green", "set_at": "2026-12-03T08:00:00"}}),
                        ("naat[0].sampled_at", {"naat": [{"sampled_at": "2026-12-03T08:00", "result": "negative"}]}),
                        ("region_risk.as_of", {"region_risk": {"region": "CN-QH", "level": "low",
                                                               "as_of": "2026-12-03"}})):
        with pytest.raises(ValueError) as info:
            payload_from_json(body)
        message = str(info.value)
        assert message.startswith(field) and "time zone" in message and "minute" not in message, message


def test_issue15_item4_json_time_with_seconds_message_is_about_seconds() -> None:
    for set_at in ("2026-12-03T08:00:30+08:00", "2026-12-03T08:00:00.5Z"):
        with pytest.raises(ValueError) as info:
            payload_from_json({"status": {"colour": "green", "set_at": set_at}})
        message = str(info.value)
        assert "whole minutes" in message and "zone" not in message and "aware" not in message, message
    parsed = payload_from_json({"status": {"colour": "green", "set_at": "2026-12-03T08:00:00+08:00"}})
    assert parsed.status is not None and parsed.status.set_at == datetime(2026, 12, 3, 0, 0, tzinfo=UTC)


def test_issue15_item4_model_times_one_message_per_problem() -> None:
    with pytest.raises(ValueError, match="whole minutes") as info:
        HealthStatus(colour=1, set_at=NOW.replace(second=30))
    assert "zone" not in str(info.value) and "aware" not in str(info.value)
    with pytest.raises(ValueError, match="timezone-aware") as info:
        NaatTest(sampled_at=NAIVE, result=TestResult.NEGATIVE)
    assert "minute" not in str(info.value)
    with pytest.raises(ValueError, match="timezone-aware"):
        RegionRisk(region=Region("630000"), level=RiskLevel.LOW, as_of=NAIVE)


def test_issue15_item4_cli_mint_refuses_a_time_without_zone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keygen", "--alg", "ES256", "--out", str(tmp_path / "qh")]) == 0
    credential = tmp_path / "c.json"
    credential.write_text(json.dumps({"status": {"colour": "green", "set_at": "2026-12-03T08:00:00"}}))
    capsys.readouterr()
    code = main(["mint", "--key", str(tmp_path / "qh.key.pem"), "--issuer", "630000", "--in", str(credential)])
    err = capsys.readouterr().err
    assert code == 1 and "status.set_at is a date-time without a time zone" in err


def test_issue15_item4_cli_at_without_zone_is_a_usage_error(es_signer: SoftwareSigner, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "qh.pub.pem").write_bytes(es_signer.public_key_pem())
    code_text = Issuer(es_signer, "630000").issue(STATUS, now=NOW)
    argv = ["verify", "--trust-key", f"630000={tmp_path / 'qh.pub.pem'}", "--at"]
    assert main([*argv, "2026-11-25T20:00+08:00", code_text]) == 0
    capsys.readouterr()
    for at in ("2026-11-25T20:00", "2026-11-25"):
        assert main([*argv, at, code_text]) == 2
        assert "--at is a date" in capsys.readouterr().err


def test_issue15_item4_trust_build_issuer_key_window_needs_a_zone(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("root", "qh"):
        assert main(["keygen", "--alg", "ES256", "--out", str(tmp_path / name)]) == 0
    base = ["trust", "build", "--root-key", str(tmp_path / "root.key.pem"), "--seq", "1", "--valid-for", "7d",
            "--out", str(tmp_path / "list.cbor"), "--issuer-key"]
    assert main([*base, f"630000={tmp_path / 'qh.pub.pem'}:from=2026-01-01T00:00Z"]) == 0
    capsys.readouterr()
    assert main([*base, f"630000={tmp_path / 'qh.pub.pem'}:from=2026-01-01T00:00"]) == 2
    assert "from is a date-time without a time zone" in capsys.readouterr().err


def test_issue15_item4_manifest_times_need_a_zone(es_signer: SoftwareSigner, tmp_path: Path) -> None:
    (tmp_path / "qh.pub.pem").write_bytes(es_signer.public_key_pem())
    entry = {"region": "630000", "public_key": "qh.pub.pem"}
    keys, _, _ = keys_from_manifest({"keys": [{**entry, "from": "2026-01-01T08:00+08:00"}]}, base=tmp_path)
    assert keys[0].valid_from == datetime(2026, 1, 1, tzinfo=UTC)
    for field in ("from", "until", "retired_at"):
        extra = {field: "2026-01-01T00:00:00"} | ({"status": "retired"} if field == "retired_at" else {})
        with pytest.raises(ValueError, match=rf"keys\[0\]: {field} is a date-time without a time zone"):
            keys_from_manifest({"keys": [{**entry, **extra}]}, base=tmp_path)


def test_issue15_item4_rule_file_times_need_a_zone(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "examples" / "rules", rules)
    rule_file = rules / "HP-STATUS-0001" / "rule.json"
    rule = json.loads(rule_file.read_text("utf-8"))
    rule["ValidFrom"] = "2025-01-01T00:00:00"
    rule_file.write_text(json.dumps(rule), encoding="utf-8")
    with pytest.raises(RuleError, match="ValidFrom is a date-time without a time zone"):
        RuleBundle.build(SoftwareSigner.generate(), rules, seq=1, valid_for=timedelta(days=1), now=NOW)


# ---------------------------------------------------------------- API entry points (issue 15 item 4)


def test_issue15_item4_issuer_issue_refuses_naive_now(es_signer: SoftwareSigner) -> None:
    issuer = Issuer(es_signer, "630000")
    with pytest.raises(ValueError, match="now is a naive datetime"):
        issuer.issue(STATUS, now=NAIVE)
    with pytest.raises(TypeError, match="now must be a datetime"):
        issuer.issue(STATUS, now="2026-11-25T12:00Z")  # type: ignore[arg-type]
    # an aware time in any zone is the same instant: the same iat
    verifier = Verifier(keys=[issuer_key(es_signer.public_key_pem(), region="630000")])
    beijing = verifier.verify(issuer.issue(STATUS, now=NOW.astimezone(BEIJING)), at=NOW)
    assert beijing.issued_at == NOW


def test_issue15_item4_issuer_issue_many_refuses_naive_now_at_the_call(es_signer: SoftwareSigner) -> None:
    issuer = Issuer(es_signer, "630000")
    with pytest.raises(ValueError, match="now is a naive datetime"):
        issuer.issue_many([STATUS], now=NAIVE)  # at the call, not when the first result is drawn
    assert len(list(issuer.issue_many([STATUS, STATUS], now=NOW))) == 2


def test_issue15_item4_trust_list_build_refuses_naive_now(es_signer: SoftwareSigner) -> None:
    key = issuer_key(es_signer.public_key_pem(), region="630000")
    with pytest.raises(ValueError, match="now is a naive datetime"):
        TrustList.build(SoftwareSigner.generate(), seq=1, keys=[key], valid_for=timedelta(days=1), now=NAIVE)
    root = SoftwareSigner.generate()
    data = TrustList.build(root, seq=1, keys=[key], valid_for=timedelta(days=1), now=NOW.astimezone(BEIJING))
    assert TrustList.load(data, [trust_root(root.public_key_pem())]).issued_at == NOW


def test_issue15_item4_verifier_verify_refuses_naive_at(es_signer: SoftwareSigner) -> None:
    verifier = Verifier(keys=[issuer_key(es_signer.public_key_pem(), region="630000")])
    text = Issuer(es_signer, "630000").issue(STATUS, now=NOW)
    with pytest.raises(ValueError, match="at is a naive datetime"):
        verifier.verify(text, at=NAIVE)  # was read as UTC, while issue() read a naive time as local
    with pytest.raises(TypeError, match="at must be a datetime"):
        verifier.verify(text, at=1764072000)  # type: ignore[arg-type]
    assert verifier.verify(text, at=NOW.astimezone(BEIJING)).issued_at == NOW


def test_issue15_item4_verifier_verify_many_refuses_naive_at_at_the_call(es_signer: SoftwareSigner) -> None:
    verifier = Verifier(keys=[issuer_key(es_signer.public_key_pem(), region="630000")])
    with pytest.raises(ValueError, match="at is a naive datetime"):
        verifier.verify_many(["HP1:..."], at=NAIVE)
    text = Issuer(es_signer, "630000").issue(STATUS, now=NOW)
    [result] = verifier.verify_many([text], at=NOW)
    assert result.credential is not None


def test_issue15_item4_issuer_key_windows_refuse_naive_times(es_signer: SoftwareSigner) -> None:
    key = issuer_key(es_signer.public_key_pem(), region="630000")
    for field in ("valid_from", "valid_until", "retired_at"):
        with pytest.raises(ValueError, match=rf"IssuerKey\.{field} is a naive datetime"):
            dataclasses.replace(key, **{field: NAIVE})
    with pytest.raises(TypeError, match=r"IssuerKey\.valid_until must be a datetime"):
        dataclasses.replace(key, valid_until="2026-12-01")
    shifted = dataclasses.replace(key, valid_until=datetime(2026, 12, 1, 8, 0, tzinfo=BEIJING))
    assert shifted.valid_until == datetime(2026, 12, 1, tzinfo=UTC) and shifted.valid_until.tzinfo is UTC
    assert IssuerKey(kid=b"k", key_der=b"d").valid_from is None


def test_issue15_item4_rule_bundle_refuses_naive_now(tmp_path: Path, es_signer: SoftwareSigner) -> None:
    root = SoftwareSigner.generate()
    with pytest.raises(ValueError, match="now is a naive datetime"):
        RuleBundle.build(root, ROOT / "examples" / "rules", seq=1, valid_for=timedelta(days=30), now=NAIVE)
    data = RuleBundle.build(root, ROOT / "examples" / "rules", seq=1, valid_for=timedelta(days=30), now=NOW)
    bundle = RuleBundle.load(data, [trust_root(root.public_key_pem())])
    assert bundle.issued_at == NOW
    credential = Verifier(keys=[issuer_key(es_signer.public_key_pem(), region="630000")]).verify(
        Issuer(es_signer, "630000").issue(STATUS, now=NOW), at=NOW)
    for call in (bundle.select, bundle.context, bundle.apply):
        with pytest.raises(ValueError, match="now is a naive datetime"):
            call(credential, now=NAIVE)
    with pytest.raises(ValueError, match="at is a naive datetime"):  # the verifier applying it refuses first
        Verifier(keys=[issuer_key(es_signer.public_key_pem(), region="630000")], rules=bundle).verify(
            Issuer(es_signer, "630000").issue(STATUS, now=NOW), at=NAIVE)


def test_issue15_item4_status_list_and_delta_refuse_naive_now(es_signer: SoftwareSigner) -> None:
    from healthpass.status import StatusDelta, StatusList

    uri = "hp:630000:3"
    with pytest.raises(ValueError, match="now is a naive datetime"):
        StatusList.build(es_signer, uri=uri, size=64, entries=[], valid_for=timedelta(days=1), now=NAIVE)
    base = StatusList.build(es_signer, uri=uri, size=64, entries=[], valid_for=timedelta(days=1),
                            now=NOW.astimezone(BEIJING))
    with pytest.raises(ValueError, match="now is a naive datetime"):
        StatusDelta.build(es_signer, base=base, changes={1: 1}, valid_for=timedelta(days=1), now=NAIVE)
    assert StatusDelta.build(es_signer, base=base, changes={1: 1}, valid_for=timedelta(days=1),
                             now=NOW + timedelta(hours=1))
