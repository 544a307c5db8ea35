"""Sign and verify COSE_Sign1 messages over the bytes received (RFC 9052 §4.4)."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from healthpass import crypto
from healthpass.codec import encode_sign1, sig_structure
from healthpass.codec.cbor import encode
from healthpass.errors import DecodeError, ErrorCode, HealthPassError, Stage, VerificationError
from healthpass.model.cose import Algorithm, CoseSign1, HeaderLabel

if TYPE_CHECKING:  # annotations only: a verifier never creates the Signer protocol class
    from healthpass.model.signer import Signer

__all__ = [
    "UNDERSTOOD_HEADERS",
    "HeaderInfo",
    "read_headers",
    "seal_document",
    "sign1",
    "sign1_measure",
    "verify_with",
]

#: Header parameters this implementation understands (a ``crit`` entry naming another one is rejected).
UNDERSTOOD_HEADERS = frozenset({HeaderLabel.ALG, HeaderLabel.KID, HeaderLabel.CONTENT_TYPE})

K = TypeVar("K")
_ALG, _CRIT, _KID = HeaderLabel.ALG.value, HeaderLabel.CRIT.value, HeaderLabel.KID.value
_ALGORITHMS = {alg.value: alg for alg in Algorithm}  # read-only lookup (Algorithm(x) is a slow call)
_SM2 = Algorithm.SM2


class HeaderInfo:
    """The algorithm and kid a message names, resolved from its headers."""

    __slots__ = ("algorithm", "kid")

    def __init__(self, algorithm: Algorithm, kid: bytes) -> None:
        self.algorithm = algorithm
        self.kid = kid


def sign1(signer: Signer, payload: bytes, *, kid: bytes | None = None) -> bytes:
    """A tagged COSE_Sign1 over ``payload``: alg and kid in the protected header, empty unprotected header.

    ``kid`` overrides the signer's SPKI-based kid (a key distributed as a certificate is named by the
    certificate's kid).
    """
    protected = _protected_header(signer.algorithm, kid or signer.kid)
    signature = signer.sign(sig_structure(protected, payload))
    return encode_sign1(protected, {}, payload, signature)


def sign1_measure(signer: Signer, payload: bytes, *, kid: bytes | None = None) -> bytes:
    """The message :func:`sign1` would return, with random bytes of the signature's length in its place: for
    measuring a code before signing it (an issuer checks that a code fits its QR symbol before it allocates the
    code a status-list index). Random, not zeros, so that it compresses as a signature does. Never a valid
    signature: it is measured and thrown away, never sent."""
    protected = _protected_header(signer.algorithm, kid or signer.kid)
    filler = os.urandom(crypto.signature_size(signer.algorithm, signer.public_key_der))
    return encode_sign1(protected, {}, payload, filler)


@functools.lru_cache(maxsize=64)  # an issuer signs every code with the same header: encode it once
def _protected_header(algorithm: Algorithm, kid: bytes) -> bytes:
    return encode({_ALG: algorithm.value, _KID: kid})


def _check_crit(msg: CoseSign1) -> None:
    if _CRIT in msg.unprotected_header:
        raise DecodeError(ErrorCode.COSE_INVALID, Stage.COSE, "crit must be in the protected header")
    crit = msg.protected_header.get(_CRIT)
    if crit is None:
        return
    if type(crit) is not list or not crit:
        raise DecodeError(ErrorCode.COSE_INVALID, Stage.COSE, "crit must be a non-empty array")
    for label in crit:
        if type(label) is not int and type(label) is not str:  # RFC 9052 §3.1: labels are int / tstr
            raise DecodeError(ErrorCode.COSE_INVALID, Stage.COSE, "crit holds a label that is not int or text")
        if label not in msg.protected_header:
            raise DecodeError(ErrorCode.COSE_INVALID, Stage.COSE, f"crit names absent parameter {label!r}")
        if label not in UNDERSTOOD_HEADERS:
            raise DecodeError(ErrorCode.COSE_INVALID, Stage.COSE, f"crit names unknown parameter {label!r}")


def read_headers(msg: CoseSign1, *, allowed: frozenset[Algorithm], kid_protected: bool) -> HeaderInfo:
    """What the headers mean, checked here and nowhere else: ``crit``, the algorithm and the kid.

    ``crit`` must sit in the protected header and name only present parameters this implementation
    understands; alg must sit in the protected header; the kid must be present, in the protected header when
    ``kid_protected`` (healthpass codes and documents), else in either (the protected one wins; EU DCCs
    and status lists). The codec has already checked each value's type.

    Raises DecodeError (``cose_invalid``) for a malformed ``crit``, a missing alg or kid, and
    VerificationError (``algorithm_unsupported``) for an algorithm outside ``allowed`` or, for SM2, where its
    optional backend is unavailable (the message names the ``healthpass[sm]`` extra).
    """
    _check_crit(msg)
    alg_value: Any = msg.protected_header.get(_ALG)
    if alg_value is None:
        raise DecodeError(ErrorCode.COSE_INVALID, Stage.COSE, "no alg in the protected header")
    alg = _ALGORITHMS.get(alg_value) if type(alg_value) is int else None
    if alg is None or alg not in allowed:
        raise VerificationError(ErrorCode.ALGORITHM_UNSUPPORTED, Stage.ALGORITHM,
                                f"algorithm {alg_value} is not allowed")
    if alg is _SM2:  # allowed only where its optional backend is available (checked once per process)
        missing = crypto.algorithm_unavailable(alg)
        if missing is not None:
            raise VerificationError(ErrorCode.ALGORITHM_UNSUPPORTED, Stage.ALGORITHM, missing)
    kid = msg.protected_header.get(_KID)
    if kid is None:
        if kid_protected:
            raise DecodeError(ErrorCode.COSE_INVALID, Stage.COSE, "no kid in the protected header")
        kid = msg.unprotected_header.get(_KID)
        if kid is None:
            raise DecodeError(ErrorCode.COSE_INVALID, Stage.COSE, "no kid in the headers")
    return HeaderInfo(alg, kid)


def verify_with(
    msg: CoseSign1,
    alg: Algorithm,
    candidates: Iterable[tuple[K, crypto.PublicKey]],
    *,
    require_low_s: bool,
) -> K:
    """Verify ``msg`` with each candidate key in turn; return the entry of the first that verifies.

    Every candidate is tried (several trusted keys may share a kid). When none verifies, raises
    ``signature_invalid`` if any candidate fits the algorithm, ``algorithm_unsupported`` otherwise.
    """
    to_be_signed = sig_structure(msg.protected, msg.payload)
    failure: HealthPassError | None = None
    for entry, key in candidates:
        try:
            crypto.verify_signature(alg, key, to_be_signed, msg.signature, require_low_s=require_low_s)
        except VerificationError as err:
            if failure is None or err.code is ErrorCode.SIGNATURE_INVALID:
                failure = err
            continue
        return entry
    if failure is None:
        raise VerificationError(ErrorCode.KEY_UNKNOWN, Stage.KEY, "no trusted key")
    raise failure


def seal_document(signer: Signer, content_type: str, payload: bytes) -> bytes:
    """A tagged COSE_Sign1 over a signed document; the protected header names its content type (alg, content
    type, kid). The document layer (:mod:`healthpass.documents`) decides what is sealed and verifies it."""
    protected = encode({
        HeaderLabel.ALG.value: signer.algorithm.value,
        HeaderLabel.CONTENT_TYPE.value: content_type,
        HeaderLabel.KID.value: signer.kid,
    })
    signature = signer.sign(sig_structure(protected, payload))
    return encode_sign1(protected, {}, payload, signature)
