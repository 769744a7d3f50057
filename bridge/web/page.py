"""The bridge's status page at `/`, its test-press and retry forms, and `POST /api/outbox/retry`."""

from __future__ import annotations

import hmac
import json
import logging
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from bridge.core.outbox import OutboxError
from bridge.models import ClickType, RawClick
from bridge.web.status import WebParts, status_of

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent
LOW_BATTERY_PERCENT = 20
DEAD_LETTERS_SHOWN = 50
PENDING_SHOWN = 20
MAX_FORM_BYTES = 16 * 1024
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
}


def parse_at(text: Any) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None


def duration(seconds: float | None) -> str:
    """Short human duration: `45 s`, `12 min`, `3 h 5 min`, `2 d 4 h`."""
    if seconds is None:
        return ""
    total = max(0, int(seconds))
    if total < 60:
        return f"{total} s"
    minutes = total // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def make_env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(PACKAGE_DIR / "templates")),
        autoescape=select_autoescape(["html"]),
    )
    env.filters["duration"] = duration
    return env


def token_ok(given: str | None, token: str) -> bool:
    return given is not None and hmac.compare_digest(given.strip().encode(), token.encode())


def _bearer(request: Request) -> str | None:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return given if scheme.lower() == "bearer" else None


class StatusPage:
    """Renders the page and handles its forms for one running bridge."""

    def __init__(self, parts: WebParts) -> None:
        self.parts = parts
        self.env = make_env()

    def context(self) -> dict[str, Any]:
        parts = self.parts
        now = parts.clock()
        status = status_of(parts)

        def age_of(text: Any) -> float | None:
            at = parse_at(text)
            return None if at is None else (now - at).total_seconds()

        buttons = [
            {
                **b,
                "low_battery": b["battery"] is not None and b["battery"] <= LOW_BATTERY_PERCENT,
                "last_click_age_s": age_of(b["last_click"]["at"]) if b["last_click"] else None,
            }
            for b in status["buttons"]
        ]
        sources = [
            {
                **s,
                "since_age_s": age_of(s.get("since")),
                "hubs": [
                    {**h, "heartbeat_age_s": age_of(h.get("last_heartbeat_at"))}
                    for h in s.get("hubs") or []
                ],
            }
            for s in status["sources"]
        ]
        return {
            "status": status,
            "sources": sources,
            "buttons": buttons,
            "dead": parts.outbox.rows("dead", limit=DEAD_LETTERS_SHOWN),
            "pending": parts.outbox.rows("pending", limit=PENDING_SHOWN),
            "now": now,
            "uptime_s": (now - parts.started_at).total_seconds(),
            "click_types": [c.value for c in ClickType],
            "low_battery_percent": LOW_BATTERY_PERCENT,
        }

    def render(self, *, message: str = "", error: str = "", status_code: int = 200) -> Response:
        html = self.env.get_template("status.html").render(
            **self.context(), message=message, error=error
        )
        return HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)

    async def page(self, request: Request) -> Response:
        return self.render(
            message=request.query_params.get("msg", "")[:200],
            error=request.query_params.get("err", "")[:200],
        )

    async def _form(self, request: Request) -> dict[str, str] | None:
        if int(request.headers.get("content-length") or 0) > MAX_FORM_BYTES:
            return None
        form = await request.form()
        return {k: v for k, v in form.items() if isinstance(v, str)}

    async def press_form(self, request: Request) -> Response:
        form = await self._form(request)
        if form is None:
            return self.render(error="form too large", status_code=413)
        if not token_ok(form.get("token"), self.parts.token):
            return self.render(
                error="Wrong or missing bridge token: nothing pressed.", status_code=401
            )
        name = form.get("button", "")
        spec = self.parts.registry.find(name)
        if spec is None:
            return self.render(error=f"No button named {name!r}.", status_code=404)
        try:
            click = ClickType(form.get("click") or "single")
        except ValueError:
            return self.render(error=f"Unknown click type {form.get('click')!r}.", status_code=422)
        try:
            accepted = await self.parts.pipeline.accept(
                RawClick(spec.address, click, "api", self.parts.clock())
            )
        except OutboxError as exc:
            return self.render(error=f"Click not stored: {exc}", status_code=503)
        return _back(msg=f"Pressed {spec.name} ({click.value}): event {accepted.event_id}")

    def _retry(self, target: str | None) -> int:
        count = self.parts.outbox.retry_dead(self.parts.clock(), target)
        for dispatcher in self.parts.targets.dispatchers:
            dispatcher.wake()
        log.info("outbox: %d dead letter(s) put back in line (target %s)", count, target or "all")
        return count

    async def retry_form(self, request: Request) -> Response:
        form = await self._form(request)
        if form is None:
            return self.render(error="form too large", status_code=413)
        if not token_ok(form.get("token"), self.parts.token):
            return self.render(
                error="Wrong or missing bridge token: nothing retried.", status_code=401
            )
        try:
            count = self._retry(form.get("target") or None)
        except OutboxError as exc:
            return self.render(error=f"Outbox not writable: {exc}", status_code=503)
        return _back(msg=f"{count} dead letter(s) sent back to the outbox")

    async def retry_api(self, request: Request) -> Response:
        """`POST /api/outbox/retry` (bridge token), body `{"target"?: str}` → `{"retried": n}`."""
        if not token_ok(_bearer(request), self.parts.token):
            return JSONResponse(
                {"error": "missing or wrong bridge token (Authorization: Bearer <token>)"},
                status_code=401,
            )
        raw = await request.body()
        target: str | None = None
        if raw.strip():
            try:
                body = json.loads(raw)
            except json.JSONDecodeError as exc:
                return JSONResponse({"error": f"body is not JSON: {exc}"}, status_code=422)
            if not isinstance(body, dict) or not isinstance(body.get("target", ""), str | None):
                return JSONResponse(
                    {"error": 'body must be {"target": "<target name>"} or empty'}, status_code=422
                )
            target = body.get("target") or None
        try:
            count = self._retry(target)
        except OutboxError as exc:
            return JSONResponse({"error": f"outbox not writable: {exc}"}, status_code=503)
        return JSONResponse({"retried": count, "target": target})


def _back(**params: str) -> Response:
    return RedirectResponse("/?" + urlencode(params), status_code=303)


def status_routes(parts: WebParts) -> list[BaseRoute]:
    """The page, its forms, the retry API and the page's static files."""
    page = StatusPage(parts)
    return [
        Route("/", page.page),
        Route("/ui/press", page.press_form, methods=["POST"]),
        Route("/ui/outbox/retry", page.retry_form, methods=["POST"]),
        Route("/api/outbox/retry", page.retry_api, methods=["POST"]),
        Mount("/static", StaticFiles(directory=str(PACKAGE_DIR / "static")), name="static"),
    ]
