"""No way to trust what was never verified (issue 16 item 2): verified documents come only from ``load``;
everything that decodes without verifying lives in ``healthpass.unverified`` and returns plain records that
no verifying API accepts; options are keyword-only."""

from __future__ import annotations

import dataclasses
import pickle
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import healthpass
from healthpass import unverified
from healthpass.errors import HealthPassError
from healthpass.issue import Issuer
from healthpass.model.credential import HealthPayload, HealthStatus, StatusColour
from healthpass.model.policy import Limits
from healthpass.model.regions import Region
from healthpass.model.trust import IssuerKey
from healthpass.rules import RuleBundle
from healthpass.signers import SoftwareSigner
from healthpass.trust import KeyRing, TrustList, TrustListKeys, issuer_key, trust_root
from healthpass.verify import Verifier

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
ROOT = SoftwareSigner.generate()
QINGHAI = SoftwareSigner.generate()
RULES = Path(__file__).resolve().parents[1] / "examples" / "rules"
CODE = Issuer(QINGHAI, Region("630000")).issue(HealthPayload(status=HealthStatus(StatusColour.GREEN, NOW)), now=NOW)


def _list() -> bytes:
    return TrustList.build(ROOT, seq=1, keys=[issuer_key(QINGHAI.public_key_pem(), region=Region("630000"))],
                           valid_for=timedelta(days=7), now=NOW)


def test_issue16_item2_verified_documents_are_built_only_by_load() -> None:
    roots = [trust_root(ROOT.public_key_pem())]
    tl = TrustList.load(_list(), roots)
    with pytest.raises(TypeError, match=r"built only by TrustList\.load"):
        TrustList(tl.seq, tl.issued_at, tl.not_after, tl.root, tl.keys, tl.clock_floor)
    with pytest.raises(TypeError, match=r"built only by TrustList\.load"):
        dataclasses.replace(tl, not_after=NOW + timedelta(days=3650))  # no extending a list's life either
    with pytest.raises(TypeError, match=r"TrustListKeys values are built only by TrustList\.load"):
        TrustListKeys(_list(), {}, seq=1, issued_at=NOW, not_after=NOW, root=None, limits=Limits())
    bundle = RuleBundle.load(RuleBundle.build(ROOT, RULES, seq=1, valid_for=timedelta(days=7), now=NOW), roots)
    with pytest.raises(TypeError, match=r"built only by RuleBundle\.load"):
        RuleBundle(bundle.seq, bundle.issued_at, bundle.not_after, bundle.root, bundle.rules, bundle.profiles,
                   bundle.tests, bundle.clock_floor)
    with pytest.raises(TypeError):
        dataclasses.replace(bundle, root=trust_root(SoftwareSigner.generate().public_key_pem()))
    # what load built keeps working, pickled to worker processes too
    again = pickle.loads(pickle.dumps(Verifier(trust_lists=[tl])))
    assert again.verify(CODE, at=NOW + timedelta(hours=1)).key_source == "trust-list:1"
    assert pickle.loads(pickle.dumps(bundle)) == bundle


def test_issue16_item2_unverified_records_are_refused_by_every_verifying_api() -> None:
    record = unverified.inspect_trust_list_unverified(_list())
    seq, issued, not_after, keys = record  # unpacks as before
    assert (seq, issued, not_after) == (1, NOW, NOW + timedelta(days=7))
    assert [k.kid for k in keys] == [QINGHAI.kid] and keys[0].region == Region("630000")
    assert not isinstance(keys[0], IssuerKey)
    with pytest.raises(TypeError):
        Verifier(keys=keys)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        KeyRing(keys)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Verifier(trust_lists=[record])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        Verifier(rules=record)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Verifier(rules=TrustList.load(_list(), [trust_root(ROOT.public_key_pem())]))  # type: ignore[arg-type]
    assert set(unverified.__all__) == {"UnverifiedKey", "UnverifiedTrustList", "decode_unverified",
                                       "inspect_status_list_unverified", "inspect_trust_list_unverified"}
    # the helpers live only there: no module that verifies exports one
    import healthpass.status
    import healthpass.trust

    assert not hasattr(healthpass.trust, "inspect_trust_list_unverified")
    assert not hasattr(healthpass.status, "inspect_unverified")
    with pytest.raises(HealthPassError):
        unverified.inspect_status_list_unverified(_list())  # a trust list is no status list


def test_issue16_item2_decode_unverified_lives_in_unverified_with_a_deprecated_alias() -> None:
    from healthpass import verify

    assert healthpass.decode_unverified is unverified.decode_unverified
    content = unverified.decode_unverified(CODE)
    assert content["verified"] is False and content["issuer"] == "630000"
    with pytest.warns(DeprecationWarning, match="moved to healthpass.unverified"):
        assert verify.decode_unverified(CODE) == content


def test_issue16_item2_options_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        Issuer(QINGHAI, Region("630000"), timedelta(hours=1))  # type: ignore[misc]
    assert Issuer(QINGHAI, Region("630000"), validity=timedelta(hours=1)).validity == timedelta(hours=1)
    with pytest.raises(TypeError):
        Limits(4400)  # type: ignore[misc]
    assert Limits(max_text=100).max_text == 100
    with pytest.raises(TypeError):
        IssuerKey(b"k" * 8, b"der", True)  # type: ignore[misc]
    assert IssuerKey(b"k" * 8, b"der", is_certificate=True).is_certificate
