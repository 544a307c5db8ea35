"""``Issuer.issue_many(status=)`` (hleft item 2): batches with a status registry through the API, not only the CLI.

Real SQLite registries, real keys and signatures, real status lists published from the registry and loaded by a
real Verifier. An index is allocated only for a code that is issued: inputs refused (out of scope, too large for
the QR symbol once they carry a reference) take none.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest

from healthpass import (
    CredentialStatusError,
    HealthPayload,
    HealthStatus,
    Issuer,
    Region,
    SoftwareSigner,
    StatusAllocator,
    StatusList,
    StatusReference,
    StatusValue,
    Verifier,
    issuer_key,
)
from healthpass.errors import ErrorCode, IssueError
from healthpass.model.credential import Kind
from healthpass.model.trust import ALL_KINDS
from healthpass.registry import Registry, RegistryError, open_registry

from .conftest import NOW

URI = "hp:630000:3"
QINGHAI = Region("630000")


@pytest.fixture(scope="module")
def signer() -> SoftwareSigner:
    return SoftwareSigner.generate()


@pytest.fixture()
def registry(tmp_path: Path) -> Iterator[Registry]:
    with open_registry(str(tmp_path / "registry.db")) as reg:
        reg.create_list(URI, size=131072)
        yield reg


def _small(n: int) -> HealthPayload:
    return HealthPayload(status=HealthStatus(colour=1, set_at=NOW - timedelta(minutes=n)))


def _counting(registry: Registry, calls: list[int]) -> StatusAllocator:
    """The registry's own allocator, counting its calls and the ids asked for in each."""
    real = registry.allocator(URI)

    def allocate(ctis: Sequence[bytes]) -> Sequence[StatusReference]:
        calls.append(len(ctis))
        return real.allocate(ctis)

    return StatusAllocator(URI, allocate)


def _checkpoint(signer: SoftwareSigner, registry: Registry) -> Verifier:
    """A verifier holding the list as the registry publishes it now."""
    info, entries = registry.snapshot(URI)
    data = StatusList.build(signer, uri=URI, size=info.size, entries=entries, valid_for=timedelta(hours=6), now=NOW)
    keys = [issuer_key(signer.public_key_pem(), region=QINGHAI)]
    return Verifier(keys=keys, status_lists=[StatusList.load(data, keys)], require_status=True)


def test_hleft_item2_issue_many_allocates_indices_only_for_codes_issued(
    signer: SoftwareSigner, registry: Registry, sample: HealthPayload,
) -> None:
    # an issuer whose QR limit (version 12 at M) holds the sample without antibodies, but not once it carries a
    # status reference; and which may not sign antibody results
    issuer = Issuer(signer, QINGHAI, max_qr_version=12, kinds=ALL_KINDS - {Kind.ANTIBODY})
    band = dataclasses.replace(sample, antibody=())
    issuer.issue(band, now=NOW)  # fits without a reference ...
    with pytest.raises(IssueError) as info:  # ... not with one, whatever its index
        issuer.issue(band, now=NOW, status=StatusReference(URI, 70000))
    assert info.value.code is ErrorCode.TOO_LARGE_FOR_QR
    payloads = [_small(0), band, sample, _small(1), _small(2), band, _small(3), _small(4)]
    calls: list[int] = []
    results = list(issuer.issue_many(payloads, now=NOW, chunk_size=3, status=_counting(registry, calls)))
    assert [r.code if isinstance(r, IssueError) else "code" for r in results] == [
        "code", ErrorCode.TOO_LARGE_FOR_QR, ErrorCode.OUT_OF_SCOPE, "code", "code", ErrorCode.TOO_LARGE_FOR_QR,
        "code", "code"]
    assert calls == [1, 2, 2]  # one call per chunk of 3 inputs, for the inputs that pass only
    codes = [r for r in results if isinstance(r, str)]
    assert registry.info(URI).allocated == len(codes) == 5
    # each code carries its own fresh credential id and index, recorded together in the registry
    plain = Verifier(keys=[issuer_key(signer.public_key_pem(), region=QINGHAI)])
    ctis = [plain.verify(c, at=NOW).credential_id or b"" for c in codes]
    assert len(set(ctis)) == 5 and all(len(c) == 8 for c in ctis)
    revoked, previous = registry.set_status(StatusValue.REVOKED, credential_id=ctis[2])
    assert previous == StatusValue.VALID
    checkpoint = _checkpoint(signer, registry)
    indices = set()
    for n, code in enumerate(codes):
        if n == 2:
            with pytest.raises(CredentialStatusError) as rejected:
                checkpoint.verify(code, at=NOW)
            assert rejected.value.code is ErrorCode.REVOKED
            continue
        credential = checkpoint.verify(code, at=NOW)
        assert credential.credential_status is not None and credential.credential_status.value is StatusValue.VALID
        assert credential.credential_id == ctis[n] and credential.payload == payloads[[0, 3, 4, 6, 7][n]]
        indices.add(credential.credential_status.idx)
    assert revoked.idx not in indices and len(indices) == 4
    # without status, nothing changes: no reference, no allocation
    without = list(issuer.issue_many([_small(5)], now=NOW))
    assert isinstance(without[0], str) and plain.verify(without[0], at=NOW).credential_status is None
    assert registry.info(URI).allocated == 5


def test_hleft_item2_issue_many_with_status_in_a_process_pool(
    signer: SoftwareSigner, registry: Registry, sample: HealthPayload,
) -> None:
    issuer = Issuer(signer, QINGHAI, kinds=ALL_KINDS - {Kind.ANTIBODY})
    payloads = [sample if n % 7 == 3 else _small(n) for n in range(40)]  # every 7th from the 4th: out of scope
    calls: list[int] = []
    with ProcessPoolExecutor(2) as pool:
        results = list(issuer.issue_many(payloads, now=NOW, executor=pool, chunk_size=8,
                                         status=_counting(registry, calls)))
    refused = [n for n, r in enumerate(results) if isinstance(r, IssueError)]
    assert refused == [3, 10, 17, 24, 31, 38]
    assert all(results[n].code is ErrorCode.OUT_OF_SCOPE for n in refused)  # type: ignore[union-attr]
    assert len(calls) == 5 and sum(calls) == 34 == registry.info(URI).allocated
    checkpoint = _checkpoint(signer, registry)
    seen = set()
    for n, result in enumerate(results):
        if n in refused:
            continue
        assert isinstance(result, str)
        credential = checkpoint.verify(result, at=NOW)
        assert credential.payload == payloads[n]  # in input order
        assert credential.credential_status is not None and credential.credential_status.value is StatusValue.VALID
        seen.add(credential.credential_status.idx)
    assert len(seen) == 34


def test_hleft_item2_a_full_list_stops_the_batch_after_the_codes_it_allocated(
    signer: SoftwareSigner, tmp_path: Path,
) -> None:
    with open_registry(str(tmp_path / "small.db")) as registry:
        registry.create_list(URI, size=8)
        results: list[str | IssueError] = []
        with pytest.raises(RegistryError):
            for result in Issuer(signer, QINGHAI).issue_many([_small(n) for n in range(12)], now=NOW, chunk_size=5,
                                                              status=registry.allocator(URI)):
                results.append(result)
        assert len(results) == 5 and all(isinstance(r, str) for r in results)  # the first chunk, issued
        assert registry.info(URI).allocated == 5  # the second chunk's allocation was refused whole
        checkpoint = _checkpoint(signer, registry)
        assert all(checkpoint.verify(r, at=NOW).credential_status is not None for r in results)  # type: ignore[arg-type]
        # an allocator nobody created a list for: refused at the first allocation, nothing issued
        with pytest.raises(RegistryError):
            list(Issuer(signer, QINGHAI).issue_many([_small(0)], now=NOW, status=registry.allocator("hp:630000:9")))


def test_hleft_item2_misuse(signer: SoftwareSigner, registry: Registry) -> None:
    issuer = Issuer(signer, QINGHAI)
    with pytest.raises(TypeError):  # a bare callable, a reference, a registry: not an allocator
        issuer.issue_many([_small(0)], now=NOW, status=lambda ctis: registry.allocate(URI, ctis))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        issuer.issue_many([_small(0)], now=NOW, status=StatusReference(URI, 1))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        issuer.issue_many([_small(0)], now=NOW, status=registry)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        issuer.issue_many([_small(0)], now=NOW, chunk_size=0, status=registry.allocator(URI))
    with pytest.raises(ValueError):
        StatusAllocator("no uri", registry.allocator(URI).allocate)
    with pytest.raises(ValueError):
        registry.allocator("no uri")
    with pytest.raises(TypeError):
        StatusAllocator(URI, 5)  # type: ignore[arg-type]
    bad = {
        "too few": lambda ctis: registry.allocate(URI, ctis)[:-1],
        "another list": lambda ctis: [StatusReference("hp:110000:1", r.idx) for r in registry.allocate(URI, ctis)],
        "twice": lambda ctis: [registry.allocate(URI, ctis)[0]] * len(ctis),
        "not references": lambda ctis: [r.idx for r in registry.allocate(URI, ctis)],
    }
    for name, allocate in bad.items():
        results: list[str | IssueError] = []
        with pytest.raises(ValueError):
            results.extend(issuer.issue_many([_small(0), _small(1)], now=NOW, status=StatusAllocator(URI, allocate)))
        assert results == [], name  # nothing signed with what a broken allocator returned
    with pytest.raises(TypeError):  # as issue_many without status: a payload that is none
        list(issuer.issue_many(["{}"], now=NOW, status=registry.allocator(URI)))  # type: ignore[list-item]


def test_hleft_item2_a_code_that_passes_the_check_fits_when_signed(signer: SoftwareSigner) -> None:
    """Codes at the QR limit: whenever the check (the largest index, random fillers for the signature, the
    8-character margin) passes, the signed code with its real index fits the symbol."""
    issuer = Issuer(signer, QINGHAI, max_qr_version=11)  # 366 characters at M: names of 1-40 characters around it
    from healthpass import Holder

    fitted = refused = 0
    for n in range(1, 40):
        name = "".join(chr(0x4E00 + k * 7919 % 20000) for k in range(n))  # CJK: zlib finds little to save
        payload = HealthPayload(holder=Holder(name=name), status=HealthStatus(colour=1, set_at=NOW))
        for idx in (0, 255, 65535, 131071):
            iat = int(NOW.timestamp())
            cti = bytes([n, idx % 251]) * 4
            try:
                issuer._measure(payload, iat=iat, exp=iat + 3600, credential_id=cti, uri=URI)
            except IssueError:
                refused += 1
                continue
            fitted += 1
            issuer._sign(payload, iat=iat, exp=iat + 3600, credential_id=cti, status=StatusReference(URI, idx),
                         margin=0)
    assert fitted > 20 and refused > 20  # both sides of the limit were exercised


def test_hleft_item2_codes_refused_for_their_times_take_no_index(signer: SoftwareSigner, registry: Registry) -> None:
    """The sibling refusals of issue(): an issue time before 1970 or an expiry after 2100 are refused before
    any allocation, like a kind out of scope or a code too large."""
    from datetime import UTC, datetime

    calls: list[int] = []
    for now, validity in ((datetime(1969, 12, 31, 23, 0, tzinfo=UTC), timedelta(hours=72)),
                          (datetime(2099, 12, 31, 12, 0, tzinfo=UTC), timedelta(days=2))):
        results = list(Issuer(signer, QINGHAI, validity=validity).issue_many(
            [_small(0), _small(1)], now=now, status=_counting(registry, calls)))
        assert [r.code for r in results] == [ErrorCode.CREDENTIAL_INVALID] * 2  # type: ignore[union-attr]
    assert calls == [] and registry.info(URI).allocated == 0


def test_hleft_item2_signature_size_of_each_algorithm() -> None:
    """The filler a code is measured with is as long as the signature: 64 bytes for ES256, EdDSA (and SM2), the
    modulus for PS256."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from healthpass import Algorithm
    from healthpass.crypto import signature_size

    for alg in (Algorithm.ES256, Algorithm.EDDSA):
        key = SoftwareSigner.generate(alg)
        assert signature_size(alg, key.public_key_der) == 64 == len(key.sign(b"x"))
    for bits in (2048, 3072):
        spki = rsa.generate_private_key(public_exponent=65537, key_size=bits).public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        assert signature_size(Algorithm.PS256, spki) == bits // 8
    with pytest.raises(ValueError):
        signature_size(Algorithm.PS256, SoftwareSigner.generate().public_key_der)
