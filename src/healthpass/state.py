"""Anti-rollback state for signed documents, persisted in a directory the application chooses.

One JSON file per (document type, root): the highest sequence number accepted, the issue time of that
document and its SHA-256 (``{"version": 2, "seq": N, "issued_at": T, "digest": HEX}``; files written before
the version field, whose ``issued_at`` was the latest issue time ever seen, read the same). Updates take an
exclusive ``flock`` on a lock file (several verifier processes may share the directory), write a temporary
file, fsync it and rename it over the old one, then fsync the directory: a crash leaves either the old or
the new state, never a torn one. A state file that cannot be read or does not hold exactly that shape fails
closed (``trust_list_invalid``): hostile contents are never a traceback, and never an empty state; anything
but a regular file under a state file's name (a FIFO, a device) is refused without reading it, never a hang.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from healthpass.errors import ErrorCode, Stage, TrustListError
from healthpass.model.cose import MAX_NUMERIC_DATE

__all__ = ["STATE_VERSION", "Accepted", "StateStore"]

_LOCK_NAME = ".healthpass-state.lock"
#: Version of the state files this module writes (files without a version field are version 1).
STATE_VERSION = 2
_MAX_FILE = 4096  # a state file is under 200 bytes: anything longer is not one
_MAX_SEQ = 2**53
_MAX_DIGEST = 128


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _parse(data: bytes) -> Accepted:
    """A state file's contents, strictly: raises ValueError for anything but the documented shape."""
    if len(data) > _MAX_FILE:
        raise ValueError("too long")
    raw = json.loads(data.decode("utf-8"), parse_constant=_reject_constant)
    if type(raw) is not dict or not {"seq", "issued_at", "digest"} <= raw.keys() <= {
            "version", "seq", "issued_at", "digest"}:
        raise ValueError("not a state object")
    version, seq, issued, digest = raw.get("version", 1), raw["seq"], raw["issued_at"], raw["digest"]
    if type(version) is not int or version not in (1, STATE_VERSION):
        raise ValueError("unknown state version")
    if type(seq) is not int or not 0 <= seq <= _MAX_SEQ:
        raise ValueError("seq out of range")
    if type(issued) is not int or not 0 <= issued <= MAX_NUMERIC_DATE:
        raise ValueError("issued_at out of range")
    if type(digest) is not str or not 0 < len(digest) <= _MAX_DIGEST:
        raise ValueError("digest is not a short string")
    return Accepted(seq, issued, digest)


@dataclass(frozen=True, slots=True)
class Accepted:
    """The newest document accepted for one namespace: its sequence number, issue time and SHA-256."""

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

    @property
    def directory(self) -> Path:
        """The state directory."""
        return self._dir

    @contextlib.contextmanager
    def _locked(self, stage: Stage) -> Iterator[None]:
        try:
            self._dir.mkdir(parents=True, exist_ok=True)
            # never through a symlink (one planted under the lock's name made the verifier create, or open for
            # writing, any file it can reach), nor anything but a regular file (a FIFO, a device)
            fd = os.open(self._dir / _LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY,
                         0o600)
        except OSError as err:
            raise _unusable(f"state directory {str(self._dir)!r} cannot be used ({err.strerror})", stage) from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise _unusable(f"state directory {str(self._dir)!r} cannot be used (its lock {_LOCK_NAME} is not a "
                            "regular file)", stage)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _path(self, namespace: str) -> Path:
        if not namespace.replace("-", "").isalnum():
            raise ValueError("state namespace must be alphanumeric with dashes")
        return self._dir / f"{namespace}.json"

    def read(self, namespace: str, *, stage: Stage = Stage.TRUST_LIST) -> Accepted | None:
        """The accepted state for ``namespace`` (None when nothing was accepted yet).

        Raises TrustListError (``trust_list_invalid``) at ``stage`` when the file cannot be read or is not
        a state file (fail closed: a damaged state never reads as an empty one).
        """
        path = self._path(namespace)
        try:
            data = _read_regular(path, _MAX_FILE + 1)
        except FileNotFoundError:
            return None
        except OSError as err:
            raise _unusable(f"state file {path.name} cannot be read ({err.strerror})", stage) from None
        try:
            return _parse(data)
        except (ValueError, RecursionError):
            raise _unusable(f"state file {path.name} is corrupt", stage) from None

    def accept(self, namespace: str, seq: int, issued_at: int, digest: str, *, stage: Stage) -> Accepted:
        """Record a document unless it rolls back. Returns the resulting state.

        Raises TrustListError(``trust_list_rollback``) when ``seq`` is lower than one already accepted, or
        equal to it for a different document; TrustListError(``trust_list_invalid``) when the state cannot
        be read or written. The state then records this document's ``issued_at`` (not the latest ever seen:
        the clock floor follows the newest accepted document).
        """
        with self._locked(stage):
            current = self.read(namespace, stage=stage)
            if current is not None:
                if seq < current.seq:
                    raise TrustListError(ErrorCode.TRUST_LIST_ROLLBACK, stage,
                                         f"sequence number {seq} is lower than the accepted {current.seq}")
                if seq == current.seq:
                    if digest != current.digest:
                        raise TrustListError(ErrorCode.TRUST_LIST_ROLLBACK, stage,
                                             f"sequence number {seq} was already used by another document")
                    return current
            new = Accepted(seq, issued_at, digest)
            try:
                self._write(self._path(namespace), new)
            except OSError as err:
                raise _unusable(f"state directory {str(self._dir)!r} cannot be written ({err.strerror})",
                                stage) from None
            return new

    def _write(self, path: Path, state: Accepted) -> None:
        data = json.dumps({"version": STATE_VERSION, "seq": state.seq, "issued_at": state.issued_at,
                           "digest": state.digest}).encode()
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


def _read_regular(path: Path, limit: int) -> bytes:
    """At most ``limit`` bytes of the regular file at ``path``. Anything else planted under a state file's name
    (a FIFO, which would block the reader forever, a device, a socket, a directory) raises OSError: the file is
    opened without blocking and checked with fstat before anything is read."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read(limit)
    finally:
        os.close(fd)


def _unusable(message: str, stage: Stage) -> TrustListError:
    return TrustListError(ErrorCode.TRUST_LIST_INVALID, stage, message)
