"""A code rejected after its signature verified keeps what it proved (issue 15 item 9): ``error.verified``
holds its issuer, kid, algorithm and times (never personal data), in the library, across processes and in
the JSON result; errors raised before the signature check carry nothing."""

from __future__ import annotations

import pickle
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from healthpass import (
    DecodeError,
    HealthPayload,
    HealthStatus,
    Issuer,
    PolicyError,
    SoftwareSigner,
    VerificationError,
    Verifier,
    issuer_key,
    trust_root,
)
from healthpass.errors import ErrorCode, HealthPassError, Stage, VerifiedContext
from healthpass.rules import RuleBundle
from healthpass.verify import VerificationResult

from ._craft import claims_for, make_code

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
STATUS = HealthPayload(status=HealthStatus(colour=1, set_at=NOW))


@pytest.fixture(scope="module")
def signer() -> SoftwareSigner:
    return SoftwareSigner.generate()


@pytest.fixture(scope="module")
def verifier(signer: SoftwareSigner) -> Verifier:
    return Verifier(keys=[issuer_key(signer.public_key_pem(), region="630000")])


def _rejected(verifier: Verifier, text: str, at: datetime) -> HealthPassError:
    with pytest.raises(HealthPassError) as info:
        verifier.verify(text, at=at)
    return info.value


def test_issue15_item9_expired_code_keeps_its_context(signer: SoftwareSigner, verifier: Verifier) -> None:
    text = Issuer(signer, "630100").issue(STATUS, now=NOW)
    err = _rejected(verifier, text, NOW + timedelta(days=4))
    assert isinstance(err, VerificationError) and err.code is ErrorCode.EXPIRED
    assert err.verified == VerifiedContext("HP1", "630100", signer.kid, "ES256", NOW, NOW + timedelta(hours=72))
    restored = pickle.loads(pickle.dumps(err))  # batch workers send errors back to the parent
    assert restored.verified == err.verified and str(restored) == str(err)
    out = VerificationResult(None, err).to_json()
    assert out["issuer"] == "630100" and out["kid"] == signer.kid.hex()
    assert out["issued_at"] == "2026-11-25T12:00:00Z" and out["expires_at"] == "2026-11-28T12:00:00Z"
    assert out["credential"] is None and "payload" not in out


def test_issue15_item9_scope_errors_keep_their_context(signer: SoftwareSigner) -> None:
    text = Issuer(signer, "630100").issue(STATUS, now=NOW)
    beijing_only = Verifier(keys=[issuer_key(signer.public_key_pem(), region="110000")])
    err = _rejected(beijing_only, text, NOW)
    assert err.code is ErrorCode.ISSUER_MISMATCH and err.verified is not None
    assert err.verified.issuer == "630100" and err.verified.kid == signer.kid


def test_issue15_item9_errors_before_the_signature_carry_nothing(signer: SoftwareSigner,
                                                                 verifier: Verifier) -> None:
    text = Issuer(SoftwareSigner.generate(), "630000").issue(STATUS, now=NOW)
    assert _rejected(verifier, text, NOW).verified is None  # key_unknown
    forged = make_code(signer, claims_for(STATUS, iat=1795608000, exp=1795608000 + 3600),
                       sign_with=SoftwareSigner.generate())
    err = _rejected(verifier, forged, NOW)
    assert err.code is ErrorCode.SIGNATURE_INVALID and err.verified is None
    assert _rejected(verifier, "HP1:garbage", NOW).verified is None
    plain = HealthPassError(ErrorCode.EXPIRED, Stage.VALIDITY, "x")
    assert plain.verified is None and pickle.loads(pickle.dumps(plain)).verified is None


def test_issue15_item9_context_never_carries_an_iss_that_is_not_a_region(signer: SoftwareSigner,
                                                                         verifier: Verifier) -> None:
    """A trusted key that signed text in ``iss``: the code is refused and the text is not repeated."""
    for iss in ("张三 110101198001011234", "CN-QH", " 630000"):
        text = make_code(signer, claims_for(STATUS, iss=iss, iat=1795608000, exp=1795608000 + 3600))
        err = _rejected(verifier, text, NOW)
        assert isinstance(err, DecodeError) and err.code is ErrorCode.CLAIMS_INVALID
        assert err.verified is not None and err.verified.issuer is None and err.verified.kid == signer.kid
        assert iss.strip() not in str(err) and iss.strip() not in str(VerificationResult(None, err).to_json())


def test_issue15_item6_wire_iss_stays_six_digits(signer: SoftwareSigner, verifier: Verifier) -> None:
    """Region() reads ISO codes on input since item 6; a code's iss must still be six digits."""
    for iss in ("CN-QH", "cn-63", "630000 "):
        text = make_code(signer, claims_for(STATUS, iss=iss, iat=1795608000, exp=1795608000 + 3600))
        with pytest.raises(DecodeError, match="iss is not a six-digit region code"):
            verifier.verify(text, at=NOW)
    good = make_code(signer, claims_for(STATUS, iss="630000", iat=1795608000, exp=1795608000 + 3600))
    assert verifier.verify(good, at=NOW).issuer == "630000"


def test_issue15_item9_policy_rejection_keeps_the_context(signer: SoftwareSigner) -> None:
    root = SoftwareSigner.generate()
    data = RuleBundle.build(root, ROOT / "examples" / "rules", seq=1, valid_for=timedelta(days=30),
                            now=NOW - timedelta(days=1))
    bundle = RuleBundle.load(data, [trust_root(root.public_key_pem())])
    checked = Verifier(keys=[issuer_key(signer.public_key_pem(), region="630000")], rules=bundle)
    red = HealthPayload(status=HealthStatus(colour=3, set_at=NOW))
    err = _rejected(checked, Issuer(signer, "630000").issue(red, now=NOW), NOW)
    assert isinstance(err, PolicyError) and err.failed_rules
    assert err.verified is not None and err.verified.issuer == "630000" and err.verified.expires_at
    assert pickle.loads(pickle.dumps(err)).verified == err.verified
    late = _rejected(checked, Issuer(signer, "630000").issue(STATUS, now=NOW + timedelta(days=40)),
                     NOW + timedelta(days=40))  # the bundle expired: still after the signature
    assert late.code is ErrorCode.TRUST_LIST_EXPIRED and late.verified is not None


def test_issue15_item9_context_crosses_process_batches(signer: SoftwareSigner, verifier: Verifier) -> None:
    text = Issuer(signer, "630000").issue(STATUS, now=NOW)
    with ProcessPoolExecutor(max_workers=1) as pool:
        [result] = verifier.verify_many([text], at=NOW + timedelta(days=4), executor=pool)
    assert result.error is not None and result.error.verified is not None
    assert result.error.verified.expires_at == NOW + timedelta(hours=72)
