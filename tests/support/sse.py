"""A real HTTP client reading Server-Sent Events, in a thread, for tests."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.support.procs import wait_until


@dataclass(frozen=True)
class Event:
    event: str
    data: Any
    id: str | None
    retry: int | None


@dataclass
class SseReader:
    """Reads `url` as an event stream until the server ends it or `close()`."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    status: int | None = None
    content_type: str = ""
    ended: threading.Event = field(default_factory=threading.Event)
    _client: httpx.Client | None = None
    _response: httpx.Response | None = None

    def start(self) -> SseReader:
        self._client = httpx.Client(headers=self.headers, cookies=self.cookies, timeout=None)
        threading.Thread(target=self._read, daemon=True).start()
        wait_until(lambda: self.status is not None, what="the stream's answer")
        return self

    def _read(self) -> None:
        assert self._client is not None
        fields: dict[str, str] = {}
        data: list[str] = []
        try:
            with self._client.stream("GET", self.url) as response:
                self._response = response
                self.status = response.status_code
                self.content_type = response.headers.get("content-type", "")
                for line in response.iter_lines():
                    if line == "":
                        if data or fields:
                            raw = "\n".join(data)
                            self.events.append(
                                Event(
                                    fields.get("event", "message"),
                                    json.loads(raw) if raw else None,
                                    fields.get("id"),
                                    int(fields["retry"]) if "retry" in fields else None,
                                )
                            )
                        fields, data = {}, []
                    elif line.startswith(":"):
                        continue
                    else:
                        name, _, value = line.partition(":")
                        value = value.removeprefix(" ")
                        if name == "data":
                            data.append(value)
                        else:
                            fields[name] = value
        except (httpx.HTTPError, RuntimeError, OSError):  # closed under us: the stream ended
            pass
        finally:
            if self.status is None:
                self.status = -1
            self.ended.set()

    def count_of(self, name: str) -> Callable[[], int]:
        """A function counting the `name` events so far."""
        return lambda: len(self.named(name))

    def named(self, name: str) -> list[Event]:
        return [e for e in self.events if e.event == name]

    def wait_for(self, count: int, name: str = "alert") -> list[Event]:
        return wait_until(
            lambda: self.named(name) if len(self.named(name)) >= count else None,
            timeout=10,
            what=f"{count} {name} event(s)",
        )

    def close(self) -> None:
        """Hang up (the reading thread ends with the connection)."""
        if self._response is not None and not self.ended.is_set():
            # A blocked read wakes only when the socket is shut down under it.
            sock = self._response.extensions["network_stream"].get_extra_info("socket")
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self.ended.wait(10)
        if self._client is not None:
            self._client.close()
