"""Issue 16: a lone surrogate ("\\ud800" escaped in JSON) in a body is a logged 4xx, not a 500."""

from __future__ import annotations

import logging

import pytest

from tests.server.conftest import InProcess

LONE = '"\\ud800"'  # the six characters a JSON body carries
TRIGGER = (
    '{"routing_key": "%s", "event_action": "trigger",'
    ' "payload": {"summary": %s, "source": "db1", "severity": "critical"}}'
)


def lines_naming_it(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "surrogate" in r.getMessage()]


async def test_a_webhook_body_with_a_lone_surrogate_is_400_and_logged(
    inproc: InProcess, caplog: pytest.LogCaptureFixture
) -> None:
    created = await inproc.add("desk")
    body = '{"flic_nameId": ' + LONE + ', "flic_state": "On"}'
    with caplog.at_level(logging.INFO):
        answer = await inproc.client.post(created["inbound_path"], content=body)
    assert answer.status_code in (400, 422), answer.text
    assert "surrogate" in answer.json()["detail"]
    assert lines_naming_it(caplog)


@pytest.mark.parametrize("via", ["inbound", "enqueue"])
async def test_a_pagerduty_event_with_a_lone_surrogate_is_400_in_pagerduty_shape(
    inproc: InProcess, caplog: pytest.LogCaptureFixture, via: str
) -> None:
    pd = await inproc.add("pd", kind="pagerduty")
    url = pd["inbound_path"] if via == "inbound" else "/v2/enqueue"
    with caplog.at_level(logging.INFO):
        answer = await inproc.client.post(url, content=TRIGGER % (pd["token"], LONE))
    assert answer.status_code == 400, answer.text
    assert answer.json()["status"] == "invalid event"
    assert "surrogate" in " ".join(answer.json()["errors"])
    assert lines_naming_it(caplog)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/integrations", '{"name": ' + LONE + "}"),
        ("POST", "/api/v1/users", '{"name": "Ann", "contacts": [{"url": ' + LONE + "}]}"),
    ],
)
async def test_an_admin_body_with_a_lone_surrogate_is_422_and_logged(
    inproc: InProcess, caplog: pytest.LogCaptureFixture, method: str, path: str, body: str
) -> None:
    with caplog.at_level(logging.INFO):
        answer = await inproc.client.request(
            method, path, content=body,
            headers={**inproc.admin_headers, "Content-Type": "application/json"},
        )  # fmt: skip
    assert answer.status_code in (400, 422), answer.text
    assert "surrogate" in str(answer.json()["detail"])
    assert lines_naming_it(caplog)
