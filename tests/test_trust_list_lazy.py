"""Trust-list keys are hashed at load and parsed on first use; a bad key fails closed for every code naming it."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from healthpass import crypto
from healthpass.errors import TrustListError
from healthpass.issue import Issuer
from healthpass.model.credential import HealthPayload, HealthStatus, StatusColour
from healthpass.model.regions import Region
from healthpass.signers import SoftwareSigner
from healthpass.trust import TrustList, issuer_key, trust_root
from healthpass.verify import Verifier

from ._certs import make_certificate
from .conftest import NOW

ROOT = SoftwareSigner.generate()
GOOD = SoftwareSigner.generate()
BAD_SIGNER = SoftwareSigner.generate()
STATUS = HealthPayload(status=HealthStatus(colour=StatusColour.GREEN, set_at=NOW))
QINGHAI = Region("630000")


def _load(keys: list) -> Verifier:
    data = TrustList.build(ROOT, seq=1, keys=keys, valid_for=timedelta(days=7), now=NOW)
    return Verifier(trust_lists=[TrustList.load(data, [trust_root(ROOT.public_key_pem())])])


def _code(signer: SoftwareSigner) -> str:
    return Issuer(signer, QINGHAI).issue(STATUS, now=NOW)


def _bad_entry(der: bytes, **changes: object) -> object:
    """An SPKI entry whose kid is the hash of ``der`` (so the list loads), naming BAD_SIGNER's codes."""
    good = issuer_key(BAD_SIGNER.public_key_pem(), region=QINGHAI)
    return dataclasses.replace(good, kid=crypto.kid_for(der), key_der=der, **changes)


@pytest.mark.parametrize("material", ["garbage", "certificate_in_spki_field"])
def test_bad_key_loads_but_fails_closed_at_use(material: str) -> None:
    if material == "garbage":
        der = b"\x30\x03\x02\x01\x00"
    else:
        pem = make_certificate(BAD_SIGNER, not_before=NOW - timedelta(days=1), not_after=NOW + timedelta(days=30))
        der = issuer_key(pem).key_der
    bad = _bad_entry(der)
    verifier = _load([issuer_key(GOOD.public_key_pem(), region=QINGHAI), bad])
    # the other keys of the list keep working
    assert verifier.verify(_code(GOOD), at=NOW + timedelta(hours=1)).issuer == "630000"
    # a code naming the bad key's kid is rejected, every time (nothing is cached on failure)
    code = Issuer(BAD_SIGNER, QINGHAI, kid=bad.kid).issue(STATUS, now=NOW)
    for _ in range(2):
        with pytest.raises(TrustListError) as info:
            verifier.verify(code, at=NOW + timedelta(hours=1))
        assert info.value.code.value == "trust_list_invalid"


def test_kid_must_match_the_key_itself() -> None:
    with pytest.raises(TrustListError) as info:
        _load([dataclasses.replace(issuer_key(GOOD.public_key_pem(), region=QINGHAI), kid=b"\x00" * 8)])
    assert "does not match" in info.value.message


def test_parsed_once_per_verifier() -> None:
    verifier = _load([issuer_key(GOOD.public_key_pem(), region=QINGHAI)])
    entry = next(iter(verifier.keys))
    assert verifier.keys.public_key(entry) is verifier.keys.public_key(entry)
