"""The real `alert-server` subprocess: concurrency, restarts, auth, limits, idempotency, logging."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.server.conftest import RunningServer, add_integration, cli

ON = '"flic_nameId": "lobby", "flic_state": "On", "info": "Lobby",'
OFF = '"flic_nameId": "lobby", "flic_state": "Off", "info": "Lobby",'


def test_fifty_simultaneous_identical_presses_open_one_alert(server: RunningServer) -> None:
    path = add_integration(server.data_dir, "lobby")["inbound_path"]
    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(lambda _: server.post(path, ON), range(50)))

    assert {a.status_code for a in answers} == {202}
    statuses = sorted(a.json()["status"] for a in answers)
    assert statuses == ["mapped"] + ["mapped_appended"] * 49
    assert len({a.json()["alert_id"] for a in answers}) == 1
    with server.admin() as admin:
        alerts = admin.get("/api/v1/alerts").json()["items"]
        assert len(alerts) == 1
        assert alerts[0]["append_count"] == 49
        assert len(admin.get("/api/v1/inbound", params={"limit": 1000}).json()["items"]) == 50


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


def test_unknown_token_is_404_and_logs_nothing(server: RunningServer) -> None:
    add_integration(server.data_dir, "lobby")
    answer = server.post("/inbound/not-a-real-token-at-all", ON)
    assert answer.status_code == 404
    assert "unknown inbound token" in answer.json()["detail"]
    with server.admin() as admin:
        assert admin.get("/api/v1/inbound").json()["items"] == []
    assert "not-a-real-token-at-all" not in server.log()


def test_admin_api_needs_the_admin_token(server: RunningServer) -> None:
    for path in ("/api/v1/integrations", "/api/v1/alerts", "/api/v1/inbound"):
        assert httpx.get(server.url + path).status_code == 401
        wrong = httpx.get(server.url + path, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
    with server.admin() as admin:
        assert admin.get("/api/v1/integrations").status_code == 200
    token_file = server.data_dir / "admin-token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert cli("admin-token", data_dir=server.data_dir).strip() == token_file.read_text().strip()


def test_body_over_64_kib_is_413(server: RunningServer) -> None:
    path = add_integration(server.data_dir, "lobby")["inbound_path"]
    big = '"flic_nameId": "lobby", "flic_state": "On", "info": "' + "x" * 70_000 + '",'
    answer = server.post(path, big)
    assert answer.status_code == 413
    assert "65536" in answer.json()["detail"]
    with server.admin() as admin:
        assert admin.get("/api/v1/alerts").json()["items"] == []
        (logged,) = admin.get("/api/v1/inbound").json()["items"]
        assert (logged["status"], logged["http_status"]) == ("mapping_failed", 413)


def test_unreadable_body_is_422_and_logged_with_its_raw_bytes(server: RunningServer) -> None:
    path = add_integration(server.data_dir, "lobby")["inbound_path"]
    garbage = "flic_nameId lobby\nflic_state On"
    answer = server.post(path, garbage, **{"Content-Type": "text/plain"})
    assert answer.status_code == 422
    body = answer.json()
    assert (body["status"], body["action"], body["alert_id"]) == ("mapping_failed", "none", None)
    assert "expected ':'" in body["detail"]
    with server.admin() as admin:
        logged = admin.get(f"/api/v1/inbound/{body['message_id']}").json()
        assert logged["raw_body"] == garbage
        assert logged["status"] == "mapping_failed"
        assert "expected ':'" in logged["reason"]


def test_idempotency_key_replays_the_first_answer(server: RunningServer) -> None:
    path = add_integration(server.data_dir, "lobby")["inbound_path"]
    other = add_integration(server.data_dir, "lobby two")["inbound_path"]
    first = server.post(path, ON, **{"Idempotency-Key": "evt-1"})
    repeat = server.post(path, ON, **{"Idempotency-Key": "evt-1"})
    close = server.post(path, OFF, **{"Idempotency-Key": "evt-2"})
    close_repeat = server.post(path, OFF, **{"Idempotency-Key": "evt-2"})
    elsewhere = server.post(other, ON, **{"Idempotency-Key": "evt-1"})

    assert repeat.json() == first.json()
    assert repeat.headers["Idempotent-Replayed"] == "true"
    assert close_repeat.json() == close.json()
    assert close.json()["action"] == "close"
    assert elsewhere.json()["action"] == "open"
    with server.admin() as admin:
        assert len(admin.get("/api/v1/inbound").json()["items"]) == 3
        assert len(admin.get("/api/v1/alerts").json()["items"]) == 2


def test_rotated_token_stops_working_and_no_token_reaches_the_log(server: RunningServer) -> None:
    created = add_integration(server.data_dir, "lobby")
    with server.admin() as admin:
        rotated = admin.post(f"/api/v1/integrations/{created['id']}/rotate-token").json()
    assert rotated["token"] != created["token"]
    assert server.post(created["inbound_path"], ON).status_code == 404
    assert server.post(rotated["inbound_path"], ON).json()["status"] == "mapped"
    log = server.log()
    assert "POST /inbound/…" in log
    assert created["token"] not in log
    assert rotated["token"] not in log
