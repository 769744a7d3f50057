"""The board as a server plugin: routes, the stream's `AlertChange` subscription, shutdown."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.templating import Jinja2Templates

from server.board.routes import BoardState, router
from server.board.stream import AlertStream
from server.config import EscalationSection
from server.console.core import TEMPLATES_DIR
from server.context import AppContext
from server.escalation.deps import link_secret


def board_plugin(app: FastAPI, ctx: AppContext) -> None:
    """`/board`, `/board/link/{token}`, `/api/v1/stream` and the board's buttons."""
    stream = AlertStream(ctx)
    secret = link_secret(ctx.config, ctx.config.section("escalation", EscalationSection))
    ctx.provide(BoardState(stream, secret, Jinja2Templates(directory=str(TEMPLATES_DIR))))
    ctx.events.subscribe("board-stream", stream.on_change)
    # uvicorn waits for open responses before it stops: end the endless streams first.
    ctx.exit_hooks.append(stream.close_soon)
    app.include_router(router)
    ctx.metrics.add_collector(
        "alert_server_board_streams",
        "Boards connected to the alert stream.",
        lambda: [("alert_server_board_streams", (), float(stream.listeners))],
    )
