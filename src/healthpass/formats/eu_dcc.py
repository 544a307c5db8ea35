"""EU Digital COVID Certificate (HCERT) payloads: extraction, checks and a normalised healthpass view."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from healthpass.errors import DecodeError, ErrorCode, Stage
from healthpass.model.cose import ClaimKey, CwtClaims
from healthpass.model.credential import HealthPayload
from healthpass.model.policy import Limits

__all__ = ["DCC_TYPES", "DccResult", "interpret"]

#: The three DCC entry arrays: vaccination, test, recovery.
DCC_TYPES = ("v", "t", "r")
_HCERT_DCC_KEY = 1


@dataclass(frozen=True, slots=True)
class DccResult:
    payload: Mapping[str, Any]
    dcc_type: str
    normalised: HealthPayload | None
    warnings: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"DccResult(dcc_type={self.dcc_type!r}, warnings={len(self.warnings)})"


def _schema_error(message: str) -> DecodeError:
    return DecodeError(ErrorCode.SCHEMA_INVALID, Stage.SCHEMA, message)


def interpret(claims: CwtClaims, *, strict_schema: bool, limits: Limits) -> DccResult:
    """Extract the DCC from claim -260/1 and check it holds exactly one non-empty of v/t/r."""
    hcert = claims.other.get(ClaimKey.HCERT)
    if type(hcert) is not dict or type(hcert.get(_HCERT_DCC_KEY)) is not dict:
        raise DecodeError(ErrorCode.CLAIMS_INVALID, Stage.CLAIMS, "no EU DCC under claim -260/1")
    dcc = hcert[_HCERT_DCC_KEY]
    present = [t for t in DCC_TYPES if t in dcc]
    if len(present) != 1:
        raise _schema_error("a DCC holds exactly one of v, t, r")
    entries = dcc[present[0]]
    if type(entries) is not list or len(entries) != 1 or type(entries[0]) is not dict:
        raise _schema_error(f"DCC {present[0]} must hold exactly one entry")
    return DccResult(dcc, present[0], None, ())
