"""An admin's catastrophic regex cannot stall the server; one RE2 refuses is named, not run."""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx
import pytest

from server.patterns import compile_pattern
from tests.server.conftest import InProcess, RunningServer

CATASTROPHIC = "^(a+)+$"  # Python's re takes time doubling per `a` before a final `!`
MAPPING = {
    "source_name": {"field": "host"},
    "status": {"field": "state"},
    "open_when": {"regex": CATASTROPHIC},
    "close_when": {"equals": "ok"},
    "filters": [{"field": "state", "regex": CATASTROPHIC + "|^ok$|!$", "keep": True}],
}


def test_a_catastrophic_pattern_answers_at_once_and_stalls_no_other_call(
    server: RunningServer,
) -> None:
    with server.admin() as admin:
        made = admin.post(
            "/api/v1/integrations", json={"name": "redos", "kind": "generic", "mapping": MAPPING}
        )
    assert made.status_code == 201, made.text
    path = made.json()["inbound_path"]
    hostile = json.dumps({"host": "db1", "state": "a" * 20_000 + "!"})
    opening = json.dumps({"host": "db1", "state": "a" * 20_000})

    def webhook(body: str) -> httpx.Response:
        return server.post(path, body, **{"Content-Type": "application/json"})

    with ThreadPoolExecutor(max_workers=3) as pool:
        stalled = pool.submit(webhook, hostile)
        other = pool.submit(httpx.get, server.url + "/healthz", timeout=10.0)
        # With backtracking, 20,000 `a`s never finish and these time out (httpx raises).
        assert other.result().json() == {"status": "ok"}
        answer = stalled.result()
    assert answer.status_code == 202, answer.text
    assert (answer.json()["status"], answer.json()["action"]) == ("mapped_ignored", "ignore")
    opened = webhook(opening)
    assert (opened.json()["status"], opened.json()["action"]) == ("mapped", "open")


@pytest.mark.parametrize(
    ("pattern", "named"),
    [("(a)\\1", "invalid escape sequence"), ("err(?!or)", "invalid perl operator")],
)
async def test_a_pattern_that_needs_backtracking_is_refused_on_save_with_the_reason(
    inproc: InProcess, pattern: str, named: str
) -> None:
    mapping = {**MAPPING, "open_when": {"regex": pattern}, "filters": []}
    answer = await inproc.client.post(
        "/api/v1/integrations",
        json={"name": "x", "kind": "generic", "mapping": mapping},
        headers=inproc.admin_headers,
    )
    assert answer.status_code == 422
    assert pattern.replace("\\", "\\\\") in answer.text
    assert named in answer.text
    assert "no backreferences or lookaround" in answer.text


async def test_a_stored_pattern_the_engine_refuses_is_logged_once_naming_the_integration(
    inproc: InProcess, caplog: pytest.LogCaptureFixture
) -> None:
    made = await inproc.add("legacy", kind="generic", mapping=MAPPING)
    # As if saved before RE2 (Python's re took it): written straight to the store.
    legacy = {**MAPPING, "open_when": {"regex": "(a)\\1"}}
    store = inproc.ctx.store
    await inproc.ctx.db.run(
        lambda: store.update_integration(made["id"], {"mapping": legacy}, datetime.now(UTC))
    )
    caplog.set_level(logging.WARNING, logger="server.context")
    body = json.dumps({"host": "db1", "state": "aa"})
    answers = [(await inproc.client.post(made["inbound_path"], content=body)) for _ in range(3)]

    assert [a.json()["status"] for a in answers] == ["mapping_failed"] * 3
    offender = [r.getMessage() for r in caplog.records if "cannot run" in r.getMessage()]
    assert len(offender) == 1
    assert f"integration {made['id']} (legacy)" in offender[0]
    assert "'(a)\\\\1'" in offender[0]
    items = (await inproc.admin_get("/api/v1/inbound"))["items"]
    assert "invalid escape sequence" in items[0]["reason"]


def test_matching_time_is_linear_in_the_text() -> None:
    pattern = compile_pattern(CATASTROPHIC)
    assert pattern.search("a" * 1_000_000 + "!") is None
    assert pattern.search("a" * 1_000_000) is not None
