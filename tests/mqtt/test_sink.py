"""The MQTT sink against a real mosquitto: topics, payloads, retained flags, QoS, outages."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bridge.errors import DeliveryError
from bridge.models import ButtonSeen
from bridge.mqtt.discovery import DiscoveryButton
from bridge.mqtt.link import BrokerSettings
from bridge.sinks.mqtt import MqttSink
from tests.mqtt.conftest import eventually, make_tls
from tests.support.mosquitto import Mosquitto, Recorder, retained

pytestmark = pytest.mark.mqtt

FRONT = DiscoveryButton("80:e4:da:71:23:45", "front-desk", ("single", "hold", "double"))


def body(
    button: str = "front-desk", click: str = "single", state: str = "On", n: int = 1
) -> dict[str, Any]:
    return {
        "flic_nameId": button,
        "flic_state": state,
        "info": "Front desk",
        "click_type": click,
        "button_address": "80:e4:da:71:23:45",
        "source": "flicd",
        "event_id": f"ev-{n}",
        "pressed_at": f"2026-11-26T07:00:{n:02d}.123Z",
        "queued": False,
        "queued_seconds": 0,
        "bridge": "bridge-1",
    }


def settings_for(broker: Mosquitto, **kw: Any) -> BrokerSettings:
    return BrokerSettings(host=broker.host, port=broker.port, publish_timeout_s=5.0, **kw)


@pytest.fixture
async def sink(broker: Mosquitto) -> AsyncIterator[MqttSink]:
    s = MqttSink(settings_for(broker), bridge_name="bridge-1", buttons=[FRONT])
    await s.start()
    assert await s.link.wait_connected(10)
    try:
        yield s
    finally:
        await s.close()


async def test_a_click_is_an_unretained_action_and_a_retained_state(
    broker: Mosquitto, recorder: Recorder, sink: MqttSink
) -> None:
    await sink.deliver(body(click="hold", state="On"))

    action = (await eventually(lambda: recorder.messages("flic/front-desk/action")))[0]
    assert (action.text, action.retain, action.qos) == ("hold", False, 1)
    state = (await eventually(lambda: recorder.messages("flic/front-desk")))[-1]
    assert json.loads(state.payload) == {
        "state": "On",
        "battery": None,
        "connected": None,
        "last_seen": "2026-11-26T07:00:01.123Z",
        "bridge": "bridge-1",
    }
    # A subscriber that arrives later (Home Assistant restarting) gets the state, never the click
    # (issue 15: not even as an `action` key in the retained state).
    kept = await asyncio.to_thread(retained, broker, "flic/#")
    assert "flic/front-desk/action" not in kept
    assert "action" not in json.loads(kept["flic/front-desk"])
    assert kept["flic/bridge/state"] == b"online"


async def test_a_health_alert_is_a_retained_bridge_topic_not_a_button_click(
    broker: Mosquitto, recorder: Recorder, sink: MqttSink
) -> None:
    low = {**body(button="front-desk-battery", click="health"), "source": "health"}
    await sink.deliver({**low, "info": "front-desk battery at 12 %"})
    await sink.deliver(body(click="single"))  # a real click after it, to know both went out
    await eventually(lambda: recorder.messages("flic/front-desk/action"))
    kept = await asyncio.to_thread(retained, broker, "flic/#")
    assert json.loads(kept["flic/bridge/health/front-desk-battery"]) == {
        "state": "On",
        "info": "front-desk battery at 12 %",
        "at": "2026-11-26T07:00:01.123Z",
    }
    assert "flic/front-desk-battery" not in kept
    assert recorder.messages("flic/front-desk-battery/action") == []


async def test_clicks_arrive_in_the_order_delivered(recorder: Recorder, sink: MqttSink) -> None:
    clicks = ["single", "double", "hold", "single", "double"]
    for n, click in enumerate(clicks, start=1):
        await sink.deliver(body(click=click, n=n))
    got = await eventually(lambda: len(m := recorder.messages("flic/front-desk/action")) == 5 and m)
    assert [m.text for m in got] == clicks


async def test_battery_and_connection_news_update_the_retained_state(
    broker: Mosquitto, recorder: Recorder, sink: MqttSink
) -> None:
    await sink.deliver(body(click="double", state="Off"))
    sink.observe(
        "front-desk",
        ButtonSeen("80:e4:da:71:23:45", "flicd", datetime(2026, 11, 26, 8, tzinfo=UTC), True, 87),
    )

    def latest() -> dict[str, Any] | None:
        msgs = recorder.messages("flic/front-desk")
        return json.loads(msgs[-1].payload) if msgs else None

    state = await eventually(lambda: (s := latest()) and s["battery"] == 87 and s)
    assert state == {
        "state": "Off",
        "battery": 87,
        "connected": True,
        "last_seen": "2026-11-26T08:00:00.000Z",
        "bridge": "bridge-1",
    }
    # battery news is not a click: nothing new on the action topic
    assert [m.text for m in recorder.messages("flic/front-desk/action")] == ["double"]


async def test_clean_close_says_offline_and_a_restart_keeps_the_last_state(
    broker: Mosquitto, recorder: Recorder
) -> None:
    first = MqttSink(settings_for(broker), bridge_name="bridge-1", buttons=[FRONT])
    await first.start()
    await first.deliver(body(click="hold"))
    first.observe("front-desk", ButtonSeen(FRONT.address, "flicd", datetime.now(UTC), battery=55))
    await eventually(
        lambda: any(
            json.loads(m.payload)["battery"] == 55 for m in recorder.messages("flic/front-desk")
        )
    )
    await first.close()
    assert (await asyncio.to_thread(retained, broker, "flic/bridge/state")) == {
        "flic/bridge/state": b"offline"
    }

    second = MqttSink(settings_for(broker), bridge_name="bridge-1", buttons=[FRONT])
    await second.start()
    try:
        assert await second.link.wait_connected(10)
        second.observe(
            "front-desk", ButtonSeen(FRONT.address, "flicd", datetime.now(UTC), connected=True)
        )
        await eventually(
            lambda: any(
                json.loads(m.payload)["connected"] for m in recorder.messages("flic/front-desk")
            )
        )
        last = json.loads(recorder.messages("flic/front-desk")[-1].payload)
        assert (last["state"], last["battery"], last["connected"]) == ("On", 55, True)
        assert "action" not in last
    finally:
        await second.close()


@pytest.mark.faults  # the broker restarting: one of issue 10's faults
async def test_deliver_fails_while_the_broker_is_down_and_works_once_it_is_back(
    broker: Mosquitto, sink: MqttSink
) -> None:
    await sink.deliver(body(n=1))
    await asyncio.to_thread(broker.stop)
    with pytest.raises(DeliveryError):
        await sink.deliver(body(n=2, click="double"))

    await asyncio.to_thread(broker.start)
    rec = await asyncio.to_thread(Recorder, broker, "flic/#")
    try:

        async def retry_like_the_outbox() -> None:
            while True:
                try:
                    await sink.deliver(body(n=2, click="double"))
                    return
                except DeliveryError:
                    await asyncio.sleep(0.2)

        await asyncio.wait_for(retry_like_the_outbox(), 30)
        got = await eventually(lambda: rec.messages("flic/front-desk/action"))
        assert [m.text for m in got] == ["double"]
        # the bridge said online again after reconnecting (the will had said offline)
        assert (await asyncio.to_thread(retained, broker, "flic/bridge/state"))[
            "flic/bridge/state"
        ] == b"online"
    finally:
        rec.close()


async def test_a_dead_network_thread_is_noticed_and_repaired(
    recorder: Recorder, sink: MqttSink
) -> None:
    session = sink.link._session
    assert session is not None
    # Stop paho's network thread behind the link's back, leaving the socket open: the state an
    # exception inside a paho callback leaves behind.
    await asyncio.to_thread(session.client.loop_stop)

    await eventually(lambda: sink.link._session is not None and sink.link._session is not session)

    async def retry() -> None:
        while True:
            try:
                await sink.deliver(body(click="double", n=3))
                return
            except DeliveryError:
                await asyncio.sleep(0.2)

    await asyncio.wait_for(retry(), 30)
    assert [
        m.text for m in await eventually(lambda: recorder.messages("flic/front-desk/action"))
    ] == ["double"]


async def test_a_body_without_button_or_click_is_a_permanent_failure(sink: MqttSink) -> None:
    with pytest.raises(DeliveryError) as caught:
        await sink.deliver({"flic_state": "On"})
    assert caught.value.permanent


async def test_button_names_with_wildcards_become_safe_topics(
    recorder: Recorder, sink: MqttSink
) -> None:
    await sink.deliver(body(button="hall/left #2"))
    got = await eventually(lambda: recorder.messages("flic/hall_left _2/action"))
    assert got[0].text == "single"


@pytest.mark.parametrize("protocol", ["3.1.1", "5"])
async def test_tls_with_username_and_password(tmp_path: Path, protocol: str) -> None:
    ca, cert, key = make_tls(tmp_path / "tls")
    broker = Mosquitto(tmp_path / "broker", users={"bridge": "s3cret"}, tls=(cert, key)).start()
    try:
        good = MqttSink(
            BrokerSettings(
                host="127.0.0.1",
                port=broker.port,
                tls=True,
                ca_file=str(ca),
                username="bridge",
                password="s3cret",
                protocol=protocol,
                publish_timeout_s=5.0,
            ),
            bridge_name="bridge-tls",
        )
        await good.start()
        try:
            await good.deliver(body())
        finally:
            await good.close()

        bad = MqttSink(
            BrokerSettings(
                host="127.0.0.1",
                port=broker.port,
                tls=True,
                ca_file=str(ca),
                username="bridge",
                password="wrong",
                protocol=protocol,
                publish_timeout_s=5.0,
            ),
            bridge_name="bridge-bad",
        )
        await bad.start()
        try:
            with pytest.raises(DeliveryError):
                await bad.deliver(body())
        finally:
            await bad.close()
        # the good one got in under its stable client id; the bad one was turned away
        log = broker.log()
        wire = "p5" if protocol == "5" else "p2"  # how mosquitto logs MQTT v5 / v3.1.1
        assert f"as flic-bridge-bridge-tls ({wire}," in log
        assert "not authorised" in log
    finally:
        broker.stop()
