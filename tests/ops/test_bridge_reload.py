"""`flic-bridge run` and SIGHUP: live button changes, restart-only keys named, bad files refused."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.bridge.receiver import Receiver
from tests.ops.notify_socket import NotifySocket
from tests.support.procs import Proc, free_port, python_module, running, wait_until

TOKEN = "bridge-test-token-123"
INTERVAL_S = 0.1  # WATCHDOG_USEC is twice this


@pytest.fixture
def notify_socket() -> Iterator[NotifySocket]:
    ns = NotifySocket()
    yield ns
    ns.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rx = Receiver().start()
    yield rx
    rx.stop()


def config_text(tmp_path: Path, port: int, forward_url: str, button: str, timeout_s: int) -> str:
    return f"""
[bridge]
name = "cupboard"
state_dir = "{tmp_path / "state"}"
listen = "127.0.0.1:{port}"
token = "{TOKEN}"

[[forward]]
url = "{forward_url}"
timeout_s = {timeout_s}

[flicd]
enabled = false

[[button]]
address = "80:e4:da:71:23:45"
{button}
"""


FRONT_DESK = 'name = "front-desk"\non = ["single"]\noff = ["double"]\ninfo = "Desk"'


def start(tmp_path: Path, config: Path, ns: NotifySocket, **env: str) -> Proc:
    return Proc(
        python_module("bridge", "run", "--config", str(config), "--log-format", "json"),
        log_path=tmp_path / "bridge.log",
        env={"NOTIFY_SOCKET": ns.path, **env},
    )


def press(port: int, button: str) -> None:
    answer = httpx.post(
        f"http://127.0.0.1:{port}/api/press",
        json={"button": button, "click": "single"},
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=10,
    )
    assert answer.status_code == 202, answer.text


def hang_up(proc: Proc, ns: NotifySocket, reloads: int) -> None:
    """SIGHUP, then wait for the reload's RELOADING=1 ... READY=1."""
    proc.popen.send_signal(signal.SIGHUP)
    ns.wait_for("RELOADING=1", times=reloads)
    ns.wait_for("READY=1", times=reloads + 1)


def logged(proc: Proc, level: str) -> list[str]:
    entries = [json.loads(line) for line in proc.log().splitlines() if line.startswith("{")]
    return [e["message"] for e in entries if e["level"] == level]


def forwarded(receiver: Receiver, count: int) -> list[dict[str, Any]]:
    wait_until(lambda: len(receiver.bodies()) >= count, what=f"{count} forwarded webhook(s)")
    return receiver.bodies()


def test_sighup_renames_and_remaps_a_button_live_and_names_what_needs_a_restart(
    tmp_path: Path, notify_socket: NotifySocket, receiver: Receiver
) -> None:
    port = free_port()
    config = tmp_path / "bridge.toml"
    config.write_text(config_text(tmp_path, port, receiver.url, FRONT_DESK, 10))
    proc = start(tmp_path, config, notify_socket)
    with running(proc):
        notify_socket.wait_for("READY=1")
        press(port, "front-desk")
        first = forwarded(receiver, 1)[0]
        assert (first["flic_nameId"], first["flic_state"], first["info"]) == (
            "front-desk", "On", "Desk",
        )  # fmt: skip
        renamed = 'name = "reception"\non = ["double"]\noff = ["single"]\ninfo = "Reception"'
        config.write_text(config_text(tmp_path, free_port(), receiver.url, renamed, 20))
        hang_up(proc, notify_socket, reloads=1)
        press(port, "reception")  # still on the old port: the listen address needs a restart
        second = forwarded(receiver, 2)[1]
        assert (second["flic_nameId"], second["flic_state"], second["info"]) == (
            "reception", "Off", "Reception",
        )  # fmt: skip
        status = httpx.get(f"http://127.0.0.1:{port}/api/status", timeout=10).json()
        assert [b["name"] for b in status["buttons"]] == ["reception"]
    warnings = [m for m in logged(proc, "WARNING") if "after a restart" in m]
    prefix = "config reload: these changes take effect only after a restart: "
    assert warnings == [prefix + "[bridge] listen"]
    assert "config reloaded: [[button]], [[forward]]" in logged(proc, "INFO")
    assert "config reload: targets 127.0.0.1:" in " ".join(logged(proc, "INFO"))  # timeout_s


def targets_text(tmp_path: Path, port: int, targets: dict[str, str]) -> str:
    forward = "".join(f'[[forward]]\nname = "{n}"\nurl = "{u}"\n' for n, u in targets.items())
    return config_text(tmp_path, port, "http://127.0.0.1:9/unused", FRONT_DESK, 10).replace(
        '[[forward]]\nurl = "http://127.0.0.1:9/unused"\ntimeout_s = 10\n', forward
    )


def test_sighup_adds_moves_and_removes_webhook_targets_live(
    tmp_path: Path, notify_socket: NotifySocket, receiver: Receiver
) -> None:
    other = Receiver().start()
    port = free_port()
    config = tmp_path / "bridge.toml"
    config.write_text(targets_text(tmp_path, port, {"desk": receiver.url}))
    watchdog = {
        "WATCHDOG_USEC": str(int(INTERVAL_S * 2_000_000)),
        "FLIC_BRIDGE_WEDGED_AFTER_S": "3",
    }
    proc = start(tmp_path, config, notify_socket, **watchdog)
    try:
        with running(proc):
            notify_socket.wait_for("READY=1")
            press(port, "front-desk")
            forwarded(receiver, 1)
            config.write_text(
                targets_text(tmp_path, port, {"desk": receiver.url, "pager": other.url})
            )
            hang_up(proc, notify_socket, reloads=1)
            press(port, "front-desk")  # to both now
            forwarded(receiver, 2)
            forwarded(other, 1)
            config.write_text(targets_text(tmp_path, port, {"pager": receiver.url}))
            hang_up(proc, notify_socket, reloads=2)
            press(port, "front-desk")  # "pager" moved to the first receiver; "desk" is gone
            forwarded(receiver, 3)
            status = httpx.get(f"http://127.0.0.1:{port}/api/status", timeout=10).json()
            # "desk"'s delivery loop is gone: the watchdog must not wait for it (3 s + margin).
            pings = notify_socket.count("WATCHDOG=1")
            notify_socket.wait_for("WATCHDOG=1", times=pings + 1)
            time.sleep(4)
            notify_socket.wait_for("WATCHDOG=1", times=notify_socket.count("WATCHDOG=1") + 1)
        assert len(other.bodies()) == 1
        assert [t["name"] for t in status["targets"]] == ["pager"]
        assert len({b["event_id"] for b in receiver.bodies()}) == 3
        assert not [m for m in logged(proc, "WARNING") if "after a restart" in m]
        infos = logged(proc, "INFO")
        assert "config reload: targets pager added" in infos
        assert "config reload: targets desk removed, pager changed" in infos
    finally:
        other.stop()


def test_sighup_with_a_broken_file_logs_every_problem_and_keeps_running_on_the_old_config(
    tmp_path: Path, notify_socket: NotifySocket, receiver: Receiver
) -> None:
    port = free_port()
    config = tmp_path / "bridge.toml"
    config.write_text(config_text(tmp_path, port, receiver.url, FRONT_DESK, 10))
    proc = start(tmp_path, config, notify_socket)
    with running(proc):
        notify_socket.wait_for("READY=1")
        broken = 'name = ""\non = ["sometimes"]'
        config.write_text(config_text(tmp_path, port, "ftp://nowhere", broken, 999))
        hang_up(proc, notify_socket, reloads=1)
        assert proc.alive()
        press(port, "front-desk")  # the old buttons still work
        body = forwarded(receiver, 1)[0]
        assert (body["flic_nameId"], body["flic_state"]) == ("front-desk", "On")
    check = subprocess.run(
        [sys.executable, "-m", "bridge", "check-config", "--config", str(config)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 2
    problems = [line[4:] for line in check.stderr.splitlines() if line.startswith("  - ")]
    assert len(problems) >= 4, check.stderr  # forward url and timeout, button name and on
    errors = logged(proc, "ERROR")
    assert f"config reload: {len(problems)} problem(s), keeping the running config" in errors
    assert [m.removeprefix("config reload: ") for m in errors[1:]] == problems
    assert any(p.startswith("forward[0].url") for p in problems), problems


def test_a_wedged_mqtt_link_supervisor_stops_the_watchdog_pings(
    tmp_path: Path, notify_socket: NotifySocket
) -> None:
    port = free_port()
    config = tmp_path / "bridge.toml"
    config.write_text(
        f"""
[bridge]
name = "cupboard"
state_dir = "{tmp_path / "state"}"
listen = "127.0.0.1:{port}"
token = "{TOKEN}"

[flicd]
enabled = false

[mqtt]
enabled = true
port = {free_port()}
"""
    )  # no broker listens there: the link supervisor keeps backing off and retrying
    wedge = tmp_path / "wedge"
    proc = Proc(
        python_module("tests.ops.wedge_bridge", "run", "--config", str(config)),
        log_path=tmp_path / "bridge.log",
        env={
            "NOTIFY_SOCKET": notify_socket.path,
            "WATCHDOG_USEC": str(int(INTERVAL_S * 2_000_000)),
            "FLIC_BRIDGE_WEDGED_AFTER_S": "3",
            "WEDGE_FILE": str(wedge),
        },
    )
    with running(proc):
        notify_socket.wait_for("WATCHDOG=1", times=40)  # over 4 s without a broker...
        assert not [m for m in notify_socket.messages if "wedged" in m]  # ...is not wedged
        wedge.touch()
        wait_until(
            lambda: "STATUS=wedged: mqtt-link:flic-bridge-cupboard" in notify_socket.drain(),
            timeout=40,
            what="the MQTT link supervisor reported wedged",
        )
        pings = notify_socket.count("WATCHDOG=1")
        for _ in range(5):  # five watchdog intervals with a demonstrably live event loop...
            time.sleep(INTERVAL_S)
            assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).is_success
        assert notify_socket.count("WATCHDOG=1") == pings  # ...and not one ping
