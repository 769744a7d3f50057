#!/usr/bin/env bash
# Installs what the test suite needs beyond pip: Debian packages (when root and missing)
# and the Node modules of the hub-module tests. Safe to run again; quiet when all is there.
set -euo pipefail
cd "$(dirname "$0")/.."

want=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || want+=(mosquitto)
command -v chromium >/dev/null 2>&1 || want+=(chromium)
command -v systemd-analyze >/dev/null 2>&1 || want+=(systemd)
command -v node >/dev/null 2>&1 || want+=(nodejs npm)
command -v duk >/dev/null 2>&1 || want+=(duktape)
command -v prometheus-alertmanager >/dev/null 2>&1 || [ -x /usr/bin/prometheus-alertmanager ] || want+=(prometheus-alertmanager)

if [ ${#want[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test-deps: installing ${want[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
  else
    echo "test-deps: missing ${want[*]} (not root: the tests that need them will say so)" >&2
  fi
fi

if [ -f tests/hub/package.json ] && [ ! -d tests/hub/node_modules ]; then
  (cd tests/hub && npm install --silent --no-audit --no-fund)
fi
