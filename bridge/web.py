"""The bridge's HTTP surface: status page and API, press injection, hub posts, health, metrics."""

from __future__ import annotations

import hmac
import html
import logging
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bridge.clicks import state_for
from bridge.models import ClickType, RawClick
from bridge.outbox import OutboxError

if TYPE_CHECKING:
    from bridge.runtime import Runtime

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
_ADDRESS_CHARS = set("0123456789abcdef:")


class PressIn(BaseModel):
    """The body of `POST /api/press`."""

    model_config = ConfigDict(extra="forbid")
    button: str
    click: ClickType = ClickType.SINGLE


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def _authorized(request: Request, token: str) -> bool:
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token)


async def _read_body(request: Request) -> bytes | None:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            return None
    return body


def create_app(runtime: Runtime) -> Starlette:
    """The ASGI app of one running bridge."""

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "bridge": runtime.config.bridge.name})

    async def status(request: Request) -> JSONResponse:
        return JSONResponse(runtime.status())

    async def page(request: Request) -> HTMLResponse:
        return HTMLResponse(_render_page(runtime.status(), runtime))

    async def metrics(request: Request) -> PlainTextResponse:
        now = runtime.clock()
        gauges: list[tuple[str, str, float, dict[str, str]]] = []
        for dispatcher in runtime.dispatchers:
            name = dispatcher.sink.name
            stats = runtime.outbox.stats(now, name)
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
        total = runtime.outbox.stats(now)
        gauges.append(("flic_bridge_outbox_depth", "Pending rows, all targets.", total.pending, {}))
        for supervisor in runtime.supervisors:
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
            runtime.metrics.render(gauges), media_type="text/plain; version=0.0.4"
        )

    async def press(request: Request) -> Response:
        if not _authorized(request, runtime.token):
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
        spec = runtime.registry.find(body.button)
        address = spec.address if spec else body.button.strip().lower()
        if spec is None and not (len(address) == 17 and set(address) <= _ADDRESS_CHARS):
            return _error(404, f"no button named {body.button!r}")
        click = RawClick(address, body.click, "api", runtime.clock())
        try:
            accepted = await runtime.accept(click)
        except OutboxError as exc:
            log.error("press %s not stored: %s", body.button, exc)
            return _error(503, f"click not stored: {exc}")
        named = runtime.registry.resolve(address)
        return JSONResponse(
            {
                "event_id": accepted.event_id,
                "duplicate": accepted.duplicate,
                "button": named.name,
                "click": body.click.value,
                "state": state_for(named, body.click),
            },
            status_code=202,
        )

    async def hub_events(request: Request) -> Response:
        if not _authorized(request, runtime.token):
            return _error(401, "missing or wrong bridge token (Authorization: Bearer <token>)")
        raw = await _read_body(request)
        if raw is None:
            return _error(413, f"body over {MAX_BODY_BYTES} bytes")
        try:
            code, answer = await runtime.hub.handle(raw)
        except OutboxError as exc:
            return _error(503, f"event not stored: {exc}")
        return JSONResponse(answer, status_code=code)

    routes = [
        Route("/", page),
        Route("/api/status", status),
        Route("/api/press", press, methods=["POST"]),
        Route("/healthz", healthz),
        Route("/metrics", metrics),
    ]
    if runtime.hub is not None:
        routes.append(Route("/hub/events", hub_events, methods=["POST"]))
    return Starlette(routes=routes)


def _render_page(status: dict[str, Any], runtime: Runtime) -> str:
    esc = html.escape
    rows = "".join(
        f"<tr><td>{esc(str(b['name']))}{'' if b['configured'] else ' <em>(unconfigured)</em>'}</td>"
        f"<td><code>{esc(b['address'])}</code></td><td>{_yes_no(b['connected'])}</td>"
        f"<td>{'' if b['battery'] is None else str(b['battery']) + ' %'}</td>"
        f"<td>{esc(_last(b['last_click']))}</td></tr>"
        for b in status["buttons"]
    )
    sources = "".join(
        f"<li>{esc(s['name'])}: <b>{esc(str(s['state']))}</b> {esc(str(s.get('detail') or ''))}</li>"  # noqa: E501
        for s in status["sources"]
    )
    targets = "".join(
        f"<li>{esc(t['name'])}: {t['pending']} pending, {t['dead']} dead"
        f"{' — failing: ' + esc(t['last_error']) if t['failing_since'] and t['last_error'] else ''}"
        "</li>"
        for t in status["targets"]
    )
    dead = runtime.outbox.rows("dead", limit=20)
    dead_rows = "".join(
        f"<tr><td>{esc(r.button_name)}</td><td>{esc(r.click_type)}</td><td>{esc(r.target)}</td>"
        f"<td>{esc(r.last_error or '')}</td><td><code>{esc(r.event_id)}</code></td></tr>"
        for r in dead
    )
    box = status["outbox"]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>flic-bridge {esc(status["bridge"])}</title>
<meta http-equiv="refresh" content="5">
<style>body{{font-family:system-ui,sans-serif;margin:2em}}td,th{{padding:.2em .8em;text-align:left}}</style>
</head><body>
<h1>flic-bridge <small>{esc(status["bridge"])}</small></h1>
<h2>Sources</h2><ul>{sources or "<li>none</li>"}</ul>
<h2>Buttons</h2>
<table><tr><th>name</th><th>address</th><th>connected</th><th>battery</th><th>last click</th></tr>
{rows or '<tr><td colspan="5">no buttons yet</td></tr>'}</table>
<h2>Outbox</h2>
<p>{box["pending"]} pending (oldest {box["oldest_age_s"] or 0:.0f} s), {box["delivered"]} delivered,
<b>{box["dead"]} dead</b></p><ul>{targets or "<li>no targets configured</li>"}</ul>
{"<h2>Dead letters</h2><table><tr><th>button</th><th>click</th><th>target</th><th>error</th><th>event</th></tr>" + dead_rows + "</table><p>Send them again with <code>flic-bridge outbox retry</code>.</p>" if dead_rows else ""}
<p><a href="/api/status">/api/status</a> · <a href="/metrics">/metrics</a></p>
</body></html>
"""  # noqa: E501


def _yes_no(value: bool | None) -> str:
    return "?" if value is None else ("yes" if value else "no")


def _last(last: dict[str, Any] | None) -> str:
    return "" if last is None else f"{last['click_type']} at {last['at']} via {last['source']}"
