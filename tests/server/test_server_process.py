"""The real `alert-server` subprocess: concurrency, restarts, auth, limits, idempotency, logging."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.server.conftest import RunningServer, add_integration, cli

ON = '"flic_nameId": "lobby", "flic_state": "On", "info": "Lobby",'
OFF = '"flic_nameId": "lobby", "flic_state": "Off", "info": "Lobby",'


def inbound_log(server: RunningServer, integration: dict[str, Any]) -> list[dict[str, Any]]:
    with server.admin() as admin:
        answer = admin.get(
            "/api/v1/inbound", params={"integration_id": integration["id"], "limit": 1000}
        )
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def alerts_of(server: RunningServer, integration: dict[str, Any]) -> list[dict[str, Any]]:
    with server.admin() as admin:
        answer = admin.get("/api/v1/alerts", params={"integration_id": integration["id"]})
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def test_fifty_simultaneous_identical_presses_open_one_alert(shared_server: RunningServer) -> None:
    integration = shared_server.add("lobby")
    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(
            pool.map(lambda _: shared_server.post(integration["inbound_path"], ON), range(50))
        )

    assert {a.status_code for a in answers} == {202}
    statuses = sorted(a.json()["status"] for a in answers)
    assert statuses == ["mapped"] + ["mapped_appended"] * 49
    assert len({a.json()["alert_id"] for a in answers}) == 1
    (alert,) = alerts_of(shared_server, integration)
    assert alert["append_count"] == 49
    assert len(inbound_log(shared_server, integration)) == 50


def test_unknown_token_is_404_and_logs_nothing(shared_server: RunningServer) -> None:
    integration = shared_server.add("lobby")
    answer = shared_server.post("/inbound/not-a-real-token-at-all", ON)
    assert answer.status_code == 404
    assert "unknown inbound token" in answer.json()["detail"]
    assert inbound_log(shared_server, integration) == []
    assert "not-a-real-token-at-all" not in shared_server.log()


def test_admin_api_needs_the_admin_token(shared_server: RunningServer) -> None:
    for path in ("/api/v1/integrations", "/api/v1/alerts", "/api/v1/inbound"):
        assert httpx.get(shared_server.url + path).status_code == 401
        wrong = httpx.get(shared_server.url + path, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
    with shared_server.admin() as admin:
        assert admin.get("/api/v1/integrations").status_code == 200
    token_file = shared_server.data_dir / "admin-token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    printed = cli("admin-token", data_dir=shared_server.data_dir).strip()
    assert printed == token_file.read_text().strip()


def test_body_over_64_kib_is_413(shared_server: RunningServer) -> None:
    integration = shared_server.add("lobby")
    big = '"flic_nameId": "lobby", "flic_state": "On", "info": "' + "x" * 70_000 + '",'
    answer = shared_server.post(integration["inbound_path"], big)
    assert answer.status_code == 413
    assert "65536" in answer.json()["detail"]
    assert alerts_of(shared_server, integration) == []
    (logged,) = inbound_log(shared_server, integration)
    assert (logged["status"], logged["http_status"]) == ("mapping_failed", 413)


def test_unreadable_body_is_422_and_logged_with_its_raw_bytes(
    shared_server: RunningServer,
) -> None:
    integration = shared_server.add("lobby")
    garbage = "flic_nameId lobby\nflic_state On"
    answer = shared_server.post(
        integration["inbound_path"], garbage, **{"Content-Type": "text/plain"}
    )
    assert answer.status_code == 422
    body = answer.json()
    assert (body["status"], body["action"], body["alert_id"]) == ("mapping_failed", "none", None)
    assert "expected ':'" in body["detail"]
    with shared_server.admin() as admin:
        logged = admin.get(f"/api/v1/inbound/{body['message_id']}").json()
    assert logged["raw_body"] == garbage
    assert logged["status"] == "mapping_failed"
    assert "expected ':'" in logged["reason"]


def test_idempotency_key_replays_the_first_answer(shared_server: RunningServer) -> None:
    integration = shared_server.add("lobby")
    other = shared_server.add("lobby two")
    path = integration["inbound_path"]
    first = shared_server.post(path, ON, **{"Idempotency-Key": "evt-1"})
    repeat = shared_server.post(path, ON, **{"Idempotency-Key": "evt-1"})
    close = shared_server.post(path, OFF, **{"Idempotency-Key": "evt-2"})
    close_repeat = shared_server.post(path, OFF, **{"Idempotency-Key": "evt-2"})
    elsewhere = shared_server.post(other["inbound_path"], ON, **{"Idempotency-Key": "evt-1"})

    assert repeat.json() == first.json()
    assert repeat.headers["Idempotent-Replayed"] == "true"
    assert close_repeat.json() == close.json()
    assert close.json()["action"] == "close"
    assert elsewhere.json()["action"] == "open"
    assert len(inbound_log(shared_server, integration)) == 2
    assert len(alerts_of(shared_server, integration)) == 1
    assert len(alerts_of(shared_server, other)) == 1


def test_rotated_token_stops_working_and_no_token_reaches_the_log(
    shared_server: RunningServer,
) -> None:
    created = shared_server.add("lobby")
    with shared_server.admin() as admin:
        rotated = admin.post(f"/api/v1/integrations/{created['id']}/rotate-token").json()
    assert rotated["token"] != created["token"]
    assert shared_server.post(created["inbound_path"], ON).status_code == 404
    assert shared_server.post(rotated["inbound_path"], ON).json()["status"] == "mapped"
    log = shared_server.log()
    assert "POST /inbound/…" in log
    assert created["token"] not in log
    assert rotated["token"] not in log


def test_restart_keeps_integrations_log_alerts_and_admin_token(server: RunningServer) -> None:
    path = add_integration(server.data_dir, "lobby")["inbound_path"]
    opened = server.post(path, ON).json()
    token_before = (server.data_dir / "admin-token").read_text()

    server.stop()
    server.start()

    assert (server.data_dir / "admin-token").read_text() == token_before
    again = server.post(path, ON).json()
    assert (again["status"], again["alert_id"]) == ("mapped_appended", opened["alert_id"])
    with server.admin() as admin:
        assert [m["message_id"] for m in admin.get("/api/v1/inbound").json()["items"]] == [
            again["message_id"],
            opened["message_id"],
        ]
        alert = admin.get(f"/api/v1/alerts/{opened['alert_id']}").json()
        assert (alert["status"], alert["append_count"]) == ("open", 1)


@pytest.mark.faults
def test_every_202_survives_a_power_cut(server: RunningServer) -> None:
    path = server.add("lobby")["inbound_path"]
    accepted = []
    for n in range(20):
        body = f'"flic_nameId": "button-{n % 4}", "flic_state": "On",'
        answer = server.post(path, body)
        assert answer.status_code == 202
        accepted.append(answer.json()["message_id"])
    assert server.proc is not None
    server.proc.kill()
    server.proc.stop()
    server.proc = None

    server.start()
    with server.admin() as admin:
        logged = [m["message_id"] for m in admin.get("/api/v1/inbound").json()["items"]]
        assert logged == accepted[::-1]
        assert len(admin.get("/api/v1/alerts", params={"status": "open"}).json()["items"]) == 4
