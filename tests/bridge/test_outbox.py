"""The outbox on real SQLite: idempotent, ordered per button per target, dead letters, durable."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from bridge.core.outbox import Outbox
from bridge.models import ClickType

from .factories import T0, click

A, B = "80:e4:da:71:23:45", "80:e4:da:71:23:46"


@pytest.fixture
def outbox(tmp_path: Path) -> Outbox:
    box = Outbox.in_state_dir(tmp_path / "state")
    yield box
    box.close()


def body(event_id: str) -> dict[str, str]:
    return {"event_id": event_id}


def enqueue(
    box: Outbox, event_id: str, address: str = A, targets: tuple[str, ...] = ("t1",)
) -> None:
    assert box.enqueue(click(address, event_id=event_id), body(event_id), targets, T0)


def test_an_event_id_is_stored_once(outbox: Outbox) -> None:
    event = click(event_id="same")
    assert outbox.enqueue(event, body("same"), ["t1", "t2"], T0) is True
    assert outbox.enqueue(event, body("same"), ["t1", "t2"], T0) is False
    assert outbox.stats(T0).pending == 2
    assert outbox.has_event("same")


def test_one_row_per_target_each_with_its_own_line(outbox: Outbox) -> None:
    enqueue(outbox, "e1", targets=("t1", "t2"))
    outbox.mark_delivered(outbox.due("t1", T0)[0].seq, "t1", T0)
    assert outbox.due("t1", T0) == []
    assert [d.event_id for d in outbox.due("t2", T0)] == ["e1"]


def test_a_button_waits_behind_its_own_failing_head_but_not_others(outbox: Outbox) -> None:
    for event_id, address in [("a1", A), ("b1", B), ("a2", A), ("b2", B)]:
        enqueue(outbox, event_id, address)
    heads = outbox.due("t1", T0)
    assert [d.event_id for d in heads] == ["a1", "b1"]
    a1, b1 = heads
    outbox.mark_failed(a1.seq, "t1", T0, "boom", T0 + timedelta(seconds=10))
    outbox.mark_delivered(b1.seq, "t1", T0)
    assert [d.event_id for d in outbox.due("t1", T0)] == ["b2"]
    assert outbox.next_due_at("t1") == T0
    later = T0 + timedelta(seconds=11)
    assert [d.event_id for d in outbox.due("t1", later)] == ["a1", "b2"]


def test_dead_letters_are_kept_shown_and_put_back_by_retry(outbox: Outbox) -> None:
    enqueue(outbox, "a1")
    enqueue(outbox, "a2")
    head = outbox.due("t1", T0)[0]
    outbox.mark_dead(head.seq, "t1", T0, "HTTP 404: unknown token")
    assert [d.event_id for d in outbox.due("t1", T0)] == ["a2"]
    (dead,) = outbox.rows("dead")
    assert (dead.event_id, dead.last_error) == ("a1", "HTTP 404: unknown token")
    assert outbox.stats(T0).dead == 1
    assert outbox.retry_dead(T0) == 1
    assert outbox.stats(T0).dead == 0
    assert [d.event_id for d in outbox.due("t1", T0)] == ["a1"]


def test_purge_removes_delivered_and_never_pending(outbox: Outbox) -> None:
    enqueue(outbox, "a1")
    enqueue(outbox, "b1", B)
    enqueue(outbox, "a2")
    a1, b1 = outbox.due("t1", T0)
    outbox.mark_delivered(a1.seq, "t1", T0)
    outbox.mark_dead(b1.seq, "t1", T0, "gone")
    assert outbox.purge(T0) == 1
    assert outbox.purge(T0, dead=True) == 1
    assert [r.event_id for r in outbox.rows()] == ["a2"]
    assert outbox.stats(T0).pending == 1


def test_stats_report_the_oldest_pending_age(outbox: Outbox) -> None:
    enqueue(outbox, "a1")
    stats = outbox.stats(T0 + timedelta(seconds=42))
    assert (stats.pending, stats.oldest_age_s, stats.delivered, stats.dead) == (1, 42.0, 0, 0)
    assert outbox.stats(T0, "other-target").pending == 0


def test_committed_rows_survive_reopening_and_keep_their_order(tmp_path: Path) -> None:
    first = Outbox.in_state_dir(tmp_path)
    for n in range(5):
        first.enqueue(click(event_id=f"e{n}", kind=ClickType.DOUBLE), body(f"e{n}"), ["t1"], T0)
    first.close()
    again = Outbox.in_state_dir(tmp_path)
    order = []
    while heads := again.due("t1", T0):
        order.append(heads[0].event_id)
        again.mark_delivered(heads[0].seq, "t1", T0)
    again.close()
    assert order == ["e0", "e1", "e2", "e3", "e4"]


def test_the_database_is_written_with_full_sync_in_wal_mode(outbox: Outbox) -> None:
    enqueue(outbox, "a1")
    other = sqlite3.connect(outbox.path)
    assert other.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    other.close()
    assert outbox._db.execute("PRAGMA synchronous").fetchone() == (2,)


def test_an_unmapped_click_is_stored_without_delivery_rows(outbox: Outbox) -> None:
    assert outbox.enqueue(click(event_id="u1", kind=ClickType.UP), None, ["t1"], T0)
    assert outbox.has_event("u1")
    assert outbox.due("t1", T0) == []
