"""Console passwords in process: hashed only, never returned, wrong ones refused, throttled."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import httpx

from server.auth.passwords import hash_password, verify_password
from tests.server.conftest import InProcess, in_process

SECRET = "correct horse battery staple"


def admin(running: InProcess) -> dict[str, str]:
    return {"Authorization": f"Bearer {running.ctx.admin_token}"}


async def login_form(client: httpx.AsyncClient) -> str:
    page = await client.get("/login")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


async def add_user(running: InProcess, name: str, email: str, password: str | None) -> int:
    made = await running.client.post(
        "/api/v1/users", json={"name": name, "email": email}, headers=admin(running)
    )
    assert made.status_code == 201, made.text
    user_id = int(made.json()["id"])
    if password is not None:
        answer = await running.client.post(
            f"/api/v1/users/{user_id}/password",
            json={"password": password},
            headers=admin(running),
        )
        assert answer.status_code == 204, answer.text
    return user_id


def test_a_hash_is_salted_and_only_the_right_password_matches() -> None:
    first, second = hash_password(SECRET), hash_password(SECRET)
    assert first != second  # a fresh salt each time
    assert SECRET not in first
    assert verify_password(SECRET, first)
    assert verify_password(SECRET, second)
    assert not verify_password(SECRET + "!", first)
    assert not verify_password(SECRET, "plain text, not a hash")


async def test_the_password_is_stored_hashed_and_never_returned(tmp_path: Path) -> None:
    async with in_process(tmp_path / "data") as running:
        user_id = await add_user(running, "Alice", "alice@example.org", SECRET)
        for path in ("/api/v1/users", f"/api/v1/users/{user_id}"):
            shown = await running.client.get(path, headers=admin(running))
            assert shown.status_code == 200
            assert SECRET not in shown.text
            assert "password" not in shown.text
    with sqlite3.connect(tmp_path / "data" / "alert-server.db") as db:
        dump = "\n".join(db.iterdump())
    assert SECRET not in dump
    assert "scrypt$" in dump


async def test_bad_passwords_and_unknown_users_get_a_clear_4xx(tmp_path: Path) -> None:
    async with in_process(tmp_path / "data") as running:
        user_id = await add_user(running, "Bob", "bob@example.org", None)
        short = await running.client.post(
            f"/api/v1/users/{user_id}/password", json={"password": "short"}, headers=admin(running)
        )
        assert short.status_code == 422
        assert "at least 8 characters" in short.text
        nobody = await running.client.post(
            "/api/v1/users/999/password", json={"password": SECRET}, headers=admin(running)
        )
        assert nobody.status_code == 404
        anonymous = await running.client.post(
            f"/api/v1/users/{user_id}/password", json={"password": SECRET}
        )
        assert anonymous.status_code == 401


async def test_a_user_logs_in_by_email_or_name_and_a_wrong_password_is_refused(
    tmp_path: Path,
) -> None:
    async with in_process(tmp_path / "data") as running:
        await add_user(running, "Alice", "alice@example.org", SECRET)
        client = running.client
        csrf = await login_form(client)
        wrong = await client.post(
            "/login", data={"csrf_token": csrf, "login": "Alice", "password": "not it at all"}
        )
        assert wrong.status_code == 401
        assert "Wrong user name, email or password" in wrong.text
        assert "console_session" not in wrong.headers.get("set-cookie", "")
        for login in ("ALICE@example.org", "alice"):
            csrf = await login_form(client)
            answer = await client.post(
                "/login", data={"csrf_token": csrf, "login": login, "password": SECRET}
            )
            assert answer.status_code == 303, answer.text
            page = await client.get("/")
            assert page.status_code == 200
            assert 'id="who" title="Logged in as Alice">Alice</span>' in page.text
            client.cookies.delete("console_session")


async def test_a_user_without_a_password_and_a_removed_password_cannot_log_in(
    tmp_path: Path,
) -> None:
    async with in_process(tmp_path / "data") as running:
        carol = await add_user(running, "Carol", "carol@example.org", SECRET)
        await add_user(running, "Dan", "dan@example.org", None)
        removed = await running.client.delete(
            f"/api/v1/users/{carol}/password", headers=admin(running)
        )
        assert removed.status_code == 204
        csrf = await login_form(running.client)
        for login in ("carol@example.org", "dan@example.org"):
            answer = await running.client.post(
                "/login", data={"csrf_token": csrf, "login": login, "password": SECRET}
            )
            assert answer.status_code == 401


async def test_a_guesser_is_throttled_but_the_admin_still_logs_in_from_elsewhere(
    tmp_path: Path,
) -> None:
    async with in_process(tmp_path / "data") as running:
        await add_user(running, "Alice", "alice@example.org", SECRET)
        app = running.client._transport  # the same app, seen from two addresses
        assert isinstance(app, httpx.ASGITransport)
        guesser = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app.app, client=("203.0.113.9", 4000)),
            base_url="http://test",
        )
        admin_desk = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app.app, client=("198.51.100.7", 5000)),
            base_url="http://test",
        )
        async with guesser, admin_desk:
            csrf = await login_form(guesser)
            codes = []
            for i in range(11):
                answer = await guesser.post(
                    "/login", data={"csrf_token": csrf, "token": f"guess-{i}"}
                )
                codes.append(answer.status_code)
            assert codes == [401] * 10 + [429]
            right = await guesser.post(
                "/login", data={"csrf_token": csrf, "login": "alice", "password": SECRET}
            )
            assert right.status_code == 429  # this address waits, even with the right password
            desk_csrf = await login_form(admin_desk)
            ok = await admin_desk.post(
                "/login", data={"csrf_token": desk_csrf, "token": running.ctx.admin_token}
            )
            assert ok.status_code == 303
            desk_csrf = await login_form(admin_desk)
            ok_user = await admin_desk.post(
                "/login", data={"csrf_token": desk_csrf, "login": "alice", "password": SECRET}
            )
            assert ok_user.status_code == 303


async def test_guessing_one_users_password_from_many_addresses_locks_only_that_account(
    tmp_path: Path,
) -> None:
    async with in_process(tmp_path / "data") as running:
        await add_user(running, "Alice", "alice@example.org", SECRET)
        transport = running.client._transport
        assert isinstance(transport, httpx.ASGITransport)

        async def attempt(address: str, data: dict[str, str]) -> int:
            client = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=transport.app, client=(address, 4000)),
                base_url="http://test",
            )
            async with client:
                csrf = await login_form(client)
                answer = await client.post("/login", data={"csrf_token": csrf, **data})
                return answer.status_code

        guesses = [
            await attempt(f"203.0.113.{i}", {"login": "alice", "password": f"guess-{i}"})
            for i in range(20)
        ]
        assert guesses == [401] * 20
        fresh = "198.51.100.7"
        assert await attempt(fresh, {"login": "alice", "password": SECRET}) == 429
        assert await attempt(fresh, {"token": running.ctx.admin_token}) == 303


async def test_the_admin_sets_and_removes_a_password_on_the_users_page(tmp_path: Path) -> None:
    async with in_process(tmp_path / "data") as running:
        user_id = await add_user(running, "Erin", "erin@example.org", None)
        client = running.client
        csrf = await login_form(client)
        answer = await client.post(
            "/login", data={"csrf_token": csrf, "token": running.ctx.admin_token}
        )
        assert answer.status_code == 303
        page = await client.get(f"/people/users/{user_id}")
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert found is not None
        session_csrf = found.group(1)
        short = await client.post(
            f"/people/users/{user_id}/password",
            data={"csrf_token": session_csrf, "password": "short"},
        )
        assert short.status_code == 422
        assert "at least 8 characters" in short.text
        made = await client.post(
            f"/people/users/{user_id}/password",
            data={"csrf_token": session_csrf, "password": SECRET},
        )
        assert made.status_code == 303
        assert "Password set." in (await client.get(made.headers["location"])).text
        client.cookies.delete("console_session")
        csrf = await login_form(client)
        erin = await client.post(
            "/login", data={"csrf_token": csrf, "login": "Erin", "password": SECRET}
        )
        assert erin.status_code == 303
        page = await client.get(f"/people/users/{user_id}")
        assert 'title="Logged in as Erin"' in page.text
        removed = await client.post(
            f"/people/users/{user_id}/password/remove", data={"csrf_token": session_csrf}
        )
        assert removed.status_code == 403  # another session's CSRF token
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert found is not None
        removed = await client.post(
            f"/people/users/{user_id}/password/remove", data={"csrf_token": found.group(1)}
        )
        assert removed.status_code == 303
        client.cookies.delete("console_session")
        csrf = await login_form(client)
        again = await client.post(
            "/login", data={"csrf_token": csrf, "login": "Erin", "password": SECRET}
        )
        assert again.status_code == 401
