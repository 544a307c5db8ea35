"""The issuer registry on real databases: SQLite (a file) and PostgreSQL (a throwaway cluster started here, as
an unprivileged user). Index allocation is random, unique and never reused, also under concurrency."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from glob import glob
from pathlib import Path

import pytest

from healthpass.errors import ErrorCode
from healthpass.model.status import StatusReference, StatusValue
from healthpass.registry import RegistryError, _nth_unused, open_registry
from healthpass.unverified import decode_unverified

from .conftest import ROOT

URI = "hp:630000:3"


# ---------------------------------------------------------------- a throwaway PostgreSQL cluster


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    """A PostgreSQL server in a temporary directory, run as an unprivileged user; its DSN."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("psycopg is not installed (pip install 'healthpass[postgres]')")
    found = sorted(glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        pytest.skip("PostgreSQL is not installed (Debian package postgresql; scripts/setup.sh installs it)")
    bindir = Path(found[-1]).parent
    user: dict[str, str] = {}
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: run it as nobody
        user = {"user": "nobody", "group": "nogroup"}
    base = tempfile.mkdtemp(prefix="healthpass-pg-")
    os.chmod(base, 0o755)
    data = Path(base) / "data"
    if user:
        shutil.chown(base, "nobody", "nogroup")
    port = _free_port()
    env = {"PATH": os.environ.get("PATH", ""), "LC_ALL": "C", "LANG": "C"}
    try:
        subprocess.run([str(bindir / "initdb"), "-D", str(data), "-U", "healthpass", "--auth=trust", "-E", "UTF8"],
                       check=True, capture_output=True, env=env, cwd=base, **user)  # type: ignore[call-overload]
        subprocess.run([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(Path(base) / "log"), "-w", "-o",
                        f"-p {port} -k {base} -c listen_addresses=''", "start"],
                       check=True, capture_output=True, env=env, cwd=base, **user)  # type: ignore[call-overload]
    except (subprocess.CalledProcessError, OSError, KeyError) as err:
        shutil.rmtree(base, ignore_errors=True)
        pytest.skip(f"could not start a throwaway PostgreSQL cluster: {err}")
    try:
        yield f"postgresql://healthpass@/postgres?host={base}&port={port}"
    finally:
        subprocess.run([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True,
                       env=env, cwd=base, check=False, **user)  # type: ignore[call-overload]
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def dsn(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield str(tmp_path / "registry.db")
        return
    base = request.getfixturevalue("postgres")
    import psycopg

    name = f"t{os.getpid()}_{abs(hash(tmp_path)) % 10**8}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    yield base.replace("/postgres?", f"/{name}?")


# ---------------------------------------------------------------- behaviour on both back ends


def test_issue17_item4_allocation_is_random_unique_and_bounded(dsn: str) -> None:
    with open_registry(dsn) as reg:
        reg.create_list(URI, size=1024)
        refs = reg.allocate(URI, [os.urandom(8) for _ in range(200)])
        idx = [r.idx for r in refs]
        assert len(set(idx)) == 200 and all(0 <= i < 1024 for i in idx)
        assert idx != sorted(idx) and max(idx) > 600  # spread over the list, not sequential
        info = reg.info(URI)
        assert info.allocated == 200 and info.counts == ((StatusValue.VALID, 200),)
        # fill the rest: the last ones come from the exact path among the unused
        rest = reg.allocate(URI, [os.urandom(8) for _ in range(824)])
        assert sorted(idx + [r.idx for r in rest]) == list(range(1024))
        with pytest.raises(RegistryError) as err:
            reg.allocate(URI, [os.urandom(8)])
        assert err.value.code is ErrorCode.REGISTRY_ERROR


def test_issue17_item4_statuses_and_changes_since_a_publication(dsn: str) -> None:
    with open_registry(dsn) as reg:
        reg.create_list(URI, size=131072)
        ctis = [os.urandom(8) for _ in range(5)]
        refs = reg.allocate(URI, ctis)
        where, old = reg.set_status(StatusValue.REVOKED, credential_id=ctis[0])
        assert where == refs[0] and old is StatusValue.VALID
        reg.set_status(StatusValue.SUPERSEDED, ref=refs[1])
        with pytest.raises(RegistryError):  # a reference and an id that disagree
            reg.set_status(StatusValue.REVOKED, ref=refs[2], credential_id=ctis[3])
        with pytest.raises(RegistryError):
            reg.set_status(StatusValue.REVOKED, ref=StatusReference(URI, (refs[4].idx + 1) % 131072)
                           if (refs[4].idx + 1) % 131072 not in {r.idx for r in refs} else StatusReference(URI, 0))
        info, entries = reg.snapshot(URI)
        assert sorted(entries) == sorted([(refs[0].idx, 1), (refs[1].idx, 3)])
        reg.record_publication(URI, iat=1000, sha256=b"a" * 32, version=info.version)
        with pytest.raises(RegistryError):
            reg.record_publication(URI, iat=1000, sha256=b"b" * 32, version=info.version)
        reg.set_status(StatusValue.VALID, credential_id=ctis[0])
        reg.set_status(StatusValue.SUSPENDED, credential_id=ctis[4])
        _, changes = reg.changes_since(URI, iat=1000, sha256=b"a" * 32)
        assert changes == {refs[0].idx: 0, refs[4].idx: 2}
        with pytest.raises(RegistryError):
            reg.changes_since(URI, iat=1000, sha256=b"c" * 32)
        with pytest.raises(RegistryError):  # a credential id is registered once
            reg.allocate(URI, [ctis[0]])
        assert reg.info(URI).allocated == 5


def test_issue17_item4_one_bit_lists_hold_only_revocation(dsn: str) -> None:
    with open_registry(dsn) as reg:
        reg.create_list("hp:1bit", size=1024, bits=1)
        cti = os.urandom(8)
        reg.allocate("hp:1bit", [cti])
        with pytest.raises(RegistryError, match="does not fit"):
            reg.set_status(StatusValue.SUSPENDED, credential_id=cti)
        reg.set_status(StatusValue.REVOKED, credential_id=cti)
        with pytest.raises(ValueError):
            reg.create_list("hp:odd", size=1001)
        with pytest.raises(ValueError):
            reg.create_list("not a uri", size=1024)


def _allocate_many(dsn: str, n: int, block: int) -> list[int]:
    out: list[int] = []
    with open_registry(dsn) as reg:
        for _ in range(n // block):
            out += [r.idx for r in reg.allocate(URI, [os.urandom(8) for _ in range(block)])]
    return out


def test_issue17_item6_concurrent_allocation_never_repeats_an_index(dsn: str) -> None:
    """4 processes x 2,000 allocations into one list in small transactions: no index twice."""
    with open_registry(dsn) as reg:
        reg.create_list(URI, size=131072)
    with ProcessPoolExecutor(4) as pool:
        results = list(pool.map(_allocate_many, [dsn] * 4, [2000] * 4, [10] * 4))
    everything = [i for r in results for i in r]
    assert len(everything) == 8000 and len(set(everything)) == 8000
    with open_registry(dsn) as reg:
        assert reg.info(URI).allocated == 8000


@pytest.mark.slow
def test_issue17_item6_four_minting_processes_into_one_list(dsn: str, tmp_path: Path) -> None:
    """The contract: 4 `healthpass mint --batch --registry` processes minting 2,000 codes each into one list."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    subprocess.run([sys.executable, "-m", "healthpass", "keygen", "--alg", "ES256", "--out", str(tmp_path / "k")],
                   check=True, capture_output=True, env=env)
    subprocess.run([sys.executable, "-m", "healthpass", "status", "new", "--registry", dsn, "--uri", URI],
                   check=True, capture_output=True, env=env)
    line = json.dumps(json.loads((ROOT / "examples" / "credential.json").read_text("utf-8")))
    people = tmp_path / "people.jsonl"
    people.write_text((line + "\n") * 2000, "utf-8")
    procs = [subprocess.Popen([sys.executable, "-m", "healthpass", "mint", "--key", str(tmp_path / "k.key.pem"),
                               "--issuer", "630000", "--batch", str(people), "--out", str(tmp_path / f"codes{n}"),
                               "--registry", dsn, "--status-uri", URI], env=env, stderr=subprocess.PIPE)
             for n in range(4)]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    idx = []
    for n in range(4):
        codes = (tmp_path / f"codes{n}").read_text().splitlines()
        assert len(codes) == 2000
        idx += [decode_unverified(c)["status_reference"]["idx"] for c in codes]
    assert len(set(idx)) == 8000


def test_issue17_item4_nth_unused() -> None:
    assert _nth_unused(iter([0, 1, 3]), 0) == 2
    assert _nth_unused(iter([0, 1, 3]), 1) == 4
    assert _nth_unused(iter([5]), 4) == 4
    assert _nth_unused(iter([]), 7) == 7


def test_issue17_item6_unreachable_postgres_is_a_registry_error() -> None:
    pytest.importorskip("psycopg")
    with pytest.raises(RegistryError), contextlib.closing(
            open_registry(f"postgresql://nobody@127.0.0.1:{_free_port()}/none?connect_timeout=2")):
        pass
