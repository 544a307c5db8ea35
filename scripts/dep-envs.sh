#!/usr/bin/env bash
# Build one of the two dependency environments CI tests besides the dev one (./.venv), each in a venv of its
# own with the runtime extras (.[all]) and the test tools that constrain no runtime package:
#   newest  .venv-newest: the newest releases pip resolves today, as a user's `pip install "healthpass[all]"`
#           gets them; the resolved set is written to .venv-newest/constraints-newest.txt and compared with
#           ci/constraints-newest.txt, the set last recorded (`--record` updates that file)
#   oldest  .venv-oldest: ci/constraints-oldest.txt, every runtime requirement at its pyproject.toml lower bound
# Usage: bash scripts/dep-envs.sh newest|oldest [--record]   (prints the venv's python on the last line)
set -euo pipefail
cd "$(dirname "$0")/.."
name="${1:?usage: dep-envs.sh newest|oldest [--record]}"
record="${2:-}"
PY="${PYTHON:-python3}"
# pytest, hypothesis and base45 depend on no runtime package of healthpass; python-cwt (caps cbor2 below 6),
# pycose, dask and qrcode are dev-only: the tests needing them skip here with a message
tools=(pytest hypothesis base45)
venv=".venv-$name"
case "$name" in
  newest) constraints=() ;;
  oldest) constraints=(-c ci/constraints-oldest.txt) ;;
  *) echo "unknown environment: $name (newest or oldest)" >&2; exit 2 ;;
esac
if [ ! -x "$venv/bin/python" ]; then
  "$PY" -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --upgrade pip >&2
# eager: every package (dependencies too) moves to the newest release the constraints allow
"$venv/bin/python" -m pip install -q --upgrade --upgrade-strategy eager "${constraints[@]}" -e ".[all]" "${tools[@]}" >&2
"$venv/bin/python" -m pip check >&2
if [ "$name" = newest ]; then
  resolved="$venv/constraints-newest.txt"
  pyver="$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
  {
    echo "# The newest releases pip resolved for healthpass[all] and its test tools (${tools[*]}) on"
    echo "# Python $pyver, recorded by"
    echo "# scripts/dep-envs.sh newest --record; CI resolves afresh on every run and reports what changed."
    "$venv/bin/python" -m pip freeze --exclude-editable | LC_ALL=C sort -f
  } > "$resolved"
  if [ "$record" = --record ]; then
    cp "$resolved" ci/constraints-newest.txt
  elif ! diff -q <(grep -v '^#' ci/constraints-newest.txt) <(grep -v '^#' "$resolved") >/dev/null; then
    echo "== newer releases than ci/constraints-newest.txt records (tested now; record with --record):" >&2
    diff <(grep -v '^#' ci/constraints-newest.txt) <(grep -v '^#' "$resolved") | grep '^[<>]' >&2 || true
  fi
fi
"$venv/bin/python" -m pip list --format=freeze 2>/dev/null | grep -iE '^(cbor2|cryptography|zlib-ng|segno|zxing-cpp|pillow|pyzbar|python-pkcs11|jsonschema|fastjsonschema|babel|psycopg)==' | tr '\n' ' ' >&2
echo >&2
echo "$venv/bin/python"
