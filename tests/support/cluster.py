"""Several real `alert-server run` processes on one PostgreSQL database: the HA tests' harness.

Every node has its own data dir, port and log, and the same secrets (admin token, link
secret), as servers behind one load balancer would. Pages go to the SMTP port given, MQTT to
the broker given. With `database_url=None` each node keeps its own SQLite database (only to
check the harness itself; the HA tests always share PostgreSQL).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.support.mosquitto import Mosquitto
from tests.support.procs import Proc, Runs, free_port, python_module, wait_until

ADMIN_TOKEN = "cluster-admin-token-3f9a1c7e5b"
LINK_SECRET = "cluster-link-secret-8d2e6b4a0c"
# The tests' own settings only: a developer's ALERT_SERVER_* must not leak in.
CLEAN_ENV = {
    **{k: "" for k in os.environ if k.startswith("ALERT_SERVER_")},
    "ALERT_SERVER_CONFIG": "",
}


def flic_body(button: str, state: str) -> str:
    """A body as the Flic app guide has users type it."""
    return f'"flic_nameId": "{button}",\n"flic_state": "{state}",\n"info": "{button}",\n'


@dataclass
class Node(Runs):
    """One `alert-server run`; `launch()` starts it without waiting, `start()` waits too."""

    name: str
    data_dir: Path
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    proc: Proc | None = None
    runs: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def launch(self) -> Node:
        self.runs += 1
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.proc = Proc(
            python_module(
                "server", "run", "--data-dir", str(self.data_dir), "--port", str(self.port)
            ),
            log_path=self.data_dir.parent / f"{self.name}-{self.runs}.log",
            env=self.env,
        )
        return self

    def wait_ready(self, timeout: float = 40.0) -> Node:
        proc = self.proc
        assert proc is not None, f"{self.name} was not launched"

        def ready() -> bool:
            if not proc.alive():
                raise AssertionError(f"{self.name} exited early:\n{proc.log()}")
            with contextlib.suppress(httpx.HTTPError):
                return httpx.get(self.url + "/healthz", timeout=1.0).is_success
            return False

        try:
            wait_until(ready, timeout=timeout, what=f"{self.name} at {self.url}")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.log()}") from None
        return self

    def start(self) -> Node:
        return self.launch().wait_ready()

    def log(self) -> str:
        """Every run's log, oldest first."""
        logs = sorted(self.data_dir.parent.glob(f"{self.name}-*.log"))
        return "".join(p.read_text(errors="replace") for p in logs)

    # --- talking to it ------------------------------------------------------------------

    def client(self, **kwargs: Any) -> httpx.Client:
        """An admin API client (the shared admin token) for this node."""
        return httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            timeout=15.0,
            **kwargs,
        )

    def get(self, path: str, **params: Any) -> Any:
        with self.client() as client:
            answer = client.get(path, params=params)
        assert answer.status_code == 200, (self.name, path, answer.status_code, answer.text)
        return answer.json()

    def create(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.client() as client:
            answer = client.post(path, json=body)
        assert answer.status_code == 201, (self.name, path, answer.text)
        result: dict[str, Any] = answer.json()
        return result

    def integration(self, name: str, policy_id: int | None = None) -> str:
        """A new Flic integration (paging `policy_id`); its inbound path."""
        body: dict[str, Any] = {"name": name, "kind": "flic"}
        if policy_id is not None:
            body["escalation_policy_id"] = policy_id
        return str(self.create("/api/v1/integrations", body)["inbound_path"])

    def press(
        self, inbound_path: str, button: str, state: str = "On", key: str | None = None
    ) -> httpx.Response:
        headers = {"Idempotency-Key": key} if key else {}
        return httpx.post(
            self.url + inbound_path,
            content=flic_body(button, state),
            headers=headers,
            timeout=15.0,
        )

    def alerts(self, status: str | None = None) -> list[dict[str, Any]]:
        params = {"status": status} if status else {}
        items: list[dict[str, Any]] = self.get("/api/v1/alerts", **params)["items"]
        return items

    def inbound(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.get("/api/v1/inbound", limit=1000)["items"]
        return items

    def bridge_presses(self) -> list[tuple[str, str]]:
        """(button, event_id) of every logged message a bridge sent (JSON bodies), oldest first."""
        out = []
        for item in reversed(self.inbound()):
            raw = self.get(f"/api/v1/inbound/{item['message_id']}")["raw_body"]
            with contextlib.suppress(ValueError):
                body = json.loads(raw)
                if isinstance(body, dict) and "event_id" in body:
                    out.append((str(body["flic_nameId"]), str(body["event_id"])))
        return out

    def pages_sent(self) -> list[tuple[int, str]]:
        """(alert id, target) of every page this node's log says it sent."""
        found = re.findall(r"alert (\d+): page sent to (.+)$", self.log(), re.MULTILINE)
        return [(int(alert_id), target) for alert_id, target in found]


@dataclass
class Cluster:
    """`count` nodes sharing `database_url`, started together; `stop()` ends them all."""

    work: Path
    database_url: str | None
    count: int = 2
    smtp_port: int | None = None
    broker: Mosquitto | None = None
    tick_s: float = 1.0
    extra_env: dict[str, str] = field(default_factory=dict)
    nodes: list[Node] = field(init=False)

    def __post_init__(self) -> None:
        self.nodes = [
            Node(name, self.work / name / "data", self.node_env(name))
            for name in "abcdefgh"[: self.count]
        ]

    def node_env(self, name: str) -> dict[str, str]:
        env = {
            **CLEAN_ENV,
            "ALERT_SERVER_ADMIN_TOKEN": ADMIN_TOKEN,
            "ALERT_SERVER_ESCALATION_LINK_SECRET": LINK_SECRET,
            "ALERT_SERVER_ESCALATION_TICK_S": str(self.tick_s),
            "ALERT_SERVER_ESCALATION_RETRY_BASE_S": "1",
            # Load tests send faster than one button ever could.
            "ALERT_SERVER_SERVER_INBOUND_RATE_PER_S": "100000",
            "ALERT_SERVER_SERVER_INBOUND_BURST": "100000",
            "ALERT_SERVER_SMTP_FROM": "alerts@flic-edge.test",
        }
        if self.database_url is not None:
            env["ALERT_SERVER_DATABASE_URL"] = self.database_url
        if self.smtp_port is not None:
            env["ALERT_SERVER_SMTP_HOST"] = "127.0.0.1"
            env["ALERT_SERVER_SMTP_PORT"] = str(self.smtp_port)
        if self.broker is not None:
            env["ALERT_SERVER_MQTT_ENABLED"] = "true"
            env["ALERT_SERVER_MQTT_HOST"] = self.broker.host
            env["ALERT_SERVER_MQTT_PORT"] = str(self.broker.port)
            # Two clients with one id would throw each other off the broker.
            env["ALERT_SERVER_MQTT_CLIENT_ID"] = f"alert-server-{name}-{self.broker.port}"
        return {**env, **self.extra_env}

    @property
    def a(self) -> Node:
        return self.nodes[0]

    @property
    def b(self) -> Node:
        return self.nodes[1]

    def start(self, nodes: Sequence[Node] | None = None) -> Cluster:
        """Launch the nodes at the same moment, then wait until every one answers."""
        chosen = list(self.nodes if nodes is None else nodes)
        for node in chosen:
            node.launch()
        for node in chosen:
            node.wait_ready()
        return self

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def survivors(self) -> list[Node]:
        return [n for n in self.nodes if n.proc is not None and n.proc.alive()]
