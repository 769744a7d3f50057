"""hypothesis against the real bridge: `/hub/events` and `/api/press` over HTTP (real outbox),
and the config loader. No input gets a 500 or a crash; every 202 click is on disk."""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.app.runtime import Runtime
from bridge.config import Config, load_config, parse_config
from bridge.errors import ConfigError
from bridge.web.app import create_app

TOKEN = "fuzz-bridge-token"
FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
addresses = st.sampled_from(
    ["80:e4:da:71:40:01", "80:E4:DA:71:40:02", "80-e4", "", "zz:zz:zz:zz:zz:zz"]
)
hub_fields = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["click", "heartbeat", "Click", "", "dropped"]) | scalars,
        "bdaddr": addresses | scalars,
        "click": st.sampled_from(["single", "double", "hold", "click", "down", "up", "triple"])
        | scalars,
        "event_id": st.text(min_size=0, max_size=140) | scalars,
        "name": st.text(max_size=140) | scalars,
        "battery": st.integers(-5, 105) | scalars,
        "pressed_at": st.integers(-(2**64), 2**64)
        | st.sampled_from(["2026-11-26T07:00:00Z", "yesterday", "9999-12-31T23:59:59Z"])
        | scalars,
        "queued": scalars,
        "queued_s": st.floats() | scalars,
        "hub_id": st.text(max_size=70) | scalars,
        "buttons": st.lists(json_values, max_size=3) | scalars,
        "dropped": json_values,
    },
)
event_ids = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Zs", "Zl", "Zp", "Cs")),
    min_size=1,
    max_size=40,
)
valid_clicks = st.fixed_dictionaries(
    {
        "type": st.just("click"),
        "bdaddr": st.sampled_from(["80:e4:da:71:40:01", "80:E4:DA:71:40:02", "80:e4:da:71:40:03"]),
        "click": st.sampled_from(["single", "double", "hold", "click", "down", "up"]),
        "event_id": event_ids,
    },
    optional={
        "name": st.text(max_size=40),
        "battery": st.integers(0, 100),
        "pressed_at": st.integers(0, 2**48)
        | st.floats(0, 2**48)
        | st.sampled_from(["2026-11-26T07:00:00Z", "2026-11-26T07:00:00.123+01:00", "nonsense"]),
        "queued": st.booleans(),
        "queued_s": st.floats(0, 10**6) | st.integers(0, 10**6),
        "hub_id": st.text(min_size=1, max_size=20),
        "extra": json_values,
    },
)
bodies = (
    valid_clicks.map(lambda v: json.dumps(v).encode())
    | st.binary(max_size=400)
    | json_values.map(lambda v: json.dumps(v).encode())
    | hub_fields.map(lambda v: json.dumps(v).encode())
)
auth = st.sampled_from([f"Bearer {TOKEN}"] * 4 + [f"bearer {TOKEN}", "Bearer wrong", "", "Basic x"])


class Bridge:
    """A real Runtime (real outbox in a temp dir) served in process through httpx."""

    def __init__(self, state_dir: Path) -> None:
        config = parse_config(
            {
                "bridge": {"state_dir": str(state_dir), "token": TOKEN},
                "flicd": {"enabled": False},
                "hub": {"enabled": True},
                "forward": [{"url": "http://127.0.0.1:9/hook", "name": "target"}],
                "button": [{"address": "80:e4:da:71:40:01", "name": "known"}],
            }
        )
        self.runtime = Runtime(config, sources=[])
        self.loop = asyncio.new_event_loop()
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(self.runtime.web)),
            base_url="http://bridge",
        )

    def post(self, path: str, body: bytes, authorization: str) -> httpx.Response:
        headers = {"content-type": "application/json"}
        if authorization:
            headers["authorization"] = authorization
        return self.loop.run_until_complete(self.client.post(path, content=body, headers=headers))

    def close(self) -> None:
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()
        self.runtime.outbox.close()


@pytest.fixture
def bridge(tmp_path: Path) -> Iterator[Bridge]:
    made = Bridge(tmp_path / "state")
    assert made.runtime.hub is not None, "the hub receiver is part of this build"
    yield made
    made.close()


def check_answer(bridge: Bridge, response: httpx.Response) -> None:
    assert response.status_code < 500 or response.status_code == 503, response.text
    assert response.status_code != 503, f"the outbox refused a write: {response.text}"
    answer = response.json()
    if response.status_code == 202 and "event_id" in answer:
        assert bridge.runtime.outbox.has_event(answer["event_id"]), answer
    elif response.status_code >= 400:
        assert answer.get("error"), answer


@FUZZ
@given(body=bodies, authorization=auth)
def test_hub_events_never_fail_and_every_accepted_click_is_stored(
    bridge: Bridge, body: bytes, authorization: str
) -> None:
    response = bridge.post("/hub/events", body, authorization)
    check_answer(bridge, response)
    if authorization not in (f"Bearer {TOKEN}", f"bearer {TOKEN}"):
        assert response.status_code == 401


@FUZZ
@given(
    body=st.binary(max_size=200)
    | st.fixed_dictionaries(
        {},
        optional={
            "button": st.sampled_from(["known", "80:e4:da:71:40:09", "nobody", ""]) | scalars,
            "click": st.sampled_from(["single", "double", "hold", "nope"]) | scalars,
            "extra": scalars,
        },
    ).map(lambda v: json.dumps(v).encode())
)
def test_api_press_never_fails_and_every_accepted_press_is_stored(
    bridge: Bridge, body: bytes
) -> None:
    check_answer(bridge, bridge.post("/api/press", body, f"Bearer {TOKEN}"))


config_tables = st.fixed_dictionaries(
    {},
    optional={
        "bridge": st.dictionaries(
            st.sampled_from(["name", "state_dir", "listen", "token", "other"]), scalars, max_size=4
        )
        | scalars,
        "forward": st.lists(
            st.dictionaries(st.sampled_from(["url", "name", "timeout_s", "x"]), scalars, max_size=3)
            | scalars,
            max_size=3,
        )
        | scalars,
        "flicd": st.dictionaries(st.sampled_from(["enabled", "host", "port"]), scalars) | scalars,
        "hub": st.dictionaries(st.sampled_from(["enabled"]), scalars) | scalars,
        "mqtt": st.dictionaries(
            st.sampled_from(["enabled", "port", "base_topic", "discovery_prefix"]), scalars
        )
        | scalars,
        "button": st.lists(
            st.dictionaries(
                st.sampled_from(["address", "name", "on", "off", "info"]),
                scalars | st.lists(st.sampled_from(["single", "double", "hold", "x"]), max_size=3),
                max_size=5,
            )
            | scalars,
            max_size=3,
        )
        | scalars,
        "unknown": json_values,
    },
)


def config_or_problems(load: Callable[[], Config]) -> Config | list[str]:
    """The loaded config, or the problems its ConfigError lists (anything else propagates)."""
    try:
        return load()
    except ConfigError as exc:
        return list(exc.problems)


@FUZZ
@given(document=config_tables)
def test_the_config_loader_accepts_or_lists_problems_never_crashes(
    document: dict[str, Any],
) -> None:
    outcome = config_or_problems(lambda: parse_config(document))
    if not isinstance(outcome, Config):
        assert outcome
        assert all(isinstance(p, str) and p for p in outcome)


@FUZZ
@given(text=st.text(max_size=300) | st.binary(max_size=300))
def test_any_config_file_is_read_or_refused_with_a_clear_error(text: str | bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bridge.toml"
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8", errors="surrogatepass")
        outcome = config_or_problems(lambda: load_config(path))
        if not isinstance(outcome, Config):
            assert outcome
            assert all(p.startswith(str(path)) or ":" in p for p in outcome)
