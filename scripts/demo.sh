#!/usr/bin/env bash
# Set up (scripts/setup.sh) and run the main job on the built-in sample: make keys, mint a code,
# render its QR code, scan the image, verify it offline.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python examples/demo.py "$@"
