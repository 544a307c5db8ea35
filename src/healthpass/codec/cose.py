"""COSE_Sign1 and CWT on the wire: the entry points (one concern per module below them).

* :mod:`healthpass.codec.sign1` - the COSE_Sign1 structure: the generic decoder, header structure, encoding;
* :mod:`healthpass.codec.sign1_fast` - the common layout read by hand, tested against the generic decoder;
* :mod:`healthpass.codec.cwt` - the CWT claims.
"""

from __future__ import annotations

from healthpass.codec.cwt import decode_claims
from healthpass.codec.sign1 import decode_sign1_generic, encode_sign1, sig_structure
from healthpass.codec.sign1_fast import decode_sign1_fast
from healthpass.model.cose import CoseSign1
from healthpass.model.policy import Limits

__all__ = ["decode_claims", "decode_sign1", "encode_sign1", "sig_structure"]


def decode_sign1(data: bytes, *, limits: Limits, strict: bool) -> CoseSign1:
    """Decode a COSE_Sign1 message.

    ``strict`` (healthpass codes): deterministic encoding, tag 18 required, no label in both headers.
    Otherwise (EU DCC): tagged 18, untagged, or wrapped in CWT tag 61, any valid encoding.
    """
    plain = decode_sign1_fast(data, limits, strict=strict)
    if plain is not None:
        return plain
    return decode_sign1_generic(data, limits=limits, strict=strict)
