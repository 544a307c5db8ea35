"""Locate the read-only ``shared/`` folder of reference vectors for the tests.

The folder is found through the ``HEALTHPASS_SHARED`` environment variable, or else as ``../shared``
relative to the repository root.  Tests that need it skip with a clear message when it is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

__all__ = ["find_shared_dir", "shared_dir"]

_DEFAULT = Path(__file__).resolve().parents[1].parent / "shared"


def find_shared_dir() -> Path | None:
    """The shared folder, or ``None`` when it does not exist (no skipping: safe at collection time)."""
    configured = os.environ.get("HEALTHPASS_SHARED")
    candidate = Path(configured) if configured else _DEFAULT
    return candidate if candidate.is_dir() else None


def shared_dir() -> Path:
    """The shared folder; calls :func:`pytest.skip` when it is absent."""
    found = find_shared_dir()
    if found is None:
        pytest.skip("shared vectors folder not found: set HEALTHPASS_SHARED or place it at ../shared")
    return found
