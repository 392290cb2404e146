#!/usr/bin/env bash
# Browser tests drive Debian's Chromium at /usr/bin/chromium; install it when missing.
# Playwright's own browser download does not work here and is never used.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null; then
  echo "chromium is missing and I cannot install it (not root); browser tests will be skipped." >&2
  exit 0
fi
SUDO=$([ "$(id -u)" -eq 0 ] && echo "" || echo sudo)
echo "installing Debian's chromium for the browser tests ..."
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
