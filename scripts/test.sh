#!/usr/bin/env bash
# Set up (scripts/setup.sh) and run every check: ruff, mypy --strict, and the whole test suite
# (including the slow external conformance suites, which find ../shared via HEALTHPASS_SHARED), five times:
# the dev environment (./.venv), the same with the clock a year ahead and a year behind, and the two
# dependency environments of scripts/dep-envs.sh (newest and oldest releases the package allows).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HEALTHPASS_SHARED="${HEALTHPASS_SHARED:-$(cd .. && pwd)/shared}"
# property tests draw the same examples on every run here (tests/conftest.py: profiles "ci" and "explore")
export HEALTHPASS_HYPOTHESIS_PROFILE="${HEALTHPASS_HYPOTHESIS_PROFILE:-ci}"
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
# What users install is tested too, not only the dev set (whose python-cwt holds cbor2 below 6): the suite in
# the newest releases pip resolves for healthpass[all] today, and in the oldest ones pyproject.toml allows
# (ci/constraints-oldest.txt). HEALTHPASS_NO_DEP_ENVS=1 skips these two runs.
if [ -z "${HEALTHPASS_NO_DEP_ENVS:-}" ]; then
  for env in newest oldest; do
    echo "== suite in the $env dependency environment"
    python="$(bash scripts/dep-envs.sh "$env" | tail -n 1)"
    "$python" -m pytest -q -p no:cacheprovider "$@"
  done
fi
