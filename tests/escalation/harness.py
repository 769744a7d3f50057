"""The real `alert-server` as a subprocess with a real SMTP server and a file clock.

It runs through `tests.support.clocked_server`: escalation reads "now" from the `ClockFile`."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx

from tests.escalation.receivers import Mailbox
from tests.support.clocked_server import CLOCK_FILE_ENV
from tests.support.procs import Proc, Runs, free_port, python_module, wait_http_ok, wait_until

CLEAN_ENV = {k: "" for k in os.environ if k.startswith("ALERT_SERVER_")}


def flic_body(name: str, state: str) -> str:
    """The body exactly as the Flic app guide has users type it."""
    return f'"flic_nameId": "{name}",\n"flic_state": "{state}",\n"info": "Front desk",\n'


@dataclass
class ClockFile:
    """The server's escalation clock: an ISO instant in a file the test moves forward.

    `tests.support.clocked_server.FileClock` reads it in the server."""

    path: Path
    at: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))

    def __post_init__(self) -> None:
        self.write()

    def write(self) -> None:
        self.path.write_text(self.at.isoformat())

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)
        self.write()


@dataclass
class AlertServer(Runs):
    """One data dir; `start()`/`kill()` run and stop the real program on it."""

    data_dir: Path
    log_path: Path
    smtp_port: int
    clock: ClockFile
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    proc: Proc | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> AlertServer:
        self.port = free_port()
        env = {
            **CLEAN_ENV,
            "ALERT_SERVER_CONFIG": "",
            "ALERT_SERVER_SMTP_HOST": "127.0.0.1",
            "ALERT_SERVER_SMTP_PORT": str(self.smtp_port),
            "ALERT_SERVER_SMTP_FROM": "alerts@flic-edge.test",
            CLOCK_FILE_ENV: str(self.clock.path),
            "ALERT_SERVER_ESCALATION_TICK_S": "0.05",
            "ALERT_SERVER_ESCALATION_RETRY_BASE_S": "5",
            **self.extra_env,
        }
        self.proc = Proc(
            python_module(
                "tests.support.clocked_server",
                "run",
                "--data-dir",
                str(self.data_dir),
                "--port",
                str(self.port),
            ),
            log_path=self.log_path,
            env=env,
        )
        wait_http_ok(self.url + "/healthz", proc=self.proc)
        return self

    def admin(self) -> httpx.Client:
        token = (self.data_dir / "admin-token").read_text().strip()
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=10.0
        )

    def create(self, path: str, body: dict[str, Any]) -> int:
        with self.admin() as client:
            answer = client.post(path, json=body)
        assert answer.status_code == 201, answer.text
        return int(answer.json()["id"])

    def integration(self, name: str, policy_id: int) -> str:
        with self.admin() as client:
            answer = client.post(
                "/api/v1/integrations",
                json={"name": name, "kind": "flic", "escalation_policy_id": policy_id},
            )
        assert answer.status_code == 201, answer.text
        return str(answer.json()["inbound_path"])

    def press(self, inbound_path: str, button: str, state: str) -> dict[str, Any]:
        answer = httpx.post(self.url + inbound_path, content=flic_body(button, state), timeout=10)
        assert answer.status_code == 202, answer.text
        result: dict[str, Any] = answer.json()
        return result

    def get(self, path: str) -> dict[str, Any]:
        with self.admin() as client:
            answer = client.get(path)
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result

    def escalation(self, alert_id: int) -> dict[str, Any]:
        return self.get(f"/api/v1/escalations/{alert_id}")


def mail_to(box: Mailbox, address: str, count: int = 1) -> list[EmailMessage]:
    """Wait until `address` has at least `count` messages; return them all."""
    return wait_until(
        lambda: box.to(address) if len(box.to(address)) >= count else None,
        timeout=20,
        what=f"{count} email(s) to {address}",
    )


def link(message: EmailMessage, label: str) -> str:
    """The URL after `label:` in the email body."""
    found = re.search(rf"^{label}: (\S+)", message.get_content(), re.MULTILINE)
    assert found, message.get_content()
    return found.group(1)
