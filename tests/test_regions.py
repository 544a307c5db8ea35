"""Regions: GB/T 2260 codes with ISO 3166-2:CN aliases, accepted the same way by every API parameter."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
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
    TrustRoot,
    Verifier,
    issuer_key,
    trust_root,
)
from healthpass.model.credential import RiskLevel, TestResult
from healthpass.trust import keys_from_manifest

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
STATUS = HealthPayload(status=HealthStatus(colour=1, set_at=NOW))


def test_issue15_item6_region_accepts_iso_codes() -> None:
    assert Region("CN-BJ") == Region("110000") == Region("cn-bj") == Region("CN-11") == Region.parse(" CN-BJ ")
    assert Region("CN-QH").code == "630000" and str(Region("CN-QH")) == "630000"
    assert Region("CN-HK").province.name_en == "Hong Kong"
    for bad in ("CN-XX", "CN-99", "CN-", "QH", "63", "\uff16\uff13\uff10\uff10\uff10\uff10", "CN-٦٣"):
        with pytest.raises(ValueError):
            Region(bad)
    for wrong in (630000, None, b"630000", Region("630000")):
        with pytest.raises(TypeError):
            Region(wrong)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            Region.parse(wrong)  # type: ignore[arg-type]


def test_issue15_item6_issuer_key_region_string(es_signer: SoftwareSigner) -> None:
    pem = es_signer.public_key_pem()
    key = issuer_key(pem, region="630000")
    assert key.region == Region("630000") and type(key.region) is Region
    assert "region=630000" in repr(key)  # was AttributeError
    assert issuer_key(pem, region="CN-QH") == key
    code = Issuer(es_signer, "630100").issue(STATUS, now=NOW)
    assert Verifier(keys=[key]).verify(code, at=NOW).issuer == "630100"  # was AttributeError
    with pytest.raises(TypeError, match="region must be a Region or a region code string"):
        issuer_key(pem, region=630000)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="region"):
        issuer_key(pem, region="Qinghai")


def test_issue15_item6_issuer_region(es_signer: SoftwareSigner) -> None:
    assert Issuer(es_signer, "CN-QH").region == Region("630000")
    assert Issuer(es_signer, " 630100 ").region == Region("630100")
    with pytest.raises(TypeError, match=r"Issuer\.region"):
        Issuer(es_signer, 630000)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"Issuer\.region"):
        Issuer(es_signer, "CN-XX")


def test_issue15_item6_issuer_key_and_root_values(es_signer: SoftwareSigner) -> None:
    key = issuer_key(es_signer.public_key_pem())
    assert dataclasses.replace(key, region="CN-BJ").region == Region("110000")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"IssuerKey\.region"):
        dataclasses.replace(key, region=110000)  # type: ignore[arg-type]
    root = TrustRoot(kid=b"k", key_der=b"d", regions=["630000", Region("CN-BJ")])  # type: ignore[arg-type]
    assert root.regions == frozenset({Region("630000"), Region("110000")})
    assert root.vouches_for("630100") and not root.vouches_for("CN-ZJ")
    assert Region("630000").covers("630102") and not Region("630000").covers("CN-BJ")
    with pytest.raises(TypeError):
        Region("630000").covers(630102)  # type: ignore[arg-type]


def test_issue15_item6_trust_root_regions(es_signer: SoftwareSigner) -> None:
    pem = es_signer.public_key_pem()
    root = trust_root(pem, regions=["CN-QH", "110000"])
    assert root.regions == frozenset({Region("630000"), Region("110000")})
    with pytest.raises(TypeError, match="iterable of regions"):
        trust_root(pem, regions="630000")  # a bare string would be read character by character
    with pytest.raises(TypeError, match=r"regions\[0\]"):
        trust_root(pem, regions=[630000])  # type: ignore[list-item]
    with pytest.raises(ValueError, match=r"regions\[1\]"):
        trust_root(pem, regions=["630000", "CN-XX"])


def test_issue15_item6_trust_list_build_with_string_regions(es_signer: SoftwareSigner) -> None:
    root = SoftwareSigner.generate()
    key = dataclasses.replace(issuer_key(es_signer.public_key_pem()), region="CN-QH")  # type: ignore[arg-type]
    data = TrustList.build(root, seq=1, keys=[key], valid_for=timedelta(days=7), now=NOW)
    tl = TrustList.load(data, [trust_root(root.public_key_pem(), regions=["CN-QH"])])
    code = Issuer(es_signer, "CN-QH").issue(STATUS, now=NOW)
    assert Verifier(trust_lists=[tl]).verify(code, at=NOW).issuer_region == Region("630000")


def test_issue15_item6_manifest_regions(es_signer: SoftwareSigner, tmp_path: Path) -> None:
    (tmp_path / "qh.pub.pem").write_bytes(es_signer.public_key_pem())
    keys, _, _ = keys_from_manifest({"keys": [{"region": "CN-QH", "public_key": "qh.pub.pem"}]}, base=tmp_path)
    assert keys[0].region == Region("630000")
    for region, wanted in ((630000, "keys\\[0\\].region must be a region code string"),
                           (None, "keys\\[0\\].region must be"), ("CN-XX", "keys\\[0\\].region")):
        manifest = json.loads(json.dumps({"keys": [{"region": region, "public_key": "qh.pub.pem"}]}))
        with pytest.raises(ValueError, match=wanted):
            keys_from_manifest(manifest, base=tmp_path)
    with pytest.raises(ValueError, match=r"keys\[0\]\.region must be"):
        keys_from_manifest({"keys": [{"public_key": "qh.pub.pem"}]}, base=tmp_path)


def test_issue15_item6_payload_regions() -> None:
    naat = NaatTest(sampled_at=NOW, result=TestResult.NEGATIVE, region="CN-QH")  # type: ignore[arg-type]
    assert naat.region == Region("630000")
    assert RegionRisk(region="630100", level=RiskLevel.LOW).region == Region("630100")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"region_risk\.region"):
        RegionRisk(region=630100, level=RiskLevel.LOW)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"naat\.region"):
        NaatTest(sampled_at=NOW, result=TestResult.NEGATIVE, region=630100)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"naat\.region"):
        NaatTest(sampled_at=NOW, result=TestResult.NEGATIVE, region="CN-XX")  # type: ignore[arg-type]


def test_issue15_item6_issuer_key_value_takes_a_code_string() -> None:
    assert IssuerKey(kid=b"k", key_der=b"d", region="CN-SH").region == Region("310000")  # type: ignore[arg-type]
