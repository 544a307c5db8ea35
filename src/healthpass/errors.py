"""The exception tree, the pipeline stages and the stable error codes.

Every error healthpass raises on bad input is a :class:`HealthPassError` carrying a machine-readable
:class:`ErrorCode` (``.code``, a stable string users script against) and the :class:`Stage` of the
pipeline that failed (``.stage``).  Messages may name a kid, an algorithm or a time, never personal data.

Standard library only: this module sits at the bottom of the layer diagram.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = [
    "CredentialStatusError",
    "DecodeError",
    "ErrorCode",
    "HealthPassError",
    "IssueError",
    "PolicyError",
    "RuleError",
    "ScanError",
    "SignerError",
    "Stage",
    "StatusListError",
    "TrustListError",
    "VerificationError",
    "VerifiedContext",
]


class Stage(StrEnum):
    """Where in the pipeline an error arose, in pipeline order."""

    PREFIX = "prefix"
    BASE45 = "base45"
    DECOMPRESS = "decompress"
    CBOR = "cbor"
    COSE = "cose"
    ALGORITHM = "algorithm"
    TRUST_LIST = "trust_list"
    KEY = "key"
    SIGNATURE = "signature"
    CLAIMS = "claims"
    SCHEMA = "schema"
    VALIDITY = "validity"
    SCOPE = "scope"
    POLICY = "policy"
    #: the code's status in its status list (revoked, suspended, superseded; the list itself)
    STATUS = "status"
    # Outside the verification pipeline:
    ISSUE = "issue"
    SIGNER = "signer"
    SCAN = "scan"
    RULES = "rules"


class ErrorCode(StrEnum):
    """Stable error codes. The values are a public contract: never rename one."""

    PREFIX_INVALID = "prefix_invalid"
    BASE45_INVALID = "base45_invalid"
    DECOMPRESS_FAILED = "decompress_failed"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    CBOR_INVALID = "cbor_invalid"
    COSE_INVALID = "cose_invalid"
    CLAIMS_INVALID = "claims_invalid"
    SCHEMA_INVALID = "schema_invalid"
    ALGORITHM_UNSUPPORTED = "algorithm_unsupported"
    KEY_UNKNOWN = "key_unknown"
    SIGNATURE_INVALID = "signature_invalid"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    ISSUER_MISMATCH = "issuer_mismatch"
    USAGE_NOT_ALLOWED = "usage_not_allowed"
    KEY_EXPIRED = "key_expired"
    VALIDITY_TOO_LONG = "validity_too_long"
    TRUST_LIST_INVALID = "trust_list_invalid"
    TRUST_LIST_EXPIRED = "trust_list_expired"
    TRUST_LIST_ROLLBACK = "trust_list_rollback"
    CLOCK_UNTRUSTED = "clock_untrusted"
    POLICY_REJECTED = "policy_rejected"
    TRANSCODED_REFUSED = "transcoded_refused"
    TRANSCODED_REQUIRED = "transcoded_required"
    # Credential status (Token Status Lists)
    REVOKED = "revoked"
    SUSPENDED = "suspended"
    SUPERSEDED = "superseded"
    STATUS_LIST_INVALID = "status_list_invalid"
    STATUS_LIST_EXPIRED = "status_list_expired"
    STATUS_LIST_ROLLBACK = "status_list_rollback"
    STATUS_UNAVAILABLE = "status_unavailable"
    #: issuer side: the status registry refused an operation (unknown list or credential, list full)
    REGISTRY_ERROR = "registry_error"
    # Issuer side
    CREDENTIAL_INVALID = "credential_invalid"
    TOO_LARGE_FOR_QR = "too_large_for_qr"
    OUT_OF_SCOPE = "out_of_scope"
    TRANSCODE_REFUSED = "transcode_refused"
    # Signers
    SIGNER_UNAVAILABLE = "signer_unavailable"
    MECHANISM_UNSUPPORTED = "mechanism_unsupported"
    PIN_INCORRECT = "pin_incorrect"
    SIGNER_KEY_NOT_FOUND = "signer_key_not_found"
    # Scanning images
    NO_CODE_FOUND = "no_code_found"
    IMAGE_INVALID = "image_invalid"
    # Rules
    RULE_INVALID = "rule_invalid"
    RULE_EVALUATION_FAILED = "rule_evaluation_failed"
    RULE_BUDGET_EXCEEDED = "rule_budget_exceeded"
    RULE_TESTS_FAILED = "rule_tests_failed"


@dataclass(frozen=True, slots=True)
class VerifiedContext:
    """What a rejected code proved before it was rejected: its signature verified under a trusted key, so
    these facts are authentic even though the code is not acceptable (expired, out of scope, a failed rule).

    Set as ``error.verified`` on errors raised after the signature check; None on every other error. Never
    personal data: the issuer (a region code for ``HP1:``, the ``iss`` claim for ``HC1:``), the key's kid,
    the algorithm's JOSE name and the code's times.
    """

    format: str
    issuer: str | None
    kid: bytes
    algorithm: str
    issued_at: datetime | None
    expires_at: datetime | None


class HealthPassError(Exception):
    """Root of every error healthpass raises on bad input.

    ``code`` is a stable :class:`ErrorCode`, ``stage`` the :class:`Stage` that failed, ``message`` a short
    human explanation free of personal data. ``verified`` is a :class:`VerifiedContext` when the code's
    signature had verified before it was rejected (issuer, kid, times: no personal data), else None.
    ``str(error)`` reads ``message [code, stage stage]``.
    """

    __slots__ = ("code", "message", "stage", "verified")

    def __init__(self, code: ErrorCode, stage: Stage, message: str) -> None:
        super().__init__(message)
        self.code = ErrorCode(code)
        self.stage = Stage(stage)
        self.message = message
        self.verified: VerifiedContext | None = None

    def __str__(self) -> str:
        return f"{self.message} [{self.code.value}, stage {self.stage.value}]"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code.value!r}, stage={self.stage.value!r}, message={self.message!r})"

    def __reduce__(self) -> tuple[object, ...]:  # picklable across worker processes
        return (type(self), (self.code, self.stage, self.message), self._state())

    def _state(self) -> dict[str, Any] | None:
        return {"verified": self.verified} if self.verified is not None else None

    def to_dict(self) -> dict[str, str]:
        """The ``{"code", "stage", "message"}`` object used in JSON output."""
        return {"code": self.code.value, "stage": self.stage.value, "message": self.message}


class DecodeError(HealthPassError, ValueError):
    """The input is not a well-formed code: prefix, base45, decompression, CBOR, COSE, claims, schema."""

    __slots__ = ()


class VerificationError(HealthPassError):
    """The code is well-formed but not acceptable: key, algorithm, signature, validity, scope."""

    __slots__ = ()


class PolicyError(VerificationError):
    """The code verified cryptographically but an acceptance rule rejected it (``policy_rejected``).

    ``failed_rules`` names the identifiers of the rules that failed; ``results`` holds every applied rule's
    outcome (``{"id", "passed", "description"[, "error"]}``) when the rule engine provides it.
    """

    __slots__ = ("failed_rules", "results")

    def __init__(
        self,
        message: str,
        failed_rules: tuple[str, ...] = (),
        results: tuple[Mapping[str, Any], ...] = (),
    ) -> None:
        super().__init__(ErrorCode.POLICY_REJECTED, Stage.POLICY, message)
        self.failed_rules = failed_rules
        self.results = results

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.message, self.failed_rules, self.results), self._state())


class TrustListError(HealthPassError):
    """A trust list (or rule bundle) is invalid, expired, rolled back, or the clock contradicts it."""

    __slots__ = ()


class CredentialStatusError(VerificationError):
    """The code's entry in its status list is not valid: ``revoked``, ``suspended`` or ``superseded`` (stage
    ``status``). ``credential_status`` is the entry checked, ``{"uri", "idx", "value"}``."""

    __slots__ = ("credential_status",)

    def __init__(self, code: ErrorCode, stage: Stage, message: str,
                 credential_status: Mapping[str, Any] | None = None) -> None:
        super().__init__(code, stage, message)
        self.credential_status = dict(credential_status or {})

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.code, self.stage, self.message, self.credential_status))


class StatusListError(HealthPassError):
    """A status list or delta is invalid, expired or rolled back, or a code's status cannot be checked."""

    __slots__ = ()


class IssueError(HealthPassError, ValueError):
    """The issuer's input was rejected: invalid credential, out of the key's scope, too large for a QR."""

    __slots__ = ()


class SignerError(HealthPassError):
    """A signer (software key or PKCS#11 token) could not produce a signature."""

    __slots__ = ()


class ScanError(HealthPassError):
    """No QR code could be read from an image, or the image is not an image."""

    __slots__ = ()


class RuleError(HealthPassError):
    """A CertLogic expression or rule bundle is invalid, or its evaluation failed."""

    __slots__ = ()
