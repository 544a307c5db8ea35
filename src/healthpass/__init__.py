"""healthpass: offline-verifiable signed health credentials.

The recipes an issuer backend and a scanner app call::

    from healthpass import Issuer, SoftwareSigner, Region, Verifier, issuer_key, payload_from_json

    text = Issuer(SoftwareSigner.from_file("qinghai.key.pem"), Region("630000")).issue(payload)
    verifier = Verifier(keys=[issuer_key(pub_pem, region=Region("630000"))])
    credential = verifier.verify(text)          # raises a HealthPassError with .code and .stage

QR rendering and scanning live in :mod:`healthpass.qr` (imported on first use).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from healthpass.codec.transport import Prefix
from healthpass.errors import (
    DecodeError,
    ErrorCode,
    HealthPassError,
    IssueError,
    PolicyError,
    RuleError,
    ScanError,
    SignerError,
    Stage,
    TrustListError,
    VerificationError,
)
from healthpass.issue import Issuer
from healthpass.model.cose import Algorithm
from healthpass.model.credential import (
    AntibodyTest,
    DocumentBinding,
    HealthPayload,
    HealthStatus,
    Holder,
    Infection,
    Kind,
    NaatTest,
    RegionRisk,
    Vaccination,
)
from healthpass.model.jsonform import payload_from_json, payload_to_json
from healthpass.model.policy import Limits
from healthpass.model.regions import Region
from healthpass.model.trust import IssuerKey, KeyStatus, TrustRoot
from healthpass.signers import Signer, SoftwareSigner
from healthpass.state import StateStore
from healthpass.trust import KeyRing, TrustList, issuer_key, trust_root
from healthpass.verify import VerificationResult, VerifiedCredential, Verifier, VerifierPolicy, decode_unverified

if TYPE_CHECKING:
    from healthpass import qr

__version__ = "0.1.0"

__all__ = [
    "Algorithm",
    "AntibodyTest",
    "DecodeError",
    "DocumentBinding",
    "ErrorCode",
    "HealthPassError",
    "HealthPayload",
    "HealthStatus",
    "Holder",
    "Infection",
    "IssueError",
    "Issuer",
    "IssuerKey",
    "KeyRing",
    "KeyStatus",
    "Kind",
    "Limits",
    "NaatTest",
    "PolicyError",
    "Prefix",
    "Region",
    "RegionRisk",
    "RuleError",
    "ScanError",
    "Signer",
    "SignerError",
    "SoftwareSigner",
    "Stage",
    "StateStore",
    "TrustList",
    "TrustListError",
    "TrustRoot",
    "Vaccination",
    "VerificationError",
    "VerificationResult",
    "VerifiedCredential",
    "Verifier",
    "VerifierPolicy",
    "__version__",
    "decode_unverified",
    "issuer_key",
    "payload_from_json",
    "payload_to_json",
    "qr",
    "trust_root",
]


def __getattr__(name: str) -> Any:
    """``healthpass.qr`` is imported on first use (it pulls in imaging libraries)."""
    if name == "qr":
        import importlib

        return importlib.import_module("healthpass.qr")
    raise AttributeError(f"module 'healthpass' has no attribute {name!r}")
