#!/usr/bin/env python3
"""Fuzz target: trust-list loading and the lazy key entries. The first byte picks what the rest is (mod 4):
0, the signed list as distributed; 1, the list's payload, sealed by the configured root (reaches the envelope
and the index of kids); 2, the body alone, in a correct envelope sealed by the root (reaches the index and the
entries); 3, one entry's bytes listed under a fixed kid, sealed by the root (reaches the entry checks).
Every loaded list is then checked entry by entry (each kid looked up, then ``check_all``).
Invariants: TrustList.load and every lookup return or raise TrustListError, nothing else; a loaded list's kids
are 8-byte strings in strictly increasing order; a key that checks is listed under the kid of its material."""

from __future__ import annotations

import contextlib
import itertools

from _common import FixedSigner, instrumented, run, trust_lists

with instrumented():
    import cbor2

    from healthpass.codec.signed_doc import ContentType
    from healthpass.cose import seal_document
    from healthpass.crypto import kid_for
    from healthpass.errors import TrustListError
    from healthpass.trust import TrustList, trust_root

ROOT = FixedSigner("ed-root")
ROOTS = [trust_root(ROOT.public_pem)]
#: The envelope of modes 2 and 3 up to the body: version 1, seq 1, issued 2026-11-20, not after 2026-12-04.
ENVELOPE_HEAD = bytes.fromhex("a50101020103") + cbor2.dumps(1795132800) + b"\x04" + cbor2.dumps(1796342400) + b"\x05"
FIXED_KID = kid_for(ROOT.public_key_der)


def _document(mode: int, body: bytes) -> bytes:
    if mode == 0:
        return body
    if mode == 1:
        payload = body
    elif mode == 2:
        payload = ENVELOPE_HEAD + body
    else:
        payload = ENVELOPE_HEAD + b"\xa1" + cbor2.dumps(FIXED_KID) + cbor2.dumps(body)
    return seal_document(ROOT, ContentType.TRUST_LIST.value, payload)  # type: ignore[arg-type]


def test_one_input(data: bytes) -> None:
    if not data:
        return
    try:
        loaded = TrustList.load(_document(data[0] % 4, data[1:]), ROOTS)
    except TrustListError:
        return
    assert loaded.not_after > loaded.issued_at
    kids = list(loaded.keys.kids())
    assert len(kids) == len(loaded.keys) and all(len(kid) == 8 for kid in kids)
    assert all(a < b for a, b in itertools.pairwise(kids))
    for kid in kids:
        try:
            key = loaded.keys.get(kid)
        except TrustListError:
            continue
        assert key is not None and key.kid == kid == kid_for(key.key_der)
    with contextlib.suppress(TrustListError):
        loaded.check_all()


def seeds():  # type: ignore[no-untyped-def]
    from _common import safe_loads

    for data in trust_lists():
        yield b"\x00" + data
        items = safe_loads(data)
        if isinstance(items, list) and len(items) == 4 and isinstance(items[2], bytes):
            yield b"\x01" + items[2]
            envelope = safe_loads(items[2])
            body = envelope.get(5) if isinstance(envelope, dict) else None
            if isinstance(body, dict):
                yield b"\x02" + cbor2.dumps(body, canonical=True)
                yield from (b"\x03" + entry for entry in body.values() if isinstance(entry, bytes))

if __name__ == "__main__":
    run(test_one_input, seeds)
