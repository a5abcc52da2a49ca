#!/usr/bin/env bash
# Make sure Debian's Chromium is there for the web page's browser test (tests/e2e/test_web_page.py,
# Playwright pointed at /usr/bin/chromium; Playwright's own browser download is never used).
# Installs it with apt-get when it is missing and we are root; otherwise says so and fails, as the
# test does under CI.
set -euo pipefail

CHROMIUM=${TARIFFS_CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ] && [ "$(id -u)" = 0 ]; then
  echo "chromium.sh: installing Chromium from Debian's packages" >&2
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
if [ ! -x "$CHROMIUM" ]; then
  echo "chromium.sh: no $CHROMIUM (install Debian's chromium)" >&2
  exit 1
fi
echo "chromium.sh: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")" >&2
