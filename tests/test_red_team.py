"""Adversarial review (hred): each test reproduces a finding of the review with real keys and signatures, and
holds the fix for its class. Names: ``test_hred_<class>_...``."""

from __future__ import annotations

from datetime import timedelta

import pytest

from healthpass.errors import ErrorCode, IssueError
from healthpass.issue import Issuer
from healthpass.model.credential import HealthPayload
from healthpass.model.regions import Region
from healthpass.model.status import StatusReference
from healthpass.signers import SoftwareSigner
from healthpass.trust import issuer_key
from healthpass.verify import Verifier

from .conftest import NOW

QINGHAI, BEIJING = Region("630000"), Region("110000")


# -- transcoding launders what the source's verification could not confirm ------------------------------------

def test_hred_transcode_laundering_an_unchecked_status_is_refused(
    qinghai: SoftwareSigner, beijing: SoftwareSigner, sample: HealthPayload
) -> None:
    """A Qinghai code with a status reference, verified where its status list is not held, passes only with the
    warning status_unchecked. Transcoded, it used to become a Beijing code with no status reference and no
    warning, accepted even by a verifier that requires status: a revoked code laundered."""
    code = Issuer(qinghai, QINGHAI).issue(sample, now=NOW, status=StatusReference("hp:630000:1", 5))
    at_beijing = Verifier(keys=[issuer_key(qinghai.public_key_pem(), region=QINGHAI)])
    assert "status_unchecked" in at_beijing.verify(code, at=NOW).warnings
    with pytest.raises(IssueError) as err:
        Issuer(beijing, BEIJING).transcode(code, verifier=at_beijing, now=NOW)
    assert err.value.code == ErrorCode.TRANSCODE_REFUSED
    assert "status_unchecked" in str(err.value)


def test_hred_transcode_laundering_a_stale_trust_list_is_refused(
    qinghai: SoftwareSigner, beijing: SoftwareSigner, sample: HealthPayload
) -> None:
    """A source trusted through a trust list past its not-after (within the grace period: accepted with the
    warning trust_list_stale) would become a code trusted through the transcoder's key, long after the grace
    period ends and whatever the next list says about the source key."""
    from healthpass.trust import TrustList, trust_root

    root = SoftwareSigner.generate()
    data = TrustList.build(root, seq=1, keys=[issuer_key(qinghai.public_key_pem(), region=QINGHAI)],
                           valid_for=timedelta(days=1), now=NOW - timedelta(days=1, hours=1))
    listed = TrustList.load(data, [trust_root(root.public_key_pem())])
    at_beijing = Verifier(trust_lists=[listed])
    code = Issuer(qinghai, QINGHAI).issue(sample, now=NOW - timedelta(minutes=5), valid_for=timedelta(days=3))
    assert "trust_list_stale" in at_beijing.verify(code, at=NOW).warnings
    with pytest.raises(IssueError) as err:
        Issuer(beijing, BEIJING).transcode(code, verifier=at_beijing, now=NOW)
    assert err.value.code == ErrorCode.TRANSCODE_REFUSED


def test_hred_transcode_laundering_a_delta_not_applied_is_refused(
    qinghai: SoftwareSigner, beijing: SoftwareSigner, sample: HealthPayload
) -> None:
    """A delta that suspends index 9 could not be applied (its base is not the list held): the code verifies
    against the older list with the warning status_delta_not_applied. Transcoded, the suspension would be
    hidden for good (the copy has no status reference)."""
    from healthpass.status import StatusDelta, StatusList, load_all

    uri = "hp:630000:7"
    keys = [issuer_key(qinghai.public_key_pem(), region=QINGHAI)]

    def status_list(now_offset: timedelta) -> bytes:
        return StatusList.build(qinghai, uri=uri, size=1024, entries=[], valid_for=timedelta(days=1),
                                ttl=timedelta(hours=6), now=NOW + now_offset)

    base, other = status_list(timedelta(0)), status_list(timedelta(seconds=1))
    delta = StatusDelta.build(qinghai, base=base, changes={9: 2}, valid_for=timedelta(days=1),
                              now=NOW + timedelta(hours=1))
    at_beijing = Verifier(keys=keys, status_lists=load_all([other], [delta], keys))
    code = Issuer(qinghai, QINGHAI).issue(sample, now=NOW, status=StatusReference(uri, 9))
    later = NOW + timedelta(hours=2)
    assert "status_delta_not_applied" in at_beijing.verify(code, at=later).warnings
    with pytest.raises(IssueError) as err:
        Issuer(beijing, BEIJING).transcode(code, verifier=at_beijing, now=later)
    assert err.value.code == ErrorCode.TRANSCODE_REFUSED


# -- one root's trust list blocks another root's key ------------------------------------------------------------

def test_hred_trust_partner_root_cannot_block_another_roots_key(
    qinghai: SoftwareSigner, sample: HealthPayload
) -> None:
    """A partner root scoped to Hong Kong (810000) lists Qinghai's key under its kid, out of its scope (or
    anything malformed under that kid). That entry is rightly never used, but it used to make every code naming
    the kid trust_list_invalid, also at verifiers that trust the key through the national list or directly: a
    misbehaving partner could stop another region's codes everywhere. Now the malformed entry is skipped when
    another root (or the caller) trusts the kid; alone it still reports trust_list_invalid."""
    from healthpass.errors import TrustListError
    from healthpass.trust import TrustList, trust_root

    national, partner = SoftwareSigner.generate(), SoftwareSigner.generate()
    key = issuer_key(qinghai.public_key_pem(), region=QINGHAI)
    built = NOW - timedelta(hours=1)
    national_list = TrustList.load(TrustList.build(national, seq=1, keys=[key], valid_for=timedelta(days=3),
                                                   now=built), [trust_root(national.public_key_pem())])
    partner_list = TrustList.load(TrustList.build(partner, seq=1, keys=[key], valid_for=timedelta(days=3), now=built),
                                  [trust_root(partner.public_key_pem(), regions=["810000"])])
    code = Issuer(qinghai, QINGHAI).issue(sample, now=NOW)
    for verifier in (Verifier(trust_lists=[national_list, partner_list]),
                     Verifier(trust_lists=[partner_list, national_list]),
                     Verifier(keys=[key], trust_lists=[partner_list])):
        assert verifier.verify(code, at=NOW).issuer == "630000"
    with pytest.raises(TrustListError) as err:
        Verifier(trust_lists=[partner_list]).verify(code, at=NOW)
    assert err.value.code is ErrorCode.TRUST_LIST_INVALID and "outside the scope" in err.value.message


# -- the outcome never depends on the order trust sources are handed over -------------------------------------

def test_hred_trust_order_of_roots_never_changes_the_outcome(qinghai: SoftwareSigner, sample: HealthPayload) -> None:
    """The same key listed by two roots: the national root retired it, a Qinghai root (scoped to 630000) still
    lists it. The verifier used only the first entry whose key verified the signature, so the result depended on
    the order of the lists: retired (key_expired) one way, accepted the other. Now every entry whose scope
    covers the code must allow it (a retirement by any root governing the code is honoured), and an entry
    whose scope does not cover the code (a narrower kind list) neither blocks nor accepts it."""
    import dataclasses

    from healthpass.errors import VerificationError
    from healthpass.model.credential import Kind
    from healthpass.model.trust import KeyStatus
    from healthpass.trust import TrustList, trust_root

    national, provincial = SoftwareSigner.generate(), SoftwareSigner.generate()
    key = issuer_key(qinghai.public_key_pem(), region=QINGHAI)
    built = NOW - timedelta(hours=1)

    def listed(signer: SoftwareSigner, entry: object, regions: list[str] | None) -> TrustList:
        data = TrustList.build(signer, seq=1, keys=[entry], valid_for=timedelta(days=3), now=built)  # type: ignore[list-item]
        return TrustList.load(data, [trust_root(signer.public_key_pem(), regions=regions)])

    code = Issuer(qinghai, QINGHAI).issue(sample, now=NOW)
    retired = listed(national, dataclasses.replace(key, status=KeyStatus.RETIRED,
                                                   retired_at=NOW - timedelta(days=1)), None)
    still = listed(provincial, key, ["630000"])
    for lists in ([retired, still], [still, retired]):
        with pytest.raises(VerificationError) as err:
            Verifier(trust_lists=lists).verify(code, at=NOW)
        assert err.value.code is ErrorCode.KEY_EXPIRED
    narrow = listed(national, dataclasses.replace(key, kinds=frozenset({Kind.STATUS})), None)
    for lists in ([narrow, still], [still, narrow]):
        assert Verifier(trust_lists=lists).verify(code, at=NOW).issuer == "630000"
    with pytest.raises(VerificationError) as err:
        Verifier(trust_lists=[narrow]).verify(code, at=NOW)
    assert err.value.code is ErrorCode.USAGE_NOT_ALLOWED
