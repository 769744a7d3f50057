"""A bridge over two servers on one database: the first SIGKILLed mid-burst, each press once.

Nothing is frozen: the kill may land while a press is in flight. The bridge then sends it to
the second server with the same `Idempotency-Key`, and the shared database stores it once.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

from tests.e2e.test_failover_servers import BUTTONS, press
from tests.ha.conftest import StartBridge, bridge_status
from tests.support.cluster import Cluster
from tests.support.procs import wait_until

ROUNDS = 24


def test_a_kill_mid_burst_leaves_every_press_in_the_shared_log_exactly_once(
    pair: Cluster, bridge_over: StartBridge
) -> None:
    a, b = pair.a, pair.b
    inbound = a.integration("wards")
    bridge_url = bridge_over([a.url + inbound, b.url + inbound])
    with ThreadPoolExecutor(1) as presser:  # the burst goes on while the kill lands
        burst = presser.submit(lambda: [p for n in range(ROUNDS) for p in press(bridge_url, n)])
        wait_until(lambda: len(b.inbound()) >= ROUNDS, timeout=60, what="the first third delivered")
        a.kill()
        pressed = burst.result()
    wait_until(
        lambda: bridge_status(bridge_url)["outbox"]["pending"] == 0,
        timeout=90,
        what="every press delivered",
    )

    took = [len(re.findall(r"server\.inbound: inbound message", n.log())) for n in (a, b)]
    assert took[0] >= ROUNDS, took  # the first server took the start of the burst
    assert took[1] > 0, took  # and the second the rest
    (target,) = bridge_status(bridge_url)["targets"]
    assert (target["delivered"], target["dead"]) == (len(pressed), 0)
    assert target["url"] == b.url + inbound
    logged = b.bridge_presses()
    assert len(pressed) == ROUNDS * len(BUTTONS)
    assert sorted(logged) == sorted(pressed)  # none lost, none stored twice
    for name in BUTTONS.values():  # each button's presses in the order pressed
        assert [e for btn, e in logged if btn == name] == [e for btn, e in pressed if btn == name]
    alerts = {x["source_name"]: x for x in b.alerts("open")}
    assert sorted(alerts) == sorted(BUTTONS.values())
    assert all(x["append_count"] == ROUNDS - 1 for x in alerts.values()), alerts
