"""Fixtures for the two-server tests: a fresh PostgreSQL database, a real SMTP server, nodes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.programs import CLEAN_ENV
from tests.e2e.test_failover_servers import write_bridge
from tests.escalation.receivers import Mailbox, smtp_server
from tests.support.cluster import Cluster
from tests.support.postgres import Postgres
from tests.support.procs import Proc, free_port, start_bridge

MakeCluster = Callable[..., Cluster]
StartBridge = Callable[[list[str]], str]


def bridge_status(url: str) -> dict[str, Any]:
    """The bridge's /api/status document."""
    result: dict[str, Any] = httpx.get(url + "/api/status", timeout=5.0).json()
    return result


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    with smtp_server() as found:
        yield found


@pytest.fixture
def make_cluster(tmp_path: Path, postgres: Postgres) -> Iterator[MakeCluster]:
    """`make_cluster(**options)`: nodes on this test's empty database (or `database_url`),
    stopped at the end."""
    made: list[Cluster] = []

    def make(**options: Any) -> Cluster:
        url = options.pop("database_url", postgres.url)
        cluster = Cluster(tmp_path / f"cluster{len(made)}", url, **options)
        made.append(cluster)
        return cluster

    yield make
    for cluster in made:
        cluster.stop()


@pytest.fixture
def pair(make_cluster: MakeCluster) -> Cluster:
    """Two nodes on one database, both answering."""
    return make_cluster().start()


@pytest.fixture
def bridge_over(tmp_path: Path) -> Iterator[StartBridge]:
    """`bridge_over(urls)`: a flic-bridge forwarding to `urls` in that order; its URL.
    Stopped at the end."""
    procs: list[Proc] = []

    def start(urls: list[str]) -> str:
        port = free_port()
        bridge_url = f"http://127.0.0.1:{port}"
        config = write_bridge(tmp_path / "bridge", port, urls)
        procs.append(start_bridge(config, tmp_path / "bridge", bridge_url, CLEAN_ENV))
        return bridge_url

    yield start
    for proc in procs:
        proc.stop()
