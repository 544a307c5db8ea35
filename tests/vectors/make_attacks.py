#!/usr/bin/env python3
"""Generate ``tests/vectors/attacks.json``: the adversarial catalogue of hostile codes and trust lists.

Every vector is one named attack on one stage of the verifier, built byte by byte from fixed keys, with the
error code (and stage) it must produce. The output is deterministic: the keys derive from fixed labels
(Ed25519 seeds and P-256/P-384 scalars are SHA-256 of the label), ECDSA signs with RFC 6979 deterministic
nonces, certificates have fixed serials and dates, and nothing reads the clock. Re-running the script with
the same healthpass, cryptography and zlib-ng versions reproduces byte-identical vectors.

    python tests/vectors/make_attacks.py            # (re)write attacks.json next to this script
    python tests/vectors/make_attacks.py --check    # exit 1 when attacks.json is not what the script makes

The script verifies every vector before writing it and refuses to write a catalogue in which any vector
produces another outcome than the one it declares.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import hashlib
import json
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID
from zlib_ng import zlib_ng

from healthpass.codec import b45decode, b45encode, compress, sig_structure
from healthpass.codec.cbor import encode
from healthpass.codec.payload import payload_to_cbor
from healthpass.codec.signed_doc import ContentType, encode_envelope
from healthpass.cose import seal_document
from healthpass.crypto import P256_ORDER, kid_for
from healthpass.errors import HealthPassError
from healthpass.model.cose import Algorithm, ClaimKey, HeaderLabel
from healthpass.model.credential import (
    HealthPayload,
    HealthStatus,
    Holder,
    Kind,
    NaatTest,
    Sex,
    StatusColour,
    TestResult,
    Vaccination,
    VaccineProduct,
)
from healthpass.model.regions import Region
from healthpass.model.trust import IssuerKey, KeyStatus, TrustRoot
from healthpass.trust import TrustList, issuer_key, trust_root
from healthpass.verify import Verifier, VerifierPolicy

OUT = Path(__file__).with_name("attacks.json")
FORMAT_VERSION = 1

# ------------------------------------------------------------------------------------------ fixed inputs

#: The verification time of every vector (unless a vector says otherwise).
AT = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)
IAT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
EXP = IAT + timedelta(hours=72)
IAT_TS, EXP_TS = int(IAT.timestamp()), int(EXP.timestamp())
LIST_ISSUED = datetime(2026, 11, 20, tzinfo=UTC)
CERT_FROM, CERT_UNTIL = datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)

#: Personal data that must never appear in any error message, str(), repr() or log record.
PII = {
    "name": "Zoltan Quibblesworth-Yarrow",
    "name_std": "QUIBBLESWORTH<YARROW<<ZOLTAN",
    "family_name": "Quibblesworth-Yarrow",
    "given_name": "Zoltan",
    "birth_date": "1931-07-23",
}
#: Strings searched (case-insensitively) in everything the verifier says about a rejected code.
PII_NEEDLES = ["Zoltan", "Quibblesworth", "Yarrow", "1931-07-23", "19310723", "1931-07"]

HOLDER = Holder(name=PII["name"], name_std=PII["name_std"], birth_date=PII["birth_date"], sex=Sex.MALE,
                nationality="CHN")
PAYLOAD = HealthPayload(
    holder=HOLDER,
    status=HealthStatus(colour=StatusColour.GREEN, set_at=IAT - timedelta(hours=4)),
    naat=(NaatTest(sampled_at=IAT - timedelta(hours=20), result=TestResult.NEGATIVE, region=Region("630100")),),
    vaccinations=(Vaccination(product=VaccineProduct.CORONAVAC, dose_number=2, series_total=2,
                              date=date(2021, 6, 1)),),
)
STATUS_ONLY = HealthPayload(holder=HOLDER, status=HealthStatus(colour=StatusColour.GREEN, set_at=IAT))
DCC_V = {
    "ver": "1.3.0",
    "nam": {"fn": PII["family_name"], "gn": PII["given_name"], "fnt": "QUIBBLESWORTH<YARROW", "gnt": "ZOLTAN"},
    "dob": PII["birth_date"],
    "v": [{"tg": "840539006", "vp": "1119349007", "mp": "EU/1/20/1528", "ma": "ORG-100030215", "dn": 2, "sd": 2,
           "dt": "2021-06-01", "co": "AT", "is": "Ministry of Health, Austria",
           "ci": "URN:UVCI:01:AT:10807843F94AEE0EE5093FBC254BD813#B"}],
}
DCC_T = {
    "ver": "1.3.0",
    "nam": DCC_V["nam"],
    "dob": PII["birth_date"],
    "t": [{"tg": "840539006", "tt": "LP6464-4", "sc": "2026-11-24T09:30:00Z", "tr": "260415000", "tc": "Lab",
           "co": "AT", "is": "Ministry of Health, Austria", "ci": "URN:UVCI:01:AT:B5921A35D6A0D696421B3E2462178297#I"}],
}
EKU_DCC_TEST = "1.3.6.1.4.1.1847.2021.1.1"


# ------------------------------------------------------------------------------------------------- keys


@dataclass(frozen=True)
class FixedKey:
    """A test key derived from a label; implements the Signer protocol (deterministic signatures)."""

    label: str
    curve: str  # "ed25519", "p256" or "p384"

    @property
    def private(self) -> Any:
        seed = hashlib.sha256(f"healthpass attack catalogue / {self.label}".encode()).digest()
        if self.curve == "ed25519":
            return ed25519.Ed25519PrivateKey.from_private_bytes(seed)
        if self.curve == "p256":
            return ec.derive_private_key(int.from_bytes(seed, "big") % (P256_ORDER - 1) + 1, ec.SECP256R1())
        return ec.derive_private_key(int.from_bytes(seed * 2, "big") % (2**383) + 1, ec.SECP384R1())

    @property
    def algorithm(self) -> Algorithm:
        return Algorithm.EDDSA if self.curve == "ed25519" else Algorithm.ES256

    @property
    def public_key_der(self) -> bytes:
        return self.private.public_key().public_bytes(serialization.Encoding.DER,
                                                      serialization.PublicFormat.SubjectPublicKeyInfo)

    @property
    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(serialization.Encoding.PEM,
                                                      serialization.PublicFormat.SubjectPublicKeyInfo)

    @property
    def kid(self) -> bytes:
        return kid_for(self.public_key_der)

    def sign(self, data: bytes) -> bytes:
        key = self.private
        if self.curve == "ed25519":
            return bytes(key.sign(data))
        der = key.sign(data, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
        r, s = decode_dss_signature(der)
        size = 32 if self.curve == "p256" else 48
        if self.curve == "p256" and s > P256_ORDER // 2:  # healthpass signers emit low-s
            s = P256_ORDER - s
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")


ED = FixedKey("ed-qinghai", "ed25519")
ES = FixedKey("es-qinghai", "p256")
P384 = FixedKey("p384-qinghai", "p384")
XINING = FixedKey("ed-xining", "ed25519")
STATUS_KEY = FixedKey("ed-status-only", "ed25519")
WINDOW = FixedKey("ed-window-closed", "ed25519")
RETIRED = FixedKey("ed-retired", "ed25519")
STRANGER = FixedKey("ed-stranger", "ed25519")
ROOT = FixedKey("ed-root", "ed25519")
DSC = FixedKey("ed-dsc", "ed25519")
DSC_TEST_ONLY = FixedKey("ed-dsc-test-only", "ed25519")
LIST_KEY = FixedKey("ed-listed", "ed25519")
KEYS = [ED, ES, P384, XINING, STATUS_KEY, WINDOW, RETIRED, STRANGER, ROOT, DSC, DSC_TEST_ONLY, LIST_KEY]


def _certificate(key: FixedKey, ekus: tuple[str, ...]) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"healthpass attack catalogue {key.label}")])
    builder = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.private.public_key())
        .serial_number(int.from_bytes(hashlib.sha256(key.label.encode()).digest()[:8], "big"))
        .not_valid_before(CERT_FROM).not_valid_after(CERT_UNTIL)
        .add_extension(x509.ExtendedKeyUsage([x509.ObjectIdentifier(o) for o in ekus]), critical=False)
    )
    return builder.sign(key.private, None).public_bytes(serialization.Encoding.PEM)


DSC_TEST_CERT = _certificate(DSC_TEST_ONLY, (EKU_DCC_TEST,))
DSC_TEST_DER = x509.load_pem_x509_certificate(DSC_TEST_CERT).public_bytes(serialization.Encoding.DER)
DSC_TEST_KID = kid_for(DSC_TEST_DER)

#: The "default" trust profile: what the verifier of most vectors trusts, and how.
DEFAULT_TRUST: list[dict[str, Any]] = [
    {"key": ED.label, "region": "630000"},
    {"key": ES.label, "region": "630000"},
    {"key": P384.label, "region": "630000"},
    {"key": XINING.label, "region": "630100"},
    {"key": STATUS_KEY.label, "region": "630000", "kinds": ["status"]},
    {"key": WINDOW.label, "region": "630000", "valid_until": "2026-11-01T00:00:00Z"},
    {"key": RETIRED.label, "region": "630000", "status": "retired", "retired_at": "2026-11-01T00:00:00Z"},
    {"key": DSC.label, "region": None, "source": "dsc"},
    {"key": DSC_TEST_ONLY.label, "region": None, "source": "dsc", "certificate": True},
]
BY_LABEL = {k.label: k for k in KEYS}


def _instant(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00"))


def issuer_key_from_spec(spec: dict[str, Any], keys: dict[str, dict[str, str]]) -> IssuerKey:
    """An IssuerKey from one entry of a trust profile (the test suite uses the same function's logic)."""
    material = keys[spec["key"]]["certificate_pem" if spec.get("certificate") else "public_pem"].encode()
    region = Region(spec["region"]) if spec.get("region") else None
    kinds = frozenset(Kind(k) for k in spec["kinds"]) if "kinds" in spec else frozenset(Kind)
    key = issuer_key(material, region=region, kinds=kinds, source=spec.get("source", "trust-key"))
    return dataclasses.replace(
        key, valid_from=_instant(spec.get("valid_from")), valid_until=_instant(spec.get("valid_until")),
        status=KeyStatus.RETIRED if spec.get("status") == "retired" else KeyStatus.ACTIVE,
        retired_at=_instant(spec.get("retired_at")),
    )


def roots_from_spec(specs: list[dict[str, Any]], keys: dict[str, dict[str, str]]) -> list[TrustRoot]:
    return [trust_root(keys[s["key"]]["public_pem"].encode(),
                       regions=[Region(r) for r in s["regions"]] if "regions" in s else None) for s in specs]


# ------------------------------------------------------------------------------------------ code builders


def claims(
    payload: HealthPayload | None = PAYLOAD,
    *,
    iss: Any = "630000",
    iat: Any = IAT_TS,
    exp: Any = EXP_TS,
    drop: tuple[int, ...] = (),
    **extra: Any,
) -> dict[Any, Any]:
    """HP1 CWT claims (iss, exp, iat, cti, payload), with overrides; ``extra`` keys are claim numbers."""
    anchor = iat if type(iat) is int and iat >= 0 else IAT_TS
    out: dict[Any, Any] = {
        ClaimKey.ISS.value: iss,
        ClaimKey.EXP.value: exp,
        ClaimKey.IAT.value: iat,
        ClaimKey.CTI.value: bytes.fromhex("a77ac4c0de5eed01"),
    }
    if payload is not None:
        out[ClaimKey.HEALTHPASS.value] = payload_to_cbor(payload, iat=anchor)
    for key, value in extra.items():
        out[int(key.removeprefix("c").replace("_", "-"))] = value
    for key in drop:
        out.pop(key, None)
    return out


def hc1_claims(dcc: Any = None, *, iat: Any = IAT_TS, exp: Any = EXP_TS, hcert: Any = None) -> dict[Any, Any]:
    return {
        ClaimKey.ISS.value: "AT",
        ClaimKey.EXP.value: exp,
        ClaimKey.IAT.value: iat,
        ClaimKey.HCERT.value: hcert if hcert is not None else {1: DCC_V if dcc is None else dcc},
    }


def protected_for(key: FixedKey, alg: int | None = None, kid: bytes | None = None) -> dict[int, Any]:
    return {HeaderLabel.ALG.value: key.algorithm.value if alg is None else alg,
            HeaderLabel.KID.value: key.kid if kid is None else kid}


def cose(
    key: FixedKey,
    payload: dict[Any, Any] | bytes,
    *,
    protected: dict[Any, Any] | bytes | None = None,
    unprotected: Any = None,
    alg: int | None = None,
    kid: bytes | None = None,
    tag: int | None = 18,
    signature: Callable[[bytes], bytes] | None = None,
    to_be_signed: Callable[[bytes, bytes], bytes] | None = None,
    body: Callable[[list[Any]], Any] | None = None,
) -> bytes:
    """A COSE_Sign1 message signed over exactly the bytes it carries; every knob can be turned wrong."""
    if protected is None:
        protected = protected_for(key, alg, kid)
    protected_bytes = protected if isinstance(protected, bytes) else encode(protected)
    payload_bytes = payload if isinstance(payload, bytes) else encode(payload)
    tbs = (to_be_signed or sig_structure)(protected_bytes, payload_bytes)
    sig = key.sign(tbs)
    if signature is not None:
        sig = signature(sig)
    items: Any = [protected_bytes, {} if unprotected is None else unprotected, payload_bytes, sig]
    if body is not None:
        items = body(items)
    return cbor2.dumps(cbor2.CBORTag(tag, items) if tag is not None else items)


def text(message: bytes, prefix: str = "HP1:") -> str:
    return prefix + b45encode(compress(message))


def raw_text(compressed: bytes, prefix: str = "HP1:") -> str:
    return prefix + b45encode(compressed)


def dag_bomb(levels: int = 24, fan: int = 16) -> bytes:
    """Shared references (tags 28/29): each level is an array of ``fan`` references to the previous level,
    so ~50 bytes per level describe fan**levels items once the references are expanded."""
    assert fan < 24 and 24 <= levels < 256
    items = [b"\xd8\x1c\x81\x00"]
    for i in range(1, levels):
        ref = b"\xd8\x1d" + cbor2.dumps(i - 1)
        items.append(b"\xd8\x1c" + bytes([0x80 + fan]) + ref * fan)
    return bytes([0x98, levels]) + b"".join(items)


def error_message_bomb(levels: int = 24, fan: int = 16) -> bytes:
    """The shared-reference DAG followed by a shared reference whose index is an array of references into it:
    cbor2's C decoder formats "invalid shared reference %R" with the repr() of that array, which is
    exponentially large (fan**levels). A few hundred bytes used to exhaust memory inside cbor2.loads."""
    dag = dag_bomb(levels, fan)
    return bytes([0x98, levels + 1]) + dag[2:] + b"\xd8\x1d\x81\xd8\x1d" + cbor2.dumps(levels - 1)


def wide_heads(data: bytes) -> bytes:
    """The same tags 28/29 with non-preferred (2- and 4-byte) tag heads, which cbor2 accepts too."""
    return data.replace(b"\xd8\x1c", b"\xd9\x00\x1c").replace(b"\xd8\x1d", b"\xda\x00\x00\x00\x1d")


def string_ref_bomb(count: int = 1500) -> bytes:
    """String references (tags 256/25): one 2000-byte string named once, then referenced ``count`` times."""
    return b"\xd9\x01\x00" + cbor2.dumps([["s" * 2000], *([cbor2.CBORTag(25, 0)] * count)])


def flip_high_s(sig: bytes) -> bytes:
    s = int.from_bytes(sig[32:], "big")
    return sig[:32] + (P256_ORDER - s).to_bytes(32, "big")


def raw_to_der(sig: bytes) -> bytes:
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    return encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))


ED25519_L = 2**252 + 27742317777372353535851937790883648493


def ed25519_s_plus_l(sig: bytes) -> bytes:
    s = int.from_bytes(sig[32:], "little") + ED25519_L
    return sig[:32] + s.to_bytes(32, "little")


def with_body(**changes: Any) -> Callable[[list[Any]], Any]:
    def edit(items: list[Any]) -> Any:
        for index, value in changes.items():
            items[int(index[1:])] = value(items[int(index[1:])]) if callable(value) else value
        return items

    return edit


def nested(depth: int) -> Any:
    value: Any = 0
    for _ in range(depth):
        value = [value]
    return value


def relabel_bytes(data: bytes, old: bytes, new: bytes) -> bytes:
    assert data.count(old) == 1, old
    return data.replace(old, new)


# -------------------------------------------------------------------------------------------- catalogue


@dataclass
class Vector:
    name: str
    stage: str | None
    expect: str | None
    description: str
    text: str | None = None
    data: bytes | None = None  # trust-list vectors
    kind: str = "code"
    trust: Any = "default"
    policy: dict[str, Any] | None = None
    at: datetime = AT
    roots: list[dict[str, Any]] | None = None
    accepted_before: list[bytes] | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "kind": self.kind, "stage": self.stage, "expect": self.expect,
                               "description": self.description, "at": self.at.isoformat().replace("+00:00", "Z")}
        if self.kind == "code":
            assert self.text is not None
            out["format"] = self.text[:3] if self.text[:4] in ("HP1:", "HC1:") else None
            out["text"] = self.text
            out["trust"] = self.trust
        else:
            assert self.data is not None
            out["data_b64"] = base64.b64encode(self.data).decode()
            out["roots"] = self.roots
            out["accepted_before_b64"] = [base64.b64encode(d).decode() for d in self.accepted_before or []]
        if self.policy:
            out["policy"] = self.policy
        return out


def _trust_list(keys: list[IssuerKey], *, seq: int = 1, issued: datetime = LIST_ISSUED,
                valid_for: timedelta = timedelta(days=14), signer: FixedKey = ROOT) -> bytes:
    return TrustList.build(signer, seq=seq, keys=keys, valid_for=valid_for, now=issued)


def _listed(key: FixedKey, region: str = "630000") -> IssuerKey:
    return issuer_key(key.public_pem, region=Region(region))


def _head(major: int, value: int) -> bytes:
    """A CBOR head in preferred serialisation (the shortest form)."""
    if value < 24:
        return bytes([major << 5 | value])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if value < 1 << (8 * size):
            return bytes([major << 5 | info]) + value.to_bytes(size, "big")
    raise ValueError("too large for a CBOR head")


def _entry(material: bytes, region: int = 630000, **fields: Any) -> bytes:
    """A key entry's bytes: SPKI ``material``, a region, all kinds, active (``fields`` override by label)."""
    return encode({2: material, 4: region, 5: [1, 2, 3, 4, 5], 8: 1, **{int(k[1:]): v for k, v in fields.items()}})


def _raw_body(pairs: list[tuple[bytes, bytes]]) -> bytes:
    """A trust-list body written pair by pair as given (kid byte strings, entry byte strings): any order."""
    return _head(5, len(pairs)) + b"".join(cbor2.dumps(kid) + cbor2.dumps(entry) for kid, entry in pairs)


def _sealed_list(body: bytes, *, seq: int = 7, version: int = 1, trailer: bytes = b"") -> bytes:
    """A list whose body is given as raw CBOR (hostile structure), in a correct envelope signed by the root:
    so the signature holds and the defect is met where the list's structure is read."""
    start = int(LIST_ISSUED.timestamp())
    head = encode({1: version, 2: seq, 3: start, 4: start + 14 * 86400})
    payload = b"\xa5" + head[1:] + b"\x05" + body + trailer
    return seal_document(ROOT, ContentType.TRUST_LIST.value, payload)


def build_catalogue() -> tuple[list[Vector], list[Vector]]:
    attacks: list[Vector] = []
    controls: list[Vector] = []

    def attack(name: str, stage: str, expect: str, description: str, value: str | bytes, **kw: Any) -> None:
        if isinstance(value, bytes):
            kw["data"] = value
        else:
            kw["text"] = value
        attacks.append(Vector(name, stage, expect, description, **kw))

    def control(name: str, description: str, value: str, **kw: Any) -> None:
        controls.append(Vector(name, None, None, description, text=value, **kw))

    good_msg = cose(ED, claims())
    good = text(good_msg)
    good_es_msg = cose(ES, claims())
    good_compressed = compress(good_msg)
    good_hc1 = text(cose(DSC, hc1_claims()), "HC1:")

    # -- controls: the same setup accepts well-formed codes ------------------------------------------------
    control("valid_hp1_eddsa", "a well-formed EdDSA code: the setup accepts it", good)
    control("valid_hp1_es256", "a well-formed ES256 code (deterministic RFC 6979 signature)", text(good_es_msg))
    control("valid_hp1_surrounding_whitespace", "surrounding whitespace is stripped", f"  \t{good}\r\n")
    control("valid_hc1_unprotected_entry_added",
            "EU: an entry added to the unprotected header after signing is not signed; ignored, content unchanged",
            text(cose(DSC, hc1_claims(), unprotected={99: "note"}), "HC1:"))
    control("valid_hc1", "a well-formed EU DCC signed by a trusted DSC", good_hc1)
    control("valid_hc1_test_by_test_only_dsc", "a test DCC signed by a DSC whose certificate allows tests",
            text(cose(DSC_TEST_ONLY, hc1_claims(DCC_T), kid=DSC_TEST_KID), "HC1:"))
    control("valid_hc1_kid_unprotected", "EU practice: the kid may sit in the unprotected header",
            text(cose(DSC, hc1_claims(), protected={1: DSC.algorithm.value}, unprotected={4: DSC.kid}), "HC1:"))
    listed_code = text(cose(LIST_KEY, claims()))
    fresh_list = _trust_list([_listed(LIST_KEY)])
    control("valid_hp1_via_trust_list", "a code whose key comes from a signed trust list", listed_code,
            trust={"trust_list_b64": base64.b64encode(fresh_list).decode(), "roots": [{"key": ROOT.label}]})

    # -- prefix --------------------------------------------------------------------------------------------
    attack("prefix_missing", "prefix", "prefix_invalid", "base45 body without any prefix", good[4:])
    attack("prefix_lowercase", "prefix", "prefix_invalid", "prefix in lower case (hp1:)", "hp1:" + good[4:])
    attack("prefix_unknown_version", "prefix", "prefix_invalid", "an unknown prefix version (HP2:)",
           "HP2:" + good[4:])
    attack("prefix_behind_zero_width_space", "prefix", "prefix_invalid",
           "U+200B before the prefix: not whitespace, so not stripped", "\u200b" + good)
    attack("prefix_format_not_accepted", "prefix", "prefix_invalid",
           "an HC1 code at a verifier whose policy accepts HP1 only", good_hc1, policy={"formats": ["HP1"]})
    attack("text_too_long", "prefix", "payload_too_large", "5000 characters: longer than Limits.max_text",
           "HP1:" + "0" * 4996)

    # -- base45 --------------------------------------------------------------------------------------------
    attack("base45_lowercase", "base45", "base45_invalid", "the body in lower case (not in the alphabet)",
           "HP1:" + good[4:].lower())
    attack("base45_inner_newline", "base45", "base45_invalid", "a line break inside the body",
           good[:40] + "\n" + good[40:])
    attack("base45_non_ascii_digit", "base45", "base45_invalid", "a fullwidth digit (U+FF10) inside the body",
           good[:20] + "\uff10" + good[21:])
    attack("base45_dangling_character", "base45", "base45_invalid", "length leaves one lone character",
           good + "0")
    attack("base45_group_over_65535", "base45", "base45_invalid", "a three-character group encoding 65536+",
           "HP1:" + "GGW" + good[7:])
    body = good[4:]
    first = b45decode(body[:3])
    alias_value = int.from_bytes(first, "big") + 65536
    if alias_value < 45**3:
        alias = "".join("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"[(alias_value // 45**i) % 45] for i in range(3))
        attack("base45_group_alias_mod_65536", "base45", "base45_invalid",
               "the first group re-encoded as value+65536 (a lenient decoder reducing mod 65536 accepts it)",
               "HP1:" + alias + body[3:])
    odd = text(cose(ED, claims(), unprotected={99: b""}))  # pick a body with a final two-character group
    if len(b45decode(odd[4:])) % 2 == 0:
        odd = text(cose(ED, claims(), unprotected={99: b"\x00"}))
    last = b45decode(odd[-2:])[0] + 256 if len(odd[4:]) % 3 == 2 else None
    if last is not None:
        pair = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"[last % 45] + \
            "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"[last // 45]
        attack("base45_final_pair_over_255", "base45", "base45_invalid",
               "the final two-character group re-encoded as value+256", odd[:-2] + pair)

    # -- decompress ----------------------------------------------------------------------------------------
    bomb_size = 3_000_000
    bomb = zlib_ng.compress(b"\x00" * bomb_size, 9)
    while len(raw_text(bomb)) > 4400:
        bomb_size -= 100_000
        bomb = zlib_ng.compress(b"\x00" * bomb_size, 9)
    attack("zlib_bomb", "decompress", "payload_too_large",
           f"{len(bomb)} compressed bytes inflating to {bomb_size:,} bytes (a zlib bomb within the text limit)",
           raw_text(bomb))
    attack("zlib_truncated", "decompress", "decompress_failed", "the zlib stream without its last 6 bytes",
           raw_text(good_compressed[:-6]))
    attack("zlib_trailing_bytes", "decompress", "decompress_failed", "bytes after the end of the zlib stream",
           raw_text(good_compressed + b"\x00\x00"))
    attack("zlib_bad_adler32", "decompress", "decompress_failed", "the Adler-32 checksum altered",
           raw_text(good_compressed[:-1] + bytes([good_compressed[-1] ^ 1])))
    attack("zlib_raw_deflate", "decompress", "decompress_failed", "a raw DEFLATE stream without zlib header",
           raw_text(good_compressed[2:-4]))
    gz = zlib_ng.compressobj(9, zlib_ng.DEFLATED, 31)
    attack("zlib_gzip_wrapper", "decompress", "decompress_failed", "a gzip member instead of a zlib stream",
           raw_text(gz.compress(good_msg) + gz.flush()))
    fdict = zlib_ng.compressobj(9, zlib_ng.DEFLATED, 15, 9, zlib_ng.Z_DEFAULT_STRATEGY, b"healthpass")
    attack("zlib_preset_dictionary", "decompress", "decompress_failed", "a stream needing a preset dictionary",
           raw_text(fdict.compress(good_msg) + fdict.flush()))
    attack("zlib_empty", "decompress", "decompress_failed", "an empty body", "HP1:")
    # CINFO 8 (a 64 KiB window, beyond RFC 1950's 32 KiB), FCHECK recomputed; hred3: inflated by the standard
    # library's zlib since the start-up work, which refuses it as zlib-ng did
    wide = 0x8800 + next(f for f in range(32) if (0x8800 + f) % 31 == 0)  # FDICT clear: only the window is wrong
    attack("zlib_window_too_large", "decompress", "decompress_failed",
           "a zlib header declaring a 64 KiB window (CINFO 8)", raw_text(wide.to_bytes(2, "big") + good_compressed[2:]))

    # -- CBOR (the COSE_Sign1 message as a whole) ---------------------------------------------------------
    attack("cbor_trailing_bytes", "cbor", "cbor_invalid", "a byte after the COSE message", text(good_msg + b"\x00"))
    attack("cbor_truncated", "cbor", "cbor_invalid", "the COSE message cut short", text(good_msg[:-10]))
    attack("cbor_empty_message", "cbor", "cbor_invalid", "zlib of zero bytes", text(b""))
    attack("cbor_indefinite_length_array", "cbor", "cbor_invalid", "the COSE array with indefinite length",
           text(b"\xd2\x9f" + good_msg[2:] + b"\xff"))
    attack("cbor_non_shortest_array_head", "cbor", "cbor_invalid", "array length in a two-byte head (98 04)",
           text(b"\xd2\x98\x04" + good_msg[2:]))
    unprot_dup = b"\xa2\x18\x63\x01\x18\x63\x02"
    attack("cbor_duplicate_map_key", "cbor", "cbor_invalid", "the unprotected header map repeats label 99",
           text(relabel_bytes(cose(ED, claims(), unprotected={99: 1, 100: 2}), b"\xa2\x18\x63\x01\x18\x64\x02",
                              unprot_dup)))
    # Semantic tags and the decoder's limits, in an EU code's unprotected header: foreign codes are decoded
    # leniently, and the generic walk checks every item. (HP1 decoding is typed: the same items are refused
    # by the typed parsers at the cose, claims or schema stage, see the claims_* and cose_* vectors.)
    def eu(unprotected: dict[int, Any]) -> str:
        return text(cose(DSC, hc1_claims(), unprotected=unprotected), "HC1:")

    attack("cbor_regex_tag", "cbor", "cbor_invalid", "tag 35 (regular expression, decoded by cbor2 by default)",
           eu({99: cbor2.CBORTag(35, "(a+)+$")}))
    attack("cbor_mime_tag", "cbor", "cbor_invalid", "tag 36 (MIME message, decoded by cbor2 by default)",
           eu({99: cbor2.CBORTag(36, "Content-Type: text/plain\n\nhi")}))
    attack("cbor_datetime_tag", "cbor", "cbor_invalid", "tag 1 (epoch date-time) in a header",
           eu({99: cbor2.CBORTag(1, 1700000000)}))
    attack("cbor_bignum_tag", "cbor", "cbor_invalid", "tag 2 bignum of 2**80 in a header",
           eu({99: cbor2.CBORTag(2, (2**80).to_bytes(11, "big"))}))
    attack("cbor_nan", "cbor", "cbor_invalid", "a NaN in a header (EU codes may carry finite floats only)",
           eu({99: float("nan")}))
    attack("cbor_undefined", "cbor", "cbor_invalid", "the simple value undefined (f7)",
           text(relabel_bytes(cose(DSC, hc1_claims(), unprotected={99: None}), b"\xa1\x18\x63\xf6",
                              b"\xa1\x18\x63\xf7"), "HC1:"))
    attack("cbor_nesting_too_deep", "cbor", "cbor_invalid", "arrays nested 40 deep (Limits.max_depth is 12)",
           eu({99: nested(40)}))
    attack("cbor_too_many_items", "cbor", "cbor_invalid", "3000 items (Limits.max_items is 2048)",
           eu({99: [0] * 3000}))
    attack("cbor_string_too_long", "cbor", "cbor_invalid", "a 9000-byte string (Limits.max_string is 8192)",
           eu({99: bytes(9000)}))
    attack("cbor_invalid_utf8_eu", "cbor", "cbor_invalid", "invalid UTF-8 in an EU code (lenient decoding)",
           text(relabel_bytes(cose(DSC, hc1_claims(), unprotected={99: "ab"}), b"\x18\x63\x62ab",
                              b"\x18\x63\x62\xc3\x28"), "HC1:"))
    attack("cbor_shared_reference_bomb", "cbor", "cbor_invalid",
           "tags 28/29: 24 levels of 16 shared references (16**23 items when expanded; used to hang the "
           "re-encoding check)", text(b"\xd2" + dag_bomb()))
    attack("cbor_reference_error_message_bomb", "cbor", "cbor_invalid",
           "an invalid shared reference naming an array of references: cbor2's error message repr()s 16**23 "
           "items (used to exhaust memory inside cbor2.loads)", text(b"\xd2" + error_message_bomb()))
    attack("cbor_shared_reference_wide_heads", "cbor", "cbor_invalid",
           "the error-message bomb with tags 28/29 in 2- and 4-byte heads",
           text(b"\xd2" + wide_heads(error_message_bomb())))
    attack("cbor_string_reference_bomb", "cbor", "cbor_invalid",
           "tags 256/25: a 2000-byte string referenced 1500 times (3 MB when expanded)",
           text(string_ref_bomb()))

    # -- COSE structure ------------------------------------------------------------------------------------
    attack("cose_untagged", "cose", "cose_invalid", "COSE_Sign1 without tag 18 (required for HP1)",
           text(cose(ED, claims(), tag=None)))
    attack("cose_cwt_tag_wrapper", "cose", "cose_invalid", "tag 61 around tag 18 (EU only, not HP1)",
           text(cbor2.dumps(cbor2.CBORTag(61, cbor2.loads(good_msg)))))
    attack("cose_not_an_array", "cose", "cose_invalid", "tag 18 around a map",
           text(cose(ED, claims(), body=lambda items: dict(enumerate(items)))))
    attack("cose_array_of_three", "cose", "cose_invalid", "three items instead of four",
           text(cose(ED, claims(), body=lambda items: items[:3])))
    attack("cose_array_of_five", "cose", "cose_invalid", "five items instead of four",
           text(cose(ED, claims(), body=lambda items: [*items, b""])))
    attack("cose_payload_not_bytes", "cose", "cose_invalid", "the claims as an embedded map, not a bstr",
           text(cose(ED, claims(), body=with_body(i2=lambda _: claims()))))
    attack("cose_detached_payload", "cose", "cose_invalid", "payload nil (detached content)",
           text(cose(ED, claims(), body=with_body(i2=None))))
    attack("cose_protected_not_a_map", "cose", "cose_invalid", "the protected header encodes an array",
           text(cose(ED, claims(), protected=encode([1, -8]))))
    attack("cose_protected_duplicate_key", "cose", "cose_invalid", "the protected header repeats alg",
           text(cose(ED, claims(), protected=b"\xa3\x01\x27\x01\x27\x04\x48" + ED.kid)))
    attack("cose_protected_reencoded", "cose", "cose_invalid",
           "protected header with kid before alg (not deterministic), signed as sent",
           text(cose(ED, claims(), protected=b"\xa2\x04\x48" + ED.kid + b"\x01\x27")))
    attack("cose_protected_trailing_bytes", "cose", "cose_invalid", "a byte after the protected header map",
           text(cose(ED, claims(), protected=encode(protected_for(ED)) + b"\x00")))
    attack("cose_too_many_unprotected_entries", "cose", "cose_invalid",
           "nine unprotected header entries (Limits.max_header_entries is 8)",
           text(cose(ED, claims(), unprotected={100 + i: i for i in range(9)})))
    attack("cose_too_many_protected_entries", "cose", "cose_invalid", "nine protected header entries, signed",
           text(cose(ED, claims(), protected={**protected_for(ED), **{100 + i: i for i in range(7)}})))
    attack("cose_unprotected_entry_added", "cose", "cose_invalid",
           "HP1: an entry slipped into the (unsigned) unprotected header, which must be empty",
           text(cose(ED, claims(), unprotected={99: "note"})))
    attack("cose_unknown_protected_parameter", "cose", "cose_invalid",
           "HP1: a signed protected header parameter the format does not define (label 99)",
           text(cose(ED, claims(), protected={**protected_for(ED), 99: 1})))
    attack("cose_unprotected_not_a_map", "cose", "cose_invalid", "the unprotected header as an array",
           text(cose(ED, claims(), unprotected=[1, 2])))
    attack("cose_label_in_both_headers", "cose", "cose_invalid", "kid in both the protected and unprotected header",
           text(cose(ED, claims(), unprotected={4: ED.kid})))
    attack("cose_crit_unknown_parameter", "cose", "cose_invalid", "crit names label 99, unknown to the verifier",
           text(cose(ED, claims(), protected={**protected_for(ED), 2: [99], 99: 1})))
    attack("cose_crit_absent_parameter", "cose", "cose_invalid", "crit names a label the header lacks",
           text(cose(ED, claims(), protected={**protected_for(ED), 2: [3]})))
    attack("cose_crit_in_unprotected", "cose", "cose_invalid", "crit in the unprotected header",
           text(cose(ED, claims(), unprotected={2: [1]})))
    attack("cose_crit_empty", "cose", "cose_invalid", "crit as an empty array",
           text(cose(ED, claims(), protected={**protected_for(ED), 2: []})))
    attack("cose_crit_nested_array", "cose", "cose_invalid",
           "crit holding an array (unhashable: used to crash the verifier with TypeError)",
           text(cose(ED, claims(), protected={**protected_for(ED), 2: [[1]]})))
    attack("cose_alg_only_unprotected", "cose", "cose_invalid", "alg in the unprotected header only",
           text(cose(ED, claims(), protected={4: ED.kid}, unprotected={1: ED.algorithm.value})))
    attack("cose_alg_text", "cose", "cose_invalid", "alg as the text 'EdDSA'",
           text(cose(ED, claims(), protected={1: "EdDSA", 4: ED.kid})))
    attack("cose_alg_boolean", "cose", "cose_invalid", "alg as true",
           text(cose(ED, claims(), protected={1: True, 4: ED.kid})))
    attack("cose_kid_missing", "cose", "cose_invalid", "no kid anywhere", text(cose(ED, claims(), protected={1: -8})))
    attack("cose_kid_only_unprotected", "cose", "cose_invalid", "HP1 kid in the unprotected header only",
           text(cose(ED, claims(), protected={1: -8}, unprotected={4: ED.kid})))
    attack("cose_kid_text", "cose", "cose_invalid", "kid as text",
           text(cose(ED, claims(), protected={1: -8, 4: ED.kid.hex()})))

    # -- algorithm -----------------------------------------------------------------------------------------
    attack("alg_es384_unsupported", "algorithm", "algorithm_unsupported", "alg -35 (ES384): not in the registry",
           text(cose(ED, claims(), alg=-35)))
    attack("alg_hmac_hs256", "algorithm", "algorithm_unsupported", "alg 5 (HMAC 256/256): a MAC, not a signature",
           text(cose(ED, claims(), alg=5)))
    attack("alg_reserved_zero", "algorithm", "algorithm_unsupported", "alg 0 (reserved)",
           text(cose(ED, claims(), alg=0)))
    attack("alg_huge_integer", "algorithm", "algorithm_unsupported", "alg -2**64",
           text(cose(ED, claims(), alg=-(2**64))))
    attack("alg_not_in_policy_allow_list", "algorithm", "algorithm_unsupported",
           "an EdDSA code at a verifier allowing ES256 only", good, policy={"algorithms": ["ES256"]})
    attack("alg_es256_over_ed25519_key", "signature", "algorithm_unsupported",
           "an ES256 header over a trusted Ed25519 key", text(cose(ED, claims(), alg=Algorithm.ES256.value)))
    attack("alg_es256_over_p384_key", "signature", "algorithm_unsupported",
           "an ES256 header over a trusted P-384 key (signed with P-384/SHA-256)", text(cose(P384, claims())))
    attack("alg_eddsa_over_p256_key", "signature", "algorithm_unsupported", "an EdDSA header over a P-256 key",
           text(cose(ES, claims(), alg=Algorithm.EDDSA.value)))
    attack("alg_ps256_over_p256_key", "signature", "algorithm_unsupported", "a PS256 header over a P-256 key",
           text(cose(ES, claims(), alg=Algorithm.PS256.value)))

    # -- key -----------------------------------------------------------------------------------------------
    attack("key_unknown_kid", "key", "key_unknown", "signed by a key the verifier does not trust",
           text(cose(STRANGER, claims())))
    attack("key_kid_empty", "key", "key_unknown", "an empty kid", text(cose(ED, claims(), kid=b"")))
    attack("key_kid_truncated", "key", "key_unknown", "the first 4 bytes of a trusted kid",
           text(cose(ED, claims(), kid=ED.kid[:4])))
    attack("key_forged_kid", "signature", "signature_invalid", "an untrusted key signing under a trusted kid",
           text(cose(STRANGER, claims(), kid=ED.kid)))

    # -- signature -----------------------------------------------------------------------------------------
    attack("sig_empty", "signature", "signature_invalid", "an empty signature",
           text(cose(ED, claims(), signature=lambda s: b"")))
    attack("sig_truncated", "signature", "signature_invalid", "the signature without its last byte",
           text(cose(ED, claims(), signature=lambda s: s[:-1])))
    attack("sig_overlong", "signature", "signature_invalid", "a zero byte appended to the signature",
           text(cose(ED, claims(), signature=lambda s: s + b"\x00")))
    attack("sig_all_zero", "signature", "signature_invalid", "64 zero bytes (ES256: r = s = 0)",
           text(cose(ES, claims(), signature=lambda s: bytes(64))))
    attack("sig_es256_r_equals_order", "signature", "signature_invalid", "ES256 r = n (out of range)",
           text(cose(ES, claims(), signature=lambda s: P256_ORDER.to_bytes(32, "big") + s[32:])))
    attack("sig_es256_high_s", "signature", "signature_invalid",
           "the ES256 signature's twin (n - s): valid ECDSA, refused for HP1 (malleability)",
           text(cose(ES, claims(), signature=flip_high_s)))
    attack("sig_es256_der_encoded", "signature", "signature_invalid", "ES256 as DER instead of raw r||s",
           text(cose(ES, claims(), signature=raw_to_der)))
    attack("sig_ed25519_s_plus_l", "signature", "signature_invalid",
           "Ed25519 S + L (non-canonical S: the malleable twin)", text(cose(ED, claims(), signature=ed25519_s_plus_l)))
    attack("sig_copied_from_other_code", "signature", "signature_invalid",
           "the signature of another code by the same key pasted onto this one",
           text(cose(ED, claims(iat=IAT_TS + 60), signature=lambda _s: cbor2.loads(good_msg).value[3])))
    attack("sig_payload_altered", "signature", "signature_invalid", "the status colour changed after signing",
           text(cose(ED, claims(), body=with_body(
               i2=lambda p: encode({**cbor2.loads(p), -300: {**cbor2.loads(p)[-300], 2: {1: 3, 2: 240}}})))))
    attack("sig_payload_reencoded", "signature", "signature_invalid",
           "the same claims re-encoded after signing (exp as an 8-byte integer)",
           text(cose(ED, claims(), body=with_body(
               i2=lambda p: relabel_bytes(p, b"\x04\x1a" + EXP_TS.to_bytes(4, "big"),
                                          b"\x04\x1b" + EXP_TS.to_bytes(8, "big"))))))
    attack("sig_wrong_context", "signature", "signature_invalid",
           "signed over a Sig_structure with context 'Signature' (COSE_Sign) instead of 'Signature1'",
           text(cose(ED, claims(), to_be_signed=lambda p, q: encode(["Signature", p, b"", q]))))
    attack("sig_external_aad", "signature", "signature_invalid", "signed with external AAD the verifier lacks",
           text(cose(ED, claims(), to_be_signed=lambda p, q: sig_structure(p, q, b"aad"))))
    attack("sig_over_payload_only", "signature", "signature_invalid", "signed over the payload bytes alone",
           text(cose(ED, claims(), to_be_signed=lambda p, q: q)))

    # -- claims (all correctly signed by a trusted key: the checks after the signature) --------------------
    def signed(payload: dict[Any, Any] | bytes, key: FixedKey = ED) -> str:
        return text(cose(key, payload))

    attack("claims_not_a_map", "claims", "claims_invalid", "the claims are an array", signed(encode([1, 2])))
    attack("claims_duplicate_key", "claims", "claims_invalid", "iss twice (the second one another region)",
           signed(b"\xa2\x01\x66630000\x01\x66110000"))
    attack("claims_non_deterministic", "claims", "claims_invalid", "claims with keys out of order",
           signed(cbor2.dumps({ClaimKey.IAT.value: IAT_TS, **claims()})))
    attack("claims_iat_negative", "claims", "claims_invalid", "iat -1", signed(claims(iat=-1)))
    # the status reference (issue 17): exactly {"status_list": {"idx": uint, "uri": tstr}}
    ref = {"status_list": {"idx": 7, "uri": "hp:630000:3"}}
    attack("claims_status_extra_key", "claims", "claims_invalid", "a status reference with a third inner key",
           signed(claims(c65535={"status_list": {"idx": 7, "uri": "hp:630000:3", "x": 1}})))
    attack("claims_status_negative_index", "claims", "claims_invalid", "a status index of -1",
           signed(claims(c65535={"status_list": {"idx": -1, "uri": "hp:630000:3"}})))
    attack("claims_status_index_text", "claims", "claims_invalid", "a status index as text",
           signed(claims(c65535={"status_list": {"idx": "7", "uri": "hp:630000:3"}})))
    attack("claims_status_index_beyond_32_bits", "claims", "claims_invalid", "a status index of 2**32",
           signed(claims(c65535={"status_list": {"idx": 2**32, "uri": "hp:630000:3"}})))
    attack("claims_status_uri_with_space", "claims", "claims_invalid", "a status list URI holding a space",
           signed(claims(c65535={"status_list": {"idx": 7, "uri": "hp:630000 3"}})))
    attack("claims_status_other_mechanism", "claims", "claims_invalid", "a status claim naming another mechanism",
           signed(claims(c65535={**ref, "revocation_list": {"idx": 7}})))
    attack("claims_status_ttl_claim", "claims", "claims_invalid", "a list's ttl claim (65534) in a code",
           signed(claims(c65535=ref, c65534=3600)))
    attack("claims_exp_enormous", "claims", "claims_invalid", "exp 2**63 (year 292 billion)",
           signed(claims(exp=2**63)))
    attack("claims_exp_before_iat", "claims", "claims_invalid", "exp one second before iat",
           signed(claims(exp=IAT_TS - 1)))
    attack("claims_nbf_after_exp", "claims", "claims_invalid", "nbf after exp", signed(claims(c5=EXP_TS + 1)))
    attack("claims_iat_text", "claims", "claims_invalid", "iat as an ISO date text",
           signed(claims(iat="2026-11-25T12:00:00Z")))
    attack("claims_iat_boolean", "claims", "claims_invalid", "iat true", signed(claims(iat=True)))
    attack("claims_exp_float", "claims", "claims_invalid", "exp as a float (HP1 carries integers only)",
           signed(claims(exp=float(EXP_TS))))
    attack("claims_regex_tag", "claims", "claims_invalid", "cti as a tag 35 regular expression",
           signed(claims(c7=cbor2.CBORTag(35, "(a+)+$"))))
    attack("claims_mime_tag", "claims", "claims_invalid", "iss as a tag 36 MIME message",
           signed(claims(iss=cbor2.CBORTag(36, "Content-Type: text/plain\n\n630000"))))
    attack("claims_deep_nesting", "claims", "claims_invalid", "an extra claim nested 300 deep",
           signed(claims(c99=nested(300))))
    attack("claims_iat_datetime_tag", "claims", "claims_invalid", "iat wrapped in tag 1",
           signed(claims(iat=cbor2.CBORTag(1, IAT_TS))))
    attack("claims_exp_bignum", "claims", "claims_invalid", "exp as a tag 2 bignum",
           signed(claims(exp=cbor2.CBORTag(2, EXP_TS.to_bytes(8, "big")))))
    attack("claims_iss_integer", "claims", "claims_invalid", "iss as the integer 630000", signed(claims(iss=630000)))
    attack("claims_iss_not_a_region", "claims", "claims_invalid", "iss 'Qinghai'", signed(claims(iss="Qinghai")))
    attack("claims_iss_fullwidth_digits", "claims", "claims_invalid", "iss in fullwidth digits",
           signed(claims(iss="\uff16\uff13\uff10\uff10\uff10\uff10")))
    attack("claims_cti_text", "claims", "claims_invalid", "cti as text", signed(claims(c7="a77ac4c0")))
    attack("claims_cti_null", "claims", "claims_invalid", "cti null (used to pass as an absent cti)",
           signed(claims(c7=None)))
    attack("claims_nbf_null", "claims", "claims_invalid", "nbf null (used to pass as an absent nbf)",
           signed(claims(c5=None)))
    attack("claims_unknown_claim", "claims", "claims_invalid", "an unknown claim 99", signed(claims(c99=1)))
    attack("claims_missing_exp", "claims", "claims_invalid", "no exp", signed(claims(drop=(4,))))
    attack("claims_missing_iss", "claims", "claims_invalid", "no iss", signed(claims(drop=(1,))))
    attack("claims_missing_iat", "claims", "claims_invalid", "no iat", signed(claims(drop=(6,))))
    attack("claims_missing_payload", "claims", "claims_invalid", "no health payload claim",
           signed(claims(payload=None)))
    attack("claims_eu_hcert_in_hp1", "claims", "claims_invalid", "an EU hcert claim inside an HP1 code",
           signed(claims(c_260={1: DCC_V})))

    # -- schema --------------------------------------------------------------------------------------------
    base = payload_to_cbor(PAYLOAD, iat=IAT_TS)

    def with_payload(edit: Callable[[dict[int, Any]], Any]) -> str:
        payload = json.loads(json.dumps(base, default=lambda b: b.hex()), object_hook=_int_keys)
        edited = edit(payload)
        return signed(claims(payload=None, c_300=payload if edited is None else edited))

    attack("schema_payload_not_a_map", "schema", "schema_invalid", "the payload claim is an array",
           with_payload(lambda p: [p]))
    attack("schema_unknown_payload_key", "schema", "schema_invalid", "an unknown payload key 99",
           with_payload(lambda p: p.update({99: 1})))
    attack("schema_missing_version", "schema", "schema_invalid", "no payload version",
           with_payload(lambda p: p.pop(0) and None))
    attack("schema_status_colour_out_of_range", "schema", "schema_invalid", "status colour 7",
           with_payload(lambda p: p[2].update({1: 7})))
    attack("schema_holder_name_bytes", "schema", "schema_invalid", "the holder's name as a byte string",
           with_payload(lambda p: p[1].update({1: PII["name"].encode()})))
    attack("schema_holder_name_control_character", "schema", "schema_invalid",
           "the holder's name with a NUL inside", with_payload(lambda p: p[1].update({1: "Zoltan\x00Quibblesworth"})))
    attack("schema_birth_date_not_a_calendar_date", "schema", "schema_invalid", "birth date 1931-02-30",
           with_payload(lambda p: p[1].update({3: 19310230})))
    attack("schema_explicit_default_naat_type", "schema", "schema_invalid",
           "naat type PCR written out (a default must be omitted: one encoding per payload)",
           with_payload(lambda p: p[3][0].update({3: 1})))
    attack("schema_too_many_vaccinations", "schema", "schema_invalid", "nine vaccinations (at most 8)",
           with_payload(lambda p: p.update({5: p[5] * 9})))
    attack("schema_null_optional_field", "schema", "schema_invalid",
           "holder sex null (used to pass as absent: a second encoding of the same payload)",
           with_payload(lambda p: p[1].update({4: None})))
    attack("schema_null_section", "schema", "schema_invalid", "the holder section null",
           with_payload(lambda p: p.update({1: None})))
    attack("schema_empty_naat_list", "schema", "schema_invalid", "an empty naat array",
           with_payload(lambda p: p.update({3: []})))
    attack("schema_time_out_of_range", "schema", "schema_invalid", "status set_at 2**40 minutes before iat",
           with_payload(lambda p: p[2].update({2: 2**40})))
    attack("schema_unknown_region", "schema", "schema_invalid", "naat region 999999",
           with_payload(lambda p: p[3][0].update({5: 999999})))

    # -- validity ------------------------------------------------------------------------------------------
    attack("validity_expired", "validity", "expired", "expired a week before the verification time",
           signed(claims(iat=IAT_TS - 10 * 86400, exp=IAT_TS - 7 * 86400)))
    attack("validity_issued_in_the_future", "validity", "not_yet_valid", "iat a day after the verification time",
           signed(claims(iat=IAT_TS + 86400, exp=IAT_TS + 2 * 86400)))
    attack("validity_nbf_in_the_future", "validity", "not_yet_valid", "nbf two hours after the verification time",
           signed(claims(c5=IAT_TS + 3 * 3600)))
    attack("validity_key_window_closed", "validity", "key_expired", "signed by a key whose usage window closed",
           signed(claims(), WINDOW))
    attack("validity_key_retired", "validity", "key_expired", "issued after the key was retired",
           signed(claims(), RETIRED))
    # issue 14 item 3: a key bounds the lifetime of its codes (default 30 days), so a key leaked after its
    # window closed, or after its retirement, cannot back-date iat into the window and mint a code for decades
    window_end = int(datetime(2026, 11, 1, tzinfo=UTC).timestamp())
    attack("validity_too_long_closed_window_backdated", "validity", "validity_too_long",
           "a key whose usage window closed signs iat inside the window, exp in 2099",
           signed(claims(iat=window_end - 86400, exp=int(datetime(2099, 1, 1, tzinfo=UTC).timestamp())), WINDOW))
    attack("validity_too_long_retired_backdated", "validity", "validity_too_long",
           "a retired key signs iat before its retirement, exp ten years later",
           signed(claims(iat=window_end - 86400, exp=window_end + 3650 * 86400), RETIRED))
    attack("validity_too_long_direct_key", "validity", "validity_too_long",
           "a code living 30 days and one second under a directly trusted key (default maximum 30 days)",
           signed(claims(exp=IAT_TS + 30 * 86400 + 1)))

    # -- scope ---------------------------------------------------------------------------------------------
    attack("scope_issuer_other_province", "scope", "issuer_mismatch",
           "a Qinghai key signing for Beijing (110000)", signed(claims(iss="110000")))
    attack("scope_city_key_signs_for_province", "scope", "issuer_mismatch",
           "a Xining (630100) key signing for all of Qinghai (630000)", signed(claims(), XINING))
    attack("scope_kind_not_allowed", "scope", "usage_not_allowed",
           "a status-only key signing test and vaccination data", signed(claims(), STATUS_KEY))

    # -- trust list: codes checked against a list ----------------------------------------------------------
    def via(data: bytes, roots: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        return {"trust_list_b64": base64.b64encode(data).decode(), "roots": roots or [{"key": ROOT.label}]}

    attack("trust_list_expired", "trust_list", "trust_list_expired",
           "the only list holding the key expired more than the 24 h grace ago", listed_code,
           trust=via(_trust_list([_listed(LIST_KEY)], valid_for=timedelta(days=3))))
    # issue 14 item 2: the emergency stop holds whatever a verifier is handed (an older list of the same root,
    # given beside the newer one that dropped the key, in either order, is never consulted)
    older = _trust_list([_listed(LIST_KEY), _listed(ED)], seq=20)
    newer = _trust_list([_listed(ED)], seq=21)
    for order, (first, second) in (("after", (newer, older)), ("before", (older, newer))):
        attack(f"trust_list_older_{order}_newer", "key", "key_unknown",
               f"list 20 (with the key) handed over {order} list 21 (without it) from the same root",
               listed_code, trust={**via(first), "also_b64": [base64.b64encode(second).decode()]})
    # issue 14 item 6: a list issued after the verification time means the clock is wrong for its own codes...
    attack("trust_list_issued_after_verification", "trust_list", "clock_untrusted",
           "the list holding the key is dated in 2099", listed_code,
           trust=via(_trust_list([_listed(LIST_KEY)], issued=datetime(2099, 1, 1, tzinfo=UTC))))
    # ... and only for them: a partner root's list dated in the future never blocks another root's codes
    partner_future = _trust_list([_listed(STRANGER, "810000")], issued=datetime(2099, 1, 1, tzinfo=UTC),
                                 signer=XINING)
    control("valid_hp1_beside_a_partner_list_dated_in_the_future",
            "a partner root's list dated 2099 blocks only the partner's codes", listed_code,
            trust={**via(fresh_list, [{"key": ROOT.label}, {"key": XINING.label, "regions": ["810000"]}]),
                   "also_b64": [base64.b64encode(partner_future).decode()]})
    # red team: a partner root listing another region's kid out of its scope (a malformed entry, never used)
    # never blocks that kid where the national list trusts it, in either order
    partner_listing = _trust_list([_listed(LIST_KEY)], signer=XINING)
    both_roots = [{"key": ROOT.label}, {"key": XINING.label, "regions": ["810000"]}]
    control("valid_hp1_beside_a_partner_list_naming_its_kid_out_of_scope",
            "a partner root scoped to 810000 lists the key for 630000 (out of its scope): only its entry is void",
            listed_code,
            trust={**via(fresh_list, both_roots), "also_b64": [base64.b64encode(partner_listing).decode()]})
    control("valid_hp1_after_a_partner_list_naming_its_kid_out_of_scope",
            "the same, the partner's list handed over first", listed_code,
            trust={**via(partner_listing, both_roots), "also_b64": [base64.b64encode(fresh_list).decode()]})
    # red team (spec R10): the national root retired the key, a provincial root scoped to 630000 still lists it;
    # whichever list is handed over first, the retirement is honoured
    retired_list = _trust_list([dataclasses.replace(_listed(LIST_KEY), status=KeyStatus.RETIRED,
                                                    retired_at=IAT - timedelta(days=1))])
    provincial_list = _trust_list([_listed(LIST_KEY)], signer=XINING)
    provincial_roots = [{"key": ROOT.label}, {"key": XINING.label, "regions": ["630000"]}]
    for order, (first, second) in (("first", (retired_list, provincial_list)),
                                   ("second", (provincial_list, retired_list))):
        attack(f"trust_list_retired_by_one_root_handed_over_{order}", "validity", "key_expired",
               f"the national list retiring the key handed over {order}, a provincial root's list still holding it",
               listed_code,
               trust={**via(first, provincial_roots), "also_b64": [base64.b64encode(second).decode()]})
    attack("trust_list_clock_set_back", "trust_list", "clock_untrusted",
           "verification time before the issue time of the accepted list (clock set back)", listed_code,
           trust=via(_trust_list([_listed(LIST_KEY)], issued=AT + timedelta(days=1))))
    attack("trust_list_key_removed", "key", "key_unknown", "a fresh list that no longer holds the signing key",
           listed_code, trust=via(_trust_list([_listed(ED)])))
    attack("validity_too_long_listed_maximum", "validity", "validity_too_long",
           "a 72-hour code under a list entry whose maximum code validity is one day (entry field 10)", listed_code,
           trust=via(_trust_list([dataclasses.replace(_listed(LIST_KEY), max_validity=timedelta(days=1))])))

    # -- trust list: the lists themselves ------------------------------------------------------------------
    def tl(name: str, description: str, data: bytes, expect: str = "trust_list_invalid",
           roots: list[dict[str, Any]] | None = None, accepted_before: list[bytes] | None = None) -> None:
        attacks.append(Vector(name, "trust_list", expect, description, data=data, kind="trust_list",
                              roots=roots or [{"key": ROOT.label}], accepted_before=accepted_before))

    tl("trust_list_tampered", "one byte of the signed body flipped",
       fresh_list[:-80] + bytes([fresh_list[-80] ^ 1]) + fresh_list[-79:])
    tl("trust_list_truncated", "the list cut short", fresh_list[:-5])
    tl("trust_list_unknown_root", "signed by a key that is not a configured root",
       _trust_list([_listed(LIST_KEY)], signer=STRANGER))
    tl("trust_list_health_code_as_list", "a valid health code's COSE message offered as a trust list", good_msg)
    tl("trust_list_rollback", "list seq 4 after seq 5 was accepted", _trust_list([_listed(LIST_KEY)], seq=4),
       expect="trust_list_rollback", accepted_before=[_trust_list([_listed(LIST_KEY)], seq=5)])
    tl("trust_list_not_after_before_issue", "not_after before issued_at",
       seal_document(ROOT, ContentType.TRUST_LIST.value,
                     encode_envelope(8, int(LIST_ISSUED.timestamp()), int(LIST_ISSUED.timestamp()) - 1, {})))
    tl("trust_list_shared_reference_bomb", "a trust list whose COSE array holds a shared-reference bomb",
       b"\xd2\x85" + cbor2.dumps(encode(protected_for(ROOT))) + b"\xa0\x40\x40" + dag_bomb())
    tl("trust_list_reference_error_message_bomb", "a trust list holding the cbor2 error-message bomb",
       b"\xd2\x85" + cbor2.dumps(encode(protected_for(ROOT))) + b"\xa0\x40\x40" + error_message_bomb())

    # -- trust list: the body's structure (kid -> entry), read when the list loads; all signed by the root --
    listed_entry, other_entry = _entry(LIST_KEY.public_key_der), _entry(ED.public_key_der)
    low, high = sorted([(LIST_KEY.kid, listed_entry), (ED.kid, other_entry)])
    tl("trust_list_kids_unsorted", "two kids in decreasing order (kids must strictly increase)",
       _sealed_list(_raw_body([high, low])))
    tl("trust_list_kid_repeated", "the same kid twice (with the same entry)", _sealed_list(_raw_body([low, low])))
    tl("trust_list_kid_short", "a 7-byte kid", _sealed_list(_raw_body([(LIST_KEY.kid[:7], listed_entry)])))
    tl("trust_list_kid_as_text", "the kid as a text string",
       _sealed_list(_head(5, 1) + cbor2.dumps(LIST_KEY.kid.hex()[:8]) + cbor2.dumps(listed_entry)))
    tl("trust_list_entry_not_bstr", "an entry inline as a map instead of a byte string",
       _sealed_list(_head(5, 1) + cbor2.dumps(LIST_KEY.kid) + listed_entry))
    tl("trust_list_body_array", "the body as an array of entries (a draft format)",
       _sealed_list(_head(4, 1) + listed_entry))
    tl("trust_list_entry_head_overlong", "an entry's length in a 2-byte head although 1 byte holds it",
       _sealed_list(_head(5, 1) + cbor2.dumps(LIST_KEY.kid) + b"\x59" + len(listed_entry).to_bytes(2, "big")
                    + listed_entry))
    tl("trust_list_body_count_overlong", "the body's key count in a 1-byte head although it fits the initial byte",
       _sealed_list(b"\xb8\x01" + _raw_body([low])[1:]))
    tl("trust_list_body_indefinite", "the body as an indefinite-length map",
       _sealed_list(b"\xbf" + _raw_body([low])[1:] + b"\xff"))
    tl("trust_list_body_truncated", "the body declares two keys and holds one",
       _sealed_list(b"\xa2" + _raw_body([low])[1:]))
    tl("trust_list_entry_length_huge", "an entry declaring 2^64-1 bytes",
       _sealed_list(_head(5, 1) + cbor2.dumps(LIST_KEY.kid) + b"\x5b" + b"\xff" * 8 + listed_entry))
    tl("trust_list_body_count_huge", "a body declaring 2^64-1 keys",
       _sealed_list(b"\xbb" + b"\xff" * 8 + _raw_body([low])[1:]))
    tl("trust_list_entry_too_long", "an entry of 70,000 bytes (entries are at most 64 KiB)",
       _sealed_list(_raw_body([(LIST_KEY.kid, listed_entry + bytes(70_000))])))
    tl("trust_list_trailing_bytes", "a byte after the body, inside the signed payload",
       _sealed_list(_raw_body([low]), trailer=b"\x00"))
    tl("trust_list_version_unknown", "format version 3, which this verifier does not read",
       _sealed_list(_raw_body([low]), version=3))

    # -- trust list: a malformed entry is found when a code names its kid (entries are checked lazily) ------
    # The list loads (signature, envelope and index hold); the entry is never used: a code naming its kid is
    # trust_list_invalid, at stage trust_list.
    def bad_entry(name: str, description: str, entry: bytes, kid: bytes = LIST_KEY.kid,
                  roots: list[dict[str, Any]] | None = None, version: int = 1) -> None:
        code = listed_code if kid == LIST_KEY.kid else text(cose(LIST_KEY, claims(), kid=kid))
        attack(name, "trust_list", "trust_list_invalid", description, code,
               trust=via(_sealed_list(_raw_body([(kid, entry)]), version=version), roots))

    bad_entry("trust_list_entry_kid_mismatch", "an entry holding another key than its kid names",
              _entry(ED.public_key_der))
    bad_entry("trust_list_entry_not_cbor", "entry bytes that are not CBOR", b"\xff\x00\x01")
    bad_entry("trust_list_entry_trailing_bytes", "an entry with a byte after its map", listed_entry + b"\x00")
    bad_entry("trust_list_entry_not_deterministic", "an entry whose region has a non-preferred head",
              listed_entry.replace(b"\x04\x1a\x00\x09\x9c\xf0", b"\x04\x1b\x00\x00\x00\x00\x00\x09\x9c\xf0"))
    bad_entry("trust_list_entry_kid_field", "an entry still holding a kid field (label 1)",
              _entry(LIST_KEY.public_key_der, k1=LIST_KEY.kid))
    bad_entry("trust_list_entry_no_region", "an entry without a region",
              encode({2: LIST_KEY.public_key_der, 5: [1, 2, 3, 4, 5], 8: 1}))
    bad_entry("trust_list_entry_kinds_repeated", "kinds [1, 1, 2]", _entry(LIST_KEY.public_key_der, k5=[1, 1, 2]))
    bad_entry("trust_list_entry_spki_garbage", "SPKI field holding bytes that are no key, kid over those bytes",
              _entry(b"\x30\x03\x02\x01\x00"), kid=kid_for(b"\x30\x03\x02\x01\x00"))
    bad_entry("trust_list_entry_spki_as_pem", "SPKI field holding the key in PEM, kid over the PEM bytes",
              _entry(LIST_KEY.public_pem), kid=kid_for(LIST_KEY.public_pem))
    bad_entry("trust_list_entry_certificate_in_spki", "SPKI field holding a certificate (kid over it)",
              _entry(DSC_TEST_DER), kid=DSC_TEST_KID)
    bad_version = DSC_TEST_DER.replace(b"\xa0\x03\x02\x01\x02", b"\xa0\x03\x02\x01\x0a", 1)  # X.509 v11
    bad_entry("trust_list_entry_certificate_bad_version", "a certificate claiming X.509 version 11 (a fuzzer "
              "finding: cryptography raises InvalidVersion, not ValueError)",
              encode({3: bad_version, 4: 630000, 5: [1, 2, 3, 4, 5], 8: 1}), kid=kid_for(bad_version))
    bad_entry("trust_list_entry_retired_without_time", "status retired without retired_at",
              _entry(LIST_KEY.public_key_der, k8=2))
    bad_entry("trust_list_entry_retired_at_while_active", "retired_at on an active key (used to be dropped)",
              _entry(LIST_KEY.public_key_der, k8=1, k9=int(LIST_ISSUED.timestamp())))
    bad_entry("trust_list_entry_max_validity_zero", "a maximum code validity of 0 seconds",
              _entry(LIST_KEY.public_key_der, k10=0), version=2)
    bad_entry("trust_list_entry_max_validity_text", "a maximum code validity as the text '30d'",
              _entry(LIST_KEY.public_key_der, k10="30d"), version=2)
    bad_entry("trust_list_entry_max_validity_century", "a maximum code validity of a hundred years",
              _entry(LIST_KEY.public_key_der, k10=100 * 365 * 86400), version=2)
    bad_entry("trust_list_entry_outside_root_scope", "a Qinghai key in a list whose root may vouch for Beijing "
              "only", listed_entry, roots=[{"key": ROOT.label, "regions": ["110000"]}])

    # -- EU DCC (HC1) through the same API ------------------------------------------------------------------
    def hc1(payload: dict[Any, Any] | bytes, key: FixedKey = DSC, **kw: Any) -> str:
        return text(cose(key, payload, **kw), "HC1:")

    attack("hc1_alg_only_unprotected", "cose", "cose_invalid", "EU code with alg in the unprotected header only",
           hc1(hc1_claims(), protected={4: DSC.kid}, unprotected={1: DSC.algorithm.value}))
    attack("hc1_cwt_tag_alone", "cose", "cose_invalid", "tag 61 without tag 18 inside",
           hc1(hc1_claims(), tag=61))
    attack("hc1_signature_invalid", "signature", "signature_invalid", "EU code with a flipped signature bit",
           hc1(hc1_claims(), signature=lambda s: bytes([s[0] ^ 1]) + s[1:]))
    attack("hc1_no_hcert_claim", "claims", "claims_invalid", "EU code without claim -260",
           hc1({1: "AT", 4: EXP_TS, 6: IAT_TS}))
    attack("hc1_exp_nan", "claims", "claims_invalid", "exp as NaN", hc1(cbor2.dumps(hc1_claims(exp=float("nan")))))
    attack("hc1_exp_null", "claims", "claims_invalid", "EU code with exp null (used to pass as no expiry)",
           hc1(hc1_claims(exp=None)))
    # issue 14 item 1: an EU code without exp used to be accepted and never expire
    no_exp = hc1_claims(DCC_T, iat=int(CERT_FROM.timestamp()) + 86400)
    del no_exp[ClaimKey.EXP.value]
    attack("hc1_missing_exp", "claims", "claims_invalid",
           "an EU code without exp, its DSC expired long before the verification time", hc1(no_exp, DSC_TEST_ONLY,
                                                                                           kid=DSC_TEST_KID),
           at=CERT_UNTIL + timedelta(days=3 * 365))
    no_iat = hc1_claims()
    del no_iat[ClaimKey.IAT.value]
    attack("hc1_missing_iat", "claims", "claims_invalid", "an EU code without iat", hc1(no_iat))
    text_labels = hc1_claims()
    text_labels["exp"] = text_labels.pop(ClaimKey.EXP.value)
    attack("hc1_exp_under_text_label", "claims", "claims_invalid",
           "exp under the text label 'exp' instead of 4 (an unknown claim: the code had no expiry)", hc1(text_labels))
    attack("hc1_exp_before_iat_within_a_second", "claims", "claims_invalid",
           "iat x.9 and exp x.1 (equal once truncated to the second: they used to pass as a zero lifetime)",
           hc1(cbor2.dumps(hc1_claims(iat=IAT_TS + 0.9, exp=IAT_TS + 0.1))))
    attack("hc1_iat_negative_float", "claims", "claims_invalid", "iat -0.5 (used to be truncated to 0)",
           hc1(cbor2.dumps(hc1_claims(iat=-0.5))))
    attack("hc1_certificate_expired_at_verification", "validity", "key_expired",
           "exp at the DSC's not-after, verified 2 minutes later (within the leeway for exp)",
           hc1(hc1_claims(DCC_T, iat=int(CERT_UNTIL.timestamp()) - 86400, exp=int(CERT_UNTIL.timestamp())),
               DSC_TEST_ONLY, kid=DSC_TEST_KID), at=CERT_UNTIL + timedelta(minutes=2))
    attack("hc1_validity_too_long_bare_key", "validity", "validity_too_long",
           "a year-long EU code under a DSC trusted as a bare public key (no certificate bounds it: 30 days)",
           hc1(hc1_claims(exp=IAT_TS + 365 * 86400)))
    attack("hc1_duplicate_claim", "claims", "claims_invalid", "iss twice (lenient EU decoding still refuses)",
           hc1(b"\xa2\x01\x62AT\x01\x62DE"))
    attack("hc1_indefinite_length_claims", "claims", "claims_invalid", "claims map with indefinite length",
           hc1(b"\xbf" + cbor2.dumps(hc1_claims())[1:] + b"\xff"))
    attack("hc1_regex_tag_in_dcc", "claims", "claims_invalid", "a tag 35 regular expression inside the DCC",
           hc1(cbor2.dumps(hc1_claims({**DCC_V, "ver": cbor2.CBORTag(35, "1.3.0")}))))
    attack("hc1_two_entry_types", "schema", "schema_invalid", "a DCC holding both v and t",
           hc1(hc1_claims({**DCC_V, "t": [{"tt": "LP6464-4"}]})))
    attack("hc1_name_bytes", "schema", "schema_invalid", "nam.fn as a byte string",
           hc1(hc1_claims({**DCC_V, "nam": {"fn": PII["family_name"].encode()}})))
    attack("hc1_expired", "validity", "expired", "an EU code that expired a week ago",
           hc1(hc1_claims(iat=IAT_TS - 10 * 86400, exp=IAT_TS - 7 * 86400)))
    attack("hc1_dsc_type_not_allowed", "scope", "usage_not_allowed",
           "a vaccination DCC signed by a DSC whose certificate allows tests only",
           hc1(hc1_claims(), DSC_TEST_ONLY, kid=DSC_TEST_KID))
    attack("hc1_expires_after_certificate", "validity", "key_expired", "exp after the DSC certificate's not-after",
           hc1(hc1_claims(DCC_T, exp=int(CERT_UNTIL.timestamp()) + 86400), DSC_TEST_ONLY,
               kid=DSC_TEST_KID))
    return attacks, controls


def _int_keys(obj: dict[str, Any]) -> dict[Any, Any]:
    return {int(k) if k.lstrip("-").isdigit() else k: v for k, v in obj.items()}


# -------------------------------------------------------------------------------------------- self-check


def key_table() -> dict[str, dict[str, str]]:
    table = {}
    for key in KEYS:
        entry = {
            "algorithm": "EdDSA" if key.curve == "ed25519" else ("ES256" if key.curve == "p256" else "ES256 (P-384)"),
            "curve": key.curve,
            "derivation": f"SHA-256('healthpass attack catalogue / {key.label}') as "
                          + ("Ed25519 seed" if key.curve == "ed25519" else "private scalar (reduced)"),
            "kid": key.kid.hex(),
            "public_pem": key.public_pem.decode(),
        }
        if key is DSC_TEST_ONLY:
            entry["certificate_pem"] = DSC_TEST_CERT.decode()
            entry["certificate_kid"] = DSC_TEST_KID.hex()
        table[key.label] = entry
    return table


def verifier_for(vector: dict[str, Any], keys: dict[str, dict[str, str]], default: list[IssuerKey]) -> Verifier:
    """The verifier a code vector describes (trust profile or trust list, and policy)."""
    policy_spec = vector.get("policy") or {}
    options: dict[str, Any] = {}
    if "algorithms" in policy_spec:
        options["algorithms"] = frozenset(Algorithm.from_name(a) for a in policy_spec["algorithms"])
    if "formats" in policy_spec:
        from healthpass.codec import Prefix

        options["formats"] = frozenset(Prefix(f + ":") for f in policy_spec["formats"])
    policy = VerifierPolicy(**options)
    trust = vector["trust"]
    if trust == "default":
        return Verifier(keys=default, policy=policy)
    roots = roots_from_spec(trust["roots"], keys)
    lists = [TrustList.load(base64.b64decode(data), roots)
             for data in (trust["trust_list_b64"], *trust.get("also_b64", ()))]  # lists handed over together
    return Verifier(trust_lists=lists, policy=policy)


def outcome(vector: dict[str, Any], keys: dict[str, dict[str, str]], default: list[IssuerKey]) -> tuple[Any, Any]:
    """(code, stage) a vector produces, or (None, None) when it is accepted."""
    at = datetime.fromisoformat(vector["at"].replace("Z", "+00:00"))
    try:
        if vector["kind"] == "trust_list":
            from healthpass.state import StateStore

            roots = roots_from_spec(vector["roots"], keys)
            with tempfile.TemporaryDirectory() as tmp:
                state = StateStore(tmp)
                for earlier in vector["accepted_before_b64"]:
                    TrustList.load(base64.b64decode(earlier), roots, state=state)
                TrustList.load(base64.b64decode(vector["data_b64"]), roots, state=state)
        else:
            verifier_for(vector, keys, default).verify(vector["text"], at=at)
    except HealthPassError as err:
        return err.code.value, err.stage.value
    return None, None


def generate() -> dict[str, Any]:
    attacks, controls = build_catalogue()
    keys = key_table()
    document = {
        "format_version": FORMAT_VERSION,
        "generator": "tests/vectors/make_attacks.py",
        "about": "Adversarial catalogue: each vector is one attack with the error code and stage it must produce. "
                 "Controls are well-formed codes the same setup accepts.",
        "pii": {**PII, "needles": PII_NEEDLES},
        "keys": keys,
        "trust_profiles": {"default": DEFAULT_TRUST},
        "vectors": [v.to_json() for v in attacks],
        "controls": [v.to_json() for v in controls],
    }
    default = [issuer_key_from_spec(s, keys) for s in DEFAULT_TRUST]
    names = [v["name"] for v in document["vectors"] + document["controls"]]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise SystemExit(f"duplicate vector names: {sorted(duplicates)}")
    wrong = []
    for vector in document["vectors"] + document["controls"]:
        got = outcome(vector, keys, default)
        if got != (vector["expect"], vector["stage"]):
            wrong.append(f"{vector['name']}: declares {vector['expect']}/{vector['stage']}, got {got[0]}/{got[1]}")
    if wrong:
        raise SystemExit("vectors do not produce what they declare:\n  " + "\n  ".join(wrong))
    return document


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare with the committed file instead of writing")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    rendered = json.dumps(generate(), indent=1, ensure_ascii=False) + "\n"
    if args.check:
        same = args.out.exists() and args.out.read_text("utf-8") == rendered
        print("attacks.json is up to date" if same else "attacks.json differs from what the generator makes")
        return 0 if same else 1
    args.out.write_text(rendered, "utf-8")
    document = json.loads(rendered)
    stages = sorted({v["stage"] for v in document["vectors"]})
    print(f"wrote {args.out}: {len(document['vectors'])} attacks over {len(stages)} stages "
          f"({', '.join(stages)}), {len(document['controls'])} controls")
    return 0


if __name__ == "__main__":
    sys.exit(main())
