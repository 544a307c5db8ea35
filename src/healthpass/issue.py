"""Issuer: a health payload in, a signed ``HP1:`` code text out (the caller renders the QR)."""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import KW_ONLY, dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import TYPE_CHECKING, Any

from healthpass import cose
from healthpass._lazy import LazyModule
from healthpass.batch import ordered_chunks
from healthpass.codec import Prefix, b45encode, compress, split_prefix
from healthpass.codec.cbor import encode_ordered
from healthpass.codec.payload import payload_to_cbor
from healthpass.codec.provenance import provenance_to_cbor
from healthpass.codec.statuslist import encode_status_reference
from healthpass.errors import ErrorCode, IssueError, Stage
from healthpass.model.cose import MAX_NUMERIC_DATE, Algorithm, ClaimKey
from healthpass.model.credential import HealthPayload, Kind
from healthpass.model.provenance import DIGEST_BYTES, MAX_TRANSCODE_DEPTH, DigestOf, Provenance, SourceFormat
from healthpass.model.qr_capacity import DEFAULT_MAX_QR_VERSION, MAX_QR_VERSION, ErrorCorrection, check_capacity
from healthpass.model.regions import Region, as_region
from healthpass.model.signer import Signer
from healthpass.model.status import (
    WARNING_STATUS_DELTA_NOT_APPLIED,
    WARNING_STATUS_LIST_STALE,
    WARNING_STATUS_UNCHECKED,
    StatusAllocator,
    StatusReference,
)
from healthpass.model.time import aware, from_numeric_date, to_numeric_date
from healthpass.model.trust import ALL_KINDS

if TYPE_CHECKING:  # annotations only (concurrent.futures costs start-up time)
    import hashlib
    from concurrent.futures import Executor

    from healthpass import verify
    from healthpass.verify import VerifiedCredential, Verifier
else:  # transcoding only: an issuer that mints never loads the verifier, nor hashlib's OpenSSL
    hashlib = LazyModule("hashlib")
    verify = LazyModule("healthpass.verify")

__all__ = ["DEFAULT_MAX_TRANSCODE_DEPTH", "DEFAULT_VALIDITY", "Issuer", "Transcoded"]

DEFAULT_VALIDITY = timedelta(hours=72)
#: Transcoding a transcoded code is refused beyond this many transcodings (``Issuer.transcode``).
DEFAULT_MAX_TRANSCODE_DEPTH = 1
_CTI_BYTES = 8
#: Encoded length varies between mints by a few characters (NumericDates, cti, zlib); the planner adds this.
_SAFETY_MARGIN = 8
_ISS, _EXP, _IAT, _CTI, _HEALTHPASS, _PROVENANCE = (
    k.value for k in (ClaimKey.ISS, ClaimKey.EXP, ClaimKey.IAT, ClaimKey.CTI, ClaimKey.HEALTHPASS, ClaimKey.PROVENANCE)
)
_STATUS = ClaimKey.STATUS.value
#: the index whose reference is longest (a status index is below 2**32): codes are measured with it
_LARGEST_INDEX = (1 << 32) - 1
#: a code is measured with this many random fillers in place of its signature, the longest counting: zlib codes
#: random bytes in a few characters more or less, and the margin spared to the real code must cover the
#: difference (benchmarks/status_measure.py: one filler is not enough, two are)
_MEASURES = 2
_HP1 = Prefix.HP1.value
#: algorithms whose signatures are randomised (a new signature of the same message has other bytes): a code measured
#: before its index was allocated and too large when signed is signed again, at most this many times in all
_RANDOMISED = frozenset({Algorithm.ES256, Algorithm.SM2, Algorithm.PS256})
_RESIGN_ATTEMPTS = 16


@dataclass(frozen=True, slots=True)
class Issuer:
    """Mints ``HP1:`` codes for one issuing region with one signer.

    ``kinds`` restricts the kinds of data this issuer may sign (mirror the key's trust-list scope to fail
    at issue time rather than at every verifier). ``max_qr_version`` refuses codes needing a larger QR
    symbol at ``error_correction`` (codes are never split over several symbols).
    """

    signer: Signer
    region: Region
    _: KW_ONLY  # every option is keyword-only
    validity: timedelta = DEFAULT_VALIDITY
    kinds: frozenset[Kind] = ALL_KINDS
    max_qr_version: int = DEFAULT_MAX_QR_VERSION
    error_correction: ErrorCorrection = ErrorCorrection.M
    kid: bytes | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "region", as_region(self.region, "Issuer.region"))
        if not isinstance(self.signer, Signer):
            raise TypeError("Issuer.signer must implement the Signer protocol")
        if self.validity <= timedelta(0):
            raise ValueError("Issuer.validity must be positive")
        if not 1 <= self.max_qr_version <= MAX_QR_VERSION:
            raise ValueError("Issuer.max_qr_version must be 1-40")

    def issue(
        self,
        payload: HealthPayload,
        *,
        now: datetime | None = None,
        valid_for: timedelta | None = None,
        credential_id: bytes | None = None,
        status: StatusReference | None = None,
    ) -> str:
        """Sign ``payload`` and return the ``HP1:`` text, issued at ``now`` (a timezone-aware datetime; the
        current time by default). ``status`` embeds a reference to the code's entry in a status list (the
        draft's ``status`` claim; see :mod:`healthpass.registry` for allocating one).

        Raises IssueError: ``out_of_scope`` (a kind this issuer may not sign), ``too_large_for_qr``,
        ``credential_invalid`` (the code would be issued before 1970 or expire after 2100); ValueError for a
        naive ``now`` or a ``valid_for`` that is not positive; TypeError for a ``now`` that is no datetime,
        a ``valid_for`` that is no timedelta or a ``payload`` that is no HealthPayload.
        """
        if not isinstance(payload, HealthPayload):
            raise TypeError("issue() takes a HealthPayload")
        iat, lifetime = self._issue_time(now, valid_for)
        return self._sign(payload, iat=iat, exp=iat + lifetime, credential_id=credential_id, status=status)

    def _issue_time(self, now: datetime | None, valid_for: timedelta | None, *, epoch: bool = True) -> tuple[int, int]:
        """The issue time (NumericDate) and the lifetime in seconds, checked (an issue time before 1970 only with
        ``epoch``: the caller checks it later with :func:`_check_epoch`)."""
        iat = to_numeric_date(datetime.now(UTC) if now is None else now, "now")
        lifetime = valid_for if valid_for is not None else self.validity
        if not isinstance(lifetime, timedelta):
            raise TypeError("valid_for must be a timedelta")
        if lifetime <= timedelta(0):
            raise ValueError("valid_for must be positive")
        if epoch:
            _check_epoch(iat)
        return iat, int(lifetime.total_seconds())

    def transcode(
        self,
        text: str,
        *,
        verifier: Verifier,
        now: datetime | None = None,
        valid_for: timedelta | None = None,
        max_depth: int = DEFAULT_MAX_TRANSCODE_DEPTH,
        formats: frozenset[Prefix] = frozenset(Prefix),
        profile: str | None = None,
        credential_id: bytes | None = None,
        status: StatusReference | StatusAllocator | Callable[[bytes], StatusReference] | None = None,
    ) -> str:
        """Re-issue a foreign code (``HP1:`` of another region, or an EU ``HC1:`` certificate) as a local
        ``HP1:`` code that names its source in a provenance claim (``specs/credential.md`` §10).

        ``text`` is verified first with ``verifier`` at ``now`` (trust, scope, validity, and the status lists
        and rule bundle it is configured with, applying ``profile``); if that fails, the source's own
        HealthPassError (``expired``, ``key_unknown``, ``policy_rejected``, ...) is raised unchanged. The new
        code is issued at ``now`` by this issuer's region and key; it expires at the earlier of ``now +
        valid_for`` (default: this issuer's validity) and the source's expiry, never later. It carries the
        source's payload (for EU certificates, the normalised view) and, with ``status``, a status reference:
        either one already allocated for ``credential_id``, or one allocated for the new code's credential id
        once the source has been accepted and the new code checked (kinds, times, size), so that neither a
        refused source nor a refused code takes an index of the list: by a :class:`StatusAllocator` (e.g.
        ``registry.allocator(uri)``; the size is checked with the reference), or by a callable taking the
        credential id (e.g. ``lambda cti: registry.allocate(uri, [cti])[0]``; its list is not known before
        the call, so the size is checked without the reference, and a code that fits only without it is refused
        after its index is allocated).

        Raises, besides the source's errors, IssueError: ``transcode_refused`` (a format not in ``formats``,
        a code of this issuer's own region, a chain longer than ``max_depth`` transcodings, a source expiring
        before the new code's issue time, a source accepted only with a warning that its status or trust was not
        confirmed: ``status_unchecked``, ``status_list_stale``, ``status_delta_not_applied``, ``trust_list_stale``),
        ``credential_invalid``
        (an EU certificate without a normalised view), ``out_of_scope``, ``too_large_for_qr``; ValueError for a
        naive ``now`` (as :meth:`issue`).
        """
        return self.transcode_verified(text, verifier=verifier, now=now, valid_for=valid_for, max_depth=max_depth,
                                       formats=formats, profile=profile, credential_id=credential_id,
                                       status=status).code

    def transcode_verified(
        self,
        text: str,
        *,
        verifier: Verifier,
        now: datetime | None = None,
        valid_for: timedelta | None = None,
        max_depth: int = DEFAULT_MAX_TRANSCODE_DEPTH,
        formats: frozenset[Prefix] = frozenset(Prefix),
        profile: str | None = None,
        credential_id: bytes | None = None,
        status: StatusReference | StatusAllocator | Callable[[bytes], StatusReference] | None = None,
    ) -> Transcoded:
        """:meth:`transcode`, returning the new code together with the source as it was verified for it
        (:class:`Transcoded`: ``code`` and ``source``), so that a caller showing the source (``healthpass
        transcode --json``) does not verify it a second time. Same parameters, checks and exceptions as
        :meth:`transcode`: the source is verified once, here, with ``verifier`` at ``now``; there is no way to
        hand in a source verified elsewhere: ``verifier`` is a :class:`healthpass.Verifier` itself, TypeError for
        a subclass (whose ``verify`` could return a source dropping a warning, or one built by hand).
        """
        if not isinstance(text, str):
            raise TypeError("transcode() takes the source code's text")
        if type(verifier) is not verify.Verifier:  # a subclass could hand back any source: unverified, laundered
            raise TypeError("transcode() needs a configured healthpass Verifier (not a subclass: the source must be "
                            "verified by healthpass itself)")
        if type(max_depth) is not int or not 1 <= max_depth <= MAX_TRANSCODE_DEPTH:
            raise ValueError(f"max_depth must be 1-{MAX_TRANSCODE_DEPTH}")
        iat, lifetime = self._issue_time(now, valid_for, epoch=False)  # the source's own error comes first
        issued = from_numeric_date(iat)
        prefix, _ = split_prefix(text, max_text=verifier.policy.limits.max_text)
        if prefix not in formats:
            raise _refused(f"this issuer does not transcode {prefix.value.rstrip(':')} codes")
        source = verifier.verify(text, at=issued, profile=profile)
        if type(source) is not verify.VerifiedCredential:  # defence in depth: the Verifier above returns no other
            raise TypeError("the verifier did not return a VerifiedCredential")
        _check_epoch(iat)
        unsure = sorted(set(source.warnings) & _UNSURE_SOURCE)
        if unsure:  # the copy would carry none of them: it would outlive a revocation or key removal unseen
            raise _refused(f"the source was accepted only with the warning {', '.join(unsure)}; a transcoded "
                           "code would hide it")
        provenance = self._provenance(source, max_depth)
        if source.payload is None:
            raise IssueError(ErrorCode.CREDENTIAL_INVALID, Stage.ISSUE,
                             "the EU certificate has no view in healthpass's model to carry over: "
                             + ", ".join(w for w in source.warnings if w.startswith("dcc_not_normalised")))
        exp = min(iat + lifetime, to_numeric_date(provenance.expires_at))
        if exp <= iat:
            raise _refused(f"the source code expires at {provenance.expires_at.isoformat()}, "
                           "before the new code would be issued")
        measured = False
        if isinstance(status, StatusAllocator) or callable(status):
            # the new code must be issuable before it takes an index: kinds, times and size are checked first
            # (with an allocator, with the longest reference into its list; with a bare callable, whose list is
            # not known yet, without a reference, which refuses early what would be too large anyway)
            credential_id = credential_id if credential_id is not None else os.urandom(_CTI_BYTES)
            uri = status.uri if isinstance(status, StatusAllocator) else None
            self._measure(source.payload, iat=iat, exp=exp, credential_id=credential_id, uri=uri,
                          provenance=provenance)
            if isinstance(status, StatusAllocator):
                status = _references(status, [credential_id])[0]
                measured = True  # with the largest index and the margin already (as issue_many)
            else:
                status = status(credential_id)
        code = self._sign(source.payload, iat=iat, exp=exp, credential_id=credential_id, provenance=provenance,
                          status=status, measured=measured)
        return Transcoded(code, source)

    def _provenance(self, source: VerifiedCredential, max_depth: int) -> Provenance:
        depth = 1 + (source.transcoded_from.depth if source.transcoded_from is not None else 0)
        if depth > max_depth:
            raise _refused(f"the source is already a transcoded code (depth {depth - 1}); this issuer transcodes "
                           f"at most {max_depth} deep")
        if source.format is Prefix.HP1 and source.issuer == self.region.code:
            raise _refused("the code was issued by this issuer's own region: there is nothing to transcode")
        if source.issued_at is None or source.expires_at is None or source.issuer is None:
            raise _refused("the source code has no issuer, issue time or expiry to carry over")
        if source.credential_id:
            digest, digest_of = hashlib.sha256(source.credential_id).digest(), DigestOf.CREDENTIAL_ID
        else:
            digest, digest_of = hashlib.sha256(source.signature).digest(), DigestOf.SIGNATURE
        digest = digest[:DIGEST_BYTES]
        try:
            return Provenance(
                format=SourceFormat(source.format.value.rstrip(":")), origin=source.issuer, kid=source.kid,
                issued_at=source.issued_at, expires_at=source.expires_at, digest=digest, digest_of=digest_of,
                depth=depth,
            )
        except ValueError as err:  # e.g. an EU issuer country that is not a short code
            raise IssueError(ErrorCode.CREDENTIAL_INVALID, Stage.ISSUE, f"source cannot be described: {err}") from None

    def _sign(
        self,
        payload: HealthPayload,
        *,
        iat: int,
        exp: int,
        credential_id: bytes | None,
        provenance: Provenance | None = None,
        status: StatusReference | None = None,
        margin: int = _SAFETY_MARGIN,
        measured: bool = False,
    ) -> str:
        """The signed code, refused (IssueError) when it needs more than ``max_qr_version`` with ``margin``.
        ``measured``: the code was measured before its status index was allocated (:meth:`_measure`), so it is
        checked without a margin, and a randomised signature (ES256, SM2, PS256) that makes it too large is made
        again: zlib codes the signature's random bytes in up to ~20 characters more or less (with a text-rich
        payload), more than the margin, and the index must not go to a code that is then refused."""
        claims = self._claims(payload, iat=iat, exp=exp, credential_id=credential_id, provenance=provenance,
                              status=status)
        attempts = _RESIGN_ATTEMPTS if measured and self.signer.algorithm in _RANDOMISED else 1
        for attempt in range(attempts):
            text = _HP1 + b45encode(compress(cose.sign1(self.signer, claims, kid=self.kid)))
            try:
                check_capacity(len(text), max_version=self.max_qr_version, error_correction=self.error_correction,
                               margin=0 if measured else margin)
            except IssueError:
                if attempt + 1 == attempts:
                    raise
                continue
            return text
        raise AssertionError("unreachable")  # pragma: no cover

    def _measure(self, payload: HealthPayload, *, iat: int, exp: int, credential_id: bytes, uri: str | None,
                 provenance: Provenance | None = None) -> None:
        """Raise the IssueError :meth:`_sign` would raise for this code with a reference into ``uri`` (None: no
        reference), without signing: the largest index a reference can hold, a random filler the signature's
        length, the same margin."""
        claims = self._claims(payload, iat=iat, exp=exp, credential_id=credential_id, provenance=provenance,
                              status=None if uri is None else StatusReference(uri, _LARGEST_INDEX))
        length = len(_HP1) + max(len(b45encode(compress(cose.sign1_measure(self.signer, claims, kid=self.kid))))
                                 for _ in range(_MEASURES))
        check_capacity(length, max_version=self.max_qr_version, error_correction=self.error_correction,
                       margin=_SAFETY_MARGIN)

    def _claims(
        self,
        payload: HealthPayload,
        *,
        iat: int,
        exp: int,
        credential_id: bytes | None,
        provenance: Provenance | None = None,
        status: StatusReference | None = None,
    ) -> bytes:
        """The CWT claims of a code, checked against this issuer's kinds and the NumericDate range."""
        kinds = payload.kinds()
        if not kinds <= self.kinds:
            outside = kinds - self.kinds
            names = ", ".join(sorted(k.value for k in outside))
            raise IssueError(ErrorCode.OUT_OF_SCOPE, Stage.ISSUE, f"this issuer may not sign: {names}")
        if exp > MAX_NUMERIC_DATE:
            raise IssueError(ErrorCode.CREDENTIAL_INVALID, Stage.ISSUE,
                             "the code would expire after 2100-01-01, which verifiers refuse")
        cti = credential_id if credential_id is not None else os.urandom(_CTI_BYTES)
        claims: dict[int, Any] = {  # keys in canonical order (length first), as encode_ordered requires
            _ISS: self.region.code,
            _EXP: exp,
            _IAT: iat,
            _CTI: cti,
        }
        if status is not None:  # 65535 (19 ff ff) sorts before -300 (39 01 2b) and -301 (39 01 2c)
            if not isinstance(status, StatusReference):
                raise TypeError("status must be a StatusReference")
            claims[_STATUS] = encode_status_reference(status)
        claims[_HEALTHPASS] = payload_to_cbor(payload, iat=iat)
        if provenance is not None:
            claims[_PROVENANCE] = provenance_to_cbor(provenance)
        return encode_ordered(claims)

    def issue_many(
        self,
        payloads: Iterable[HealthPayload],
        *,
        now: datetime | None = None,
        executor: Executor | None = None,
        chunk_size: int = 256,
        status: StatusAllocator | None = None,
    ) -> Iterator[str | IssueError]:
        """Mint many codes, in input order, streaming; an input rejected yields its IssueError instead.

        With an ``executor`` (any ``concurrent.futures.Executor``, e.g. a process pool or a Dask client's
        executor), chunks of ``chunk_size`` are minted in parallel with at most a few chunks in flight.
        The issuer (and so its signer) must be picklable for process-based executors.

        With ``status`` (a :class:`StatusAllocator`, e.g. ``registry.allocator("hp:630000:3")``), each code
        carries a status reference into the allocator's list, as :meth:`issue` with ``status=`` does, and a
        fresh credential id. Each input is first checked as :meth:`issue` would check it (kinds, times, and the
        QR size with the largest index a reference can hold); then the allocator is called once per chunk, in
        this process, with the credential ids of exactly the codes that passed; then those are signed. An
        input refused yields its IssueError and takes no index. What the allocator raises (e.g. RegistryError:
        the list is full or unknown) is raised from the iterator after every code whose index was allocated
        before has been yielded; the inputs from that chunk on are not issued. So is an error of the inputs
        themselves (an iterable that raises, TypeError for a value that is no HealthPayload). TypeError for a
        ``status`` that is no StatusAllocator; ValueError (raised likewise) when the allocator returns a different
        number of references, a reference into another list, or one index twice. Indices are allocated a few
        chunks ahead of the codes yielded: a caller that stops iterating early leaves those allocated, never reused.
        """
        stamp = datetime.now(UTC) if now is None else aware(now, "now")  # checked at the call, not on first next()
        if status is None:
            return _map_chunks(executor, _issue_chunk, ((self, stamp), payloads), chunk_size)
        if not isinstance(status, StatusAllocator):
            raise TypeError("status must be a StatusAllocator (e.g. registry.allocator(uri))")
        if chunk_size < 1:
            raise ValueError("chunk_size must be at least 1")
        return self._issue_many_with_status(payloads, stamp, executor, chunk_size, status)

    def _issue_many_with_status(
        self,
        payloads: Iterable[HealthPayload],
        now: datetime,
        executor: Executor | None,
        chunk_size: int,
        allocator: StatusAllocator,
    ) -> Iterator[str | IssueError]:
        # 1. workers check each input and draw its credential id; 2. this process allocates indices for the inputs
        # that passed, one call per chunk; 3. workers sign. The inputs wait here between 1 and 2 (in order, at most
        # the chunks in flight), so each is sent to a worker twice but never comes back.
        waiting: deque[HealthPayload] = deque()

        def held() -> Iterator[HealthPayload]:
            for payload in payloads:
                waiting.append(payload)
                yield payload

        checked = ordered_chunks(executor, _check_chunk, (self, now, allocator.uri), held(), chunk_size)
        failed: list[Exception] = []
        planned = _allocate(checked, waiting, allocator, chunk_size, failed)
        yield from ordered_chunks(executor, _sign_chunk, (self, now), planned, chunk_size)
        if failed:  # the codes whose indices were allocated before the allocator failed are all yielded above
            raise failed[0]


@dataclass(frozen=True, slots=True, repr=False)  # __repr__ below: the code text carries personal data
class Transcoded:
    """The result of :meth:`Issuer.transcode_verified`: the new ``HP1:`` ``code`` and the ``source`` credential
    exactly as the issuer verified it before re-issuing it (its format, issuer, kid, times, warnings, status,
    ``to_json()``). Only returned, never taken: nothing in healthpass accepts a Transcoded as input."""

    code: str
    source: VerifiedCredential

    def __repr__(self) -> str:
        return f"Transcoded(code=<{len(self.code)} characters>, source={self.source!r})"


def _issue_chunk(context: tuple[Issuer, datetime], chunk: list[Any]) -> list[str | IssueError]:
    issuer, now = context
    out: list[str | IssueError] = []
    for payload in chunk:
        try:
            out.append(issuer.issue(payload, now=now))
        except IssueError as err:
            out.append(err)
    return out


def _check_chunk(context: tuple[Issuer, datetime, str], chunk: list[Any]) -> list[bytes | IssueError]:
    """A fresh credential id for each input that :meth:`Issuer._sign` would issue, its IssueError otherwise."""
    issuer, now, uri = context
    out: list[bytes | IssueError] = []
    for payload in chunk:
        if not isinstance(payload, HealthPayload):
            raise TypeError("issue_many() takes HealthPayloads")
        try:
            iat, lifetime = issuer._issue_time(now, None)
            cti = os.urandom(_CTI_BYTES)
            issuer._measure(payload, iat=iat, exp=iat + lifetime, credential_id=cti, uri=uri)
            out.append(cti)
        except IssueError as err:
            out.append(err)
    return out


def _allocate(
    checked: Iterable[bytes | IssueError], waiting: deque[HealthPayload], allocator: StatusAllocator, block: int,
    failed: list[Exception],
) -> Iterator[IssueError | tuple[HealthPayload, bytes, StatusReference]]:
    """Pair each checked input with its payload and, when it passed, an index allocated for it: one allocator call
    per ``block`` inputs, for those that passed only. When the allocator fails, or the inputs do (an iterable that
    raises, a value that is no HealthPayload), the stream ends there and the error goes to ``failed`` (to be raised
    once the codes allocated before are signed and yielded: with an executor they run a few chunks ahead)."""
    results = iter(checked)
    while True:
        try:
            chunk = list(islice(results, block))
        except Exception as err:  # the inputs failed: nothing of this block is allocated yet
            failed.append(err)
            return
        if not chunk:
            return
        items = [(waiting.popleft(), result) for result in chunk]
        ctis = [result for _, result in items if isinstance(result, bytes)]
        try:
            refs = _references(allocator, ctis)
        except Exception as err:  # raised unchanged by the caller, after the codes allocated before
            failed.append(err)
            return
        allocated = iter(refs)
        for payload, result in items:
            yield result if isinstance(result, IssueError) else (payload, result, next(allocated))


def _references(allocator: StatusAllocator, ctis: list[bytes]) -> list[StatusReference]:
    refs = list(allocator.allocate(ctis)) if ctis else []
    if len(refs) != len(ctis):
        raise ValueError(f"the allocator returned {len(refs)} references for {len(ctis)} credential ids")
    if any(not isinstance(ref, StatusReference) or ref.uri != allocator.uri for ref in refs):
        raise ValueError(f"the allocator returned something else than references into {allocator.uri}")
    if len({ref.idx for ref in refs}) != len(refs):
        raise ValueError("the allocator returned one index twice")
    return refs


def _sign_chunk(
    context: tuple[Issuer, datetime], chunk: list[IssueError | tuple[HealthPayload, bytes, StatusReference]],
) -> list[str | IssueError]:
    issuer, now = context
    out: list[str | IssueError] = []
    for item in chunk:
        if isinstance(item, IssueError):
            out.append(item)
            continue
        payload, cti, ref = item
        try:
            iat, lifetime = issuer._issue_time(now, None)
            # measured with a larger index and the margin already: the margin is not asked for twice; the text
            # differs from the measured one in the index and the signature's random bytes, by up to ~20 characters
            # with a text-rich payload, so a randomised signature that makes it too large is made again
            out.append(issuer._sign(payload, iat=iat, exp=iat + lifetime, credential_id=cti, status=ref,
                                    measured=True))
        except IssueError as err:
            out.append(err)
    return out


def _map_chunks(
    executor: Executor | None,
    fn: Callable[[Any, list[Any]], list[Any]],
    work: tuple[Any, Iterable[Any]],
    chunk_size: int,
) -> Iterator[Any]:
    context, items = work
    yield from ordered_chunks(executor, fn, context, items, chunk_size)


#: warnings that say the source's status or trust was not confirmed at the time: the transcoded code would carry
#: none of them (it has its own issuer, key and no status reference), so such a source is refused
_UNSURE_SOURCE = frozenset({WARNING_STATUS_UNCHECKED, WARNING_STATUS_LIST_STALE, WARNING_STATUS_DELTA_NOT_APPLIED,
                           "trust_list_stale"})


def _check_epoch(iat: int) -> None:
    if iat < 0:
        raise IssueError(ErrorCode.CREDENTIAL_INVALID, Stage.ISSUE,
                         "the code would be issued before 1970-01-01, which verifiers refuse")


def _refused(message: str) -> IssueError:
    return IssueError(ErrorCode.TRANSCODE_REFUSED, Stage.ISSUE, message)

