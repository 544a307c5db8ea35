"""examples/dask_batch.py works: the batch API on a local Dask cluster's executor (skipped without distributed)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("distributed", reason="dask[distributed] is dev-only (pip install -e '.[dev]'); "
                    "CI's dev environment runs this test")

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "dask_batch.py"


def test_dask_cluster_mints_and_verifies_in_order() -> None:
    spec = importlib.util.spec_from_file_location("dask_batch_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    summary = module.run(n=300, workers=2, chunk_size=32)
    assert summary["failures"] == []
    assert summary["codes"] == summary["valid"] == 300
    assert summary["in_order"] is True
