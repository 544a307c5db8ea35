"""EU DCC (``HC1:``) through the healthpass verifier.

Part 1 runs every test file of the EU conformance data (``<shared>/vectors/dgc-testdata``) through
``tests/eu_dcc_harness.py`` (the flag -> stage/error-code mapping is documented there and in
``docs/eu-dcc.md``); known data defects are in ``tests/eu_dcc_skiplist.csv``.  Part 2 builds its own
``HC1:`` codes with fresh keys and certificates: algorithms, COSE shapes, kid placement, certificate
lifetime and key usage, the structural rules, schema warnings against strict rejection, the normalised view
and the absence of personal data in errors.
"""

from __future__ import annotations

import copy
import dataclasses
import fnmatch
import json
import pickle
import zlib
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import cbor2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

from healthpass.codec import Prefix, b45encode
from healthpass.errors import DecodeError, ErrorCode, HealthPassError, Stage, VerificationError
from healthpass.formats import eu_dcc
from healthpass.formats.eu_dcc import DccSchemas
from healthpass.model.credential import DoseKind, InfectionKind, NaatType, TestResult
from healthpass.model.trust import IssuerKey
from healthpass.trust import issuer_key
from healthpass.verify import Verifier, VerifierPolicy

from . import eu_dcc_harness as harness
from ._shared import find_shared_dir, shared_dir

SKIPLIST_PATH = Path(__file__).with_name("eu_dcc_skiplist.csv")
_SHARED = find_shared_dir()
_DATA = _SHARED / "vectors" / "dgc-testdata" if _SHARED else None
_SCHEMA_DIR = _SHARED / "vectors" / "eu-dcc-schema" if _SHARED else None
_CASES = harness.load_cases(_DATA) if _DATA is not None and _DATA.is_dir() else []


# ================================================================================ part 1: EU test data


@cache
def _skiplist() -> harness.SkipList:
    return harness.SkipList.load(SKIPLIST_PATH)


@cache
def _schemas() -> DccSchemas | None:
    return DccSchemas.load(_SCHEMA_DIR) if _SCHEMA_DIR is not None and _SCHEMA_DIR.is_dir() else None


@cache
def _report(name: str) -> harness.FileReport:
    case = next(c for c in _CASES if c.name == name)
    return harness.evaluate(case, _skiplist(), schemas=_schemas())


def _all_reports() -> list[harness.FileReport]:
    return [_report(c.name) for c in _CASES]


@pytest.mark.parametrize("name", [c.name for c in _CASES] or ["<no data>"])
def test_eu_conformance_file(name: str) -> None:
    """Every gated EXPECTEDRESULTS flag of one test file holds, or the file/flag is on the skip-list."""
    if not _CASES:
        shared_dir()
        pytest.skip("EU DCC test data (vectors/dgc-testdata) not found in the shared folder")
    report = _report(name)
    bad = [f"{c.flag}={c.expected}: {c.outcome.value}: {c.detail}" for c in report.checks
           if c.outcome in (harness.Outcome.FAIL, harness.Outcome.STALE)]
    assert not bad, "\n".join(bad)


def test_eu_conformance_summary(capsys: pytest.CaptureFixture[str]) -> None:
    """Totals over the whole data: nothing fails, every skip-list row is used, no check silently vanishes."""
    if not _CASES:
        shared_dir()
        pytest.skip("EU DCC test data not found")
    reports = _all_reports()
    summary = harness.summarise(reports)
    with capsys.disabled():
        print("\n" + harness.markdown(summary))
    assert summary["files"] == 490
    for flag, counts in summary["by_flag"].items():
        assert counts.get("failed", 0) == 0 and counts.get("stale", 0) == 0, flag
    # Lower bounds (passed checks per flag) so that a harness regression cannot pass by skipping.
    minimum = {"UNPREFIX": 457, "B45DECODE": 451, "COMPRESSION": 427, "DECODE": 457, "VALIDJSON": 441,
               "VERIFY": 447, "KEYUSAGE": 332, "EXPIRATIONCHECK": 407}
    for flag, count in minimum.items():
        assert summary["by_flag"][flag].get("passed", 0) >= count, flag
    picture = summary["by_flag"]["PICTUREDECODE"]
    assert picture.get("passed", 0) >= 435 or picture.get("unavailable", 0) > 0
    # Every skip-list row matches at least one check it skips.
    used = {(p, f) for p, f, _ in _skiplist().rows
            if any(c.outcome is harness.Outcome.SKIPPED and c.flag == f and fnmatch.fnmatchcase(r.name, p)
                   for r in reports for c in r.checks)}
    assert used == {(p, f) for p, f, _ in _skiplist().rows}
    # The expected negative cases are all exercised: each false flag is checked somewhere.
    negatives = {c.flag for r in reports for c in r.checks if not c.expected and c.outcome is harness.Outcome.PASS}
    assert negatives >= {"UNPREFIX", "B45DECODE", "COMPRESSION", "DECODE", "VERIFY", "KEYUSAGE", "EXPIRATIONCHECK"}


def test_eu_pictures_available() -> None:
    """PICTUREDECODE needs ``healthpass.qr`` and a QR reader; say so when they are missing."""
    try:
        from healthpass import qr
    except ImportError as err:
        pytest.skip(f"PICTUREDECODE not checked: healthpass.qr is not importable ({err})")
    assert callable(qr.scan)


def test_skiplist_format() -> None:
    rows = _skiplist().rows
    assert rows, "the skip-list is empty"
    for path, flag, reason in rows:
        assert flag in harness.GATED_FLAGS, flag
        assert len(reason) > 20 and path


@pytest.mark.parametrize(("text", "expected"), [
    ("2021-05-03T20:00:00+02:00", datetime(2021, 5, 3, 18, 0, tzinfo=UTC)),
    ("2021-05-03T18:00:00Z", datetime(2021, 5, 3, 18, 0, tzinfo=UTC)),
    ("2021-05-03T18:00:00", datetime(2021, 5, 3, 18, 0, tzinfo=UTC)),
    ("2021-05-17T09:11:47.777Z", datetime(2021, 5, 17, 9, 11, 47, 777000, tzinfo=UTC)),
    ("2021-05-21T12:26:07.390079Z", datetime(2021, 5, 21, 12, 26, 7, 390079, tzinfo=UTC)),
    ("2021-06-01T10:00:00.123456789+0200", datetime(2021, 6, 1, 8, 0, 0, 123456, tzinfo=UTC)),
    ("2021-06-01T10:00:00.5-01:30", datetime(2021, 6, 1, 11, 30, 0, 500000, tzinfo=UTC)),
])
def test_parse_clock(text: str, expected: datetime) -> None:
    assert harness.parse_clock(text) == expected


def test_parse_clock_rejects_garbage() -> None:
    for text in ("2021-05-03", "yesterday", "2021-05-03T18:00:00.1234567890Z"):
        with pytest.raises(ValueError):
            harness.parse_clock(text)


# ============================================================================ part 2: own HC1 codes

NOW = datetime(2021, 6, 1, 12, 0, tzinfo=UTC)
TEST_OID, VACC_OID, RECO_OID = (f"1.3.6.1.4.1.1847.2021.1.{i}" for i in (1, 2, 3))
BAD_TEST_OID, BAD_VACC_OID, BAD_RECO_OID = (f"1.3.6.1.4.1.0.1847.2021.1.{i}" for i in (1, 2, 3))
SECRET_NAME = "Zyxwvutsson"
SECRET_DOB = "1964-08-12"

VACCINATION: dict[str, Any] = {
    "ver": "1.3.0",
    "nam": {"fn": SECRET_NAME, "fnt": "ZYXWVUTSSON", "gn": "Erika", "gnt": "ERIKA"},
    "dob": SECRET_DOB,
    "v": [{"tg": "840539006", "vp": "1119349007", "mp": "EU/1/20/1528", "ma": "ORG-100030215", "dn": 2, "sd": 2,
           "dt": "2021-05-18", "co": "AT", "is": "Ministry of Health", "ci": "URN:UVCI:01:AT:10807843F94AEE0EE509#B"}],
}
NAAT: dict[str, Any] = {
    "ver": "1.3.0",
    "nam": {"fn": SECRET_NAME, "fnt": "ZYXWVUTSSON"},
    "dob": "1964",
    "t": [{"tg": "840539006", "tt": "LP6464-4", "nm": "PCR", "sc": "2021-05-30T14:34:56.789+02:00",
           "tr": "260415000", "tc": "Test centre", "co": "DE", "is": "RKI", "ci": "URN:UVCI:01:DE:ABC#1"}],
}
RECOVERY: dict[str, Any] = {
    "ver": "1.3.0",
    "nam": {"fnt": "ZYXWVUTSSON", "gnt": "ERIKA"},
    "dob": "1964-08",
    "r": [{"tg": "840539006", "fr": "2021-03-01", "co": "XK", "is": "Ministry", "df": "2021-03-12",
           "du": "2021-08-28", "ci": "URN:UVCI:01:XK:XYZ#2"}],
}


@dataclasses.dataclass
class Dsc:
    """A signer certificate with its private key."""

    private: Any
    der: bytes

    @property
    def kid(self) -> bytes:
        return issuer_key(self.der).kid

    def issuer_key(self) -> IssuerKey:
        return issuer_key(self.der, source="dsc")

    @property
    def alg(self) -> int:
        return -37 if isinstance(self.private, rsa.RSAPrivateKey) else -7

    def sign(self, data: bytes) -> bytes:
        if isinstance(self.private, rsa.RSAPrivateKey):
            return self.private.sign(data, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
        r, s = decode_dss_signature(self.private.sign(data, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")


@cache
def _private(kind: str) -> Any:
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=int(kind.removeprefix("rsa")))


def make_dsc(kind: str = "ec", *, ekus: tuple[str, ...] = (), days: tuple[int, int] = (-60, 300),
             fresh: bool = False) -> Dsc:
    private = ec.generate_private_key(ec.SECP256R1()) if fresh else _private(kind)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "DSC test"),
                      x509.NameAttribute(NameOID.COUNTRY_NAME, "AT")])
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(private.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(NOW + timedelta(days=days[0])).not_valid_after(NOW + timedelta(days=days[1])))
    if ekus:
        builder = builder.add_extension(x509.ExtendedKeyUsage([x509.ObjectIdentifier(o) for o in ekus]), False)
    cert = builder.sign(private, hashes.SHA256())
    return Dsc(private, cert.public_bytes(serialization.Encoding.DER))


def make_code(
    dsc: Dsc,
    dcc: Mapping[str, Any] | None = None,
    *,
    kid: bytes | None = None,
    kid_where: str = "protected",
    unprotected_kid: bytes | None = None,
    tags: tuple[int, ...] = (18,),
    iat: float | None = None,
    exp: float | None = None,
    claims: dict[Any, Any] | None = None,
    tamper: bool = False,
) -> str:
    """An HC1 code signed by ``dsc`` (alg always protected; kid where asked)."""
    kid = dsc.kid if kid is None else kid
    protected_map: dict[int, Any] = {1: dsc.alg}
    unprotected: dict[int, Any] = {}
    if kid_where in ("protected", "both"):
        protected_map[4] = kid
    if kid_where in ("unprotected", "both"):
        unprotected[4] = unprotected_kid if unprotected_kid is not None else kid
    body = claims if claims is not None else {
        1: "AT",
        6: iat if iat is not None else int((NOW - timedelta(days=1)).timestamp()),
        4: exp if exp is not None else int((NOW + timedelta(days=30)).timestamp()),
        -260: {1: dict(dcc if dcc is not None else VACCINATION)},
    }
    protected = cbor2.dumps(protected_map)
    payload = cbor2.dumps(body)
    signature = dsc.sign(cbor2.dumps(["Signature1", protected, b"", payload]))
    if tamper:
        signature = bytes([signature[0] ^ 1]) + signature[1:]
    message: Any = [protected, unprotected, payload, signature]
    for tag in reversed(tags):
        message = cbor2.CBORTag(tag, message)
    return Prefix.HC1.value + b45encode(zlib.compress(cbor2.dumps(message)))


def verify(code: str, *keys: IssuerKey, at: datetime = NOW, **policy: Any) -> Any:
    return Verifier(keys=keys, policy=VerifierPolicy(**policy)).verify(code, at=at)


def expect_error(code: ErrorCode, stage: Stage, text: str, *keys: IssuerKey, **policy: Any) -> HealthPassError:
    with pytest.raises(HealthPassError) as info:
        verify(text, *keys, **policy)
    assert (info.value.code, info.value.stage) == (code, stage), info.value
    return info.value


# ---------------------------------------------------------------------------- algorithms and shapes


@pytest.mark.parametrize("kind", ["ec", "rsa2048", "rsa3072"])
def test_algorithms(kind: str) -> None:
    dsc = make_dsc(kind)
    result = verify(make_code(dsc), dsc.issuer_key())
    assert result.format is Prefix.HC1
    assert result.algorithm.jose_name == ("ES256" if kind == "ec" else "PS256")
    assert result.kid == dsc.kid and result.key_source == "dsc"
    assert result.dcc == VACCINATION
    assert result.issuer == "AT"  # informational for HC1
    tampered = make_code(dsc, tamper=True)
    expect_error(ErrorCode.SIGNATURE_INVALID, Stage.SIGNATURE, tampered, dsc.issuer_key())


@pytest.mark.parametrize("tags", [(18,), (), (61, 18)], ids=["tagged", "untagged", "cwt-tagged"])
def test_cose_shapes(tags: tuple[int, ...]) -> None:
    dsc = make_dsc()
    assert verify(make_code(dsc, tags=tags), dsc.issuer_key()).dcc == VACCINATION


def test_other_tags_rejected() -> None:
    dsc = make_dsc()
    expect_error(ErrorCode.COSE_INVALID, Stage.COSE, make_code(dsc, tags=(61,)), dsc.issuer_key())
    expect_error(ErrorCode.COSE_INVALID, Stage.COSE, make_code(dsc, tags=(18, 18)), dsc.issuer_key())


def test_float_times() -> None:
    dsc = make_dsc()
    iat = (NOW - timedelta(hours=2)).timestamp() + 0.68
    exp = (NOW + timedelta(days=2)).timestamp() + 0.5
    result = verify(make_code(dsc, iat=iat, exp=exp), dsc.issuer_key())
    assert result.issued_at == datetime.fromtimestamp(int(iat), UTC)
    assert result.expires_at == datetime.fromtimestamp(int(exp), UTC)


# ------------------------------------------------------------------------------------------- kid


def test_kid_placement() -> None:
    """BasicDgcTestsList CO18-CO23 with alg in the protected header (the EU files move alg out of it)."""
    dsc = make_dsc()
    key = dsc.issuer_key()
    wrong = b"\x00" * 8
    assert verify(make_code(dsc, kid_where="protected"), key)  # CO18
    assert verify(make_code(dsc, kid_where="unprotected"), key)  # CO19
    assert verify(make_code(dsc, kid_where="both"), key)  # CO20
    assert verify(make_code(dsc, kid_where="both", unprotected_kid=b"foo"), key)  # CO21: protected wins
    expect_error(ErrorCode.KEY_UNKNOWN, Stage.KEY,  # CO22: the wrong protected kid wins
                 make_code(dsc, kid=b"foo", kid_where="both", unprotected_kid=dsc.kid), key)
    expect_error(ErrorCode.KEY_UNKNOWN, Stage.KEY, make_code(dsc, kid=b"foo", kid_where="unprotected"), key)  # CO23
    expect_error(ErrorCode.COSE_INVALID, Stage.COSE, make_code(dsc, kid_where="none"), key)
    expect_error(ErrorCode.KEY_UNKNOWN, Stage.KEY, make_code(dsc, kid=wrong), key)


def test_unknown_kid_fails_even_if_a_trusted_key_would_verify() -> None:
    dsc = make_dsc()
    code = make_code(dsc, kid=bytes(8))
    expect_error(ErrorCode.KEY_UNKNOWN, Stage.KEY, code, dsc.issuer_key())


def test_every_key_sharing_a_kid_is_tried() -> None:
    dsc, other = make_dsc(), make_dsc(fresh=True)
    decoy = dataclasses.replace(other.issuer_key(), kid=dsc.kid)  # a colliding kid, another key
    result = verify(make_code(dsc), decoy, dsc.issuer_key())
    assert result.kid == dsc.kid
    expect_error(ErrorCode.SIGNATURE_INVALID, Stage.SIGNATURE, make_code(dsc), decoy)


def test_dsc_kid_is_over_the_certificate() -> None:
    import hashlib

    dsc = make_dsc()
    assert dsc.kid == hashlib.sha256(dsc.der).digest()[:8]


# --------------------------------------------------------------------------------- certificate rules


def test_certificate_lifetime_bounds_iat_and_exp() -> None:
    dsc = make_dsc(days=(-10, 20))
    key = dsc.issuer_key()
    early = make_code(dsc, iat=int((NOW - timedelta(days=11)).timestamp()))
    expect_error(ErrorCode.KEY_EXPIRED, Stage.VALIDITY, early, key)
    late = make_code(dsc, exp=int((NOW + timedelta(days=21)).timestamp()))
    expect_error(ErrorCode.KEY_EXPIRED, Stage.VALIDITY, late, key)
    assert verify(make_code(dsc, exp=int((NOW + timedelta(days=19)).timestamp())), key)


def test_validity_window() -> None:
    dsc = make_dsc(days=(-400, 400))
    key = dsc.issuer_key()
    expired = make_code(dsc, iat=int((NOW - timedelta(days=40)).timestamp()),
                        exp=int((NOW - timedelta(days=1)).timestamp()))
    expect_error(ErrorCode.EXPIRED, Stage.VALIDITY, expired, key)
    future = make_code(dsc, iat=int((NOW + timedelta(days=1)).timestamp()))
    expect_error(ErrorCode.NOT_YET_VALID, Stage.VALIDITY, future, key)


@pytest.mark.parametrize(("ekus", "allowed"), [
    ((TEST_OID,), "t"), ((VACC_OID,), "v"), ((RECO_OID,), "r"),
    ((BAD_TEST_OID,), "t"), ((BAD_VACC_OID,), "v"), ((BAD_RECO_OID,), "r"),
    ((TEST_OID, BAD_VACC_OID), "tv"),
])
def test_key_usage(ekus: tuple[str, ...], allowed: str) -> None:
    dsc = make_dsc(ekus=ekus)
    key = dsc.issuer_key()
    for dcc, kind in ((VACCINATION, "v"), (NAAT, "t"), (RECOVERY, "r")):
        code = make_code(dsc, dcc)
        if kind in allowed:
            assert verify(code, key).dcc == dcc
        else:
            expect_error(ErrorCode.USAGE_NOT_ALLOWED, Stage.SCOPE, code, key)


def test_no_dcc_oid_allows_every_type() -> None:
    """BasicDgcTestsList CO15 (its certificate is malformed in the EU data, see the skip-list)."""
    for ekus in ((), ("1.3.6.1.5.5.7.3.2",)):
        dsc = make_dsc(ekus=ekus)
        assert dsc.issuer_key().dcc_types is None
        for dcc in (VACCINATION, NAAT, RECOVERY):
            assert verify(make_code(dsc, dcc), dsc.issuer_key()).dcc == dcc


# ----------------------------------------------------------------------------------- structure rules


def _without(dcc: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in dcc.items() if k not in keys}


@pytest.mark.parametrize(("dcc", "fragment"), [
    (_without(VACCINATION, "v"), "exactly one non-empty"),
    ({**VACCINATION, "t": NAAT["t"]}, "exactly one non-empty"),
    ({**VACCINATION, "v": VACCINATION["v"] * 2}, "exactly one entry"),
    ({**VACCINATION, "v": ["x"]}, "exactly one entry"),
    ({**VACCINATION, "v": {"dn": 1}}, "must be an array"),
    ({**VACCINATION, "v": [{**VACCINATION["v"][0], "dn": "2"}]}, "v[0].dn"),
    ({**VACCINATION, "v": [{**VACCINATION["v"][0], "dt": 20210518}]}, "v[0].dt"),
    ({**NAAT, "t": [{**NAAT["t"][0], "sc": 1622384096}]}, "t[0].sc"),
    ({**VACCINATION, "nam": "ZYXWVUTSSON"}, "nam must be a map"),
    ({**VACCINATION, "nam": {"fn": 7}}, "nam.fn"),
    ({**VACCINATION, "dob": 1964}, "dob must be text"),
    ({**VACCINATION, "x": b"\x01"}, "JSON value"),
])
def test_structural_rules(dcc: dict[str, Any], fragment: str) -> None:
    dsc = make_dsc()
    err = expect_error(ErrorCode.SCHEMA_INVALID, Stage.SCHEMA, make_code(dsc, dcc), dsc.issuer_key())
    assert fragment in err.message
    assert SECRET_NAME not in str(err) and SECRET_DOB not in repr(err)


def test_empty_group_beside_the_entry_is_structurally_fine() -> None:
    dsc = make_dsc()
    dcc = {**VACCINATION, "t": []}
    assert verify(make_code(dsc, dcc), dsc.issuer_key()).dcc == dcc


def test_integral_float_dose_accepted() -> None:
    dsc = make_dsc()
    dcc = {**VACCINATION, "v": [{**VACCINATION["v"][0], "dn": 2.0, "sd": 2.0}]}
    result = verify(make_code(dsc, dcc), dsc.issuer_key())
    assert result.payload.vaccinations[0].dose_number == 2


@pytest.mark.parametrize("hcert", [None, {}, {1: "x"}, {2: {}}, [1]])
def test_missing_dcc_is_claims_invalid(hcert: Any) -> None:
    dsc = make_dsc()
    claims: dict[Any, Any] = {1: "AT", 6: int(NOW.timestamp()) - 60, 4: int(NOW.timestamp()) + 60}
    if hcert is not None:
        claims[-260] = hcert
    expect_error(ErrorCode.CLAIMS_INVALID, Stage.CLAIMS, make_code(dsc, claims=claims), dsc.issuer_key())


# ------------------------------------------------------------------------------------ normalised view


def test_normalised_vaccination() -> None:
    dsc = make_dsc()
    result = verify(make_code(dsc, VACCINATION), dsc.issuer_key())
    payload = result.payload
    (vacc,) = payload.vaccinations
    assert (vacc.product, vacc.manufacturer, vacc.dose_number, vacc.series_total) == (
        "EU/1/20/1528", "ORG-100030215", 2, 2)
    assert vacc.kind is DoseKind.PRIMARY and vacc.completes_primary_series
    assert vacc.date == date(2021, 5, 18) and vacc.place == "AUT"
    assert payload.holder is not None
    assert payload.holder.name == f"{SECRET_NAME} Erika"
    assert payload.holder.name_std == "ZYXWVUTSSON<<ERIKA"
    assert payload.holder.birth_date == SECRET_DOB
    assert not payload.naat and payload.infection is None
    assert result.warnings == ()
    out = result.to_json()
    json.dumps(out)
    assert out["credential"]["dcc"] == VACCINATION
    assert out["credential"]["normalised"]["vaccinations"][0]["dose_number"] == 2


def test_normalised_booster_and_unknown_country() -> None:
    dcc = copy.deepcopy(VACCINATION)
    dcc["v"][0].update(dn=3, sd=2, co="XK", dt="2021-05-18T00:00:00", ma="")
    payload, warnings = eu_dcc.normalise(dcc, "v")
    assert warnings == () and payload is not None
    (vacc,) = payload.vaccinations
    assert vacc.kind is DoseKind.BOOSTER and vacc.place is None and vacc.date == date(2021, 5, 18)
    assert vacc.manufacturer is None


def test_normalised_naat() -> None:
    dsc = make_dsc()
    result = verify(make_code(dsc, NAAT), dsc.issuer_key())
    (test,) = result.payload.naat
    assert test.sampled_at == datetime(2021, 5, 30, 12, 34, tzinfo=UTC)  # UTC, whole minutes
    assert test.result is TestResult.NEGATIVE and test.test_type is NaatType.OTHER
    assert result.payload.holder.birth_date == "1964"
    json.dumps(result.to_json())
    positive = copy.deepcopy(NAAT)
    positive["t"][0].update(tr="260373001", sc="2021-05-30T14:34:56")  # no zone: UTC
    payload, _ = eu_dcc.normalise(positive, "t")
    assert payload is not None
    assert payload.naat[0].result is TestResult.POSITIVE
    assert payload.naat[0].sampled_at == datetime(2021, 5, 30, 14, 34, tzinfo=UTC)


def test_rapid_antigen_test_stays_in_the_dcc_part() -> None:
    dsc = make_dsc()
    rat = copy.deepcopy(NAAT)
    rat["t"][0]["tt"] = "LP217198-3"
    result = verify(make_code(dsc, rat), dsc.issuer_key())
    assert result.dcc["t"][0]["tt"] == "LP217198-3"
    assert result.payload is not None and result.payload.naat == () and result.payload.holder is not None
    assert result.warnings == ()
    # Without a holder the view has nothing to carry: None, with a warning.
    payload, warnings = eu_dcc.normalise(_without(rat, "nam"), "t")
    assert payload is None and warnings and warnings[0].startswith("dcc_not_normalised:")


def test_normalised_recovery() -> None:
    dsc = make_dsc()
    result = verify(make_code(dsc, RECOVERY), dsc.issuer_key())
    infection = result.payload.infection
    assert infection.kind is InfectionKind.CONFIRMED
    assert (infection.first_positive, infection.valid_from, infection.valid_until) == (
        date(2021, 3, 1), date(2021, 3, 12), date(2021, 8, 28))
    holder = result.payload.holder
    assert holder.name == "ZYXWVUTSSON<<ERIKA" == holder.name_std and holder.birth_date == "1964-08"


@pytest.mark.parametrize(("dcc_type", "change", "reason"), [
    ("v", {"dn": 0}, "dose_number"),
    ("v", {"dn": 21, "sd": 21}, "integer 1-20"),
    ("v", {"dt": "18.05.2021"}, "v.dt"),
    ("v", {"dt": "1969-12-31"}, "vaccination.date"),
    ("v", {"mp": "X" * 49}, "vaccination.product"),
    ("t", {"tr": "123"}, "t.tr"),
    ("t", {"tt": "a test"}, "t.tt"),
    ("t", {"sc": "yesterday"}, "t.sc"),
    ("r", {"df": "2021-02-01"}, "infection.valid_from"),
    ("r", {"fr": None}, "r.fr"),
])
def test_unmappable_data_gives_no_view_and_a_warning(dcc_type: str, change: dict[str, Any], reason: str) -> None:
    dcc = copy.deepcopy({"v": VACCINATION, "t": NAAT, "r": RECOVERY}[dcc_type])
    dcc[dcc_type][0].update(change)
    dcc[dcc_type][0] = {k: v for k, v in dcc[dcc_type][0].items() if v is not None}
    dsc = make_dsc()
    result = verify(make_code(dsc, dcc), dsc.issuer_key())
    assert result.payload is None and result.dcc == dcc
    (warning,) = result.warnings
    assert warning.startswith("dcc_not_normalised:") and reason in warning
    json.dumps(result.to_json())


def test_holder_edge_cases() -> None:
    dcc = copy.deepcopy(VACCINATION)
    dcc["dob"] = ""
    payload, _ = eu_dcc.normalise(dcc, "v")
    assert payload is not None and payload.holder is not None and payload.holder.birth_date is None
    dcc["dob"] = "1899-01-01"
    payload, _ = eu_dcc.normalise(dcc, "v")
    assert payload is not None and payload.holder is not None and payload.holder.birth_date is None
    dcc["nam"] = {"fn": "A" * 70}
    payload, warnings = eu_dcc.normalise(dcc, "v")
    assert payload is None and "holder.name" in warnings[0] and "AAAA" not in warnings[0]
    dcc["nam"] = {}
    payload, _ = eu_dcc.normalise(dcc, "v")
    assert payload is not None and payload.holder is None and payload.vaccinations


def test_alpha3() -> None:
    assert eu_dcc.alpha3("AT") == "AUT" and eu_dcc.alpha3("GB") == "GBR" and eu_dcc.alpha3("CH") == "CHE"
    assert eu_dcc.alpha3("XK") is None and eu_dcc.alpha3("at") is None and eu_dcc.alpha3(None) is None
    assert len(eu_dcc._ALPHA3) == 249


# ------------------------------------------------------------------------------------------- schemas

_SCHEMA_V1: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["ver", "nam", "dob"],
    "properties": {
        "ver": {"type": "string", "pattern": "^\\d+.\\d+.\\d+$"},
        "nam": {"type": "object", "properties": {"fnt": {"type": "string", "pattern": "^[A-Z<]*$"}}},
        "dob": {"type": "string", "format": "date"},
        "v": {"type": "array", "items": {"type": "object", "required": ["dn", "ci"],
                                         "properties": {"dn": {"type": "integer", "minimum": 1},
                                                        "dt": {"type": "string", "format": "date"}}}},
        "t": {"type": "array", "items": {"type": "object",
                                         "properties": {"sc": {"type": "string", "format": "date-time"}}}},
    },
}


def _schema_dir(tmp_path: Path) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "1.0.0.json").write_text(json.dumps(_SCHEMA_V1))
    v13 = copy.deepcopy(_SCHEMA_V1)
    v13["properties"]["v"]["maxItems"] = 1
    (tmp_path / "1.3.0.combined-schema.json").write_text(json.dumps(v13))
    (tmp_path / "README.md").write_text("not a schema")
    return tmp_path


def _engines() -> list[str]:
    import importlib.util

    return ["jsonschema", "auto"] + (["fastjsonschema"] if importlib.util.find_spec("fastjsonschema") else [])


def test_schema_release_choice(tmp_path: Path) -> None:
    schemas = DccSchemas.load(_schema_dir(tmp_path))
    assert schemas.versions == ("1.0.0", "1.3.0")
    assert schemas.select("1.3.0") == "1.3.0"
    assert schemas.select("1.2.9") == "1.0.0"  # nearest lower release
    assert schemas.select("1.3.7") == "1.3.0"
    assert schemas.select("1.0.0") == "1.0.0"
    for ver in ("2.0.0", "0.9.9", "1.3", "v1.3.0", None, 1.3):
        assert schemas.select(ver) is None, ver
    with pytest.raises(ValueError, match="no EU DCC schema files"):
        DccSchemas.load(_empty(tmp_path))


def _empty(tmp_path: Path) -> Path:
    empty = tmp_path / "empty"
    empty.mkdir()
    return empty


@pytest.mark.parametrize("engine", _engines())
def test_schema_warnings_by_default_strict_rejects(tmp_path: Path, engine: str) -> None:
    schemas = DccSchemas.load(_schema_dir(tmp_path), engine=engine)  # type: ignore[arg-type]
    dsc = make_dsc()
    key = dsc.issuer_key()
    good = verify(make_code(dsc), key, dcc_schemas=schemas)
    assert good.warnings == ()
    bad = copy.deepcopy(VACCINATION)
    bad["v"][0]["dt"] = "2021-05-18T00:00:00"  # format date
    bad["nam"]["fnt"] = SECRET_NAME  # pattern, a personal value
    del bad["v"][0]["ci"]
    code = make_code(dsc, bad)
    result = verify(code, key, dcc_schemas=schemas)
    assert result.dcc == bad and result.payload is not None  # the view still forms
    schema_warnings = [w for w in result.warnings if w.startswith("dcc_schema:")]
    if engine == "fastjsonschema":  # the fast engine reports the first deviation only
        assert len(schema_warnings) == 1
    else:
        assert schema_warnings == ["dcc_schema: 1.3.0: $.nam.fnt: pattern", "dcc_schema: 1.3.0: $.v[0].dt: format",
                                   "dcc_schema: 1.3.0: $.v[0]: required ci"]
    assert not any(SECRET_NAME in w for w in result.warnings)
    err = expect_error(ErrorCode.SCHEMA_INVALID, Stage.SCHEMA, code, key, dcc_schemas=schemas, strict_schema=True)
    # the time part after dt is a tolerated deviation (issue 15): strict names it first
    assert SECRET_NAME not in str(err) and "date_with_time at $.v[0].dt" in err.message
    bad["v"][0]["dt"] = "2021-05-18"
    code = make_code(dsc, bad)
    err = expect_error(ErrorCode.SCHEMA_INVALID, Stage.SCHEMA, code, key, dcc_schemas=schemas, strict_schema=True)
    assert SECRET_NAME not in str(err) and "1.3.0" in err.message
    # Strict without schemas: only the structural rules and the tolerated deviations apply.
    assert verify(code, key, strict_schema=True).warnings == ()


@pytest.mark.parametrize("engine", _engines())
def test_schema_version_unavailable(tmp_path: Path, engine: str) -> None:
    schemas = DccSchemas.load(_schema_dir(tmp_path), engine=engine)  # type: ignore[arg-type]
    dsc = make_dsc()
    for ver, shown in (("2.0.0", "ver 2.0.0"), (None, "ver missing"), ("Zyxwvutsson", "ver missing")):
        dcc = {**VACCINATION, "ver": ver} if ver is not None else _without(VACCINATION, "ver")
        code = make_code(dsc, dcc)
        result = verify(code, dsc.issuer_key(), dcc_schemas=schemas)
        assert result.warnings[0].startswith("dcc_schema_unavailable:") and shown in result.warnings[0]
        assert SECRET_NAME not in result.warnings[0]
        expect_error(ErrorCode.SCHEMA_INVALID, Stage.SCHEMA, code, dsc.issuer_key(), dcc_schemas=schemas,
                     strict_schema=True)


def test_date_time_formats() -> None:
    assert eu_dcc._check_date("2021-02-28") and not eu_dcc._check_date("2021-02-29")
    assert not eu_dcc._check_date("2021-5-1") and not eu_dcc._check_date("2021-05-18T00:00:00")
    assert eu_dcc._check_date_time("2021-05-30T14:34:56.789+02:00")
    assert eu_dcc._check_date_time("2021-05-30t14:34:56z")
    for bad in ("2021-05-30T14:34:56", "2021-05-30 14:34:56Z", "2021-05-30T24:00:00Z", "2021-02-30T10:00:00Z",
                "2021-05-30T14:34:56+2:00"):
        assert not eu_dcc._check_date_time(bad), bad
    assert eu_dcc._check_date(5) and eu_dcc._check_date_time(None)  # formats apply to strings only


@pytest.mark.parametrize(("day", "calendar"), [
    ("2024-02-29", True), ("2000-02-29", True), ("2100-02-29", False), ("2021-04-31", False), ("2021-13-01", False),
    ("2021-00-10", False), ("2021-01-00", False), ("0000-01-01", False), ("9999-12-31", True), ("0001-01-01", True),
])
def test_issue16_item6_date_and_date_time_formats_share_one_calendar_check(day: str, calendar: bool) -> None:
    """The schema formats ``date`` and ``date-time`` judge the day by the same check, and the time and offset
    fields of a date-time by their ranges (second 60: a leap second)."""
    assert eu_dcc._check_date(day) is calendar
    assert eu_dcc._check_date_time(f"{day}T23:59:60+23:59") is calendar
    for time in ("24:00:00Z", "23:60:00Z", "23:59:61Z", "12:00:00+24:00", "12:00:00-05:60"):
        assert eu_dcc._check_date_time(f"{day}T{time}") is False, time


def test_schemas_pickle_and_reject_bad_input(tmp_path: Path) -> None:
    schemas = DccSchemas.load(_schema_dir(tmp_path), engine="jsonschema")
    assert schemas.check(VACCINATION).valid
    clone = pickle.loads(pickle.dumps(schemas))
    assert clone.versions == schemas.versions and clone.check(VACCINATION).valid
    policy = VerifierPolicy(dcc_schemas=schemas)
    verifier = pickle.loads(pickle.dumps(Verifier(keys=[make_dsc().issuer_key()], policy=policy)))
    assert isinstance(verifier.policy.dcc_schemas, DccSchemas)
    with pytest.raises(ValueError):
        DccSchemas({}, engine="jsonschema")
    with pytest.raises(ValueError):
        DccSchemas({"1.0": tmp_path}, engine="jsonschema")
    with pytest.raises(ValueError):
        DccSchemas({"1.0.0": tmp_path}, engine="bogus")  # type: ignore[arg-type]
    dsc = make_dsc()
    with pytest.raises(TypeError):
        verify(make_code(dsc), dsc.issuer_key(), dcc_schemas=str(tmp_path))
    (tmp_path / "9.9.9.json").write_text("{not json")
    broken = DccSchemas.load(tmp_path, engine="jsonschema")
    assert broken.check({"ver": "1.0.0", "nam": {}, "dob": "1964-08-12"}).valid  # lazy: 9.9.9 not read yet
    with pytest.raises(ValueError, match="cannot be read"):
        broken.check({"ver": "9.9.9"})
    with pytest.raises(ValueError, match="cannot be read"):
        DccSchemas.load(tmp_path, engine="jsonschema").preload()
    assert DccSchemas.load(_schema_dir(tmp_path / "ok"), engine="jsonschema").preload().versions


def _mutations(dcc: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    kind = next(k for k in "vtr" if k in dcc)
    for field_name, values in (("dn", [True, 1.0, 0, "1"]), ("dt", ["2021-13-01", "2021-05-18T00:00:00Z"]),
                               ("sc", ["2021-05-18", "2021-05-18T10:00:00"]), ("co", ["at", "AUT"]),
                               ("fr", ["2021-02-30"]), ("ci", ["x" * 81])):
        for value in values:
            mutated = copy.deepcopy(dcc)
            mutated[kind][0][field_name] = value
            out.append(mutated)
    extras: list[dict[str, Any]] = [{"dob": "1964-8-12"}, {"dob": ""}, {"nam": {"fn": "x"}}, {"ver": "1.3"},
                                    {"t": [], "r": []}]
    for extra in extras:
        out.append({**copy.deepcopy(dcc), **extra})
    return out


def test_schema_engines_agree_on_eu_schemas() -> None:
    """fastjsonschema (accept decision) and jsonschema (reference) agree on every payload of the EU data and
    on mutations of it, against every EU schema release."""
    pytest.importorskip("fastjsonschema")
    if _SCHEMA_DIR is None or not _SCHEMA_DIR.is_dir() or not _CASES:
        pytest.skip("EU DCC schemas or test data not found in the shared folder")
    fast = DccSchemas.load(_SCHEMA_DIR, engine="fastjsonschema")
    full = DccSchemas.load(_SCHEMA_DIR, engine="jsonschema")
    auto = DccSchemas.load(_SCHEMA_DIR, engine="auto")
    payloads = []
    for case in _CASES:
        try:
            payloads.append(harness._decode_dcc(case.cose()))
        except DecodeError:
            continue
    samples = [p for p in payloads if any(k in p for k in "vtr")][:: 25]
    payloads += [m for p in samples for m in _mutations(p)]
    checked = 0
    for payload in payloads:
        for ver in full.versions:
            candidate = {**payload, "ver": ver}
            a, b, c = fast.check(candidate), full.check(candidate), auto.check(candidate)
            assert a.valid == b.valid == c.valid, (ver, a.issues, b.issues)
            assert c.issues == b.issues
            checked += 1
    assert checked > 4000


# ------------------------------------------------------------------------------------------- privacy


def test_no_personal_data_in_errors_and_reprs() -> None:
    dsc = make_dsc(ekus=(TEST_OID,))
    code = make_code(dsc, VACCINATION)
    err = expect_error(ErrorCode.USAGE_NOT_ALLOWED, Stage.SCOPE, code, dsc.issuer_key())
    assert isinstance(err, VerificationError)
    ok_dsc = make_dsc()
    result = verify(make_code(ok_dsc, VACCINATION), ok_dsc.issuer_key())
    for text in (str(err), repr(err), repr(result), repr(result.payload), repr(result.payload.holder)):
        assert SECRET_NAME not in text and SECRET_DOB not in text
    dcc_result = eu_dcc.DccResult(VACCINATION, "v", result.payload)
    assert SECRET_NAME not in repr(dcc_result)


def test_hc1_can_be_refused_by_policy() -> None:
    dsc = make_dsc()
    expect_error(ErrorCode.PREFIX_INVALID, Stage.PREFIX, make_code(dsc), dsc.issuer_key(),
                 formats=frozenset({Prefix.HP1}))
