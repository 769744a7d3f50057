"""MQTT alert topics keep the order of the changes when two servers make them (one publisher)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.ha.conftest import MakeCluster
from tests.support.cluster import Cluster, Node
from tests.support.mosquitto import Mosquitto, Recorder, retained
from tests.support.procs import wait_until

pytestmark = pytest.mark.mqtt

BUTTONS = ("bed-1", "bed-2", "bed-3", "bed-4")
# One button's life, each change made through the server named: (server, change).
SCRIPT = (
    (0, "On"),
    (1, "On"),
    (1, "acknowledge"),
    (0, "Off"),
    (1, "On"),
    (0, "acknowledge"),
    (1, "Off"),
    (0, "On"),
    (1, "Off"),
)
# What each change shows on MQTT: (event, status).
SHOWN = {
    "open": ("opened", "open"),
    "append": ("appended", "open"),
    "acknowledge": ("acknowledged", "acknowledged"),
    "close": ("closed", "closed"),
}


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    found = Mosquitto(tmp_path / "broker").start()
    try:
        yield found
    finally:
        found.stop()


def change(cluster: Cluster, path: str, button: str) -> list[str]:
    """Run SCRIPT for `button` (each change answered before the next); the changes made."""
    made: list[str] = []
    alert_id = 0
    for index, what in SCRIPT:
        node: Node = cluster.nodes[index]
        if what == "acknowledge":
            with node.client() as client:
                answer = client.post(f"/api/v1/alerts/{alert_id}/acknowledge")
            assert answer.status_code == 200, answer.text
            made.append("acknowledge")
            continue
        answer = node.press(path, button, what)
        assert answer.status_code == 202, answer.text
        body = answer.json()
        alert_id = body["alert_id"] or alert_id
        made.append(body["action"])
    return made


def test_changes_through_both_servers_arrive_in_change_order(
    make_cluster: MakeCluster, broker: Mosquitto
) -> None:
    cluster = make_cluster(broker=broker).start()
    path = cluster.a.integration("ward 3")
    with Recorder(broker, "flic/alerts/#") as rec:
        with ThreadPoolExecutor(len(BUTTONS)) as pool:  # the buttons' lives overlap
            lives = pool.map(lambda b: change(cluster, path, b), BUTTONS)
            made = dict(zip(BUTTONS, lives, strict=True))
        total = sum(len(m) for m in made.values())
        wait_until(
            lambda: len(rec.messages("flic/alerts/events")) >= total,
            timeout=30,
            what=f"{total} events",
        )
        events = [json.loads(m.payload) for m in rec.messages("flic/alerts/events")]
        for button in BUTTONS:
            assert made[button] == [
                "open", "append", "acknowledge", "close", "open", "acknowledge", "close",
                "open", "close",
            ]  # fmt: skip
            expected = [SHOWN[c] for c in made[button]]
            seen = [(e["event"], e["status"]) for e in events if e["source_name"] == button]
            assert seen == expected, button
            state_topic = rec.messages(f"flic/alerts/{button}")
            states = [json.loads(m.payload)["status"] for m in state_topic]
            assert states == [status for _, status in expected], button
        assert len(events) == total  # each change published once, by one server
    kept = retained(broker, "flic/alerts/#")
    assert {topic: json.loads(v)["status"] for topic, v in kept.items()} == {
        f"flic/alerts/{b}": "closed" for b in BUTTONS
    }
