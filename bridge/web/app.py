"""The bridge's HTTP surface: status page and API, press injection, hub posts, health, metrics."""

from __future__ import annotations

import hmac
import logging
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bridge.clicks import state_for
from bridge.core.outbox import OutboxError
from bridge.models import ClickType, RawClick
from bridge.web.page import status_routes
from bridge.web.status import WebParts, status_of

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
_ADDRESS_CHARS = set("0123456789abcdef:")


class PressIn(BaseModel):
    """The body of `POST /api/press`."""

    model_config = ConfigDict(extra="forbid")
    button: str
    click: ClickType = ClickType.SINGLE
    drill: bool = False


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def _authorized(request: Request, token: str) -> bool:
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    if not token:  # an empty expected token would let an empty header in: never
        return False
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token)


async def _read_body(request: Request) -> bytes | None:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            return None
    return body


def create_app(parts: WebParts) -> Starlette:
    """The ASGI app of one running bridge."""

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "bridge": parts.bridge_name})

    async def status(request: Request) -> JSONResponse:
        return JSONResponse(status_of(parts))

    async def metrics(request: Request) -> PlainTextResponse:
        now = parts.clock()
        gauges: list[tuple[str, str, float, dict[str, str]]] = []
        for dispatcher in parts.targets.dispatchers:
            name = dispatcher.sink.name
            stats = parts.outbox.stats(now, name)
            labels = {"target": name}
            gauges += [
                ("flic_bridge_outbox_pending", "Rows waiting for delivery.", stats.pending, labels),
                ("flic_bridge_outbox_dead", "Rows refused for good.", stats.dead, labels),
                (
                    "flic_bridge_outbox_oldest_age_seconds",
                    "Age of the oldest pending row.",
                    stats.oldest_age_s or 0.0,
                    labels,
                ),
            ]
        total = parts.outbox.stats(now)
        gauges.append(("flic_bridge_outbox_depth", "Pending rows, all targets.", total.pending, {}))
        gauges += [
            (name, help_text, float(value), {})
            for name, help_text, value in (
                (
                    "flic_bridge_outbox_full",
                    "1 when the outbox is at [limits] max_outbox_clicks with nothing delivered"
                    " left to forget.",
                    parts.outbox.is_full(),
                ),
                (
                    "flic_bridge_outbox_forgotten",
                    "Delivered clicks forgotten to stay under the cap, since start.",
                    parts.outbox.forgotten,
                ),
                (
                    "flic_bridge_unknown_buttons",
                    "Unconfigured buttons remembered.",
                    parts.registry.unknown(),
                ),
                (
                    "flic_bridge_unknown_buttons_forgotten",
                    "Unconfigured buttons forgotten at [limits] max_unknown_buttons, since start.",
                    parts.registry.forgotten,
                ),
            )
        ]
        for supervisor in parts.supervisors:
            up = 1.0 if supervisor.state == "up" else 0.0
            gauges.append(
                (
                    "flic_bridge_source_up",
                    "1 when the source is connected.",
                    up,
                    {"source": supervisor.name},
                )
            )
        return PlainTextResponse(
            parts.metrics.render(gauges), media_type="text/plain; version=0.0.4"
        )

    async def press(request: Request) -> Response:
        if not _authorized(request, parts.token):
            return _error(401, "missing or wrong bridge token (Authorization: Bearer <token>)")
        raw = await _read_body(request)
        if raw is None:
            return _error(413, f"body over {MAX_BODY_BYTES} bytes")
        try:
            body = PressIn.model_validate_json(raw or b"{}")
        except ValidationError as exc:
            problems = [
                f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()
            ]
            return _error(422, "; ".join(problems))
        spec = parts.registry.find(body.button)
        address = spec.address if spec else body.button.strip().lower()
        if spec is None and not (len(address) == 17 and set(address) <= _ADDRESS_CHARS):
            return _error(404, f"no button named {body.button!r}")
        click = RawClick(address, body.click, "api", parts.clock(), drill=body.drill)
        try:
            accepted = await parts.pipeline.accept(click)
        except OutboxError as exc:
            log.error("press %s not stored: %s", body.button, exc)
            return _error(503, f"click not stored: {exc}")
        named = parts.registry.resolve(address)
        return JSONResponse(
            {
                "event_id": accepted.event_id,
                "duplicate": accepted.duplicate,
                "button": named.name,
                "click": body.click.value,
                "drill": body.drill,
                "state": state_for(named, body.click),
            },
            status_code=202,
        )

    async def hub_events(request: Request) -> Response:
        if not _authorized(request, parts.token):
            return _error(401, "missing or wrong bridge token (Authorization: Bearer <token>)")
        raw = await _read_body(request)
        if raw is None:
            return _error(413, f"body over {MAX_BODY_BYTES} bytes")
        hub = parts.hub.receiver
        if hub is None:  # the route exists only with a hub receiver
            return _error(404, "no hub receiver: [hub] is not enabled")
        try:
            code, answer = await hub.handle(raw)
        except OutboxError as exc:
            return _error(503, f"event not stored: {exc}")
        return JSONResponse(answer, status_code=code)

    routes = [
        *status_routes(parts),
        Route("/api/status", status),
        Route("/api/press", press, methods=["POST"]),
        Route("/healthz", healthz),
        Route("/metrics", metrics),
    ]
    if parts.hub.receiver is not None:
        routes.append(Route("/hub/events", hub_events, methods=["POST"]))
    return Starlette(routes=routes)
