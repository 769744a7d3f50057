"""Presses injected over MQTT reach the runtime's accept as clicks from source `mqtt`."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from bridge.models import ClickType, RawClick
from bridge.mqtt.link import BrokerSettings, MqttLink
from bridge.sources.base import Accepted
from bridge.sources.mqtt_press import MqttPressInput, button_of, parse_press
from tests.mqtt.conftest import eventually
from tests.mqtt.test_discovery import _publish
from tests.support.mosquitto import Mosquitto

pytestmark = pytest.mark.mqtt

NOW = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("payload", "click", "event_id"),
    [
        (b"", ClickType.SINGLE, None),
        (b"double", ClickType.DOUBLE, None),
        (b" HOLD\n", ClickType.HOLD, None),
        (b'"click"', ClickType.CLICK, None),
        (b'{"click": "hold", "event_id": "abc"}', ClickType.HOLD, "abc"),
    ],
)
def test_press_payloads(payload: bytes, click: ClickType, event_id: str | None) -> None:
    request = parse_press(payload)
    assert (request.click_type, request.event_id) == (click, event_id)


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        (b"triple", "unknown click type 'triple'"),
        (b"[1]", "expected a click type"),
        (b'{"event_id": 5}', "event_id"),
    ],
)
def test_bad_press_payloads_name_the_problem(payload: bytes, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_press(payload)


def test_button_of_topic() -> None:
    assert button_of("flic/front-desk/press", "flic") == "front-desk"
    assert button_of("flic/front-desk/action", "flic") is None
    assert button_of("other/front-desk/press", "flic") is None


async def test_a_press_message_becomes_a_click(broker: Mosquitto) -> None:
    got: list[RawClick] = []

    async def accept(raw: RawClick) -> Accepted:
        got.append(raw)
        return Accepted(f"ev-{len(got)}", duplicate=False)

    link = MqttLink(BrokerSettings(host=broker.host, port=broker.port), client_id="press-test")
    MqttPressInput(
        link,
        base_topic="flic",
        resolve={"front-desk": "80:e4:da:71:23:45"}.get,
        accept=accept,
        clock=lambda: NOW,
    )
    await link.start()
    try:
        assert await link.wait_connected(10)
        await asyncio.to_thread(_publish, broker, "flic/nobody/press", b"single")
        await asyncio.to_thread(_publish, broker, "flic/front-desk/press", b"bogus")
        await asyncio.to_thread(_publish, broker, "flic/front-desk/press", b"double")
        await eventually(lambda: got)
    finally:
        await link.close()
    assert got == [RawClick("80:e4:da:71:23:45", ClickType.DOUBLE, "mqtt", NOW)]
