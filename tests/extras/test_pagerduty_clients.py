"""PagerDuty's official Python clients against the real `alert-server run` serving TLS itself.

`pagerduty` (httpx2) and the older `pdpyras` (requests) both insist on an https:// base URL;
each is pointed at the server with our test CA as its trust store, as the README says.
"""

from __future__ import annotations

import contextlib
import json
import os
import ssl
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx
import pagerduty
import pytest

from tests.extras.tls_certs import TlsFiles, make_tls_files
from tests.server.conftest import CLEAN_ENV
from tests.support.procs import Proc, free_port, python_module, wait_until

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", 'The package "pdpyras" is deprecated', UserWarning)
    import pdpyras


@dataclass
class TlsServer:
    """`alert-server run --tls-cert C --tls-key K` and an admin client that trusts its CA."""

    url: str
    config: Path
    data_dir: Path
    tls: TlsFiles
    proc: Proc

    def trust(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.tls.ca))

    def admin_get(self, path: str, **params: Any) -> Any:
        token = (self.data_dir / "admin-token").read_text().strip()
        answer = httpx.get(
            self.url + path,
            params=params,
            headers={"Authorization": f"Bearer {token}"},
            verify=self.trust(),
            timeout=10.0,
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    def add_pagerduty(self, name: str) -> dict[str, Any]:
        return add_integration(self.config, name, "--kind", "pagerduty")

    def inbound_log(self, integration_id: int) -> list[dict[str, Any]]:
        """Oldest first."""
        items = self.admin_get("/api/v1/inbound", integration_id=integration_id)["items"]
        return list(reversed(items))

    def alert(self, alert_id: int) -> dict[str, Any]:
        found: dict[str, Any] = self.admin_get(f"/api/v1/alerts/{alert_id}")
        return found


def run_cli(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    out = subprocess.run(
        [sys.executable, "-m", "server", *args],
        capture_output=True,
        text=True,
        check=False,
        env=CLEAN_ENV,
        timeout=60,
    )
    if check:
        assert out.returncode == 0, out.stderr
    return out


def add_integration(config: Path, name: str, *extra: str) -> dict[str, Any]:
    out = run_cli("integration", "add", "--name", name, "--json", "--config", str(config), *extra)
    found: dict[str, Any] = json.loads(out.stdout)
    return found


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsServer]:
    """Run from a config file, so `integration add --config` knows the real URL too."""
    root = tmp_path_factory.mktemp("pd-tls")
    tls = make_tls_files(root / "tls")
    port = free_port()
    data_dir = root / "data"
    config = root / "server.toml"
    config.write_text(
        f"[server]\nport = {port}\ndata_dir = {json.dumps(str(data_dir))}\n"
        f"tls_cert = {json.dumps(str(tls.cert))}\ntls_key = {json.dumps(str(tls.key))}\n"
    )
    proc = Proc(
        python_module("server", "run", "--config", str(config)),
        log_path=root / "server.log",
        env={k: "" for k in os.environ if k.startswith("ALERT_SERVER_")},
    )
    server = TlsServer(f"https://127.0.0.1:{port}", config, data_dir, tls, proc)

    def ready() -> bool:
        if not proc.alive():
            raise AssertionError(f"the server exited early:\n{proc.log()}")
        with httpx.Client(verify=server.trust(), timeout=1.0) as client:
            return client.get(server.url + "/healthz").is_success

    try:
        wait_until(ready, what="the TLS server's /healthz")
        yield server
    finally:
        proc.stop()


class EventsClient(Protocol):
    def close(self) -> None: ...
    def trigger(self, summary: str, source: str, dedup_key: str | None = None) -> str: ...
    def acknowledge(self, dedup_key: str) -> str: ...
    def resolve(self, dedup_key: str) -> str: ...


def official(server: TlsServer, routing_key: str) -> pagerduty.EventsApiV2Client:
    """`pagerduty.EventsApiV2Client` (httpx2): base_url plus httpx's `verify=`."""
    return pagerduty.EventsApiV2Client(routing_key, base_url=server.url, verify=server.trust())


def legacy(server: TlsServer, routing_key: str) -> EventsClient:
    """`pdpyras.EventsAPISession` (requests): its `url`; the CA through REQUESTS_CA_BUNDLE.

    requests lets REQUESTS_CA_BUNDLE (set on this machine, as on many) win over a session's
    `verify`, so the README says to point that variable at the CA; `trusting_our_ca` does.
    """
    session = pdpyras.EventsAPISession(routing_key)
    session.url = server.url
    client: EventsClient = session
    return client


CLIENTS: dict[str, Callable[[TlsServer, str], EventsClient]] = {
    "pagerduty": official,
    "pdpyras": legacy,
}


@pytest.fixture
def closing() -> Iterator[contextlib.ExitStack]:
    """Clients made in a test are closed at its end (an open socket is a warning: an error)."""
    with contextlib.ExitStack() as stack:
        yield stack


@pytest.fixture(autouse=True)
def trusting_our_ca(tls_server: TlsServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """requests (pdpyras) trusts the test CA, as the README tells its users to do."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls_server.tls.ca))


@pytest.mark.parametrize("client_name", sorted(CLIENTS))
def test_trigger_acknowledge_resolve_through_the_official_client(
    tls_server: TlsServer, closing: contextlib.ExitStack, client_name: str
) -> None:
    pd = tls_server.add_pagerduty(f"pd-{client_name}")
    # The URL the server really answers on (its port, https): before, the default port and http.
    assert pd["inbound_url"] == tls_server.url + pd["inbound_path"]
    client = CLIENTS[client_name](tls_server, pd["token"])
    closing.callback(client.close)

    key = client.trigger("disk full on db1", "db1", dedup_key=f"db1-disk-{client_name}")
    assert key == f"db1-disk-{client_name}"
    (alert,) = tls_server.admin_get("/api/v1/alerts", integration_id=pd["id"])["items"]
    assert (alert["status"], alert["title"]) == ("open", "disk full on db1")

    assert client.acknowledge(key) == key
    acked = tls_server.alert(alert["id"])
    assert acked["status"] == "acknowledged"
    assert acked["acknowledged_at"] is not None

    assert client.resolve(key) == key
    closed = tls_server.alert(alert["id"])
    assert closed["status"] == "closed"
    assert [entry["kind"] for entry in closed["timeline"]] == ["open", "acknowledge", "close"]
    log = [(m["status"], m["action"], m["alert_id"]) for m in tls_server.inbound_log(pd["id"])]
    assert log == [
        ("mapped", "open", alert["id"]),
        ("mapped", "acknowledge", alert["id"]),
        ("mapped", "close", alert["id"]),
    ]


def test_a_keyless_trigger_gets_a_dedup_key_the_client_can_resolve(
    tls_server: TlsServer, closing: contextlib.ExitStack
) -> None:
    pd = tls_server.add_pagerduty("pd-keyless")
    client = closing.enter_context(official(tls_server, pd["token"]))
    key = client.trigger("printer jammed", "printer-2")
    (alert,) = tls_server.admin_get("/api/v1/alerts", integration_id=pd["id"])["items"]
    assert alert["source_name"] == key
    client.resolve(key)
    assert tls_server.alert(alert["id"])["status"] == "closed"


def test_change_events_note_the_live_alert_or_are_logged(
    tls_server: TlsServer, closing: contextlib.ExitStack
) -> None:
    pd = tls_server.add_pagerduty("pd-change")
    client = closing.enter_context(official(tls_server, pd["token"]))
    # No alert yet: accepted (the client raises on anything but 2xx) and logged as ignored.
    client.send_change_event(payload={"summary": "deployed v41", "source": "ci"})
    ((status, action, alert_id, reason),) = [
        (m["status"], m["action"], m["alert_id"], m["reason"])
        for m in tls_server.inbound_log(pd["id"])
    ]
    assert (status, action, alert_id) == ("mapped_ignored", "ignore", None)
    assert "deployed v41" in reason

    key = client.trigger("error rate up", "api")
    (alert,) = tls_server.admin_get("/api/v1/alerts", integration_id=pd["id"])["items"]
    legacy_session = closing.enter_context(pdpyras.ChangeEventsAPISession(pd["token"]))
    legacy_session.url = tls_server.url
    # `submit` puts routing_key in the body; pdpyras' bare `send_change_event` leaves it out.
    legacy_session.submit("rolled back to v40", "ci", timestamp="2026-12-03T12:00:00Z")

    found = tls_server.alert(alert["id"])
    assert found["status"] == "open"  # a note changes nothing else
    assert found["append_count"] == 0
    notes = [e["detail"] for e in found["timeline"] if e["kind"] == "note"]
    assert notes == ["change: rolled back to v40 (source ci)"]
    last = tls_server.inbound_log(pd["id"])[-1]
    assert (last["status"], last["action"], last["alert_id"]) == (
        "mapped_appended",
        "note",
        alert["id"],
    )
    client.resolve(key)


@pytest.mark.parametrize("path", ["/v2/enqueue/", "/v2/change/enqueue/"])
def test_a_trailing_slash_answers_like_the_path_without(
    tls_server: TlsServer, closing: contextlib.ExitStack, path: str
) -> None:
    pd = tls_server.add_pagerduty(f"pd-slash-{path.count('/')}")
    client = closing.enter_context(official(tls_server, pd["token"]))
    payload = {"summary": "slash", "source": "s", "severity": "info"}
    event: dict[str, Any] = {"event_action": "trigger", "dedup_key": "slash", "payload": payload}
    answer = client.post(path, json=event)  # the client adds routing_key to the body
    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] == "success"
    assert len(tls_server.inbound_log(pd["id"])) == 1


# Each hostile body, and what PagerDuty's error line must name.
HOSTILE: dict[str, tuple[bytes, str]] = {
    "a 5,000-digit integer": (
        b'{"routing_key": "k", "event_action": "trigger", "n": ' + b"9" * 5000 + b"}",
        "integer longer than 4300 digits",
    ),
    "nesting 30,000 deep": (b"[" * 30_000 + b"]" * 30_000, "nested deeper than 64 levels"),
    "nesting 200 deep": (
        b'{"routing_key": "k", "x": ' + b"[" * 200 + b"]" * 200 + b"}",
        "nested deeper than 64 levels",
    ),
    "not JSON": (b"{not json", "Body is not valid JSON"),
    "not UTF-8": (b'{"routing_key": "\xff"}', "not UTF-8"),
}


@pytest.mark.parametrize("what", sorted(HOSTILE))
@pytest.mark.parametrize("path", ["/v2/enqueue", "/v2/change/enqueue", "inbound"])
def test_hostile_bodies_are_400_in_pagerduty_shape(
    tls_server: TlsServer, what: str, path: str
) -> None:
    url = tls_server.url + path
    if path == "inbound":
        pd = tls_server.add_pagerduty(f"pd-hostile-{len(what)}-{what[:5]}")
        url = tls_server.url + pd["inbound_path"]
    body, named = HOSTILE[what]
    answer = httpx.post(url, content=body, verify=tls_server.trust(), timeout=30.0)
    assert answer.status_code == 400, answer.text
    found = answer.json()
    assert found["status"] == "invalid event"
    assert found["message"] == "Event object is invalid"
    assert len(found["errors"]) == 1
    assert named in found["errors"][0]
    assert "Traceback" not in answer.text
    if path == "inbound":  # a known integration: the refused body is in its inbound log
        (logged,) = tls_server.inbound_log(pd["id"])
        assert logged["status"] == "mapping_failed"
        assert found["errors"][0] in logged["reason"]
    assert tls_server.proc.alive()
