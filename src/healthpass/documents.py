"""Signed, sequenced, expiring documents: what trust lists, rule bundles (and the coming status lists) share.

Each kind is a :class:`DocumentKind`: its content type, the stage its errors carry, its namespace in the
state directory, the format versions a verifier reads, and which key may sign it (:class:`SignerRole`:
configured roots for trust lists and rule bundles; issuer keys a trust list allows, for status lists). This
module owns, once for every kind:

- the envelope (``codec/signed_doc.py``: ``{1: version, 2: seq, 3: issued_at, 4: not_after, 5: body}`` in a
  COSE_Sign1 naming the content type) — :func:`seal` and :func:`open_signed`;
- the format version: a verifier refuses a version it does not read (``trust_list_invalid``);
- anti-rollback: :func:`record` keeps, per kind and signer, the highest accepted ``seq`` in a
  :class:`~healthpass.state.StateStore` (a lower one, or the same one for other bytes, is
  ``trust_list_rollback``), and :func:`newest_per_signer` keeps only the newest of several documents handed
  over together;
- freshness at a verification time: :func:`freshness` / :func:`require_fresh` — issued after the
  verification time (the clock floor: ``clock_untrusted``), past not-after (stale within the grace period,
  ``trust_list_expired`` beyond it).

The kinds parse only their own bodies (``trust.py``, ``rules/bundle.py``). The clock floor of a document is
its own issue time, and it applies only to what is trusted through that document: one signer's document
dated in the future never blocks another's, and the signer's corrected document (a higher ``seq``, dated
now) lifts it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, NoReturn, TypeVar

from healthpass import cose, crypto
from healthpass._lazy import LazyModule
from healthpass.codec import decode_sign1
from healthpass.codec.signed_doc import MAX_SEQ, ContentType, encode_envelope
from healthpass.codec.trust_list import TRUST_LIST_VERSIONS
from healthpass.errors import ErrorCode, HealthPassError, Stage, TrustListError, VerificationError
from healthpass.model.cose import MAX_NUMERIC_DATE, Algorithm, HeaderLabel
from healthpass.model.policy import MAX_DOCUMENT_BYTES, Limits
from healthpass.model.time import format_iso
from healthpass.model.trust import TrustRoot

if TYPE_CHECKING:  # annotations only: a verifier never loads them
    import hashlib

    from healthpass.model.signer import Signer
    from healthpass.state import StateStore
else:  # hashlib for the anti-rollback digest only: it loads OpenSSL (gain: benchmarks/README.md, start-up)
    hashlib = LazyModule("hashlib")

__all__ = [
    "KINDS",
    "RULE_BUNDLE",
    "STATUS_LIST",
    "TRUST_LIST",
    "DocumentKind",
    "Freshness",
    "SignerRole",
    "digest",
    "freshness",
    "freshness_error",
    "invalid",
    "newest_per_signer",
    "open_signed",
    "record",
    "refuse_subclass",
    "require_fresh",
    "require_loaded",
    "seal",
]

D = TypeVar("D")


class SignerRole(enum.Enum):
    """Which key may sign a kind of document."""

    #: a root key the verifier is configured with (trust lists, rule bundles)
    ROOT = "root"
    #: an issuer key that a trust list allows to sign this kind (status lists)
    ISSUER_KEY = "issuer_key"


@dataclass(frozen=True, slots=True)
class DocumentKind:
    """One kind of signed document and what sets it apart from the others."""

    #: how messages name it ("trust list")
    name: str
    content_type: ContentType
    #: the stage of every error about it
    stage: Stage
    #: its namespace in the state directory, followed by the signer's kid in hex
    state_prefix: str
    #: the format versions a verifier reads
    versions: frozenset[int]
    signed_by: SignerRole

    def namespace(self, signer_kid: bytes) -> str:
        """The state-directory namespace of this kind's documents from the signer with ``signer_kid``."""
        return f"{self.state_prefix}{signer_kid.hex()}"

    def __repr__(self) -> str:
        return f"DocumentKind({self.name})"


TRUST_LIST = DocumentKind("trust list", ContentType.TRUST_LIST, Stage.TRUST_LIST, "trust-list-",
                          TRUST_LIST_VERSIONS, SignerRole.ROOT)
RULE_BUNDLE = DocumentKind("rule bundle", ContentType.RULE_BUNDLE, Stage.RULES, "rules-", frozenset({1}),
                           SignerRole.ROOT)
#: Status lists (``healthpass.status``): the draft's CWT, not this envelope, signed by issuer keys a trust list
#: allows the kind ``status_list``; rollback (per list URI, by iat) and freshness come from this module.
STATUS_LIST = DocumentKind("status list", ContentType.STATUS_LIST, Stage.STATUS, "status-list-", frozenset({1}),
                           SignerRole.ISSUER_KEY)
#: Every kind sealed in this module's envelope (status lists have their own wire form).
KINDS = (TRUST_LIST, RULE_BUNDLE)


class _LoadToken:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<handed out by load() after the signature check>"


#: Passed by each kind's ``load`` (after the signature check) to its constructor; not part of the public API:
#: a verified document built any other way raises TypeError (:func:`require_loaded`).
LOAD_TOKEN = _LoadToken()


def require_loaded(proof: object, what: str, *, by: str | None = None) -> None:
    """Raise TypeError unless ``proof`` is :data:`LOAD_TOKEN`: verified documents (and their parts) are built
    only by ``load`` (``by``: the loader's name, ``<what>.load`` by default)."""
    if proof is not LOAD_TOKEN:
        raise TypeError(f"{what} values are built only by {by or what + '.load'}, which checks the signature "
                        "(healthpass.unverified decodes without checking, into plain records)")


def refuse_subclass(cls: type) -> NoReturn:
    """Raise TypeError: verified documents are final (a subclass could skip the proof of load in its own
    ``__post_init__`` or ``__init__`` and still pass every ``isinstance`` check of the verifying APIs). Called
    from their ``__init_subclass__``."""
    raise TypeError(f"{cls.__mro__[1].__name__} cannot be subclassed: verified values are built only by its "
                    "load, which checks the signature")


def invalid(kind: DocumentKind, message: str) -> TrustListError:
    """``trust_list_invalid`` at the kind's stage: the document is never used, in part or whole."""
    return TrustListError(ErrorCode.TRUST_LIST_INVALID, kind.stage, message)


# -- publishing and opening ---------------------------------------------------------------------------------


def seal(
    signer: Signer, kind: DocumentKind, *, seq: int, issued_at: int, not_after: int, body: object,
    version: int = 1,
) -> bytes:
    """Sign a document of ``kind``: the envelope around ``body`` (already in the kind's wire form), in a
    tagged COSE_Sign1 whose protected header names the kind's content type. ``issued_at`` and ``not_after``
    are NumericDates. Raises ValueError for a ``seq``, times or ``version`` a verifier would refuse."""
    if type(seq) is not int or not 0 <= seq <= MAX_SEQ:
        raise ValueError("seq must be a non-negative integer")
    if version not in kind.versions:
        raise ValueError(f"a {kind.name} has format version {sorted(kind.versions)}, not {version}")
    if not 0 <= issued_at < not_after <= MAX_NUMERIC_DATE:
        raise ValueError("issued_at and not_after must be ordered NumericDates before 2100")
    payload = encode_envelope(seq, issued_at, not_after, body, version=version)
    return cose.seal_document(signer, kind.content_type.value, payload)


def open_signed(
    data: bytes, roots: Sequence[TrustRoot], kind: DocumentKind, *, limits: Limits
) -> tuple[TrustRoot, bytes]:
    """Verify a document of ``kind`` against configured roots; return the root that signed it and the payload
    (the envelope, still to be decoded by the kind).

    Any defect (larger than :data:`~healthpass.model.policy.MAX_DOCUMENT_BYTES`, undecodable, another content
    type, unknown root, bad signature) raises
    TrustListError(``trust_list_invalid``) at the kind's stage: such a document is never used, in part or
    whole. Raises TypeError for roots that are not :class:`TrustRoot` values, ValueError for a kind not
    signed by roots.
    """
    if kind.signed_by is not SignerRole.ROOT:
        raise ValueError(f"a {kind.name} is not signed by a root")
    roots = tuple(roots)
    if not all(isinstance(root, TrustRoot) for root in roots):
        raise TypeError("roots must be TrustRoot values (healthpass.trust_root)")
    if len(data) > MAX_DOCUMENT_BYTES:
        raise invalid(kind, f"larger than {MAX_DOCUMENT_BYTES} bytes")
    try:
        msg = decode_sign1(data, limits=limits, strict=True)
        headers = cose.read_headers(msg, allowed=frozenset(Algorithm), kid_protected=True)
    except HealthPassError as err:
        raise invalid(kind, f"not a signed document: {err.message}") from err
    if msg.protected_header.get(HeaderLabel.CONTENT_TYPE) != kind.content_type.value:
        raise invalid(kind, f"content type is not {kind.content_type.value}")
    matching = [root for root in roots if root.kid == headers.kid]
    if not matching:
        raise invalid(kind, f"signed by kid {headers.kid.hex()}, which is not a configured root")
    try:
        root = cose.verify_with(msg, headers.algorithm,
                                ((r, crypto.load_public_key(r.key_der)[0]) for r in matching), require_low_s=True)
    except VerificationError as err:
        raise invalid(kind, f"signature check failed: {err.message}") from err
    return root, msg.payload


# -- anti-rollback --------------------------------------------------------------------------------------------


def digest(data: bytes) -> str:
    """The SHA-256 of a document as received (hex), as the state directory records it."""
    return hashlib.sha256(data).hexdigest()


def record(state: StateStore, kind: DocumentKind, signer_kid: bytes, *, seq: int, issued_at: int,
           data: bytes) -> None:
    """Record an accepted document in ``state`` unless it rolls back.

    Raises TrustListError at the kind's stage: ``trust_list_rollback`` when a higher ``seq`` was accepted
    from this signer, or the same ``seq`` for other bytes; ``trust_list_invalid`` when the state cannot be
    read or written (fail closed).
    """
    state.accept(kind.namespace(signer_kid), seq, issued_at, digest(data), stage=kind.stage)


def newest_per_signer(
    kind: DocumentKind,
    documents: Iterable[D],
    *,
    signer: Callable[[D], bytes],
    seq: Callable[[D], int],
    content: Callable[[D], bytes],
) -> tuple[D, ...]:
    """Of ``documents`` (of one kind), per signer (``signer`` gives its key bytes) only the newest (highest
    ``seq``), in the order given: an older document handed over beside a newer one is never consulted.

    Raises TrustListError (``trust_list_rollback``) for two documents with the same ``seq`` from one signer
    whose ``content`` differs (the signer equivocates: neither is used).
    """
    items = tuple(documents)
    newest: dict[bytes, D] = {}
    for item in items:
        key = signer(item)
        current = newest.get(key)
        if current is None or seq(item) > seq(current):
            newest[key] = item
        elif seq(item) == seq(current) and content(item) != content(current):
            raise TrustListError(ErrorCode.TRUST_LIST_ROLLBACK, kind.stage,
                                 f"two different {kind.name}s with sequence number {seq(item)} from one signer")
    kept = {id(item) for item in newest.values()}
    out = []
    for item in items:
        if id(item) in kept:
            kept.discard(id(item))
            out.append(item)
    return tuple(out)


# -- freshness ------------------------------------------------------------------------------------------------


class Freshness(enum.Enum):
    """A document at a verification time."""

    CURRENT = "current"
    #: past its not-after, within the grace period: still used, with a warning
    STALE = "stale"
    #: past its not-after and the grace period: ``trust_list_expired``
    EXPIRED = "expired"
    #: issued after the verification time: the clock is wrong (``clock_untrusted``)
    CLOCK_BEHIND = "clock_behind"


def freshness(*, issued_at: datetime | None, not_after: datetime, now: datetime, grace: timedelta) -> Freshness:
    """Where ``now`` lies against a document's issue time (the clock floor; None: none) and its not-after
    (plus ``grace``)."""
    if issued_at is not None and now < issued_at:
        return Freshness.CLOCK_BEHIND
    if now <= not_after:
        return Freshness.CURRENT
    return Freshness.STALE if now <= not_after + grace else Freshness.EXPIRED


def freshness_error(kind: DocumentKind, result: Freshness, *, subject: str, issued_at: datetime | None,
                    not_after: datetime, now: datetime, grace: timedelta) -> TrustListError:
    """The error for a document that may not be used (``result`` EXPIRED or CLOCK_BEHIND); ``subject`` names
    it in the message ("the trust list holding kid ...")."""
    if result is Freshness.CLOCK_BEHIND and issued_at is not None:
        return TrustListError(
            ErrorCode.CLOCK_UNTRUSTED, kind.stage,
            f"verification time {format_iso(now)} precedes the issue time of {subject} "
            f"({format_iso(issued_at)}): the device clock is not trustworthy",
        )
    if result is Freshness.EXPIRED:
        beyond = f", more than {grace} ago" if grace else ""
        return TrustListError(ErrorCode.TRUST_LIST_EXPIRED, kind.stage,
                              f"{subject} expired at {format_iso(not_after)}{beyond}")
    raise ValueError(f"{result} is usable")


def require_fresh(kind: DocumentKind, *, subject: str, issued_at: datetime, not_after: datetime, now: datetime,
                  grace: timedelta = timedelta(0)) -> bool:
    """Whether the document is stale (usable, with a warning); raises TrustListError ``clock_untrusted`` or
    ``trust_list_expired`` (see :func:`freshness_error`) when it may not be used at ``now``."""
    result = freshness(issued_at=issued_at, not_after=not_after, now=now, grace=grace)
    if result is Freshness.CURRENT or result is Freshness.STALE:
        return result is Freshness.STALE
    raise freshness_error(kind, result, subject=subject, issued_at=issued_at, not_after=not_after, now=now,
                          grace=grace)

