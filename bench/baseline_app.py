"""The baseline: a bare FastAPI endpoint on uvicorn that only parses the Flic-guide body.

Run as `python -m bench.baseline_app PORT`, with the same uvicorn settings as the server.
"""

from __future__ import annotations

import json
import sys

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


def parse_guide_body(raw: bytes) -> dict[str, object]:
    """The Flic guide's key lines (trailing comma, maybe no braces) as a dict."""
    text = raw.decode().strip().rstrip(",")
    if not text.startswith("{"):
        text = "{" + text.rstrip(",") + "}"
    parsed = json.loads(text)
    return parsed if isinstance(parsed, dict) else {}


def create_app() -> FastAPI:
    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/inbound/{token}", status_code=202)
    async def inbound(token: str, request: Request) -> JSONResponse:
        body = parse_guide_body(await request.body())
        return JSONResponse({"status": "parsed", "keys": len(body)}, status_code=202)

    return app


def main() -> None:
    port = int(sys.argv[1])
    uvicorn.run(
        create_app(),
        host="127.0.0.1",
        port=port,
        access_log=False,
        log_level="warning",
        server_header=False,
    )


if __name__ == "__main__":
    main()
