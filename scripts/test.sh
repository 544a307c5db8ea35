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
# Tests never depend on the real date: the whole suite again with every library's clock (libfaketime)
# a year ahead and a year behind. HEALTHPASS_NO_CLOCK_SHIFT=1 skips these two runs.
if [ -z "${HEALTHPASS_NO_CLOCK_SHIFT:-}" ]; then
  for shift in +365d -365d; do
    echo "== suite with the clock shifted $shift"
    faketime -f "$shift" .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
  done
fi
