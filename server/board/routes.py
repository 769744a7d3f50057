"""The board page, its acknowledge/close buttons, the stream endpoint and the link landing."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates

from server.alerts.actions import acknowledge_alert, close_alert
from server.alerts.store import ConflictError, NotFoundError
from server.board.access import (
    BOARD_COOKIE,
    BoardLinkError,
    Viewer,
    require_viewer,
    verify_board_link,
    viewer_of,
)
from server.board.stream import AlertStream
from server.console.core import PAGE_HEADERS
from server.context import Ctx, get_ctx

COOKIE_MAX_AGE_S = 400 * 86400  # browsers cap cookies at 400 days
# Board requests must carry this header: a cross-site form or image cannot add it (CSRF).
BOARD_HEADER = "x-board-request"
CLOSE_REFUSED = (
    "a board link can only view and acknowledge: close this alert from the console "
    "(logged in) or at the source (the button's Off)"
)

router = APIRouter(tags=["board"])


@dataclass(frozen=True, slots=True)
class BoardState:
    """The board's parts, one per app (`ctx.part(BoardState)`)."""

    stream: AlertStream
    secret: bytes
    templates: Jinja2Templates


def board_state(request: Request) -> BoardState:
    return get_ctx(request).part(BoardState)


State = Annotated[BoardState, Depends(board_state)]


async def viewer(request: Request) -> Viewer:
    """FastAPI dependency: the board viewer, else 401."""
    return await require_viewer(request, board_state(request).secret)


Watcher = Annotated[Viewer, Depends(viewer)]


@router.get("/board", response_class=HTMLResponse, response_model=None)
async def board_page(request: Request, state: State) -> Response:
    found = await viewer_of(request, state.secret)
    if found is None:
        return RedirectResponse("/login?next=/board", status_code=303)
    return state.templates.TemplateResponse(
        request,
        "board/board.html",
        {"viewer": found},
        headers=PAGE_HEADERS,
    )


@router.get("/board/link/{token}", response_model=None)
async def board_link(token: str, request: Request, ctx: Ctx, state: State) -> Response:
    """Open the board from a board link: keep the link in a cookie, show `/board`."""
    try:
        expires_at = verify_board_link(state.secret, token, ctx.clock())
    except BoardLinkError as exc:
        return HTMLResponse(
            "<!doctype html><title>Board link not valid</title><h1>Board link not valid</h1>"
            f"<p>{html.escape(str(exc))}. Ask for a new one (`alert-server board-link`).</p>",
            status_code=403,
            headers=PAGE_HEADERS,
        )
    max_age = COOKIE_MAX_AGE_S
    if expires_at is not None:
        max_age = min(max_age, max(1, int((expires_at - ctx.clock()).total_seconds())))
    response = RedirectResponse("/board", status_code=303)
    response.set_cookie(
        BOARD_COOKIE,
        token,
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.get("/api/v1/stream")
async def stream(state: State, who: Watcher) -> StreamingResponse:
    """Server-Sent Events: a `snapshot`, then an `alert` event per change, `ping`s between."""
    return StreamingResponse(
        state.stream.events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _check_header(request: Request) -> None:
    if request.headers.get(BOARD_HEADER) != "1":
        raise HTTPException(403, f"board actions need the header {BOARD_HEADER}: 1")


@router.post("/board/alerts/{alert_id}/acknowledge")
async def board_acknowledge(
    alert_id: int, request: Request, ctx: Ctx, who: Watcher
) -> dict[str, Any]:
    _check_header(request)
    return await _act(ctx, alert_id, who, close=False)


@router.post("/board/alerts/{alert_id}/close")
async def board_close(alert_id: int, request: Request, ctx: Ctx, who: Watcher) -> dict[str, Any]:
    _check_header(request)
    if not who.can_close:
        raise HTTPException(403, CLOSE_REFUSED)
    return await _act(ctx, alert_id, who, close=True)


async def _act(ctx: Ctx, alert_id: int, who: Viewer, *, close: bool) -> dict[str, Any]:
    action = close_alert if close else acknowledge_alert
    try:
        alert = await action(ctx, alert_id, by=f"{who.who} (board)")
    except NotFoundError as exc:
        raise HTTPException(404, str(exc)) from exc
    except ConflictError as exc:
        raise HTTPException(409, str(exc)) from exc
    return {"id": alert.id, "status": alert.status}
