#!/usr/bin/env bash
# Install Chromium for the browser tests (tests/test_browser.py) and scripts/screenshot.py.
#
# Debian's `chromium` package, plus `fonts-liberation` so pages have real text without pulling
# in every recommended package. Does nothing when Chromium is already on PATH. When it cannot
# be installed (no apt-get, not root and no password-less sudo, or apt fails), it warns and
# exits 0: the browser tests then skip with a visible reason instead of failing the build.
set -euo pipefail

for name in chromium chromium-browser; do
    if command -v "$name" >/dev/null 2>&1; then
        echo "install-chromium: $name is already installed ($("$name" --version 2>/dev/null || echo 'version unknown'))"
        exit 0
    fi
done

warn() {
    echo "install-chromium: WARNING: $*; the browser tests will be skipped" >&2
    exit 0
}

command -v apt-get >/dev/null 2>&1 || warn "apt-get not found, cannot install chromium"

as_root=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        as_root=(sudo -n)
    else
        warn "not root and no password-less sudo, cannot install chromium"
    fi
fi

export DEBIAN_FRONTEND=noninteractive
packages=(chromium fonts-liberation)
install() {
    ${as_root[@]+"${as_root[@]}"} apt-get install -y -q --no-install-recommends "${packages[@]}"
}

started=$SECONDS
# Package lists may be missing or stale on a fresh machine: refresh them once if needed.
if ! install; then
    ${as_root[@]+"${as_root[@]}"} apt-get update -q || warn "apt-get update failed"
    install || warn "apt-get install ${packages[*]} failed"
fi
echo "install-chromium: installed $(chromium --version 2>/dev/null || echo chromium) in $((SECONDS - started)) s"
