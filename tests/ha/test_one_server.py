"""Two real alert-servers on one PostgreSQL database take presses as one server would."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import httpx

from tests.support.cluster import Cluster, Node

PRESSES = 48


def test_48_concurrent_presses_of_one_button_over_two_servers_open_one_alert(
    pair: Cluster,
) -> None:
    path = pair.a.integration("ward 3")
    start = Barrier(PRESSES)  # every press leaves at the same moment

    def press(n: int) -> httpx.Response:
        node = pair.nodes[n % 2]
        start.wait()
        return node.press(path, "bed-7", "On")

    with ThreadPoolExecutor(PRESSES) as pool:
        answers = list(pool.map(press, range(PRESSES)))

    assert [a.status_code for a in answers] == [202] * PRESSES, [a.text for a in answers]
    bodies = [a.json() for a in answers]
    statuses = [b["status"] for b in bodies]
    assert statuses.count("mapped") == 1
    assert statuses.count("mapped_appended") == PRESSES - 1
    assert len({b["alert_id"] for b in bodies}) == 1
    for node in pair.nodes:  # either server tells the same story
        (alert,) = node.alerts()
        assert (alert["source_name"], alert["status"]) == ("bed-7", "open")
        assert alert["append_count"] == PRESSES - 1
        logged = [m["status"] for m in node.inbound()]
        assert len(logged) == PRESSES
        assert logged.count("mapped") == 1
        assert logged.count("mapped_appended") == PRESSES - 1


def test_one_idempotency_key_sent_to_both_servers_is_one_message_and_one_answer(
    pair: Cluster,
) -> None:
    path = pair.a.integration("front desk")
    first = pair.a.press(path, "desk", "On", key="click-1")
    again = pair.b.press(path, "desk", "On", key="click-1")
    # The same key at the same moment on both: one of them stores, the other replays.
    start = Barrier(2)

    def press(node: Node) -> httpx.Response:
        start.wait()
        return node.press(path, "desk", "Off", key="click-2")

    with ThreadPoolExecutor(2) as pool:
        together = list(pool.map(press, pair.nodes))

    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json() == first.json()
    assert first.json()["action"] == "open"
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert [t.status_code for t in together] == [202, 202]
    assert together[0].json() == together[1].json()
    assert together[0].json()["action"] == "close"
    assert sorted(t.headers.get("Idempotent-Replayed", "") for t in together) == ["", "true"]
    for node in pair.nodes:
        logged = node.inbound()
        assert len(logged) == 2, logged  # one message per key, whichever server took it
        (alert,) = node.alerts()
        assert (alert["status"], alert["append_count"]) == ("closed", 0)
