"""Strict, bounded CBOR on top of cbor2 (the only module importing cbor2).

cbor2 is lenient by default (trailing bytes ignored, duplicate keys allowed, semantic tags such as regular
expressions or MIME messages decoded into Python objects). Scanned input goes through :func:`decode`, which
accepts an item only when

* it is well-formed, uses definite lengths only, has no trailing bytes and no duplicate map keys;
* it contains only the plain data model (integers, text, bytes, arrays, maps, booleans, null and, where the
  caller allows it, floats) and only the tags the caller names;
* its nesting depth, item count and string lengths stay within :class:`CborLimits`;
* in ``deterministic`` mode it is the RFC 8949 §4.2.1 core deterministic encoding of its value (shortest
  forms, map keys in bytewise lexicographic order of their encodings).

The fast path decodes with cbor2's C decoder and re-encodes: an input whose re-encoding is byte-identical
cannot hide duplicates, indefinite lengths, trailing bytes or over-long heads. Only when that comparison fails
in lenient mode (foreign formats, e.g. EU certificates, may use non-preferred encodings) does a pure-Python
well-formedness scanner decide.
"""

from __future__ import annotations

import io
import math
import re
import threading
from dataclasses import dataclass
from typing import Any

import cbor2

from healthpass.errors import DecodeError, ErrorCode, Stage

__all__ = ["CborLimits", "Tagged", "decode", "encode", "key_order"]


@dataclass(frozen=True, slots=True)
class CborLimits:
    """Bounds applied to every decoded CBOR item."""

    max_depth: int = 16
    max_items: int = 4096
    max_string: int = 16384
    allow_floats: bool = False


@dataclass(frozen=True, slots=True)
class Tagged:
    """A CBOR tag and its content, as decoded (only for tags a caller explicitly allows)."""

    tag: int
    value: Any


_MIN_INT = -(2**64)
_MAX_INT = 2**64 - 1


def key_order(key: object) -> tuple[int, int, bytes]:
    """Sort key giving RFC 8949 §4.2.1 bytewise order of the shortest encodings of int/text/bytes keys."""
    if isinstance(key, bool):  # encoded as simple values (major type 7)
        return (7, int(key), b"")
    if isinstance(key, int):
        return (0, key, b"") if key >= 0 else (1, -1 - key, b"")
    if isinstance(key, bytes):
        return (2, len(key), key)
    if isinstance(key, str):
        raw = key.encode("utf-8")
        return (3, len(raw), raw)
    raise TypeError(f"unsupported map key type {type(key).__name__}")


def _sorted_map(value: dict[Any, Any]) -> dict[Any, Any]:
    return {k: _deterministic(value[k]) for k in sorted(value, key=key_order)}


def _deterministic(value: Any) -> Any:
    if isinstance(value, dict):
        return _sorted_map(value)
    if isinstance(value, list | tuple):
        return [_deterministic(v) for v in value]
    if isinstance(value, Tagged):
        return cbor2.CBORTag(value.tag, _deterministic(value.value))
    return value


_local = threading.local()


def _dumps(value: Any) -> bytes:
    """``cbor2.dumps`` with one reused encoder per thread: building an encoder costs more than most encodings."""
    try:
        encoder, buffer = _local.encoder
    except AttributeError:
        buffer = io.BytesIO()
        encoder = cbor2.CBOREncoder(buffer)
        _local.encoder = encoder, buffer
    buffer.seek(0)
    buffer.truncate()
    try:
        encoder.encode(value)
    except BaseException:
        del _local.encoder  # its state after a failure is unknown: the next call builds a fresh one
        raise
    out: bytes = buffer.getvalue()
    return out


def encode(value: Any) -> bytes:
    """Encode with RFC 8949 §4.2.1 core deterministic encoding (no floats are expected in healthpass data)."""
    return _dumps(_deterministic(value))


#: Any head of tag 25, 28, 29 or 256 (string and shared references), in every argument width. cbor2 resolves
#: references while decoding, so a few hundred bytes can describe an exponentially large DAG, and cbor2's own
#: error messages repr() the offending value (e.g. "invalid shared reference %R"): such input must never reach
#: cbor2.loads. A match (possibly inside a string) sends the data through the exact scanner first.
_REFERENCE_TAG = re.compile(
    rb"\xd8[\x19\x1c\x1d]|\xd9(?:\x00[\x19\x1c\x1d]|\x01\x00)|\xda\x00\x00(?:\x00[\x19\x1c\x1d]|\x01\x00)"
    rb"|\xdb\x00{6}(?:\x00[\x19\x1c\x1d]|\x01\x00)"
)


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
) -> Any:
    """Decode exactly one strict CBOR item from ``data``.

    Tags in ``allowed_tags`` come back as :class:`Tagged`; any other tag is an error. Raises
    :class:`DecodeError` with the code matching ``stage`` (``cbor_invalid`` by default).
    """
    if _REFERENCE_TAG.search(data):  # perhaps tags 25/28/29/256: prove there are none before cbor2 reads them
        _Scanner(data, limits, allowed_tags, stage, what).scan()
    try:
        value = cbor2.loads(data)
    except RecursionError as err:
        raise _fail(stage, what, "nesting too deep") from err
    except Exception as err:  # cbor2 raises a zoo of types on hostile input; all mean "not CBOR"
        raise _fail(stage, what, f"not well-formed CBOR ({type(err).__name__})") from err
    # Bounds first, re-encoding second: cbor2 resolves shared and string references (tags 28/29, 256/25),
    # so a few bytes can decode to a DAG whose re-encoding is exponentially large (``budget``).
    tagged = _check(value, limits, allowed_tags, deterministic, stage, what, budget=len(data))
    try:
        same = _dumps(value) == data
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
    deterministic: bool,
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
    stack: list[tuple[Any, int]] = [(value, 0)]
    pop, extend = stack.pop, stack.extend
    while stack:
        value, depth = pop()
        count += 1
        if count > max_items:
            raise _fail(stage, what, f"more than {max_items} items")
        if count + spent > budget:
            raise _fail(stage, what, "decodes to more than its encoded size (shared or string references)")
        kind = type(value)
        if kind is int:
            if not _MIN_INT <= value <= _MAX_INT:  # only a bignum tag (2 or 3) can produce these
                raise _fail(stage, what, "integer outside the 64-bit range (bignum)")
            continue
        if kind is bool or value is None:
            continue
        if kind is str or kind is bytes:
            if len(value) > max_string:
                raise _fail(stage, what, f"string longer than {max_string}")
            spent += len(value)
            continue
        if depth >= max_depth:
            raise _fail(stage, what, f"nesting deeper than {max_depth}")
        depth += 1
        if kind is list:
            extend([(v, depth) for v in reversed(value)])
        elif kind is dict:
            _check_keys(value, deterministic, stage, what)
            spent += sum(len(k) for k in value if type(k) is not int)
            extend([(v, depth) for v in reversed(value.values())])
        elif kind is float:
            if not limits.allow_floats:
                raise _fail(stage, what, "floating-point value not allowed")
            if not math.isfinite(value):
                raise _fail(stage, what, "non-finite floating-point value")
        elif kind is cbor2.CBORTag:
            if value.tag not in allowed_tags:
                raise _fail(stage, what, f"CBOR tag {value.tag} not allowed")
            tagged = True
            stack.append((value.value, depth))
        else:
            raise _fail(stage, what, f"unsupported CBOR item ({kind.__name__}, e.g. a semantic tag)")
    return tagged


def _check_keys(value: dict[Any, Any], deterministic: bool, stage: Stage, what: str) -> None:
    for k in value:
        kind = type(k)
        if kind is not int and kind is not str and kind is not bytes:
            raise _fail(stage, what, f"map key of type {kind.__name__}")
    if deterministic and len(value) > 1:
        previous = None
        for k in value:  # key_order is one-to-one on these keys: sorted means strictly increasing
            order = key_order(k)
            if previous is not None and order <= previous:
                raise _fail(stage, what, "map keys not in deterministic order")
            previous = order


def _with_tagged(value: Any) -> Any:
    """A checked item with each (allowed) CBOR tag as :class:`Tagged`."""
    kind = type(value)
    if kind is cbor2.CBORTag:
        return Tagged(value.tag, _with_tagged(value.value))
    if kind is list:
        return [_with_tagged(v) for v in value]
    if kind is dict:
        return {k: _with_tagged(v) for k, v in value.items()}
    return value


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

