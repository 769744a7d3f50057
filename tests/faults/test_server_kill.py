"""SIGKILL of `alert-server` in the middle of a burst: every 202 survives, no double alerts."""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.e2e.programs import AlertServer
from tests.support.procs import wait_until

from .support import start_server

pytestmark = pytest.mark.faults

BUTTONS = [f"door-{i}" for i in range(12)]


def guide_body(button: str, state: str) -> str:
    """The Flic app guide's hand-typed body: key lines with a trailing comma, no braces."""
    return f'"flic_nameId": "{button}", "flic_state": "{state}", "info": "burst",'


def test_every_message_answered_202_is_in_the_inbound_log_after_sigkill(tmp_path: Path) -> None:
    server = AlertServer(tmp_path / "server", tmp_path / "server.log")
    inbound = server.url + server.add_flic_integration()["inbound_path"]
    proc = start_server(server.data_dir, server.port, server.log_path)
    accepted: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def sender(worker: int) -> None:
        with httpx.Client(timeout=5.0) as client:
            n = 0
            while not stop.is_set():
                button = BUTTONS[(worker + n) % len(BUTTONS)]
                state = "On" if n % 3 else "Off"
                n += 1
                try:
                    response = client.post(
                        inbound,
                        content=guide_body(button, state),
                        headers={"Idempotency-Key": uuid.uuid4().hex},
                    )
                except httpx.HTTPError:
                    return  # the server is gone: this one was never acknowledged
                if response.status_code == 202:
                    with lock:
                        accepted.append(response.json()["message_id"])

    workers = [threading.Thread(target=sender, args=(i,)) for i in range(8)]
    for worker in workers:
        worker.start()
    try:
        wait_until(lambda: len(accepted) >= 150, timeout=60, what="150 accepted messages")
        proc.kill()  # mid-burst: the senders are still posting
    finally:
        stop.set()
        for worker in workers:
            worker.join(10)
        proc.stop()

    db = sqlite3.connect(server.data_dir / "alert-server.db")
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    db.close()
    proc = start_server(server.data_dir, server.port, tmp_path / "server2.log")
    try:
        logged = {m["message_id"] for m in server.admin("/api/v1/inbound", limit=1000)["items"]}
        assert len(accepted) >= 150
        assert set(accepted) <= logged
        open_per_button = Counter(a["source_name"] for a in server.alerts("open"))
        assert open_per_button, "the burst opened alerts"
        assert max(open_per_button.values()) == 1
        # The server takes new work after the crash, on the same alerts.
        response = httpx.post(inbound, content=guide_body(BUTTONS[0], "Off"), timeout=5.0)
        assert response.status_code == 202
        assert response.json()["action"] in ("close", "ignore")
    finally:
        proc.stop()
