#!/usr/bin/env bash
# Static security scan of the Terraform with checkov.
# checkov's own pins clash with the project's dependencies, so it lives in a separate
# virtualenv (CHECKOV_VENV, default /tmp/checkov-venv), created on first use.
# Usage: scripts/checkov.sh [extra checkov arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

CHECKOV_VERSION="${CHECKOV_VERSION:-3.3.30}"
CHECKOV_VENV="${CHECKOV_VENV:-/tmp/checkov-venv}"
PYTHON="${PYTHON:-python3}"

if ! "$CHECKOV_VENV/bin/checkov" --version 2>/dev/null | grep -qx "$CHECKOV_VERSION"; then
    echo "Installing checkov $CHECKOV_VERSION into $CHECKOV_VENV ..." >&2
    "$PYTHON" -m venv "$CHECKOV_VENV"
    "$CHECKOV_VENV/bin/python" -m pip install -q --upgrade pip
    "$CHECKOV_VENV/bin/python" -m pip install -q "checkov==$CHECKOV_VERSION"
fi

# Skipped checks are justified inline next to the resource (#checkov:skip=...), not here.
exec "$CHECKOV_VENV/bin/checkov" -d . --framework terraform --quiet --compact --skip-download \
    --skip-path dist --skip-path .terraform --skip-path .venv "$@"
