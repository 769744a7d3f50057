"""`close_from_source_only`: people acknowledge, only the button's Off closes; refusals say why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from server.config import EscalationSection
from server.escalation.links import LinkClaim, sign
from server.escalation.plugin import link_secret
from tests.server.conftest import InProcess

ON = '"flic_nameId": "bed-3", "flic_state": "On", "info": "Bed 3",'
OFF = '"flic_nameId": "bed-3", "flic_state": "Off", "info": "Bed 3",'


async def test_only_the_source_closes_and_every_refusal_says_why(inproc: InProcess) -> None:
    made = await inproc.add("ward", close_from_source_only=True)
    assert made["close_from_source_only"] is True
    opened = (await inproc.client.post(made["inbound_path"], content=ON)).json()
    alert_id = opened["alert_id"]
    headers = inproc.admin_headers

    api = await inproc.client.post(f"/api/v1/alerts/{alert_id}/close", headers=headers)
    assert api.status_code == 409
    assert "can only be closed at its source (bed-3: the button's Off)" in api.json()["detail"]
    assert "close_from_source_only" in api.json()["detail"]

    board = await inproc.client.post(
        f"/board/alerts/{alert_id}/close", headers={**headers, "X-Board-Request": "1"}
    )
    assert board.status_code == 409
    assert "only be closed at its source" in board.json()["detail"]

    secret = link_secret(
        inproc.ctx.config, inproc.ctx.config.section("escalation", EscalationSection)
    )
    expires = datetime.now(UTC) + timedelta(hours=1)
    token = sign(secret, LinkClaim("close", alert_id, expires))
    link = await inproc.client.post(f"/l/{token}")
    assert link.status_code == 409
    assert "only be closed at its source" in link.text

    acked = await inproc.client.post(f"/api/v1/alerts/{alert_id}/acknowledge", headers=headers)
    assert acked.json()["status"] == "acknowledged"  # acknowledging is still for everyone

    off = (await inproc.client.post(made["inbound_path"], content=OFF)).json()
    assert (off["action"], off["alert_id"]) == ("close", alert_id)
    alert = await inproc.admin_get(f"/api/v1/alerts/{alert_id}")
    assert alert["status"] == "closed"


async def test_the_default_lets_people_close_and_patch_turns_it_on(inproc: InProcess) -> None:
    made = await inproc.add("desk")
    assert made["close_from_source_only"] is False
    first = (await inproc.client.post(made["inbound_path"], content=ON)).json()["alert_id"]
    closed = await inproc.client.post(f"/api/v1/alerts/{first}/close", headers=inproc.admin_headers)
    assert closed.json()["status"] == "closed"

    patched = await inproc.client.patch(
        f"/api/v1/integrations/{made['id']}",
        json={"close_from_source_only": True},
        headers=inproc.admin_headers,
    )
    assert patched.json()["close_from_source_only"] is True
    second = (await inproc.client.post(made["inbound_path"], content=ON)).json()["alert_id"]
    refused = await inproc.client.post(
        f"/api/v1/alerts/{second}/close", headers=inproc.admin_headers
    )
    assert refused.status_code == 409
