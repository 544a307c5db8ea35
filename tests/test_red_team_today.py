"""Red team (hred3) against what landed on 2026-12-03: ``Issuer.issue_many(status=)`` and the registry behind it,
``Issuer.transcode_verified`` / ``Transcoded``, and the start-up laziness (lazy modules, stdlib zlib inflation,
the CLI's own terminal width). Each test is named after the finding or the tried-and-held item it keeps.

Real components throughout: SQLite files and a throwaway PostgreSQL cluster, real keys and signatures, the real
command line in-process.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from healthpass.errors import ErrorCode, HealthPassError
from healthpass.registry import Registry, RegistryError, open_registry

URI = "hp:630000:3"


# ------------------------------------------------------------------ finding 1: a hostile registry database


def _registry_file(path: Path, *, entries: int = 0) -> Path:
    with open_registry(str(path)) as reg:
        reg.create_list(URI, size=1024)
        if entries:
            reg.allocate(URI, [os.urandom(8) for _ in range(entries)])
    for extra in path.parent.glob(path.name + "-*"):  # WAL and shared-memory files: the database is in the file
        extra.unlink()
    return path


def _foreign_schema(path: Path) -> Path:
    """A SQLite file that is not ours: tables of our names with other columns."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE status_lists (a, b)")
    conn.execute("CREATE TABLE status_entries (x)")
    conn.commit()
    conn.close()
    return path


def _corrupted(path: Path) -> Path:
    _registry_file(path, entries=300)
    data = path.read_bytes()
    page = int.from_bytes(data[16:18], "big")  # the schema stays on page 1; every table's pages are scrambled
    path.write_bytes(data[:page] + bytes(b ^ 0x55 for b in data[page:]))
    return path


def _mistyped(path: Path, column: str, value: object) -> Path:
    """Our schema, with one list whose record holds something our code never writes."""
    _registry_file(path)
    conn = sqlite3.connect(path)
    conn.execute(f"UPDATE status_lists SET {column} = ?", (value,))
    conn.commit()
    conn.close()
    return path


def _operations(reg: Registry) -> Iterator[object]:
    """Every registry operation a caller (or the command line) runs on an existing list."""
    from healthpass.model.status import StatusValue

    yield lambda: reg.info(URI)
    yield lambda: reg.allocate(URI, [os.urandom(8)])
    yield lambda: reg.snapshot(URI)
    yield lambda: reg.set_status(StatusValue.REVOKED, credential_id=b"\x01" * 8)
    yield lambda: reg.record_publication(URI, iat=1_800_000_000, sha256=b"\x00" * 32, version=0)
    yield lambda: reg.changes_since(URI, iat=1, sha256=b"\x00" * 32)
    yield lambda: reg.create_list("hp:630000:4", size=1024)


@pytest.mark.parametrize("hostile", ["foreign_schema", "corrupted", "size_text", "bits_huge", "allocated_negative",
                                     "size_huge", "devnull"])
def test_hred3_finding1_a_hostile_registry_database_is_a_registry_error(tmp_path: Path, hostile: str) -> None:
    """A registry file that is not ours, corrupted, or holding records our code never writes: every operation
    raises RegistryError (registry_error), never sqlite3's errors, a ValueError from a row, or a huge shift."""
    path = tmp_path / "registry.db"
    dsn = {
        "foreign_schema": lambda: str(_foreign_schema(path)),
        "corrupted": lambda: str(_corrupted(path)),
        "size_text": lambda: str(_mistyped(path, "size", "big")),
        "bits_huge": lambda: str(_mistyped(path, "bits", 10**15)),
        "allocated_negative": lambda: str(_mistyped(path, "allocated", -5)),
        "size_huge": lambda: str(_mistyped(path, "size", 1 << 60)),
        "devnull": lambda: "/dev/null",
    }[hostile]()
    try:
        reg = open_registry(dsn)
    except RegistryError as err:
        assert err.code is ErrorCode.REGISTRY_ERROR
        return
    with reg:
        failures = 0
        for operation in _operations(reg):
            try:
                operation()  # type: ignore[operator]
            except RegistryError as err:
                assert err.code is ErrorCode.REGISTRY_ERROR
                failures += 1
        assert failures >= 5  # every operation on the hostile list failed closed (creating another may work)


def test_hred3_finding1_cli_on_a_hostile_registry_exits_1_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    from .cli._run import run

    for name, make in (("foreign", _foreign_schema), ("corrupt", _corrupted)):
        db = make(tmp_path / f"{name}.db")
        code, _, err = run(capsys, "status", "new", "--registry", str(db), "--uri", "hp:630000:9")
        assert code == 1 and "registry_error" in err and "Traceback" not in err
    db = _mistyped(tmp_path / "typed.db", "size", "big")
    code, _, err = run(capsys, "status", "publish", "--registry", str(db), "--uri", URI, "--key", "missing.pem",
                       "--valid-for", "1h", "--out", str(tmp_path / "out.cwt"))
    assert code in {1, 2} and "Traceback" not in err


def test_hred3_finding1_issue_many_raises_the_registry_error_of_a_corrupted_registry(tmp_path: Path) -> None:
    from datetime import timedelta

    from healthpass import HealthPayload, HealthStatus, Issuer, SoftwareSigner

    from .conftest import NOW

    with open_registry(str(_corrupted(tmp_path / "registry.db"))) as reg:
        issuer = Issuer(SoftwareSigner.generate(), "630000")
        payloads = [HealthPayload(status=HealthStatus(colour=1, set_at=NOW - timedelta(minutes=n))) for n in range(5)]
        with pytest.raises(HealthPassError) as info:
            list(issuer.issue_many(payloads, now=NOW, status=reg.allocator(URI)))
        assert info.value.code is ErrorCode.REGISTRY_ERROR


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    from . import test_status_registry

    yield from test_status_registry.postgres.__wrapped__()  # type: ignore[attr-defined]


def _pg_database(base: str, name: str) -> str:
    import psycopg

    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return base.replace("/postgres?", f"/{name}?")


def test_hred3_finding1_a_hostile_postgresql_registry_is_a_registry_error(postgres: str) -> None:
    import psycopg

    foreign = _pg_database(postgres, f"foreign{os.getpid()}")
    with psycopg.connect(foreign, autocommit=True) as conn:
        conn.execute("CREATE TABLE status_lists (a integer)")
        conn.execute("CREATE TABLE status_entries (x integer)")
    with pytest.raises(RegistryError):
        open_registry(foreign).close()
    altered = _pg_database(postgres, f"altered{os.getpid()}")
    with open_registry(altered) as reg:
        reg.create_list(URI, size=1024)
    with psycopg.connect(altered, autocommit=True) as conn:
        conn.execute("UPDATE status_lists SET bits = 99, size = 1152921504606846976")
    with open_registry(altered) as reg:
        failures = 0
        for operation in _operations(reg):
            try:
                operation()  # type: ignore[operator]
            except RegistryError as err:
                assert err.code is ErrorCode.REGISTRY_ERROR
                failures += 1
        assert failures >= 6
