#!/usr/bin/env bash
# The README's test command: installs what the tests need on a fresh machine (Python packages,
# Debian's chromium, fonts-noto-cjk and nginx for the several-process tests), then runs the whole suite, browser tests included.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || need+=(fonts-noto-cjk)
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || need+=(nginx-light)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
exec python -m pytest "$@"
