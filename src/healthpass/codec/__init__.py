"""bytes <-> model: strict CBOR, base45, bounded zlib, COSE and CWT structure, the text transport."""

from healthpass.codec.base45 import b45decode, b45encode
from healthpass.codec.cbor import CborLimits, Tagged
from healthpass.codec.compress import compress, decompress
from healthpass.codec.cose import decode_claims, decode_sign1, encode_sign1, sig_structure
from healthpass.codec.transport import Prefix, split_prefix

__all__ = [
    "CborLimits",
    "Prefix",
    "Tagged",
    "b45decode",
    "b45encode",
    "compress",
    "decode_claims",
    "decode_sign1",
    "decompress",
    "encode_sign1",
    "sig_structure",
    "split_prefix",
]
