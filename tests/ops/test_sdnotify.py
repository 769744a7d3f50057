"""sd_notify reaches a real NOTIFY_SOCKET; the watchdog pings only while work progresses."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import Callable, Iterator
from types import ModuleType

import pytest

from edgecommon import sdnotify
from tests.ops.notify_socket import NotifySocket

# One module now serves both programs (edgecommon); the tests keep their shape.
BOTH = pytest.mark.parametrize("mod", [sdnotify], ids=["edgecommon"])


@pytest.fixture
def notify_socket() -> Iterator[NotifySocket]:
    ns = NotifySocket()
    yield ns
    ns.close()


class ManualClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@BOTH
async def test_ready_then_pings_stop_while_wedged_and_resume(
    mod: ModuleType, notify_socket: NotifySocket
) -> None:
    env = {"NOTIFY_SOCKET": notify_socket.path, "WATCHDOG_USEC": "40000"}
    notifier = mod.Notifier.from_env(env)
    assert notifier.watchdog_interval_s == pytest.approx(0.02)
    clock = ManualClock()
    outbox = mod.Heartbeat("outbox", clock=clock)
    stale = mod.heartbeats_fresh([outbox], max_age_s=5.0)
    checks = 0

    def counted_check() -> list[str]:
        nonlocal checks
        checks += 1
        return list(stale())

    assert notifier.ready("serving")
    task = asyncio.create_task(mod.run_watchdog(notifier, counted_check))
    try:
        await wait_async(lambda: notify_socket.count("WATCHDOG=1") >= 3)
        assert notify_socket.messages[:2] == ["READY=1", "STATUS=serving"]

        clock.now += 60  # the outbox worker stops coming round its loop
        await wait_async(lambda: "STATUS=wedged: outbox" in notify_socket.drain())
        pings_when_wedged = notify_socket.count("WATCHDOG=1")
        seen = checks
        await wait_async(lambda: checks >= seen + 5)  # five more watchdog rounds
        assert notify_socket.count("WATCHDOG=1") == pings_when_wedged

        outbox.beat()  # it comes round again
        await wait_async(lambda: notify_socket.count("WATCHDOG=1") >= pings_when_wedged + 2)
        assert "STATUS=running" in notify_socket.messages
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def wait_async(check: Callable[[], bool], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, "condition never became true"
        await asyncio.sleep(0.005)


@BOTH
async def test_a_failing_progress_check_withholds_the_ping(
    mod: ModuleType, notify_socket: NotifySocket
) -> None:
    notifier = mod.Notifier(notify_socket.path, watchdog_usec=40000)
    calls = 0

    def broken() -> list[str]:
        nonlocal calls
        calls += 1
        raise RuntimeError("boom")

    task = asyncio.create_task(mod.run_watchdog(notifier, broken))
    try:
        await wait_async(lambda: calls >= 4)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert notify_socket.count("WATCHDOG=1") == 0
    assert "STATUS=wedged: progress-check" in notify_socket.messages


@BOTH
def test_abstract_socket_addresses_work(mod: ModuleType) -> None:
    name = f"flic-edge-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        assert mod.Notifier(f"@{name}").stopping("bye")
        assert sock.recv(100) == b"STOPPING=1\nSTATUS=bye"


@BOTH
def test_outside_systemd_nothing_is_sent_and_nothing_breaks(mod: ModuleType) -> None:
    notifier = mod.Notifier.from_env({})
    assert not notifier.enabled
    assert notifier.watchdog_interval_s is None
    assert notifier.ready() is False
    assert notifier.watchdog() is False


@BOTH
def test_watchdog_is_off_when_meant_for_another_process(mod: ModuleType) -> None:
    env = {"NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}
    assert mod.Notifier.from_env(env).watchdog_interval_s is None
    env["WATCHDOG_PID"] = str(os.getpid())
    assert mod.Notifier.from_env(env).watchdog_interval_s == 15.0


@BOTH
def test_a_vanished_socket_is_reported_once_not_raised(
    mod: ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    notifier = mod.Notifier("/nonexistent/notify.sock")
    assert notifier.ready() is False
    assert notifier.watchdog() is False
    warnings = [r for r in caplog.records if "sd_notify" in r.getMessage()]
    assert len(warnings) == 1


@BOTH
def test_a_receiver_that_never_reads_cannot_block_the_sender(
    mod: ModuleType, notify_socket: NotifySocket, caplog: pytest.LogCaptureFixture
) -> None:
    notifier = mod.Notifier(notify_socket.path)
    sent = [notifier.watchdog() for _ in range(5000)]  # far beyond any socket queue
    assert sent[0] is True
    assert sent[-1] is False
    assert len([r for r in caplog.records if "sd_notify" in r.getMessage()]) == 1
