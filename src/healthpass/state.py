"""Anti-rollback state for signed documents, persisted in a directory the application chooses.

One JSON file per (document type, root): the highest sequence number accepted, its issue time and the
SHA-256 of the document. Updates take an exclusive ``flock`` on a lock file (several verifier processes may
share the directory), write a temporary file, fsync it and rename it over the old one, then fsync the
directory: a crash leaves either the old or the new state, never a torn one.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from healthpass.errors import ErrorCode, Stage, TrustListError

__all__ = ["Accepted", "StateStore"]

_LOCK_NAME = ".healthpass-state.lock"


@dataclass(frozen=True, slots=True)
class Accepted:
    """What the store knew before this check, merged with what it now records."""

    seq: int
    issued_at: int
    digest: str


class StateStore:
    """The highest accepted sequence number per document type and root, persisted atomically."""

    __slots__ = ("_dir",)

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self._dir = Path(directory)

    def __repr__(self) -> str:
        return f"StateStore({str(self._dir)!r})"

    def __reduce__(self) -> tuple[object, ...]:
        return (StateStore, (str(self._dir),))

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self._dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._dir / _LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _path(self, namespace: str) -> Path:
        if not namespace.replace("-", "").isalnum():
            raise ValueError("state namespace must be alphanumeric with dashes")
        return self._dir / f"{namespace}.json"

    def read(self, namespace: str) -> Accepted | None:
        """The accepted state for ``namespace`` (None when nothing was accepted yet)."""
        path = self._path(namespace)
        try:
            raw = json.loads(path.read_text("utf-8"))
            return Accepted(int(raw["seq"]), int(raw["issued_at"]), str(raw["digest"]))
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError) as err:
            raise TrustListError(ErrorCode.TRUST_LIST_INVALID, Stage.TRUST_LIST,
                                 f"state file {path.name} is corrupt") from err

    def accept(self, namespace: str, seq: int, issued_at: int, digest: str, *, stage: Stage) -> Accepted:
        """Record a document unless it rolls back. Returns the resulting state.

        Raises TrustListError(``trust_list_rollback``) when ``seq`` is lower than one already accepted, or
        equal to it for a different document.
        """
        with self._locked():
            current = self.read(namespace)
            if current is not None:
                if seq < current.seq:
                    raise TrustListError(ErrorCode.TRUST_LIST_ROLLBACK, stage,
                                         f"sequence number {seq} is lower than the accepted {current.seq}")
                if seq == current.seq:
                    if digest != current.digest:
                        raise TrustListError(ErrorCode.TRUST_LIST_ROLLBACK, stage,
                                             f"sequence number {seq} was already used by another document")
                    return current
            new = Accepted(seq, max(issued_at, current.issued_at if current else issued_at), digest)
            self._write(self._path(namespace), new)
            return new

    def _write(self, path: Path, state: Accepted) -> None:
        data = json.dumps({"seq": state.seq, "issued_at": state.issued_at, "digest": state.digest}).encode()
        fd, tmp = tempfile.mkstemp(dir=self._dir, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        dir_fd = os.open(self._dir, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
