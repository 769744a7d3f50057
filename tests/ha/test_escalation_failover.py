"""An escalation keeps running, each step and page once, when the server that ran step 1 dies.

The clock is the real one: "on time" is read from the timeline the servers write (the step's
time against the time it fell due), never from how long the test waited.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.escalation.harness import mail_to
from tests.escalation.receivers import Mailbox
from tests.ha.conftest import MakeCluster
from tests.support.procs import wait_until

TICK_S = 1.0
# (name, after_s): step 1 at once, step 2 three seconds after it, step 3 three after that.
STEPS = (("Alice", 0.0), ("Bob", 3.0), ("Carol", 3.0))


def address(name: str) -> str:
    return f"{name.lower()}@example.org"


def test_three_steps_each_run_and_page_once_on_the_survivor_on_time(
    make_cluster: MakeCluster, smtp: tuple[Mailbox, int]
) -> None:
    box, smtp_port = smtp
    cluster = make_cluster(smtp_port=smtp_port, tick_s=TICK_S).start()
    a, b = cluster.a, cluster.b
    steps = []
    for name, after_s in STEPS:
        user = a.create("/api/v1/users", {"name": name, "email": address(name)})
        steps.append({"after_s": after_s, "notify": [{"user": user["id"]}]})
    policy = b.create("/api/v1/escalation-policies", {"name": "Ward 3", "steps": steps})
    path = a.integration("ward 3", policy["id"])

    opened = a.press(path, "bed-1", "On")
    assert opened.status_code == 202, opened.text
    alert_id = opened.json()["alert_id"]
    mail_to(box, address("Alice"))

    def step_one_sent() -> bool:
        pages = a.get(f"/api/v1/escalations/{alert_id}")["notifications"]
        return [(p["step"], p["status"]) for p in pages] == [(1, "sent")]

    # Step 1's page is stored as sent, step 2 not yet due: the kill falls between the steps.
    wait_until(step_one_sent, timeout=10, what="step 1 recorded as sent")
    (first,) = [n for n in cluster.nodes if _paged(n.pages_sent(), alert_id, "Alice")]
    first.kill()
    (survivor,) = cluster.survivors()

    mail_to(box, address("Carol"))
    escalation = wait_until(
        lambda: (
            (e := survivor.get(f"/api/v1/escalations/{alert_id}"))["status"] == "finished"
            and all(p["status"] == "sent" for p in e["notifications"])
            and e
        ),
        timeout=20,
        what="the escalation to finish with every page sent",
    )

    # Every step once, every page once: at the SMTP server and in the database.
    assert [len(box.to(address(name))) for name, _ in STEPS] == [1, 1, 1]
    assert box.count() == 3
    pages = escalation["notifications"]
    assert [(p["step"], p["status"], p["attempts"]) for p in pages] == [
        (1, "sent", 1),
        (2, "sent", 1),
        (3, "sent", 1),
    ]
    # Steps 2 and 3 were paged by the survivor; the dead server never got that far.
    assert _paged(survivor.pages_sent(), alert_id, "Bob")
    assert _paged(survivor.pages_sent(), alert_id, "Carol")
    assert not _paged(first.pages_sent(), alert_id, "Bob")

    # On time: each step within two ticks of the moment it fell due.
    timeline = survivor.get(f"/api/v1/alerts/{alert_id}")["timeline"]
    ran = [e for e in timeline if e["kind"] == "escalation_step"]
    assert [e["detail"].split(":")[0] for e in ran] == ["step 1", "step 2", "step 3"]
    (started,) = [_at(e) for e in timeline if e["kind"] == "escalation_started"]
    previous = started
    for (name, after_s), entry in zip(STEPS, ran, strict=True):
        due = previous + timedelta(seconds=after_s)
        late_s = (_at(entry) - due).total_seconds()
        assert 0 <= late_s <= 2 * TICK_S, (name, late_s, ran)
        previous = _at(entry)


def _paged(sent: list[tuple[int, str]], alert_id: int, name: str) -> bool:
    return any(found == alert_id and f"({name})" in target for found, target in sent)


def _at(entry: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(entry["at"])
