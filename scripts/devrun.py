"""`make run`: the alert server and the bridge together on embedded defaults, for a first look.

Creates ./var, a Flic integration on the server (once), a demo bridge config at
./var/bridge.toml with one button (`front-desk`) forwarding to it, starts both programs and
prints where everything is. Ctrl-C stops both. Ports: FLIC_EDGE_SERVER_PORT (8380) and
FLIC_EDGE_BRIDGE_PORT (8381).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import FrameType

VAR = Path("var")
SERVER_DIR = VAR / "server"
BRIDGE_CONFIG = VAR / "bridge.toml"
INTEGRATION_FILE = VAR / "devrun-integration.json"

DEMO_CONFIG = """\
# Written by `make run` (scripts/devrun.py). Edit freely: it is only written when missing.
# `flic-bridge ...` run from the repository root finds this file by itself.

[bridge]
name = "demo-bridge"
state_dir = "var/bridge"
listen = "127.0.0.1:{bridge_port}"
# no token: the bridge keeps a generated one in var/bridge/token (and `press` reads it)

[[forward]]
url = "{inbound_url}"

[flicd]
enabled = false   # no flicd on a laptop; on the Pi set true (127.0.0.1:5551)

[hub]
enabled = true

[[button]]
address = "80:e4:da:71:23:45"
name = "front-desk"
on = ["single", "hold"]
off = ["double"]
info = "Front desk (demo button)"
"""


def _python(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


def _wait_ok(url: str, proc: subprocess.Popen[bytes], what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"devrun: {what} exited early (code {proc.returncode})")
        try:
            with urllib.request.urlopen(url, timeout=1.0) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"devrun: {what} did not answer {url} within {timeout_s:.0f} s")


def _integration(server_port: int) -> dict[str, str]:
    if INTEGRATION_FILE.is_file() and (SERVER_DIR / "admin-token").exists():
        saved: dict[str, str] = json.loads(INTEGRATION_FILE.read_text())
        return saved
    out = subprocess.run(
        _python(
            "server",
            "integration",
            "add",
            "--name",
            "front-office",
            "--kind",
            "flic",
            "--json",
            "--data-dir",
            str(SERVER_DIR),
        ),
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"devrun: could not create the Flic integration:\n{out.stderr}")
    made = json.loads(out.stdout)
    saved = {"id": str(made["id"]), "inbound_path": made["inbound_path"]}
    INTEGRATION_FILE.write_text(json.dumps(saved) + "\n")
    BRIDGE_CONFIG.unlink(missing_ok=True)  # a new integration: the demo config must follow it
    return saved


def _board_link(server_url: str) -> str:
    """A board link (view and acknowledge, no login) for the printed summary."""
    out = subprocess.run(
        _python("server", "board-link", "--base-url", server_url, "--data-dir", str(SERVER_DIR)),
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"devrun: could not make a board link:\n{out.stderr}")
    return out.stdout.strip()


def main() -> int:
    server_port = int(os.environ.get("FLIC_EDGE_SERVER_PORT", "8380"))
    bridge_port = int(os.environ.get("FLIC_EDGE_BRIDGE_PORT", "8381"))
    VAR.mkdir(exist_ok=True)
    SERVER_DIR.mkdir(exist_ok=True)
    integration = _integration(server_port)
    server_url = f"http://127.0.0.1:{server_port}"
    inbound_url = server_url + integration["inbound_path"]
    (VAR / "integration-url").write_text(inbound_url + "\n")  # for the README's curl line
    if not BRIDGE_CONFIG.exists():
        BRIDGE_CONFIG.write_text(
            DEMO_CONFIG.format(bridge_port=bridge_port, inbound_url=inbound_url)
        )
    env = {k: v for k, v in os.environ.items() if k != "FLIC_BRIDGE_CONFIG"}
    children: list[subprocess.Popen[bytes]] = []
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        server = subprocess.Popen(
            _python("server", "run", "--data-dir", str(SERVER_DIR), "--port", str(server_port)),
            env=env,
        )
        children.append(server)
        _wait_ok(server_url + "/healthz", server, "alert-server")
        bridge = subprocess.Popen(_python("bridge", "run", "--config", str(BRIDGE_CONFIG)), env=env)
        children.append(bridge)
        bridge_url = f"http://127.0.0.1:{bridge_port}"
        _wait_ok(bridge_url + "/healthz", bridge, "flic-bridge")
        token_file = SERVER_DIR / "admin-token"
        board = _board_link(server_url)
        print(
            f"""
flic-edge is running (Ctrl-C stops both):
  station board          {board}
                         (open it, tap "enable sound": it rings for the demo button)
  alert server console   {server_url}/
  admin token            {token_file}  (or: .venv/bin/alert-server admin-token)
  Flic integration URL   {inbound_url}  (also in var/integration-url)
  bridge status          {bridge_url}/
  bridge config          {BRIDGE_CONFIG}

Press the demo button from another terminal in this directory:
  .venv/bin/flic-bridge press front-desk single     # opens an alert
  .venv/bin/flic-bridge press front-desk double     # closes it
See the alert ring on the board, in the console, or:
  curl -H "Authorization: Bearer $(cat {token_file})" {server_url}/api/v1/alerts
""",
            flush=True,
        )
        while not stopping:
            for child in children:
                if child.poll() is not None:
                    print(f"devrun: {child.args[2]} exited (code {child.returncode})", flush=True)
                    stopping = True
            time.sleep(0.2)
    finally:
        for child in reversed(children):
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in reversed(children):
            try:
                child.wait(15)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
    print("devrun: stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
