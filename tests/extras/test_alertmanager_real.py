"""A real Prometheus Alertmanager posts its webhook to the real alert server.

One Alertmanager receiver has two webhooks: an `alertmanager` integration (each alert its own,
keyed by fingerprint) and a `generic` one mapped with `alerts^0^...` paths. Alerts are posted
to Alertmanager's API v2; re-posting one with `endsAt` = now resolves it.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.conftest import RunningServer
from tests.support.procs import Proc, free_port, wait_http_ok, wait_until

ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")

GENERIC_MAPPING = {
    "source_name": {"field": "alerts^0^labels^instance"},
    "status": {"field": "alerts^0^status"},
    "open_when": {"equals": "firing"},
    "close_when": {"equals": "resolved"},
    "title": "{{ alerts[0].labels.alertname }} on {{ alerts[0].labels.instance }}",
    "filters": [],
}


def alertmanager_config(am_path: str, generic_path: str, server_url: str) -> str:
    """Every label set its own group (`...`), short waits so tests stay quick."""
    return f"""
route:
  receiver: flic-edge
  group_by: ['...']
  group_wait: 200ms
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: flic-edge
    webhook_configs:
      - url: {server_url}{am_path}
        send_resolved: true
      - url: {server_url}{generic_path}
        send_resolved: true
"""


@pytest.fixture
def alert_server(tmp_path: Path) -> Iterator[RunningServer]:
    import os

    srv = RunningServer(
        data_dir=tmp_path / "server",
        log_path=tmp_path / "server.log",
        env={k: "" for k in os.environ if k.startswith("ALERT_SERVER_")},
    )
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def start_alertmanager(tmp_path: Path, config: str) -> tuple[Proc, str]:
    if ALERTMANAGER is None:
        pytest.fail("prometheus-alertmanager is not installed (scripts/test-deps.sh installs it)")
    (tmp_path / "alertmanager.yml").write_text(config)
    port = free_port()
    proc = Proc(
        [
            ALERTMANAGER,
            f"--config.file={tmp_path / 'alertmanager.yml'}",
            f"--storage.path={tmp_path / 'am-data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        log_path=tmp_path / "alertmanager.log",
    )
    url = f"http://127.0.0.1:{port}"
    wait_http_ok(url + "/-/ready", proc=proc)
    return proc, url


def am_alert(instance: str, ends_in_s: float) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "labels": {"alertname": "DiskFull", "instance": instance, "severity": "critical"},
        "annotations": {"summary": f"Disk full on {instance}"},
        "startsAt": (now - timedelta(seconds=5)).isoformat(),
        "endsAt": (now + timedelta(seconds=ends_in_s)).isoformat(),
    }


def test_real_alertmanager_opens_and_resolves_through_both_mappings(
    tmp_path: Path, alert_server: RunningServer
) -> None:
    with alert_server.admin() as admin:
        am = admin.post("/api/v1/integrations", json={"name": "am", "kind": "alertmanager"})
        generic = admin.post(
            "/api/v1/integrations",
            json={"name": "am-generic", "kind": "generic", "mapping": GENERIC_MAPPING},
        )
    assert am.status_code == 201, am.text
    assert generic.status_code == 201, generic.text
    am_id, generic_id = am.json()["id"], generic.json()["id"]
    config = alertmanager_config(
        am.json()["inbound_path"], generic.json()["inbound_path"], alert_server.url
    )
    proc, am_url = start_alertmanager(tmp_path, config)

    def alerts(integration_id: int) -> dict[str, str]:
        with alert_server.admin() as admin:
            items = admin.get("/api/v1/alerts", params={"integration_id": integration_id})
        return {a["title"]: a["status"] for a in items.json()["items"]}

    def settle(integration_id: int, wanted: dict[str, str]) -> dict[str, str]:
        found: dict[str, str] = wait_until(
            lambda: alerts(integration_id) if alerts(integration_id) == wanted else None,
            timeout=30,
            what=f"alerts {wanted} on integration {integration_id}",
        )
        return found

    try:
        posted = httpx.post(
            am_url + "/api/v2/alerts", json=[am_alert("db1", 3600), am_alert("db2", 3600)]
        )
        assert posted.status_code == 200, posted.text
        settle(
            am_id,
            {"DiskFull: Disk full on db1": "open", "DiskFull: Disk full on db2": "open"},
        )
        settle(generic_id, {"DiskFull on db1": "open", "DiskFull on db2": "open"})

        # endsAt now: db1 is resolved (Alertmanager keeps the later of two future endsAt
        # values, so a re-post can only shorten an alert with an endsAt already reached).
        httpx.post(am_url + "/api/v2/alerts", json=[am_alert("db1", 0)])
        settle(
            am_id,
            {"DiskFull: Disk full on db1": "closed", "DiskFull: Disk full on db2": "open"},
        )
        settle(generic_id, {"DiskFull on db1": "closed", "DiskFull on db2": "open"})
    finally:
        proc.stop()

    with alert_server.admin() as admin:
        log = admin.get("/api/v1/inbound", params={"integration_id": am_id}).json()["items"]
    assert {m["status"] for m in log} <= {"mapped", "mapped_appended"}
    assert sum(1 for m in log if m["action"] == "close") == 1
