"""Group commit: messages written in one batch behave as if each had been committed alone."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator
from typing import Any

import httpx

from server.alerts.events import AlertChange
from tests.server.conftest import InProcess

ON = '"flic_nameId": "{}", "flic_state": "On", "info": "press",'
OFF = '"flic_nameId": "{}", "flic_state": "Off", "info": "press",'
POISON = b"poison: this message makes its batch's COMMIT fail"


async def eventually(check: Any, what: str) -> None:
    """Yield to the loop until `check()` holds (fails after a generous bound, never sleeps)."""
    for _ in range(100_000):
        if check():
            return
        await asyncio.sleep(0)
    raise AssertionError(f"never happened: {what}")


@contextlib.asynccontextmanager
async def database_thread_held(app: InProcess) -> AsyncIterator[None]:
    """Keep the database thread busy, so inbound messages queue up for one batch."""
    started, release = threading.Event(), threading.Event()

    def hold() -> None:
        started.set()
        release.wait(30)

    blocker = asyncio.ensure_future(app.ctx.db.run(hold))
    await eventually(started.is_set, "the database thread is held")
    try:
        yield
    finally:
        release.set()
        await blocker


async def one_batch(
    app: InProcess, requests: list[tuple[str, bytes | str, dict[str, str]]]
) -> list[httpx.Response]:
    """Post `requests` in this order so that all of them are written in one batch.

    While the database thread is held, a first message (a harmless Off) is handed to it as a
    batch of its own; everything posted after it queues for the next batch.
    """
    writer = app.ctx.inbound
    batches_before = writer.batches
    plug_path = requests[0][0]
    tasks: list[asyncio.Task[httpx.Response]] = []
    async with database_thread_held(app):
        plug = asyncio.create_task(app.client.post(plug_path, content=OFF.format("plug")))
        await eventually(lambda: writer.in_flight == 1, "the first message is being written")
        for n, (path, body, headers) in enumerate(requests, start=1):
            tasks.append(asyncio.create_task(app.client.post(path, content=body, headers=headers)))
            await eventually(lambda n=n: writer.pending == n, f"message {n} is queued")
    answers = await asyncio.gather(*tasks)
    assert (await plug).status_code == 202
    assert writer.batches - batches_before in (1, 2)  # the plug's, then (if it commits) theirs
    return answers


async def inbound_log(app: InProcess, limit: int) -> list[dict[str, Any]]:
    """The newest `limit` messages of the inbound log, newest first."""
    items: list[dict[str, Any]] = (await app.admin_get("/api/v1/inbound", limit=limit))["items"]
    return items


async def warm(app: InProcess, path: str) -> None:
    """One harmless message, so the token is known without asking the database."""
    answer = await app.client.post(path, content=OFF.format("warm-up"))
    assert answer.json()["status"] == "mapped_ignored"


async def test_a_mixed_batch_decides_each_message_as_if_it_were_alone(inproc: InProcess) -> None:
    seen: list[AlertChange] = []

    async def remember(change: AlertChange) -> None:
        seen.append(change)

    inproc.ctx.events.subscribe("remember", remember)
    desk = (await inproc.add("desk"))["inbound_path"]
    door = (await inproc.add("door"))["inbound_path"]
    await warm(inproc, desk)
    await warm(inproc, door)

    answers = await one_batch(
        inproc,
        [
            (desk, ON.format("a"), {}),
            (door, ON.format("a"), {}),
            (desk, ON.format("a"), {}),
            (desk, OFF.format("a"), {}),
            (desk, OFF.format("a"), {}),
            (desk, ON.format("a"), {}),
            (door, ON.format("b"), {}),
            (door, OFF.format("a"), {}),
        ],
    )

    assert {a.status_code for a in answers} == {202}
    bodies = [a.json() for a in answers]
    assert [(b["status"], b["action"]) for b in bodies] == [
        ("mapped", "open"),
        ("mapped", "open"),
        ("mapped_appended", "append"),
        ("mapped", "close"),
        ("mapped_ignored", "ignore"),
        ("mapped", "open"),
        ("mapped", "open"),
        ("mapped", "close"),
    ]
    first_desk, first_door, _, _, _, second_desk, door_b, _ = (b["alert_id"] for b in bodies)
    assert len({first_desk, first_door, second_desk, door_b}) == 4
    assert bodies[2]["alert_id"] == bodies[3]["alert_id"] == first_desk
    assert bodies[7]["alert_id"] == first_door
    await inproc.ctx.events.drain()
    assert [(c.kind, c.alert_id) for c in seen] == [
        ("open", first_desk),
        ("open", first_door),
        ("append", first_desk),
        ("close", first_desk),
        ("open", second_desk),
        ("open", door_b),
        ("close", first_door),
    ]
    logged = await inbound_log(inproc, 8)
    assert [m["message_id"] for m in reversed(logged)] == [b["message_id"] for b in bodies]


async def test_fifty_identical_presses_in_one_batch_make_one_alert(inproc: InProcess) -> None:
    desk = (await inproc.add("desk"))["inbound_path"]
    await warm(inproc, desk)

    answers = await one_batch(inproc, [(desk, ON.format("desk"), {})] * 50)

    actions = [a.json()["action"] for a in answers]
    assert actions == ["open"] + ["append"] * 49
    assert len({a.json()["alert_id"] for a in answers}) == 1
    alerts = (await inproc.admin_get("/api/v1/alerts", status="open"))["items"]
    assert len(alerts) == 1
    detail = await inproc.admin_get(f"/api/v1/alerts/{alerts[0]['id']}")
    assert [e["kind"] for e in detail["timeline"]] == ["open"] + ["append"] * 49


async def test_an_idempotency_key_repeated_in_one_batch_answers_the_first_answer(
    inproc: InProcess,
) -> None:
    desk = (await inproc.add("desk"))["inbound_path"]
    await warm(inproc, desk)

    first, other, again = await one_batch(
        inproc,
        [
            (desk, ON.format("desk"), {"Idempotency-Key": "click-1"}),
            (desk, ON.format("desk"), {"Idempotency-Key": "click-2"}),
            (desk, OFF.format("desk"), {"Idempotency-Key": "click-1"}),
        ],
    )

    assert first.json()["action"] == "open"
    assert other.json()["action"] == "append"
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    logged = await inbound_log(inproc, 10)
    assert [m["idempotency_key"] for m in logged[:2]] == ["click-2", "click-1"]
    assert len((await inproc.admin_get("/api/v1/alerts", status="open"))["items"]) == 1


async def poison_commits(app: InProcess) -> None:
    """From now on a batch holding POISON fails at COMMIT (a deferred foreign key)."""

    def install() -> None:
        app.ctx.store.db.conn.executescript(
            f"""
            CREATE TEMP TABLE poison_parent (id INTEGER PRIMARY KEY);
            CREATE TEMP TABLE poison_child (
                parent INTEGER REFERENCES poison_parent (id) DEFERRABLE INITIALLY DEFERRED);
            CREATE TEMP TRIGGER poison AFTER INSERT ON main.inbound_messages
            WHEN NEW.raw_body = X'{POISON.hex()}'
            BEGIN INSERT INTO poison_child VALUES (1); END;
            """
        )

    await app.ctx.db.run(install)


async def test_a_failing_commit_fails_every_message_of_its_batch_and_stores_none(
    inproc: InProcess,
) -> None:
    desk = (await inproc.add("desk"))["inbound_path"]
    await warm(inproc, desk)
    await poison_commits(inproc)
    logged_before = await inbound_log(inproc, 100)

    answers = await one_batch(
        inproc,
        [
            (desk, ON.format("a"), {}),
            (desk, ON.format("b"), {"Idempotency-Key": "k"}),
            (desk, POISON, {}),
            (desk, OFF.format("c"), {}),
        ],
    )

    assert [a.status_code for a in answers] == [503] * 4
    assert all("nothing was stored" in a.json()["detail"] for a in answers)
    assert all(a.headers["Retry-After"] for a in answers)
    logged_after = await inbound_log(inproc, 100)
    assert [m for m in logged_after if m["source_name"] != "plug"] == logged_before
    assert (await inproc.admin_get("/api/v1/alerts"))["items"] == []

    # The next batch without the poison is stored normally (the key was not used up).
    again = await one_batch(inproc, [(desk, ON.format("b"), {"Idempotency-Key": "k"})])
    assert again[0].status_code == 202
    assert again[0].json()["action"] == "open"
    assert "Idempotent-Replayed" not in again[0].headers


async def test_a_message_that_fails_alone_fails_only_itself(inproc: InProcess) -> None:
    desk = (await inproc.add("desk"))["inbound_path"]
    await warm(inproc, desk)

    def refuse_poison() -> None:
        inproc.ctx.store.db.conn.execute(
            f"""CREATE TEMP TRIGGER refuse BEFORE INSERT ON main.inbound_messages
                WHEN NEW.raw_body = X'{POISON.hex()}'
                BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"""
        )

    await inproc.ctx.db.run(refuse_poison)

    opened, poisoned, appended = await one_batch(
        inproc, [(desk, ON.format("a"), {}), (desk, POISON, {}), (desk, ON.format("a"), {})]
    )

    assert poisoned.status_code == 503
    assert (opened.json()["action"], appended.json()["action"]) == ("open", "append")
    logged = await inbound_log(inproc, 3)
    assert [m["message_id"] for m in logged[:2]] == [
        appended.json()["message_id"],
        opened.json()["message_id"],
    ]


async def test_a_known_token_follows_rotation_and_mapping_changes_at_once(
    inproc: InProcess,
) -> None:
    created = await inproc.add("desk")
    old_path = created["inbound_path"]
    assert (await inproc.client.post(old_path, content=ON.format("a"))).status_code == 202

    rotated = await inproc.client.post(
        f"/api/v1/integrations/{created['id']}/rotate-token", headers=inproc.admin_headers
    )
    new_path = rotated.json()["inbound_path"]
    assert (await inproc.client.post(old_path, content=ON.format("a"))).status_code == 404
    appended = await inproc.client.post(new_path, content=ON.format("a"))
    assert appended.json()["action"] == "append"

    mapping = {
        **created["mapping"],
        "open_when": {"equals": "never"},
        "close_when": {"contains": "On"},
    }
    patched = await inproc.client.patch(
        f"/api/v1/integrations/{created['id']}",
        json={"mapping": mapping},
        headers=inproc.admin_headers,
    )
    assert patched.status_code == 200, patched.text
    closed = await inproc.client.post(new_path, content=ON.format("a"))
    assert closed.json()["action"] == "close"
