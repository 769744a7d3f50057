"""People, schedules, policies and on-call over HTTP (in-process app, real SQLite)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.app import close_app, create_app
from server.config import EscalationSection, SmtpSection, load_config


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    config = load_config(env={"ALERT_SERVER_DATA_DIR": str(tmp_path / "data")})
    app = create_app(config)
    try:
        async with app.router.lifespan_context(app):
            token = app.state.ctx.admin_token
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),
                base_url="http://test",
                headers={"Authorization": f"Bearer {token}"},
            ) as client:
                yield client
    finally:
        close_app(app)


async def created(api: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = await api.post(path, json=body)
    assert answer.status_code == 201, answer.text
    result: dict[str, Any] = answer.json()
    assert isinstance(result["id"], int)
    return result


async def test_the_people_api_needs_the_admin_token(api: httpx.AsyncClient) -> None:
    for path in ("/api/v1/users", "/api/v1/schedules", "/api/v1/oncall"):
        answer = await api.get(path, headers={"Authorization": ""})
        assert answer.status_code == 401


async def test_users_are_created_listed_replaced_and_deleted(api: httpx.AsyncClient) -> None:
    body = {
        "name": "Alice",
        "email": "alice@example.org",
        "phone": "+15550001",
        "contacts": [
            "ntfy://ntfy.example.org/desk",
            {"url": "json://hooks.local/", "kind": "voice"},
        ],
    }
    alice = await created(api, "/api/v1/users", body)
    assert alice["contacts"] == [
        {"url": "ntfy://ntfy.example.org/desk", "kind": None},
        {"url": "json://hooks.local/", "kind": "voice"},
    ]
    assert (await api.get(f"/api/v1/users/{alice['id']}")).json() == alice
    renamed = await api.put(f"/api/v1/users/{alice['id']}", json={"name": "Alice B."})
    assert renamed.json()["name"] == "Alice B."
    assert [u["name"] for u in (await api.get("/api/v1/users")).json()["items"]] == ["Alice B."]
    assert (await api.delete(f"/api/v1/users/{alice['id']}")).status_code == 200
    assert (await api.get(f"/api/v1/users/{alice['id']}")).status_code == 404


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"name": "X", "contacts": ["nosuchscheme://x"]}, "contacts[0]"),
        ({"name": "X", "email": "not an address"}, "email"),
        ({"name": ""}, "name"),
        ({"name": "X", "pager": "yes"}, "pager"),
    ],
)
async def test_bad_users_are_refused_naming_the_problem(
    api: httpx.AsyncClient, body: dict[str, Any], problem: str
) -> None:
    answer = await api.post("/api/v1/users", json=body)
    assert answer.status_code == 422
    assert problem in answer.text


async def test_on_call_follows_the_rotation_across_the_dst_change(api: httpx.AsyncClient) -> None:
    a = (await created(api, "/api/v1/users", {"name": "A"}))["id"]
    b = (await created(api, "/api/v1/users", {"name": "B"}))["id"]
    schedule = await created(
        api,
        "/api/v1/schedules",
        {
            "name": "Desk",
            "time_zone": "Europe/Berlin",
            "rotations": [
                {
                    "users": [a, b],
                    "start_date": "2026-03-27",
                    "handoff_time": "09:00",
                    "shift_length": 1,
                    "shift_unit": "days",
                }
            ],
        },
    )

    async def who(at: str) -> list[str]:
        answer = await api.get("/api/v1/oncall", params={"schedule_id": schedule["id"], "at": at})
        assert answer.status_code == 200, answer.text
        return [u["name"] for u in answer.json()["users"]]

    # 09:00 in Berlin is 08:00Z before the clocks change on 29 March, 07:00Z after.
    assert await who("2026-03-28T07:59:59Z") == ["A"]
    assert await who("2026-03-28T08:00:00Z") == ["B"]
    assert await who("2026-03-29T06:59:59Z") == ["B"]
    assert await who("2026-03-29T07:00:00Z") == ["A"]
    assert await who("2026-03-27T07:00:00Z") == []
    override = await api.post(
        f"/api/v1/schedules/{schedule['id']}/overrides",
        json={"user": b, "start_at": "2026-03-29T10:00:00Z", "end_at": "2026-03-29T12:00:00Z",
              "replaces": a},
    )  # fmt: skip
    assert override.status_code == 201, override.text
    assert await who("2026-03-29T11:00:00Z") == ["B"]
    assert await who("2026-03-29T12:00:00Z") == ["A"]
    everyone = (await api.get("/api/v1/oncall", params={"at": "2026-03-29T11:00:00+02:00"})).json()
    assert everyone["items"][0]["users"][0]["name"] == "A"


@pytest.mark.parametrize(
    ("params", "status", "problem"),
    [
        ({"schedule_id": "1", "at": "2026-03-29T11:00:00"}, 422, "UTC offset"),
        ({"schedule_id": "1", "at": "yesterday"}, 422, "ISO 8601"),
        ({"schedule_id": "99"}, 404, "schedule 99"),
    ],
)
async def test_bad_on_call_questions_get_clear_answers(
    api: httpx.AsyncClient, params: dict[str, str], status: int, problem: str
) -> None:
    await created(api, "/api/v1/schedules", {"name": "empty"})
    answer = await api.get("/api/v1/oncall", params=params)
    assert answer.status_code == status
    assert problem in answer.text


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"name": "s", "time_zone": "Mars/Olympus"}, "Mars/Olympus"),
        ({"name": "s", "rotations": [{"users": [99], "start_date": "2026-01-01"}]}, "99"),
        ({"name": "s", "rotations": [{"users": [], "start_date": "2026-01-01"}]}, "users"),
        (
            {"name": "s", "overrides": [{"user": 1, "start_at": "2026-01-02T00:00:00Z",
                                          "end_at": "2026-01-01T00:00:00Z"}]},
            "end_at",
        ),
    ],
)  # fmt: skip
async def test_bad_schedules_are_refused_naming_the_problem(
    api: httpx.AsyncClient, body: dict[str, Any], problem: str
) -> None:
    await created(api, "/api/v1/users", {"name": "A"})
    answer = await api.post("/api/v1/schedules", json=body)
    assert answer.status_code == 422
    assert problem in answer.text


async def test_policies_round_trip_and_refuse_unknown_targets(api: httpx.AsyncClient) -> None:
    a = (await created(api, "/api/v1/users", {"name": "A", "email": "a@example.org"}))["id"]
    group = await created(api, "/api/v1/groups", {"name": "night", "members": [a]})
    body = {
        "name": "Front desk",
        "steps": [
            {"after_s": 0, "notify": [{"user": a}], "via": ["email"]},
            {"after_s": 300, "notify": [{"group": group["id"]}]},
        ],
        "repeat": 2,
    }
    policy = await created(api, "/api/v1/escalation-policies", body)
    assert policy == {
        "id": policy["id"],
        "name": "Front desk",
        "repeat": 2,
        "ack_timeout_s": None,
        "steps": [
            {"after_s": 0.0, "notify": [{"user": a}], "via": ["email"]},
            {"after_s": 300.0, "notify": [{"group": group["id"]}], "via": None},
        ],
    }
    for bad, problem in (
        ({"name": "p", "steps": [{"after_s": 0, "notify": [{"group": 42}]}]}, "unknown group"),
        ({"name": "p", "steps": [{"after_s": 0, "notify": [{"user": a, "group": 1}]}]}, "one of"),
        ({"name": "p", "steps": [{"after_s": -1, "notify": []}]}, "after_s"),
        ({"name": "p", "steps": [{"after_s": 0, "notify": [], "via": ["pigeon"]}]}, "via"),
        ({"name": "p", "steps": []}, "steps"),
    ):
        answer = await api.post("/api/v1/escalation-policies", json=bad)
        assert answer.status_code == 422, bad
        assert problem in answer.text
    integration = await api.post(
        "/api/v1/integrations",
        json={"name": "desk", "kind": "flic", "escalation_policy_id": policy["id"]},
    )
    assert integration.status_code == 201, integration.text
    in_use = await api.delete(f"/api/v1/escalation-policies/{policy['id']}")
    assert in_use.status_code == 409
    assert f"integration(s) {integration.json()['id']}" in in_use.text
    bad_group = await api.post("/api/v1/groups", json={"name": "g", "members": [a, 77]})
    assert bad_group.status_code == 422
    assert "77" in bad_group.text


async def test_a_forged_or_garbled_link_is_refused(api: httpx.AsyncClient) -> None:
    for token in ("garbage", "YWNrbm93bGVkZ2U6MToxOTk5OTk5OTk5.AAAA"):
        for method in ("GET", "POST"):
            answer = await api.request(method, f"/l/{token}", headers={"Authorization": ""})
            assert answer.status_code == 403
            assert "Link not valid" in answer.text


def test_smtp_and_escalation_settings_come_from_the_environment() -> None:
    config = load_config(
        env={
            "ALERT_SERVER_SMTP_HOST": "mail.example.org",
            "ALERT_SERVER_SMTP_PORT": "587",
            "ALERT_SERVER_SMTP_FROM": "pager@example.org",
            "ALERT_SERVER_SMTP_USERNAME": "pager",
            "ALERT_SERVER_SMTP_PASSWORD": "secret",
            "ALERT_SERVER_SMTP_STARTTLS": "true",
            "ALERT_SERVER_ESCALATION_THROTTLE_MAX": "3",
        }
    )
    smtp = config.section("smtp", SmtpSection)
    assert (smtp.host, smtp.port, smtp.from_addr, smtp.username, smtp.password, smtp.starttls) == (
        "mail.example.org", 587, "pager@example.org", "pager", "secret", True,
    )  # fmt: skip
    assert config.section("escalation", EscalationSection).throttle_max == 3


def test_smtp_from_reads_as_from_in_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "server.toml"
    path.write_text('[smtp]\nhost = "mail.local"\nfrom = "desk@example.org"\n')
    smtp = load_config(path, {}).section("smtp", SmtpSection)
    assert (smtp.host, smtp.from_addr) == ("mail.local", "desk@example.org")


def test_links_point_at_the_public_url_and_the_key_stays_private(tmp_path: Path) -> None:
    from server.escalation.plugin import link_secret, public_base_url

    config = load_config(env={"ALERT_SERVER_DATA_DIR": str(tmp_path / "d")})
    assert public_base_url(config) == "http://127.0.0.1:8380"
    public = config.with_server(public_url="https://alerts.example.org/")
    assert public_base_url(public) == "https://alerts.example.org"
    section = config.section("escalation", EscalationSection)
    key = link_secret(config, section)
    assert link_secret(config, section) == key
    assert len(key) >= 32
    assert (tmp_path / "d" / "link-secret").stat().st_mode & 0o777 == 0o600
