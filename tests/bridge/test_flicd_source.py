"""The real pyflic client inside FlicdSource, against the simulated flicd."""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bridge.config import ButtonSpec
from bridge.core.supervisor import Supervisor
from bridge.models import ButtonSeen, ClickType, RawClick, SourceEvent
from bridge.sources.flicd.source import (
    CLICK_OR_HOLD,
    SINGLE_OR_DOUBLE_OR_HOLD,
    UP_OR_DOWN,
    FlicdSource,
    listen_plan,
)
from tests.support.flicd_sim import (
    EVT_SINGLE_OR_DOUBLE_OR_HOLD,
    FlicdSim,
    every_byte,
    packet,
    press_packets,
    split_at,
)

FRONT = "80:e4:da:71:23:45"
BACK = "80:e4:da:71:23:46"
C = ClickType
NOW = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)


def spec(address: str, on: set[ClickType], off: set[ClickType], name: str = "b") -> ButtonSpec:
    return ButtonSpec(address, name, frozenset(on), frozenset(off), "")


DEFAULT = spec(FRONT, {C.SINGLE, C.HOLD}, {C.DOUBLE}, "front-desk")


class Collector:
    """Runs a source under a supervisor and keeps what it yields."""

    def __init__(self, source: FlicdSource) -> None:
        self.events: list[SourceEvent] = []
        self.supervisor = Supervisor(source, self._keep, clock=lambda: NOW, rand=lambda: 0.0)

    async def _keep(self, event: SourceEvent) -> None:
        self.events.append(event)

    def clicks(self) -> list[tuple[str, ClickType]]:
        return [(e.address, e.click_type) for e in self.events if isinstance(e, RawClick)]

    def raw_clicks(self) -> list[RawClick]:
        return [e for e in self.events if isinstance(e, RawClick)]


async def until(check: Any, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def running(
    sim: FlicdSim, buttons: list[ButtonSpec], clock: Any = lambda: NOW
) -> AsyncIterator[Collector]:
    collector = Collector(FlicdSource("127.0.0.1", sim.port, buttons, clock=clock))
    task = asyncio.create_task(collector.supervisor.run())
    try:
        await until(lambda: collector.supervisor.state == "up")
        await until(lambda: all(sim.has_channel(b.address) for b in buttons))
        yield collector
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.fixture
async def sim() -> AsyncIterator[FlicdSim]:
    flicd = FlicdSim(verified=[FRONT, BACK])
    await flicd.start()
    yield flicd
    await flicd.stop()


def test_listen_plan_takes_each_wanted_type_from_exactly_one_class() -> None:
    assert listen_plan(frozenset({C.SINGLE, C.HOLD, C.DOUBLE})) == {
        SINGLE_OR_DOUBLE_OR_HOLD: {C.SINGLE, C.DOUBLE, C.HOLD}
    }
    assert listen_plan(frozenset({C.CLICK, C.HOLD})) == {CLICK_OR_HOLD: {C.CLICK, C.HOLD}}
    assert listen_plan(frozenset({C.SINGLE, C.CLICK, C.DOWN})) == {
        UP_OR_DOWN: {C.DOWN},
        SINGLE_OR_DOUBLE_OR_HOLD: {C.SINGLE},
        CLICK_OR_HOLD: {C.CLICK},
    }


async def test_one_press_is_one_click_even_one_byte_per_read(sim: FlicdSim) -> None:
    sim.chunker = every_byte
    async with running(sim, [DEFAULT]) as got:
        for kind in ("single", "double", "hold"):
            await sim.press(FRONT, kind)
        await until(lambda: len(got.clicks()) >= 3)
        await sim.press(FRONT, "single")  # a marker: nothing else arrived before it
        await until(lambda: len(got.clicks()) >= 4)
    assert got.clicks() == [
        (FRONT, C.SINGLE),
        (FRONT, C.DOUBLE),
        (FRONT, C.HOLD),
        (FRONT, C.SINGLE),
    ]


async def test_a_packet_stream_split_at_every_byte_boundary_loses_nothing(sim: FlicdSim) -> None:
    size = len(b"".join(press_packets("double", 0, queued=False, age_s=0)))
    async with running(sim, [DEFAULT]) as got:
        for offset in range(1, size):
            sim.chunker = split_at(offset)
            await sim.press(FRONT, "double")
        await until(lambda: len(got.clicks()) >= size - 1)
        sim.chunker = every_byte
        await sim.press(FRONT, "hold")
        await until(lambda: len(got.clicks()) >= size)
    assert got.clicks() == [(FRONT, C.DOUBLE)] * (size - 1) + [(FRONT, C.HOLD)]


async def test_click_types_come_from_the_classes_the_mapping_needs(sim: FlicdSim) -> None:
    fast = spec(FRONT, {C.CLICK}, {C.HOLD})
    edges = spec(BACK, {C.DOWN}, {C.UP})
    async with running(sim, [fast, edges]) as got:
        await sim.press(FRONT, "single")
        await sim.press(FRONT, "hold")
        await sim.press(BACK, "single")
        await sim.press(FRONT, "single")
        await until(lambda: len(got.clicks()) >= 5)
    assert got.clicks() == [
        (FRONT, C.CLICK),
        (FRONT, C.HOLD),
        (BACK, C.DOWN),
        (BACK, C.UP),
        (FRONT, C.CLICK),
    ]


async def test_a_queued_press_arrives_marked_with_its_real_age(sim: FlicdSim) -> None:
    async with running(sim, [DEFAULT]) as got:
        await sim.press(FRONT, "single", queued_s=125)
        await until(lambda: got.clicks())
    (queued,) = got.raw_clicks()
    assert queued.queued is True
    assert queued.queued_s == 125
    assert queued.pressed_at == NOW - timedelta(seconds=125)


async def test_battery_and_connection_news_reach_the_bridge(sim: FlicdSim) -> None:
    async with running(sim, [DEFAULT]) as got:
        await sim.set_battery(FRONT, 77)
        await until(lambda: any(isinstance(e, ButtonSeen) and e.battery == 77 for e in got.events))
    assert any(isinstance(e, ButtonSeen) and e.connected for e in got.events)


async def test_an_event_for_an_unknown_channel_does_not_kill_the_client(sim: FlicdSim) -> None:
    async with running(sim, [DEFAULT]) as got:
        bogus = packet(EVT_SINGLE_OR_DOUBLE_OR_HOLD, struct.pack("<IBBI", 999_999, 3, 0, 0))
        await sim.send_raw(
            bogus + b"".join(press_packets("single", 999_998, queued=False, age_s=0))
        )
        await sim.press(FRONT, "double")
        await until(lambda: got.clicks())
    assert got.clicks() == [(FRONT, C.DOUBLE)]


async def test_a_verified_but_unconfigured_button_is_watched_with_the_default_mapping(
    sim: FlicdSim,
) -> None:
    async with running(sim, [DEFAULT]) as got:
        await until(lambda: sim.has_channel(BACK))
        await sim.press(BACK, "double")
        await until(lambda: got.clicks())
    assert got.clicks() == [(BACK, C.DOUBLE)]


async def test_flicd_restart_reconnects_and_recreates_every_channel(sim: FlicdSim) -> None:
    async with running(sim, [DEFAULT, spec(BACK, {C.SINGLE}, {C.DOUBLE})]) as got:
        await sim.stop()
        await until(lambda: got.supervisor.state == "down")
        await sim.start(sim.port)
        await until(lambda: got.supervisor.state == "up")
        await until(lambda: sim.has_channel(FRONT) and sim.has_channel(BACK))
        await sim.press(FRONT, "single")
        await sim.press(BACK, "double")
        await until(lambda: len(got.clicks()) >= 2)
    assert got.clicks() == [(FRONT, C.SINGLE), (BACK, C.DOUBLE)]
    assert got.supervisor.failures == 0


def test_pyflic_asyncio_client_is_broken_as_shipped() -> None:
    """Why FlicdSource runs the threaded client: the asyncio one cannot even be built."""
    import pyflic.asyncio as aio

    with pytest.raises(NameError, match="queue"):
        aio.FlicClient("127.0.0.1", 1)


async def test_a_detached_bluetooth_adapter_shows_on_the_source_state(sim: FlicdSim) -> None:
    async with running(sim, [DEFAULT]) as got:
        await sim.set_controller(0)  # Detached
        await until(lambda: got.supervisor.state == "no-bluetooth")
        assert "detached" in got.supervisor.detail
        await sim.set_controller(2)  # Attached
        await until(lambda: got.supervisor.state == "up")
        await sim.press(FRONT, "single")
        await until(lambda: got.clicks())
    assert got.clicks() == [(FRONT, C.SINGLE)]
