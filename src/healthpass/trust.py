"""Trusted keys: loading them, indexing them by kid, and the signed trust list that distributes them."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import InitVar, dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from healthpass import crypto
from healthpass._lazy import LazyModule
from healthpass.codec.cbor import encode
from healthpass.errors import DecodeError, ErrorCode, Stage, TrustListError, VerificationError
from healthpass.model.cose import MAX_NUMERIC_DATE, Algorithm
from healthpass.model.credential import Kind
from healthpass.model.jsonform import parse_duration
from healthpass.model.policy import MAX_DOCUMENT_BYTES, Limits
from healthpass.model.regions import Region, as_region, as_regions
from healthpass.model.time import from_numeric_date, parse_iso, to_numeric_date
from healthpass.model.trust import (
    ALL_KINDS,
    DEFAULT_MAX_VALIDITY,
    MAX_VALIDITY_CEILING,
    IssuerKey,
    KeyStatus,
    TrustRoot,
)

if TYPE_CHECKING:  # Path, Signer, StateStore for annotations only: a verifier never loads them
    from pathlib import Path

    from healthpass import documents
    from healthpass.codec import signed_doc
    from healthpass.codec import trust_list as trust_list_codec
    from healthpass.codec.trust_list import KeyEntryKey
    from healthpass.model.signer import Signer
    from healthpass.state import StateStore
else:  # gain: with verify.py's, ~4 ms of a one-code verify's start-up: keys given directly need no document layer
    documents = LazyModule("healthpass.documents")
    signed_doc = LazyModule("healthpass.codec.signed_doc")
    trust_list_codec = LazyModule("healthpass.codec.trust_list")

__all__ = [
    "DCC_KEY_USAGE",
    "MAX_DOCUMENT_BYTES",
    "KeyRing",
    "TrustList",
    "TrustListKeys",
    "issuer_key",
    "keys_from_manifest",
    "newest_per_root",
    "trust_root",
]

_DCC_OID_ROOTS = ("1.3.6.1.4.1.1847.2021.1.", "1.3.6.1.4.1.0.1847.2021.1.")
#: Extended-key-usage OID suffix -> EU DCC type it allows (test, vaccination, recovery).
DCC_KEY_USAGE = (("1", "t"), ("2", "v"), ("3", "r"))


def _dcc_types(usages: frozenset[str]) -> frozenset[str] | None:
    """EU DCC types allowed by a certificate's extended key usages; None when it names no DCC OID."""
    allowed = {kind for root in _DCC_OID_ROOTS for suffix, kind in DCC_KEY_USAGE if root + suffix in usages}
    return frozenset(allowed) if allowed else None


def _load_issuer_key(
    data: bytes, *, region: Region | None, kinds: frozenset[Kind], source: str,
    max_validity: timedelta | None = None,
) -> tuple[IssuerKey, crypto.PublicKey]:
    key, der, cert = crypto.load_public_key(data)
    if cert is None:
        return IssuerKey(kid=crypto.kid_for(der), key_der=der, region=region, kinds=kinds, source=source,
                         max_validity=DEFAULT_MAX_VALIDITY if max_validity is None else max_validity), key
    if max_validity is None and region is not None:  # a healthpass key: only an EU signer goes without
        max_validity = DEFAULT_MAX_VALIDITY
    return IssuerKey(
        kid=crypto.kid_for(cert.der),
        key_der=cert.der,
        is_certificate=True,
        region=region,
        kinds=kinds,
        cert_not_before=cert.not_before,
        cert_not_after=cert.not_after,
        dcc_types=_dcc_types(cert.extended_key_usages),
        source=source,
        max_validity=max_validity,
    ), key


def _require_usable(key: crypto.PublicKey) -> None:
    """An SM2 key given where its backend is unavailable fails at once (``algorithm_unsupported``, naming the
    extra). Keys inside trust lists do not: the list's other keys stay usable, codes naming an SM2 key fail."""
    missing = crypto.key_unavailable(key)
    if missing is not None:
        raise VerificationError(ErrorCode.ALGORITHM_UNSUPPORTED, Stage.KEY, missing)


def issuer_key(
    data: bytes,
    *,
    region: Region | str | None = None,
    kinds: frozenset[Kind] = ALL_KINDS,
    source: str = "trust-key",
    max_validity: timedelta | None = None,
) -> IssuerKey:
    """An :class:`IssuerKey` from a public key (SPKI PEM/DER) or a certificate (PEM, DER, base64 DER).

    ``region`` is a :class:`Region` or a code string (``"630000"``, ``"CN-QH"``). For a certificate the kid is
    computed over the certificate DER (the EU rule), its validity bounds the codes it may sign, and its DCC
    extended key usages restrict the EU DCC types. ``max_validity`` bounds the lifetime (``exp - iat``) of
    the codes the key signs; None means the documented default:
    :data:`~healthpass.model.trust.DEFAULT_MAX_VALIDITY` (30 days), except for an EU signer certificate (a
    certificate given without a region), whose codes the certificate's notAfter bounds, as EU verifiers do.
    Raises ValueError for data holding no usable public key (saying so when it is a private key), a string
    that is no region code or a ``max_validity`` out of range; TypeError for a ``region`` of another type;
    VerificationError (``algorithm_unsupported``) for an SM2 key where the ``healthpass[sm]`` backend is
    unavailable.
    """
    scope = None if region is None else as_region(region, "region")
    entry, key = _load_issuer_key(data, region=scope, kinds=kinds, source=source, max_validity=max_validity)
    _require_usable(key)
    return entry


class KeyRing:
    """An immutable pool of trusted keys indexed by kid (O(1) lookup): keys trusted directly, and the keys of
    trust lists, whose entries are decoded and checked on the first lookup of their kid (see
    :class:`TrustListKeys`). Public keys are parsed once, on first use. Thread-safe.

    Several keys may share a kid (a key trusted directly and listed, or listed by two lists): all are kept
    and all are tried, the directly trusted ones first, then each list's in the order the lists were given.
    """

    __slots__ = ("_by_kid", "_direct", "_lists", "_merged", "_parsed")

    def __init__(self, keys: Iterable[IssuerKey] = (), *, trust_lists: Iterable[TrustList] = ()) -> None:
        direct = tuple(keys)
        by_kid: dict[bytes, tuple[IssuerKey, ...]] = {}
        for key in direct:
            if not isinstance(key, IssuerKey):
                raise TypeError("KeyRing holds IssuerKey values")
            by_kid[key.kid] = (*by_kid.get(key.kid, ()), key)
        lists = newest_per_root(trust_lists)
        self._direct = direct
        self._by_kid = by_kid
        self._lists = lists
        #: kid -> every entry for it, directly trusted and listed: filled on the first lookup of a kid that
        #: exists (so it holds at most one item per listed key, whatever kids a caller asks for)
        self._merged: dict[bytes, tuple[IssuerKey, ...]] = {}
        #: id(entry) -> (entry, parsed key) for the entries the ring holds; the entry tells a reused id apart
        self._parsed: dict[int, tuple[IssuerKey, crypto.PublicKey]] = {}

    @property
    def direct_keys(self) -> tuple[IssuerKey, ...]:
        """The keys given directly (not from a trust list), in the order given."""
        return self._direct

    @property
    def trust_lists(self) -> tuple[TrustList, ...]:
        """The trust lists whose keys the ring holds (the newest of each root), in the order given."""
        return self._lists

    def __len__(self) -> int:
        return len(self._direct) + sum(len(tl.keys) for tl in self._lists)

    def __iter__(self) -> Iterator[IssuerKey]:
        """Every key: the direct ones, then each list's (decoding every entry not decoded yet; raises
        TrustListError (``trust_list_invalid``) at a malformed entry)."""
        yield from self._direct
        for tl in self._lists:
            yield from tl.keys

    def __contains__(self, kid: object) -> bool:
        return kid in self._by_kid or any(kid in tl.keys for tl in self._lists)

    def entries(self, kid: bytes) -> tuple[IssuerKey, ...]:
        """The keys sharing ``kid`` (empty when none).

        A malformed entry for ``kid`` in a trust list is never used, and it never blocks the keys other roots
        (or the caller, directly) trust under the same kid: a partner root listing someone else's kid out of
        its scope, or garbage under it, must not stop that key's codes. Raises TrustListError
        (``trust_list_invalid``, stage ``trust_list``) when the only entries for ``kid`` are malformed.
        """
        if not self._lists:
            return self._by_kid.get(kid, ())
        found = self._merged.get(kid)
        if found is not None:
            return found
        merged = list(self._by_kid.get(kid, ()))
        malformed: TrustListError | None = None
        for tl in self._lists:
            try:
                hit = tl.keys.resolve(kid)
            except TrustListError as err:
                malformed = malformed or err
                continue
            if hit is not None:
                entry, key = hit
                self._parsed.setdefault(id(entry), (entry, key))
                merged.append(entry)
        if not merged:
            if malformed is not None:
                raise malformed
            return ()
        return self._merged.setdefault(kid, tuple(merged))

    def public_key(self, entry: IssuerKey) -> crypto.PublicKey:
        """The parsed public key of an entry, parsed on first use and cached.

        Raises TrustListError (``trust_list_invalid``) when the key material does not parse, is not of the
        kind the entry says (SPKI or certificate), or is not the key its kid names: every code naming that
        kid is then rejected. (A trust list's entries are checked, and their keys parsed, on first lookup.)
        """
        cached = self._parsed.get(id(entry))
        if cached is not None and cached[0] is entry:
            return cached[1]
        for tl in self._lists:  # an entry of a list: parsed with the entry, cached by the list
            try:
                hit = tl.keys.resolve(entry.kid) if entry.kid in tl.keys else None
            except TrustListError:  # another list's malformed entry under this kid: not this entry
                continue
            if hit is not None and hit[0] is entry:
                return hit[1]
        key = _parse_entry(entry)
        if any(e is entry for e in self._by_kid.get(entry.kid, ())):  # cache only what the ring keeps alive
            self._parsed[id(entry)] = (entry, key)
        return key

    def __reduce__(self) -> tuple[object, ...]:
        return (_ring, (self._direct, self._lists))  # parsed keys do not pickle; they are parsed again

    def __repr__(self) -> str:
        return f"KeyRing({len(self)} keys)"


def _ring(keys: tuple[IssuerKey, ...], lists: tuple[TrustList, ...]) -> KeyRing:
    return KeyRing(keys, trust_lists=lists)


def newest_per_root(trust_lists: Iterable[TrustList]) -> tuple[TrustList, ...]:
    """Of the lists given, per root only the newest (highest ``seq``), in the order given: an older list
    handed over beside a newer one from the same root is never consulted, so a key the newer list dropped
    (the emergency stop) stays dropped whatever a verifier is handed (``specs/trust-list.md`` R9).

    Raises TypeError for anything but TrustList values, and TrustListError (``trust_list_rollback``) for two
    different lists with the same ``seq`` from one root (the root equivocates: neither is used).
    """
    lists = tuple(trust_lists)
    if not all(isinstance(tl, TrustList) for tl in lists):
        raise TypeError("trust lists must be TrustList values (from TrustList.load)")
    if not lists:  # keys given directly: the document layer is not loaded (start-up)
        return ()
    return documents.newest_per_signer(documents.TRUST_LIST, lists, signer=lambda tl: tl.root.key_der,
                                       seq=lambda tl: tl.seq, content=lambda tl: tl.keys.document)


def _parse_entry(entry: IssuerKey) -> crypto.PublicKey:
    def bad(message: str) -> TrustListError:
        return TrustListError(ErrorCode.TRUST_LIST_INVALID, Stage.TRUST_LIST,
                              f"key {entry.kid.hex()} ({entry.source}): {message}")

    try:
        key, der, cert = crypto.load_public_key(entry.key_der)
    except ValueError as err:
        raise bad("key material does not parse") from err
    if entry.list_not_after is not None:  # from a trust list
        if (cert is not None) != entry.is_certificate:
            raise bad("SPKI and certificate fields are swapped")
        if crypto.kid_for(der) != entry.kid:
            raise bad("kid does not match its key")
    return key


def trust_root(data: bytes, *, regions: Iterable[Region | str] | None = None) -> TrustRoot:
    """A :class:`TrustRoot` from a root public key (SPKI PEM/DER or certificate), optionally scoped to
    ``regions`` (:class:`Region` values or code strings; a bare string is refused, give a list).

    Raises ValueError for data holding no usable public key or a string that is no region code; TypeError
    for ``regions`` of another type; VerificationError (``algorithm_unsupported``) for an SM2 root where the
    ``healthpass[sm]`` backend is unavailable."""
    scope = None if regions is None else as_regions(regions, "regions")
    key, der, _ = crypto.load_public_key(data)
    _require_usable(key)
    return TrustRoot(kid=crypto.kid_for(der), key_der=der, regions=scope)




def _encode_key(key: IssuerKey) -> bytes:
    """A key's entry (its kid is its key in the body map, not a field)."""
    entry_key = trust_list_codec.KeyEntryKey
    if key.region is None:
        raise ValueError("every trust-list key needs a region")
    entry: dict[int, Any] = {
        (entry_key.CERTIFICATE if key.is_certificate else entry_key.SPKI).value: key.key_der,
        entry_key.REGION.value: int(key.region),
        entry_key.KINDS.value: sorted(trust_list_codec.CODE_BY_KIND[k] for k in key.kinds),
        entry_key.STATUS.value: int(key.status),
    }
    if key.valid_from is not None:
        entry[entry_key.VALID_FROM.value] = to_numeric_date(key.valid_from)
    if key.valid_until is not None:
        entry[entry_key.VALID_UNTIL.value] = to_numeric_date(key.valid_until)
    if key.retired_at is not None:
        entry[entry_key.RETIRED_AT.value] = to_numeric_date(key.retired_at)
    if key.max_validity != DEFAULT_MAX_VALIDITY:  # the default is left out: lists stay as they were
        if key.max_validity is None:
            raise ValueError("every trust-list key needs a maximum code validity")
        entry[entry_key.MAX_VALIDITY.value] = int(key.max_validity.total_seconds())
    return encode(entry)


def _decode_key(
    kid: bytes, data: bytes, *, seq: int, issued_at: datetime, not_after: datetime, root: TrustRoot | None,
    limits: Limits, version: int,
) -> tuple[IssuerKey, crypto.PublicKey]:
    """One entry of a trust list, fully checked (rule L4): the key and its parsed public key.

    Raises TrustListError (``trust_list_invalid``) naming the kid. ``root`` None: the region scope (L3) is
    not checked (an unverified inspection).
    """
    entry_key = trust_list_codec.KeyEntryKey

    def bad(message: str) -> TrustListError:
        return TrustListError(ErrorCode.TRUST_LIST_INVALID, Stage.TRUST_LIST, f"key {kid.hex()}: {message}")

    try:
        raw = trust_list_codec.decode_key_entry(data, limits=limits, stage=Stage.TRUST_LIST,
                                                code=ErrorCode.TRUST_LIST_INVALID, version=version)
    except DecodeError as err:
        raise bad(err.message) from err
    spki, cert = raw.get(entry_key.SPKI), raw.get(entry_key.CERTIFICATE)
    if (spki is None) == (cert is None):
        raise bad("needs exactly one of SPKI and certificate")
    der = spki if spki is not None else cert
    if type(der) is not bytes:
        raise bad("key material must be bytes")
    try:
        region = Region.from_int(raw.get(entry_key.REGION))  # type: ignore[arg-type]
        kinds_raw = raw.get(entry_key.KINDS)
        if type(kinds_raw) is not list or not kinds_raw:
            raise ValueError("kinds must be a non-empty array")
        if not all(type(c) is int and c in trust_list_codec.KIND_CODES_BY_VERSION[version] for c in kinds_raw):
            raise ValueError(f"a kind code that format version {version} does not have")
        if not all(c in trust_list_codec.KIND_BY_CODE for c in kinds_raw):
            raise ValueError("kinds must be kind codes (1-6)")
        if kinds_raw != sorted(set(kinds_raw)):
            raise ValueError("kinds must be in increasing order, each once")
        kinds = frozenset(trust_list_codec.KIND_BY_CODE[c] for c in kinds_raw)
        status_raw = raw.get(entry_key.STATUS)
        if type(status_raw) is not int:
            raise ValueError("status must be an integer")
        status = KeyStatus(status_raw)

        def when(field: KeyEntryKey) -> datetime | None:
            value = raw.get(field)
            if value is None:
                return None
            if type(value) is not int or not 0 <= value <= MAX_NUMERIC_DATE:
                raise ValueError(f"{field.name.lower()} must be a NumericDate before 2100")
            return from_numeric_date(value)

        max_validity = raw.get(entry_key.MAX_VALIDITY, int(DEFAULT_MAX_VALIDITY.total_seconds()))
        if type(max_validity) is not int or not 0 < max_validity <= MAX_VALIDITY_CEILING.total_seconds():
            raise ValueError(f"max_validity must be a positive number of seconds, at most "
                             f"{MAX_VALIDITY_CEILING.days} days")
        scope: dict[str, Any] = {
            "region": region, "kinds": kinds, "status": status, "valid_from": when(entry_key.VALID_FROM),
            "valid_until": when(entry_key.VALID_UNTIL), "retired_at": when(entry_key.RETIRED_AT),
            "source": f"trust-list:{seq}", "list_not_after": not_after, "list_issued_at": issued_at,
            "max_validity": timedelta(seconds=max_validity),
        }
    except (ValueError, KeyError, TypeError) as err:
        raise bad(str(err) if isinstance(err, ValueError) else "invalid field") from None
    if root is not None and not root.vouches_for(region):
        raise bad(f"region {region.code} is outside the scope of root {root.kid.hex()}")
    # The key material is parsed now (it is needed to verify anything): it must be exactly the DER the
    # field names (SPKI, or an X.509 certificate), and the kid the SHA-256 of it, truncated.
    try:
        parsed, public = _load_issuer_key(der, region=None, kinds=ALL_KINDS, source="")
    except ValueError as err:
        raise bad("key material does not parse") from err
    if parsed.is_certificate != (cert is not None):
        raise bad("SPKI and certificate fields are swapped")
    if parsed.key_der != der:
        raise bad("key material is not in DER")
    if parsed.kid != kid:
        raise bad(f"kid does not match its key ({parsed.kid.hex()})")
    sm2_min = trust_list_codec.SM2_MIN_VERSION
    if version < sm2_min and crypto.key_algorithm(public) is Algorithm.SM2:
        raise bad(f"SM2 key material needs format version {sm2_min} (the list is version {version})")
    try:
        return dataclasses.replace(parsed, **scope), public
    except ValueError as err:  # IssuerKey's own invariants (window order, retired_at exactly when retired)
        raise bad(str(err)) from None


_LIST_LIMITS = Limits(max_decompressed=1 << 26, max_items=1 << 22, max_string=1 << 16)


class TrustListKeys:
    """The issuer keys of a loaded trust list by kid: O(1) lookup, each entry checked on first use.

    Built by :meth:`TrustList.load`, which verifies the list's signature and envelope and indexes its kids:
    each kid with the offset of its entry in the document received (kept, not copied). An entry is decoded
    and fully checked (rules L3-L4 of ``specs/trust-list.md``) the first time its kid is looked up, then
    cached with its parsed public key.
    A malformed entry raises TrustListError (``trust_list_invalid``) at every lookup of its kid and is never
    used; the others keep working. Iterating, or :meth:`check_all`, checks every entry.

    Thread-safe without locks: two threads looking up the same new kid may both decode it; one result is
    kept (``dict.setdefault``) and both get that one.
    """

    __slots__ = ("_cache", "_data", "_issued_at", "_limits", "_not_after", "_offsets", "_root", "_seq", "_version")

    def __init__(
        self,
        data: bytes,
        offsets: dict[bytes, int],
        *,
        seq: int,
        issued_at: datetime,
        not_after: datetime,
        root: TrustRoot | None,
        limits: Limits,
        version: int = 1,
        _proof: object = None,
    ) -> None:
        documents.require_loaded(_proof, "TrustListKeys", by="TrustList.load")
        self._data = data
        self._version = version
        self._offsets = offsets
        self._seq = seq
        self._issued_at = issued_at
        self._not_after = not_after
        self._root = root
        self._limits = limits
        #: kid -> (key, parsed public key), or the message of why its entry is malformed
        self._cache: dict[bytes, tuple[IssuerKey, crypto.PublicKey] | str] = {}

    def __init_subclass__(cls, **kwargs: object) -> None:
        documents.refuse_subclass(cls)

    def __len__(self) -> int:
        return len(self._offsets)

    def __contains__(self, kid: object) -> bool:
        return kid in self._offsets

    @property
    def document(self) -> bytes:
        """The signed document these keys were read from, as received."""
        return self._data

    def kids(self) -> Iterator[bytes]:
        """Every kid of the list, in the list's (canonical) order; nothing is decoded."""
        return iter(self._offsets)  # never changed after loading

    def resolve(self, kid: bytes) -> tuple[IssuerKey, crypto.PublicKey] | None:
        """The key listed under ``kid`` and its parsed public key; None when the list has no such kid.

        Raises TrustListError (``trust_list_invalid``) when its entry is malformed.
        """
        found = self._cache.get(kid)
        if found is None:
            offset = self._offsets.get(kid)
            if offset is None:
                return None
            try:
                found = _decode_key(kid, trust_list_codec.entry_at(self._data, offset), seq=self._seq,
                                    issued_at=self._issued_at, not_after=self._not_after, root=self._root,
                                    limits=self._limits, version=self._version)
            except TrustListError as err:
                found = err.message
            found = self._cache.setdefault(kid, found)
        if isinstance(found, str):
            raise TrustListError(ErrorCode.TRUST_LIST_INVALID, Stage.TRUST_LIST, found)
        return found

    def get(self, kid: bytes) -> IssuerKey | None:
        """The key listed under ``kid`` (None when none). Raises TrustListError for a malformed entry."""
        found = self.resolve(kid)
        return None if found is None else found[0]

    def __iter__(self) -> Iterator[IssuerKey]:
        """Every key, in kid order. Raises TrustListError (``trust_list_invalid``) at a malformed entry."""
        for kid in self._offsets:
            found = self.resolve(kid)
            assert found is not None
            yield found[0]

    def check_all(self) -> None:
        """Check every entry now (tooling: ``healthpass trust build`` and ``trust show`` do). Raises
        TrustListError (``trust_list_invalid``) naming the first malformed entry in kid order."""
        for _ in self:
            pass

    def __eq__(self, other: object) -> bool:  # the same entries, under the same root and limits
        if not isinstance(other, TrustListKeys):
            return NotImplemented
        entry_at = trust_list_codec.entry_at
        return (self._offsets.keys() == other._offsets.keys() and self._root == other._root
                and self._limits == other._limits and self._seq == other._seq
                and all(entry_at(self._data, self._offsets[kid]) == entry_at(other._data, other._offsets[kid])
                        for kid in self._offsets))

    def __hash__(self) -> int:
        return hash((self._seq, len(self._offsets), self._root))

    def __reduce__(self) -> tuple[object, ...]:  # the cache holds parsed keys, which do not pickle
        return (_restore_keys, (self._data, self._offsets, self._seq, self._issued_at, self._not_after, self._root,
                                self._limits, self._version))

    def __repr__(self) -> str:
        return f"TrustListKeys({len(self)} keys, {len(self._cache)} checked)"


def _restore_keys(data: bytes, offsets: dict[bytes, int], seq: int, issued_at: datetime, not_after: datetime,
                  root: TrustRoot | None, limits: Limits, version: int) -> TrustListKeys:
    return TrustListKeys(data, offsets, seq=seq, issued_at=issued_at, not_after=not_after, root=root, limits=limits,
                         version=version, _proof=documents.LOAD_TOKEN)


def _immutable(data: object) -> bytes:
    if type(data) is bytes:
        return data
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data)
    raise TypeError("a trust list is bytes")


def _index(document: bytes, payload: bytes, limits: Limits, root: TrustRoot | None
           ) -> tuple[int, int, datetime, TrustListKeys]:
    """``(seq, issued_at, not_after, keys)`` of a list whose strictly decoded ``document`` holds ``payload``:
    the envelope checked, the kids indexed. The keys keep ``document`` (the bytes received, immutable) and
    offsets into it, not a copy of the payload."""
    try:
        start, end = signed_doc.payload_span(document, payload)
        version, seq, issued, not_after, offsets = trust_list_codec.index_trust_list(
            document, start=start, end=end, max_entries=limits.max_items, max_entry=limits.max_string,
            stage=Stage.TRUST_LIST, code=ErrorCode.TRUST_LIST_INVALID)
    except DecodeError as err:
        raise TrustListError(ErrorCode.TRUST_LIST_INVALID, Stage.TRUST_LIST, err.message) from err
    expires = from_numeric_date(not_after)
    keys = TrustListKeys(document, offsets, seq=seq, issued_at=from_numeric_date(issued), not_after=expires,
                         root=root, limits=limits, version=version, _proof=documents.LOAD_TOKEN)
    return seq, issued, expires, keys


@dataclass(frozen=True, slots=True, repr=False)  # __repr__ below
class TrustList:
    """A verified trust list: which issuer keys may sign for which regions and kinds of data.

    Obtain one with :meth:`load` (verifies signature, root, envelope and anti-rollback state, and indexes
    the keys by kid; each key entry is checked on first use, or all at once with :meth:`check_all`); publish
    one with :meth:`build`. ``clock_floor`` is the list's issue time: a verification time before it means
    the device clock is wrong, and codes trusted through this list are then ``clock_untrusted`` (codes
    trusted through another root's list are not affected). Per root only the newest list is ever used
    (:func:`newest_per_root`); with a state directory an older one does not even load.
    """

    seq: int
    issued_at: datetime
    not_after: datetime
    root: TrustRoot
    keys: TrustListKeys
    clock_floor: datetime
    _proof: InitVar[object] = None

    def __post_init__(self, _proof: object) -> None:
        documents.require_loaded(_proof, "TrustList")

    def __init_subclass__(cls, **kwargs: object) -> None:
        documents.refuse_subclass(cls)

    def __repr__(self) -> str:
        return (f"TrustList(seq={self.seq}, issued_at={self.issued_at.isoformat()}, "
                f"not_after={self.not_after.isoformat()}, keys={len(self.keys)}, root={self.root.kid.hex()})")

    def check_all(self) -> TrustList:
        """Check every key entry now and return the list. Raises TrustListError (``trust_list_invalid``)
        naming the first malformed entry (in kid order)."""
        self.keys.check_all()
        return self

    @staticmethod
    def build(
        signer: Signer,
        *,
        seq: int,
        keys: Sequence[IssuerKey],
        valid_for: timedelta,
        now: datetime | None = None,
    ) -> bytes:
        """Sign a trust list with the root ``signer``. Every key needs a region and a kid of its own.

        Every entry is checked as a verifier will check it (rule L4, all but the root's region scope, which
        depends on the verifier's configuration), so a list with a bad entry is never signed. ``now`` (the
        issue time; the current time by default) must be a timezone-aware datetime. Raises ValueError naming
        the key, or for a naive ``now``; TypeError for a ``now`` that is no datetime or a ``valid_for`` that
        is no timedelta.
        """
        if type(seq) is not int or seq < 0:
            raise ValueError("seq must be a non-negative integer")
        if not isinstance(valid_for, timedelta):
            raise TypeError("valid_for must be a timedelta")
        if valid_for <= timedelta(0):
            raise ValueError("valid_for must be positive")
        if len(keys) > _LIST_LIMITS.max_items:
            raise ValueError(f"a trust list holds at most {_LIST_LIMITS.max_items} keys")
        issued_at = to_numeric_date(datetime.now(UTC) if now is None else now, "now")
        not_after = issued_at + int(valid_for.total_seconds())
        if not 0 <= issued_at <= not_after <= MAX_NUMERIC_DATE:  # what the envelope carries (and verifiers read)
            raise ValueError("now and now + valid_for are outside the supported range of dates (1970 to 2100)")
        issued, expires = from_numeric_date(issued_at), from_numeric_date(not_after)
        version = min(trust_list_codec.TRUST_LIST_VERSIONS)
        body: dict[bytes, bytes] = {}
        for key in keys:
            if not isinstance(key, IssuerKey):
                raise TypeError("TrustList.build takes IssuerKey values")
            if key.kid in body:
                raise ValueError(f"kid {key.kid.hex()} is listed twice (a list holds one entry per kid)")
            entry = _encode_key(key)
            if len(entry) > _LIST_LIMITS.max_string:
                raise ValueError(f"key {key.kid.hex()}: entry longer than {_LIST_LIMITS.max_string} bytes")
            if len(key.kid) != trust_list_codec.KID_SIZE:
                raise ValueError(f"key {key.kid.hex()}: a kid has {trust_list_codec.KID_SIZE} bytes")
            # the lowest format version that holds every entry: a list with no newer feature stays readable by
            # verifiers that read only the older versions
            newest = max(trust_list_codec.TRUST_LIST_VERSIONS)
            try:
                entry_map = trust_list_codec.decode_key_entry(entry, limits=_LIST_LIMITS, stage=Stage.TRUST_LIST,
                                             code=ErrorCode.TRUST_LIST_INVALID, version=newest)
            except DecodeError as err:
                raise ValueError(f"key {key.kid.hex()}: {err.message}") from None
            version = max(version, trust_list_codec.entry_version(entry_map))
            if crypto.key_algorithm(crypto.load_public_key(key.key_der)[0]) is Algorithm.SM2:
                version = max(version, trust_list_codec.SM2_MIN_VERSION)
            body[key.kid] = entry
        for kid, entry in body.items():
            try:
                _decode_key(kid, entry, seq=seq, issued_at=issued, not_after=expires, root=None,
                            limits=_LIST_LIMITS, version=version)
            except TrustListError as err:
                raise ValueError(err.message) from None
        return documents.seal(signer, documents.TRUST_LIST, seq=seq, issued_at=issued_at, not_after=not_after,
                              body=body, version=version)

    @classmethod
    def load(
        cls,
        data: bytes,
        roots: Sequence[TrustRoot],
        *,
        state: StateStore | None = None,
        limits: Limits | None = None,
        check_all: bool = False,
    ) -> TrustList:
        """Verify a trust list and index its keys. Raises TrustListError: ``trust_list_invalid`` for any defect
        of the document (signature, root, envelope, the index of kids: nothing of it is used),
        ``trust_list_rollback`` when ``state`` has accepted a later one.

        Key entries are checked on the first lookup of their kid (a malformed one fails, with
        ``trust_list_invalid``, every code naming it); ``check_all`` checks every entry now, before ``state``
        records the list (tooling and publishers: a list with one bad entry is then refused whole).
        Freshness (``trust_list_stale`` / ``trust_list_expired``) and the clock floor (``clock_untrusted``)
        are judged at each verification, against the verification time.
        """
        limits = limits or _LIST_LIMITS
        data = _immutable(data)  # the keys keep it: never a buffer that can change
        # The signed payload is one byte string holding the whole list: ``max_string`` bounds each entry
        # inside it, not the payload, which the document's own size bounds.
        outer = dataclasses.replace(limits, max_string=max(limits.max_string, len(data)))
        root, payload = documents.open_signed(data, roots, documents.TRUST_LIST, limits=outer)
        seq, issued, expires_at, keys = _index(data, payload, limits, root)
        if check_all:
            keys.check_all()
        if state is not None:
            documents.record(state, documents.TRUST_LIST, root.kid, seq=seq, issued_at=issued, data=data)
        # The floor follows the newest accepted list of this root, which this one now is (an older one would
        # have been refused above): a corrected list dated now lifts a floor that a list dated in the future set.
        return cls(seq, from_numeric_date(issued), expires_at, root, keys, from_numeric_date(issued),
                   documents.LOAD_TOKEN)


_MANIFEST_KEY_FIELDS = frozenset({"region", "public_key", "certificate", "kinds", "from", "until", "status",
                                  "retired_at", "max_validity"})


def keys_from_manifest(manifest: object, *, base: Path) -> tuple[list[IssuerKey], int | None, str | None]:
    """Issuer keys from a trust-list manifest (the JSON documented in ``specs/trust-list.md``).

    ``{"seq": N, "valid_for": "30d", "keys": [{"region": "630000", "public_key": "PUB.pem" |
    "certificate": "CERT.pem", "kinds": [...], "from": ISO8601, "until": ISO8601, "status": "active" |
    "retired", "retired_at": ISO8601, "max_validity": "30d"}, ...]}``; file paths are relative to ``base``;
    each key at most once (a list holds one entry per kid); ``retired_at`` exactly when the status is retired.
    Raises ValueError.
    """
    if not isinstance(manifest, dict):
        raise ValueError("the manifest must be a JSON object")
    unknown = set(manifest) - {"seq", "valid_for", "keys"}
    if unknown:
        raise ValueError(f"unknown manifest field {sorted(unknown)[0]}")
    seq = manifest.get("seq")
    if seq is not None and (type(seq) is not int or seq < 0):
        raise ValueError("seq must be a non-negative integer")
    valid_for = manifest.get("valid_for")
    if valid_for is not None and not isinstance(valid_for, str):
        raise ValueError("valid_for must be a duration string such as 30d")
    entries = manifest.get("keys")
    if not isinstance(entries, list):
        raise ValueError("keys must be a list")
    keys = []
    seen: dict[bytes, int] = {}
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not set(entry) <= _MANIFEST_KEY_FIELDS:
            raise ValueError(f"keys[{i}] must be an object with the documented fields")
        if ("public_key" in entry) == ("certificate" in entry):
            raise ValueError(f"keys[{i}] needs exactly one of public_key and certificate")
        path = base / str(entry.get("public_key") or entry.get("certificate"))
        try:
            data = path.read_bytes()
        except OSError as err:
            raise ValueError(f"keys[{i}]: cannot read {path}: {err.strerror}") from None
        region = entry.get("region")
        if not isinstance(region, str):
            raise ValueError(f"keys[{i}].region must be a region code string such as \"630000\" or \"CN-QH\"")
        kinds = entry.get("kinds", [k.value for k in Kind])
        if type(kinds) is not list or not all(isinstance(k, str) for k in kinds):
            raise ValueError(f"keys[{i}]: kinds must be a list of kind names")
        try:
            longest = parse_duration(entry["max_validity"]) if "max_validity" in entry else None
        except ValueError as err:
            raise ValueError(f"keys[{i}]: max_validity: {err}") from None
        key = issuer_key(data, region=as_region(region, f"keys[{i}].region"),
                         kinds=frozenset(Kind(k) for k in kinds), max_validity=longest)
        if ("certificate" in entry) != key.is_certificate:
            wanted = "certificate" if "certificate" in entry else "public key"
            raise ValueError(f"keys[{i}]: {path.name} is not a {wanted}")
        if key.kid in seen:
            raise ValueError(f"keys[{i}]: the same key as keys[{seen[key.kid]}] (a list holds each key once)")
        seen[key.kid] = i
        status_name = str(entry.get("status", "active")).upper()
        if status_name not in KeyStatus.__members__:
            raise ValueError(f"keys[{i}]: status must be active or retired")
        try:  # a retirement date is never dropped: an empty or null one, or one on an active key, is refused
            keys.append(dataclasses.replace(
                key,
                valid_from=parse_iso(entry["from"], name="from") if "from" in entry else None,
                valid_until=parse_iso(entry["until"], name="until") if "until" in entry else None,
                status=KeyStatus[status_name],
                retired_at=parse_iso(entry["retired_at"], name="retired_at") if "retired_at" in entry else None,
            ))
        except ValueError as err:
            raise ValueError(f"keys[{i}]: {err}") from None
    return keys, seq, valid_for


def _unverified_keys(document: bytes, payload: bytes) -> tuple[int, int, datetime, tuple[IssuerKey, ...]]:
    """``(seq, issued_at, not_after, keys)`` of a list whose signature was NOT checked, every entry checked
    but for the region scope (for :func:`healthpass.unverified.inspect_trust_list_unverified`, which turns
    the keys into plain records before anyone sees them)."""
    seq, issued, not_after, keys = _index(document, payload, _LIST_LIMITS, None)
    return seq, issued, not_after, tuple(keys)
