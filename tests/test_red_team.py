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


@pytest.fixture(scope="module")
def qinghai() -> SoftwareSigner:
    return SoftwareSigner.generate()


@pytest.fixture(scope="module")
def beijing() -> SoftwareSigner:
    return SoftwareSigner.generate()


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
