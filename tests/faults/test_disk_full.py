"""Disk full on the bridge's state dir (a tiny tmpfs): a press is refused with a clear 503,
never acknowledged without being stored; once space is back everything flows again."""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.procs import wait_until

from .support import BridgeProc, ScriptedTarget

pytestmark = pytest.mark.faults

BUTTONS = [("80:e4:da:71:33:01", "pantry")]


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs (we run as root in CI); skipped where mounting is not allowed."""
    mount_point = tmp_path / "state"
    mount_point.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(directory: Path) -> Path:
    """Write a file until the filesystem is full; returns it."""
    filler = directory / "filler"
    chunk = b"\0" * 4096
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with pytest.raises(OSError, match="No space left") as raised:  # noqa: PT012 (ends by raising)
            while True:
                os.write(fd, chunk)
    finally:
        os.close(fd)
    assert raised.value.errno == errno.ENOSPC
    return filler


def test_full_state_dir_refuses_presses_clearly_and_recovers(
    tmp_path: Path, tiny_disk: Path
) -> None:
    target = ScriptedTarget(lambda n: "ok")
    bridge = BridgeProc(tmp_path / "bridge", target.url, BUTTONS, state_dir=tiny_disk)
    bridge.start()
    try:
        before = bridge.press("pantry", "single")
        assert before.status_code == 202
        bridge.wait_drained(delivered=1)

        filler = fill(tiny_disk)
        refused = [bridge.press("pantry", "double") for _ in range(3)]
        assert [r.status_code for r in refused] == [503, 503, 503]
        error = refused[0].json()["error"]
        assert "not stored" in error
        assert "full" in error
        assert bridge.proc is not None
        assert bridge.proc.alive()
        assert bridge.status()["outbox"]["pending"] == 0

        filler.unlink()
        after = bridge.press("pantry", "double")
        assert after.status_code == 202
        bridge.wait_drained(delivered=2)
        wait_until(lambda: len(target.first_arrivals()) == 2, what="the press after the space")
        arrivals = target.first_arrivals()
        assert [b["event_id"] for b in arrivals] == [
            before.json()["event_id"],
            after.json()["event_id"],
        ]
        assert "not stored" in bridge.log()
    finally:
        bridge.stop()
        target.close()
