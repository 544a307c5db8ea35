"""Strict, bounded CBOR on top of cbor2 (the only module importing cbor2).

cbor2 is lenient by default (trailing bytes ignored, duplicate keys allowed, semantic tags such as regular
expressions or MIME messages decoded into Python objects). Scanned input goes through :func:`decode`, which
accepts an item only when

* it is well-formed, uses definite lengths only, has no trailing bytes and no duplicate map keys;
* it contains only the plain data model (integers, text, bytes, arrays, maps, booleans, null and, where the
  caller allows it, floats) and only the tags the caller names;
* its nesting depth, item count and string lengths stay within :class:`CborLimits`;
* in ``deterministic`` mode it is the deterministic encoding of its value: RFC 8949 §4.2.1 (preferred
  serialisation, definite lengths) with the length-first map-key order of RFC 8949 §4.2.3, i.e. the
  canonical CBOR of RFC 7049 §3.9 (keys sorted by encoded length, then bytewise).

The fast path decodes with cbor2's C decoder and re-encodes: an input whose re-encoding is byte-identical
cannot hide duplicates, indefinite lengths, trailing bytes, over-long heads or (deterministic mode) unsorted
keys. Only when that comparison fails in lenient mode (foreign formats, e.g. EU certificates, may use
non-preferred encodings) does a pure-Python well-formedness scanner decide. ``typed`` callers (healthpass's
own formats, whose parsers check the type and range of every value they read and reject every unknown key)
skip the generic data-model walk: for them the re-encoding comparison and their own parser are the check.

cbor2 decodes some tags into objects of its own (tag 1 into a ``datetime``). A lenient caller that allows such
a tag (EU CWT claims: tag 1 around ``iat``/``exp``) gets it as :class:`Tagged` like any other: when the data
may hold one of its heads, the pure-Python scanner decodes the item instead of cbor2.
"""

from __future__ import annotations

import functools
import io
import math
import re
import struct
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import cbor2

from healthpass.errors import DecodeError, ErrorCode, Stage
from healthpass.model.policy import Limits

__all__ = [
    "CborLimits", "Tagged", "canonical_order", "cbor_limits", "decode", "encode", "encode_ordered", "has_key_order",
    "key_orders", "may_hold_tag",
]


@dataclass(frozen=True, slots=True)
class CborLimits:
    """Bounds applied to every decoded CBOR item."""

    max_depth: int = 16
    max_items: int = 4096
    max_string: int = 16384
    allow_floats: bool = False


@functools.lru_cache(maxsize=64)  # called on every decode; both types are frozen values
def cbor_limits(limits: Limits, *, allow_floats: bool = False) -> CborLimits:
    """The CBOR bounds of a :class:`~healthpass.model.policy.Limits`."""
    return CborLimits(limits.max_depth, limits.max_items, limits.max_string, allow_floats)


#: The reference pre-scan of a typed caller's data allows at least this nesting and this many items per
#: container: more than any healthpass schema has (its parser enforces its own, tighter bounds), so a tight
#: generic limit never refuses there what the typed path accepts; still small enough to keep the scan's
#: recursion and work bounded as before.
_TYPED_SCAN_DEPTH, _TYPED_SCAN_ITEMS = 16, 64


def _typed_scan_limits(limits: CborLimits) -> CborLimits:
    """The bounds of the reference pre-scan for a typed caller (see :data:`_TYPED_SCAN_DEPTH`)."""
    return CborLimits(max(limits.max_depth, _TYPED_SCAN_DEPTH), max(limits.max_items, _TYPED_SCAN_ITEMS),
                      limits.max_string, limits.allow_floats)


@dataclass(frozen=True, slots=True)
class Tagged:
    """A CBOR tag and its content, as decoded (only for tags a caller explicitly allows)."""

    tag: int
    value: Any


_MIN_INT = -(2**64)
_MAX_INT = 2**64 - 1

#: cbor2 6 decodes the content of every tag immutably (arrays as tuples, maps as its ``frozendict``); 5.x
#: does so only for map keys. Both are read as arrays and maps here and handed on as lists and dicts, so
#: callers see one data model whichever cbor2 release is installed (cbor2 5.x names the type ``FrozenDict``).
_FROZEN_MAP: type = getattr(cbor2, "frozendict" if hasattr(cbor2, "frozendict") else "FrozenDict", dict)
_ARRAYS = frozenset({list, tuple})
_MAPS = frozenset({dict, _FROZEN_MAP})


def _key_rank(key: object) -> tuple[int, int, int, bytes]:
    """Rank of a map key in length-first canonical order: (encoded length, major type, argument, content).
    Equal encoded lengths compare bytewise: major type first, then the big-endian argument, then content."""
    content = b""
    if isinstance(key, int) and not isinstance(key, bool):
        major, arg = (0, key) if key >= 0 else (1, -1 - key)
    elif isinstance(key, str):
        content = key.encode("utf-8")
        major, arg = 3, len(content)
    elif isinstance(key, bytes):
        content = key
        major, arg = 2, len(content)
    else:
        raise TypeError(f"unsupported map key type {type(key).__name__}")
    head = 1 if arg < 24 else 2 if arg < 0x100 else 3 if arg < 0x10000 else 5 if arg < 0x100000000 else 9
    return head + len(content), major, arg, content


def canonical_order(keys: Iterable[object]) -> bool:
    """Whether map keys (in decoded order) are integers, text or bytes strictly increasing in length-first
    canonical order (False for any other key type)."""
    previous: tuple[int, int, int, bytes] | None = None
    for key in keys:
        if type(key) is int and 0 <= key < 24:  # the common case, ranked inline
            rank = (1, 0, key, b"")
        elif type(key) in (int, str, bytes):
            rank = _key_rank(key)
        else:
            return False
        if previous is not None and rank <= previous:
            return False
        previous = rank
    return True


def key_orders(keys: Iterable[int], *, required: Iterable[int] = ()) -> frozenset[tuple[int, ...]]:
    """Every key sequence a map drawn from ``keys`` (integers, given in canonical order) may have: each ordered
    subset holding all of ``required``. With :func:`has_key_order`, one set lookup then checks a decoded map's
    key order, that its keys are known and that the required ones are present."""
    ordered, needed = tuple(keys), frozenset(required)
    return frozenset(combo for size in range(len(ordered) + 1) for combo in combinations(ordered, size)
                     if needed.issubset(combo))


def has_key_order(keys: tuple[Any, ...], orders: frozenset[tuple[int, ...]]) -> bool:
    """Whether ``keys`` (a decoded map's, in order) is one of ``orders`` and holds only integers: ``True`` and
    ``1.0`` compare equal to ``1``, so the set lookup alone would let them stand in for integer keys."""
    return keys in orders and _INT_ONLY.issuperset(map(type, keys))


_INT_ONLY = frozenset({int})


#: The one deliberate piece of module state: a per-thread cache of reusable cbor2 encoders (building one
#: costs more than encoding a code). It holds no data between calls and is rebuilt after any failure.
_local = threading.local()


def _dumps(value: Any, canonical: bool = False) -> bytes:
    """``cbor2.dumps`` with one reused encoder per thread and mode: building an encoder costs more than most
    encodings. ``canonical``: keys sorted length-first, preferred serialisation (see the module docstring)."""
    slot = "canonical" if canonical else "plain"
    try:
        encoder, buffer = getattr(_local, slot)
    except AttributeError:
        buffer = io.BytesIO()
        encoder = cbor2.CBOREncoder(buffer, canonical=canonical)
        setattr(_local, slot, (encoder, buffer))
    buffer.seek(0)
    buffer.truncate()
    try:
        encoder.encode(value)
    except BaseException:
        delattr(_local, slot)  # its state after a failure is unknown: the next call builds a fresh one
        raise
    out: bytes = buffer.getvalue()
    return out


def encode(value: Any) -> bytes:
    """Encode in the deterministic encoding of the module docstring (healthpass data holds no floats).

    A :class:`Tagged` value is supported at the top level only (a tag around a COSE message): healthpass
    data holds no other tags, so nothing below it is walked."""
    if isinstance(value, Tagged):
        if isinstance(value.value, Tagged):
            raise TypeError("nested Tagged values are not supported")
        value = cbor2.CBORTag(value.tag, value.value)
    return _dumps(value, canonical=True)


def encode_ordered(value: dict[Any, Any]) -> bytes:
    """The deterministic encoding of a map whose every map, at every level, already lists its keys in
    canonical order (integers, built in that order by the caller): cbor2's plain encoder keeps insertion
    order, which is then exactly :func:`encode`'s output, at half its cost (no key sorting). For healthpass's
    own claims and payload maps, which the strict decoder would refuse in any other order; tests hold the
    two encodings equal on generated payloads."""
    return _dumps(value)


#: Any head of tag 25, 28, 29 or 256 (string and shared references), in every argument width. cbor2 resolves
#: references while decoding, so a few hundred bytes can describe an exponentially large DAG, and cbor2's own
#: error messages repr() the offending value (e.g. "invalid shared reference %R"): such input must never reach
#: cbor2.loads. A match (possibly inside a string) sends the data through the exact scanner first.
_REFERENCE_TAG = re.compile(
    rb"\xd8[\x19\x1c\x1d]|\xd9(?:\x00[\x19\x1c\x1d]|\x01\x00)|\xda\x00\x00(?:\x00[\x19\x1c\x1d]|\x01\x00)"
    rb"|\xdb\x00{6}(?:\x00[\x19\x1c\x1d]|\x01\x00)"
)


#: Tags cbor2 hands back as ``CBORTag`` (it has no decoder for them): the COSE tags healthpass reads.
_KEPT_TAGS = frozenset({18, 61})


@functools.lru_cache(maxsize=8)
def _interpreted_heads(tags: frozenset[int]) -> tuple[bytes, ...]:
    """Every head (each argument width) of the allowed tags cbor2 would decode into Python objects of its own
    (tag 1 into a ``datetime``): data holding one is decoded by the pure-Python reader, which keeps them as
    tags. Only tags below 24 are supported (an allowed tag 1 for EU CWT times)."""
    heads = []
    for tag in sorted(tags - _KEPT_TAGS):
        if not 0 <= tag < 24:
            raise ValueError(f"allowed tag {tag}: only tags below 24 (or {sorted(_KEPT_TAGS)}) are supported")
        heads += [bytes((0xC0 | tag,)), bytes((0xD8, tag)), b"\xd9\x00" + bytes((tag,)),
                  b"\xda" + bytes(3) + bytes((tag,)), b"\xdb" + bytes(7) + bytes((tag,))]
    return tuple(heads)


def may_hold_tag(data: bytes, tag: int) -> bool:
    """Whether ``data`` contains a head of CBOR tag ``tag`` (below 24) in any argument width, perhaps inside a
    string: False proves that no item decoded from it carries the tag."""
    return any(h in data for h in _interpreted_heads(frozenset({tag})))


def _fail(stage: Stage, what: str, message: str) -> DecodeError:
    return DecodeError(ErrorCode.CBOR_INVALID if stage is Stage.CBOR else _code_for(stage), stage, f"{what}: {message}")


def _code_for(stage: Stage) -> ErrorCode:
    return {
        Stage.COSE: ErrorCode.COSE_INVALID,
        Stage.CLAIMS: ErrorCode.CLAIMS_INVALID,
        Stage.TRUST_LIST: ErrorCode.TRUST_LIST_INVALID,
    }.get(stage, ErrorCode.CBOR_INVALID)


def decode(
    data: bytes,
    *,
    what: str,
    deterministic: bool,
    limits: CborLimits,
    allowed_tags: frozenset[int] = frozenset(),
    stage: Stage = Stage.CBOR,
    typed: bool = False,
) -> Any:
    """Decode exactly one strict CBOR item from ``data``.

    Tags in ``allowed_tags`` come back as :class:`Tagged`; any other tag is an error. Raises
    :class:`DecodeError` with the code matching ``stage`` (``cbor_invalid`` by default).

    ``typed`` (deterministic mode only): the caller checks the type and range of every value it reads and
    rejects unknown keys, so the generic walk is skipped; allowed tags are unwrapped at the top level only,
    and anything else non-plain is left for the caller's type checks to reject.
    """
    if _REFERENCE_TAG.search(data):  # perhaps tags 25/28/29/256: prove there are none before cbor2 reads them
        # A typed caller's bounds are its schema's, not ``limits`` (see below): for it the scan proves only that
        # there are no references, so whether it runs at all (a tag head that a signature, a key or a number
        # holds by chance) never changes what is accepted.
        scan_limits = _typed_scan_limits(limits) if typed and deterministic else limits
        _Scanner(data, scan_limits, allowed_tags, stage, what).scan()
    if not (deterministic or allowed_tags <= _KEPT_TAGS) and any(h in data for h in _interpreted_heads(allowed_tags)):
        # perhaps an allowed tag cbor2 would turn into an object of its own (tag 1: a datetime): read it as a tag
        value = _Scanner(data, limits, allowed_tags, stage, what).decode()
        tagged = _check(value, limits, allowed_tags, stage, what, budget=len(data))
        return _with_tagged(value) if tagged else value
    try:
        # "replace": cbor2 (5.9) leaks memory on each invalid UTF-8 text string it raises for; a replaced
        # string never re-encodes to the input bytes, so the identity check (or the scanner) still refuses it.
        value = cbor2.loads(data, str_errors="replace")
    except RecursionError as err:
        raise _fail(stage, what, "nesting too deep") from err
    except Exception as err:  # cbor2 raises a zoo of types on hostile input; all mean "not CBOR"
        raise _fail(stage, what, f"not well-formed CBOR ({type(err).__name__})") from err
    if typed and deterministic:
        # No references can be present (the pre-scan above), so the value is a tree no larger than its
        # encoding. The plain re-encoding (insertion order kept) proves preferred serialisation, definite
        # lengths, no duplicates and no trailing bytes; the caller's parser checks the types and, with
        # :func:`canonical_order`, the key order of every map it reads.
        try:
            same = _dumps(value) == data
        except Exception as err:
            raise _fail(stage, what, f"not well-formed CBOR ({type(err).__name__})") from err
        if not same:
            raise _fail(stage, what, "not in deterministic encoding (or duplicate keys, indefinite lengths, "
                        "trailing bytes)")
        tags = []
        while type(value) is cbor2.CBORTag:
            if value.tag not in allowed_tags:
                raise _fail(stage, what, f"CBOR tag {value.tag} not allowed")
            tags.append(value.tag)
            value = value.value
        if tags:  # cbor2 6 decoded the tagged content immutably
            value = _thaw(value, limits.max_depth, stage, what)
        for tag in reversed(tags):
            value = Tagged(tag, value)
        return value
    # Bounds first, re-encoding second: cbor2 resolves shared and string references (tags 28/29, 256/25),
    # so a few bytes can decode to a DAG whose re-encoding is exponentially large (``budget``).
    tagged = _check(value, limits, allowed_tags, stage, what, budget=len(data))
    try:
        same = _dumps(value, canonical=deterministic) == data
    except Exception as err:
        raise _fail(stage, what, f"not well-formed CBOR ({type(err).__name__})") from err
    if not same:
        if deterministic:
            raise _fail(stage, what, "not in deterministic encoding (or duplicate keys, indefinite lengths, "
                        "trailing bytes)")
        _Scanner(data, limits, allowed_tags, stage, what).scan()
    if tagged:
        return _with_tagged(value)
    return value


def _check(
    value: Any,
    limits: CborLimits,
    allowed_tags: frozenset[int],
    stage: Stage,
    what: str,
    budget: int,
) -> bool:
    """Check a decoded item against the limits and the data model; True when it holds (allowed) tags.

    Items are visited depth-first in document order, so the first defect is the one reported. Iterative,
    with an explicit stack and no copies: this runs on every scanned code. ``budget`` is the encoded size:
    every item takes at least one byte and every string its length, so visiting more (items plus string
    lengths) than that means shared or string references, refused before anything re-encodes them.
    """
    max_items, max_depth, max_string = limits.max_items, limits.max_depth, limits.max_string
    count = 0
    spent = 0
    tagged = False
    # One iterator per open container (with the depth of its items): scalars are checked inline, in document
    # order, and only containers touch the stack.
    stack: list[tuple[Iterator[Any], int]] = [(iter((value,)), 0)]
    while stack:
        items, depth = stack[-1]
        for item in items:
            count += 1
            if count > max_items:
                raise _fail(stage, what, f"more than {max_items} items")
            kind = type(item)
            if kind is str or kind is bytes:
                size = len(item)
                if size > max_string:
                    raise _fail(stage, what, f"string longer than {max_string}")
                spent += size
            elif kind is int:
                if not _MIN_INT <= item <= _MAX_INT:  # only a bignum tag (2 or 3) can produce these
                    raise _fail(stage, what, "integer outside the 64-bit range (bignum)")
            elif kind is bool or item is None:
                pass
            elif depth >= max_depth:
                raise _fail(stage, what, f"nesting deeper than {max_depth}")
            elif kind in _ARRAYS or kind in _MAPS or kind is cbor2.CBORTag:
                if kind in _MAPS:
                    spent += _check_keys(item, stage, what)
                    children: Iterator[Any] = iter(item.values())
                elif kind in _ARRAYS:
                    children = iter(item)
                else:
                    if item.tag not in allowed_tags:
                        raise _fail(stage, what, f"CBOR tag {item.tag} not allowed")
                    tagged = True
                    children = iter((item.value,))
                if count + spent > budget:
                    raise _fail(stage, what, "decodes to more than its encoded size (shared or string references)")
                stack.append((children, depth + 1))
                break
            elif kind is float:
                if not limits.allow_floats:
                    raise _fail(stage, what, "floating-point value not allowed")
                if not math.isfinite(item):
                    raise _fail(stage, what, "non-finite floating-point value")
            else:
                raise _fail(stage, what, f"unsupported CBOR item ({kind.__name__}, e.g. a semantic tag)")
            if count + spent > budget:
                raise _fail(stage, what, "decodes to more than its encoded size (shared or string references)")
        else:
            stack.pop()
    return tagged


def _check_keys(value: dict[Any, Any], stage: Stage, what: str) -> int:
    """Map keys are integers, text or bytes (key order is proven by the canonical re-encoding); returns the
    total length of the text and byte keys, for the size budget."""
    size = 0
    for k in value:
        kind = type(k)
        if kind is int:
            continue
        if kind is not str and kind is not bytes:
            raise _fail(stage, what, f"map key of type {kind.__name__}")
        size += len(k)
    return size


def _with_tagged(value: Any) -> Any:
    """A checked item with each (allowed) CBOR tag as :class:`Tagged`, its arrays as lists and maps as dicts."""
    kind = type(value)
    if kind is cbor2.CBORTag:
        return Tagged(value.tag, _with_tagged(value.value))
    if kind in _ARRAYS:
        return [_with_tagged(v) for v in value]
    if kind in _MAPS:
        return {k: _with_tagged(v) for k, v in value.items()}
    return value


def _thaw(value: Any, depth: int, stage: Stage, what: str) -> Any:
    """``value`` with its (cbor2 6: immutable) arrays as lists and maps as dicts, at most ``depth`` levels of
    containers deep (typed callers bound nothing else before their own parser reads the value)."""
    kind = type(value)
    if kind in _ARRAYS or kind in _MAPS:
        if depth <= 0:
            raise _fail(stage, what, "nesting too deep")
        if kind in _ARRAYS:
            return [_thaw(v, depth - 1, stage, what) for v in value]
        return {k: _thaw(v, depth - 1, stage, what) for k, v in value.items()}
    return value


_FLOAT_FORMATS = {25: ">e", 26: ">f", 27: ">d"}
_SIMPLE_VALUES = {20: False, 21: True, 22: None}


class _Scanner:
    """Pure-Python well-formedness check for the lenient path (RFC 8949 §3, Appendix C), bounded."""

    __slots__ = ("_allowed_tags", "_data", "_limits", "_pos", "_stage", "_what")

    def __init__(self, data: bytes, limits: CborLimits, allowed_tags: frozenset[int], stage: Stage, what: str) -> None:
        self._data = data
        self._pos = 0
        self._limits = limits
        self._allowed_tags = allowed_tags
        self._stage = stage
        self._what = what

    def scan(self) -> None:
        self._item(0)
        if self._pos != len(self._data):
            raise self._error(f"{len(self._data) - self._pos} trailing bytes")

    def decode(self) -> Any:
        """The item as cbor2 would decode it, except that every tag stays a ``CBORTag`` (the caller's
        :func:`_check` then applies the limits and the data model, as after cbor2)."""
        self.scan()  # well-formedness, limits, duplicate keys, allowed tags: the same rules as the lenient path
        self._pos = 0
        return self._value()

    def _value(self) -> Any:
        """Read one (already scanned, hence well-formed and bounded) item."""
        major, arg, initial = self._head()
        if major == 0:
            return arg
        if major == 1:
            return -1 - arg
        if major == 2:
            return self._take(arg)
        if major == 3:
            return self._take(arg).decode("utf-8")
        if major == 4:
            return [self._value() for _ in range(arg)]
        if major == 5:
            out = {}
            for _ in range(arg):
                key = self._value()
                if type(key) not in (int, str, bytes):
                    raise self._error(f"map key of type {type(key).__name__}")
                out[key] = self._value()
            return out
        if major == 6:
            return cbor2.CBORTag(arg, self._value())
        info = initial & 0x1F
        if info in _FLOAT_FORMATS:
            value: float = struct.unpack(_FLOAT_FORMATS[info], arg.to_bytes(1 << (info - 24), "big"))[0]
            return value
        if info in _SIMPLE_VALUES:
            return _SIMPLE_VALUES[info]
        raise self._error("unsupported CBOR item (simple value)")

    def _error(self, message: str) -> DecodeError:
        return _fail(self._stage, self._what, message)

    def _take(self, n: int) -> bytes:
        end = self._pos + n
        if end > len(self._data):
            raise self._error("truncated")
        chunk = self._data[self._pos : end]
        self._pos = end
        return chunk

    def _head(self) -> tuple[int, int, int]:
        initial = self._take(1)[0]
        major, info = initial >> 5, initial & 0x1F
        if info < 24:
            return major, info, initial
        if info in (24, 25, 26, 27):
            return major, int.from_bytes(self._take(1 << (info - 24)), "big"), initial
        raise self._error("indefinite length or reserved additional information")

    def _item(self, depth: int) -> tuple[int, int | bytes]:
        """Scan one item; returns an identity (major type and value) used to find duplicate map keys."""
        if depth > self._limits.max_depth:
            raise self._error(f"nesting deeper than {self._limits.max_depth}")
        start = self._pos
        major, arg, _ = self._head()
        identity: tuple[int, int | bytes] = (major, arg)
        if major in (2, 3):
            if arg > self._limits.max_string:
                raise self._error(f"string longer than {self._limits.max_string}")
            chunk = self._take(arg)
            identity = (major, chunk)
            if major == 3:
                try:
                    chunk.decode("utf-8")
                except UnicodeDecodeError as err:
                    raise self._error("invalid UTF-8 in text string") from err
        elif major == 4:
            if arg > self._limits.max_items:
                raise self._error("array too long")
            for _ in range(arg):
                self._item(depth + 1)
        elif major == 5:
            if arg > self._limits.max_items:
                raise self._error("map too long")
            seen: set[tuple[int, int | bytes]] = set()
            for _ in range(arg):
                key = self._item(depth + 1)
                if key in seen:
                    raise self._error("duplicate map key")
                seen.add(key)
                self._item(depth + 1)
        elif major == 6:
            if arg not in self._allowed_tags:
                raise self._error(f"CBOR tag {arg} not allowed")
            self._item(depth + 1)
        if major in (4, 5, 6):
            identity = (major, self._data[start : self._pos])
        return identity

