"""End to end: mint with real keys, verify offline, and every rejection with its stable code and stage."""

from __future__ import annotations

import dataclasses
import pickle
from datetime import timedelta

import pytest

from healthpass.codec import b45decode, decompress
from healthpass.errors import DecodeError, ErrorCode, HealthPassError, IssueError, Stage, VerificationError
from healthpass.issue import Issuer
from healthpass.model.cose import Algorithm, ClaimKey, HeaderLabel
from healthpass.model.credential import HealthPayload, HealthStatus, Kind, StatusColour
from healthpass.model.regions import Region
from healthpass.signers import SoftwareSigner
from healthpass.trust import issuer_key
from healthpass.verify import Verifier, VerifierPolicy

from ._craft import claims_for, make_code
from .conftest import NOW

LATER = NOW + timedelta(hours=1)


def _code_of(err: pytest.ExceptionInfo[HealthPassError]) -> tuple[str, str]:
    return err.value.code.value, err.value.stage.value


def test_round_trip_es256(code: str, verifier: Verifier, sample: HealthPayload) -> None:
    result = verifier.verify(code, at=LATER)
    assert result.payload == sample
    assert result.issuer == "630000" and result.issuer_region == Region("630000")
    assert result.issued_at == NOW and result.expires_at == NOW + timedelta(hours=72)
    assert result.algorithm is Algorithm.ES256
    assert len(result.credential_id or b"") == 8


def test_round_trip_eddsa_in_a_city_under_the_key_region(ed_signer: SoftwareSigner, verifier: Verifier,
                                                         sample: HealthPayload) -> None:
    text = Issuer(ed_signer, Region("110100")).issue(sample, now=NOW)
    result = verifier.verify(text, at=LATER)
    assert result.algorithm is Algorithm.EDDSA and result.issuer == "110100"


def test_json_shape(code: str, verifier: Verifier) -> None:
    out = verifier.verify(code, at=LATER).to_json()
    assert out["valid"] is True and out["error"] is None
    assert out["issuer"] == "630000" and out["issuer_region"]["name_en"] == "Qinghai"
    assert out["issued_at"] == "2026-11-25T12:00:00Z" and out["expires_at"] == "2026-11-28T12:00:00Z"
    assert out["credential"]["status"]["colour"] == "green"


def test_iso_alias_issuer(es_signer: SoftwareSigner, verifier: Verifier, sample: HealthPayload) -> None:
    text = Issuer(es_signer, "CN-QH").issue(sample, now=NOW)
    assert verifier.verify(text, at=LATER).issuer == "630000"


def test_whitespace_around_is_stripped(code: str, verifier: Verifier) -> None:
    verifier.verify(f"  {code}\n", at=LATER)


def test_expiry_and_leeway(code: str, verifier: Verifier) -> None:
    exp = NOW + timedelta(hours=72)
    verifier.verify(code, at=exp + timedelta(minutes=4))
    with pytest.raises(VerificationError) as info:
        verifier.verify(code, at=exp + timedelta(minutes=6))
    assert _code_of(info) == ("expired", "validity")


def test_not_yet_valid_with_leeway(code: str, verifier: Verifier) -> None:
    verifier.verify(code, at=NOW - timedelta(minutes=4))
    with pytest.raises(VerificationError) as info:
        verifier.verify(code, at=NOW - timedelta(minutes=6))
    assert _code_of(info) == ("not_yet_valid", "validity")
    strict = Verifier(keys=list(verifier.keys), policy=VerifierPolicy(leeway=timedelta(0)))
    with pytest.raises(VerificationError):
        strict.verify(code, at=NOW - timedelta(seconds=1))


@pytest.mark.parametrize(
    ("text", "code", "stage"),
    [
        ("", "prefix_invalid", "prefix"),
        ("HC2:ABC", "prefix_invalid", "prefix"),
        ("hp1:ABC", "prefix_invalid", "prefix"),
        ("HP1:abc", "base45_invalid", "base45"),
        ("HP1:A", "base45_invalid", "base45"),
        ("HP1:" + "A\tB", "base45_invalid", "base45"),
        ("HP1:BB8", "decompress_failed", "decompress"),
        ("HP1:" + "0" * 5000, "payload_too_large", "prefix"),
    ],
)
def test_early_stage_rejections(text: str, code: str, stage: str, verifier: Verifier) -> None:
    with pytest.raises(DecodeError) as info:
        verifier.verify(text, at=LATER)
    assert _code_of(info) == (code, stage)


def test_unknown_kid(sample: HealthPayload, verifier: Verifier) -> None:
    stranger = SoftwareSigner.generate()
    text = Issuer(stranger, Region("630000")).issue(sample, now=NOW)
    with pytest.raises(VerificationError) as info:
        verifier.verify(text, at=LATER)
    assert _code_of(info) == ("key_unknown", "key")


def test_kid_collision_tries_every_key(es_signer: SoftwareSigner, sample: HealthPayload, code: str) -> None:
    impostor = SoftwareSigner.generate()
    fake = dataclasses.replace(issuer_key(impostor.public_key_pem(), region=Region("630000")), kid=es_signer.kid)
    real = issuer_key(es_signer.public_key_pem(), region=Region("630000"))
    for order in ([fake, real], [real, fake]):
        Verifier(keys=order).verify(code, at=LATER)
    with pytest.raises(VerificationError) as info:
        Verifier(keys=[fake]).verify(code, at=LATER)
    assert _code_of(info) == ("signature_invalid", "signature")


def test_issuer_outside_key_region(es_signer: SoftwareSigner, verifier: Verifier, sample: HealthPayload) -> None:
    text = Issuer(es_signer, Region("110000")).issue(sample, now=NOW)
    with pytest.raises(VerificationError) as info:
        verifier.verify(text, at=LATER)
    assert _code_of(info) == ("issuer_mismatch", "scope")


def test_usage_not_allowed(es_signer: SoftwareSigner, code: str) -> None:
    key = issuer_key(es_signer.public_key_pem(), region=Region("630000"), kinds=frozenset({Kind.STATUS}))
    with pytest.raises(VerificationError) as info:
        Verifier(keys=[key]).verify(code, at=LATER)
    assert _code_of(info) == ("usage_not_allowed", "scope")


def test_algorithm_not_in_allow_list(code: str, verifier: Verifier) -> None:
    only_ed = Verifier(keys=list(verifier.keys), policy=VerifierPolicy(algorithms=frozenset({Algorithm.EDDSA})))
    with pytest.raises(VerificationError) as info:
        only_ed.verify(code, at=LATER)
    assert _code_of(info) == ("algorithm_unsupported", "algorithm")


def test_es256_header_over_ed25519_key(ed_signer: SoftwareSigner, sample: HealthPayload, verifier: Verifier) -> None:
    iat = int(NOW.timestamp())
    text = make_code(ed_signer, claims_for(sample, iss="110000", iat=iat, exp=iat + 3600), alg=Algorithm.ES256)
    with pytest.raises(VerificationError) as info:
        verifier.verify(text, at=LATER)
    assert _code_of(info) == ("algorithm_unsupported", "signature")


def test_high_s_signature_rejected(es_signer: SoftwareSigner, sample: HealthPayload, verifier: Verifier) -> None:
    from healthpass.crypto import P256_ORDER

    def flip(sig: bytes) -> bytes:
        s = int.from_bytes(sig[32:], "big")
        return sig[:32] + (P256_ORDER - s).to_bytes(32, "big")

    iat = int(NOW.timestamp())
    text = make_code(es_signer, claims_for(sample, iat=iat, exp=iat + 3600), mutate_signature=flip)
    with pytest.raises(VerificationError) as info:
        verifier.verify(text, at=LATER)
    assert _code_of(info) == ("signature_invalid", "signature")


def test_claims_checks(es_signer: SoftwareSigner, sample: HealthPayload, verifier: Verifier) -> None:
    iat = int(NOW.timestamp())
    cases = {
        "exp before iat": claims_for(sample, iat=iat, exp=iat - 1),
        "iss not a region": claims_for(sample, iss="Qinghai", iat=iat, exp=iat + 60),
        "negative iat": claims_for(sample, iat=-5, exp=iat + 60),
        "unknown claim": claims_for(sample, iat=iat, exp=iat + 60, **{"99": 1}),
        "nbf after exp": claims_for(sample, iat=iat, exp=iat + 60, **{str(ClaimKey.NBF.value): iat + 120}),
    }
    for name, claims in cases.items():
        fixed = {int(k) if isinstance(k, str) and k.lstrip("-").isdigit() else k: v for k, v in claims.items()}
        text = make_code(es_signer, fixed)
        with pytest.raises(DecodeError) as info:
            verifier.verify(text, at=LATER)
        assert info.value.code is ErrorCode.CLAIMS_INVALID, name


def test_schema_invalid_payload(es_signer: SoftwareSigner, sample: HealthPayload, verifier: Verifier) -> None:
    iat = int(NOW.timestamp())
    claims = claims_for(sample, iat=iat, exp=iat + 60)
    claims[ClaimKey.HEALTHPASS.value][2][1] = 7  # status colour 7: neither standard nor extension
    with pytest.raises(DecodeError) as info:
        verifier.verify(make_code(es_signer, claims), at=LATER)
    assert _code_of(info) == ("schema_invalid", "schema")


def test_alg_only_in_unprotected_header_rejected(es_signer: SoftwareSigner, sample: HealthPayload,
                                                 verifier: Verifier) -> None:
    iat = int(NOW.timestamp())
    text = make_code(es_signer, claims_for(sample, iat=iat, exp=iat + 60),
                     protected={HeaderLabel.KID.value: es_signer.kid},
                     unprotected={HeaderLabel.ALG.value: Algorithm.ES256.value})
    with pytest.raises(DecodeError) as info:
        verifier.verify(text, at=LATER)
    assert _code_of(info) == ("cose_invalid", "cose")


def test_crit_with_unknown_parameter_rejected(es_signer: SoftwareSigner, sample: HealthPayload,
                                              verifier: Verifier) -> None:
    iat = int(NOW.timestamp())
    protected = {1: -7, 2: [99], 4: es_signer.kid, 99: 1}
    text = make_code(es_signer, claims_for(sample, iat=iat, exp=iat + 60), protected=protected)
    with pytest.raises(DecodeError) as info:
        verifier.verify(text, at=LATER)
    assert _code_of(info) == ("cose_invalid", "cose")


def test_reencoded_payload_rejected(code: str, verifier: Verifier) -> None:
    """The same claims re-encoded non-deterministically: the signature is over other bytes."""
    import cbor2

    message = cbor2.loads(decompress(b45decode(code[4:]), max_size=10_000))
    assert message.tag == 18
    with pytest.raises(DecodeError):  # untagged
        verifier.verify("HP1:" + __import__("healthpass.codec", fromlist=["x"]).b45encode(
            __import__("healthpass.codec", fromlist=["x"]).compress(cbor2.dumps(message.value))), at=LATER)


def test_signature_from_another_code_rejected(issuer: Issuer, sample: HealthPayload, verifier: Verifier) -> None:
    import cbor2

    from healthpass.codec import b45encode, compress

    a = cbor2.loads(decompress(b45decode(issuer.issue(sample, now=NOW)[4:]), max_size=10_000))
    b = cbor2.loads(decompress(b45decode(issuer.issue(sample, now=NOW)[4:]), max_size=10_000))
    swapped = cbor2.CBORTag(a.tag, [*a.value[:3], b.value[3]])  # cbor2 6 decodes a tag's content as a tuple
    with pytest.raises(VerificationError) as info:
        verifier.verify("HP1:" + b45encode(compress(cbor2.dumps(swapped))), at=LATER)
    assert info.value.code is ErrorCode.SIGNATURE_INVALID


def test_capacity_planner_refuses_large_codes(es_signer: SoftwareSigner, sample: HealthPayload) -> None:
    with pytest.raises(IssueError) as info:
        Issuer(es_signer, Region("630000"), max_qr_version=8).issue(sample, now=NOW)
    assert info.value.code is ErrorCode.TOO_LARGE_FOR_QR and info.value.stage is Stage.ISSUE
    assert "version" in info.value.message


def test_issuer_scope(es_signer: SoftwareSigner, sample: HealthPayload) -> None:
    with pytest.raises(IssueError) as info:
        Issuer(es_signer, Region("630000"), kinds=frozenset({Kind.STATUS})).issue(sample, now=NOW)
    assert info.value.code is ErrorCode.OUT_OF_SCOPE


def test_status_only_code_and_regional_extension(issuer: Issuer, verifier: Verifier) -> None:
    status = HealthPayload(status=HealthStatus(colour=17, set_at=NOW))
    result = verifier.verify(issuer.issue(status, now=NOW), at=LATER)
    assert result.payload is not None and result.payload.status is not None
    assert result.payload.status.is_extension and result.payload.status.colour == 17
    green = HealthPayload(status=HealthStatus(colour=StatusColour.GREEN, set_at=NOW))
    assert verifier.verify(issuer.issue(green, now=NOW), at=LATER).payload == green


def test_no_personal_data_in_repr(code: str, verifier: Verifier, sample_json: dict) -> None:
    result = verifier.verify(code, at=LATER)
    shown = repr(result) + repr(result.payload) + repr(result.payload.holder if result.payload else None)
    assert sample_json["holder"]["name"] not in shown
    assert sample_json["holder"]["name_std"] not in shown
    assert sample_json["holder"]["birth_date"] not in shown


def test_batch_in_order_with_errors(code: str, verifier: Verifier) -> None:
    texts = [code, "garbage", code, "HP1:abc"]
    results = list(verifier.verify_many(texts, at=LATER, chunk_size=2))
    assert [r.credential is not None for r in results] == [True, False, True, False]
    assert [r.error.code.value for r in results if r.error] == ["prefix_invalid", "base45_invalid"]


def test_batch_with_process_pool(code: str, verifier: Verifier) -> None:
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(2) as pool:
        results = list(verifier.verify_many([code] * 20 + ["x"], at=LATER, executor=pool, chunk_size=4))
    assert sum(r.credential is not None for r in results) == 20
    assert results[-1].error is not None


def test_verifier_and_errors_pickle(verifier: Verifier, code: str) -> None:
    clone = pickle.loads(pickle.dumps(verifier))
    assert clone.verify(code, at=LATER).issuer == "630000"
    err = DecodeError(ErrorCode.CBOR_INVALID, Stage.CBOR, "x")
    again = pickle.loads(pickle.dumps(err))
    assert (again.code, again.stage, again.message) == (err.code, err.stage, err.message)


def test_issue_many_in_order(issuer: Issuer, sample: HealthPayload, verifier: Verifier) -> None:
    codes = list(issuer.issue_many([sample] * 5, now=NOW, chunk_size=2))
    assert len(codes) == 5
    for text in codes:
        assert isinstance(text, str)
        assert verifier.verify(text, at=LATER).payload == sample


def test_unscoped_key_never_verifies_a_healthpass_code(es_signer: SoftwareSigner, code: str) -> None:
    """A key trusted for no region (as an EU signer certificate given with --dsc is) cannot vouch for HP1."""
    unscoped = issuer_key(es_signer.public_key_pem(), source="dsc")
    assert unscoped.region is None
    with pytest.raises(VerificationError) as info:
        Verifier(keys=[unscoped]).verify(code, at=LATER)
    assert _code_of(info) == ("issuer_mismatch", "scope")


def test_healthpass_issuer_key_never_verifies_an_eu_code(es_signer: SoftwareSigner) -> None:
    """A province key signing an EU-format code: refused (its region scope cannot be applied to HC1)."""
    from healthpass.model.cose import ClaimKey

    iat = int(NOW.timestamp())
    dcc = {"ver": "1.3.0", "nam": {"fnt": "X"}, "dob": "1980",
           "v": [{"tg": "840539006", "vp": "1119349007", "mp": "EU/1/20/1528", "ma": "ORG-100030215", "dn": 2,
                  "sd": 2, "dt": "2021-06-01", "co": "AT", "is": "x", "ci": "URN:UVCI:01:AT:X"}]}
    claims = {ClaimKey.ISS.value: "AT", ClaimKey.IAT.value: iat, ClaimKey.EXP.value: iat + 3600,
              ClaimKey.HCERT.value: {1: dcc}}
    text = make_code(es_signer, claims, deterministic=False, prefix="HC1:")
    key = issuer_key(es_signer.public_key_pem(), region=Region("630000"))
    with pytest.raises(VerificationError) as info:
        Verifier(keys=[key]).verify(text, at=LATER)
    assert _code_of(info) == ("issuer_mismatch", "scope")
    unscoped = issuer_key(es_signer.public_key_pem(), source="dsc")
    assert Verifier(keys=[unscoped]).verify(text, at=LATER).format.value == "HC1:"
