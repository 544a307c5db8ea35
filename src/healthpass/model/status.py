"""Credential status: the values a Token Status List holds and an HP1 code's reference into a list."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import IntEnum

__all__ = [
    "WARNING_STATUS_DELTA_NOT_APPLIED",
    "WARNING_STATUS_LIST_STALE",
    "WARNING_STATUS_UNCHECKED",
    "MAX_STATUS_URI", "STATUS_BITS", "CredentialStatus", "StatusAllocator", "StatusReference", "StatusValue",
    "check_status_uri",
]

#: warnings a verification result may carry about a code's status
WARNING_STATUS_LIST_STALE = "status_list_stale"
WARNING_STATUS_UNCHECKED = "status_unchecked"
WARNING_STATUS_DELTA_NOT_APPLIED = "status_delta_not_applied"
#: the bits per entry the draft allows (§4.1)
STATUS_BITS = frozenset({1, 2, 4, 8})
#: a list URI in a code is short (e.g. ``hp:630000:3``): lists are matched by URI, never fetched by it
MAX_STATUS_URI = 64
_URI = r"\A[A-Za-z][A-Za-z0-9+.-]*:[\x21-\x7e]+\Z"  # a URI scheme, then printable ASCII without spaces


class StatusValue(IntEnum):
    """A code's status (2 bits per code). Values above 3 (4- and 8-bit lists) are not healthpass's."""

    VALID = 0
    REVOKED = 1
    SUSPENDED = 2
    #: a newer code replaced it (e.g. after a colour change)
    SUPERSEDED = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> StatusValue:
        """``valid``, ``revoked``, ``suspended`` or ``superseded``. Raises ValueError."""
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown status {text!r} (valid, revoked, suspended, superseded)") from None


def check_status_uri(uri: object) -> str:
    """``uri`` when it is a short absolute URI of printable ASCII; raises ValueError otherwise."""
    if type(uri) is not str or not 0 < len(uri) <= MAX_STATUS_URI or not re.match(_URI, uri):
        raise ValueError(f"a status list URI is printable ASCII with a scheme, at most {MAX_STATUS_URI} characters")
    return uri


@dataclass(frozen=True, slots=True)
class StatusReference:
    """Where a code's status lives: index ``idx`` of the list whose ``sub`` is ``uri`` (the draft's
    ``status_list`` reference, ``{"idx", "uri"}``)."""

    uri: str
    idx: int

    def __post_init__(self) -> None:
        check_status_uri(self.uri)
        if type(self.idx) is not int or not 0 <= self.idx < 1 << 32:
            raise ValueError("a status index is an integer in 0 .. 2**32-1")


@dataclass(frozen=True, slots=True)
class StatusAllocator:
    """Allocates entries of the status list ``uri`` to codes, many at a time (``Issuer.issue_many(status=)``):
    ``allocate`` takes the credential ids of the codes to be issued and returns one :class:`StatusReference`
    into ``uri`` for each, in the same order, e.g. ``healthpass.registry.Registry.allocator(uri)`` (one registry
    transaction per call). It is called in the issuing process only, never in a worker."""

    uri: str
    allocate: Callable[[Sequence[bytes]], Sequence[StatusReference]]

    def __post_init__(self) -> None:
        check_status_uri(self.uri)
        if not callable(self.allocate):
            raise TypeError("StatusAllocator.allocate must be callable (credential ids -> StatusReferences)")


@dataclass(frozen=True, slots=True)
class CredentialStatus:
    """The status a verifier checked for a code: its list, index and value (None: not checked)."""

    uri: str
    idx: int
    value: StatusValue | None

    def to_json(self) -> dict[str, object]:
        """``{"uri", "idx", "value"}``; ``value`` is the status name (``valid`` for an accepted code; a rejected
        code carries it beside its error) or null (not checked)."""
        return {"uri": self.uri, "idx": self.idx, "value": None if self.value is None else self.value.label}
