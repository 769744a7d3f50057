"""HTTPS for `alert-server run`: `[server] tls_cert`/`tls_key` (or `--tls-cert/--tls-key`).

PagerDuty's official Python client only takes an `https://` base URL, so the server can
serve TLS itself (uvicorn's `ssl_certfile`/`ssl_keyfile`). The pair is loaded once before
uvicorn starts so a missing, unreadable or mismatched file is one clear error, not a trace.
"""

from __future__ import annotations

import ssl
from typing import Any

from server.config import ServerSection
from server.errors import AlertServerError


class TlsError(AlertServerError):
    """The TLS certificate or key cannot be used; the message names the file and why."""


def check_tls(server: ServerSection) -> None:
    """Raise `TlsError` unless the configured certificate and key load as a pair."""
    if server.tls_cert is None or server.tls_key is None:
        return
    for what, path in (("certificate", server.tls_cert), ("key", server.tls_key)):
        try:
            with open(path, "rb") as handle:
                handle.read(1)
        except OSError as exc:
            raise TlsError(f"cannot read the TLS {what} {path}: {exc.strerror}") from exc
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        # An empty password: an encrypted key fails here instead of prompting on the tty.
        context.load_cert_chain(server.tls_cert, server.tls_key, password=b"")
    except ssl.SSLError as exc:
        raise TlsError(
            f"the TLS certificate {server.tls_cert} and key {server.tls_key} do not load as a"
            f" PEM pair"
            f" (the key must match the certificate and not be encrypted): {exc.reason or exc}"
        ) from exc


def uvicorn_tls(server: ServerSection) -> dict[str, Any]:
    """The `uvicorn.Config` keywords for HTTPS (none when TLS is off)."""
    if server.tls_cert is None:
        return {}
    return {"ssl_certfile": server.tls_cert, "ssl_keyfile": server.tls_key}


def scheme(server: ServerSection) -> str:
    """`https` when the server serves TLS itself, else `http`."""
    return "https" if server.tls_cert is not None else "http"
