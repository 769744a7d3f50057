#!/usr/bin/env bash
# Install, upgrade or uninstall flic-edge on a Raspberry Pi (or any systemd Debian).
#
#   sudo scripts/install-pi.sh [install]      install, or upgrade in place; safe to run again
#   sudo scripts/install-pi.sh upgrade        the same, but refuses when nothing is installed
#   sudo scripts/install-pi.sh uninstall      remove program and units; keep config and data
#   sudo scripts/install-pi.sh uninstall --purge   ...and delete config, data and the user
#
# Options: --with-flicd (also install and enable flicd.service), --no-start (enable only).
# Environment: DESTDIR (stage into a throwaway root: no systemctl, no users, no chown;
# with SYSTEMCTL=/path/to/stub the systemctl calls go to the stub instead),
# PYTHON (default python3), FLIC_EDGE_PIP_ARGS (extra pip arguments, e.g. --no-index),
# FLIC_EDGE_PACKAGE (what pip installs: default this checkout; a built wheel works too).
set -euo pipefail

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PACKAGE="${FLIC_EDGE_PACKAGE:-$SRC}"
DESTDIR="${DESTDIR:-}"
DESTDIR="${DESTDIR%/}"
PYTHON="${PYTHON:-python3}"
PREFIX=/opt/flic-edge
VENV="$PREFIX/venv"
ETC=/etc/flic-edge
UNITDIR=/etc/systemd/system
SYSUSERS=/etc/sysusers.d/flic-edge.conf
BINDIR=/usr/local/bin
UNITS=(alert-server.service flic-bridge.service)
STATE_DIRS=(/var/lib/alert-server /var/lib/private/alert-server /var/lib/flic-bridge
            /var/lib/flicd /var/lib/private/flicd)

action=install
purge=no
with_flicd=no
start=yes
for arg in "$@"; do
  case "$arg" in
    install|upgrade|uninstall) action="$arg" ;;
    --purge) purge=yes ;;
    --with-flicd) with_flicd=yes ;;
    --no-start) start=no ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install-pi: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done
if [ "$purge" = yes ] && [ "$action" != uninstall ]; then
  echo "install-pi: --purge only goes with uninstall" >&2; exit 2
fi

say() { echo "install-pi: $*"; }
live() { [ -z "$DESTDIR" ]; }   # acting on this machine, not staging into DESTDIR
run_systemctl() {
  if live; then
    systemctl "$@"
  elif [ -n "${SYSTEMCTL:-}" ]; then
    "$SYSTEMCTL" "$@"
  else
    say "(DESTDIR) skipped: systemctl $*"
  fi
}

# Copy a file only when its content differs, so a second run changes nothing.
put() {  # put MODE SRC DEST
  local mode="$1" src="$2" dest="$DESTDIR$3"
  mkdir -p "$(dirname "$dest")"
  if [ -f "$dest" ] && cmp -s "$src" "$dest"; then return 0; fi
  install -m "$mode" "$src" "$dest"
  say "wrote $3"
}

random_token() {
  "$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(24))'
}

write_example_configs() {
  local tmp
  tmp="$(mktemp -d)"
  cat >"$tmp/bridge.toml" <<'TOML'
# flic-bridge configuration (see README "Running on a Raspberry Pi"). Validate with:
#   flic-bridge check-config --config /etc/flic-edge/bridge.toml
[bridge]
name = "bridge-1"
state_dir = "/var/lib/flic-bridge"   # the unit's StateDirectory: the only writable place
listen = "0.0.0.0:8381"              # status page and /hub/events for Flic Hub modules
token = "@TOKEN@"

[[forward]]
url = "http://127.0.0.1:8380/inbound/REPLACE-WITH-INTEGRATION-TOKEN"

[flicd]
enabled = false
host = "127.0.0.1"
port = 5551

[ble]
enabled = false
adapter = "hci0"

[hub]
enabled = true

[mqtt]
enabled = false
host = "127.0.0.1"
port = 1883
base_topic = "flic"
discovery_prefix = "homeassistant"

# [[button]]
# address = "80:e4:da:71:23:45"
# name = "front-desk"
# on = ["single", "hold"]
# off = ["double"]
# info = "Front desk"
TOML
  cat >"$tmp/alert-server.env" <<'ENV'
# Environment for alert-server.service (KEY=value lines; restart the unit after a change).
# ALERT_SERVER_HOST=0.0.0.0
# ALERT_SERVER_PORT=8380
# ALERT_SERVER_CONFIG=/etc/flic-edge/alert-server.toml
# ALERT_SERVER_ADMIN_TOKEN=choose-a-long-random-string
ENV
  cat >"$tmp/flic-bridge.env" <<'ENV'
# Environment for flic-bridge.service (KEY=value lines; restart the unit after a change).
ENV
  put 0644 "$tmp/bridge.toml" "$ETC/bridge.toml.example"
  # Real config files are created once and never overwritten: they hold the site's edits.
  if [ ! -e "$DESTDIR$ETC/bridge.toml" ]; then
    sed "s/@TOKEN@/$(random_token)/" "$tmp/bridge.toml" >"$tmp/bridge.toml.new"
    put 0640 "$tmp/bridge.toml.new" "$ETC/bridge.toml"
    if live; then chgrp flic-bridge "$ETC/bridge.toml"; fi
  fi
  for env in alert-server.env flic-bridge.env; do
    [ -e "$DESTDIR$ETC/$env" ] || put 0600 "$tmp/$env" "$ETC/$env"
  done
  rm -rf "$tmp"
}

install_units() {
  put 0644 "$SRC/systemd/alert-server.service" "$UNITDIR/alert-server.service"
  put 0644 "$SRC/systemd/flic-bridge.service" "$UNITDIR/flic-bridge.service"
  if [ "$with_flicd" = yes ] || [ -e "$DESTDIR$UNITDIR/flicd.service" ]; then
    put 0644 "$SRC/systemd/flicd.service" "$UNITDIR/flicd.service"
  fi
  put 0644 "$SRC/systemd/flic-edge.sysusers" "$SYSUSERS"
  if live; then
    systemd-sysusers "$SYSUSERS"
  elif command -v systemd-sysusers >/dev/null 2>&1; then
    systemd-sysusers --root="$DESTDIR" "$DESTDIR$SYSUSERS" >/dev/null
  fi
}

install_program() {
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || { echo "install-pi: Python 3.11 or newer is needed ($PYTHON)" >&2; exit 1; }
  if [ ! -x "$DESTDIR$VENV/bin/python" ]; then
    say "creating the virtualenv $VENV"
    mkdir -p "$DESTDIR$PREFIX"
    "$PYTHON" -m venv "$DESTDIR$VENV"
  fi
  local before after
  before="$(cat "$DESTDIR$PREFIX/VERSION" 2>/dev/null || echo none)"
  # shellcheck disable=SC2086  # FLIC_EDGE_PIP_ARGS is a list of words on purpose
  "$DESTDIR$VENV/bin/pip" install --quiet --upgrade ${FLIC_EDGE_PIP_ARGS:-} "$PACKAGE"
  after="$("$DESTDIR$VENV/bin/python" -c \
    'import importlib.metadata as m; print(m.version("flic-edge"))')"
  echo "$after" >"$DESTDIR$PREFIX/VERSION"
  say "flic-edge $before -> $after in $VENV"
  for prog in alert-server flic-bridge; do
    mkdir -p "$DESTDIR$BINDIR"
    ln -sfn "$VENV/bin/$prog" "$DESTDIR$BINDIR/$prog"
  done
}

do_install() {
  if ! live; then
    mkdir -p "$DESTDIR"
  elif [ "$(id -u)" -ne 0 ]; then
    echo "install-pi: run as root (sudo), or set DESTDIR to stage into a directory" >&2; exit 1
  fi
  local upgrading=no
  [ -e "$DESTDIR$PREFIX/VERSION" ] && upgrading=yes
  if [ "$action" = upgrade ] && [ "$upgrading" = no ]; then
    echo "install-pi: nothing installed under $DESTDIR$PREFIX to upgrade" >&2; exit 1
  fi
  install_units
  install_program
  write_example_configs
  run_systemctl daemon-reload
  local units=("${UNITS[@]}")
  [ -e "$DESTDIR$UNITDIR/flicd.service" ] && units=(flicd.service "${units[@]}")
  run_systemctl enable "${units[@]}"
  if [ "$start" = no ]; then
    say "enabled; not started (--no-start)"
  elif [ "$upgrading" = yes ]; then
    run_systemctl restart "${units[@]}"   # data in /var/lib and config in /etc are left as they are
    say "upgraded and restarted: ${units[*]}"
  else
    run_systemctl start "${units[@]}"
    say "installed and started: ${units[*]}"
  fi
  say "edit $ETC/bridge.toml, then: systemctl restart flic-bridge"
}

do_uninstall() {
  if live && [ "$(id -u)" -ne 0 ]; then
    echo "install-pi: run as root (sudo)" >&2; exit 1
  fi
  local unit
  for unit in flicd.service "${UNITS[@]}"; do
    if [ -e "$DESTDIR$UNITDIR/$unit" ]; then
      run_systemctl disable --now "$unit" || true
      rm -f "$DESTDIR$UNITDIR/$unit"
    fi
  done
  rm -f "$DESTDIR$SYSUSERS" "$DESTDIR$BINDIR/alert-server" "$DESTDIR$BINDIR/flic-bridge"
  rm -rf "$DESTDIR$PREFIX"
  run_systemctl daemon-reload
  if [ "$purge" = yes ]; then
    rm -rf "$DESTDIR$ETC"
    for dir in "${STATE_DIRS[@]}"; do rm -rf "$DESTDIR$dir"; done
    if live && id flic-bridge >/dev/null 2>&1; then userdel flic-bridge || true; fi
    say "removed flic-edge with its configuration and data"
  else
    say "removed flic-edge; kept $ETC and the data in /var/lib (uninstall --purge deletes them)"
  fi
}

case "$action" in
  install|upgrade) do_install ;;
  uninstall) do_uninstall ;;
esac
