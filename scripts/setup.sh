#!/usr/bin/env bash
# Install everything healthpass needs on a fresh Debian machine (as root or with sudo) into ./.venv.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
if command -v apt-get >/dev/null 2>&1; then
  # softhsm2: the PKCS#11 token the HSM tests use; libzbar0: the fallback QR reader (pyzbar);
  # faketime: scripts/test.sh reruns the suite with the clock a year ahead and a year behind;
  # fonts-noto-cjk: the PNG result cards (healthpass.display); chromium + chromium-driver: the kiosk's browser tests
  # postgresql: the status-registry tests start a throwaway cluster (initdb in a temp dir, unprivileged user)
  # openssl: the command line the SM2 interop tests check against (it brings libssl3, whose libcrypto is the
  # SM2 backend of healthpass[sm])
  need=""
  for pkg in softhsm2 libzbar0 faketime fonts-noto-cjk chromium chromium-driver postgresql openssl; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need="$need $pkg"
  done
  # Debian's own python3 lacks venv until python3-venv is installed; other Pythons (pyenv) have it
  "${PYTHON:-python3}" -m venv --help >/dev/null 2>&1 || need="$need python3-venv"
  if [ -n "$need" ]; then
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $need >/dev/null
  fi
fi
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[dev]"
