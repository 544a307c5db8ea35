"""Signed rule bundles: build, load (signature, root, rollback, embedded tests), apply, profiles, CLI.

Everything is real: software keys, codes minted by :class:`~healthpass.issue.Issuer` from
``examples/credential.json``, the :class:`~healthpass.verify.Verifier`, and the sample rule set in
``examples/rules``.
"""

from __future__ import annotations

import dataclasses
import json
import pickle
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from healthpass import cose
from healthpass.cli import main
from healthpass.codec import b45encode, compress
from healthpass.codec.cbor import encode
from healthpass.codec.signed_doc import ContentType, encode_envelope
from healthpass.errors import ErrorCode, PolicyError, RuleError, Stage, TrustListError
from healthpass.issue import Issuer
from healthpass.model.credential import HealthPayload, HealthStatus, StatusColour, StatusReason
from healthpass.model.jsonform import payload_from_json
from healthpass.model.regions import Region
from healthpass.rules import RuleBundle, RulesRejected, run_tests_at_path
from healthpass.signers import SoftwareSigner
from healthpass.state import StateStore
from healthpass.trust import TrustList, issuer_key, trust_root
from healthpass.verify import Verifier

from ._shared import find_shared_dir

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_RULES = ROOT / "examples" / "rules"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
BUILT = NOW - timedelta(days=1)
SAMPLE_TESTS = 33  # tests in examples/rules
RULE_IDS = ("HP-IMMUNE-0001", "HP-NAAT-0001", "HP-STATUS-0001")


# ---------------------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def root_signer() -> SoftwareSigner:
    return SoftwareSigner.generate()


@pytest.fixture(scope="module")
def roots(root_signer: SoftwareSigner) -> list[Any]:
    return [trust_root(root_signer.public_key_pem())]


@pytest.fixture(scope="module")
def issuer_signer() -> SoftwareSigner:
    return SoftwareSigner.generate()


@pytest.fixture(scope="module")
def sample_payload() -> HealthPayload:
    return payload_from_json(json.loads((ROOT / "examples" / "credential.json").read_text("utf-8")))


@pytest.fixture(scope="module")
def hp_issuer(issuer_signer: SoftwareSigner) -> Issuer:
    return Issuer(issuer_signer, Region("630000"))


@pytest.fixture(scope="module")
def sample_code(hp_issuer: Issuer, sample_payload: HealthPayload) -> str:
    return hp_issuer.issue(sample_payload, now=NOW)


@pytest.fixture(scope="module")
def yellow_code(hp_issuer: Issuer, sample_payload: HealthPayload) -> str:
    status = HealthStatus(StatusColour.YELLOW, NOW - timedelta(hours=4), StatusReason.CLOSE_CONTACT)
    return hp_issuer.issue(dataclasses.replace(sample_payload, status=status), now=NOW)


@pytest.fixture(scope="module")
def bundle_data(root_signer: SoftwareSigner) -> bytes:
    return RuleBundle.build(root_signer, EXAMPLE_RULES, seq=1, valid_for=timedelta(days=30), now=BUILT)


@pytest.fixture(scope="module")
def bundle(bundle_data: bytes, roots: list[Any]) -> RuleBundle:
    return RuleBundle.load(bundle_data, roots)


def _verifier(issuer_signer: SoftwareSigner, rules: RuleBundle) -> Verifier:
    return Verifier(keys=[issuer_key(issuer_signer.public_key_pem(), region=Region("630000"))], rules=rules)


@pytest.fixture(scope="module")
def verifier(issuer_signer: SoftwareSigner, bundle: RuleBundle) -> Verifier:
    return _verifier(issuer_signer, bundle)


def _copy_rules(tmp_path: Path, source: Path = EXAMPLE_RULES) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(source, target)
    return target


def _edit_json(path: Path, change: Any) -> None:
    obj = json.loads(path.read_text("utf-8"))
    change(obj)
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=2), "utf-8")


def _seal(signer: SoftwareSigner, body: dict[int, Any], *, seq: int = 1, issued: datetime = BUILT,
          valid_for: timedelta = timedelta(days=30)) -> bytes:
    """A bundle sealed by hand (bypassing the checks of :meth:`RuleBundle.build`)."""
    issued_at = int(issued.timestamp())
    payload = encode_envelope(seq, issued_at, issued_at + int(valid_for.total_seconds()), body)
    return cose.seal_document(signer, ContentType.RULE_BUNDLE.value, payload)


def _example_body() -> dict[int, Any]:
    rules, tests = [], []
    for folder in sorted(p for p in EXAMPLE_RULES.iterdir() if p.is_dir()):
        rules.append((folder / "rule.json").read_text("utf-8"))
        tests.extend([folder.name, t.name, t.read_text("utf-8")] for t in sorted((folder / "tests").glob("*.json")))
    return {1: rules, 2: (EXAMPLE_RULES / "profiles.json").read_text("utf-8"), 3: tests}


# ---------------------------------------------------------------------------------------------------
# Build and load
# ---------------------------------------------------------------------------------------------------


def test_sample_rule_set_passes_its_tests() -> None:
    assert run_tests_at_path(EXAMPLE_RULES) == (SAMPLE_TESTS, 0, [])


def test_sample_rules_are_described_in_chinese_and_english() -> None:
    for folder in sorted(p for p in EXAMPLE_RULES.iterdir() if p.is_dir()):
        rule = json.loads((folder / "rule.json").read_text("utf-8"))
        langs = {d["lang"] for d in rule["Description"]}
        assert {"zh", "en"} <= langs, folder.name
        assert rule["CertificateType"] == "HealthPass"


def test_build_load_round_trip(bundle: RuleBundle, roots: list[Any]) -> None:
    assert bundle.seq == 1
    assert bundle.issued_at == BUILT
    assert bundle.not_after == BUILT + timedelta(days=30)
    assert bundle.root == roots[0]
    assert bundle.clock_floor == BUILT
    assert tuple(sorted(r.identifier for r in bundle.rules)) == RULE_IDS
    assert {p.name: p.rule_ids for p in bundle.profiles} == {
        "venue-basic": ("HP-STATUS-0001",),
        "venue-strict": ("HP-STATUS-0001", "HP-NAAT-0001"),
        "immunity": ("HP-IMMUNE-0001",),
        "travel": ("HP-STATUS-0001", "HP-IMMUNE-0001"),
    }
    assert len(bundle.tests) == SAMPLE_TESTS
    # the rule texts are carried exactly as written
    status = next(r for r in bundle.rules if r.identifier == "HP-STATUS-0001")
    assert status.text == (EXAMPLE_RULES / "HP-STATUS-0001" / "rule.json").read_text("utf-8")
    assert status.description()["zh"].startswith("健康码")
    assert "RuleBundle(seq=1" in repr(bundle)


def test_bundle_is_picklable(bundle: RuleBundle, verifier: Verifier, sample_code: str) -> None:
    assert pickle.loads(pickle.dumps(bundle)) == bundle
    clone = pickle.loads(pickle.dumps(verifier))
    assert len(clone.verify(sample_code, at=NOW).rules) == 3


def test_tampered_bundle_is_invalid(bundle_data: bytes, roots: list[Any]) -> None:
    assert b'"green"' in bundle_data
    tampered = bundle_data.replace(b'"green"', b'"GREEN"', 1)
    with pytest.raises(TrustListError) as info:
        RuleBundle.load(tampered, roots)
    assert info.value.code is ErrorCode.TRUST_LIST_INVALID
    assert info.value.stage is Stage.RULES
    with pytest.raises(TrustListError) as info:
        RuleBundle.load(bundle_data[:-3], roots)
    assert info.value.code is ErrorCode.TRUST_LIST_INVALID


def test_wrong_root_is_invalid(bundle_data: bytes) -> None:
    other = trust_root(SoftwareSigner.generate().public_key_pem())
    with pytest.raises(TrustListError) as info:
        RuleBundle.load(bundle_data, [other])
    assert info.value.code is ErrorCode.TRUST_LIST_INVALID
    with pytest.raises(TrustListError):
        RuleBundle.load(bundle_data, [])


def test_trust_list_is_not_a_rule_bundle(root_signer: SoftwareSigner, roots: list[Any]) -> None:
    trust_list = TrustList.build(root_signer, seq=1, keys=[], valid_for=timedelta(days=1), now=BUILT)
    with pytest.raises(TrustListError) as info:
        RuleBundle.load(trust_list, roots)
    assert info.value.code is ErrorCode.TRUST_LIST_INVALID
    assert "content type" in info.value.message


def test_rollback_is_refused(tmp_path: Path, root_signer: SoftwareSigner, roots: list[Any]) -> None:
    state = StateStore(tmp_path / "state")
    newer = RuleBundle.build(root_signer, EXAMPLE_RULES, seq=2, valid_for=timedelta(days=30), now=BUILT)
    older = RuleBundle.build(root_signer, EXAMPLE_RULES, seq=1, valid_for=timedelta(days=30),
                             now=BUILT - timedelta(days=1))
    loaded = RuleBundle.load(newer, roots, state=state)
    assert RuleBundle.load(newer, roots, state=state) == loaded  # the same bundle again is fine
    with pytest.raises(TrustListError) as info:
        RuleBundle.load(older, roots, state=state)
    assert info.value.code is ErrorCode.TRUST_LIST_ROLLBACK
    assert info.value.stage is Stage.RULES
    same_seq = RuleBundle.build(root_signer, EXAMPLE_RULES, seq=2, valid_for=timedelta(days=7), now=BUILT)
    with pytest.raises(TrustListError) as info:
        RuleBundle.load(same_seq, roots, state=state)
    assert info.value.code is ErrorCode.TRUST_LIST_ROLLBACK
    assert state.read(f"rules-{roots[0].kid.hex()}") is not None
    assert state.read(f"trust-list-{roots[0].kid.hex()}") is None  # separate namespaces
    # the floor follows the newest accepted bundle (issue 14 item 6), even when it was issued earlier
    later = RuleBundle.build(root_signer, EXAMPLE_RULES, seq=3, valid_for=timedelta(days=30),
                             now=BUILT - timedelta(hours=1))
    assert RuleBundle.load(later, roots, state=state).clock_floor == BUILT - timedelta(hours=1)


def test_failing_embedded_test_refused_at_build(tmp_path: Path, root_signer: SoftwareSigner) -> None:
    rules = _copy_rules(tmp_path)
    _edit_json(rules / "HP-NAAT-0001" / "tests" / "test003.json", lambda t: t.update(expected=True))
    with pytest.raises(RuleError) as info:
        RuleBundle.build(root_signer, rules, seq=1, valid_for=timedelta(days=1), now=BUILT)
    assert info.value.code is ErrorCode.RULE_TESTS_FAILED
    assert "HP-NAAT-0001/test003.json" in info.value.message
    assert run_tests_at_path(rules)[:2] == (SAMPLE_TESTS - 1, 1)


def test_failing_embedded_test_refused_at_load(tmp_path: Path, root_signer: SoftwareSigner,
                                               roots: list[Any]) -> None:
    body = _example_body()
    test = json.loads(body[3][0][2])
    test["expected"] = not test["expected"]
    body[3][0][2] = json.dumps(test)
    data = _seal(root_signer, body)
    state = StateStore(tmp_path / "state")
    with pytest.raises(RuleError) as info:
        RuleBundle.load(data, roots, state=state)
    assert info.value.code is ErrorCode.RULE_TESTS_FAILED
    assert state.read(f"rules-{roots[0].kid.hex()}") is None  # a refused bundle is not recorded
    # the unverified test runner reports the same failure
    path = tmp_path / "bad.bundle"
    path.write_bytes(data)
    passed, failed, details = run_tests_at_path(path)
    assert (passed, failed) == (SAMPLE_TESTS - 1, 1)
    assert details[0].startswith("UNVERIFIED")
    # the hand-sealed unmodified body loads: the manual container itself is sound
    assert len(RuleBundle.load(_seal(root_signer, _example_body()), roots).rules) == 3


def test_invalid_rules_are_refused(tmp_path: Path, root_signer: SoftwareSigner, roots: list[Any]) -> None:
    def build(rules: Path) -> bytes:
        return RuleBundle.build(root_signer, rules, seq=1, valid_for=timedelta(days=1), now=BUILT)

    rules = _copy_rules(tmp_path / "a")
    _edit_json(rules / "HP-STATUS-0001" / "rule.json", lambda r: r.update(Logic={"or": [True, False]}))
    with pytest.raises(RuleError) as info:
        build(rules)
    assert info.value.code is ErrorCode.RULE_INVALID

    rules = _copy_rules(tmp_path / "b")
    _edit_json(rules / "profiles.json", lambda p: p.update(extra=["HP-NOPE-0001"]))
    with pytest.raises(RuleError) as info:
        build(rules)
    assert info.value.code is ErrorCode.RULE_INVALID
    assert run_tests_at_path(rules)[:2] == (SAMPLE_TESTS, 1)  # tests pass, but it cannot be built

    rules = _copy_rules(tmp_path / "c")
    shutil.rmtree(rules / "HP-NAAT-0001" / "tests")
    with pytest.raises(RuleError) as info:
        build(rules)
    assert info.value.code is ErrorCode.RULE_TESTS_FAILED

    rules = _copy_rules(tmp_path / "d")
    shutil.copytree(rules / "HP-NAAT-0001", rules / "HP-NAAT-0002")  # same Identifier twice
    with pytest.raises(RuleError) as info:
        build(rules)
    assert info.value.code is ErrorCode.RULE_INVALID

    with pytest.raises(RuleError):
        RuleBundle.build(root_signer, EXAMPLE_RULES, seq=-1, valid_for=timedelta(days=1))
    with pytest.raises(RuleError):
        build(tmp_path / "missing")

    body = _example_body()
    body[1][0] = body[1][0].replace('"Engine": "CERTLOGIC"', '"Engine": "OTHER"')
    with pytest.raises(RuleError) as info:
        RuleBundle.load(_seal(root_signer, body), roots)
    assert info.value.code is ErrorCode.RULE_INVALID
    with pytest.raises(TrustListError) as tl_info:
        RuleBundle.load(_seal(root_signer, {1: body[1]}), roots)
    assert tl_info.value.code is ErrorCode.TRUST_LIST_INVALID


# ---------------------------------------------------------------------------------------------------
# Applying rules
# ---------------------------------------------------------------------------------------------------


def test_passing_result_carries_rule_results(verifier: Verifier, sample_code: str) -> None:
    credential = verifier.verify(sample_code, at=NOW)
    assert {r["id"] for r in credential.rules} == set(RULE_IDS)
    for result in credential.rules:
        assert result["passed"] is True
        assert set(result["description"]) == {"zh", "en"}
        assert "error" not in result
    out = credential.to_json()
    assert out["valid"] is True
    assert {r["id"] for r in out["rules"]} == set(RULE_IDS)
    json.dumps(out, ensure_ascii=False)


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        ("venue-basic", ["HP-STATUS-0001"]),
        ("venue-strict", ["HP-STATUS-0001", "HP-NAAT-0001"]),
        ("immunity", ["HP-IMMUNE-0001"]),
        ("travel", ["HP-STATUS-0001", "HP-IMMUNE-0001"]),
    ],
)
def test_profile_selects_its_rules(verifier: Verifier, sample_code: str, profile: str, expected: list[str]) -> None:
    credential = verifier.verify(sample_code, at=NOW, profile=profile)
    assert sorted(r["id"] for r in credential.rules) == sorted(expected)


def test_unknown_profile_is_rule_invalid(verifier: Verifier, sample_code: str) -> None:
    with pytest.raises(RuleError) as info:
        verifier.verify(sample_code, at=NOW, profile="stadium")
    assert info.value.code is ErrorCode.RULE_INVALID


def test_policy_rejected_lists_failed_rules(verifier: Verifier, sample_code: str, yellow_code: str) -> None:
    later = NOW + timedelta(days=1)  # the sample's NAAT is now 58.5 h old; the code is still valid
    assert verifier.verify(sample_code, at=later, profile="venue-basic").rules[0]["passed"] is True
    with pytest.raises(PolicyError) as info:
        verifier.verify(sample_code, at=later, profile="venue-strict")
    assert info.value.code is ErrorCode.POLICY_REJECTED
    assert info.value.stage is Stage.POLICY
    assert info.value.failed_rules == ("HP-NAAT-0001",)
    assert "HP-NAAT-0001" in info.value.message
    assert isinstance(info.value, RulesRejected)
    assert {r["id"]: r["passed"] for r in info.value.results} == {"HP-STATUS-0001": True, "HP-NAAT-0001": False}
    assert all({"zh", "en"} <= set(r["description"]) for r in info.value.results)
    clone = pickle.loads(pickle.dumps(info.value))  # crosses process pools intact
    assert (clone.code, clone.failed_rules, clone.results) == (info.value.code, info.value.failed_rules,
                                                               info.value.results)
    with pytest.raises(PolicyError) as info:
        verifier.verify(yellow_code, at=NOW)
    assert info.value.failed_rules == ("HP-STATUS-0001",)
    with pytest.raises(PolicyError) as info:
        verifier.verify(yellow_code, at=later)
    assert set(info.value.failed_rules) == {"HP-STATUS-0001", "HP-NAAT-0001"}


def test_results_in_batches(verifier: Verifier, sample_code: str, yellow_code: str) -> None:
    results = list(verifier.verify_many([sample_code, yellow_code], at=NOW, profile="venue-basic"))
    assert results[0].credential is not None and results[0].credential.rules[0]["passed"] is True
    assert results[1].error is not None and results[1].error.code is ErrorCode.POLICY_REJECTED


def test_expired_bundle(root_signer: SoftwareSigner, roots: list[Any], issuer_signer: SoftwareSigner,
                        sample_code: str) -> None:
    data = RuleBundle.build(root_signer, EXAMPLE_RULES, seq=1, valid_for=timedelta(hours=2),
                            now=NOW - timedelta(minutes=90))
    verifier = _verifier(issuer_signer, RuleBundle.load(data, roots))
    assert verifier.verify(sample_code, at=NOW + timedelta(minutes=30)).rules  # at not_after: still in force
    with pytest.raises(TrustListError) as info:
        verifier.verify(sample_code, at=NOW + timedelta(minutes=31))  # the code itself is valid for 72 h
    assert info.value.code is ErrorCode.TRUST_LIST_EXPIRED
    assert info.value.stage is Stage.RULES


def test_clock_before_an_accepted_bundle_is_untrusted(root_signer: SoftwareSigner, roots: list[Any],
                                                      issuer_signer: SoftwareSigner, sample_code: str) -> None:
    data = RuleBundle.build(root_signer, EXAMPLE_RULES, seq=1, valid_for=timedelta(days=1),
                            now=NOW + timedelta(hours=1))
    verifier = _verifier(issuer_signer, RuleBundle.load(data, roots))
    with pytest.raises(TrustListError) as info:
        verifier.verify(sample_code, at=NOW)
    assert info.value.code is ErrorCode.CLOCK_UNTRUSTED


def test_rules_out_of_force_are_not_applied(tmp_path: Path, root_signer: SoftwareSigner, roots: list[Any],
                                            issuer_signer: SoftwareSigner, sample_code: str) -> None:
    rules = _copy_rules(tmp_path)
    _edit_json(rules / "HP-NAAT-0001" / "rule.json", lambda r: r.update(ValidTo="2026-11-01T00:00:00Z"))
    _edit_json(rules / "HP-STATUS-0001" / "rule.json", lambda r: r.update(ValidFrom="2026-12-01T00:00:00Z"))
    data = RuleBundle.build(root_signer, rules, seq=1, valid_for=timedelta(days=30), now=BUILT)
    verifier = _verifier(issuer_signer, RuleBundle.load(data, roots))
    credential = verifier.verify(sample_code, at=NOW)
    assert [r["id"] for r in credential.rules] == ["HP-IMMUNE-0001"]
    with pytest.raises(PolicyError) as info:  # no rule of the profile is in force: fail closed
        verifier.verify(sample_code, at=NOW, profile="venue-strict")
    assert info.value.failed_rules == ()


def test_data_context(bundle: RuleBundle, verifier: Verifier, sample_code: str) -> None:
    credential = dataclasses.replace(verifier.verify(sample_code, at=NOW), rules=())
    context = bundle.context(credential, now=NOW, profile="travel")
    payload, external = context["payload"], context["external"]
    assert payload["status"]["colour"] == "green"
    assert payload["naat"][0]["result"] == "negative"
    assert payload["issuer"] == "630000"
    assert payload["issued_at"] == "2026-11-25T12:00:00Z"
    assert payload["expires_at"] == "2026-11-28T12:00:00Z"
    assert external == {
        "validationClock": "2026-11-25T12:00:00Z",
        "countryCode": "CN",
        "valueSets": {},
        "profile": {"name": "travel", "province": "630000", "venue": "transport-hub"},
    }
    assert bundle.context(credential, now=NOW)["external"]["profile"] == {"name": None}
    json.dumps(context, ensure_ascii=False)  # plain JSON


def test_evaluation_error_fails_the_rule(tmp_path: Path, root_signer: SoftwareSigner, roots: list[Any],
                                         issuer_signer: SoftwareSigner, sample_code: str) -> None:
    rules = _copy_rules(tmp_path)
    folder = rules / "HP-RISK-0001"
    (folder / "tests").mkdir(parents=True)
    rule = json.loads((rules / "HP-STATUS-0001" / "rule.json").read_text("utf-8"))
    rule.update(Identifier="HP-RISK-0001", Logic={"<": [{"var": "payload.region_risk.level"}, 2]})
    (folder / "rule.json").write_text(json.dumps(rule), "utf-8")
    (folder / "tests" / "t.json").write_text(json.dumps({"payload": {}, "external": {}, "expected": False}), "utf-8")
    with pytest.raises(RuleError):  # "<" on null is an evaluation error, so its own test fails
        RuleBundle.build(root_signer, rules, seq=1, valid_for=timedelta(days=30), now=BUILT)
    (folder / "tests" / "t.json").write_text(
        json.dumps({"payload": {"region_risk": {"level": 1}}, "external": {}, "expected": True}), "utf-8")
    data = RuleBundle.build(root_signer, rules, seq=1, valid_for=timedelta(days=30), now=BUILT)
    bundle = RuleBundle.load(data, roots)
    plain = Verifier(keys=[issuer_key(issuer_signer.public_key_pem(), region=Region("630000"))])
    credential = plain.verify(sample_code, at=NOW)  # no rules attached yet
    with pytest.raises(PolicyError) as info:  # the level is "low" (a string): a type error, so a failure
        bundle.apply(credential, now=NOW)
    assert info.value.failed_rules == ("HP-RISK-0001",)


# ---------------------------------------------------------------------------------------------------
# EU DCCs
# ---------------------------------------------------------------------------------------------------

_SHARED = find_shared_dir()
_EU_RULES = None if _SHARED is None else _SHARED / "vectors" / "certlogic" / "rules"


def _eu_dcc(doses: int = 2) -> dict[str, Any]:
    return {
        "ver": "1.3.0",
        "nam": {"fn": "Musterfrau", "fnt": "MUSTERFRAU", "gn": "Erika", "gnt": "ERIKA"},
        "dob": "1964-08-12",
        "v": [{
            "tg": "840539006", "vp": "1119349007", "mp": "EU/1/20/1528", "ma": "ORG-100030215",
            "dn": doses, "sd": 2, "dt": "2021-06-01", "co": "DE", "is": "Robert Koch-Institut",
            "ci": "URN:UVCI:01DE/IZ12345A/5CWLU12RNOB9RXSEOP6FG8#W",
        }],
    }


def _mint_hc1(signer: SoftwareSigner, dcc: dict[str, Any]) -> str:
    iat = int(NOW.timestamp()) - 3600
    claims = {1: "DE", 4: iat + 365 * 86400, 6: iat, -260: {1: dcc}}
    return "HC1:" + b45encode(compress(cose.sign1(signer, encode(claims))))


@pytest.mark.skipif(_EU_RULES is None, reason="shared CertLogic vectors not found")
def test_eu_rules_apply_to_eu_dccs(tmp_path: Path, root_signer: SoftwareSigner, roots: list[Any],
                                   bundle: RuleBundle) -> None:
    assert _EU_RULES is not None
    rules = _copy_rules(tmp_path, _EU_RULES / "EU-with-tests")
    shutil.copy(_EU_RULES / "valueSets.json", rules / "valueSets.json")
    data = RuleBundle.build(root_signer, rules, seq=1, valid_for=timedelta(days=30), now=BUILT)
    eu_bundle = RuleBundle.load(data, roots)
    assert len(eu_bundle.rules) == 14
    assert "disease-agent-targeted" in eu_bundle.value_sets

    dsc = SoftwareSigner.generate()
    # a bare key (no certificate bounds its codes) may sign codes of 30 days by default: these live a year
    keys = [issuer_key(dsc.public_key_pem(), source="dsc", max_validity=timedelta(days=365))]
    verifier = Verifier(keys=keys, rules=eu_bundle)
    credential = verifier.verify(_mint_hc1(dsc, _eu_dcc()), at=NOW)
    ids = {r["id"] for r in credential.rules}
    assert ids == {"GR-EU-0000", "GR-EU-0001", "VR-EU-0000", "VR-EU-0001", "VR-EU-0002"}  # General + Vaccination
    assert all(r["passed"] for r in credential.rules)
    assert {"en", "de", "bg"} <= set(credential.rules[0]["description"])
    context = eu_bundle.context(credential, now=NOW)
    assert context["payload"]["v"][0]["mp"] == "EU/1/20/1528"
    assert context["external"]["validationClock"] == "2026-11-25T12:00:00Z"
    assert context["external"]["issuerCountryCode"] == "DE"

    with pytest.raises(PolicyError) as info:  # dose 1 of 2
        verifier.verify(_mint_hc1(dsc, _eu_dcc(doses=1)), at=NOW)
    assert info.value.failed_rules == ("VR-EU-0002",)

    # healthpass rules do not apply to EU certificates: no rule applies, so it is not accepted
    with pytest.raises(PolicyError) as info:
        Verifier(keys=keys, rules=bundle).verify(_mint_hc1(dsc, _eu_dcc()), at=NOW)
    assert info.value.failed_rules == ()


# ---------------------------------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------------------------------


@pytest.fixture
def cli_files(tmp_path: Path, root_signer: SoftwareSigner, issuer_signer: SoftwareSigner) -> dict[str, Path]:
    files = {
        "root_key": tmp_path / "root.key.pem",
        "root_pub": tmp_path / "root.pub.pem",
        "issuer_pub": tmp_path / "issuer.pub.pem",
        "bundle": tmp_path / "rules.bundle",
    }
    files["root_key"].write_bytes(root_signer.private_key_pem())
    files["root_pub"].write_bytes(root_signer.public_key_pem())
    files["issuer_pub"].write_bytes(issuer_signer.public_key_pem())
    return files


def test_cli_rules_test_directory(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["rules", "test", str(EXAMPLE_RULES)]) == 0
    assert capsys.readouterr().out.strip() == f"{SAMPLE_TESTS} passed, 0 failed"
    rules = _copy_rules(tmp_path)
    _edit_json(rules / "HP-STATUS-0001" / "tests" / "test002.json", lambda t: t.update(expected=True))
    assert main(["rules", "test", str(rules)]) == 1
    captured = capsys.readouterr()
    assert captured.out.strip() == f"{SAMPLE_TESTS - 1} passed, 1 failed"
    assert "FAIL HP-STATUS-0001/test002.json" in captured.err


def test_cli_rules_build_and_test_bundle(capsys: pytest.CaptureFixture[str], cli_files: dict[str, Path],
                                         tmp_path: Path) -> None:
    assert main(["rules", "build", "--root-key", str(cli_files["root_key"]), "--seq", "1", "--valid-for", "30d",
                 str(EXAMPLE_RULES), "--out", str(cli_files["bundle"])]) == 0
    assert "seq 1" in capsys.readouterr().out
    assert main(["rules", "test", str(cli_files["bundle"])]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == f"{SAMPLE_TESTS} passed, 0 failed"
    assert "UNVERIFIED" in captured.err

    rules = _copy_rules(tmp_path)
    _edit_json(rules / "HP-IMMUNE-0001" / "tests" / "test001.json", lambda t: t.update(expected=False))
    out = tmp_path / "bad.bundle"
    assert main(["rules", "build", "--root-key", str(cli_files["root_key"]), "--seq", "2", "--valid-for", "1d",
                 str(rules), "--out", str(out)]) == 1
    assert "rule_tests_failed" in capsys.readouterr().err
    assert not out.exists()


def test_cli_verify_with_rules(capsys: pytest.CaptureFixture[str], cli_files: dict[str, Path],
                               hp_issuer: Issuer, sample_payload: HealthPayload) -> None:
    assert main(["rules", "build", "--root-key", str(cli_files["root_key"]), "--seq", "1", "--valid-for", "1d",
                 str(EXAMPLE_RULES), "--out", str(cli_files["bundle"])]) == 0
    capsys.readouterr()
    now = datetime.now(UTC)  # the CLI stamps the bundle with the real clock; mint and verify near it
    green = hp_issuer.issue(sample_payload, now=now)
    status = HealthStatus(StatusColour.YELLOW, now.replace(second=0, microsecond=0), StatusReason.CLOSE_CONTACT)
    yellow = hp_issuer.issue(dataclasses.replace(sample_payload, status=status), now=now)
    trust = ["--trust-key", f"630000={cli_files['issuer_pub']}", "--root", str(cli_files["root_pub"]),
             "--rules", str(cli_files["bundle"])]

    assert main(["verify", *trust, "--profile", "travel", "--json", green]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["valid"] is True
    assert {r["id"]: r["passed"] for r in out["rules"]} == {"HP-STATUS-0001": True, "HP-IMMUNE-0001": True}
    assert all({"zh", "en"} <= set(r["description"]) for r in out["rules"])

    assert main(["verify", *trust, "--profile", "venue-basic", "--json", yellow]) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out)["error"]["code"] == "policy_rejected"
    assert "failed rule: HP-STATUS-0001" in captured.err

    assert main(["verify", *trust, "--profile", "nope", green]) == 1
    assert "rule_invalid" in capsys.readouterr().err

    # a bundle that does not verify against the given root is reported like a rejected code
    other = SoftwareSigner.generate()
    cli_files["root_pub"].write_bytes(other.public_key_pem())
    assert main(["verify", *trust, green]) == 1
    assert "trust_list_invalid" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------------
# Issue 14 item 5: who governs rules
# ---------------------------------------------------------------------------------------------------


def _allow_everything(tmp_path: Path) -> Path:
    """A rules directory whose one rule passes any credential (what a partner root could sign)."""
    rules = _copy_rules(tmp_path)
    for name in ("HP-IMMUNE-0001", "HP-NAAT-0001"):
        shutil.rmtree(rules / name)
    (rules / "profiles.json").write_text("{}")
    _edit_json(rules / "HP-STATUS-0001" / "rule.json", lambda r: r.update(Logic=True))
    for test in (rules / "HP-STATUS-0001" / "tests").glob("*.json"):
        _edit_json(test, lambda t: t.update(expected=True))
    return rules


def test_issue14_item5_a_regional_root_never_governs_other_regions(
    tmp_path: Path, root_signer: SoftwareSigner, issuer_signer: SoftwareSigner, sample_payload: HealthPayload
) -> None:
    partner = SoftwareSigner.generate()
    roots = [trust_root(root_signer.public_key_pem()),
             trust_root(partner.public_key_pem(), regions=[Region("810000")])]
    red = HealthStatus(StatusColour.RED, NOW - timedelta(hours=1), StatusReason.POSITIVE_TEST)
    red_qinghai = Issuer(issuer_signer, Region("630000")).issue(dataclasses.replace(sample_payload, status=red),
                                                               now=NOW)
    macau_signer = SoftwareSigner.generate()
    macau_code = Issuer(macau_signer, Region("810000")).issue(HealthPayload(status=HealthStatus(
        StatusColour.GREEN, NOW)), now=NOW)
    keys = [issuer_key(issuer_signer.public_key_pem(), region=Region("630000")),
            issuer_key(macau_signer.public_key_pem(), region=Region("810000"))]
    state = StateStore(tmp_path / "state")
    permissive = RuleBundle.load(RuleBundle.build(partner, _allow_everything(tmp_path), seq=1,
                                                  valid_for=timedelta(days=30), now=BUILT), roots, state=state)
    verifier = Verifier(keys=keys, rules=permissive)
    with pytest.raises(RulesRejected) as info:  # the partner's bundle cannot pass a red Qinghai code
        verifier.verify(red_qinghai, at=NOW)
    assert info.value.code is ErrorCode.POLICY_REJECTED
    assert "governs rules only for regions 810000" in info.value.message
    macau = verifier.verify(macau_code, at=NOW)
    assert permissive.governs(macau) and macau.rules[0]["passed"] is True  # its own region: governed
    # the national root (no region scope) governs every code: its bundle rejects the red code
    national = RuleBundle.load(RuleBundle.build(root_signer, EXAMPLE_RULES, seq=1, valid_for=timedelta(days=30),
                                                now=BUILT), roots, state=state)
    with pytest.raises(RulesRejected) as info:
        Verifier(keys=keys, rules=national).verify(red_qinghai, at=NOW)
    assert "HP-STATUS-0001" in info.value.failed_rules
    # rollback state is per governing root: each root's bundles are sequenced apart
    assert state.read(f"rules-{partner.kid.hex()}").seq == 1
    assert state.read(f"rules-{root_signer.kid.hex()}").seq == 1
    older = RuleBundle.build(partner, _allow_everything(tmp_path / "b"), seq=0, valid_for=timedelta(days=30),
                             now=BUILT)
    with pytest.raises(TrustListError) as rollback:
        RuleBundle.load(older, roots, state=state)
    assert rollback.value.code is ErrorCode.TRUST_LIST_ROLLBACK


def test_issue15_item9_rule_file_json_errors_give_line_and_column(tmp_path: Path) -> None:
    import shutil
    from datetime import UTC, datetime, timedelta

    from healthpass import SoftwareSigner
    from healthpass.errors import RuleError
    from healthpass.rules import RuleBundle

    from .conftest import ROOT

    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "examples" / "rules", rules)
    rule_file = rules / "HP-STATUS-0001" / "rule.json"
    rule_file.write_text(rule_file.read_text("utf-8").replace('"ValidFrom"', '"ValidFrom" "'), encoding="utf-8")
    with pytest.raises(RuleError, match=r"is not valid JSON: Expecting ':' delimiter at line \d+ column \d+"):
        RuleBundle.build(SoftwareSigner.generate(), rules, seq=1, valid_for=timedelta(days=1),
                         now=datetime(2026, 11, 25, tzinfo=UTC))
