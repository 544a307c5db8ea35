"""Shared fixtures: real keys, the sample credential, a fixed clock."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import settings

from healthpass.issue import Issuer
from healthpass.model.credential import HealthPayload
from healthpass.model.jsonform import payload_from_json
from healthpass.model.regions import Region
from healthpass.signers import SoftwareSigner
from healthpass.trust import issuer_key
from healthpass.verify import Verifier

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

# Property tests: "explore" (the default; each run draws new examples, as a developer's runs should) and "ci"
# (scripts/test.sh: the same examples every run, so that a landing is never blocked by a draw; an example a
# developer's run finds becomes a regular test).
settings.register_profile("explore")
settings.register_profile("ci", database=None, derandomize=True)
settings.load_profile(os.environ.get("HEALTHPASS_HYPOTHESIS_PROFILE", "explore"))


@pytest.fixture(scope="session")
def sample_json() -> dict:
    return json.loads((ROOT / "examples" / "credential.json").read_text("utf-8"))


@pytest.fixture(scope="session")
def sample(sample_json: dict) -> HealthPayload:
    return payload_from_json(sample_json)


@pytest.fixture(scope="session")
def es_signer() -> SoftwareSigner:
    return SoftwareSigner.generate()


@pytest.fixture(scope="session")
def ed_signer() -> SoftwareSigner:
    from healthpass.model.cose import Algorithm

    return SoftwareSigner.generate(Algorithm.EDDSA)


@pytest.fixture(scope="session")
def qinghai() -> SoftwareSigner:
    """Qinghai's issuer key (630000), for tests with two provinces."""
    return SoftwareSigner.generate()


@pytest.fixture(scope="session")
def beijing() -> SoftwareSigner:
    """Beijing's issuer key (110000), for tests with two provinces."""
    return SoftwareSigner.generate()


@pytest.fixture(scope="session")
def issuer(es_signer: SoftwareSigner) -> Issuer:
    return Issuer(es_signer, Region("630000"))


@pytest.fixture(scope="session")
def verifier(es_signer: SoftwareSigner, ed_signer: SoftwareSigner) -> Verifier:
    return Verifier(keys=[
        issuer_key(es_signer.public_key_pem(), region=Region("630000")),
        issuer_key(ed_signer.public_key_pem(), region=Region("110000")),
    ])


@pytest.fixture(scope="session")
def code(issuer: Issuer, sample: HealthPayload) -> str:
    return issuer.issue(sample, now=NOW)
