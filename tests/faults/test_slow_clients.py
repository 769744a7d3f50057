"""Slow clients: hundreds trickling headers starve neither program, and deadlines cut them off."""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.e2e.programs import CLEAN_ENV
from tests.support.procs import (
    Proc,
    free_port,
    python_module,
    start_bridge,
    wait_http_ok,
    wait_until,
)

pytestmark = pytest.mark.faults

SLOW_CLIENTS = 300
DEADLINE_S = 2  # the test's header/body deadlines; the defaults are 10 s and 30 s
WAIT_S = 30.0  # how long a socket read waits here before the test calls it "never closed"


def connect(port: int, first: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=WAIT_S)
    sock.sendall(first)
    return sock


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes (socket.timeout if it never does)."""
    got = b""
    while chunk := sock.recv(4096):
        got += chunk
    return got


@contextmanager
def trickling(port: int, count: int) -> Iterator[list[socket.socket]]:
    """`count` clients that send a header line byte by byte and never finish."""
    socks = [connect(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n") for _ in range(count)]
    stop = threading.Event()

    def drip() -> None:
        while not stop.wait(0.2):
            # A socket the server already answered is left alone: a byte sent after its close
            # would be answered with a reset, which can drop the 408 before the test reads it.
            poll = select.poll()
            for sock in socks:
                poll.register(sock, select.POLLIN)
            answered = {fd for fd, _ in poll.poll(0)}
            for sock in socks:
                if sock.fileno() in answered:
                    continue
                try:
                    sock.send(b"x")
                except OSError:
                    pass  # the server hung up on this one

    dripper = threading.Thread(target=drip, daemon=True)
    dripper.start()
    try:
        yield socks
    finally:
        stop.set()
        dripper.join()
        for sock in socks:
            sock.close()


def check_slow_clients(port: int, url: str, post_path: str) -> None:
    with trickling(port, SLOW_CLIENTS) as slow:
        # Every slow client is connected and dripping, and a normal client is served.
        assert httpx.get(url + "/healthz", timeout=10.0).status_code == 200
        silent = connect(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Half")
        body_left = connect(
            port,
            f"POST {post_path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Content-Length: 1000\r\n\r\n{".encode(),
        )
        with contextlib.closing(silent), contextlib.closing(body_left):
            _cut_off(url, slow, silent, body_left)


def _cut_off(
    url: str, slow: list[socket.socket], silent: socket.socket, body_left: socket.socket
) -> None:
    # Past the deadline: the header one is told 408 and closed, the body one closed.
    assert read_until_closed(silent).startswith(b"HTTP/1.1 408 ")
    assert b" 200 " not in read_until_closed(body_left)
    cut = [read_until_closed(sock) for sock in slow]  # trickling does not keep one alive
    assert {answer[:13] for answer in cut} == {b"HTTP/1.1 408 "}
    assert httpx.get(url + "/healthz", timeout=10.0).status_code == 200


def test_the_alert_server_cuts_off_slow_clients_and_serves_the_others(tmp_path: Path) -> None:
    port = free_port()
    deadlines = {
        "ALERT_SERVER_SERVER_HEADER_TIMEOUT_S": str(DEADLINE_S),
        "ALERT_SERVER_SERVER_BODY_TIMEOUT_S": str(DEADLINE_S),
    }
    proc = Proc(
        python_module("server", "run", "--data-dir", str(tmp_path / "data"), "--port", str(port)),
        log_path=tmp_path / "server.log",
        env={**CLEAN_ENV, **deadlines},
    )
    try:
        wait_http_ok(f"http://127.0.0.1:{port}/healthz", proc=proc)
        check_slow_clients(port, f"http://127.0.0.1:{port}", "/inbound/no-such-token")
        wait_until(
            lambda: "request headers not in within 2 s" in (tmp_path / "server.log").read_text(),
            what="the server's log line naming the cut-off client",
        )
    finally:
        proc.stop()


def test_the_bridge_cuts_off_slow_clients_and_serves_the_others(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "bridge.toml"
    config.write_text(
        "\n".join(
            [
                "[bridge]",
                f'state_dir = "{tmp_path / "state"}"',
                f'listen = "127.0.0.1:{port}"',
                'token = "slow-clients-bridge-token"',
                "[flicd]",
                "enabled = false",
                "[limits]",
                f"header_timeout_s = {DEADLINE_S}",
                f"body_timeout_s = {DEADLINE_S}",
            ]
        )
        + "\n"
    )
    proc = start_bridge(config, tmp_path, f"http://127.0.0.1:{port}", CLEAN_ENV)
    try:
        check_slow_clients(port, f"http://127.0.0.1:{port}", "/hub/events")
    finally:
        proc.stop()


def test_beyond_the_connection_cap_a_request_is_answered_503_not_left_waiting(
    tmp_path: Path,
) -> None:
    port = free_port()
    proc = Proc(
        python_module("server", "run", "--data-dir", str(tmp_path / "data"), "--port", str(port)),
        log_path=tmp_path / "server.log",
        env={**CLEAN_ENV, "ALERT_SERVER_SERVER_MAX_CONNECTIONS": "20"},
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_http_ok(url + "/healthz", proc=proc)
        with trickling(port, 20):
            # Once the server has taken all 20 (it accepts them a moment after they connect).
            wait_until(lambda: httpx.get(url + "/healthz", timeout=10.0).status_code == 503)
        # The trickling clients gone, the server answers again.
        wait_until(lambda: httpx.get(url + "/healthz", timeout=10.0).status_code == 200)
    finally:
        proc.stop()
