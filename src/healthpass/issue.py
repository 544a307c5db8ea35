"""Issuer: a health payload in, a signed ``HP1:`` code text out (the caller renders the QR)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from healthpass import cose
from healthpass.codec import Prefix, b45encode, compress
from healthpass.codec.cbor import encode_ordered
from healthpass.codec.payload import payload_to_cbor
from healthpass.errors import ErrorCode, IssueError, Stage
from healthpass.model.cose import MAX_NUMERIC_DATE, ClaimKey
from healthpass.model.credential import HealthPayload, Kind
from healthpass.model.qr_capacity import ErrorCorrection, check_capacity
from healthpass.model.regions import Region, as_region
from healthpass.model.signer import Signer
from healthpass.model.trust import ALL_KINDS

if TYPE_CHECKING:  # annotations only (concurrent.futures costs start-up time)
    from concurrent.futures import Executor

__all__ = ["DEFAULT_VALIDITY", "Issuer"]

DEFAULT_VALIDITY = timedelta(hours=72)
_CTI_BYTES = 8
#: Encoded length varies between mints by a few characters (NumericDates, cti, zlib); the planner adds this.
_SAFETY_MARGIN = 8
_ISS, _EXP, _IAT, _CTI, _HEALTHPASS = (k.value for k in (ClaimKey.ISS, ClaimKey.EXP, ClaimKey.IAT, ClaimKey.CTI,
                                                        ClaimKey.HEALTHPASS))
_HP1 = Prefix.HP1.value


@dataclass(frozen=True, slots=True)
class Issuer:
    """Mints ``HP1:`` codes for one issuing region with one signer.

    ``kinds`` restricts the kinds of data this issuer may sign (mirror the key's trust-list scope to fail
    at issue time rather than at every verifier). ``max_qr_version`` refuses codes needing a larger QR
    symbol at ``error_correction`` (codes are never split over several symbols).
    """

    signer: Signer
    region: Region
    validity: timedelta = DEFAULT_VALIDITY
    kinds: frozenset[Kind] = ALL_KINDS
    max_qr_version: int = 15
    error_correction: ErrorCorrection = ErrorCorrection.M
    kid: bytes | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "region", as_region(self.region, "Issuer.region"))
        if not isinstance(self.signer, Signer):
            raise TypeError("Issuer.signer must implement the Signer protocol")
        if self.validity <= timedelta(0):
            raise ValueError("Issuer.validity must be positive")
        if not 1 <= self.max_qr_version <= 40:
            raise ValueError("Issuer.max_qr_version must be 1-40")

    def issue(
        self,
        payload: HealthPayload,
        *,
        now: datetime | None = None,
        valid_for: timedelta | None = None,
        credential_id: bytes | None = None,
    ) -> str:
        """Sign ``payload`` and return the ``HP1:`` text.

        Raises IssueError: ``out_of_scope`` (a kind this issuer may not sign), ``too_large_for_qr``.
        """
        if not isinstance(payload, HealthPayload):
            raise TypeError("issue() takes a HealthPayload")
        kinds = payload.kinds()
        if not kinds <= self.kinds:
            outside = kinds - self.kinds
            names = ", ".join(sorted(k.value for k in outside))
            raise IssueError(ErrorCode.OUT_OF_SCOPE, Stage.ISSUE, f"this issuer may not sign: {names}")
        issued = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
        lifetime = valid_for if valid_for is not None else self.validity
        if lifetime <= timedelta(0):
            raise ValueError("valid_for must be positive")
        cti = credential_id if credential_id is not None else os.urandom(_CTI_BYTES)
        iat = int(issued.timestamp())
        if iat + lifetime.total_seconds() > MAX_NUMERIC_DATE:
            raise IssueError(ErrorCode.CREDENTIAL_INVALID, Stage.ISSUE,
                             "the code would expire after 2100-01-01, which verifiers refuse")
        claims = {  # keys in canonical order (length first), as encode_ordered requires
            _ISS: self.region.code,
            _EXP: iat + int(lifetime.total_seconds()),
            _IAT: iat,
            _CTI: cti,
            _HEALTHPASS: payload_to_cbor(payload, iat=iat),
        }
        message = cose.sign1(self.signer, encode_ordered(claims), kid=self.kid)
        text = _HP1 + b45encode(compress(message))
        check_capacity(len(text), max_version=self.max_qr_version, error_correction=self.error_correction,
                       margin=_SAFETY_MARGIN)
        return text

    def issue_many(
        self,
        payloads: Iterable[HealthPayload],
        *,
        now: datetime | None = None,
        executor: Executor | None = None,
        chunk_size: int = 256,
    ) -> Iterator[str | IssueError]:
        """Mint many codes, in input order, streaming; an input rejected yields its IssueError instead.

        With an ``executor`` (any ``concurrent.futures.Executor``, e.g. a process pool or a Dask client's
        executor), chunks of ``chunk_size`` are minted in parallel with at most a few chunks in flight.
        The issuer (and so its signer) must be picklable for process-based executors.
        """
        stamp = (now or datetime.now(UTC)).replace(microsecond=0)
        yield from _map_chunks(executor, _issue_chunk, ((self, stamp), payloads), chunk_size)


def _issue_chunk(context: tuple[Issuer, datetime], chunk: list[Any]) -> list[str | IssueError]:
    issuer, now = context
    out: list[str | IssueError] = []
    for payload in chunk:
        try:
            out.append(issuer.issue(payload, now=now))
        except IssueError as err:
            out.append(err)
    return out


def _map_chunks(
    executor: Executor | None,
    fn: Callable[[Any, list[Any]], list[Any]],
    work: tuple[Any, Iterable[Any]],
    chunk_size: int,
) -> Iterator[Any]:
    from healthpass.batch import ordered_chunks

    context, items = work
    yield from ordered_chunks(executor, fn, context, items, chunk_size)
