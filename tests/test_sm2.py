"""Issue 18: SM2 signatures with SM3 (GB/T 32918.2) as the optional backend ``healthpass[sm]``.

The backend is the system's OpenSSL 3 libcrypto (``healthpass.crypto.sm2``). Tests that need it skip with
the backend's own reason where it is unavailable; the tests of what happens *without* it run everywhere, in
a subprocess pointed at a libcrypto that does not exist (``HEALTHPASS_SM2_LIBCRYPTO``).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import pickle
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import cbor2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from healthpass import crypto
from healthpass.codec import b45decode, b45encode, compress, decompress, sig_structure
from healthpass.codec.cbor import encode
from healthpass.crypto import sm2
from healthpass.errors import ErrorCode, HealthPassError, SignerError, Stage, VerificationError
from healthpass.issue import Issuer
from healthpass.model.cose import Algorithm, ClaimKey, HeaderLabel
from healthpass.model.credential import HealthPayload
from healthpass.model.jsonform import payload_from_json
from healthpass.model.regions import Region
from healthpass.rules.bundle import RuleBundle
from healthpass.signers import SoftwareSigner
from healthpass.trust import TrustList, issuer_key, trust_root
from healthpass.verify import Verifier, VerifierPolicy

from ._craft import claims_for, make_code, text_from_cose
from ._shared import find_shared_dir
from .conftest import NOW, ROOT

needs_sm2 = pytest.mark.skipif(not sm2.available(), reason=f"SM2 backend unavailable: {sm2.unavailable_message()}")
OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="the openssl command-line tool is not installed")
SHARED = find_shared_dir()
VECTORS = SHARED / "vectors" / "sm2" / "vectors.json" if SHARED else None
LATER = NOW + timedelta(hours=1)
N = sm2.ORDER


def _vectors(group: str) -> list[dict[str, Any]]:
    if VECTORS is None or not VECTORS.is_file():
        return []
    return list(json.loads(VECTORS.read_text("utf-8"))[group])


def _vector(name_start: str) -> dict[str, Any]:
    for vector in _vectors("recommended_curve"):
        if vector["name"].startswith(name_start):
            return vector
    pytest.skip("SM2 vectors not found: set HEALTHPASS_SHARED (shared/vectors/sm2/vectors.json)")


def _spki(pem: str) -> bytes:
    return base64.b64decode("".join(pem.strip().splitlines()[1:-1]))


def _raw(vector: dict[str, Any]) -> bytes:
    return sm2.der_to_raw(bytes.fromhex(vector["sig_der_hex"]))


@pytest.fixture(scope="module")
def sm2_signer() -> SoftwareSigner:
    if not sm2.available():
        pytest.skip(f"SM2 backend unavailable: {sm2.unavailable_message()}")
    return SoftwareSigner.generate(Algorithm.SM2)


@pytest.fixture(scope="module")
def sm2_code(sm2_signer: SoftwareSigner, sample: HealthPayload) -> str:
    return Issuer(sm2_signer, Region("630000")).issue(sample, now=NOW)


@pytest.fixture(scope="module")
def sm2_verifier(sm2_signer: SoftwareSigner, es_signer: SoftwareSigner) -> Verifier:
    return Verifier(keys=[issuer_key(sm2_signer.public_key_pem(), region=Region("630000")),
                          issuer_key(es_signer.public_key_pem(), region=Region("630000"))])


def _parts(code: str) -> list[Any]:
    return list(cbor2.loads(decompress(b45decode(code[4:]), max_size=16384)).value)


def _with_signature(code: str, signature: bytes) -> str:
    protected, unprotected, payload, _ = _parts(code)
    return text_from_cose(cbor2.dumps(cbor2.CBORTag(18, [protected, unprotected, payload, signature])))


# ---------------------------------------------------------------- item 1: the published vectors


@needs_sm2
def test_issue18_item1_annex_a_expected_signature_verifies() -> None:
    """GM/T 0003.5 Annex A (recommended curve, default ID, M = "message digest"): the expected (r, s)
    verifies through the same call healthpass uses on codes."""
    vector = _vector("GM/T 0003.5-2012 Annex A")
    key = sm2.load_spki(_spki(vector["public_key_pem"]))
    assert vector["id"].encode() == sm2.DEFAULT_ID
    raw = bytes.fromhex(vector["r_hex"] + vector["s_hex"])
    assert raw == _raw(vector)
    key.verify(raw, bytes.fromhex(vector["msg_hex"]))
    with pytest.raises(VerificationError) as err:
        key.verify(raw, b"message digesT")
    assert err.value.code is ErrorCode.SIGNATURE_INVALID


@needs_sm2
def test_issue18_item1_annex_a_fixed_k_signature_is_reproduced() -> None:
    """The fixed-k example signed by the backend itself: a separate process replaces libcrypto's random
    source (the deprecated RAND_METHOD hook, test code only) so that the nonce is the standard's k, loads the
    standard's private key through :func:`sm2.load_private_key_pem` and signs through
    :meth:`Sm2PrivateKey.sign`: the result is exactly the standard's (r, s)."""
    vector = _vector("GM/T 0003.5-2012 Annex A")
    proc = subprocess.run([sys.executable, str(Path(__file__).with_name("sm2_fixed_k.py")),
                           vector["private_key_hex"], vector["k_hex"], vector["msg_hex"]],
                          capture_output=True, text=True, check=False, timeout=60)
    if proc.returncode == 3:  # the expected signature still verifies: test_issue18_item1_annex_a_expected_...
        pytest.skip(f"this libcrypto ignores the RAND_METHOD hook, no fixed k: {proc.stdout.strip()}")
    assert proc.returncode == 0, proc.stderr
    point, signature = proc.stdout.split()[:2]
    assert point == vector["public_key_hex"]
    assert signature == vector["r_hex"] + vector["s_hex"]


@needs_sm2
def test_issue18_item1_non_default_id_vector() -> None:
    """test_EVP_SM2_verify: ID ALICE123@YAHOO.COM. The backend takes an ID, so this one runs; with the
    default ID the same signature fails."""
    vector = _vector("test_EVP_SM2_verify")
    key = sm2.load_spki(_spki(vector["public_key_pem"]))
    message = bytes.fromhex(vector["msg_hex"])
    key.verify(_raw(vector), message, distid=vector["id"].encode())
    with pytest.raises(VerificationError):
        key.verify(_raw(vector), message)


def _message_vectors() -> list[Any]:
    found = [v for v in _vectors("recommended_curve") if v.get("msg_hex") and v.get("id")]
    return [pytest.param(v, id=v["name"][:48]) for v in found] or [
        pytest.param(None, marks=pytest.mark.skip(reason="SM2 vectors not found: set HEALTHPASS_SHARED"))]


@needs_sm2
@pytest.mark.parametrize("vector", _message_vectors())
def test_issue18_item1_message_vectors_verify(vector: dict[str, Any]) -> None:
    """Every vector with a message and an ID (Annex A, TSAPI, the certificate and CSR signatures over their
    DER TBSCertificate / CertificationRequestInfo): verifies with its ID, a flipped message bit does not."""
    key = sm2.load_spki(_spki(vector["public_key_pem"]))
    assert key.point.hex() == vector["public_key_hex"]
    message = bytes.fromhex(vector["msg_hex"])
    key.verify(_raw(vector), message, distid=vector["id"].encode())
    flipped = bytes([message[0] ^ 1]) + message[1:]
    with pytest.raises(VerificationError):
        key.verify(_raw(vector), flipped, distid=vector["id"].encode())


@needs_sm2
def test_issue18_item1_certificate_without_z_is_the_expected_failure() -> None:
    """sm2-cert.pem checked without Z (e = SM3(M), Tongsuo's ``-vfyopt sm2-za:no``): the source expects
    failure, and so does the backend; the no-Z certificate (sm2-noza-cert.pem) verifies that way."""
    failing = _vector("sm2-cert.pem signature checked WITHOUT Z")
    assert failing["expected"] == "verify fail"
    key = sm2.load_spki(_spki(failing["public_key_pem"]))
    with pytest.raises(VerificationError) as err:
        key.verify_prehashed(hashlib.new("sm3", bytes.fromhex(failing["msg_hex"])).digest(), _raw(failing))
    assert err.value.code is ErrorCode.SIGNATURE_INVALID
    noza = _vector("sm2-noza-cert.pem")
    sm2.load_spki(_spki(noza["public_key_pem"])).verify_prehashed(
        hashlib.new("sm3", bytes.fromhex(noza["msg_hex"])).digest(), _raw(noza))


#: digest-input vectors (``EVP_PKEY_verify`` on e): name prefix -> whether the backend accepts it, and why
DIGEST_EXPECTATIONS = {
    "evppkey_sm2.txt Verify #1": (True, "source: verify ok"),
    "evppkey_sm2.txt Verify #2": (True, "source: verify ok"),
    "evppkey_sm2.txt Verify #3": (False, "64-byte e: OpenSSL 3 takes a 32-byte SM3 digest only (Tongsuo HEAD "
                                         "expects this vector to be refused)"),
    "evppkey_sm2.txt Sign": (False, "not a KAT; every tool finds the signature invalid"),
    "GmSSL v3 sm2 sign trace": (False, "as given the trace's d does not match its s (checked: false)"),
}


@needs_sm2
@pytest.mark.parametrize("prefix", sorted(DIGEST_EXPECTATIONS))
def test_issue18_item1_digest_vectors(prefix: str) -> None:
    vector = _vector(prefix)
    accepted, _why = DIGEST_EXPECTATIONS[prefix]
    key = sm2.load_spki(_spki(vector["public_key_pem"]))
    e = bytes.fromhex(vector["e_hex"])
    if accepted:
        key.verify_prehashed(e, _raw(vector))
    else:
        with pytest.raises(VerificationError):
            key.verify_prehashed(e, _raw(vector))


@needs_sm2
def test_issue18_item1_gmssl_trace_with_the_reconstructed_key() -> None:
    """The GmSSL trace verifies under the key the vector's authors reconstructed (labelled theirs, not the
    source's)."""
    vector = _vector("GmSSL v3 sm2 sign trace")
    derived = vector["derived_consistent_key"]
    sm2.load_spki(_spki(derived["public_key_pem"])).verify_prehashed(bytes.fromhex(vector["e_hex"]), _raw(vector))


def test_issue18_item1_test_curve_vectors_are_out_of_scope() -> None:
    """The GB/T 32918 Annex A *test* curves are not sm2p256v1: healthpass (and OpenSSL) know only the
    recommended curve, so these vectors are not run; their keys cannot even be expressed as an SM2 SPKI."""
    found = _vectors("test_curve")
    if not found:
        pytest.skip("SM2 vectors not found: set HEALTHPASS_SHARED")
    assert all(v["curve"].startswith("sm2-test-") for v in found)


# ---------------------------------------------------------------- item 2: keys


@needs_sm2
def test_issue18_item2_keys_as_openssl_writes_them(tmp_path: Path) -> None:
    """A key pair from ``openssl genpkey -algorithm SM2`` loads (plain and encrypted PKCS#8) and signs codes
    that verify under the public key openssl wrote; the kid is SHA-256 over the SPKI DER, truncated."""
    if OPENSSL is None:
        pytest.skip("the openssl command-line tool is not installed")
    key, pub, enc = tmp_path / "k.pem", tmp_path / "p.pem", tmp_path / "e.pem"
    subprocess.run([OPENSSL, "genpkey", "-algorithm", "SM2", "-out", str(key)], check=True, capture_output=True)
    subprocess.run([OPENSSL, "pkey", "-in", str(key), "-pubout", "-out", str(pub)], check=True, capture_output=True)
    subprocess.run([OPENSSL, "pkcs8", "-topk8", "-in", str(key), "-v2", "aes-256-cbc", "-passout", "pass:s3cret",
                    "-out", str(enc)], check=True, capture_output=True)
    signer = SoftwareSigner.from_file(key)
    assert signer.algorithm is Algorithm.SM2
    assert SoftwareSigner.from_file(enc, b"s3cret").kid == signer.kid
    entry = issuer_key(pub.read_bytes(), region=Region("630000"))
    assert entry.kid == signer.kid == hashlib.sha256(_spki(pub.read_text())).digest()[:8]
    assert signer.public_key_pem() == pub.read_bytes()
    code = Issuer(signer, Region("630000")).issue(_status(), now=NOW)
    assert Verifier(keys=[entry]).verify(code, at=LATER).algorithm is Algorithm.SM2
    with pytest.raises(SignerError) as err:
        SoftwareSigner.from_file(enc, b"wrong")
    assert err.value.code is ErrorCode.SIGNER_UNAVAILABLE
    with pytest.raises(SignerError):
        SoftwareSigner.from_file(enc)  # no password: refused at once, never a prompt on the terminal


def _status() -> HealthPayload:
    from healthpass.model.credential import HealthStatus, StatusColour

    return HealthPayload(status=HealthStatus(colour=StatusColour.GREEN, set_at=NOW))


@needs_sm2
@needs_openssl
def test_issue18_item2_healthpass_keys_read_by_openssl(tmp_path: Path, sm2_signer: SoftwareSigner) -> None:
    """What healthpass writes (PKCS#8, plain and encrypted; SPKI) is what openssl reads as SM2 keys."""
    assert OPENSSL is not None
    (tmp_path / "k.pem").write_bytes(sm2_signer.private_key_pem())
    (tmp_path / "e.pem").write_bytes(sm2_signer.private_key_pem(b"pw"))
    (tmp_path / "p.pem").write_bytes(sm2_signer.public_key_pem())
    for args in (["-in", "k.pem"], ["-in", "e.pem", "-passin", "pass:pw"], ["-pubin", "-in", "p.pem"]):
        out = subprocess.run([OPENSSL, "pkey", *args, "-pubout"], cwd=tmp_path, check=True,
                             capture_output=True).stdout
        assert out == sm2_signer.public_key_pem()
    text = subprocess.run([OPENSSL, "pkey", "-pubin", "-in", "p.pem", "-text", "-noout"], cwd=tmp_path, check=True,
                          capture_output=True, text=True).stdout
    assert "SM2" in text


def _mutated_spkis(spki: bytes) -> list[tuple[str, bytes]]:
    point = spki[-64:]
    x = int.from_bytes(point[:32], "big")
    y = int.from_bytes(point[32:], "big")
    return [
        ("point off the curve", spki[:-1] + bytes([spki[-1] ^ 1])),
        ("compressed point", spki[:2] + spki[2:23] + b"\x03\x22\x00" + bytes([2 + (y & 1)]) + point[:32]),
        ("trailing byte", spki + b"\x00"),
        ("truncated", spki[:-1]),
        ("unused bits in the BIT STRING", spki[:25] + b"\x01" + spki[26:]),
        ("x + p (not reduced)", spki[:-64] + ((x + sm2._FIELD) % 2**256).to_bytes(32, "big") + point[32:]),
        ("y + p (not reduced)", spki[:-32] + ((y + sm2._FIELD) % 2**256).to_bytes(32, "big")),
        ("hybrid point form", spki[:-65] + b"\x06" + point),
        ("P-256 curve OID with the SM2 point", spki[:13] + bytes.fromhex("06082a8648ce3d030107") + spki[23:]),
    ]


def test_issue18_item2_spki_is_parsed_strictly(sm2_public_spki: bytes) -> None:
    """Only the SPKI OpenSSL writes is an SM2 key: every other shape is a ValueError (never a traceback)."""
    assert crypto.load_public_key(sm2_public_spki)[1] == sm2_public_spki
    for what, bad in _mutated_spkis(sm2_public_spki):
        with pytest.raises(ValueError):
            crypto.load_public_key(bad)
            pytest.fail(f"accepted: {what}")
        with pytest.raises(ValueError):
            issuer_key(b"-----BEGIN PUBLIC KEY-----\n" + base64.encodebytes(bad) + b"-----END PUBLIC KEY-----\n")
            pytest.fail(f"accepted as PEM: {what}")


@pytest.fixture(scope="module")
def sm2_public_spki() -> bytes:
    """The Annex A public key (from the standard) when the vectors are there, else a fixed on-curve point."""
    vector = next((v for v in _vectors("recommended_curve") if v["name"].startswith("GM/T")), None)
    if vector is not None:
        return _spki(vector["public_key_pem"])
    return _spki(
        "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoEcz1UBgi0DQgAECfnfMR5UIaFQ3X0WHkvFxnIXn60Y\n"
        "M/wHa7CP81bzUCDM6kkM4md1pS3G6nGMwapgCu0F+/NeCEpmMvYHLamtEw==\n-----END PUBLIC KEY-----\n")


def test_issue18_item2_signature_encodings_are_strict() -> None:
    good = (5).to_bytes(32, "big") + (N - 1).to_bytes(32, "big")
    assert sm2.der_to_raw(sm2.raw_to_der(good)) == good
    der = sm2.raw_to_der(good)
    for bad in (der + b"\x00", der[:-1], b"\x30\x06\x02\x01\x00\x02\x01\x05", b"\x30\x07\x02\x02\x00\x05\x02\x01\x05",
                b"\x30\x06\x02\x01\x85\x02\x01\x05", b"\x31" + der[1:], b""):
        with pytest.raises(ValueError):
            sm2.der_to_raw(bad)
    for r, s in ((0, 1), (1, 0), (N, 1), (1, N), (2**256 - 1, 1)):
        with pytest.raises(ValueError):
            sm2.raw_to_der(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


@needs_sm2
def test_issue16_item6_sm2_verify_and_verify_prehashed_refuse_alike() -> None:
    """The two checks share one frame (key first, signature parsed, failure reported and OpenSSL's error queue
    cleared): a malformed signature and one that does not verify give the same error from either, and a good
    check after the failures is unaffected."""
    key = sm2.generate()
    public = key.public_key()
    good = key.sign(b"data")
    e = hashlib.new("sm3", b"data").digest()  # not SM3(Z || M): no signature made by sign() verifies over it
    checks = (lambda sig: public.verify(sig, b"datA"), lambda sig: public.verify_prehashed(e, sig))
    zero_r = bytes(32) + good[32:]
    for signature, message in ((good, "SM2 signature does not verify"), (good[:-1], None), (zero_r, None)):
        seen = set()
        for check in checks:
            with pytest.raises(VerificationError) as err:
                check(signature)
            seen.add((err.value.code, err.value.stage, err.value.message))
        assert len(seen) == 1, seen
        code, stage, text = seen.pop()
        assert (code, stage) == (ErrorCode.SIGNATURE_INVALID, Stage.SIGNATURE)
        assert message is None or text == message
    public.verify(good, b"data")


# ---------------------------------------------------------------- item 3: everywhere a key is used


@needs_sm2
def test_issue18_item3_issue_and_verify(sm2_code: str, sm2_verifier: Verifier, sm2_signer: SoftwareSigner) -> None:
    result = sm2_verifier.verify(sm2_code, at=LATER)
    assert result.algorithm is Algorithm.SM2 and result.kid == sm2_signer.kid
    assert result.to_json()["algorithm"] == "SM2"
    protected = cbor2.loads(_parts(sm2_code)[0])
    assert protected[HeaderLabel.ALG.value] == -66037 == Algorithm.SM2
    assert len(_parts(sm2_code)[3]) == 64


@needs_sm2
def test_issue18_item3_signer_pickles_and_signs_in_worker_processes(sm2_signer: SoftwareSigner,
                                                                     sample: HealthPayload) -> None:
    """``mint --batch`` hands the signer to worker processes: it travels as PEM."""
    from concurrent.futures import ProcessPoolExecutor

    clone = pickle.loads(pickle.dumps(sm2_signer))
    assert clone.kid == sm2_signer.kid and clone.algorithm is Algorithm.SM2
    issuer = Issuer(sm2_signer, Region("630000"))
    verifier = Verifier(keys=[issuer_key(sm2_signer.public_key_pem(), region=Region("630000"))])
    with ProcessPoolExecutor(2) as pool:
        codes = list(issuer.issue_many([sample] * 4, now=NOW, executor=pool, chunk_size=2))
    assert len(codes) == 4
    for code in codes:
        verifier.verify(code, at=LATER)
    pickle.loads(pickle.dumps(verifier)).verify(codes[0], at=LATER)


@needs_sm2
def test_issue18_item3_trust_list_with_sm2_root_and_issuer(sm2_signer: SoftwareSigner, es_signer: SoftwareSigner,
                                                           sm2_code: str, sample: HealthPayload) -> None:
    """An SM2 national root signs a trust list holding an SM2 and an ES256 issuer key; codes of both verify."""
    root = SoftwareSigner.generate(Algorithm.SM2)
    keys = [issuer_key(sm2_signer.public_key_pem(), region=Region("630000")),
            issuer_key(es_signer.public_key_pem(), region=Region("110000"))]
    data = TrustList.build(root, seq=1, keys=keys, valid_for=timedelta(days=7), now=NOW)
    tl = TrustList.load(data, [trust_root(root.public_key_pem())], check_all=True)
    verifier = Verifier(trust_lists=[tl])
    assert verifier.verify(sm2_code, at=LATER).key_source == "trust-list:1"
    es_code = Issuer(es_signer, Region("110000")).issue(sample, now=NOW)
    assert verifier.verify(es_code, at=LATER).algorithm is Algorithm.ES256
    tampered = bytearray(data)
    tampered[-5] ^= 1  # inside the SM2 signature
    with pytest.raises(HealthPassError) as err:
        TrustList.load(bytes(tampered), [trust_root(root.public_key_pem())])
    assert err.value.code is ErrorCode.TRUST_LIST_INVALID


@needs_sm2
def test_issue18_item3_rule_bundle_signed_by_an_sm2_root() -> None:
    root = SoftwareSigner.generate(Algorithm.SM2)
    built = NOW - timedelta(days=1)
    data = RuleBundle.build(root, ROOT / "examples" / "rules", seq=1, valid_for=timedelta(days=30), now=built)
    bundle = RuleBundle.load(data, [trust_root(root.public_key_pem())])
    assert bundle.root.kid == root.kid and bundle.rules


@needs_sm2
def test_issue18_item3_cli_keygen_mint_batch_verify_trust(tmp_path: Path, sample_json: dict) -> None:
    """The command line end to end with SM2 keys: keygen (encrypted too), mint, mint --batch, verify
    --trust-key, trust build/show with an SM2 root, verify against that list."""
    def hp(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "healthpass", *argv], cwd=tmp_path, capture_output=True,
                              text=True, check=False, env={**os.environ, **(env or {})}, timeout=120)

    (tmp_path / "c.json").write_text(json.dumps(sample_json), "utf-8")
    (tmp_path / "people.jsonl").write_text((json.dumps(sample_json) + "\n") * 3, "utf-8")
    keygen = hp("keygen", "--alg", "SM2", "--out", "qh")
    assert keygen.returncode == 0, keygen.stderr
    assert keygen.stdout.strip() == SoftwareSigner.from_file(tmp_path / "qh.key.pem").kid.hex()
    assert hp("keygen", "--alg", "sm2", "--out", "root", "--password-env", "PW", env={"PW": "x"}).returncode == 0
    assert b"ENCRYPTED PRIVATE KEY" in (tmp_path / "root.key.pem").read_bytes()
    assert oct((tmp_path / "qh.key.pem").stat().st_mode & 0o777) == "0o600"
    mint = hp("mint", "--key", "qh.key.pem", "--issuer", "630000", "--in", "c.json")
    assert mint.returncode == 0, mint.stderr
    code = mint.stdout.strip().splitlines()[-1]
    batch = hp("mint", "--key", "qh.key.pem", "--issuer", "630000", "--batch", "people.jsonl", "--out", "codes.txt",
               "--workers", "2")
    assert batch.returncode == 0, batch.stderr
    at = "--at", _iat_of(code)
    verify = hp("verify", "--trust-key", "630000=qh.pub.pem", *at, "--json", code)
    assert verify.returncode == 0, verify.stderr
    assert json.loads(verify.stdout)["algorithm"] == "SM2"
    batch_verify = hp("verify", "--trust-key", "630000=qh.pub.pem", *at, "--batch", "codes.txt")
    assert batch_verify.returncode == 0 and batch_verify.stdout.count("VALID") == 3, batch_verify.stdout
    build = hp("trust", "build", "--root-key", "root.key.pem", "--password-env", "PW", "--seq", "1", "--valid-for",
               "30d", "--issuer-key", "630000=qh.pub.pem", "--out", "tl.bin", env={"PW": "x"})
    assert build.returncode == 0, build.stderr
    assert hp("trust", "show", "tl.bin", "--root", "root.pub.pem").returncode == 0
    listed = hp("verify", "--root", "root.pub.pem", "--trust-list", "tl.bin", *at, code)
    assert listed.returncode == 0, listed.stderr
    flipped = hp("verify", "--trust-key", "630000=qh.pub.pem", *at, "--json",
                 _with_signature(code, _flip(_parts(code)[3], 40)))
    assert flipped.returncode == 1 and json.loads(flipped.stdout)["error"]["code"] == "signature_invalid"
    hsm = hp("keygen", "--alg", "SM2", "--out", "x", "--pkcs11-module", "/nonexistent.so", "--pkcs11-token", "t",
             "--pkcs11-key", "k", "--pkcs11-pin-env", "PIN")
    assert hsm.returncode == 2 and "PKCS#11 SM2" in hsm.stderr


def _iat_of(code: str) -> str:
    from datetime import UTC, datetime

    iat = cbor2.loads(_parts(code)[2])[ClaimKey.IAT.value]
    return (datetime.fromtimestamp(iat, UTC) + timedelta(minutes=1)).isoformat()


def _flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 1]) + data[index + 1:]


#: specs/credential.md §3.1: the status-only code signed by the GM/T 0003.5 Annex A key with the standard's k
SPEC_EXAMPLE = ("HP1:NCFW80T20FFWXWGSLK/E7W508%U399.UFNK9NK3K4OU6BV%KL-C9L6646736DF39G1A48DF3V%0JCOR49X507H0QS04-0T60"
                "RLKX50ERKX50C73GDQ/10C68A3573J8VL$L7E.AN75HVT*LFC*O6HA7NPRT8NR2V29:OHUHL9B4RU4U$S574BH1$VRKW9.GLN 8O"
                "WSFBB371847OKVW*RSGG.SA.1")


@needs_sm2
def test_issue18_spec_worked_example_verifies(sm2_public_spki: bytes) -> None:
    """The worked example of specs/credential.md §3.1 is in the spec verbatim and verifies under the Annex A
    public key; its signature is the one the fixed-k helper reproduces (same d and k as the standard)."""
    assert SPEC_EXAMPLE in (ROOT / "specs" / "credential.md").read_text("utf-8")
    key = issuer_key(sm2_public_spki, region=Region("630000"))
    assert key.kid.hex() == "c97c174acc1b56be"
    result = Verifier(keys=[key]).verify(SPEC_EXAMPLE, at=LATER)
    assert result.algorithm is Algorithm.SM2 and result.credential_id == bytes(range(8))
    assert len(SPEC_EXAMPLE) == 225


@needs_sm2
def test_issue18_item3_sm2_code_sizes(sample_json: dict) -> None:
    """SM2's algorithm value costs exactly 4 bytes more than ES256's in the COSE message (a 5-byte integer head
    instead of 1); after zlib and base45 that is a few characters, the exact number varying with the random
    signature and credential id; the sizes of specs §8 hold."""
    from healthpass.codec import b45decode, decompress
    from healthpass.model.qr_capacity import ErrorCorrection, version_for_length

    from .test_size import _typical

    def codes(alg: Algorithm, credential: dict) -> list[str]:
        payload = payload_from_json(credential)
        return [Issuer(SoftwareSigner.generate(alg), Region("630000"), max_qr_version=40).issue(
            payload, now=NOW, credential_id=bytes(8)) for _ in range(12)]

    status = {"status": sample_json["status"]}
    for credential, largest in ((status, 9), (_typical(sample_json), 11), (sample_json, 12)):
        sm, es = codes(Algorithm.SM2, credential), codes(Algorithm.ES256, credential)
        cose = {len(decompress(b45decode(a[4:]), max_size=65536)) - len(decompress(b45decode(b[4:]), max_size=65536))
                for a, b in zip(sm, es, strict=True)}
        assert cose == {4}, cose  # deterministic: the algorithm label alone
        mean = sum(map(len, sm)) / len(sm) - sum(map(len, es)) / len(es)
        assert 0 < mean <= 9, (mean, sm, es)  # zlib cannot shrink random signature bytes
        assert max(version_for_length(len(c), ErrorCorrection.M) or 41 for c in sm) <= largest


# ---------------------------------------------------------------- item 4: interop with the openssl CLI


def _openssl_verify(tmp_path: Path, pub_pem: bytes, tbs: bytes, der: bytes) -> subprocess.CompletedProcess[str]:
    assert OPENSSL is not None
    (tmp_path / "pub.pem").write_bytes(pub_pem)
    (tmp_path / "tbs.bin").write_bytes(tbs)
    (tmp_path / "sig.der").write_bytes(der)
    return subprocess.run([OPENSSL, "pkeyutl", "-verify", "-rawin", "-digest", "sm3", "-pkeyopt",
                           "distid:1234567812345678", "-pubin", "-inkey", "pub.pem", "-sigfile", "sig.der",
                           "-in", "tbs.bin"], cwd=tmp_path, capture_output=True, text=True, check=False)


@needs_sm2
@needs_openssl
def test_issue18_item4_openssl_verifies_a_healthpass_signature(tmp_path: Path, sm2_code: str,
                                                               sm2_signer: SoftwareSigner) -> None:
    """The Sig_structure of a code healthpass minted, with its raw r||s turned into DER (openssl's form),
    verifies with ``openssl pkeyutl -verify -rawin -digest sm3 -pkeyopt distid:1234567812345678``; a flipped
    bit of the signature or of the Sig_structure does not."""
    protected, _, payload, signature = _parts(sm2_code)
    tbs = sig_structure(protected, payload)
    good = _openssl_verify(tmp_path, sm2_signer.public_key_pem(), tbs, sm2.raw_to_der(signature))
    assert good.returncode == 0 and "Verified Successfully" in good.stdout, good.stdout + good.stderr
    bad_sig = _openssl_verify(tmp_path, sm2_signer.public_key_pem(), tbs, sm2.raw_to_der(_flip(signature, 63)))
    assert bad_sig.returncode != 0 and "Verification Failure" in bad_sig.stdout
    bad_tbs = _openssl_verify(tmp_path, sm2_signer.public_key_pem(), _flip(tbs, 20), sm2.raw_to_der(signature))
    assert bad_tbs.returncode != 0


@needs_sm2
@needs_openssl
def test_issue18_item4_healthpass_verifies_an_openssl_signature(tmp_path: Path, sample: HealthPayload) -> None:
    """A code whose signature ``openssl pkeyutl -sign -rawin -digest sm3 -pkeyopt distid:...`` made (key from
    ``openssl genpkey``; DER signature converted to raw r||s) verifies in healthpass; a flipped bit fails."""
    assert OPENSSL is not None
    subprocess.run([OPENSSL, "genpkey", "-algorithm", "SM2", "-out", "k.pem"], cwd=tmp_path, check=True,
                   capture_output=True)
    signer = SoftwareSigner.from_file(tmp_path / "k.pem")  # for the kid and public key only
    iat = int(NOW.timestamp())
    protected = encode({HeaderLabel.ALG.value: Algorithm.SM2.value, HeaderLabel.KID.value: signer.kid})
    payload = encode(claims_for(sample, iat=iat, exp=iat + 3600))
    (tmp_path / "tbs.bin").write_bytes(sig_structure(protected, payload))
    subprocess.run([OPENSSL, "pkeyutl", "-sign", "-rawin", "-digest", "sm3", "-pkeyopt", "distid:1234567812345678",
                    "-inkey", "k.pem", "-in", "tbs.bin", "-out", "sig.der"], cwd=tmp_path, check=True,
                   capture_output=True)
    raw = sm2.der_to_raw((tmp_path / "sig.der").read_bytes())
    code = text_from_cose(cbor2.dumps(cbor2.CBORTag(18, [protected, {}, payload, raw])))
    verifier = Verifier(keys=[issuer_key(signer.public_key_pem(), region=Region("630000"))])
    assert verifier.verify(code, at=LATER).algorithm is Algorithm.SM2
    for index in (0, 31, 32, 63):
        with pytest.raises(VerificationError) as err:
            verifier.verify(_with_signature(code, _flip(raw, index)), at=LATER)
        assert err.value.code is ErrorCode.SIGNATURE_INVALID


# ---------------------------------------------------------------- item 5: hostile input


@needs_sm2
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_issue18_item5_any_single_byte_change_of_an_sm2_code_is_rejected(data: st.DataObject, sm2_code: str,
                                                                         sm2_verifier: Verifier) -> None:
    message = bytearray(decompress(b45decode(sm2_code[4:]), max_size=16384))
    index = data.draw(st.integers(0, len(message) - 1))
    message[index] ^= data.draw(st.integers(1, 255))
    with pytest.raises(HealthPassError):
        sm2_verifier.verify("HP1:" + b45encode(compress(bytes(message))), at=LATER)


@needs_sm2
def test_issue18_item5_every_bit_of_the_signature_matters(sm2_code: str, sm2_verifier: Verifier) -> None:
    signature = _parts(sm2_code)[3]
    for index in range(64):
        for bit in (0, 7):
            mutated = signature[:index] + bytes([signature[index] ^ (1 << bit)]) + signature[index + 1:]
            with pytest.raises(VerificationError) as err:
                sm2_verifier.verify(_with_signature(sm2_code, mutated), at=LATER)
            assert err.value.code is ErrorCode.SIGNATURE_INVALID


@needs_sm2
@pytest.mark.parametrize(("r", "s"), [(0, 1), (1, 0), (0, 0), (N, 1), (1, N), (N + 1, 5), (5, 2**256 - 1),
                                      (2**256 - 1, 2**256 - 1)])
def test_issue18_item5_r_or_s_zero_or_at_least_n(r: int, s: int, sm2_code: str, sm2_verifier: Verifier) -> None:
    signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    with pytest.raises(VerificationError) as err:
        sm2_verifier.verify(_with_signature(sm2_code, signature), at=LATER)
    assert err.value.code is ErrorCode.SIGNATURE_INVALID and err.value.stage is Stage.SIGNATURE


@needs_sm2
@pytest.mark.parametrize("length", [0, 1, 32, 63, 65, 72, 128])
def test_issue18_item5_wrong_signature_lengths(length: int, sm2_code: str, sm2_verifier: Verifier) -> None:
    signature = _parts(sm2_code)[3]
    mutated = (signature * 3)[:length]
    with pytest.raises(VerificationError) as err:
        sm2_verifier.verify(_with_signature(sm2_code, mutated), at=LATER)
    assert err.value.code is ErrorCode.SIGNATURE_INVALID


@needs_sm2
def test_issue18_item5_der_signature_on_the_wire_is_rejected(sm2_code: str, sm2_verifier: Verifier) -> None:
    """The wire form is raw r||s only: the same signature in DER (70-72 bytes) is not accepted."""
    der = sm2.raw_to_der(_parts(sm2_code)[3])
    with pytest.raises(VerificationError):
        sm2_verifier.verify(_with_signature(sm2_code, der), at=LATER)


@needs_sm2
def test_issue18_item5_sm2_has_no_low_s_rule(sm2_signer: SoftwareSigner, sample: HealthPayload) -> None:
    """Any s in [1, n-1] is valid: codes whose s is above n/2 verify (about half of all signatures), under the
    strict policy too, and so do those below."""
    issuer = Issuer(sm2_signer, Region("630000"))
    verifier = Verifier(keys=[issuer_key(sm2_signer.public_key_pem(), region=Region("630000"))])
    seen = set()
    for _ in range(40):
        code = issuer.issue(sample, now=NOW)
        high = int.from_bytes(_parts(code)[3][32:], "big") > N // 2
        verifier.verify(code, at=LATER)
        seen.add(high)
        if seen == {True, False}:
            break
    assert seen == {True, False}


@needs_sm2
def test_issue18_item5_sm2_key_claiming_es256_and_the_reverse(sm2_signer: SoftwareSigner, es_signer: SoftwareSigner,
                                                               sample: HealthPayload, sm2_verifier: Verifier) -> None:
    iat = int(NOW.timestamp())
    claims = claims_for(sample, iat=iat, exp=iat + 3600)
    # an SM2 signature under a header saying ES256, with the SM2 key's kid
    lying = make_code(sm2_signer, claims, alg=Algorithm.ES256)
    with pytest.raises(VerificationError) as err:
        sm2_verifier.verify(lying, at=LATER)
    assert err.value.code in {ErrorCode.ALGORITHM_UNSUPPORTED, ErrorCode.SIGNATURE_INVALID}
    assert err.value.code is ErrorCode.ALGORITHM_UNSUPPORTED and err.value.stage is Stage.SIGNATURE
    # an ES256 signature under a header saying SM2, with the ES256 key's kid
    reverse = make_code(es_signer, claims, alg=Algorithm.SM2)
    with pytest.raises(VerificationError) as err:
        sm2_verifier.verify(reverse, at=LATER)
    assert err.value.code is ErrorCode.ALGORITHM_UNSUPPORTED
    # an SM2 header and the SM2 kid, but an ES256 signature (64 bytes as well)
    forged = make_code(sm2_signer, claims, sign_with=es_signer)
    with pytest.raises(VerificationError) as err:
        sm2_verifier.verify(forged, at=LATER)
    assert err.value.code is ErrorCode.SIGNATURE_INVALID


@needs_sm2
def test_issue18_item5_policy_can_refuse_sm2(sm2_code: str, sm2_signer: SoftwareSigner) -> None:
    policy = VerifierPolicy(algorithms=frozenset({Algorithm.ES256, Algorithm.EDDSA}))
    verifier = Verifier(keys=[issuer_key(sm2_signer.public_key_pem(), region=Region("630000"))], policy=policy)
    with pytest.raises(VerificationError) as err:
        verifier.verify(sm2_code, at=LATER)
    assert err.value.code is ErrorCode.ALGORITHM_UNSUPPORTED and err.value.stage is Stage.ALGORITHM


@needs_sm2
def test_issue18_item5_distinguishing_id_is_checked() -> None:
    key = sm2.generate()
    signature = key.sign(b"data", distid=b"ALICE123@YAHOO.COM")
    key.public_key().verify(signature, b"data", distid=b"ALICE123@YAHOO.COM")
    with pytest.raises(VerificationError):
        key.public_key().verify(signature, b"data")
    for bad in (b"", b"x" * 8192):
        with pytest.raises(ValueError):
            key.sign(b"data", distid=bad)


# ---------------------------------------------------------------- item 6: without the backend


_WITHOUT = r"""
import json, sys
from datetime import datetime, UTC
from healthpass import crypto
from healthpass.crypto import sm2
from healthpass.errors import HealthPassError
from healthpass.model.cose import Algorithm
from healthpass.model.jsonform import payload_from_json
from healthpass.model.regions import Region
from healthpass.signers import SoftwareSigner
from healthpass.trust import TrustList, issuer_key, trust_root
from healthpass.verify import Verifier

args = json.loads(sys.argv[1])
at = datetime.fromisoformat(args["at"])
out = {"available": sm2.available(), "alg": crypto.algorithm_unavailable(Algorithm.SM2)}

def attempt(name, call):
    try:
        call()
        out[name] = "ok"
    except HealthPassError as err:
        out[name] = [err.code.value, err.stage.value, err.message]

attempt("issuer_key", lambda: issuer_key(args["sm2_pub"].encode(), region=Region("630000")))
attempt("trust_root", lambda: trust_root(args["sm2_pub"].encode()))
attempt("signer_pem", lambda: SoftwareSigner.from_pem(args["sm2_key"].encode()))
attempt("signer_generate", lambda: SoftwareSigner.generate(Algorithm.SM2))
es_root = trust_root(args["es_root"].encode())
tl = TrustList.load(args["list"].encode("latin-1"), [es_root], check_all=True)  # SM2 entries parse
verifier = Verifier(trust_lists=[tl])
attempt("sm2_code", lambda: verifier.verify(args["sm2_code"], at=at))
attempt("es_code", lambda: verifier.verify(args["es_code"], at=at))
print(json.dumps(out))
"""


def test_issue18_item6_without_the_backend(tmp_path: Path, es_signer: SoftwareSigner, sample: HealthPayload) -> None:
    """With no usable libcrypto (the variable points at a file that does not exist): SM2 keys and codes fail
    with ``algorithm_unsupported`` naming the extra; a trust list holding SM2 and ES256 keys still loads and
    its ES256 keys still verify. (The SM2 material is made with the backend in this process, so the test
    needs it here; the subprocess is the one without it.)"""
    if not sm2.available():
        pytest.skip("needs SM2 material made with the backend on this machine")
    sm2_signer = SoftwareSigner.generate(Algorithm.SM2)
    root = SoftwareSigner.generate()
    keys = [issuer_key(sm2_signer.public_key_pem(), region=Region("630000")),
            issuer_key(es_signer.public_key_pem(), region=Region("110000"))]
    data = TrustList.build(root, seq=1, keys=keys, valid_for=timedelta(days=7), now=NOW)
    args = {
        "at": LATER.isoformat(), "sm2_pub": sm2_signer.public_key_pem().decode(),
        "sm2_key": sm2_signer.private_key_pem().decode(), "es_root": root.public_key_pem().decode(),
        "list": data.decode("latin-1"),
        "sm2_code": Issuer(sm2_signer, Region("630000")).issue(sample, now=NOW),
        "es_code": Issuer(es_signer, Region("110000")).issue(sample, now=NOW),
    }
    env = {**os.environ, sm2.LIBCRYPTO_ENV: str(tmp_path / "no-such-libcrypto.so")}
    proc = subprocess.run([sys.executable, "-c", _WITHOUT, json.dumps(args)], capture_output=True, text=True,
                          env=env, check=False, timeout=60)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["available"] is False and "healthpass[sm]" in out["alg"]
    assert out["es_code"] == "ok"
    for name, stage in (("issuer_key", "key"), ("trust_root", "key"), ("signer_pem", "signer"),
                        ("signer_generate", "signer"), ("sm2_code", "algorithm")):
        code, where, message = out[name]
        assert (code, where) == ("algorithm_unsupported", stage), (name, out[name])
        assert "healthpass[sm]" in message and "no-such-libcrypto" in message


def test_issue18_item6_cli_without_the_backend(tmp_path: Path) -> None:
    env = {**os.environ, sm2.LIBCRYPTO_ENV: str(tmp_path / "missing.so")}
    proc = subprocess.run([sys.executable, "-m", "healthpass", "keygen", "--alg", "SM2", "--out", "k"], cwd=tmp_path,
                          capture_output=True, text=True, env=env, check=False, timeout=60)
    assert proc.returncode == 1 and "algorithm_unsupported" in proc.stderr and "healthpass[sm]" in proc.stderr
    assert not list(tmp_path.glob("k.*"))
    # the core install is unchanged: ES256 keys are made as before
    ok = subprocess.run([sys.executable, "-m", "healthpass", "keygen", "--alg", "ES256", "--out", "e"], cwd=tmp_path,
                        capture_output=True, text=True, env=env, check=False, timeout=60)
    assert ok.returncode == 0, ok.stderr


def test_issue18_item6_a_library_without_sm2_is_unavailable(tmp_path: Path) -> None:
    """A file that loads but is not an OpenSSL 3 libcrypto (here libc) is refused with a reason, not used."""
    import ctypes.util

    libc = ctypes.util.find_library("c")
    if libc is None:
        pytest.skip("no libc to stand in for a wrong library")
    script = "from healthpass.crypto import sm2; print(sm2.available()); print(sm2.unavailable_message())"
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=60,
                          env={**os.environ, sm2.LIBCRYPTO_ENV: libc})
    first, message = proc.stdout.splitlines()[:2]
    assert first == "False" and "healthpass[sm]" in message and "AttributeError" in message


def test_issue18_item6_es256_verify_never_loads_the_sm2_backend(tmp_path: Path, code: str,
                                                                  es_signer: SoftwareSigner) -> None:
    """Start-up: a process verifying ES256 codes imports neither ctypes nor the SM2 module."""
    script = ("import sys; from healthpass import Verifier, issuer_key, Region; "
              f"v = Verifier(keys=[issuer_key({es_signer.public_key_pem()!r}, region=Region('630000'))]); "
              f"v.verify({code!r}, at=__import__('datetime').datetime.fromisoformat({LATER.isoformat()!r})); "
              "print([m for m in ('ctypes', 'healthpass.crypto.sm2') if m in sys.modules])")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=60)
    assert proc.stdout.strip() == "[]", proc.stderr


def test_issue18_item6_sm2_public_keys_parse_without_the_backend(sm2_public_spki: bytes) -> None:
    """Parsing (strict structure, point on the curve) is Python: a trust list's SM2 entries load anywhere."""
    key = crypto.load_public_key(sm2_public_spki)[0]
    assert crypto.key_algorithm(key) is Algorithm.SM2 and crypto.spki_der(key) == sm2_public_spki
    assert crypto.load_public_key(crypto.public_key_pem(key))[1] == sm2_public_spki
    assert crypto.kid_for(sm2_public_spki) == hashlib.sha256(sm2_public_spki).digest()[:8]
    assert pickle.loads(pickle.dumps(key)).spki_der == sm2_public_spki


def test_issue18_item3_pkcs11_sm2_is_out_of_scope() -> None:
    """docs/hsm.md: SoftHSM2 has no SM2; asking a token for an SM2 key is ``mechanism_unsupported`` before
    any module is loaded."""
    pytest.importorskip("pkcs11")
    from healthpass.signers.pkcs11 import Pkcs11Config, generate_key

    config = Pkcs11Config(module="/nonexistent/libpkcs11.so", token_label="t", key_label="k", pin_env="PIN")
    with pytest.raises(SignerError) as err:
        generate_key(config, Algorithm.SM2)
    assert err.value.code is ErrorCode.MECHANISM_UNSUPPORTED and "SM2" in err.value.message


@needs_sm2
def test_issue18_item3_status_list_signed_with_an_sm2_key(sm2_signer: SoftwareSigner) -> None:
    """Status lists (issue 17) go through the same Signer protocol and key ring: an SM2 issuer key signs
    one, it loads and reads back; a flipped bit of its SM2 signature is refused."""
    from healthpass.status import StatusList

    key = issuer_key(sm2_signer.public_key_pem(), region=Region("630000"))
    token = StatusList.build(sm2_signer, uri="hp:630000:3", size=1024, entries=[(3, 1), (700, 2)],
                             valid_for=timedelta(days=1), now=NOW)
    assert cbor2.loads(cbor2.loads(token).value[0])[HeaderLabel.ALG.value] == Algorithm.SM2
    listed = StatusList.load(token, [key])
    assert listed.status(3) == 1 and listed.status(700) == 2 and listed.status(4) == 0
    tampered = bytearray(token)
    tampered[-1] ^= 1
    with pytest.raises(HealthPassError):
        StatusList.load(bytes(tampered), [key])


@needs_sm2
@needs_openssl
def test_issue18_item3_sm2_keys_as_certificates(tmp_path: Path, sample: HealthPayload) -> None:
    """An SM2 key distributed as an X.509 certificate (``openssl req -x509 -sm3``), as an issuer key and as a
    root: its SPKI is read from the certificate (``cryptography`` cannot load SM2 keys), the kid is over the
    certificate DER, codes signed by the key under that kid verify. (openssl dates the certificate from the
    clock, so the code's times are taken from the certificate, not from the clock.)"""
    assert OPENSSL is not None
    subprocess.run([OPENSSL, "genpkey", "-algorithm", "SM2", "-out", "k.pem"], cwd=tmp_path, check=True,
                   capture_output=True)
    subprocess.run([OPENSSL, "req", "-x509", "-new", "-key", "k.pem", "-sm3", "-sigopt", "distid:1234567812345678",
                    "-subj", "/CN=Qinghai SM2 DSC", "-days", "3650", "-out", "c.pem"], cwd=tmp_path, check=True,
                   capture_output=True)
    cert_pem = (tmp_path / "c.pem").read_bytes()
    signer = SoftwareSigner.from_file(tmp_path / "k.pem")
    entry = issuer_key(cert_pem, region=Region("630000"))
    der = base64.b64decode("".join(cert_pem.decode().strip().splitlines()[1:-1]))
    assert entry.is_certificate and entry.kid == hashlib.sha256(der).digest()[:8] != signer.kid
    key, kid_source, cert = crypto.load_public_key(cert_pem)
    assert kid_source == der and cert is not None and crypto.spki_der(key) == signer.public_key_der
    assert trust_root(cert_pem).kid == entry.kid
    assert entry.cert_not_before is not None
    issued = entry.cert_not_before + timedelta(days=1)
    code = Issuer(signer, Region("630000"), kid=entry.kid).issue(sample, now=issued)
    assert Verifier(keys=[entry]).verify(code, at=issued + timedelta(hours=1)).kid == entry.kid
    other = SoftwareSigner.generate(Algorithm.SM2)
    forged = Issuer(other, Region("630000"), kid=entry.kid).issue(sample, now=issued)
    with pytest.raises(VerificationError) as err:
        Verifier(keys=[entry]).verify(forged, at=issued + timedelta(hours=1))
    assert err.value.code is ErrorCode.SIGNATURE_INVALID


def test_issue18_item3_spki_from_a_tbs_certificate() -> None:
    """The SPKI walker on the vectors' sm2-cert.pem TBSCertificate (the certificate's own subject key), and
    its refusals."""
    vector = next((v for v in _vectors("recommended_curve") if v["name"].startswith("sm2-cert.pem signature by")),
                  None)
    if vector is None:
        pytest.skip("SM2 vectors not found: set HEALTHPASS_SHARED")
    tbs = bytes.fromhex(vector["msg_hex"])
    spki = sm2.spki_from_tbs_certificate(tbs)
    assert spki.hex().startswith("305a301406082a811ccf5501822d06082a811ccf5501822d0342000466262b8c")
    # this Tongsuo certificate names its key with the SM2 OID itself as the algorithm (OpenSSL 1.1.1's form),
    # not id-ecPublicKey: not the form specs/credential.md SM2 admits, so it is refused, never guessed at
    assert not sm2.is_sm2_spki(spki)
    with pytest.raises(ValueError):
        sm2.load_spki(spki)
    with pytest.raises(ValueError):
        crypto.load_public_key(spki)
    for bad in (tbs[:-1], tbs + b"\x00", b"\x31" + tbs[1:], tbs[:40], b"", b"\x30\x84\xff\xff\xff\xff"):
        with pytest.raises(ValueError):
            sm2.spki_from_tbs_certificate(bad)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_issue18_item5_sm2_parsers_fail_only_with_value_error(data: st.DataObject, sm2_public_spki: bytes) -> None:
    """The pure-Python structure readers (SPKI, DER signature, TBSCertificate walk) on arbitrary bytes and on
    mutations of valid input: a result or a ValueError, nothing else (no IndexError, no hang)."""
    good_sig = sm2.raw_to_der((7).to_bytes(32, "big") + (N - 2).to_bytes(32, "big"))
    base = data.draw(st.sampled_from([sm2_public_spki, good_sig, b""]))
    blob = bytearray(base)
    for _ in range(data.draw(st.integers(0, 3))):
        if blob and data.draw(st.booleans()):
            blob[data.draw(st.integers(0, len(blob) - 1))] = data.draw(st.integers(0, 255))
        else:
            blob[data.draw(st.integers(0, len(blob))):0] = data.draw(st.binary(max_size=4))
    if data.draw(st.booleans()):
        blob = bytearray(data.draw(st.binary(max_size=120)))
    for parse in (sm2.load_spki, sm2.der_to_raw, sm2.spki_from_tbs_certificate, crypto.load_public_key):
        with contextlib.suppress(ValueError):
            parse(bytes(blob))
