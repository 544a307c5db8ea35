"""Every runnable example runs offline and does what it says."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*argv: str, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run([sys.executable, *argv], capture_output=True, text=True, cwd=ROOT, timeout=300,
                          check=False, env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_demo_mints_renders_scans_and_verifies(tmp_path: Path) -> None:
    out = _run("examples/demo.py", "--out", str(tmp_path))
    assert "scanned : identical text" in out and "4. verified" in out
    assert (tmp_path / "code.png").stat().st_size > 0


def test_mint_and_verify_recipes() -> None:
    assert _run("examples/mint.py").startswith("HP1:")
    assert _run("examples/verify.py").startswith("VALID")


def test_mutual_recognition_shows_every_rejection() -> None:
    out = _run("examples/mutual_recognition.py")
    for code in ("issuer_mismatch", "usage_not_allowed", "key_expired", "trust_list_stale", "trust_list_expired",
                 "clock_untrusted", "trust_list_invalid", "key_unknown", "trust_list_rollback", "validity_too_long"):
        assert code in out, code
    assert out.count("VALID") >= 3


def test_issue15_item10_mutual_recognition_leaves_no_temporary_directory(tmp_path: Path) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    out = _run("examples/mutual_recognition.py", env={**os.environ, "TMPDIR": str(temp)})
    assert f"state in {temp}" in out  # the example did use the temporary directory given to it ...
    assert list(temp.iterdir()) == []  # ... and removed it


def test_transcode_example_transcodes_and_refuses() -> None:
    out = _run("examples/transcode.py")
    assert "verified in Beijing with Beijing's key alone" in out and '"origin": "630000"' in out
    for code in ("expired", "key_unknown", "transcode_refused"):
        assert f"REFUSED {code}" in out, code
    assert "EU certificate" in out


def test_issue17_item8_revocation_example_runs_the_timeline() -> None:
    out = _run("examples/revocation.py")
    assert out.count("VALID status=valid") >= 4
    for code in ("suspended (status)", "status_list_rollback", "status_list_stale", "status_list_expired",
                 "status_unchecked", "status_unavailable", "status_list_invalid"):
        assert code in out, code


@pytest.mark.parametrize("script", sorted(p.name for p in (ROOT / "examples").glob("*.py")))
def test_every_example_is_covered(script: str) -> None:
    covered = {"demo.py", "mint.py", "verify.py", "mutual_recognition.py", "dask_batch.py", "transcode.py",
               "revocation.py"}
    assert script in covered, f"examples/{script} has no smoke test"
