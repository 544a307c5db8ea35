#!/usr/bin/env bash
# Set up (scripts/setup.sh) and run every check: ruff, mypy --strict, and the whole test suite
# (including the slow external conformance suites, which find ../shared via HEALTHPASS_SHARED).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HEALTHPASS_SHARED="${HEALTHPASS_SHARED:-$(cd .. && pwd)/shared}"
.venv/bin/ruff check .
.venv/bin/mypy
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
