"""Fixtures for the two-server tests: a fresh PostgreSQL database, a real SMTP server, nodes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.escalation.receivers import Mailbox, smtp_server
from tests.support.cluster import Cluster
from tests.support.postgres import Postgres

MakeCluster = Callable[..., Cluster]


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
