"""healthpass: offline-verifiable signed health credentials.

The recipes an issuer backend and a scanner app call::

    from healthpass import Issuer, SoftwareSigner, Region, Verifier, issuer_key, payload_from_json

    text = Issuer(SoftwareSigner.from_file("qinghai.key.pem"), Region("630000")).issue(payload)
    verifier = Verifier(keys=[issuer_key(pub_pem, region=Region("630000"))])
    credential = verifier.verify(text)          # raises a HealthPassError with .code and .stage

Every public name is imported on first use (PEP 562), so ``import healthpass`` costs almost nothing and a
program pays only for what it touches: verifying ``HP1:`` codes loads none of the issuing, anti-rollback
state, EU DCC, rules or PKCS#11 modules, and QR and imaging libraries (:mod:`healthpass.qr`) and X.509
parsing load only when used. ``from healthpass import X``, ``dir(healthpass)``, ``from healthpass import *``
and static type checking work as usual.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from healthpass import qr
    from healthpass.codec.transport import Prefix
    from healthpass.errors import (
        CredentialStatusError,
        DecodeError,
        ErrorCode,
        HealthPassError,
        IssueError,
        PolicyError,
        RuleError,
        ScanError,
        SignerError,
        Stage,
        StatusListError,
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
    from healthpass.model.status import CredentialStatus, StatusAllocator, StatusReference, StatusValue
    from healthpass.model.trust import IssuerKey, KeyStatus, TrustRoot
    from healthpass.signers import Signer, SoftwareSigner
    from healthpass.state import StateStore
    from healthpass.status import StatusDelta, StatusList, StatusLists
    from healthpass.trust import KeyRing, TrustList, issuer_key, trust_root
    from healthpass.unverified import decode_unverified
    from healthpass.verify import VerificationResult, VerifiedCredential, Verifier, VerifierPolicy

__version__ = "0.1.0"

__all__ = [
    "Algorithm",
    "AntibodyTest",
    "CredentialStatus",
    "CredentialStatusError",
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
    "StatusAllocator",
    "StatusDelta",
    "StatusList",
    "StatusListError",
    "StatusLists",
    "StatusReference",
    "StatusValue",
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

#: public name -> the module defining it (imported on first access); ``qr`` is the submodule itself
_LAZY: MappingProxyType[str, str] = MappingProxyType({
    "Prefix": "healthpass.codec.transport",
    **dict.fromkeys(
        ("CredentialStatusError", "DecodeError", "ErrorCode", "HealthPassError", "IssueError", "PolicyError",
         "RuleError", "ScanError", "SignerError", "Stage", "StatusListError", "TrustListError", "VerificationError"),
        "healthpass.errors",
    ),
    "Issuer": "healthpass.issue",
    "Algorithm": "healthpass.model.cose",
    **dict.fromkeys(
        ("AntibodyTest", "DocumentBinding", "HealthPayload", "HealthStatus", "Holder", "Infection", "Kind",
         "NaatTest", "RegionRisk", "Vaccination"),
        "healthpass.model.credential",
    ),
    "payload_from_json": "healthpass.model.jsonform",
    "payload_to_json": "healthpass.model.jsonform",
    "Limits": "healthpass.model.policy",
    "Region": "healthpass.model.regions",
    **dict.fromkeys(("IssuerKey", "KeyStatus", "TrustRoot"), "healthpass.model.trust"),
    "Signer": "healthpass.signers",
    "SoftwareSigner": "healthpass.signers",
    "StateStore": "healthpass.state",
    **dict.fromkeys(("CredentialStatus", "StatusAllocator", "StatusReference", "StatusValue"),
                    "healthpass.model.status"),
    **dict.fromkeys(("StatusDelta", "StatusList", "StatusLists"), "healthpass.status"),
    **dict.fromkeys(("KeyRing", "TrustList", "issuer_key", "trust_root"), "healthpass.trust"),
    "decode_unverified": "healthpass.unverified",
    **dict.fromkeys(
        ("VerificationResult", "VerifiedCredential", "Verifier", "VerifierPolicy"),
        "healthpass.verify",
    ),
})


if not TYPE_CHECKING:  # hidden from type checkers, which would otherwise accept any attribute name

    from healthpass._lazy import lazy_names

    __getattr__ = lazy_names(__name__, _LAZY, globals(), submodules=frozenset({"qr"}))


def __dir__() -> list[str]:
    """The public names and the module's own dunders; not the helpers this module imports for itself."""
    return sorted({*__all__, *(name for name in globals() if name.startswith("__") and name.endswith("__"))})
