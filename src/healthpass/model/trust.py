"""Trust entries: which key may sign what, for which region, when."""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass
from datetime import UTC, datetime, timedelta
from enum import IntEnum

from healthpass.model.credential import Kind
from healthpass.model.regions import Region, as_region, as_regions
from healthpass.model.time import aware

__all__ = ["ALL_KINDS", "DEFAULT_MAX_VALIDITY", "MAX_VALIDITY_CEILING", "IssuerKey", "KeyStatus", "TrustRoot"]

ALL_KINDS = frozenset(Kind)
#: The longest a code may live (``exp - iat``) when its key does not say otherwise: every key trusted
#: directly and every trust-list entry without the field (``specs/trust-list.md`` R8).
DEFAULT_MAX_VALIDITY = timedelta(days=30)
#: The largest maximum a key may carry (ten years): anything longer is a typo.
MAX_VALIDITY_CEILING = timedelta(days=3660)
_TIME_FIELDS = ("valid_from", "valid_until", "retired_at", "cert_not_before", "cert_not_after", "list_not_after",
                "list_issued_at")


class KeyStatus(IntEnum):
    ACTIVE = 1
    #: still verifies codes issued before ``retired_at``; nothing issued later
    RETIRED = 2


_TIME_FIELDS = ("valid_from", "valid_until", "retired_at", "cert_not_before", "cert_not_after", "list_not_after",
                "list_issued_at")


@dataclass(frozen=True, slots=True, repr=False)  # __repr__ below
class IssuerKey:
    """A trusted signing key and its scope.

    ``key_der`` is SPKI DER, or an X.509 certificate's DER when ``is_certificate``; ``kid`` is computed over
    it. ``region`` None means any region (foreign keys such as EU DSCs, whose ``iss`` is informational).
    ``cert_not_before``/``cert_not_after`` bound the validity of any code it signs (a code must not outlive
    the key's certificate); ``valid_from``/``valid_until`` is the usage window for the issue time.
    ``dcc_types`` restricts EU DCC types (``v``, ``t``, ``r``) from extended-key-usage OIDs; None = any.
    ``max_validity`` bounds the lifetime (``exp - iat``) of every code the key signs, whole seconds, positive,
    at most :data:`MAX_VALIDITY_CEILING`; None (no maximum beyond the certificate's notAfter) only for an EU
    signer certificate (a certificate with no region: it signs ``HC1`` codes only).
    ``retired_at`` is set exactly when ``status`` is retired.
    ``source`` says where the key came from, for messages (``trust-key``, ``trust-list:<seq>``, ``dsc``).
    Every time is a timezone-aware datetime, stored in UTC (a naive one raises ValueError, anything else
    TypeError).
    """

    kid: bytes
    key_der: bytes
    _: KW_ONLY  # every option is keyword-only
    is_certificate: bool = False
    region: Region | None = None
    kinds: frozenset[Kind] = ALL_KINDS
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    status: KeyStatus = KeyStatus.ACTIVE
    retired_at: datetime | None = None
    cert_not_before: datetime | None = None
    cert_not_after: datetime | None = None
    dcc_types: frozenset[str] | None = None
    source: str = "trust-key"
    max_validity: timedelta | None = DEFAULT_MAX_VALIDITY
    #: set on keys that came from a trust list: the list's freshness bound (``trust_list_stale`` /
    #: ``trust_list_expired`` are judged against it at verification time)
    list_not_after: datetime | None = None
    #: set on keys that came from a trust list: the list's issue time, the clock floor of the codes trusted
    #: through it (a verification time before it is ``clock_untrusted``)
    list_issued_at: datetime | None = None

    def __post_init__(self) -> None:
        if type(self.kid) is not bytes or not self.kid:
            raise ValueError("IssuerKey.kid must be non-empty bytes")
        if self.region is not None and type(self.region) is not Region:
            object.__setattr__(self, "region", as_region(self.region, "IssuerKey.region"))
        for name in _TIME_FIELDS:  # aware, in UTC: a naive window would compare with no zone at all
            value = getattr(self, name)
            if value is not None and not (type(value) is datetime and value.tzinfo is UTC):
                object.__setattr__(self, name, aware(value, f"IssuerKey.{name}"))
        if self.status is KeyStatus.RETIRED and self.retired_at is None:
            raise ValueError("a retired key needs retired_at")
        if self.retired_at is not None and self.status is not KeyStatus.RETIRED:
            raise ValueError("retired_at is set but the status is not retired (a retirement date needs status "
                             "retired)")
        if self.max_validity is None:
            if not self.is_certificate or self.region is not None:
                raise ValueError("max_validity None: only an EU signer certificate (a certificate with no "
                                 "region) may go without a maximum code validity")
        elif (not isinstance(self.max_validity, timedelta) or self.max_validity <= timedelta(0)
              or self.max_validity > MAX_VALIDITY_CEILING or self.max_validity.microseconds):
            raise ValueError(f"max_validity must be whole seconds, positive and at most "
                             f"{MAX_VALIDITY_CEILING.days} days")
        for name in _TIME_FIELDS:  # compared with code times at verification: a naive one would fail there
            value = getattr(self, name)
            if value is not None:
                if not isinstance(value, datetime):
                    raise TypeError(f"IssuerKey.{name} must be a datetime")
                if value.tzinfo is None:
                    raise ValueError(f"IssuerKey.{name} must be timezone-aware")
        if self.valid_from and self.valid_until and self.valid_from > self.valid_until:
            raise ValueError("IssuerKey usage window ends before it starts")

    def __repr__(self) -> str:
        region = self.region.code if self.region else "*"
        return f"IssuerKey(kid={self.kid.hex()}, region={region}, source={self.source})"


@dataclass(frozen=True, slots=True, repr=False)  # __repr__ below
class TrustRoot:
    """A root key a verifier is configured with, and the regions it may vouch for (None: any)."""

    kid: bytes
    key_der: bytes
    regions: frozenset[Region] | None = None

    def __post_init__(self) -> None:
        if self.regions is not None and not (type(self.regions) is frozenset
                                             and all(type(r) is Region for r in self.regions)):
            object.__setattr__(self, "regions", as_regions(self.regions, "TrustRoot.regions"))

    def vouches_for(self, region: Region | str | None) -> bool:
        """Whether this root may vouch for keys of ``region`` (a Region or a code string; None: any region)."""
        if self.regions is None:
            return True
        if region is None:
            return False
        return any(scope.covers(region) for scope in self.regions)

    def __repr__(self) -> str:
        scope = ",".join(sorted(r.code for r in self.regions)) if self.regions is not None else "*"
        return f"TrustRoot(kid={self.kid.hex()}, regions={scope})"
