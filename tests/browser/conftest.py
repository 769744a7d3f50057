"""Headless Chromium (Debian's, through Playwright) and the real programs the pages come from."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from tests.e2e.programs import AlertServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def shot(page: Page, name: str) -> Path:
    """Save a full-page screenshot under tests/artifacts/ for a reviewer to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    """Per module: Playwright's sync API keeps an event loop running until it stops, which
    would break every asyncio test that pytest runs after it."""
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's chromium; missing, the browser tests fail (never skip): `make test` installs it."""
    if not (os.access(CHROMIUM, os.X_OK) or shutil.which("chromium")):
        pytest.fail(
            f"{CHROMIUM} is missing: run `make test` as root (scripts/test-deps.sh installs the "
            "Debian `chromium` package) or `apt-get install chromium`",
            pytrace=False,
        )
    launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser profile (no cookies) with a desktop-size window."""
    ctx = browser.new_context(viewport=DESKTOP)
    yield ctx
    ctx.close()


@contextmanager
def running_server(root: Path) -> Iterator[AlertServer]:
    """`python -m server run` on a free port with its data dir under `root`."""
    server = AlertServer(data_dir=root / "data", log_path=root / "server.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def alert_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AlertServer]:
    """One server shared by one test module."""
    with running_server(tmp_path_factory.mktemp("alert-server")) as server:
        yield server


def admin_token(server: AlertServer) -> str:
    return (server.data_dir / "admin-token").read_text().strip()


def admin_client(server: AlertServer) -> httpx.Client:
    return httpx.Client(
        base_url=server.url,
        headers={"Authorization": f"Bearer {admin_token(server)}"},
        timeout=10.0,
    )


def log_in(page: Page, server: AlertServer, path: str = "/") -> None:
    """Open `path`, get sent to the login form, log in with the admin token, land on `path`."""
    page.goto(server.url + path)
    assert re.search(r"/login\b", page.url), page.url
    page.get_by_label("Admin token").fill(admin_token(server))
    page.get_by_role("button", name="Log in as admin").click()
    page.wait_for_url(re.compile(re.escape(server.url + path) + r"$"))


@pytest.fixture
def console(context: BrowserContext, alert_server: AlertServer) -> Page:
    """A page logged in to the console."""
    page = context.new_page()
    log_in(page, alert_server)
    return page
