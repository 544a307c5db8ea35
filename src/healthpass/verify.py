"""Verifier: code text in, a verified credential out, or a typed error naming the stage that failed.

The pipeline (``specs/credential.md`` §6 states the order; the first failure is reported):

1. prefix, 2. base45, 3. bounded zlib, 4. strict CBOR and COSE_Sign1 structure, 5. algorithm allow-list,
6. trust-list freshness and clock, 7. key lookup by kid, 8. signature over the bytes received,
9. CWT claims, 10. payload schema, 11. scope (issuer region, data kinds), 12. key usage window and
certificate lifetime, 13. validity (expiry, not-yet-valid, with leeway), 14. acceptance rules if given.

No network and no file I/O happen on this path; time is an input.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from healthpass import cose
from healthpass._lazy import LazyModule, lazy_names
from healthpass.batch import ordered_chunks
from healthpass.codec import Prefix, b45decode, decode_claims, decode_sign1, decompress, split_prefix
from healthpass.codec.payload import payload_from_cbor
from healthpass.errors import (
    CredentialStatusError,
    DecodeError,
    ErrorCode,
    HealthPassError,
    PolicyError,
    Stage,
    VerificationError,
    VerifiedContext,
)
from healthpass.model.cose import Algorithm, ClaimKey, CoseSign1, CwtClaims
from healthpass.model.credential import HealthPayload
from healthpass.model.jsonform import format_duration, payload_to_json
from healthpass.model.policy import Limits
from healthpass.model.regions import Region
from healthpass.model.time import aware, format_iso, from_numeric_date, optional_numeric_date, to_numeric_date
from healthpass.model.trust import IssuerKey
from healthpass.trust import KeyRing, TrustList

if TYPE_CHECKING:  # annotations only (concurrent.futures costs start-up time)
    from concurrent.futures import Executor

    from healthpass import documents, status, unverified
    from healthpass.codec import provenance as provenance_codec
    from healthpass.codec import statuslist
    from healthpass.formats import eu_dcc
    from healthpass.model import status as status_model
    from healthpass.model.provenance import Provenance
    from healthpass.model.status import WARNING_STATUS_UNCHECKED, CredentialStatus, StatusReference
    from healthpass.rules import bundle
    from healthpass.rules.bundle import RuleBundle
else:  # imported on the first HC1 code: an HP1 verifier never loads the EU DCC adapter
    eu_dcc = LazyModule("healthpass.formats.eu_dcc")
    status = LazyModule("healthpass.status")  # on the first status list or code with a status reference
    bundle = LazyModule("healthpass.rules.bundle")  # only for a verifier that applies rules
    unverified = LazyModule("healthpass.unverified")  # the deprecated alias's only tie to that module
    # gain: about 4 ms of start-up (with trust.py's), 6 % of a one-code ``healthpass verify``: codes without a
    # status reference or provenance, and keys not from a trust list, never load these
    documents = LazyModule("healthpass.documents")
    provenance_codec = LazyModule("healthpass.codec.provenance")
    statuslist = LazyModule("healthpass.codec.statuslist")
    status_model = LazyModule("healthpass.model.status")

__all__ = [
    "WARNING_STATUS_UNCHECKED",
    "WARNING_TRUST_LIST_STALE",
    "TranscodedPolicy",
    "VerificationResult",
    "VerifiedCredential",
    "Verifier",
    "VerifierPolicy",
    "decode_unverified",
]

WARNING_TRUST_LIST_STALE = "trust_list_stale"
#: re-exported names whose module a verifier loads only for codes with a status reference
_LAZY = {"WARNING_STATUS_UNCHECKED": "healthpass.model.status"}
__getattr__ = lazy_names(__name__, _LAZY, globals())
_HP1_CLAIMS = frozenset({ClaimKey.HEALTHPASS, ClaimKey.PROVENANCE, ClaimKey.STATUS})
_HEALTHPASS = int(ClaimKey.HEALTHPASS)
_PROVENANCE = int(ClaimKey.PROVENANCE)
_STATUS = int(ClaimKey.STATUS)


class TranscodedPolicy(StrEnum):
    """Whether a verifier accepts codes transcoded from a foreign code (``VerifierPolicy.transcoded``)."""

    ACCEPT = "accept"  # originals and transcoded codes alike (the default)
    REFUSE = "refuse"  # originals only: a transcoded code is ``transcoded_refused``
    REQUIRE = "require"  # transcoded codes only: an original is ``transcoded_required``


@dataclass(frozen=True, slots=True)
class VerifierPolicy:
    """What a verifier accepts. Every field is an explicit input; the defaults are the documented policy.

    - ``algorithms``: the allow-list (ES256, EdDSA, PS256, SM2); SM2 takes effect only where its optional
      backend (``healthpass[sm]``) is available, checked at the first SM2 code so that other processes never
      load it: elsewhere an SM2 code is ``algorithm_unsupported`` at stage ``algorithm``, naming the extra;
    - ``leeway``: clock skew tolerated on iat/nbf/exp (default 5 minutes);
    - ``trust_list_grace``: how long past its not-after a trust list still serves, with a warning;
    - ``strict_schema``: EU DCC payloads deviating from the EU JSON schema are rejected
      (``schema_invalid``) instead of reported as warnings;
    - ``formats``: which prefixes are accepted;
    - ``limits``: the decoding bounds;
    - ``dcc_schemas``: a :class:`healthpass.formats.eu_dcc.DccSchemas` (the EU DCC JSON schema releases,
      loaded from a directory the caller names); None = only healthpass's structural checks of EU DCCs,
      no schema warnings;
    - ``transcoded``: accept, refuse or require codes transcoded from a foreign code (default: accept).
    """

    algorithms: frozenset[Algorithm] = frozenset(Algorithm)
    leeway: timedelta = timedelta(minutes=5)
    trust_list_grace: timedelta = timedelta(hours=24)
    strict_schema: bool = False
    formats: frozenset[Prefix] = frozenset(Prefix)
    limits: Limits = field(default_factory=Limits)
    dcc_schemas: object | None = None
    transcoded: TranscodedPolicy = TranscodedPolicy.ACCEPT

    def __post_init__(self) -> None:
        if not isinstance(self.transcoded, TranscodedPolicy):
            object.__setattr__(self, "transcoded", TranscodedPolicy(self.transcoded))
        if self.leeway < timedelta(0) or self.trust_list_grace < timedelta(0):
            raise ValueError("leeway and trust_list_grace must not be negative")
        if not self.algorithms <= frozenset(Algorithm):
            raise ValueError("algorithms must be Algorithm members")


@dataclass(frozen=True, slots=True, repr=False)  # __repr__ below
class VerifiedCredential:
    """A code that passed every check. ``payload`` is healthpass's typed model (for EU certificates the
    normalised view); ``dcc`` holds the EU DCC payload as received (EU certificates only);
    ``transcoded_from`` the source of a transcoded code; ``signature`` the COSE signature bytes verified."""

    format: Prefix
    issuer: str | None
    kid: bytes
    algorithm: Algorithm
    issued_at: datetime | None
    expires_at: datetime | None
    not_before: datetime | None
    credential_id: bytes | None
    payload: HealthPayload | None
    dcc: Mapping[str, Any] | None = None
    warnings: tuple[str, ...] = ()
    key_source: str = ""
    rules: tuple[Mapping[str, Any], ...] = ()
    transcoded_from: Provenance | None = None
    signature: bytes = b""
    #: the code's status as checked in its status list (None: the code carries no status reference)
    credential_status: CredentialStatus | None = None

    @property
    def issuer_region(self) -> Region | None:
        """The issuing region for healthpass codes (None for foreign codes)."""
        if self.format is Prefix.HP1 and self.issuer is not None:
            return Region(self.issuer)
        return None

    def to_json(self) -> dict[str, Any]:
        """The ``credential``-bearing JSON object of the CLI (``valid``: true)."""
        region = self.issuer_region
        credential: dict[str, Any] = payload_to_json(self.payload) if self.payload is not None else {}
        if self.dcc is not None:
            credential = {"dcc": dict(self.dcc), "normalised": credential}
        out: dict[str, Any] = {
            "valid": True,
            "error": None,
            "format": self.format.value.rstrip(":"),
            "issuer": self.issuer,
            "issuer_region": region.describe() if region else None,
            "kid": self.kid.hex(),
            "algorithm": self.algorithm.jose_name,
            "issued_at": format_iso(self.issued_at) if self.issued_at else None,
            "expires_at": format_iso(self.expires_at) if self.expires_at else None,
            "credential_id": self.credential_id.hex() if self.credential_id else None,
            "warnings": list(self.warnings),
            "credential": credential,
        }
        if self.transcoded_from is not None:
            out["transcoded_from"] = self.transcoded_from.to_json()
        if self.credential_status is not None:  # only codes carrying a status reference
            out["credential_status"] = self.credential_status.to_json()
        if self.rules:
            out["rules"] = [dict(r) for r in self.rules]
        return out

    def __repr__(self) -> str:
        return (f"VerifiedCredential(format={self.format.name}, issuer={self.issuer!r}, kid={self.kid.hex()}, "
                f"payload={self.payload!r})")


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """Outcome of one code in a batch: exactly one of ``credential`` and ``error`` is set."""

    credential: VerifiedCredential | None
    error: HealthPassError | None

    def to_json(self) -> dict[str, Any]:
        if self.credential is not None:
            return self.credential.to_json()
        assert self.error is not None
        out: dict[str, Any] = {"valid": False, "error": self.error.to_dict(), "issuer": None, "kid": None,
                               "issued_at": None, "expires_at": None, "warnings": [], "credential": None}
        context = self.error.verified
        if context is not None:  # the signature verified before the code was rejected: authentic facts
            out.update(format=context.format, issuer=context.issuer, kid=context.kid.hex(),
                       algorithm=context.algorithm,
                       issued_at=format_iso(context.issued_at) if context.issued_at else None,
                       expires_at=format_iso(context.expires_at) if context.expires_at else None)
        if isinstance(self.error, CredentialStatusError) and self.error.credential_status:
            out["credential_status"] = dict(self.error.credential_status)
        if isinstance(self.error, PolicyError) and self.error.results:
            out["rules"] = [dict(r) for r in self.error.results]
        return out


def _when(value: int) -> str:
    return format_iso(from_numeric_date(value))


def _verified_context(prefix: Prefix, claims: CwtClaims, kid: bytes, algorithm: Algorithm) -> VerifiedContext:
    """The facts a code whose signature verified proves about itself (never personal data: an ``iss`` that is
    not a region code (``HP1:``) or a short country code (``HC1:``) is left out)."""
    iss = claims.iss
    if iss is not None:
        if prefix is Prefix.HP1:
            plausible = _wire_region(iss) is not None
        else:
            plausible = len(iss) <= 8 and iss.isascii() and iss.isalnum()
        iss = iss if plausible else None
    return VerifiedContext(prefix.value.rstrip(":"), iss, kid, algorithm.jose_name,
                           optional_numeric_date(claims.iat), optional_numeric_date(claims.exp))


def _body_offset(text: str) -> int:
    """Where the base45 body starts in the text as given (leading white space and the 4-character prefix),
    so that base45 errors point into the user's text."""
    return 4 if not text[:1].isspace() else len(text) - len(text.lstrip()) + 4


def _wire_region(text: str) -> Region | None:
    """The region of a six-digit code as a code carries it (ISO aliases are for human input only)."""
    if not (len(text) == 6 and text.isascii() and text.isdigit()):
        return None
    try:
        return Region(text)
    except ValueError:
        return None


class Verifier:
    """Verifies ``HP1:`` healthpass codes and ``HC1:`` EU certificates offline against trusted keys.

    Build it once (keys are indexed and parsed once) and call :meth:`verify` for each code. ``keys`` are
    directly trusted :class:`IssuerKey` values; ``trust_lists`` are verified :class:`TrustList` documents
    whose keys are pooled with them. ``rules`` (a verified rule bundle) is applied after the cryptographic
    checks. Thread-safe; picklable for process pools.

    ``status_lists`` (a :class:`healthpass.status.StatusLists`, or verified
    :class:`healthpass.status.StatusList` values) are the status lists held: a code referencing one of them
    passes only with status 0 (``revoked``, ``suspended``, ``superseded`` otherwise); a code referencing a
    list not held carries the warning ``status_unchecked``, or with ``require_status`` is rejected
    (``status_unavailable``). Codes without a reference, and EU codes, are unaffected.
    """

    __slots__ = ("_policy", "_require_status", "_ring", "_rules", "_status")

    def __init__(
        self,
        *,
        keys: Iterable[IssuerKey] = (),
        trust_lists: Iterable[TrustList] = (),
        policy: VerifierPolicy | None = None,
        rules: RuleBundle | None = None,
        status_lists: status.StatusLists | Iterable[status.StatusList] = (),
        require_status: bool = False,
    ) -> None:
        if rules is not None and not isinstance(rules, bundle.RuleBundle):
            raise TypeError("rules must be a RuleBundle (from RuleBundle.load)")
        if policy is not None and not isinstance(policy, VerifierPolicy):
            raise TypeError("policy must be a VerifierPolicy")
        self._policy = policy or VerifierPolicy()
        self._ring = KeyRing(keys, trust_lists=trust_lists)  # per root, only the newest list is kept
        self._rules = rules
        if type(require_status) is not bool:
            raise TypeError("require_status must be a bool")
        self._require_status = require_status
        if type(status_lists) is tuple and not status_lists:
            self._status: status.StatusLists | None = None
        elif isinstance(status_lists, status.StatusLists):
            self._status = status_lists
        else:
            self._status = status.StatusLists(status_lists)

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild, (self._ring.direct_keys, self._ring.trust_lists, self._policy, self._rules, self._status,
                           self._require_status))

    @property
    def status_lists(self) -> status.StatusLists | None:
        """The status lists held (None when none were given)."""
        return self._status

    @property
    def policy(self) -> VerifierPolicy:
        return self._policy

    @property
    def keys(self) -> KeyRing:
        return self._ring

    def verify(self, text: str, *, at: datetime | None = None, profile: str | None = None) -> VerifiedCredential:
        """Verify one code. ``at`` (a timezone-aware datetime) defaults to the current time.

        Raises ValueError for a naive ``at`` and TypeError for one that is no datetime (misuse, at once);
        :class:`DecodeError`, :class:`VerificationError`, :class:`TrustListError` or
        :class:`PolicyError`, each carrying ``code`` and ``stage``.
        """
        now = datetime.now(UTC) if at is None else aware(at, "at")
        credential = self._verify(text, now)
        if self._rules is not None:
            try:
                credential = self._rules.apply(credential, now=now, profile=profile)
            except HealthPassError as err:
                if err.verified is None:
                    err.verified = VerifiedContext(
                        credential.format.value.rstrip(":"), credential.issuer, credential.kid,
                        credential.algorithm.jose_name, credential.issued_at, credential.expires_at)
                raise
        return credential

    def verify_many(
        self,
        texts: Iterable[str],
        *,
        at: datetime | None = None,
        executor: Executor | None = None,
        chunk_size: int = 256,
        profile: str | None = None,
    ) -> Iterator[VerificationResult]:
        """Verify many codes, streaming, results in input order. See :meth:`Issuer.issue_many` on executors.
        ``at`` as for :meth:`verify` (a naive one raises ValueError at the call, before any code is verified)."""
        now = datetime.now(UTC) if at is None else aware(at, "at")
        return ordered_chunks(executor, _verify_chunk, (self, now, profile), texts, chunk_size)

    # -- the pipeline -------------------------------------------------------------------------------

    def _verify(self, text: str, now: datetime) -> VerifiedCredential:
        policy = self._policy
        limits = policy.limits
        prefix, body = split_prefix(text, max_text=limits.max_text)
        if prefix not in policy.formats:
            raise DecodeError(ErrorCode.PREFIX_INVALID, Stage.PREFIX, f"{prefix.value} codes are not accepted")
        strict = prefix is Prefix.HP1
        message = decompress(b45decode(body, offset=_body_offset(text)), max_size=limits.max_decompressed)
        sign1 = decode_sign1(message, limits=limits, strict=strict)
        headers = cose.read_headers(sign1, allowed=policy.algorithms, kid_protected=strict)
        entries = self._verify_signature(sign1, headers, now, strict=strict)
        claims = decode_claims(sign1.payload, limits=limits, strict=strict)
        try:
            if strict:
                return self._finish_hp1(sign1, headers, entries, claims, now)
            return self._finish_hc1(sign1, headers, entries, claims, now)
        except HealthPassError as err:  # rejected after the signature verified: say what it proved
            if err.verified is None:
                err.verified = _verified_context(prefix, claims, entries[0].kid, headers.algorithm)
            raise

    def _verify_signature(
        self, sign1: CoseSign1, headers: cose.HeaderInfo, now: datetime, *, strict: bool
    ) -> tuple[IssuerKey, ...]:
        """The usable entries (fresh lists, direct keys) holding the key that verifies the signature: the one
        :func:`cose.verify_with` found first, then every other entry with the same key material, in order."""
        kid = headers.kid
        entries = self._ring.entries(kid)
        if not entries:
            raise VerificationError(ErrorCode.KEY_UNKNOWN, Stage.KEY, f"no trusted key with kid {kid.hex()}")
        grace = self._policy.trust_list_grace
        # Each list's freshness bounds only the keys trusted through it: its issue time is their clock floor
        # (a list dated in the future blocks its own root's keys, never another root's), its not-after plus
        # the grace period their expiry.
        usable = []
        refused: tuple[documents.Freshness, IssuerKey] | None = None
        for e in entries:
            if e.list_not_after is not None:
                state = documents.freshness(issued_at=e.list_issued_at, not_after=e.list_not_after, now=now,
                                            grace=grace)
                if state is documents.Freshness.EXPIRED or state is documents.Freshness.CLOCK_BEHIND:
                    if refused is None or state is documents.Freshness.CLOCK_BEHIND:
                        refused = (state, e)
                    continue
            usable.append(e)
        if not usable:
            assert refused is not None
            state, e = refused
            assert e.list_not_after is not None  # only listed keys are refused
            raise documents.freshness_error(documents.TRUST_LIST, state,
                                            subject=f"the trust list holding kid {kid.hex()}",
                                            issued_at=e.list_issued_at, not_after=e.list_not_after,
                                            now=now, grace=grace)
        entry = cose.verify_with(
            sign1, headers.algorithm, ((e, self._ring.public_key(e)) for e in usable), require_low_s=strict
        )
        return (entry, *(e for e in usable if e is not entry and e.key_der == entry.key_der))

    def _govern(self, entries: tuple[IssuerKey, ...], scope_error: Any, claims: CwtClaims, now: datetime, iat: int,
                exp: int) -> tuple[IssuerKey, datetime, datetime, tuple[str, ...]]:
        """Of the entries trusting the signing key (several roots, or a root and the caller, may), those whose
        scope covers the code govern it; the first entry's scope error is raised when none does. Every one of
        them must then pass the key's bounds on the code (usage window, retirement, certificate, maximum
        validity), so the outcome never depends on the order the lists were handed over, and a root that retired
        the key for codes in its scope is honoured even when another root still lists it.

        Returns the first governing entry, the code's issue and expiry times, and its warnings."""
        governing = tuple(e for e in entries if scope_error(e) is None)
        if not governing:
            raise scope_error(entries[0])
        issued_at, expires_at = from_numeric_date(iat), from_numeric_date(exp)
        for e in governing:
            self._check_key_window(e, iat, exp, issued_at, expires_at)
        for e in governing:
            self._check_validity(claims, now, e)
        entry = governing[0]
        # stale only when every trust path to the key is: the first entry alone made the warning (and a
        # transcoder's refusal) depend on the order in which the lists were handed over
        stale = all(e.list_not_after is not None and now > e.list_not_after for e in governing)
        return entry, issued_at, expires_at, (WARNING_TRUST_LIST_STALE,) if stale else ()

    def _finish_hp1(
        self,
        sign1: CoseSign1,
        headers: cose.HeaderInfo,
        entries: tuple[IssuerKey, ...],
        claims: CwtClaims,
        now: datetime,
    ) -> VerifiedCredential:
        iss, iat, exp = claims.iss, claims.iat, claims.exp
        if iss is None or iat is None or exp is None:
            raise DecodeError(ErrorCode.CLAIMS_INVALID, Stage.CLAIMS, "iss, iat and exp are required")
        issuer = _wire_region(iss)
        if issuer is None:  # six digits on the wire: Region() itself also reads ISO codes, which a code never holds
            raise DecodeError(ErrorCode.CLAIMS_INVALID, Stage.CLAIMS, "iss is not a six-digit region code")
        other = claims.other
        ref: StatusReference | None = None
        if len(other) != 1 or _HEALTHPASS not in other:
            unknown = set(other) - _HP1_CLAIMS
            if unknown:
                raise DecodeError(ErrorCode.CLAIMS_INVALID, Stage.CLAIMS,
                                  f"unknown claims {sorted(map(str, unknown))}")
            if _HEALTHPASS not in other:
                raise DecodeError(ErrorCode.CLAIMS_INVALID, Stage.CLAIMS, "no healthpass payload claim")
            ref = statuslist.decode_status_reference(other[_STATUS]) if _STATUS in other else None
        provenance = provenance_codec.provenance_from_cbor(other[_PROVENANCE]) if _PROVENANCE in other else None
        if provenance is not None and exp > to_numeric_date(provenance.expires_at):
            raise DecodeError(ErrorCode.CLAIMS_INVALID, Stage.CLAIMS, "a transcoded code expires after its source")
        payload = payload_from_cbor(other[_HEALTHPASS], iat=iat)
        kinds = payload.kinds()

        def scope_error(entry: IssuerKey) -> VerificationError | None:
            if entry.region is None:  # e.g. an EU signer certificate: trusted for HC1 codes, never for HP1
                return VerificationError(
                    ErrorCode.ISSUER_MISMATCH, Stage.SCOPE,
                    f"key {entry.kid.hex()} is trusted for no region, so it may not sign healthpass codes",
                )
            if not entry.region.covers(issuer):
                return VerificationError(
                    ErrorCode.ISSUER_MISMATCH, Stage.SCOPE,
                    f"key {entry.kid.hex()} may sign for region {entry.region.code}, not {issuer.code}",
                )
            if not kinds <= entry.kinds:
                outside = kinds - entry.kinds
                return VerificationError(
                    ErrorCode.USAGE_NOT_ALLOWED, Stage.SCOPE,
                    f"key {entry.kid.hex()} may not sign {', '.join(sorted(k.value for k in outside))}",
                )
            return None

        entry, issued_at, expires_at, warnings = self._govern(entries, scope_error, claims, now, iat, exp)
        self._check_transcoded(provenance)
        checked = None
        if ref is not None:
            checked, more = self._check_status(ref, issuer, now)
            warnings += more
        return VerifiedCredential(
            format=Prefix.HP1, issuer=iss, kid=entry.kid, algorithm=headers.algorithm,
            issued_at=issued_at, expires_at=expires_at, not_before=optional_numeric_date(claims.nbf),
            credential_id=claims.cti, payload=payload, warnings=warnings, key_source=entry.source,
            transcoded_from=provenance, signature=sign1.signature, credential_status=checked,
        )

    def _check_status(
        self, ref: StatusReference, issuer: Region, now: datetime
    ) -> tuple[CredentialStatus, tuple[str, ...]]:
        """The code's status in its list (see :meth:`healthpass.status.StatusLists.check`)."""
        if self._status is None:
            if self._require_status:
                raise VerificationError(ErrorCode.STATUS_UNAVAILABLE, Stage.STATUS,
                                        f"no status list {ref.uri} is held, and status is required")
            return status_model.CredentialStatus(ref.uri, ref.idx, None), (status_model.WARNING_STATUS_UNCHECKED,)
        policy = self._policy
        return self._status.check(ref, issuer=issuer, now=now, grace=policy.trust_list_grace, leeway=policy.leeway,
                                  require=self._require_status)

    def _finish_hc1(
        self,
        sign1: CoseSign1,
        headers: cose.HeaderInfo,
        entries: tuple[IssuerKey, ...],
        claims: CwtClaims,
        now: datetime,
    ) -> VerifiedCredential:
        iat, exp = claims.iat, claims.exp
        if iat is None or exp is None:  # a code without them would never expire, or never have been issued
            raise DecodeError(ErrorCode.CLAIMS_INVALID, Stage.CLAIMS, "iat and exp are required")
        dcc = eu_dcc.interpret(claims, strict_schema=self._policy.strict_schema, limits=self._policy.limits,
                               schemas=self._policy.dcc_schemas, message=sign1)
        kind = eu_dcc.KIND_OF_DCC_TYPE[dcc.dcc_type]

        def scope_error(entry: IssuerKey) -> VerificationError | None:
            if entry.region is not None:  # a key scoped to a healthpass region signs HP1 codes, not EU ones
                return VerificationError(
                    ErrorCode.ISSUER_MISMATCH, Stage.SCOPE,
                    f"key {entry.kid.hex()} is a healthpass issuer key (region {entry.region.code}), "
                    "not an EU signer: it may not sign HC1 codes",
                )
            if entry.dcc_types is not None and dcc.dcc_type not in entry.dcc_types:
                return VerificationError(
                    ErrorCode.USAGE_NOT_ALLOWED, Stage.SCOPE,
                    f"certificate {entry.kid.hex()} may not sign DCC type {dcc.dcc_type!r}",
                )
            if kind not in entry.kinds:
                return VerificationError(
                    ErrorCode.USAGE_NOT_ALLOWED, Stage.SCOPE, f"key {entry.kid.hex()} may not sign {kind.value}"
                )
            return None

        entry, issued_at, expires_at, warnings = self._govern(entries, scope_error, claims, now, iat, exp)
        self._check_transcoded(None)
        return VerifiedCredential(
            format=Prefix.HC1, issuer=claims.iss, kid=entry.kid, algorithm=headers.algorithm,
            issued_at=issued_at, expires_at=expires_at, not_before=optional_numeric_date(claims.nbf),
            credential_id=claims.cti, payload=dcc.normalised, dcc=dcc.payload,
            warnings=warnings + dcc.warnings, key_source=entry.source, signature=sign1.signature,
        )

    def _check_transcoded(self, provenance: Provenance | None) -> None:
        wanted = self._policy.transcoded
        if wanted is TranscodedPolicy.REFUSE and provenance is not None:
            raise VerificationError(ErrorCode.TRANSCODED_REFUSED, Stage.POLICY,
                                    "the code was transcoded from a foreign code, which this verifier refuses")
        if wanted is TranscodedPolicy.REQUIRE and provenance is None:
            raise VerificationError(ErrorCode.TRANSCODED_REQUIRED, Stage.POLICY,
                                    "this verifier accepts only codes transcoded from a foreign code")

    @staticmethod
    def _check_key_window(entry: IssuerKey, iat_ts: int, exp_ts: int, iat: datetime, exp: datetime) -> None:
        """The key's bounds on the code (stage validity): its usage window and retirement contain ``iat``, its
        certificate's validity contains ``iat`` and ``exp``, and the code lives no
        longer than the key's maximum validity, so a key leaked after its window closed (or after it was
        retired) mints nothing that outlives the window by more than that maximum."""
        if entry.valid_from is not None and iat < entry.valid_from:
            raise VerificationError(ErrorCode.KEY_EXPIRED, Stage.VALIDITY,
                                    f"issued before key {entry.kid.hex()}'s usage window opens")
        if entry.valid_until is not None and iat > entry.valid_until:
            raise VerificationError(ErrorCode.KEY_EXPIRED, Stage.VALIDITY,
                                    f"issued after key {entry.kid.hex()}'s usage window closed")
        if entry.retired_at is not None and iat >= entry.retired_at:  # whatever the status says
            raise VerificationError(ErrorCode.KEY_EXPIRED, Stage.VALIDITY,
                                    f"issued after key {entry.kid.hex()} was retired")
        if entry.cert_not_before is not None and iat < entry.cert_not_before:
            raise VerificationError(ErrorCode.KEY_EXPIRED, Stage.VALIDITY,
                                    f"issued before key {entry.kid.hex()}'s certificate became valid")
        if entry.cert_not_after is not None and exp > entry.cert_not_after:
            raise VerificationError(ErrorCode.KEY_EXPIRED, Stage.VALIDITY,
                                    f"expires after key {entry.kid.hex()}'s certificate")
        if entry.max_validity is not None and exp_ts - iat_ts > entry.max_validity.total_seconds():
            raise VerificationError(ErrorCode.VALIDITY_TOO_LONG, Stage.VALIDITY,
                                    f"valid for {format_duration(exp - iat)}, longer than the "
                                    f"{format_duration(entry.max_validity)} key {entry.kid.hex()} may sign for")

    def _check_validity(self, claims: CwtClaims, now: datetime, entry: IssuerKey) -> None:
        instant = now.timestamp()
        slack = self._policy.leeway.total_seconds()
        if claims.exp is not None and instant > claims.exp + slack:
            raise VerificationError(ErrorCode.EXPIRED, Stage.VALIDITY, f"expired at {_when(claims.exp)}")
        for name, value in (("nbf", claims.nbf), ("iat", claims.iat)):
            if value is not None and instant < value - slack:
                raise VerificationError(ErrorCode.NOT_YET_VALID, Stage.VALIDITY,
                                        f"{name} {_when(value)} is in the future")
        # exp is within the certificate, so this holds within the leeway only: a code is never accepted once
        # its signer's certificate has expired
        if entry.cert_not_after is not None and now > entry.cert_not_after:
            raise VerificationError(ErrorCode.KEY_EXPIRED, Stage.VALIDITY,
                                    f"key {entry.kid.hex()}'s certificate has expired")


def _rebuild(keys: tuple[IssuerKey, ...], lists: tuple[TrustList, ...], policy: VerifierPolicy,
             rules: RuleBundle | None, status_lists: Any, require_status: bool) -> Verifier:
    return Verifier(keys=keys, trust_lists=lists, policy=policy, rules=rules,
                    status_lists=() if status_lists is None else status_lists, require_status=require_status)


def _verify_chunk(context: tuple[Verifier, datetime, str | None], texts: list[str]) -> list[VerificationResult]:
    verifier, now, profile = context
    out = []
    for text in texts:
        try:
            out.append(VerificationResult(verifier.verify(text, at=now, profile=profile), None))
        except HealthPassError as err:
            out.append(VerificationResult(None, err))
    return out


def decode_unverified(text: str, *, limits: Limits | None = None) -> dict[str, Any]:
    """Deprecated alias of :func:`healthpass.unverified.decode_unverified` (every helper that decodes without
    verifying lives in :mod:`healthpass.unverified`). Warns DeprecationWarning."""
    warnings.warn("healthpass.verify.decode_unverified moved to healthpass.unverified.decode_unverified",
                  DeprecationWarning, stacklevel=2)
    return unverified.decode_unverified(text, limits=limits)
