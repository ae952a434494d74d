#!/bin/sh
# Setup for the dashboard's browser tests (tests/web, docs/dashboard.md): Debian's
# chromium, node and npm when missing, and tests/web/node_modules (playwright-core) from
# the lock file when missing or older than package-lock.json. Idempotent: does nothing
# when everything is there. Needs root for apt-get (only when something is missing).
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)

missing=""
[ -x /usr/bin/chromium ] || missing="$missing chromium"
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
if [ -n "$missing" ]; then
  echo "setup-web: installing$missing"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
fi

web="$repo/tests/web"
stamp="$web/node_modules/.package-lock.json"   # npm writes it on every install
if [ ! -f "$stamp" ] || [ "$web/package-lock.json" -nt "$stamp" ]; then
  echo "setup-web: npm ci in tests/web"
  npm ci --prefix "$web" --no-audit --no-fund
fi
echo "setup-web: chromium $(/usr/bin/chromium --version 2>/dev/null | awk '{print $2}'), node $(node --version), playwright-core $(node -p "require('$web/node_modules/playwright-core/package.json').version")"
