"""Console forms and errors in process: bad input gets a page naming the problem, never a 500."""

from __future__ import annotations

import html
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.server.conftest import InProcess, in_process


async def logged_in(running: InProcess) -> str:
    """Log the client in; returns the session's CSRF token."""
    form = await running.client.get("/login")
    login_csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert login_csrf is not None
    answer = await running.client.post(
        "/login",
        data={"csrf_token": login_csrf.group(1), "token": running.ctx.admin_token, "next": "/"},
    )
    assert answer.status_code == 303
    page = await running.client.get("/")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


@pytest.fixture
async def console(tmp_path: Path) -> AsyncIterator[tuple[InProcess, str]]:
    async with in_process(tmp_path / "data") as running:
        yield running, await logged_in(running)


async def test_login_refuses_a_form_without_its_csrf_cookie_and_never_redirects_off_site(
    tmp_path: Path,
) -> None:
    async with in_process(tmp_path / "data") as running:
        client = running.client
        forged = await client.post("/login", data={"token": running.ctx.admin_token})
        assert forged.status_code == 403
        assert "console_session" not in forged.headers.get("set-cookie", "")
        form = await client.get("/login", params={"next": "//evil.example/x"})
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert csrf is not None
        assert 'name="next" value="/"' in form.text
        answer = await client.post(
            "/login",
            data={
                "csrf_token": csrf.group(1),
                "token": running.ctx.admin_token,
                "next": "https://evil.example",
            },
        )
        assert answer.headers["location"] == "/"


async def test_bad_filters_and_unknown_ids_get_a_page_naming_the_problem(
    console: tuple[InProcess, str],
) -> None:
    running, _ = console
    for path, status, words in (
        ("/inbound?status=bogus", 422, "unknown status 'bogus'"),
        ("/inbound?integration_id=abc", 422, "must be a number"),
        ("/alerts/999", 404, "999"),
        ("/integrations/999", 404, "999"),
        ("/inbound/nope", 404, "nope"),
        ("/people/things/new", 404, "no such list"),
    ):
        answer = await running.client.get(path)
        assert answer.status_code == status, (path, answer.text)
        assert "text/html" in answer.headers["content-type"]
        assert words in html.unescape(answer.text), (path, answer.text)


async def test_integration_forms_explain_refusals_and_keep_what_was_typed(
    console: tuple[InProcess, str],
) -> None:
    running, csrf = console
    client = running.client
    generic = await client.post(
        "/integrations", data={"csrf_token": csrf, "name": "hook", "kind": "generic"}
    )
    assert generic.status_code == 422
    assert "needs a mapping" in generic.text
    assert 'value="hook"' in generic.text

    created = await running.add("desk")
    broken = await client.post(
        f"/integrations/{created['id']}/edit",
        data={"csrf_token": csrf, "name": "desk", "mapping": "{not json"},
    )
    assert broken.status_code == 422
    assert "Mapping is not valid JSON" in broken.text
    assert "{not json" in broken.text
    unchanged = await running.admin_get(f"/api/v1/integrations/{created['id']}")
    assert unchanged["mapping"] == created["mapping"]

    saved = await client.post(
        f"/integrations/{created['id']}/edit",
        data={
            "csrf_token": csrf,
            "name": "front desk",
            "mapping": '{"source_name": {"value": "desk"}, "status": {"field": "s"},'
            ' "open_when": {"equals": "up"}, "close_when": {"equals": "down"}}',
            "sample_data": '{"s": "up"}',
        },
    )
    assert saved.status_code == 200
    assert "Saved." in saved.text
    after = await running.admin_get(f"/api/v1/integrations/{created['id']}")
    assert (after["name"], after["sample_data"]) == ("front desk", {"s": "up"})
    assert after["mapping"]["open_when"] == {"equals": "up"}

    for_real = await client.post(
        f"/integrations/{created['id']}/test",
        data={"csrf_token": csrf, "payload": '{"s": "up"}', "send": "yes"},
    )
    assert "Mapped" in for_real.text
    alerts = await running.admin_get("/api/v1/alerts")
    assert [a["source_name"] for a in alerts["items"]] == ["desk"]


def selected(page: str, select: str) -> str:
    """The text of the option a `<select name=...>` shows as chosen."""
    block = re.search(rf'<select name="{select}">(.*?)</select>', page, re.S)
    assert block is not None, select
    found = re.search(r"<option [^>]*selected[^>]*>([^<]*)</option>", block.group(1))
    return "" if found is None else found.group(1)


def ticked(page: str, name: str) -> bool:
    box = re.search(rf'<input type="checkbox" name="{name}"[^>]*>', page)
    assert box is not None, name
    return "checked" in box.group(0)


async def test_the_integration_forms_set_and_show_the_urgent_policy_and_source_only_close(
    console: tuple[InProcess, str],
) -> None:
    running, csrf = console
    client = running.client
    user = await client.post(
        "/api/v1/users",
        json={"name": "Desk", "email": "desk@example.org"},
        headers=running.admin_headers,
    )
    assert user.status_code == 201, user.text
    step = {"after_s": 3600, "notify": [{"user": user.json()["id"]}]}  # nobody paged in this test
    policies = {}
    for name in ("desk", "ward-all", "night"):
        made = await client.post(
            "/api/v1/escalation-policies",
            json={"name": name, "steps": [step]},
            headers=running.admin_headers,
        )
        assert made.status_code == 201, made.text
        policies[name] = made.json()["id"]

    created = await client.post(
        "/integrations",
        data={
            "csrf_token": csrf,
            "name": "ward",
            "kind": "flic",
            "escalation_policy_id": str(policies["desk"]),
            "urgent_policy_id": str(policies["ward-all"]),
            "close_from_source_only": "yes",
        },
    )
    assert created.status_code == 303, created.text
    page = (await client.get(created.headers["location"])).text
    assert selected(page, "escalation_policy_id") == "desk"
    assert selected(page, "urgent_policy_id") == "ward-all"
    assert ticked(page, "close_from_source_only")
    integration_id = int(created.headers["location"].rsplit("/", 1)[1])
    stored = await running.admin_get(f"/api/v1/integrations/{integration_id}")
    assert (stored["urgent_policy_id"], stored["close_from_source_only"]) == (
        policies["ward-all"],
        True,
    )

    # The setting works: a press's alert cannot be closed from the console.
    opened = await client.post(
        stored["inbound_path"], content='"flic_nameId": "bed-3", "flic_state": "On",'
    )
    alert_id = opened.json()["alert_id"]
    refused = await client.post(f"/alerts/{alert_id}/close", data={"csrf_token": csrf})
    assert refused.status_code == 409
    assert "can only be closed at its source" in html.unescape(refused.text)

    mapping = json.dumps(stored["mapping"])
    saved = await client.post(
        f"/integrations/{integration_id}/edit",
        data={
            "csrf_token": csrf,
            "name": "ward",
            "mapping": mapping,
            "escalation_policy_id": str(policies["desk"]),
            "urgent_policy_id": str(policies["night"]),
            # the box left unticked: closing from anywhere is allowed again
        },
    )
    assert saved.status_code == 200, saved.text
    assert "Saved." in saved.text
    assert selected(saved.text, "urgent_policy_id") == "night"
    assert not ticked(saved.text, "close_from_source_only")
    after = await running.admin_get(f"/api/v1/integrations/{integration_id}")
    assert (after["urgent_policy_id"], after["close_from_source_only"]) == (
        policies["night"],
        False,
    )
    closed = await client.post(f"/alerts/{alert_id}/close", data={"csrf_token": csrf})
    assert closed.status_code == 303
    assert (await running.admin_get(f"/api/v1/alerts/{alert_id}"))["status"] == "closed"

    cleared = await client.post(
        f"/integrations/{integration_id}/edit",
        data={"csrf_token": csrf, "name": "ward", "mapping": mapping, "urgent_policy_id": ""},
    )
    assert selected(cleared.text, "urgent_policy_id") == ""
    assert (await running.admin_get(f"/api/v1/integrations/{integration_id}"))[
        "urgent_policy_id"
    ] is None

    bad = await client.post(
        "/integrations",
        data={
            "csrf_token": csrf,
            "name": "x",
            "urgent_policy_id": "soon",
            "close_from_source_only": "yes",
        },
    )
    assert bad.status_code == 422
    assert "urgent policy must be a number, not 'soon'" in html.unescape(bad.text)
    assert ticked(bad.text, "close_from_source_only")  # what was typed is kept


async def test_people_editor_reports_invalid_json_and_api_refusals(
    console: tuple[InProcess, str],
) -> None:
    running, csrf = console
    client = running.client
    bad = await client.post("/people/users", data={"csrf_token": csrf, "body": "{"})
    assert bad.status_code == 422
    assert "not valid JSON" in bad.text
    refused = await client.post(
        "/people/groups", data={"csrf_token": csrf, "body": '{"name": "g", "members": [42]}'}
    )
    assert refused.status_code == 422
    assert "unknown user id(s): 42" in refused.text
    made = await client.post(
        "/people/users", data={"csrf_token": csrf, "body": '{"name": "Lin", "email": "lin@x.org"}'}
    )
    assert made.status_code == 303
    (user,) = (await running.admin_get("/api/v1/users"))["items"]
    edit = await client.get(f"/people/users/{user['id']}")
    assert "lin@x.org" in edit.text
    gone = await client.post(f"/people/users/{user['id']}/delete", data={"csrf_token": csrf})
    assert gone.status_code == 303
    assert (await running.admin_get("/api/v1/users"))["items"] == []


async def test_logout_ends_the_session(console: tuple[InProcess, str]) -> None:
    running, csrf = console
    out = await running.client.post("/logout", data={"csrf_token": csrf})
    assert out.status_code == 303
    again = await running.client.get("/")
    assert again.status_code == 303
    assert again.headers["location"].startswith("/login")
    assert isinstance(running.client, httpx.AsyncClient)


async def test_login_guessing_is_throttled_even_for_the_right_token_afterwards(
    tmp_path: Path,
) -> None:
    async with in_process(tmp_path / "data") as running:
        client = running.client
        page = await client.get("/login")
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert found is not None
        csrf = found.group(1)
        codes = [
            (
                await client.post("/login", data={"csrf_token": csrf, "token": f"guess-{i}"})
            ).status_code
            for i in range(11)
        ]
        assert codes == [401] * 10 + [429]
        right = await client.post(
            "/login", data={"csrf_token": csrf, "token": running.ctx.admin_token}
        )
        assert right.status_code == 429
        assert int(right.headers["retry-after"]) >= 1
        assert "Too many failed logins" in right.text


async def test_maintenance_forms_refuse_bad_input_with_a_page_naming_the_problem(
    console: tuple[InProcess, str],
) -> None:
    running, csrf = console
    client = running.client
    made = await client.post(
        "/api/v1/integrations",
        json={"name": "desk", "kind": "flic"},
        headers={"Authorization": f"Bearer {running.ctx.admin_token}"},
    )
    assert made.status_code == 201, made.text
    integration_id = made.json()["id"]
    url = f"/integrations/{integration_id}/maintenance"
    cases = [
        ({"duration": "30"}, 403, "CSRF"),
        ({"csrf_token": csrf}, 422, "give an end or a duration"),
        ({"csrf_token": csrf, "duration": "soon"}, 422, "duration must be a number"),
        ({"csrf_token": csrf, "duration": "5", "unit": "weeks"}, 422, "unknown duration unit"),
        (
            {"csrf_token": csrf, "duration": "5", "end_at": "2099-01-01T10:00"},
            422,
            "not both",
        ),
        ({"csrf_token": csrf, "end_at": "tomorrow"}, 422, "End is not a date and time"),
        (
            {"csrf_token": csrf, "start_at": "2099-01-02T10:00", "end_at": "2099-01-01T10:00"},
            422,
            "end_at must be after start_at",
        ),
    ]
    for data, status, text in cases:
        answer = await client.post(url, data=data)
        assert answer.status_code == status, (data, answer.text)
        assert text in html.unescape(answer.text), data
    ok = await client.post(
        url,
        data={
            "csrf_token": csrf,
            "start_at": "2099-01-01T08:00",
            "end_at": "2099-01-01T09:30",
            "reason": "drill",
        },
    )
    assert ok.status_code == 303
    page = await client.get(f"/integrations/{integration_id}")
    assert "2099-01-01 08:00:00 UTC → 2099-01-01 09:30:00 UTC" in page.text
    missing = await client.post(f"{url}/999/delete", data={"csrf_token": csrf})
    assert missing.status_code == 404
