#!/usr/bin/env bash
# The browser tests drive Debian's Chromium at /usr/bin/chromium; install it when missing.
# Playwright's own browser download does not work here and is never used.
set -euo pipefail
[ -x /usr/bin/chromium ] && exit 0
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "chromium is missing and I am not root: install Debian's chromium" >&2; exit 1; }
  SUDO=sudo
fi
echo "installing Debian's chromium for the browser tests ..."
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
