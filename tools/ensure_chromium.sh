#!/bin/sh
# Make sure Debian's chromium is installed (the handouts print with it; the browser tests use
# it). Where it is missing, install it with apt-get: directly as root, else through sudo; where
# neither is possible, say which package to install and fail. Run by `make all` / `make test`.
set -eu

if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "Debian's chromium is not installed, and installing it needs root: run" >&2
    echo "    apt-get install --no-install-recommends chromium" >&2
    echo "as root (the handouts and the browser tests need it), then run make again." >&2
    exit 1
fi

echo "Installing Debian's chromium (apt-get install chromium) for the handouts and browser tests"
$SUDO apt-get update
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
command -v chromium >/dev/null 2>&1 || {
    echo "apt-get finished but chromium is still not on PATH" >&2
    exit 1
}
