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
# PostgreSQL for the high-availability tests (the fixture runs initdb/postgres itself).
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || want+=(postgresql)
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

# pyflic-ble (the vendor's Python client) is the independent client of the Flic 2 simulator
# tests. It declares Python >= 3.12 (it runs on 3.11 too), so it goes in without its own
# dependencies: bleak and bleak-retry-connector come from pyproject.toml.
py="${PYTHON_FOR_TESTS:-.venv/bin/python}"
[ -x "$py" ] || py=python3
if ! "$py" -c "import pyflic_ble" >/dev/null 2>&1; then
  "$py" -m pip install --quiet --no-deps --ignore-requires-python pyflic-ble==0.2.5
fi

if [ -f tests/hub/package.json ] && [ ! -d tests/hub/node_modules ]; then
  (cd tests/hub && npm install --silent --no-audit --no-fund)
fi
