"""A process that holds an MQTT sink open until killed (for last-will tests)."""

from __future__ import annotations

import asyncio
import sys

from bridge.mqtt.link import BrokerSettings
from bridge.sinks.mqtt import MqttSink


async def main(host: str, port: int, bridge: str) -> None:
    sink = MqttSink(BrokerSettings(host=host, port=port), bridge_name=bridge)
    await sink.start()
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3]))
