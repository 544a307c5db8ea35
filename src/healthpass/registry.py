"""The issuer's status registry: status lists, allocated indices, credential ids and statuses.

Two back ends behind one interface (:func:`open_registry`): **SQLite** (a file path; the embedded default,
safe for several processes on one machine: WAL, ``BEGIN IMMEDIATE`` for every write, ``synchronous=FULL``)
and **PostgreSQL** (``postgresql://...``; psycopg 3, the ``postgres`` extra) for issuers running several
minting servers. Both rely on the primary key (list, index) so that no index is ever allocated twice.

Indices are drawn uniformly from a CSPRNG (:mod:`secrets`) among the unused ones of a list, never reused,
never sequential: a draw that hits a used index is redrawn; when a list is so full that many draws miss,
the r-th unused index is taken for a random r. Every status change bumps the list's change counter; each
publication records the counter it saw, so a delta carries exactly the entries changed since its base.
"""

from __future__ import annotations

import contextlib
import functools
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from healthpass.errors import ErrorCode, HealthPassError, Stage
from healthpass.model.cose import MAX_NUMERIC_DATE
from healthpass.model.status import STATUS_BITS, StatusAllocator, StatusReference, StatusValue, check_status_uri

__all__ = ["ListInfo", "Registry", "RegistryError", "open_registry"]

#: draws of a random index before falling back to choosing among the unused ones exactly
_DRAWS = 64
_MAX_SIZE = 1 << 27  # entries; a 2-bit list of this size is 32 MiB, the verifier's bound


class RegistryError(HealthPassError):
    """The registry refused an operation (``registry_error``): unknown list or credential, a full list."""

    __slots__ = ()

    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.REGISTRY_ERROR, Stage.ISSUE, message)

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.message,))


@dataclass(frozen=True, slots=True)
class ListInfo:
    """A list as the registry records it."""

    uri: str
    size: int
    bits: int
    allocated: int
    version: int
    last_iat: int
    counts: tuple[tuple[StatusValue | int, int], ...] = ()


_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS status_lists (
        id {serial} PRIMARY KEY, uri TEXT NOT NULL UNIQUE, size BIGINT NOT NULL, bits INTEGER NOT NULL,
        allocated BIGINT NOT NULL DEFAULT 0, version BIGINT NOT NULL DEFAULT 0, last_iat BIGINT NOT NULL DEFAULT 0)""",
    """CREATE TABLE IF NOT EXISTS status_entries (
        list_id INTEGER NOT NULL REFERENCES status_lists(id), idx BIGINT NOT NULL, credential_id {blob} UNIQUE,
        status INTEGER NOT NULL DEFAULT 0, changed BIGINT NOT NULL DEFAULT 0, PRIMARY KEY (list_id, idx))""",
    "CREATE INDEX IF NOT EXISTS status_entries_nonvalid ON status_entries (list_id, idx) WHERE status <> 0",
    "CREATE INDEX IF NOT EXISTS status_entries_changed ON status_entries (list_id, changed) WHERE changed > 0",
    """CREATE TABLE IF NOT EXISTS status_publications (
        list_id INTEGER NOT NULL REFERENCES status_lists(id), iat BIGINT NOT NULL, sha256 {blob} NOT NULL,
        version BIGINT NOT NULL, PRIMARY KEY (list_id, iat))""",
)


_LIST = "SELECT id, size, bits, allocated, version, last_iat FROM status_lists WHERE uri = ?"
_LIST_FOR_UPDATE = _LIST + " FOR UPDATE"


class Registry:
    """A status registry over one database connection (not thread-safe: one per thread or process).

    Open one with :func:`open_registry`; close it (or use it as a context manager) when done.
    """

    __slots__ = ("_conn", "_dsn", "_failures", "_misuse", "_pg")

    def __init__(
        self,
        conn: Any,
        dsn: str,
        *,
        postgres: bool,
        failures: tuple[type[Exception], ...] = (),
        misuse: tuple[type[Exception], ...] = (),
    ) -> None:
        self._conn = conn
        self._dsn = dsn
        self._pg = postgres
        # the driver's errors that a database not as we wrote it raises (a file that is not ours, corrupted, locked
        # too long, read-only, a schema of other columns): RegistryError; ``misuse``: the calling program's (a closed
        # registry, another thread), raised unchanged
        self._failures = failures
        self._misuse = misuse

    def __repr__(self) -> str:
        return f"Registry({'postgresql' if self._pg else 'sqlite'})"

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._conn.close()

    # -- plumbing ---------------------------------------------------------------------------------

    def _sql(self, text: str) -> str:
        return text.replace("?", "%s") if self._pg else text

    def _run(self, text: str, params: Sequence[Any] = ()) -> Any:
        return self._conn.execute(self._sql(text), params)

    def _begin(self, *, write: bool) -> None:
        if self._pg:
            self._run("BEGIN ISOLATION LEVEL REPEATABLE READ" if not write else "BEGIN")
        else:
            self._run("BEGIN IMMEDIATE" if write else "BEGIN")

    def _commit(self) -> None:
        self._run("COMMIT")

    def _rollback(self) -> None:
        self._run("ROLLBACK")

    def _transaction(self, *, write: bool) -> _Tx:
        return _Tx(self, write)

    def _list(self, uri: str, *, lock: bool = False) -> tuple[int, int, int, int, int, int]:
        query = _LIST_FOR_UPDATE if lock and self._pg else _LIST
        row = self._run(query, (uri,)).fetchone()
        if row is None:
            raise RegistryError(f"no status list {uri} in the registry (healthpass status new)")
        if len(row) != 6 or any(type(x) is not int for x in row):
            raise _malformed(f"the record of status list {uri}")
        list_id, size, bits, allocated, version, last_iat = row
        if not (0 < size <= _MAX_SIZE and size % 8 == 0 and bits in STATUS_BITS and 0 <= allocated <= size
                and version >= 0 and 0 <= last_iat <= MAX_NUMERIC_DATE):
            raise _malformed(f"the record of status list {uri}")
        return list_id, size, bits, allocated, version, last_iat

    def setup(self) -> None:
        """Create the tables (idempotent)."""
        with self._transaction(write=True):
            for statement in _SCHEMA:
                self._run(statement.format(blob="BYTEA" if self._pg else "BLOB",
                                           serial="SERIAL" if self._pg else "INTEGER"))

    # -- lists ------------------------------------------------------------------------------------

    def create_list(self, uri: str, *, size: int, bits: int = 2) -> ListInfo:
        """Record a new list. Raises ValueError for an impossible size or bits, RegistryError if it exists."""
        check_status_uri(uri)
        if bits not in STATUS_BITS:
            raise ValueError("bits must be 1, 2, 4 or 8")
        if type(size) is not int or not 0 < size <= _MAX_SIZE or size % 8:
            raise ValueError(f"size must be a positive multiple of 8, at most {_MAX_SIZE}")
        with self._transaction(write=True):
            if self._run("SELECT 1 FROM status_lists WHERE uri = ?", (uri,)).fetchone() is not None:
                raise RegistryError(f"status list {uri} already exists")
            self._run("INSERT INTO status_lists (uri, size, bits) VALUES (?, ?, ?)", (uri, size, bits))
        return self.info(uri)

    def info(self, uri: str) -> ListInfo:
        """The list's record, with the number of entries per status."""
        with self._transaction(write=False):
            list_id, size, bits, allocated, version, last_iat = self._list(uri)
            rows = self._run("SELECT status, COUNT(*) FROM status_entries WHERE list_id = ? GROUP BY status "
                             "ORDER BY status", (list_id,)).fetchall()
            if any(type(s) is not int or not 0 <= s < 1 << bits or type(n) is not int for s, n in rows):
                raise _malformed(f"the entries of status list {uri}")
        counts = tuple((StatusValue(s) if s in StatusValue._value2member_map_ else s, n) for s, n in rows)
        return ListInfo(uri, size, bits, allocated, version, last_iat, counts)

    # -- allocation -------------------------------------------------------------------------------

    def allocate(self, uri: str, credential_ids: Sequence[bytes]) -> list[StatusReference]:
        """Allocate one random unused index per credential id, in one transaction; returns the references in
        the same order. Raises RegistryError when the list has too few unused entries or an id is known."""
        n = len(credential_ids)
        if n == 0:
            return []
        if any(type(c) is not bytes or not c for c in credential_ids):
            raise TypeError("credential ids are non-empty bytes")
        with self._transaction(write=True):
            list_id, size, _, allocated, _, _ = self._list(uri, lock=True)
            if allocated + n > size:
                raise RegistryError(f"status list {uri} has {size - allocated} unused entries, {n} needed: "
                                    "create another list")
            self._run("UPDATE status_lists SET allocated = allocated + ? WHERE id = ?", (n, list_id))
            out = []
            used = allocated
            for cti in credential_ids:
                idx = self._draw(list_id, size, used, cti)
                used += 1
                out.append(StatusReference(uri, idx))
            return out

    def allocator(self, uri: str) -> StatusAllocator:
        """A :class:`StatusAllocator` for ``Issuer.issue_many(payloads, status=registry.allocator(uri))``: each
        call is one :meth:`allocate` (one transaction) for a chunk of codes. ValueError for a malformed URI; a
        list the registry does not hold is a RegistryError at the first allocation."""
        return StatusAllocator(check_status_uri(uri), functools.partial(self.allocate, uri))

    def _insert(self, list_id: int, idx: int, cti: bytes) -> bool:
        verb = "INSERT" if self._pg else "INSERT OR IGNORE"
        tail = " ON CONFLICT (list_id, idx) DO NOTHING" if self._pg else ""
        try:
            cursor = self._run(f"{verb} INTO status_entries (list_id, idx, credential_id) VALUES (?, ?, ?){tail}",
                               (list_id, idx, cti))
        except Exception as err:  # a unique credential id violated (sqlite3 / psycopg IntegrityError)
            if "credential_id" in str(err) or "UNIQUE" in str(err).upper():
                raise RegistryError("a credential id is already registered") from None
            raise
        if cursor.rowcount != 1:
            if self._run("SELECT 1 FROM status_entries WHERE credential_id = ?", (cti,)).fetchone():
                raise RegistryError("a credential id is already registered")
            return False
        return True

    def _draw(self, list_id: int, size: int, used: int, cti: bytes) -> int:
        for _ in range(_DRAWS):
            idx = secrets.randbelow(size)
            if self._insert(list_id, idx, cti):
                return idx
        # the list is nearly full: the r-th unused index, for r uniform among the unused
        rank = secrets.randbelow(size - used)
        taken = [r[0] for r in self._run(
            "SELECT idx FROM status_entries WHERE list_id = ? ORDER BY idx", (list_id,)).fetchall()]
        if any(type(i) is not int or not 0 <= i < size for i in taken):
            raise _malformed("the entries of a status list")
        idx = _nth_unused(iter(taken), rank)
        if not self._insert(list_id, idx, cti):  # cannot happen under the transaction's lock
            raise RegistryError("index allocation raced")
        return idx

    # -- statuses ---------------------------------------------------------------------------------

    def set_status(
        self,
        value: StatusValue,
        *,
        credential_id: bytes | None = None,
        ref: StatusReference | None = None,
    ) -> tuple[StatusReference, StatusValue | int]:
        """Set a credential's status, found by its id or its reference (both: they must agree). Returns its
        reference and its previous value. Raises RegistryError."""
        value = StatusValue(value)
        if credential_id is None and ref is None:
            raise ValueError("give a credential id or a reference")
        with self._transaction(write=True):
            if ref is not None:
                list_id, _, bits, _, _, _ = self._list(ref.uri, lock=True)
                row = self._run("SELECT idx, credential_id, status FROM status_entries WHERE list_id = ? AND idx = ?",
                                (list_id, ref.idx)).fetchone()
                if row is None or (credential_id is not None and _blob(row[1]) != credential_id):
                    raise RegistryError(f"no credential at index {ref.idx} of {ref.uri} (or another credential id)")
                uri = ref.uri
            else:
                row = self._run("SELECT l.uri, e.list_id, e.idx, e.status FROM status_entries e JOIN status_lists l "
                                "ON l.id = e.list_id WHERE e.credential_id = ?", (credential_id,)).fetchone()
                if row is None:
                    raise RegistryError("no credential with this id in the registry")
                if type(row[0]) is not str:
                    raise _malformed("the record of a status list")
                uri = row[0]
                list_id, _, bits, _, _, _ = self._list(uri, lock=True)
                row = (row[2], credential_id, row[3])
            if int(value) >= 1 << bits:
                raise RegistryError(f"status list {uri} has {bits}-bit entries: {value.label} does not fit")
            if type(row[0]) is not int or type(row[2]) is not int or not 0 <= row[2] < 1 << bits:
                raise _malformed(f"an entry of status list {uri}")
            idx, previous = row[0], row[2]
            version = self._run("UPDATE status_lists SET version = version + 1 WHERE id = ? RETURNING version",
                                (list_id,)).fetchone()[0]
            self._run("UPDATE status_entries SET status = ?, changed = ? WHERE list_id = ? AND idx = ?",
                      (int(value), int(version), list_id, idx))
        old: StatusValue | int = StatusValue(previous) if previous in StatusValue._value2member_map_ else previous
        return StatusReference(uri, idx), old

    # -- publishing -------------------------------------------------------------------------------

    def snapshot(self, uri: str) -> tuple[ListInfo, list[tuple[int, int]]]:
        """The list and every entry whose status is not valid, read in one consistent snapshot."""
        with self._transaction(write=False):
            list_id, size, bits, allocated, version, last_iat = self._list(uri)
            rows = self._run("SELECT idx, status FROM status_entries WHERE list_id = ? AND status <> 0",
                             (list_id,)).fetchall()
        return ListInfo(uri, size, bits, allocated, version, last_iat), _entries(rows, uri, size, bits)

    def record_publication(self, uri: str, *, iat: int, sha256: bytes, version: int) -> None:
        """Remember a published token (its iat, digest and the change counter it covers). Raises RegistryError
        when a later one is already recorded (iat must increase)."""
        with self._transaction(write=True):
            list_id, _, _, _, _, last_iat = self._list(uri, lock=True)
            if iat <= last_iat:
                raise RegistryError(f"status list {uri} was already published at iat {last_iat}")
            self._run("INSERT INTO status_publications (list_id, iat, sha256, version) VALUES (?, ?, ?, ?)",
                      (list_id, iat, sha256, version))
            self._run("UPDATE status_lists SET last_iat = ? WHERE id = ?", (iat, list_id))

    def changes_since(self, uri: str, *, iat: int, sha256: bytes) -> tuple[ListInfo, dict[int, int]]:
        """Every entry changed since the publication (iat, sha256), with its current value. Raises
        RegistryError when that publication is not this registry's."""
        with self._transaction(write=False):
            list_id, size, bits, allocated, version, last_iat = self._list(uri)
            row = self._run("SELECT sha256, version FROM status_publications WHERE list_id = ? AND iat = ?",
                            (list_id, iat)).fetchone()
            if row is None or _blob(row[0]) != sha256:
                raise RegistryError(f"the base is not a publication of {uri} recorded in this registry")
            if type(row[1]) is not int:
                raise _malformed(f"a publication of status list {uri}")
            rows = self._run("SELECT idx, status FROM status_entries WHERE list_id = ? AND changed > ?",
                             (list_id, row[1])).fetchall()
        return ListInfo(uri, size, bits, allocated, version, last_iat), dict(_entries(rows, uri, size, bits))


class _Tx:
    __slots__ = ("_reg", "_write")

    def __init__(self, reg: Registry, write: bool) -> None:
        self._reg = reg
        self._write = write

    def __enter__(self) -> None:
        reg = self._reg
        try:
            reg._begin(write=self._write)
        except reg._failures as err:
            _raise_database_error(reg, err)

    def __exit__(self, kind: object, error: BaseException | None, *exc: object) -> None:
        reg = self._reg
        if error is None:
            try:
                reg._commit()
            except reg._failures as err:
                with contextlib.suppress(*reg._failures):
                    reg._rollback()
                _raise_database_error(reg, err)
            return
        with contextlib.suppress(*reg._failures):  # the transaction's own error says more
            reg._rollback()
        if isinstance(error, reg._failures):
            _raise_database_error(reg, error)


def _raise_database_error(reg: Registry, err: BaseException) -> None:
    """Raise the RegistryError for what the database driver raised (a misuse by the calling program unchanged)."""
    if isinstance(err, reg._misuse):
        raise err
    text = str(err).strip()
    first = text.splitlines()[0][:200] if text else ""
    raise RegistryError(f"the registry database failed ({type(err).__name__}{': ' + first if first else ''})") from err


def _malformed(what: str) -> RegistryError:
    return RegistryError(f"{what} in the registry is malformed (a database healthpass did not write?)")


def _blob(value: object) -> bytes:
    if not isinstance(value, (bytes, memoryview)):
        raise _malformed("a binary value")
    return bytes(value)


def _entries(rows: Sequence[Any], uri: str, size: int, bits: int) -> list[tuple[int, int]]:
    """(index, status) rows of a list, checked: indices within the list, statuses within its bits."""
    out = []
    for i, s in rows:
        if type(i) is not int or type(s) is not int or not 0 <= i < size or not 0 <= s < 1 << bits:
            raise _malformed(f"the entries of status list {uri}")
        out.append((i, s))
    return out


def _nth_unused(taken: Iterator[int], rank: int) -> int:
    """The ``rank``-th (0-based) integer not in the increasing sequence ``taken``."""
    candidate = rank
    for used in taken:
        if used <= candidate:
            candidate += 1
        else:
            break
    return candidate


def open_registry(dsn: str) -> Registry:
    """Open (creating its tables if needed) the registry at ``dsn``: a file path for SQLite, or a
    ``postgresql://`` URL for PostgreSQL (needs ``pip install healthpass[postgres]``). Raises RegistryError
    when it cannot be opened."""
    if dsn.startswith(("postgresql://", "postgres://")):
        try:
            import psycopg
        except ImportError:
            raise RegistryError("PostgreSQL registries need psycopg: pip install 'healthpass[postgres]'") from None
        try:
            conn: Any = psycopg.connect(dsn, autocommit=True)
        except psycopg.Error as err:
            raise RegistryError(f"cannot connect to the PostgreSQL registry ({type(err).__name__})") from None
        registry = Registry(conn, dsn, postgres=True, failures=(psycopg.Error,))
    else:
        import sqlite3

        conn = None
        try:
            conn = sqlite3.connect(dsn, timeout=60, isolation_level=None, check_same_thread=True)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error as err:
            if conn is not None:
                conn.close()
            raise RegistryError(f"cannot open the SQLite registry {dsn} ({err})") from None
        # sqlite3.ProgrammingError: a closed registry, or one used from another thread (the calling program's)
        registry = Registry(conn, dsn, postgres=False, failures=(sqlite3.DatabaseError,),
                            misuse=(sqlite3.ProgrammingError,))
    try:
        try:
            registry.setup()
        except RegistryError:  # PostgreSQL: another process created the tables at the same moment; they exist now
            registry.setup()
    except BaseException:
        registry.close()
        raise
    return registry
