"""End to end: the real bridge, the real alert server, a real SMTP server.

A press travels bridge -> outbox -> webhook -> alert -> email page -> acknowledge link, and
`GET /api/v1/alerts/{id}` shows that journey. A maintenance window pages nobody. The
bridge's own health alerts (a silent button) open and close at the server.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.programs import CLEAN_ENV
from tests.escalation.harness import AlertServer, ClockFile, link
from tests.escalation.receivers import Mailbox, smtp_server
from tests.support.procs import (
    Proc,
    free_port,
    start_bridge,
    wait_until,
)

BRIDGE_TOKEN = "extras-bridge-token"


@dataclass
class Site:
    server: AlertServer
    box: Mailbox
    integration: dict[str, Any]
    bridge_url: str


def bridge_config(workdir: Path, port: int, forward: str, health: str) -> Path:
    path = workdir / "bridge.toml"
    path.write_text(
        f"""
[bridge]
name = "bridge-1"
state_dir = "{workdir / "state"}"
listen = "127.0.0.1:{port}"
token = "{BRIDGE_TOKEN}"

[[forward]]
url = "{forward}"

[flicd]
enabled = false

[hub]
enabled = false

[health]
check_every_s = 0.2
{health}

[[button]]
address = "80:e4:da:71:23:45"
name = "front-desk"
info = "Front desk"

[[button]]
address = "80:e4:da:71:23:46"
name = "back-door"
info = "Back door"
health = {{ unseen_after_s = 2 }}
"""
    )
    return path


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    with smtp_server() as (box, smtp_port):
        server = AlertServer(
            tmp_path / "data", tmp_path / "server.log", smtp_port, ClockFile(tmp_path / "clock")
        )
        server.start()
        bridge: Proc | None = None
        try:
            alice = server.create("/api/v1/users", {"name": "Alice", "email": "alice@example.org"})
            policy = server.create(
                "/api/v1/escalation-policies",
                {"name": "desk", "steps": [{"after_s": 0, "notify": [{"user": alice}]}]},
            )
            with server.admin() as admin:
                made = admin.post(
                    "/api/v1/integrations",
                    json={"name": "desk", "kind": "flic", "escalation_policy_id": policy},
                )
            integration = made.json()
            port = free_port()
            workdir = tmp_path / "bridge"
            workdir.mkdir()
            config = bridge_config(
                workdir, port, server.url + integration["inbound_path"], "unseen_after_s = 0"
            )
            url = f"http://127.0.0.1:{port}"
            bridge = start_bridge(config, workdir, url, CLEAN_ENV)
            yield Site(server, box, integration, url)
        finally:
            if bridge is not None:
                bridge.stop()
            server.stop()


def press(site: Site, button: str, click: str = "single") -> None:
    answer = httpx.post(
        site.bridge_url + "/api/press",
        json={"button": button, "click": click},
        headers={"Authorization": f"Bearer {BRIDGE_TOKEN}"},
        timeout=10,
    )
    assert answer.status_code == 202, answer.text


def alerts(site: Site, **params: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = site.server.get(
        "/api/v1/alerts?" + "&".join(f"{k}={v}" for k, v in params.items())
    )["items"]
    return found


def inbound(site: Site) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = site.server.get("/api/v1/inbound")["items"]
    return found


def front_desk_pages(site: Site) -> list[EmailMessage]:
    """Pages about front-desk: with an Acknowledge link (word-back notes say who is on it)."""
    return [
        m
        for m in site.box.to("alice@example.org")
        if "front-desk" in str(m["Subject"]) and "\nAcknowledge: " in m.get_content()
    ]


def test_a_press_journey_from_button_to_acknowledgement_and_maintenance_pages_nobody(
    site: Site,
) -> None:
    integration_id = site.integration["id"]
    with site.server.admin() as admin:
        window = admin.post(
            f"/api/v1/integrations/{integration_id}/maintenance",
            json={"duration_s": 3600, "reason": "desk moved"},
        )
    assert window.status_code == 201, window.text
    press(site, "front-desk")
    wait_until(
        lambda: (
            [m["status"] for m in inbound(site) if m["source_name"] == "front-desk"]
            == ["suppressed"]
        ),
        timeout=20,
        what="the press logged as suppressed",
    )
    assert [a for a in alerts(site) if a["source_name"] == "front-desk"] == []
    with site.server.admin() as admin:
        ended = admin.delete(
            f"/api/v1/integrations/{integration_id}/maintenance/{window.json()['id']}"
        )
    assert ended.status_code == 204

    press(site, "front-desk")
    (alert,) = wait_until(
        lambda: [a for a in alerts(site, status="open") if a["source_name"] == "front-desk"],
        timeout=20,
        what="the press opened an alert",
    )
    # Only the press after the window pages (the back-door button's own "unseen" health
    # alert may page Alice too once its 2 s pass: that is the other test's subject).
    (mail,) = wait_until(
        lambda: front_desk_pages(site),
        timeout=20,
        what="the front-desk page to Alice",
    )
    done = httpx.post(link(mail, "Acknowledge"), timeout=10)
    assert done.status_code == 200

    shown = site.server.get(f"/api/v1/alerts/{alert['id']}")
    journey = shown["journey"]
    assert journey["button"] == "front-desk"
    assert journey["bridge"] == "bridge-1"
    assert journey["delivery_attempts"] == 1
    for key in ("pressed_at", "bridge_received_at", "stored_at", "server_received_at"):
        assert journey[key] is not None, key
    assert journey["pressed_at"] <= journey["bridge_received_at"] <= journey["stored_at"]
    (page,) = journey["paged"]
    assert (page["who"], page["how"], page["status"]) == ("Alice", "email", "sent")
    assert page["at"] is not None
    assert journey["acknowledged_at"] is not None
    assert [s["step"] for s in journey["steps"]] == [
        "pressed",
        "received_by_bridge",
        "stored",
        "delivered",
        "received_by_server",
        "paged",
        "acknowledged",
    ]
    assert len(front_desk_pages(site)) == 1
    # Alice was paged, so she also hears who took it (from a page link: nobody logged in).
    wait_until(
        lambda: [
            m for m in site.box.to("alice@example.org") if "is on it: front-desk" in m["Subject"]
        ],
        timeout=20,
        what="the word-back note to Alice",
    )


def test_a_silent_button_raises_the_bridges_own_alert_and_a_press_clears_it(site: Site) -> None:
    (alert,) = wait_until(
        lambda: [a for a in alerts(site, status="open") if a["source_name"] == "back-door-unseen"],
        timeout=20,
        what="the back-door-unseen alert",
    )
    assert "not seen" in alert["description"]
    press(site, "back-door", "double")  # Off for the button itself: seen again, nothing opened
    wait_until(
        lambda: site.server.get(f"/api/v1/alerts/{alert['id']}")["status"] == "closed",
        timeout=20,
        what="the health alert closed once the button was seen",
    )
