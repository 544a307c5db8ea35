"""COSE_Sign1 structure (RFC 9052 §4.2) on the wire: the generic decoder, header structure, encoding.

This module reads any valid layout with the bounded CBOR decoder; :mod:`healthpass.codec.sign1_fast` reads
the common layout by hand and is tested to agree with it. Neither judges what the headers mean (``crit``,
where alg and kid sit): that is :func:`healthpass.cose.read_headers`'s.
"""

from __future__ import annotations

from typing import Any

from healthpass.codec.cbor import Tagged, canonical_order, cbor_limits, decode, encode
from healthpass.errors import DecodeError, ErrorCode, Stage
from healthpass.model.cose import CoseSign1, CoseTag, HeaderLabel
from healthpass.model.policy import Limits

__all__ = ["check_header", "decode_sign1_generic", "encode_sign1", "protected_map", "sig_structure"]

_SIGN1_ITEMS = 4
_SIGN1_TAGS = frozenset({CoseTag.SIGN1, CoseTag.CWT})


def _cose_error(message: str) -> DecodeError:
    return DecodeError(ErrorCode.COSE_INVALID, Stage.COSE, message)


def _bstr(data: bytes) -> bytes:
    """A CBOR byte string in preferred serialisation (head with the shortest length, then the bytes)."""
    size = len(data)
    if size < 24:
        return bytes((_BSTR | size,)) + data
    if size < 0x100:
        return bytes((_BSTR | 24, size)) + data
    if size < 0x10000:
        return bytes((_BSTR | 25,)) + size.to_bytes(2, "big") + data
    return encode(data)


_BSTR = 0x40  # major type 2 (byte string) in the head's top three bits
#: The fixed parts of a Sig_structure (RFC 9052 §4.4) and of a tagged COSE_Sign1, encoded once.
_SIG_STRUCTURE_HEAD = encode(["Signature1", b"", b"", b""])[:-3]  # array(4), "Signature1"
_SIGN1_ARRAY_HEAD = encode(Tagged(CoseTag.SIGN1, [b"", b"", b"", b""]))[:-4]  # tag 18, array(4)
_EMPTY_MAP = encode({})


def sig_structure(protected: bytes, payload: bytes, external_aad: bytes = b"") -> bytes:
    """The ``Sig_structure`` for COSE_Sign1, built over the protected header bytes as given.

    Concatenated from preferred-serialisation byte strings, which is exactly the deterministic CBOR encoding
    of ``["Signature1", protected, external_aad, payload]`` (tested against the encoder)."""
    return _SIG_STRUCTURE_HEAD + _bstr(protected) + _bstr(external_aad) + _bstr(payload)


def encode_sign1(protected: bytes, unprotected: dict[int, Any], payload: bytes, signature: bytes) -> bytes:
    """A tagged (18) COSE_Sign1 in deterministic encoding (concatenated like :func:`sig_structure`)."""
    header = _EMPTY_MAP if not unprotected else encode(unprotected)
    return _SIGN1_ARRAY_HEAD + _bstr(protected) + header + _bstr(payload) + _bstr(signature)


#: Header parameters a healthpass code may carry (everything else is refused, so nothing goes unchecked).
_STRICT_HEADERS = frozenset({HeaderLabel.ALG, HeaderLabel.KID, HeaderLabel.CRIT, HeaderLabel.CONTENT_TYPE})


def check_header(value: object, where: str, limits: Limits, *, strict: bool) -> dict[int | str, Any]:
    """Check a header map's structure and value types. ``strict`` (healthpass): only alg, kid, crit and content
    type. What the parameters mean (``crit``, where alg and kid may sit) is :func:`healthpass.cose.read_headers`'s."""
    if type(value) is not dict:
        raise _cose_error(f"{where} header is not a map")
    if strict and not canonical_order(value):
        raise _cose_error(f"{where} header keys are not in canonical order")
    if len(value) > limits.max_header_entries:
        raise _cose_error(f"{where} header has more than {limits.max_header_entries} entries")
    for label, item in value.items():
        if type(label) not in (int, str):
            raise _cose_error(f"{where} header label is neither an integer nor text")
        if label == HeaderLabel.ALG and type(item) is not int:
            raise _cose_error(f"{where} alg is not an integer")
        if label == HeaderLabel.KID and (type(item) is not bytes or len(item) > limits.max_string):
            raise _cose_error(f"{where} kid is not a byte string within the string limit")
        if strict:
            if label not in _STRICT_HEADERS:
                raise _cose_error(f"{where} header parameter {label!r} is not allowed in healthpass codes")
            if label == HeaderLabel.CONTENT_TYPE and type(item) is not str and type(item) is not int:
                raise _cose_error(f"{where} content type is neither text nor an integer")
    return value


def protected_map(protected: bytes, limits: Limits, *, strict: bool) -> Any:
    if not protected:
        return {}
    return decode(protected, what="protected header", deterministic=strict, limits=cbor_limits(limits),
                  stage=Stage.COSE, typed=strict)


def decode_sign1_generic(data: bytes, *, limits: Limits, strict: bool) -> CoseSign1:
    """Decode a COSE_Sign1 message with the bounded CBOR decoder (see :func:`healthpass.codec.decode_sign1`)."""
    value = decode(data, what="COSE_Sign1", deterministic=strict, limits=cbor_limits(limits),
                   allowed_tags=_SIGN1_TAGS, typed=strict)
    tags: list[int] = []
    while isinstance(value, Tagged):
        tags.append(value.tag)
        value = value.value
    if tuple(tags) not in (((CoseTag.SIGN1,),) if strict else ((CoseTag.SIGN1,), (CoseTag.CWT, CoseTag.SIGN1), ())):
        raise _cose_error(f"unexpected CBOR tags {tags} around COSE_Sign1")
    if type(value) is not list or len(value) != _SIGN1_ITEMS:
        raise _cose_error("COSE_Sign1 is not an array of four items")
    protected, unprotected, payload, signature = value
    if type(protected) is not bytes or type(payload) is not bytes or type(signature) is not bytes:
        raise _cose_error("COSE_Sign1 protected header, payload and signature must be byte strings")
    protected_header = check_header(protected_map(protected, limits, strict=strict), "protected", limits, strict=strict)
    unprotected_header = check_header(unprotected, "unprotected", limits, strict=False)
    if strict and unprotected_header:
        raise _cose_error("the unprotected header of a healthpass code must be empty")
    return CoseSign1(protected, protected_header, unprotected_header, payload, signature, tuple(tags))
