"""`python -m tests.ops.wedge_bridge ARGS`: the real `flic-bridge`, whose MQTT link supervisor
hangs for good in its next back-off (the event loop stays free) once $WEDGE_FILE exists."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from bridge.cli import main
from bridge.mqtt.link import MqttLink

_real_sleep = MqttLink._sleep_beating


async def _sleep(self: MqttLink, delay_s: float) -> None:
    if Path(os.environ["WEDGE_FILE"]).exists():
        await asyncio.Event().wait()  # stuck in the supervisor, as a hung await would be
    await _real_sleep(self, delay_s)


if __name__ == "__main__":
    MqttLink._sleep_beating = _sleep  # type: ignore[method-assign]
    sys.exit(main())
