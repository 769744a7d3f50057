"""A hub press, end to end: the real hub module (Node, simulated Hub SDK, real HTTP) posts to
the real `flic-bridge`, which forwards to the real `alert-server`."""

from __future__ import annotations

import contextlib
import json
import selectors
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.procs import Proc, free_port, python_module, running, wait_http_ok, wait_until

HERE = Path(__file__).resolve().parent
BRIDGE_TOKEN = "hub-e2e-bridge-token"
ADMIN_TOKEN = "hub-e2e-admin-token"
FRONT = {"bdaddr": "80:E4:DA:71:23:45", "name": "front-desk", "batteryStatus": 87}
LOBBY = {"bdaddr": "80:e4:da:71:99:01", "name": "lobby", "batteryStatus": 64}


class HubDriver:
    """The Node process running the hub module; one JSON command in, one JSON answer out."""

    def __init__(self, setup: dict[str, Any], log_path: Path) -> None:
        node = shutil.which("node")
        assert node, "Node.js is needed for the hub tests: run `make deps`"
        self._stderr = log_path.open("wb")
        self.popen = subprocess.Popen(
            [node, str(HERE / "sim" / "driver.js"), json.dumps(setup)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )
        self.log_path = log_path
        self._selector = selectors.DefaultSelector()
        assert self.popen.stdout is not None
        self._selector.register(self.popen.stdout, selectors.EVENT_READ)

    def call(self, cmd: str, timeout: float = 20.0, **args: Any) -> dict[str, Any]:
        assert self.popen.stdin is not None
        assert self.popen.stdout is not None
        self.popen.stdin.write(json.dumps({"cmd": cmd, **args}) + "\n")
        self.popen.stdin.flush()
        if not self._selector.select(timeout):
            raise AssertionError(f"hub driver did not answer {cmd!r}: {self.log_path.read_text()}")
        line = self.popen.stdout.readline()
        assert line, f"hub driver exited: {self.log_path.read_text()}"
        answer: dict[str, Any] = json.loads(line)
        assert "error" not in answer, answer["error"]
        return answer

    def close(self) -> None:
        if self.popen.poll() is None:
            try:
                self.call("quit", timeout=5)
            except (AssertionError, OSError):
                self.popen.kill()
        self.popen.wait(10)
        self._selector.close()
        for pipe in (self.popen.stdin, self.popen.stdout):
            if pipe is not None:
                pipe.close()
        self._stderr.close()


@dataclass
class Site:
    """An alert server with a flic integration, a bridge config forwarding to it, and a hub."""

    tmp_path: Path
    stack: contextlib.ExitStack
    server_url: str
    bridge_url: str
    bridge_config: Path
    integration_id: int
    hub: HubDriver | None = None

    def start_bridge(self) -> None:
        bridge = Proc(
            python_module("bridge", "run", "--config", str(self.bridge_config)),
            log_path=self.tmp_path / "bridge.log",
        )
        self.stack.enter_context(running(bridge))
        wait_http_ok(f"{self.bridge_url}/healthz", proc=bridge)

    def start_hub(self) -> HubDriver:
        hub = HubDriver(
            {
                "config": {
                    "bridgeUrl": self.bridge_url,
                    "token": BRIDGE_TOKEN,
                    "hubId": "Empfang (Hub LR)",
                    "heartbeatSeconds": 60,
                },
                "buttons": [FRONT, LOBBY],
            },
            self.tmp_path / "hub.log",
        )
        self.stack.callback(hub.close)
        hub.call("settle")
        self.hub = hub
        return hub

    def _admin_get(self, path: str, **params: Any) -> list[dict[str, Any]]:
        got = httpx.get(
            f"{self.server_url}{path}",
            params={"integration_id": self.integration_id, **params},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            timeout=5,
        )
        got.raise_for_status()
        items: list[dict[str, Any]] = got.json()["items"]
        return items

    def alerts(self) -> list[dict[str, Any]]:
        return self._admin_get("/api/v1/alerts")

    def inbound(self) -> list[dict[str, Any]]:
        return self._admin_get("/api/v1/inbound", limit=100)

    def bridge_status(self) -> dict[str, Any]:
        got = httpx.get(f"{self.bridge_url}/api/status", timeout=5)
        got.raise_for_status()
        status: dict[str, Any] = got.json()
        return status

    def press(self, button: dict[str, Any], kind: str) -> None:
        assert self.hub is not None
        self.hub.call("press", bdaddr=button["bdaddr"], kind=kind)
        self.hub.call("settle")


@pytest.fixture
def parts(tmp_path: Path) -> Iterator[Site]:
    """The alert server running; the bridge and the hub are started by the test or `site`."""
    server_port, bridge_port = free_port(), free_port()
    server_dir = tmp_path / "server"
    made = subprocess.run(
        python_module(
            "server",
            "integration",
            "add",
            "--name",
            "hub-site",
            "--kind",
            "flic",
            "--json",
            "--data-dir",
            str(server_dir),
        ),
        capture_output=True,
        text=True,
        check=True,
    )
    integration = json.loads(made.stdout)
    config = tmp_path / "bridge.toml"
    config.write_text(
        f"""
[bridge]
name = "bridge-e2e"
state_dir = "{tmp_path / "bridge"}"
listen = "127.0.0.1:{bridge_port}"
token = "{BRIDGE_TOKEN}"

[[forward]]
url = "http://127.0.0.1:{server_port}{integration["inbound_path"]}"

[flicd]
enabled = false

[hub]
enabled = true
""",
        encoding="utf-8",
    )
    server = Proc(
        python_module("server", "run", "--port", str(server_port), "--data-dir", str(server_dir)),
        log_path=tmp_path / "server.log",
        env={"ALERT_SERVER_ADMIN_TOKEN": ADMIN_TOKEN},
    )
    with contextlib.ExitStack() as stack:
        stack.enter_context(running(server))
        server_url = f"http://127.0.0.1:{server_port}"
        wait_http_ok(f"{server_url}/healthz", proc=server)
        yield Site(
            tmp_path=tmp_path,
            stack=stack,
            server_url=server_url,
            bridge_url=f"http://127.0.0.1:{bridge_port}",
            bridge_config=config,
            integration_id=int(integration["id"]),
        )


@pytest.fixture
def site(parts: Site) -> Site:
    """Server, bridge and hub all up, in that order."""
    parts.start_bridge()
    parts.start_hub()
    return parts


def test_hub_single_click_opens_the_alert_and_double_click_closes_it(site: Site) -> None:
    # The module's first heartbeat put the hub and its buttons on the bridge's status.
    hub_source = next(s for s in site.bridge_status()["sources"] if s["name"] == "hub")
    assert hub_source["state"] == "online"
    assert hub_source["hubs"][0]["hub_id"] == "Empfang (Hub LR)"
    page = httpx.get(f"{site.bridge_url}/", timeout=5).text
    assert "Empfang (Hub LR) online" in page
    assert [b["name"] for b in hub_source["hubs"][0]["buttons"]] == ["front-desk", "lobby"]

    site.press(FRONT, "single")
    opened = wait_until(
        lambda: [a for a in site.alerts() if a["status"] == "open"], what="an open alert"
    )
    assert [(a["source_name"], a["title"]) for a in opened] == [
        ("front-desk", "front-desk pressed")
    ]

    site.press(FRONT, "double")
    closed = wait_until(
        lambda: [a for a in site.alerts() if a["status"] == "closed"], what="the alert closed"
    )
    assert [a["id"] for a in closed] == [opened[0]["id"]]
    assert len(site.alerts()) == 1
    statuses = sorted((m["status"], m["action"]) for m in site.inbound())
    assert statuses == [("mapped", "close"), ("mapped", "open")]


def test_a_retried_hub_event_makes_one_alert(site: Site) -> None:
    # The bridge stores the press but its answer is lost on the way back to the hub...
    site.hub.call("lose_answers", n=1)
    site.press(LOBBY, "single")
    # ...so the module retries after its backoff, with the same event id.
    site.hub.call("advance", ms=2000)
    site.hub.call("settle")

    clicks = [r for r in site.hub.call("log")["requests"] if r["body"]["type"] == "click"]
    assert len(clicks) == 2
    assert clicks[0]["lost"] is True
    assert clicks[0]["status"] == 202
    assert clicks[1]["body"]["event_id"] == clicks[0]["body"]["event_id"]
    assert clicks[1]["status"] == 202
    assert json.loads(clicks[1]["answer"])["duplicate"] is True

    wait_until(lambda: site.alerts(), what="the lobby alert")
    wait_until(lambda: site.bridge_status()["outbox"]["pending"] == 0, what="the outbox to drain")
    alerts = site.alerts()
    assert [(a["source_name"], a["status"], a["append_count"]) for a in alerts] == [
        ("lobby", "open", 0)
    ]
    assert [m["source_name"] for m in site.inbound()] == ["lobby"]
    assert site.bridge_status()["outbox"]["delivered"] == 1


def test_presses_made_while_the_bridge_is_down_arrive_in_order_once_it_is_up(
    parts: Site,
) -> None:
    hub = parts.start_hub()  # the bridge is not running yet
    parts.press(FRONT, "single")
    parts.press(FRONT, "double")
    failed = [r for r in hub.call("log")["requests"] if r["error"]]
    assert failed, "the bridge was down: the first attempts failed"

    parts.start_bridge()

    def alert_closed() -> list[dict[str, Any]]:
        hub.call("advance", ms=5000)  # hub time: the retry backoff runs out
        hub.call("settle")
        return [a for a in parts.alerts() if a["status"] == "closed"]

    closed = wait_until(alert_closed, interval=0.2, what="the queued presses to arrive")
    assert [a["source_name"] for a in closed] == ["front-desk"]
    assert len(parts.alerts()) == 1
    # Oldest first in the log: opened by the single click, then closed by the double.
    actions = [m["action"] for m in reversed(parts.inbound())]
    assert actions == ["open", "close"]
    clicks = [r for r in hub.call("log")["requests"] if r["body"]["type"] == "click"]
    delivered = [r["body"]["click"] for r in clicks if r["status"] == 202]
    assert delivered == ["single", "double"]
