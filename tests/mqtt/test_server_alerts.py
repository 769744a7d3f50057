"""The alert server's MQTT topics, with the real `alert-server` and a real mosquitto."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from server.alerts.events import AlertChange
from server.alerts.store import InboundMessage
from server.app import close_app, create_app
from server.config import load_config
from server.inbound.bodies import parse_body
from server.inbound.mapping import FLIC_DEFAULT_MAPPING, compile_mapping, decide
from server.mqtt.plugin import alert_messages
from server.mqtt.queue import oldest
from tests.server.conftest import RunningServer, add_integration
from tests.support.mosquitto import Mosquitto, Recorder, retained
from tests.support.procs import wait_until

pytestmark = pytest.mark.mqtt

ON = '"flic_nameId": "lobby", "flic_state": "On", "info": "Lobby",'
OFF = '"flic_nameId": "lobby", "flic_state": "Off", "info": "Lobby",'


def test_a_change_is_a_retained_state_and_an_event() -> None:
    change = AlertChange(
        kind="open",
        alert_id=7,
        integration_id=2,
        source_name="front/desk+1",
        status="open",
        title="front-desk pressed",
        at=datetime(2026, 11, 26, 7, 0, 0, 123000, tzinfo=UTC),
        message_id="m-1",
        priority="urgent",
    )
    state, event = alert_messages(change, "flic")
    assert (state.topic, state.retain) == ("flic/alerts/front_desk_1", True)
    assert json.loads(state.payload) == {
        "alert_id": 7,
        "status": "open",
        "title": "front-desk pressed",
        "priority": "urgent",
        "at": "2026-11-26T07:00:00.123Z",
    }
    assert (event.topic, event.retain) == ("flic/alerts/events", False)
    assert json.loads(event.payload) == {
        "event": "opened",
        "kind": "open",
        "alert_id": 7,
        "integration_id": 2,
        "source_name": "front/desk+1",
        "status": "open",
        "title": "front-desk pressed",
        "priority": "urgent",
        "at": "2026-11-26T07:00:00.123Z",
        "message_id": "m-1",
    }


def test_an_alert_change_and_its_mqtt_messages_are_one_commit(tmp_path: Path) -> None:
    """No moment exists where a change is stored and its messages are not (no loop runs here)."""
    config = load_config(
        env={"ALERT_SERVER_DATA_DIR": str(tmp_path), "ALERT_SERVER_MQTT_ENABLED": "true"}
    )
    app = create_app(config)
    ctx = app.state.ctx
    try:
        now = datetime.now(UTC)
        lobby = ctx.store.create_integration(
            name="lobby", kind="flic", mapping=FLIC_DEFAULT_MAPPING, now=now
        )
        mapping = compile_mapping(lobby.mapping)
        decision = decide(parse_body(ON.encode()).payload, mapping)
        opened = ctx.store.record_inbound(InboundMessage(lobby.id, now, ON.encode(), ""), decision)
        after_open = oldest(ctx.store.db)
        ctx.store.acknowledge_alert(opened.outcome.alert_id, now, "alice")

        def broken(change: AlertChange) -> None:
            raise RuntimeError("hook bug")

        ctx.store.change_hooks.insert(0, broken)  # a failing hook is logged; the rest still run
        ctx.store.close_alert(opened.outcome.alert_id, now, "alice")
        queued = oldest(ctx.store.db)
        closed = ctx.store.get_alert(opened.outcome.alert_id)
    finally:
        close_app(app)
    assert [m.topic for m in after_open] == ["flic/alerts/lobby", "flic/alerts/events"]
    events = [json.loads(m.payload)["event"] for m in queued if m.topic.endswith("/events")]
    assert events == ["opened", "acknowledged", "closed"]
    assert closed.status == "closed"


@pytest.fixture
def mqtt_server(tmp_path: Path, broker: Mosquitto) -> Iterator[RunningServer]:
    srv = RunningServer(
        data_dir=tmp_path / "data",
        log_path=tmp_path / "server.log",
        env={
            **{k: "" for k in os.environ if k.startswith("ALERT_SERVER_")},
            "ALERT_SERVER_CONFIG": "",
            "ALERT_SERVER_MQTT_ENABLED": "true",
            "ALERT_SERVER_MQTT_HOST": broker.host,
            "ALERT_SERVER_MQTT_PORT": str(broker.port),
            "ALERT_SERVER_MQTT_CLIENT_ID": f"alert-server-{tmp_path.name}",
        },
    )
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def metrics(srv: RunningServer) -> str:
    return httpx.get(srv.url + "/metrics", timeout=5).text


def events(rec: Recorder) -> list[tuple[str, str]]:
    return [
        (e["event"], e["status"])
        for e in (json.loads(m.payload) for m in rec.messages("flic/alerts/events"))
    ]


def test_alert_lifecycle_on_mqtt(
    broker: Mosquitto, recorder: Recorder, mqtt_server: RunningServer
) -> None:
    path = add_integration(mqtt_server.data_dir, "lobby")["inbound_path"]
    opened = mqtt_server.post(path, ON).json()
    mqtt_server.post(path, ON)
    with mqtt_server.admin() as admin:
        assert admin.post(f"/api/v1/alerts/{opened['alert_id']}/acknowledge").status_code == 200
    mqtt_server.post(path, OFF)

    recorder.wait_for("flic/alerts/events", 4)
    assert events(recorder) == [
        ("opened", "open"),
        ("appended", "open"),
        ("acknowledged", "acknowledged"),
        ("closed", "closed"),
    ]
    assert all(not m.retain for m in recorder.messages("flic/alerts/events"))
    assert [json.loads(m.payload)["status"] for m in recorder.messages("flic/alerts/lobby")] == [
        "open",
        "open",
        "acknowledged",
        "closed",
    ]
    kept = retained(broker, "flic/alerts/#")
    assert set(kept) == {"flic/alerts/lobby"}
    state = json.loads(kept["flic/alerts/lobby"])
    assert (state["alert_id"], state["status"], state["title"]) == (
        opened["alert_id"],
        "closed",
        "lobby pressed",
    )


@pytest.mark.faults  # the broker restarting: one of issue 10's faults
def test_alert_changes_made_while_the_broker_is_down_arrive_in_order_later(
    broker: Mosquitto, mqtt_server: RunningServer
) -> None:
    path = add_integration(mqtt_server.data_dir, "lobby")["inbound_path"]
    # a subscriber with a persistent session, there before, during and after the outage
    with Recorder(broker, "flic/alerts/#", persistent_id="dashboard") as rec:
        broker.stop()
        assert mqtt_server.post(path, ON).status_code == 202
        assert mqtt_server.post(path, OFF).status_code == 202
        assert mqtt_server.post(path, ON).status_code == 202
        wait_until(
            lambda: "alert_server_mqtt_queue_pending 6\n" in metrics(mqtt_server),
            what="6 messages queued",
        )
        # and the server itself restarts before the broker is back: the queue is on disk
        mqtt_server.stop()
        mqtt_server.start()
        broker.start()
        wait_until(
            lambda: len(rec.messages("flic/alerts/events")) >= 3, timeout=30, what="3 events"
        )
        assert events(rec) == [("opened", "open"), ("closed", "closed"), ("opened", "open")]
        wait_until(lambda: "alert_server_mqtt_queue_pending 0\n" in metrics(mqtt_server))
    kept = json.loads(retained(broker, "flic/alerts/lobby")["flic/alerts/lobby"])
    assert kept["status"] == "open"


def test_a_source_named_events_keeps_out_of_the_event_stream() -> None:
    from server.mqtt.plugin import events_topic, source_topic

    assert events_topic("flic") == "flic/alerts/events"
    # escaped one underscore deeper, so no two source names meet
    names = ["events", " events ", "_events", "__events", "events2", "my-events", "Events"]
    assert [source_topic("flic", n) for n in names] == [
        "flic/alerts/_events",
        "flic/alerts/_events",
        "flic/alerts/__events",
        "flic/alerts/___events",
        "flic/alerts/events2",
        "flic/alerts/my-events",
        "flic/alerts/Events",
    ]


def test_a_new_subscriber_to_the_event_stream_gets_no_retained_state(
    broker: Mosquitto, recorder: Recorder, mqtt_server: RunningServer
) -> None:
    path = add_integration(mqtt_server.data_dir, "events-desk")["inbound_path"]
    named_events = '"flic_nameId": "events", "flic_state": "On", "info": "a button called events",'
    opened = mqtt_server.post(path, named_events).json()
    assert opened["action"] == "open"
    recorder.wait_for("flic/alerts/events")
    wait_until(lambda: "alert_server_mqtt_queue_pending 0\n" in metrics(mqtt_server))
    kept = retained(broker, "flic/alerts/#")
    assert set(kept) == {"flic/alerts/_events"}
    assert json.loads(kept["flic/alerts/_events"])["alert_id"] == opened["alert_id"]
    (event,) = recorder.messages("flic/alerts/events")
    assert (json.loads(event.payload)["source_name"], event.retain) == ("events", False)


def test_a_control_character_in_a_source_name_does_not_stop_the_alert_topics(
    broker: Mosquitto, recorder: Recorder, mqtt_server: RunningServer
) -> None:
    # mosquitto drops the connection over a DEL or C1 control in a topic: the row stayed first
    # in the queue and held up every later alert change for good (issue 16)
    path = add_integration(mqtt_server.data_dir, "hostile")["inbound_path"]
    for name in ("Kitchen\\u007f", "Hall\\u0090", "lobby"):
        body = f'"flic_nameId": "{name}", "flic_state": "On", "info": "x",'
        assert mqtt_server.post(path, body).status_code == 202

    recorder.wait_for("flic/alerts/events", 3)
    assert [e for e, _ in events(recorder)] == ["opened", "opened", "opened"]
    kept = retained(broker, "flic/alerts/#")
    assert set(kept) == {"flic/alerts/Kitchen_", "flic/alerts/Hall_", "flic/alerts/lobby"}
    assert json.loads(kept["flic/alerts/Kitchen_"])["title"] == "Kitchen\x7f pressed"
