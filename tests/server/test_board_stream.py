"""`GET /api/v1/stream` and board links against the real `alert-server` subprocess."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.server.conftest import RunningServer, cli
from tests.support.sse import SseReader

ON = '"flic_nameId": "{name}", "flic_state": "On", "info": "Room {name}",'
OFF = '"flic_nameId": "{name}", "flic_state": "Off", "info": "Room {name}",'


def admin_headers(server: RunningServer) -> dict[str, str]:
    return {"Authorization": "Bearer " + (server.data_dir / "admin-token").read_text().strip()}


def press(server: RunningServer, integration: dict[str, Any], name: str, on: bool = True) -> int:
    body = (ON if on else OFF).format(name=name)
    answer = server.post(integration["inbound_path"], body)
    assert answer.status_code == 202, answer.text
    alert_id: int = answer.json()["alert_id"]
    return alert_id


def board_link(server: RunningServer, *extra: str) -> str:
    url = cli("board-link", "--base-url", server.url, *extra, data_dir=server.data_dir).strip()
    assert url.startswith(server.url + "/board/link/"), url
    return url


def board_cookies(server: RunningServer, url: str) -> dict[str, str]:
    """Open a board link like a browser: the link sets a cookie and sends you to /board."""
    answer = httpx.get(url, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/board"
    assert "httponly" in answer.headers["set-cookie"].lower()
    return dict(answer.cookies)


def test_stream_sends_retry_a_snapshot_then_every_change_in_order(
    shared_server: RunningServer,
) -> None:
    integration = shared_server.add("stream-order")
    earlier = press(shared_server, integration, "kitchen")
    reader = SseReader(shared_server.url + "/api/v1/stream", headers=admin_headers(shared_server))
    reader.start()
    try:
        assert reader.status == 200
        assert reader.content_type.startswith("text/event-stream")
        (snapshot,) = reader.wait_for(1, "snapshot")
        assert earlier in [a["id"] for a in snapshot.data["alerts"]]
        assert reader.events[0].retry is not None
        assert reader.events[0].retry > 0

        lobby = press(shared_server, integration, "lobby")
        press(shared_server, integration, "lobby")  # a repeat: appended
        with shared_server.admin() as admin:
            assert admin.post(f"/api/v1/alerts/{lobby}/acknowledge").status_code == 200
        press(shared_server, integration, "lobby", on=False)

        events = reader.wait_for(4)
    finally:
        reader.close()
    mine = [e for e in events if e.data["alert"]["id"] == lobby]
    assert [e.data["change"] for e in mine] == ["open", "append", "acknowledge", "close"]
    assert [e.data["alert"]["status"] for e in mine] == [
        "open",
        "open",
        "acknowledged",
        "closed",
    ]
    assert mine[0].data["alert"]["title"] == "lobby pressed"
    assert mine[0].data["alert"]["priority"] == "normal"
    ids = [int(e.id) for e in reader.events if e.id is not None]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_stream_needs_a_login_the_admin_token_or_a_board_link(
    shared_server: RunningServer,
) -> None:
    url = shared_server.url + "/api/v1/stream"
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert httpx.get(url, cookies={"board_link": "b1.1.0.forged"}).status_code == 401
    cookies = board_cookies(shared_server, board_link(shared_server))
    reader = SseReader(url, cookies=cookies).start()
    try:
        assert reader.status == 200
        reader.wait_for(1, "snapshot")
    finally:
        reader.close()


def test_board_link_views_and_acknowledges_but_never_closes(shared_server: RunningServer) -> None:
    integration = shared_server.add("board-link-limits")
    alert_id = press(shared_server, integration, "bed-4")
    cookies = board_cookies(shared_server, board_link(shared_server))
    with httpx.Client(base_url=shared_server.url, cookies=cookies) as board:
        page = board.get("/board")
        assert page.status_code == 200
        assert "view and acknowledge only" in page.text

        no_header = board.post(f"/board/alerts/{alert_id}/acknowledge")
        assert no_header.status_code == 403
        assert "x-board-request" in no_header.json()["detail"]

        headers = {"X-Board-Request": "1"}
        acked = board.post(f"/board/alerts/{alert_id}/acknowledge", headers=headers)
        assert acked.status_code == 200
        assert acked.json()["status"] == "acknowledged"

        refused = board.post(f"/board/alerts/{alert_id}/close", headers=headers)
        assert refused.status_code == 403
        assert "board link can only view and acknowledge" in refused.json()["detail"]

        # nothing else opens with the board link: the admin API, the console
        assert board.get("/api/v1/alerts").status_code == 401
        assert board.get("/", follow_redirects=False).status_code == 303
    with shared_server.admin() as admin:
        alert = admin.get(f"/api/v1/alerts/{alert_id}").json()
    assert alert["status"] == "acknowledged"
    assert any("board link (board)" in e["detail"] for e in alert["timeline"])


def test_admin_may_close_from_the_board(shared_server: RunningServer) -> None:
    integration = shared_server.add("board-admin-close")
    alert_id = press(shared_server, integration, "bed-5")
    answer = httpx.post(
        f"{shared_server.url}/board/alerts/{alert_id}/close",
        headers={**admin_headers(shared_server), "X-Board-Request": "1"},
    )
    assert answer.status_code == 200
    assert answer.json()["status"] == "closed"


def test_forged_and_expired_board_links_are_refused(shared_server: RunningServer) -> None:
    good = board_link(shared_server)
    forged = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    answer = httpx.get(forged)
    assert answer.status_code == 403
    assert "signature does not match" in answer.text

    # About 5 s: long enough for a loaded machine to print and open it, short enough to wait out.
    short = board_link(shared_server, "--days", "0.00006")
    cookies = board_cookies(shared_server, short)
    time.sleep(5.5)
    assert httpx.get(short).status_code == 403
    stream = httpx.get(shared_server.url + "/api/v1/stream", cookies=cookies)
    assert stream.status_code == 401


def test_board_without_login_goes_to_the_login_page(shared_server: RunningServer) -> None:
    answer = httpx.get(shared_server.url + "/board", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/board"


def test_open_streams_do_not_hold_up_a_shutdown(server: RunningServer) -> None:
    reader = SseReader(server.url + "/api/v1/stream", headers=admin_headers(server)).start()
    reader.wait_for(1, "snapshot")
    assert server.proc is not None
    proc = server.proc
    started = time.monotonic()
    code = proc.stop(timeout=30)
    server.proc = None
    assert code in (0, -15), server.log()  # uvicorn re-raises SIGTERM once it has stopped
    assert reader.ended.wait(5)
    assert time.monotonic() - started < 30  # stopped by SIGTERM, not the SIGKILL fallback
    assert "Finished server process" in server.log()
    reader.close()
