#!/usr/bin/env python3
"""Fuzz target: trust-list loading. First byte 0: the bytes are the signed list as distributed; 1: the bytes
are the list's payload, sealed by the configured root (reaches the envelope and key-entry decoding).
Invariant: TrustList.load returns a list or raises TrustListError, nothing else."""

from __future__ import annotations

from _common import FixedSigner, instrumented, run, trust_lists

with instrumented():
    from healthpass.codec.signed_doc import ContentType
    from healthpass.cose import seal_document
    from healthpass.errors import TrustListError
    from healthpass.trust import TrustList, trust_root

ROOT = FixedSigner("ed-root")
ROOTS = [trust_root(ROOT.public_pem)]


def test_one_input(data: bytes) -> None:
    if not data:
        return
    body = data[1:]
    if data[0] & 1:
        body = seal_document(ROOT, ContentType.TRUST_LIST.value, body)  # type: ignore[arg-type]
    try:
        loaded = TrustList.load(body, ROOTS)
    except TrustListError:
        return
    assert loaded.not_after > loaded.issued_at


def seeds():  # type: ignore[no-untyped-def]
    from _common import safe_loads

    for data in trust_lists():
        yield b"\x00" + data
        items = safe_loads(data)
        if isinstance(items, list) and len(items) == 4 and isinstance(items[2], bytes):
            yield b"\x01" + items[2]


if __name__ == "__main__":
    run(test_one_input, seeds)
