"""The vendor guide (AlertOps + Flic) replayed against the real `alert-server` subprocess."""

from __future__ import annotations

from tests.server.conftest import RunningServer, add_integration

GUIDE_ON = '"flic_nameId": "front-desk",\n"flic_state": "On",\n"info": "Front desk",\n'
GUIDE_OFF = '"flic_nameId": "front-desk",\n"flic_state": "Off",\n"info": "Front desk",\n'


def test_on_on_off_off_on_follows_the_guide(server: RunningServer) -> None:
    integration = add_integration(server.data_dir, "front desk")
    path = integration["inbound_path"]

    answers = [
        server.post(path, body).json()
        for body in (GUIDE_ON, GUIDE_ON, GUIDE_OFF, GUIDE_OFF, GUIDE_ON)
    ]

    assert [(a["status"], a["action"]) for a in answers] == [
        ("mapped", "open"),
        ("mapped_appended", "append"),
        ("mapped", "close"),
        ("mapped_ignored", "ignore"),
        ("mapped", "open"),
    ]
    first, second = answers[0]["alert_id"], answers[4]["alert_id"]
    assert answers[1]["alert_id"] == answers[2]["alert_id"] == first
    assert answers[3]["alert_id"] is None
    assert second != first
    with server.admin() as admin:
        log = admin.get("/api/v1/inbound").json()["items"]
        assert [m["status"] for m in log] == [
            "mapped",
            "mapped_ignored",
            "mapped",
            "mapped_appended",
            "mapped",
        ]
        closed = admin.get(f"/api/v1/alerts/{first}").json()
        assert closed["status"] == "closed"
        assert closed["append_count"] == 1
        assert closed["title"] == "front-desk pressed"
        assert [e["kind"] for e in closed["timeline"]] == ["open", "append", "close"]
        open_now = admin.get("/api/v1/alerts", params={"status": "open"}).json()["items"]
        assert [a["id"] for a in open_now] == [second]
    assert integration["token"] not in server.log()
