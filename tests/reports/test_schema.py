"""The alert columns reports rely on: priority and drill, stored and shown by the API."""

from __future__ import annotations

import sqlite3

import pytest

from tests.server.conftest import InProcess

ON = '{"flic_nameId": "room-12", "flic_state": "On"}'


async def test_a_new_alert_is_normal_priority_and_not_a_drill(inproc: InProcess) -> None:
    path = (await inproc.add())["inbound_path"]
    opened = (await inproc.client.post(path, content=ON)).json()

    detail = await inproc.admin_get(f"/api/v1/alerts/{opened['alert_id']}")
    listed = await inproc.admin_get("/api/v1/alerts")

    assert (detail["priority"], detail["drill"]) == ("normal", False)
    assert [(a["priority"], a["drill"]) for a in listed["items"]] == [("normal", False)]


async def test_the_database_refuses_an_unknown_priority(inproc: InProcess) -> None:
    path = (await inproc.add())["inbound_path"]
    opened = (await inproc.client.post(path, content=ON)).json()
    db = inproc.ctx.store.db

    def set_priority(value: str) -> None:
        db.execute("UPDATE alerts SET priority = ? WHERE id = ?", [value, opened["alert_id"]])

    await inproc.ctx.db.run(lambda: set_priority("urgent"))
    assert (await inproc.admin_get(f"/api/v1/alerts/{opened['alert_id']}"))["priority"] == "urgent"
    with pytest.raises(sqlite3.IntegrityError):
        await inproc.ctx.db.run(lambda: set_priority("whenever"))
