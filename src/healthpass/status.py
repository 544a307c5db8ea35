"""Credential status: Status List Tokens (draft-ietf-oauth-status-list-20, CWT form), signed deltas, lookup.

A :class:`StatusList` is a verified Status List Token: signed (COSE_Sign1, tag 18, protected ``typ``
``application/statuslist+cwt``) by an issuer key whose trust allows the kind ``status_list`` for a region;
it may then only speak for codes whose issuer lies within that region. A :class:`StatusDelta` names its base
(URI, iat, SHA-256 of the base token's bytes) and carries every entry changed since then. A
:class:`StatusLists` holds the lists a verifier has, with the deltas applied that fit exactly, and answers
:meth:`StatusLists.check` for a code's reference.

Freshness follows the trust-list policy: past ``exp`` a list still serves, with the warning
``status_list_stale``, for the grace period (24 h by default), then it is ``status_list_expired``.
Anti-rollback (per URI, by iat, in the state directory) and freshness are the shared signed-document layer's
(:mod:`healthpass.documents`, kind ``STATUS_LIST``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import InitVar, dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from healthpass import cose, documents
from healthpass._lazy import LazyModule
from healthpass.codec import decode_sign1, encode_sign1, sig_structure
from healthpass.codec.cbor import encode
from healthpass.codec.statuslist import (
    DELTA_TYP,
    STATUS_LIST_TYP,
    DeltaClaims,
    TokenClaims,
    compress_list,
    decode_delta_claims,
    decode_token_claims,
    encode_delta_claims,
    encode_token_claims,
    pack,
    unpack_lst,
)
from healthpass.documents import LOAD_TOKEN, STATUS_LIST, Freshness, refuse_subclass, require_loaded
from healthpass.errors import (
    CredentialStatusError,
    DecodeError,
    ErrorCode,
    HealthPassError,
    Stage,
    StatusListError,
    TrustListError,
    VerificationError,
)
from healthpass.model.cose import MAX_NUMERIC_DATE, Algorithm, CoseTag, HeaderLabel
from healthpass.model.credential import Kind
from healthpass.model.policy import MAX_DOCUMENT_BYTES, Limits
from healthpass.model.regions import Region
from healthpass.model.status import (
    WARNING_STATUS_DELTA_NOT_APPLIED,
    WARNING_STATUS_LIST_STALE,
    WARNING_STATUS_UNCHECKED,
    CredentialStatus,
    StatusReference,
    StatusValue,
    check_status_uri,
)
from healthpass.model.time import from_numeric_date, to_numeric_date
from healthpass.model.trust import IssuerKey
from healthpass.trust import KeyRing

if TYPE_CHECKING:
    import hashlib

    from healthpass.model.signer import Signer
    from healthpass.state import StateStore
else:  # loads OpenSSL: only when a status list is read or written, never to verify a code without one
    hashlib = LazyModule("hashlib")

__all__ = [
    "DEFAULT_MIN_ENTRIES",
    "MAX_DOCUMENT_BYTES",
    "MAX_DELTA_CHANGES",
    "WARNING_STATUS_DELTA_NOT_APPLIED",
    "WARNING_STATUS_LIST_STALE",
    "WARNING_STATUS_UNCHECKED",
    "StatusDelta",
    "StatusList",
    "StatusLists",
    "load_all",
]

#: herd privacy: a list has at least this many entries unless its publisher decides otherwise
DEFAULT_MIN_ENTRIES = 131_072
#: the most changes a delta may carry (a delta of this size is still far smaller than a 10M-entry list)
MAX_DELTA_CHANGES = 1 << 20

#: bounds on a status list: 2**27 entries of 2 bits decompress to 32 MiB, more is refused unread
_LIMITS = Limits(max_decompressed=1 << 25, max_items=64, max_string=1 << 25, max_depth=6)
_FAILURE = {StatusValue.REVOKED: ErrorCode.REVOKED, StatusValue.SUSPENDED: ErrorCode.SUSPENDED,
            StatusValue.SUPERSEDED: ErrorCode.SUPERSEDED}
_TYP = HeaderLabel.TYP.value


def _invalid(message: str) -> StatusListError:
    return StatusListError(ErrorCode.STATUS_LIST_INVALID, Stage.STATUS, message)


def _immutable(data: object, what: str) -> bytes:
    if type(data) is bytes:
        return data
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data)
    raise TypeError(f"a {what} is bytes")


# ---------------------------------------------------------------- signing and opening


def _seal(signer: Signer, typ: str, claims: bytes, kid: bytes | None) -> bytes:
    """COSE_Sign1 (tag 18): alg, kid and typ in the protected header, the unprotected header empty."""
    protected = encode({HeaderLabel.ALG.value: signer.algorithm.value, HeaderLabel.KID.value: kid or signer.kid,
                        _TYP: typ})
    return encode_sign1(protected, {}, claims, signer.sign(sig_structure(protected, claims)))


def _open(data: bytes, typ: str, keys: KeyRing, limits: Limits) -> tuple[tuple[IssuerKey, ...], bytes]:
    """Check the COSE structure and typ, find the signing key (trusted for ``status_list`` and a region) and
    verify the signature. Returns the entries trusting the signing key for status lists (the one that verified
    first, then every other with the same key material: several roots may list one key, and each one's bounds
    must hold, whatever the order of the lists) and the claims bytes. Raises StatusListError."""
    if len(data) > MAX_DOCUMENT_BYTES:
        raise _invalid(f"larger than {MAX_DOCUMENT_BYTES} bytes")
    try:
        msg = decode_sign1(data, limits=replace(limits, max_string=max(limits.max_string, len(data))), strict=False)
        headers = cose.read_headers(msg, allowed=frozenset(Algorithm), kid_protected=False)
    except HealthPassError as err:
        raise _invalid(f"not a signed {typ} document: {err.message}") from err
    if msg.tags != (CoseTag.SIGN1,):
        raise _invalid("a status list is a tagged COSE_Sign1 (tag 18), without the CWT tag")
    if msg.protected_header.get(_TYP) != typ:
        raise _invalid(f"the protected typ is not {typ}")
    kid = headers.kid
    try:
        entries = keys.entries(kid)
    except TrustListError as err:
        raise _invalid(err.message) from err
    allowed = [e for e in entries if Kind.STATUS_LIST in e.kinds and e.region is not None]
    if not allowed:
        why = "may not sign status lists" if entries else "is not a trusted key"
        raise _invalid(f"kid {kid.hex()} {why}")
    try:
        signer = cose.verify_with(msg, headers.algorithm, ((e, keys.public_key(e)) for e in allowed),
                                  require_low_s=False)
    except (VerificationError, TrustListError) as err:
        raise _invalid(f"signature check failed: {err.message}") from err
    return (signer, *(e for e in allowed if e is not signer and e.key_der == signer.key_der)), msg.payload


def _check_signer_windows(signers: tuple[IssuerKey, ...], iat: int, exp: int) -> None:
    """Every entry trusting the signing key must allow the document (as ``specs/trust-list.md`` R10 for codes: a
    root that retired the key is honoured even when another root, handed over first, still lists it)."""
    for signer in signers:
        _check_signer_window(signer, iat, exp)


def _check_signer_window(signer: IssuerKey, iat: int, exp: int) -> None:
    """The signer's bounds, as for a code (``specs/trust-list.md`` R5): its window and retirement contain
    ``iat`` (a retirement date whatever the status says), its certificate ``iat`` and ``exp``. (A key's maximum
    code validity, R8, bounds codes, not lists: Token Status Lists may live long and rely on ``ttl``, like
    the draft's own example, valid 19 years.)"""
    issued = from_numeric_date(iat)
    if signer.valid_from is not None and issued < signer.valid_from:
        raise _invalid(f"issued before key {signer.kid.hex()}'s usage window opens")
    if signer.valid_until is not None and issued > signer.valid_until:
        raise _invalid(f"issued after key {signer.kid.hex()}'s usage window closed")
    if signer.retired_at is not None and issued >= signer.retired_at:  # whatever the status says
        raise _invalid(f"issued after key {signer.kid.hex()} was retired")
    if signer.cert_not_before is not None and issued < signer.cert_not_before:
        raise _invalid(f"issued before key {signer.kid.hex()}'s certificate became valid")
    if signer.cert_not_after is not None and from_numeric_date(exp) > signer.cert_not_after:
        raise _invalid(f"expires after key {signer.kid.hex()}'s certificate")


def _ring(keys: KeyRing | Iterable[IssuerKey]) -> KeyRing:
    return keys if isinstance(keys, KeyRing) else KeyRing(keys)


# ---------------------------------------------------------------- on the signed-document layer


def _record(state: StateStore, uri: str, region: Region, issued_at: int, digest: bytes) -> None:
    """Record the effective list of ``uri`` signed for ``region`` (iat as its sequence number) in the state
    directory (:func:`healthpass.documents.record`, namespace per URI and signer region: another region's key
    publishing under the URI never moves the owner's record). Raises StatusListError (``status_list_rollback``)
    for an older list, or another one with the same iat."""
    try:
        documents.record(state, STATUS_LIST, hashlib.sha256(f"{region.code} {uri}".encode()).digest()[:16],
                         seq=issued_at, issued_at=issued_at, data=digest)
    except TrustListError as err:
        if err.code is ErrorCode.TRUST_LIST_ROLLBACK:
            raise StatusListError(ErrorCode.STATUS_LIST_ROLLBACK, Stage.STATUS,
                                  f"status list {uri}: an older list than one already accepted "
                                  f"({err.message.replace('sequence number', 'iat')})") from err
        raise StatusListError(ErrorCode.STATUS_LIST_INVALID, Stage.STATUS, err.message) from err


def _freshness(sl: StatusList, now: datetime, grace: timedelta, leeway: timedelta) -> tuple[str, ...]:
    """:func:`healthpass.documents.freshness` with the status codes: a clock before the list's iat (minus the
    leeway) is ``clock_untrusted``; past exp + grace ``status_list_expired``; past exp the warning
    ``status_list_stale``."""
    state = documents.freshness(issued_at=sl.issued_at - leeway, not_after=sl.expires_at, now=now, grace=grace)
    if state is Freshness.CLOCK_BEHIND:
        raise StatusListError(ErrorCode.CLOCK_UNTRUSTED, Stage.STATUS,
                              f"verification time precedes status list {sl.uri}'s iat: the clock is not trustworthy")
    if state is Freshness.EXPIRED:
        raise StatusListError(ErrorCode.STATUS_LIST_EXPIRED, Stage.STATUS,
                              f"status list {sl.uri} expired more than {grace} ago")
    return (WARNING_STATUS_LIST_STALE,) if state is Freshness.STALE else ()


# ---------------------------------------------------------------- the list


@dataclass(frozen=True, slots=True, repr=False)
class StatusList:
    """A verified Status List Token (with a delta applied when :meth:`apply` made it).

    ``digest`` is the SHA-256 of the base token's bytes (what a delta names); ``delta_digest`` the SHA-256
    of the delta applied, if any. ``signer`` is the key that signed it, ``signers`` every trusted entry for that
    key allowed to sign status lists (``signer`` first; several roots may list one key): their regions
    (:attr:`regions`) bound the codes the list may speak for. Lookups (:meth:`status`) read the decompressed
    byte array directly.
    """

    uri: str
    bits: int
    size: int
    issued_at: datetime
    expires_at: datetime
    ttl: timedelta | None
    signer: IssuerKey
    digest: bytes
    raw: bytes
    base_issued_at: datetime
    delta_digest: bytes | None = None
    signers: tuple[IssuerKey, ...] = ()
    _proof: InitVar[object] = None

    def __post_init__(self, _proof: object) -> None:
        require_loaded(_proof, "StatusList")

    @property
    def regions(self) -> frozenset[Region]:
        """The regions the list speaks for: those of every entry trusting its signing key for status lists
        (whatever the order in which the trust lists naming them were handed over)."""
        return _speaks_for(self.signers or (self.signer,))

    def __init_subclass__(cls, **kwargs: object) -> None:
        refuse_subclass(cls)

    def __repr__(self) -> str:
        applied = ", delta applied" if self.delta_digest else ""
        return (f"StatusList(uri={self.uri!r}, bits={self.bits}, size={self.size}, "
                f"iat={self.issued_at.isoformat()}, exp={self.expires_at.isoformat()}{applied})")

    def status(self, idx: int) -> int:
        """The value at ``idx`` (0 valid, 1 revoked, 2 suspended, 3 superseded). Raises IndexError beyond it."""
        if not 0 <= idx < self.size:
            raise IndexError(f"index {idx} is beyond the list's {self.size} entries")
        bits = self.bits
        per_byte = 8 // bits
        return (self.raw[idx // per_byte] >> ((idx % per_byte) * bits)) & ((1 << bits) - 1)

    @property
    def nbytes(self) -> int:
        """Bytes the list holds in memory (its byte array)."""
        return len(self.raw)

    @classmethod
    def load(cls, data: bytes, keys: KeyRing | Iterable[IssuerKey], *, limits: Limits | None = None) -> StatusList:
        """Verify a Status List Token against trusted issuer keys (those trusted for ``status_list``).

        Raises StatusListError (``status_list_invalid``): not a tagged COSE_Sign1 with the protected typ
        ``application/statuslist+cwt``, a signer not trusted for status lists or outside its usage window, a
        bad signature, malformed claims (sub, iat, exp are required), a list longer than the bounds.
        Freshness is judged at each verification (:meth:`StatusLists.check`).
        """
        data = _immutable(data, "status list")
        limits = limits or _LIMITS
        signers, payload = _open(data, STATUS_LIST_TYP, _ring(keys), limits)
        signer = signers[0]
        try:
            claims = decode_token_claims(payload, max_string=max(limits.max_string, len(data)))
            raw = unpack_lst(claims.lst, max_size=limits.max_decompressed)
        except DecodeError as err:
            raise _invalid(err.message) from err
        _check_signer_windows(signers, claims.issued_at, claims.expires_at)
        issued = from_numeric_date(claims.issued_at)
        return cls(claims.uri, claims.bits, len(raw) * 8 // claims.bits, issued,
                   from_numeric_date(claims.expires_at),
                   None if claims.ttl is None else timedelta(seconds=claims.ttl), signer,
                   hashlib.sha256(data).digest(), raw, issued, None, signers, LOAD_TOKEN)

    def apply(self, delta: StatusDelta) -> StatusList:
        """This list with ``delta`` applied: its entries changed, its iat, exp and ttl the delta's.

        Raises StatusListError (``status_list_invalid``) when the delta is not based on exactly this token
        (URI, iat, SHA-256), does not fit it (bits, indices), or its signer may not speak for this list's
        region."""
        if (delta.uri != self.uri or delta.base_iat != to_numeric_date(self.base_issued_at)
                or delta.base_sha256 != self.digest):
            raise _invalid(f"the delta for {delta.uri} is not based on this list")
        if self.delta_digest is not None:
            raise _invalid("a delta is applied to a full list only")
        if delta.bits != self.bits:
            raise _invalid("the delta's bits differ from the list's")
        if not _covers(delta.regions, self.regions):
            raise _invalid(f"the delta's signer (region {_codes(delta.regions)}) may not speak for a list of "
                           f"region {_codes(self.regions)}")
        if delta.changes and delta.changes[-1][0] >= self.size:
            raise _invalid(f"the delta changes index {delta.changes[-1][0]}, beyond the list's {self.size}")
        raw = bytearray(self.raw)
        per_byte, bits = 8 // self.bits, self.bits
        top = (1 << bits) - 1
        for idx, value in delta.changes:
            at, offset = idx // per_byte, (idx % per_byte) * bits
            raw[at] = (raw[at] & ~(top << offset)) | (value << offset)
        return replace(self, issued_at=delta.issued_at, expires_at=delta.expires_at, ttl=delta.ttl,
                       raw=bytes(raw), delta_digest=delta.digest, _proof=LOAD_TOKEN)

    @staticmethod
    def build(
        signer: Signer,
        *,
        uri: str,
        size: int,
        entries: Iterable[tuple[int, int]],
        valid_for: timedelta,
        bits: int = 2,
        ttl: timedelta | None = None,
        now: datetime | None = None,
        kid: bytes | None = None,
    ) -> bytes:
        """Sign a Status List Token for ``uri``: ``size`` entries, all valid but ``entries`` (index, value).

        ``ttl`` (how long a verifier may cache it before fetching a new one) defaults to none. Raises
        ValueError for an impossible list."""
        check_status_uri(uri)
        if valid_for <= timedelta(0) or (ttl is not None and ttl <= timedelta(0)):
            raise ValueError("valid_for and ttl must be positive")
        raw = pack(size, bits, entries)
        issued = to_numeric_date(datetime.now(UTC) if now is None else now, "now")
        expires = issued + int(valid_for.total_seconds())
        if expires > MAX_NUMERIC_DATE:
            raise ValueError("the list would expire after 2100")
        claims = TokenClaims(uri, issued, expires, None if ttl is None else int(ttl.total_seconds()), bits,
                             compress_list(bytes(raw)))
        return _seal(signer, STATUS_LIST_TYP, encode_token_claims(claims), kid)


# ---------------------------------------------------------------- the delta


@dataclass(frozen=True, slots=True, repr=False)
class StatusDelta:
    """A verified status delta (``specs/status-delta.md``)."""

    uri: str
    bits: int
    issued_at: datetime
    expires_at: datetime
    ttl: timedelta | None
    base_iat: int
    base_sha256: bytes
    changes: tuple[tuple[int, int], ...]
    signer: IssuerKey
    digest: bytes
    signers: tuple[IssuerKey, ...] = ()
    _proof: InitVar[object] = None

    def __init_subclass__(cls, **kwargs: object) -> None:
        refuse_subclass(cls)

    def __post_init__(self, _proof: object) -> None:
        require_loaded(_proof, "StatusDelta")

    @property
    def regions(self) -> frozenset[Region]:
        """The regions the delta speaks for (as :attr:`StatusList.regions`)."""
        return _speaks_for(self.signers or (self.signer,))

    def __repr__(self) -> str:
        return (f"StatusDelta(uri={self.uri!r}, iat={self.issued_at.isoformat()}, base_iat={self.base_iat}, "
                f"changes={len(self.changes)})")

    @classmethod
    def load(cls, data: bytes, keys: KeyRing | Iterable[IssuerKey]) -> StatusDelta:
        """Verify a delta against trusted issuer keys (those trusted for ``status_list``). Raises
        StatusListError (``status_list_invalid``)."""
        data = _immutable(data, "status delta")
        signers, payload = _open(data, DELTA_TYP, _ring(keys), _LIMITS)
        signer = signers[0]
        try:
            claims = decode_delta_claims(payload, max_changes=MAX_DELTA_CHANGES)
        except DecodeError as err:
            raise _invalid(err.message) from err
        _check_signer_windows(signers, claims.issued_at, claims.expires_at)
        return cls(claims.uri, claims.bits, from_numeric_date(claims.issued_at), from_numeric_date(claims.expires_at),
                   None if claims.ttl is None else timedelta(seconds=claims.ttl), claims.base_iat,
                   claims.base_sha256, claims.changes, signer, hashlib.sha256(data).digest(), signers, LOAD_TOKEN)

    @staticmethod
    def build(
        signer: Signer,
        *,
        base: bytes,
        changes: Mapping[int, int],
        valid_for: timedelta,
        ttl: timedelta | None = None,
        now: datetime | None = None,
        kid: bytes | None = None,
    ) -> bytes:
        """Sign a delta on the token ``base`` (its bytes, as published) carrying ``changes`` (index -> value,
        every entry changed since the base). The base is read without checking its signature (it is the
        publisher's own). Raises ValueError."""
        try:
            msg = decode_sign1(_immutable(base, "status list"), limits=replace(_LIMITS, max_string=len(base) + 1),
                               strict=False)
            claims = decode_token_claims(msg.payload, max_string=len(base) + 1)
            size = len(unpack_lst(claims.lst, max_size=_LIMITS.max_decompressed)) * 8 // claims.bits
        except DecodeError as err:
            raise ValueError(f"the base is not a status list: {err.message}") from None
        if valid_for <= timedelta(0) or (ttl is not None and ttl <= timedelta(0)):
            raise ValueError("valid_for and ttl must be positive")
        if len(changes) > MAX_DELTA_CHANGES:
            raise ValueError(f"a delta carries at most {MAX_DELTA_CHANGES} changes: publish a full list")
        if any(not 0 <= i < size for i in changes):
            raise ValueError("a change lies beyond the base list")
        issued = to_numeric_date(datetime.now(UTC) if now is None else now, "now")
        if issued <= claims.issued_at:
            issued = claims.issued_at + 1  # a delta is always newer than its base
        expires = issued + int(valid_for.total_seconds())
        out = DeltaClaims(claims.uri, issued, expires, None if ttl is None else int(ttl.total_seconds()),
                          claims.bits, claims.issued_at, hashlib.sha256(base).digest(), tuple(sorted(changes.items())))
        return _seal(signer, DELTA_TYP, encode_delta_claims(out), kid)


# ---------------------------------------------------------------- what a verifier holds


class StatusLists:
    """The status lists a verifier holds, by URI and signer region, with the deltas applied that fit them exactly.

    A list speaks only for the codes its signer's region covers, so lists are held per URI *and signer region*:
    another region's key publishing under a URI never displaces, blocks or rolls back the owner's list (it
    speaks only for its own region's codes). Of several lists for one URI from one signer region the newest
    (by iat) is kept (two different ones with the same iat are ``status_list_rollback``: the publisher
    equivocates). A code is judged on the newest list of every signer region covering its issuer (each must
    allow it). Each delta applies to the list it names (URI, iat, SHA-256 of the token); of several, the newest
    applies. A delta whose base the verifier does not hold, or whose signer's region does not cover its base's
    signer's, is not applied, and every code of its URI that the delta's signer speaks for then carries the
    warning ``status_delta_not_applied``. With a ``state`` directory
    the effective list of each URI and signer region is recorded: an older one later is
    ``status_list_rollback``. Immutable, thread-safe, picklable.
    """

    __slots__ = ("_floor", "_lists", "_unapplied")

    def __init__(
        self,
        lists: Iterable[StatusList] = (),
        deltas: Iterable[StatusDelta] = (),
        *,
        state: StateStore | None = None,
    ) -> None:
        held: dict[tuple[str, Region], StatusList] = {}
        for sl in lists:
            if not isinstance(sl, StatusList):
                raise TypeError("StatusLists holds StatusList values (StatusList.load)")
            for region in sorted(sl.regions):
                key = (sl.uri, region)
                current = held.get(key)
                if current is None or sl.issued_at > current.issued_at:
                    held[key] = sl
                elif sl.issued_at == current.issued_at and sl.digest != current.digest:  # the publisher equivocates
                    raise StatusListError(ErrorCode.STATUS_LIST_ROLLBACK, Stage.STATUS,
                                          f"two different status lists {sl.uri} with the same iat from signers of "
                                          f"region {region.code}: neither is used")
        bases = {sl.digest: sl for sl in held.values() if sl.delta_digest is None}
        unapplied: set[tuple[str, Region]] = set()
        best: dict[bytes, StatusDelta] = {}
        for delta in deltas:
            if not isinstance(delta, StatusDelta):
                raise TypeError("StatusLists applies StatusDelta values (StatusDelta.load)")
            base = bases.get(delta.base_sha256)
            # a delta whose signer may not speak for its base's regions is not applied (as a delta with no base
            # held would not be): another region's key never blocks the loading of every list
            if (base is None or delta.uri != base.uri or delta.base_iat != to_numeric_date(base.base_issued_at)
                    or not _covers(delta.regions, base.regions)):
                unapplied.update((delta.uri, region) for region in delta.regions)
            elif base.digest not in best or delta.issued_at > best[base.digest].issued_at:
                best[base.digest] = delta
        applied = {digest: bases[digest].apply(delta) for digest, delta in best.items()}
        for key, sl in held.items():
            if sl.delta_digest is None and sl.digest in applied:
                held[key] = applied[sl.digest]
        floor: datetime | None = max((sl.issued_at for sl in held.values()), default=None)
        if state is not None:
            for (uri, region), sl in held.items():
                _record(state, uri, region, to_numeric_date(sl.issued_at), sl.delta_digest or sl.digest)
        by_uri: dict[str, tuple[tuple[Region, StatusList], ...]] = {}
        for (uri, region), sl in sorted(held.items(), key=lambda item: item[0][1]):
            by_uri[uri] = (*by_uri.get(uri, ()), (region, sl))
        with_delta = {delta.uri for delta in best.values()}
        self._lists: Mapping[str, tuple[tuple[Region, StatusList], ...]] = by_uri
        self._unapplied = frozenset(item for item in unapplied if item[0] not in with_delta)
        self._floor = floor

    def __init_subclass__(cls, **kwargs: object) -> None:
        refuse_subclass(cls)

    def __reduce__(self) -> tuple[object, ...]:
        return (_restore, (self.lists, self._unapplied, self._floor))

    def __len__(self) -> int:
        return len(self.lists)

    def __repr__(self) -> str:
        return f"StatusLists({len(self)} lists, {len(self.unapplied)} deltas not applied)"

    def get(self, uri: str) -> StatusList | None:
        """The newest list held for ``uri`` (of any signer region; None when none)."""
        held = [sl for _, sl in self._lists.get(uri, ())]
        return max(held, key=lambda sl: sl.issued_at) if held else None

    @property
    def lists(self) -> tuple[StatusList, ...]:
        """Every list held (one that speaks for several regions once)."""
        unique = {id(sl): sl for held in self._lists.values() for _, sl in held}
        return tuple(unique.values())

    @property
    def unapplied(self) -> frozenset[str]:
        """URIs with a delta that was not applied (its base is not held)."""
        return frozenset(uri for uri, _ in self._unapplied)

    @property
    def clock_floor(self) -> datetime | None:
        """The latest iat of any list held (a verification before a list's iat is ``clock_untrusted`` for the
        codes of that list)."""
        return self._floor

    def check(
        self,
        ref: StatusReference,
        *,
        issuer: Region,
        now: datetime,
        grace: timedelta,
        leeway: timedelta,
        require: bool,
    ) -> tuple[CredentialStatus, tuple[str, ...]]:
        """The status of the code of ``issuer`` referencing ``ref`` at ``now``, with the warnings to report: the
        newest list for ``ref.uri`` of every signer region covering ``issuer`` must allow the code.

        Raises CredentialStatusError (``revoked``, ``suspended``, ``superseded``, carrying the entry checked),
        VerificationError (``status_unavailable`` when
        ``require`` and the list is not held) and StatusListError (``status_list_invalid``: only lists whose
        signer may not speak for ``issuer`` are held, the index is beyond the list, an unknown value;
        ``status_list_expired``; ``clock_untrusted`` when ``now`` precedes the list's iat)."""
        late = any(uri == ref.uri and region.covers(issuer) for uri, region in self._unapplied)
        warnings: tuple[str, ...] = (WARNING_STATUS_DELTA_NOT_APPLIED,) if late else ()
        held = self._lists.get(ref.uri)
        if not held:
            if require:
                raise VerificationError(ErrorCode.STATUS_UNAVAILABLE, Stage.STATUS,
                                        f"no status list {ref.uri} is held, and status is required")
            return CredentialStatus(ref.uri, ref.idx, None), (*warnings, WARNING_STATUS_UNCHECKED)
        speaking = {id(sl): sl for region, sl in held if region.covers(issuer)}
        if not speaking:
            raise _invalid(f"status list {ref.uri} is signed for region {_codes(r for r, _ in held)}, not the code's "
                           f"issuer {issuer.code}")
        for sl in speaking.values():
            warnings += _check_one(sl, ref, issuer=issuer, now=now, grace=grace, leeway=leeway)
        return CredentialStatus(ref.uri, ref.idx, StatusValue.VALID), tuple(dict.fromkeys(warnings))


def _speaks_for(signers: tuple[IssuerKey, ...]) -> frozenset[Region]:
    return frozenset(_region(e) for e in signers)


def _region(signer: IssuerKey) -> Region:
    """The region a status document's signer speaks for (``_open`` admits only keys with one)."""
    assert signer.region is not None
    return signer.region


def _covers(speakers: frozenset[Region], regions: frozenset[Region]) -> bool:
    """Whether every region of ``regions`` is covered by one of ``speakers``."""
    return all(any(speaker.covers(region) for speaker in speakers) for region in regions)


def _codes(regions: Iterable[Region]) -> str:
    return ",".join(sorted({region.code for region in regions}))


def _check_one(sl: StatusList, ref: StatusReference, *, issuer: Region, now: datetime, grace: timedelta,
               leeway: timedelta) -> tuple[str, ...]:
    """One list's verdict on the code at ``ref`` (see :meth:`StatusLists.check`): its warnings, or an error.
    The list is expired when every trust list holding an entry that lets its signer speak for ``issuer`` is."""
    covering = [e for e in sl.signers or (sl.signer,) if _region(e).covers(issuer)]
    if covering and all(e.list_not_after is not None and now > e.list_not_after + grace for e in covering):
        raise StatusListError(ErrorCode.STATUS_LIST_EXPIRED, Stage.STATUS,
                              f"the trust list holding status list {ref.uri}'s signer has expired")
    warnings = _freshness(sl, now, grace, leeway)
    if ref.idx >= sl.size:
        raise _invalid(f"index {ref.idx} is beyond status list {ref.uri} ({sl.size} entries)")
    value = sl.status(ref.idx)
    if value == StatusValue.VALID:
        return warnings
    if value <= StatusValue.SUPERSEDED:
        status = StatusValue(value)
        raise CredentialStatusError(_FAILURE[status], Stage.STATUS, f"the code is {status.label} ({ref.uri})",
                                    CredentialStatus(ref.uri, ref.idx, status).to_json())
    raise _invalid(f"status list {ref.uri} holds the unknown value {value} for this code")


def _restore(lists: tuple[StatusList, ...], unapplied: frozenset[tuple[str, Region]],
             floor: datetime | None) -> StatusLists:
    out = StatusLists(lists)
    out._unapplied = unapplied
    out._floor = floor
    return out


def load_all(
    lists: Sequence[bytes],
    deltas: Sequence[bytes],
    keys: KeyRing | Iterable[IssuerKey],
    *,
    state: StateStore | None = None,
) -> StatusLists:
    """Verify token and delta documents and hold them (see :class:`StatusLists`). Raises StatusListError."""
    ring = _ring(keys)
    return StatusLists([StatusList.load(d, ring) for d in lists], [StatusDelta.load(d, ring) for d in deltas],
                       state=state)



def _counts(values: Mapping[int, int]) -> str:
    named = [f"{n} {StatusValue(v).label if v <= StatusValue.SUPERSEDED else f'value {v}'}"
             for v, n in sorted(values.items()) if n]
    return ", ".join(named) or "all valid"
