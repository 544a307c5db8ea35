"""Trusted keys: loading them, indexing them by kid, and the signed trust list that distributes them."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from healthpass import crypto
from healthpass._lazy import LazyModule
from healthpass.codec.cbor import canonical_order
from healthpass.codec.signed_doc import KIND_CODES, ContentType, KeyEntryKey, decode_envelope, encode_envelope
from healthpass.cose import open_document, seal_document
from healthpass.errors import DecodeError, ErrorCode, Stage, TrustListError
from healthpass.model.cose import MAX_NUMERIC_DATE
from healthpass.model.credential import Kind
from healthpass.model.policy import Limits
from healthpass.model.regions import Region
from healthpass.model.trust import ALL_KINDS, IssuerKey, KeyStatus, TrustRoot

if TYPE_CHECKING:  # Path, Signer, StateStore for annotations only: a verifier never loads them
    import hashlib
    from pathlib import Path

    from healthpass.model.signer import Signer
    from healthpass.state import StateStore
else:  # hashlib for the anti-rollback digest only: it loads OpenSSL (about 3 ms of every start-up)
    hashlib = LazyModule("hashlib")

__all__ = [
    "DCC_KEY_USAGE",
    "KeyRing",
    "TrustList",
    "inspect_trust_list_unverified",
    "issuer_key",
    "keys_from_manifest",
    "trust_root",
]

_DCC_OID_ROOTS = ("1.3.6.1.4.1.1847.2021.1.", "1.3.6.1.4.1.0.1847.2021.1.")
#: Extended-key-usage OID suffix -> EU DCC type it allows (test, vaccination, recovery).
DCC_KEY_USAGE = (("1", "t"), ("2", "v"), ("3", "r"))


def _dcc_types(usages: frozenset[str]) -> frozenset[str] | None:
    """EU DCC types allowed by a certificate's extended key usages; None when it names no DCC OID."""
    allowed = {kind for root in _DCC_OID_ROOTS for suffix, kind in DCC_KEY_USAGE if root + suffix in usages}
    return frozenset(allowed) if allowed else None


def issuer_key(
    data: bytes,
    *,
    region: Region | None = None,
    kinds: frozenset[Kind] = ALL_KINDS,
    source: str = "trust-key",
) -> IssuerKey:
    """An :class:`IssuerKey` from a public key (SPKI PEM/DER) or a certificate (PEM, DER, base64 DER).

    For a certificate the kid is computed over the certificate DER (the EU rule), its validity bounds the
    codes it may sign, and its DCC extended key usages restrict the EU DCC types. Raises ValueError.
    """
    _, der, cert = crypto.load_public_key(data)
    if cert is None:
        return IssuerKey(kid=crypto.kid_for(der), key_der=der, region=region, kinds=kinds, source=source)
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
    )


class KeyRing:
    """An immutable pool of trusted keys indexed by kid (O(1) lookup). Keys are parsed once, on first use.

    Several keys may share a kid: all are kept and all are tried.
    """

    __slots__ = ("_by_kid", "_parsed")

    def __init__(self, keys: Iterable[IssuerKey] = ()) -> None:
        by_kid: dict[bytes, tuple[IssuerKey, ...]] = {}
        for key in keys:
            if not isinstance(key, IssuerKey):
                raise TypeError("KeyRing holds IssuerKey values")
            by_kid[key.kid] = (*by_kid.get(key.kid, ()), key)
        self._by_kid = by_kid
        self._parsed: dict[int, crypto.PublicKey] = {}

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_kid.values())

    def __iter__(self) -> Iterator[IssuerKey]:
        for entries in self._by_kid.values():
            yield from entries

    def __contains__(self, kid: object) -> bool:
        return kid in self._by_kid

    def entries(self, kid: bytes) -> tuple[IssuerKey, ...]:
        """The keys sharing ``kid`` (empty when none)."""
        return self._by_kid.get(kid, ())

    def public_key(self, entry: IssuerKey) -> crypto.PublicKey:
        """The parsed public key of an entry, parsed on first use and cached by identity of the entry.

        Raises TrustListError (``trust_list_invalid``) when the key material does not parse, is not of the
        kind the entry says (SPKI or certificate), or is not the key its kid names: every code naming that
        kid is then rejected (keys from a trust list are only hashed when the list is loaded).
        """
        cache_key = id(entry)
        key = self._parsed.get(cache_key)
        if key is None:
            key = _parse_entry(entry)
            self._parsed[cache_key] = key
        return key

    def merged(self, other: Iterable[IssuerKey]) -> KeyRing:
        """A new ring with the keys of both."""
        return KeyRing([*self, *other])

    def __repr__(self) -> str:
        return f"KeyRing({len(self)} keys)"


def _parse_entry(entry: IssuerKey) -> crypto.PublicKey:
    def bad(message: str) -> TrustListError:
        return TrustListError(ErrorCode.TRUST_LIST_INVALID, Stage.TRUST_LIST,
                              f"key {entry.kid.hex()} ({entry.source}): {message}")

    try:
        key, der, cert = crypto.load_public_key(entry.key_der)
    except ValueError as err:
        raise bad("key material does not parse") from err
    if entry.list_not_after is not None:  # from a trust list: the checks its loading left to first use
        if (cert is not None) != entry.is_certificate:
            raise bad("SPKI and certificate fields are swapped")
        if crypto.kid_for(der) != entry.kid:
            raise bad("kid does not match its key")
    return key


def trust_root(data: bytes, *, regions: Iterable[Region] | None = None) -> TrustRoot:
    """A :class:`TrustRoot` from a root public key (SPKI PEM/DER or certificate), optionally region-scoped."""
    _, der, _ = crypto.load_public_key(data)
    return TrustRoot(kid=crypto.kid_for(der), key_der=der,
                     regions=None if regions is None else frozenset(regions))


def _ts(value: int) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def _epoch(value: datetime) -> int:
    return int(value.timestamp())


_KIND_TO_CODE = MappingProxyType(dict(KIND_CODES))
_CODE_TO_KIND = MappingProxyType({code: kind for kind, code in KIND_CODES})


def _encode_key(key: IssuerKey) -> dict[int, Any]:
    if key.region is None:
        raise ValueError("every trust-list key needs a region")
    entry: dict[int, Any] = {
        KeyEntryKey.KID.value: key.kid,
        (KeyEntryKey.CERTIFICATE if key.is_certificate else KeyEntryKey.SPKI).value: key.key_der,
        KeyEntryKey.REGION.value: int(key.region),
        KeyEntryKey.KINDS.value: sorted(_KIND_TO_CODE[k] for k in key.kinds),
        KeyEntryKey.STATUS.value: int(key.status),
    }
    if key.valid_from is not None:
        entry[KeyEntryKey.VALID_FROM.value] = _epoch(key.valid_from)
    if key.valid_until is not None:
        entry[KeyEntryKey.VALID_UNTIL.value] = _epoch(key.valid_until)
    if key.retired_at is not None:
        entry[KeyEntryKey.RETIRED_AT.value] = _epoch(key.retired_at)
    return entry


_ENTRY_FIELDS = frozenset(k.value for k in KeyEntryKey)


def _decode_key(raw: object, index: int, not_after: datetime, seq: int) -> IssuerKey:
    def bad(message: str) -> TrustListError:
        return TrustListError(ErrorCode.TRUST_LIST_INVALID, Stage.TRUST_LIST, f"key #{index}: {message}")

    if type(raw) is not dict:
        raise bad("not a map")
    if not raw.keys() <= _ENTRY_FIELDS:
        raise bad("unknown field")
    if not canonical_order(raw):
        raise bad("fields not in canonical order")
    kid, spki, cert = raw.get(KeyEntryKey.KID), raw.get(KeyEntryKey.SPKI), raw.get(KeyEntryKey.CERTIFICATE)
    if type(kid) is not bytes or (spki is None) == (cert is None):
        raise bad("needs a kid and exactly one of SPKI and certificate")
    der = spki if spki is not None else cert
    if type(der) is not bytes:
        raise bad("key material must be bytes")
    if cert is None:
        # SPKI keys are only hashed here (a list may hold thousands); KeyRing.public_key parses one on first
        # use and fails closed (trust_list_invalid) when it does not parse or is not the key its kid names.
        parsed, computed = None, crypto.kid_for(der)
    else:  # a certificate is parsed now: its validity and DCC key usages bound the codes it may sign
        try:
            parsed = issuer_key(der)
        except ValueError as err:
            raise bad("key material does not parse") from err
        if not parsed.is_certificate:
            raise bad("SPKI and certificate fields are swapped")
        computed = parsed.kid
    if computed != kid:
        raise bad(f"kid {kid.hex()} does not match its key ({computed.hex()})")
    try:
        region = Region.from_int(raw.get(KeyEntryKey.REGION))  # type: ignore[arg-type]
        kinds_raw = raw.get(KeyEntryKey.KINDS)
        if type(kinds_raw) is not list or not kinds_raw:
            raise ValueError("kinds must be a non-empty array")
        if not all(type(c) is int for c in kinds_raw):
            raise ValueError("kinds must be integers")
        kinds = frozenset(_CODE_TO_KIND[c] for c in kinds_raw)
        status_raw = raw.get(KeyEntryKey.STATUS)
        if type(status_raw) is not int:
            raise ValueError("status must be an integer")
        status = KeyStatus(status_raw)

        def when(field: KeyEntryKey) -> datetime | None:
            value = raw.get(field)
            if value is None:
                return None
            if type(value) is not int or not 0 <= value <= MAX_NUMERIC_DATE:
                raise ValueError(f"{field.name.lower()} must be a NumericDate before 2100")
            return _ts(value)

        scope: dict[str, Any] = {
            "region": region, "kinds": kinds, "status": status, "valid_from": when(KeyEntryKey.VALID_FROM),
            "valid_until": when(KeyEntryKey.VALID_UNTIL), "retired_at": when(KeyEntryKey.RETIRED_AT),
            "source": f"trust-list:{seq}", "list_not_after": not_after,
        }
        if parsed is None:
            return IssuerKey(kid=kid, key_der=der, **scope)
        return dataclasses.replace(parsed, **scope)
    except (ValueError, KeyError, TypeError) as err:
        raise bad(str(err) if isinstance(err, ValueError) else "invalid field") from None


_LIST_LIMITS = Limits(max_decompressed=1 << 26, max_items=1 << 22, max_string=1 << 16)


def _decode_body(payload: bytes, limits: Limits) -> tuple[int, datetime, tuple[IssuerKey, ...], int]:
    try:
        seq, issued, not_after, body = decode_envelope(payload, limits=limits, stage=Stage.TRUST_LIST,
                                                       code=ErrorCode.TRUST_LIST_INVALID, typed=True)
    except DecodeError as err:
        raise TrustListError(ErrorCode.TRUST_LIST_INVALID, Stage.TRUST_LIST, err.message) from err
    if type(body) is not list:
        raise TrustListError(ErrorCode.TRUST_LIST_INVALID, Stage.TRUST_LIST, "body is not an array of keys")
    expires = _ts(not_after)
    return seq, expires, tuple(_decode_key(raw, i, expires, seq) for i, raw in enumerate(body)), issued


@dataclass(frozen=True, slots=True)
class TrustList:
    """A verified trust list: which issuer keys may sign for which regions and kinds of data.

    Obtain one with :meth:`load` (verifies signature, root, scope and anti-rollback state); publish one with
    :meth:`build`. ``clock_floor`` is the latest issue time of any list this verifier accepted for the root:
    a verification time before it means the device clock was set back (``clock_untrusted``).
    """

    seq: int
    issued_at: datetime
    not_after: datetime
    root: TrustRoot
    keys: tuple[IssuerKey, ...]
    clock_floor: datetime

    def __repr__(self) -> str:
        return (f"TrustList(seq={self.seq}, issued_at={self.issued_at.isoformat()}, "
                f"not_after={self.not_after.isoformat()}, keys={len(self.keys)}, root={self.root.kid.hex()})")

    @staticmethod
    def build(
        signer: Signer,
        *,
        seq: int,
        keys: Sequence[IssuerKey],
        valid_for: timedelta,
        now: datetime | None = None,
    ) -> bytes:
        """Sign a trust list with the root ``signer``. Every key needs a region."""
        if type(seq) is not int or seq < 0:
            raise ValueError("seq must be a non-negative integer")
        if valid_for <= timedelta(0):
            raise ValueError("valid_for must be positive")
        issued = (now or datetime.now(UTC)).replace(microsecond=0)
        body = [_encode_key(k) for k in keys]
        payload = encode_envelope(seq, _epoch(issued), _epoch(issued + valid_for), body)
        return seal_document(signer, ContentType.TRUST_LIST.value, payload)

    @classmethod
    def load(
        cls,
        data: bytes,
        roots: Sequence[TrustRoot],
        *,
        state: StateStore | None = None,
        limits: Limits | None = None,
    ) -> TrustList:
        """Verify and decode a trust list. Raises TrustListError: ``trust_list_invalid`` for any defect of the
        list (nothing of it is used), ``trust_list_rollback`` when ``state`` has accepted a later one.

        Freshness (``trust_list_stale`` / ``trust_list_expired``) is judged at each verification, against
        the verification time.
        """
        limits = limits or _LIST_LIMITS
        # The signed payload is one byte string holding the whole list: ``max_string`` bounds each string
        # inside it (certificates), not the payload, which the document's own size bounds.
        outer = dataclasses.replace(limits, max_string=max(limits.max_string, len(data)))
        root, payload = open_document(data, roots, content_type=ContentType.TRUST_LIST.value, limits=outer,
                                      stage=Stage.TRUST_LIST)
        seq, expires_at, keys, issued = _decode_body(payload, limits)
        for key in keys:
            if not root.vouches_for(key.region):
                raise TrustListError(ErrorCode.TRUST_LIST_INVALID, Stage.TRUST_LIST,
                                     f"key {key.kid.hex()} is for a region outside the root's scope")
        floor = issued
        if state is not None:
            digest = hashlib.sha256(data).hexdigest()
            accepted = state.accept(f"trust-list-{root.kid.hex()}", seq, issued, digest, stage=Stage.TRUST_LIST)
            floor = accepted.issued_at
        return cls(seq, _ts(issued), expires_at, root, keys, _ts(floor))


_MANIFEST_KEY_FIELDS = frozenset({"region", "public_key", "certificate", "kinds", "from", "until", "status",
                                  "retired_at"})


def keys_from_manifest(manifest: object, *, base: Path) -> tuple[list[IssuerKey], int | None, str | None]:
    """Issuer keys from a trust-list manifest (the JSON documented in ``specs/trust-list.md``).

    ``{"seq": N, "valid_for": "30d", "keys": [{"region": "630000", "public_key": "PUB.pem" |
    "certificate": "CERT.pem", "kinds": [...], "from": ISO8601, "until": ISO8601, "status": "active" |
    "retired", "retired_at": ISO8601}, ...]}``; file paths are relative to ``base``. Raises ValueError.
    """
    from healthpass.model.jsonform import parse_instant

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
        key = issuer_key(data, region=Region.parse(str(entry.get("region", ""))),
                         kinds=frozenset(Kind(k) for k in entry.get("kinds", [k.value for k in Kind])))
        if ("certificate" in entry) != key.is_certificate:
            wanted = "certificate" if "certificate" in entry else "public key"
            raise ValueError(f"keys[{i}]: {path.name} is not a {wanted}")
        status_name = str(entry.get("status", "active")).upper()
        if status_name not in KeyStatus.__members__:
            raise ValueError(f"keys[{i}]: status must be active or retired")
        retired = entry.get("retired_at")
        keys.append(dataclasses.replace(
            key,
            valid_from=parse_instant(entry["from"]) if "from" in entry else None,
            valid_until=parse_instant(entry["until"]) if "until" in entry else None,
            status=KeyStatus[status_name],
            retired_at=parse_instant(retired) if retired else None,
        ))
    return keys, seq, valid_for


def inspect_trust_list_unverified(data: bytes) -> tuple[int, datetime, datetime, tuple[IssuerKey, ...]]:
    """UNVERIFIED: decode a trust list without checking its signature (for ``trust show`` without a root)."""
    from healthpass.codec import decode_sign1

    limits = _LIST_LIMITS
    try:
        msg = decode_sign1(data, limits=limits, strict=True)
    except DecodeError as err:
        raise TrustListError(ErrorCode.TRUST_LIST_INVALID, Stage.TRUST_LIST, err.message) from err
    seq, not_after, keys, issued = _decode_body(msg.payload, limits)
    return seq, _ts(issued), not_after, keys
