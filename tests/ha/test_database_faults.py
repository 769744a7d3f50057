"""PostgreSQL wrong, unreachable or gone: refused at start, 503 while away, no press lost."""

from __future__ import annotations

import subprocess

from tests.e2e.test_failover_servers import BUTTONS, press
from tests.ha.conftest import MakeCluster, StartBridge, bridge_status
from tests.support.postgres import PASSWORD, Postgres
from tests.support.procs import free_port, wait_until

WRONG = "not-the-password-7731"


def test_a_bad_database_url_stops_the_start_naming_host_and_reason(
    make_cluster: MakeCluster, postgres: Postgres
) -> None:
    here = f"127.0.0.1:{postgres.port}"
    nowhere = f"127.0.0.1:{free_port()}"
    cases = {  # URL -> (the host the message must name, the reason it must give)
        postgres.url.replace(PASSWORD, WRONG): (here, "password authentication failed"),
        postgres.url.rsplit("/", 1)[0] + "/no_such_db": (
            here,
            'database "no_such_db" does not exist',
        ),
        postgres.url.replace(here, nowhere): (nowhere, "Connection refused"),
    }
    nodes = [make_cluster(database_url=url, count=1).a.launch() for url in cases]
    for node, (host, reason) in zip(nodes, cases.values(), strict=True):
        assert node.proc is not None
        try:
            code = node.proc.popen.wait(60)  # it must stop by itself
        except subprocess.TimeoutExpired:
            node.kill()
            raise AssertionError(f"still running on a bad URL:\n{node.log()}") from None
        node.proc.stop()
        out = node.log()
        assert code != 0, out
        assert host in out, out
        assert reason in out, out
        assert PASSWORD not in out, out
        assert WRONG not in out, out
        assert "Traceback" not in out, out


def test_while_postgres_is_away_posts_get_503_and_every_press_arrives_once_after(
    make_cluster: MakeCluster, postgres: Postgres, bridge_over: StartBridge
) -> None:
    cluster = make_cluster().start()
    a, b = cluster.a, cluster.b
    inbound = a.integration("wards")
    bridge_url = bridge_over([a.url + inbound, b.url + inbound])
    pressed = press(bridge_url, 0)
    wait_until(
        lambda: bridge_status(bridge_url)["outbox"]["pending"] == 0, what="round 0 delivered"
    )

    postgres.stop()
    try:
        for node in cluster.nodes:
            answer = node.press(inbound, "ward-1", "On")
            assert answer.status_code == 503, answer.text
            assert int(answer.headers["Retry-After"]) >= 1
        for n in range(1, 4):  # the bridge takes them, keeps them, and retries
            pressed += press(bridge_url, n)
        kept = wait_until(
            lambda: (
                (st := bridge_status(bridge_url))["outbox"]["pending"] == 9
                and "HTTP 503" in (st["targets"][0]["last_error"] or "")
                and st
            ),
            timeout=30,
            what="the presses kept in the bridge, told 503 (not left waiting)",
        )
        assert kept["outbox"]["dead"] == 0
    finally:
        postgres.start()

    wait_until(
        lambda: bridge_status(bridge_url)["outbox"]["pending"] == 0,
        timeout=90,
        what="every kept press delivered after PostgreSQL came back",
    )
    # Both servers came back by themselves; each press is in the shared log once.
    for node in cluster.nodes:
        assert node.press(inbound, "ward-9", "On").status_code == 202
    logged = a.bridge_presses()
    assert sorted(logged) == sorted(pressed)  # none lost, none twice
    assert len(pressed) == 4 * len(BUTTONS)
    alerts = {x["source_name"]: x for x in b.alerts("open")}
    for name in BUTTONS.values():
        assert alerts[name]["append_count"] == 3, alerts[name]
