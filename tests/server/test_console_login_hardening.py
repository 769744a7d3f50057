"""Console login: guesses sent all at once are throttled; a new or removed password logs out."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from server.console.sessions import LOGIN_FAILURES_LIMIT, SESSION_COOKIE
from tests.browser.test_console_passwords import SECRET, add_user, admin, login_form
from tests.server.conftest import InProcess, in_process


def browser(running: InProcess, address: str) -> httpx.AsyncClient:
    """A client of the same app from its own address, keeping its own cookies."""
    transport = running.client._transport
    assert isinstance(transport, httpx.ASGITransport)
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=transport.app, client=(address, 4000)),
        base_url="http://test",
    )


async def log_in(client: httpx.AsyncClient, **fields: str) -> httpx.Response:
    csrf = await login_form(client)
    return await client.post("/login", data={"csrf_token": csrf, **fields})


async def test_forty_guesses_at_once_are_checked_only_up_to_the_limit(tmp_path: Path) -> None:
    async with in_process(tmp_path / "data") as running:
        await add_user(running, "Alice", "alice@example.org", SECRET)
        async with browser(running, "203.0.113.9") as guesser:
            csrf = await login_form(guesser)
            answers = await asyncio.gather(
                *(
                    guesser.post(
                        "/login",
                        data={"csrf_token": csrf, "login": "alice", "password": f"guess-{i}"},
                    )
                    for i in range(40)
                )
            )
            codes = sorted(a.status_code for a in answers)
            right = await guesser.post(
                "/login", data={"csrf_token": csrf, "login": "alice", "password": SECRET}
            )

        assert codes == [401] * LOGIN_FAILURES_LIMIT + [429] * (40 - LOGIN_FAILURES_LIMIT)
        assert all(a.headers.get("retry-after") for a in answers if a.status_code == 429)
        assert right.status_code == 429  # throttled: even the right password waits
        assert SESSION_COOKIE not in right.cookies


async def test_a_good_login_does_not_count_against_the_limit(tmp_path: Path) -> None:
    async with in_process(tmp_path / "data") as running:
        await add_user(running, "Alice", "alice@example.org", SECRET)
        async with browser(running, "203.0.113.10") as desk:
            oks = [
                (await log_in(desk, login="alice", password=SECRET)).status_code
                for _ in range(LOGIN_FAILURES_LIMIT + 2)
            ]
        assert oks == [303] * (LOGIN_FAILURES_LIMIT + 2)


async def test_setting_or_removing_a_password_ends_that_users_sessions(tmp_path: Path) -> None:
    async with in_process(tmp_path / "data") as running:
        alice_id = await add_user(running, "Alice", "alice@example.org", SECRET)
        await add_user(running, "Bob", "bob@example.org", SECRET)
        async with (
            browser(running, "192.0.2.1") as alice_desk,
            browser(running, "192.0.2.2") as alice_phone,
            browser(running, "192.0.2.3") as bob,
        ):
            for client, login in ((alice_desk, "alice"), (alice_phone, "alice"), (bob, "bob")):
                assert (await log_in(client, login=login, password=SECRET)).status_code == 303
                assert (await client.get("/")).status_code == 200

            new = "a brand new passphrase"
            changed = await running.client.post(
                f"/api/v1/users/{alice_id}/password",
                json={"password": new},
                headers=admin(running),
            )
            assert changed.status_code == 204
            after_change = [(await c.get("/")).status_code for c in (alice_desk, bob)]
            assert after_change == [303, 200]  # Alice is sent to the login page, Bob stays
            assert (await alice_phone.get("/")).headers["location"].startswith("/login")

            assert (await log_in(alice_desk, login="alice", password=new)).status_code == 303
            assert (await alice_desk.get("/")).status_code == 200
            removed = await running.client.delete(
                f"/api/v1/users/{alice_id}/password", headers=admin(running)
            )
            assert removed.status_code == 204
            assert (await alice_desk.get("/")).status_code == 303
            assert (await bob.get("/")).status_code == 200
