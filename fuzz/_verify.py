"""The full-verification fuzz targets (HP1 and HC1) share this: the first input byte picks the layer.

- 0: the bytes are the code text (latin-1) after the prefix;
- 1: the bytes are the COSE message (compressed and base45-encoded by the harness);
- 2: the bytes are the CWT claims, signed by the harness with a trusted key (reaches claims, payload, scope
  and validity checks, which a fuzzer cannot reach by forging signatures);
- 3: the bytes are the protected header, signed together with valid claims by a trusted key.

Invariant: ``Verifier.verify`` returns a credential or raises a HealthPassError, nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from _common import AT, FixedSigner, cose_messages, instrumented, payloads_of, verifier

with instrumented():
    from healthpass.codec import b45encode, compress, encode_sign1, sig_structure
    from healthpass.codec.cbor import encode
    from healthpass.errors import HealthPassError


def make_target(prefix: str, signer_label: str) -> tuple[Callable[[bytes], None], Callable[[], Iterator[bytes]]]:
    checker = verifier()
    signer = FixedSigner(signer_label)
    protected = encode({1: signer.algorithm.value, 4: signer.kid})
    valid_claims = next(p for p in payloads_of(cose_messages(prefix)))

    def signed(protected_bytes: bytes, claims: bytes) -> bytes:
        return encode_sign1(protected_bytes, {}, claims, signer.sign(sig_structure(protected_bytes, claims)))

    def test_one_input(data: bytes) -> None:
        if not data:
            return
        mode, body = data[0] & 3, data[1:]
        if mode == 0:
            text = prefix + body.decode("latin-1")
        elif mode == 1:
            text = prefix + b45encode(compress(body))
        elif mode == 2:
            text = prefix + b45encode(compress(signed(protected, body)))
        else:
            text = prefix + b45encode(compress(signed(body, valid_claims)))
        try:
            result: Any = checker.verify(text, at=AT)
        except HealthPassError:
            return
        assert result.kid in checker.keys

    def seeds() -> Iterator[bytes]:
        from _common import code_texts

        for text in code_texts():
            if text.startswith(prefix):
                yield b"\x00" + text[4:].encode("latin-1", "replace")
        for message in cose_messages(prefix):
            yield b"\x01" + message
        for claims in payloads_of(cose_messages(prefix)):
            yield b"\x02" + claims
        yield b"\x03" + protected

    return test_one_input, seeds
