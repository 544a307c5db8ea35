"""Shared set-up for the fuzz targets: fixed keys, a verifier, seed inputs and the atheris entry point.

Each ``fuzz_*.py`` defines ``test_one_input(data: bytes) -> None`` and calls :func:`run`. The only exception a
decoder may let escape is a :class:`healthpass.errors.HealthPassError`; anything else is a finding (atheris
reports it with the input that caused it).

Seeds come from ``tests/vectors/attacks.json`` (valid controls and every attack) so the fuzzer starts deep in
each format. ``python fuzz/fuzz_X.py --write-seeds DIR`` writes them as files for libFuzzer's corpus directory.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE_PATH = ROOT / "tests" / "vectors" / "attacks.json"
AT = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)


class FixedSigner:
    """An Ed25519 signer derived from a label (the same derivation as the attack catalogue's keys)."""

    def __init__(self, label: str) -> None:
        from healthpass.crypto import kid_for
        from healthpass.model.cose import Algorithm

        seed = hashlib.sha256(f"healthpass attack catalogue / {label}".encode()).digest()
        self._key = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
        self.public_key_der = self._key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        self.public_pem = self._key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        self.kid = kid_for(self.public_key_der)
        self.algorithm = Algorithm.EDDSA

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data)


def catalogue() -> dict[str, Any]:
    return json.loads(CATALOGUE_PATH.read_text("utf-8"))


def verifier() -> Any:
    """The catalogue's default verifier (all its trusted keys, scopes and windows)."""
    sys.path.insert(0, str(ROOT / "tests" / "vectors"))
    import make_attacks

    doc = catalogue()
    from healthpass.verify import Verifier

    return Verifier(keys=[make_attacks.issuer_key_from_spec(s, doc["keys"])
                          for s in doc["trust_profiles"]["default"]])


def code_texts() -> Iterator[str]:
    doc = catalogue()
    for vector in doc["controls"] + doc["vectors"]:
        if vector["kind"] == "code":
            yield vector["text"]


def cose_messages(prefix: str | None = None) -> Iterator[bytes]:
    """The decompressed COSE messages of the catalogue's codes (those that get that far)."""
    from healthpass.codec import b45decode, decompress
    from healthpass.errors import HealthPassError

    for text in code_texts():
        if prefix is not None and not text.startswith(prefix):
            continue
        try:
            yield decompress(b45decode(text.strip()[4:]), max_size=1 << 16)
        except HealthPassError:
            continue


def safe_loads(data: bytes) -> Any:
    """Decode CBOR through healthpass's strict decoder (lenient encoding, tags 18/61 kept as Tagged), or None.

    Never ``cbor2.loads`` on catalogue data: some vectors are built to exhaust memory inside it."""
    from healthpass.codec.cbor import CborLimits, Tagged, decode
    from healthpass.errors import HealthPassError

    try:
        value = decode(data, what="seed", deterministic=False, limits=CborLimits(), allowed_tags=frozenset({18, 61}))
    except HealthPassError:
        return None
    while isinstance(value, Tagged):
        value = value.value
    return value


def payloads_of(messages: Iterator[bytes]) -> Iterator[bytes]:
    for message in messages:
        items = safe_loads(message)
        if isinstance(items, list) and len(items) == 4 and isinstance(items[2], bytes):
            yield items[2]


def trust_lists() -> Iterator[bytes]:
    doc = catalogue()
    for vector in doc["vectors"] + doc["controls"]:
        if vector["kind"] == "trust_list":
            yield base64.b64decode(vector["data_b64"])
        elif isinstance(vector.get("trust"), dict):
            yield base64.b64decode(vector["trust"]["trust_list_b64"])


def write_seeds(directory: Path, seeds: Iterator[bytes]) -> int:
    directory.mkdir(parents=True, exist_ok=True)
    count = 0
    for seed in seeds:
        (directory / hashlib.sha1(seed).hexdigest()).write_bytes(seed)
        count += 1
    return count


def run(test_one_input: Callable[[bytes], None], seeds: Callable[[], Iterator[bytes]]) -> None:
    """``--write-seeds DIR`` writes the seed corpus; ``--replay FILE...`` runs inputs without atheris;
    anything else goes to atheris/libFuzzer (``-runs=N``, ``-max_total_time=S``, corpus directories...)."""
    args = sys.argv[1:]
    if args[:1] == ["--write-seeds"]:
        print(f"{write_seeds(Path(args[1]), seeds())} seeds written to {args[1]}")
        return
    if args[:1] == ["--replay"]:
        for name in args[1:]:
            test_one_input(Path(name).read_bytes())
        print(f"replayed {len(args) - 1} inputs without a finding")
        return
    import atheris

    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


def instrumented(*also: str) -> Any:
    """``atheris.instrument_imports()`` when atheris is installed (coverage feedback for healthpass, cbor2's
    Python parts, zlib-ng's wrapper, and the packages named in ``also``), else a no-op context (``--replay``
    works without atheris)."""
    if os.environ.get("HEALTHPASS_FUZZ_NO_INSTRUMENT"):
        import contextlib

        return contextlib.nullcontext()
    try:
        import atheris
    except ImportError:
        import contextlib

        return contextlib.nullcontext()
    return atheris.instrument_imports(include=["healthpass", *also])
