"""Fuzzing the inbound endpoint and the admin API: no input ever yields a 500."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.server.conftest import InProcess, RunningServer, add_integration, in_process

ALLOWED = {202, 400, 404, 413, 422, 429}
header_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=300)
bodies = (
    st.binary(max_size=2000)
    | st.text(max_size=2000).map(str.encode)
    | st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=30),
        lambda inner: (
            st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
        ),
        max_leaves=30,
    ).map(lambda v: httpx.Request("POST", "http://x", json=v).read())
    | st.builds(
        lambda name, state, tail: f'"flic_nameId": {name}, "flic_state": {state},{tail}'.encode(),
        st.sampled_from(['"a"', '"b"', "a", '"', "", '"\\u0000"', "[1,"]),
        st.sampled_from(['"On"', '"Off"', "On", '""', "1e999", "null", '"On']),
        st.text(max_size=20),
    )
)
content_types = (
    st.sampled_from(
        [
            "",
            "application/json",
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/json; charset=latin-1",
        ]
    )
    | header_text
)


@contextlib.contextmanager
def running_app(data_dir: Path) -> Iterator[tuple[asyncio.AbstractEventLoop, InProcess]]:
    loop = asyncio.new_event_loop()
    stack = contextlib.AsyncExitStack()
    env = {"ALERT_SERVER_SERVER_INBOUND_BURST": "100000"}
    try:
        app = loop.run_until_complete(stack.enter_async_context(in_process(data_dir, env)))
        yield loop, app
    finally:
        loop.run_until_complete(stack.aclose())
        loop.close()


def test_the_inbound_endpoint_never_answers_500(tmp_path: Path) -> None:
    with running_app(tmp_path) as (loop, app):
        token = loop.run_until_complete(app.add("fuzz"))["token"]

        @settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(
            body=bodies,
            ctype=content_types,
            key=st.none() | header_text,
            path_token=st.sampled_from([token, token[:-1], "x"])
            | header_text.filter(
                # "." and ".." are dot segments: the client sends `/inbound/` instead
                lambda t: t not in ("", ".", "..") and not set(t) & set("/?#")
            ),
        )
        def check(body: bytes, ctype: str, key: str | None, path_token: str) -> None:
            headers = {"Content-Type": ctype}
            if key is not None:
                headers["Idempotency-Key"] = key
            answer = loop.run_until_complete(
                app.client.post(f"/inbound/{path_token}", content=body, headers=headers)
            )
            assert answer.status_code in ALLOWED, (answer.status_code, answer.text)
            if answer.status_code in (202, 422):
                assert answer.json()["status"] in {
                    "mapped",
                    "mapped_appended",
                    "mapped_ignored",
                    "mapping_failed",
                }

        check()
        health = loop.run_until_complete(app.client.get("/healthz"))
        assert health.json() == {"status": "ok"}


def test_the_admin_api_never_answers_500(tmp_path: Path) -> None:
    with running_app(tmp_path) as (loop, app):
        created = loop.run_until_complete(app.add("fuzz"))

        @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(
            method=st.sampled_from(["POST", "PATCH", "GET", "DELETE"]),
            path=st.sampled_from(
                [
                    "/api/v1/integrations",
                    f"/api/v1/integrations/{created['id']}",
                    f"/api/v1/integrations/{created['id']}/test",
                    "/api/v1/integrations/x",
                    "/api/v1/alerts/1/acknowledge",
                    "/api/v1/inbound/zzz",
                    "/api/v1/alerts?status=x",
                ]
            ),
            body=st.recursive(
                st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                lambda inner: (
                    st.lists(inner, max_size=3)
                    | st.dictionaries(
                        st.sampled_from(
                            [
                                "name",
                                "kind",
                                "mapping",
                                "payload",
                                "dry_run",
                                "maintenance_until",
                                "source_name",
                                "field",
                                "x",
                            ]
                        ),
                        inner,
                        max_size=4,
                    )
                ),
                max_leaves=15,
            ),
        )
        def check(method: str, path: str, body: Any) -> None:
            answer = loop.run_until_complete(
                app.client.request(method, path, json=body, headers=app.admin_headers)
            )
            assert answer.status_code < 500, (method, path, body, answer.text)

        check()


def test_the_real_server_stays_healthy_after_garbage(server: RunningServer) -> None:
    path = add_integration(server.data_dir, "desk")["inbound_path"]
    junk = [
        b"\x00\xff garbage\r\n\r\n",
        b"POST /inbound/x HTTP/1.1\r\nContent-Length: 99999999999999\r\n\r\nabc",
        b"POST "
        + path.encode()
        + b" HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n",
        b"POST " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nshort",
    ]
    for payload in junk:
        with (
            socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock,
            contextlib.suppress(OSError),
        ):
            sock.sendall(payload)
            sock.shutdown(socket.SHUT_WR)
            while sock.recv(65536):
                pass
    for body in (b"\xff\xfe", b"{" * 5000, b"[" * 100000, b'"flic_nameId": "desk",'):
        assert server.post(path, body).status_code in ALLOWED
    assert httpx.get(server.url + "/healthz").json() == {"status": "ok"}
    good = server.post(path, '"flic_nameId": "desk", "flic_state": "On",')
    assert good.json()["action"] == "open"
    assert "Traceback" not in server.log()
