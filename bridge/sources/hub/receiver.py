"""The bridge's receiver for Flic Hub modules: `POST /hub/events` clicks and heartbeats."""

from __future__ import annotations

import dataclasses
import hmac
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from bridge.models import ButtonSeen, RawClick
from bridge.sources.base import Accept, Observe
from bridge.sources.hub.bodies import (
    MAX_BODY_BYTES,
    BodyError,
    ClickBody,
    DroppedReport,
    HeartbeatBody,
    decode,
    parse_pressed_at,
    problems_of,
    queued_info,
)

log = logging.getLogger(__name__)

SOURCE = "hub"
DEFAULT_HEARTBEAT_S = 60.0
RECENT_EVENT_IDS = 10_000
MAX_HUBS = 100


@dataclass(frozen=True, slots=True)
class KnownButton:
    """A button as its hub last described it."""

    address: str
    name: str | None
    battery: int | None
    connected: bool | None


@dataclass(frozen=True, slots=True)
class HubState:
    """What the bridge knows about one hub."""

    hub_id: str
    last_heartbeat_at: datetime | None = None
    last_click_at: datetime | None = None
    buttons: tuple[KnownButton, ...] = ()
    dropped_total: int = 0
    last_dropped_event_ids: tuple[str, ...] = ()
    rejected_total: int = 0
    pending: int | None = None
    uptime_s: float | None = None
    heartbeat_s: float | None = None  # the interval the hub says it keeps


def authorized(authorization: str | None, token: str) -> bool:
    """True when an Authorization header carries `Bearer <token>` (constant-time compare)."""
    if not token or not authorization:
        return False
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(value.strip().encode(), token.encode())


def hub_online(state: HubState, now: datetime, offline_after_s: float) -> bool:
    """Online while the last heartbeat is younger than `offline_after_s`, or than three of the
    hub's own intervals when it says it beats more slowly."""
    if state.last_heartbeat_at is None:
        return False
    limit_s = max(offline_after_s, 3 * (state.heartbeat_s or 0.0))
    return (now - state.last_heartbeat_at).total_seconds() <= limit_s


def _last_contact(state: HubState) -> datetime:
    times = [t for t in (state.last_heartbeat_at, state.last_click_at) if t is not None]
    return max(times, default=datetime.min.replace(tzinfo=UTC))


def _summary(hub: dict[str, Any]) -> str:
    """One line for the status page: "hub-1 online, heartbeat 12 s ago, 2 buttons"."""
    age = hub["last_heartbeat_age_s"]
    seen = "no heartbeat yet" if age is None else f"heartbeat {age:.0f} s ago"
    text = f"{hub['hub_id']} {hub['state']}, {seen}, {len(hub['buttons'])} button(s)"
    if hub["dropped_total"]:
        text += f", {hub['dropped_total']} press(es) dropped on the hub"
    return text


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat().replace("+00:00", "Z")


class HubReceiver:
    """Validates hub posts, hands clicks to the runtime, and keeps each hub's heartbeat state."""

    def __init__(
        self,
        accept: Accept,
        observe: Observe,
        now: Callable[[], datetime],
        offline_after_s: float = 3 * DEFAULT_HEARTBEAT_S,
    ) -> None:
        self._accept = accept
        self._observe = observe
        self._now = now
        self.offline_after_s = offline_after_s
        self._hubs: dict[str, HubState] = {}
        self._recent: OrderedDict[str, None] = OrderedDict()

    async def handle(self, body: bytes) -> tuple[int, dict[str, Any]]:
        """Answer one `/hub/events` body: 202 when taken, 4xx naming the problem, 503 to retry."""
        try:
            data = decode(body)
        except BodyError as exc:
            status = 413 if len(body) > MAX_BODY_BYTES else 400
            return self._refuse(status, str(exc))
        kind = data.get("type")
        try:
            if kind == "click":
                return await self._click(ClickBody.model_validate(data))
            if kind == "heartbeat":
                return self._heartbeat(HeartbeatBody.model_validate(data))
        except ValidationError as exc:
            return self._refuse(422, f"invalid {kind} body", problems_of(exc))
        except BodyError as exc:
            return self._refuse(422, f"invalid {kind} body", [str(exc)])
        return self._refuse(422, 'type: must be "click" or "heartbeat"')

    def status(self) -> dict[str, Any]:
        """Every hub heard from: last heartbeat, online or offline, buttons, drops."""
        now = self._now()
        hubs = []
        for state in self._hubs.values():
            online = hub_online(state, now, self.offline_after_s)
            age = None
            if state.last_heartbeat_at is not None:
                age = round((now - state.last_heartbeat_at).total_seconds(), 1)
            hubs.append(
                {
                    "hub_id": state.hub_id,
                    "state": "online" if online else "offline",
                    "online": online,
                    "last_heartbeat_at": _iso(state.last_heartbeat_at),
                    "last_heartbeat_age_s": age,
                    "last_click_at": _iso(state.last_click_at),
                    "buttons": [dataclasses.asdict(button) for button in state.buttons],
                    "dropped_total": state.dropped_total,
                    "last_dropped_event_ids": list(state.last_dropped_event_ids),
                    "rejected_total": state.rejected_total,
                    "pending": state.pending,
                    "uptime_s": state.uptime_s,
                }
            )
        if not hubs:
            overall = "waiting"
        elif any(h["online"] for h in hubs):
            overall = "online"
        else:
            overall = "offline"
        return {
            "state": overall,
            "detail": "; ".join(_summary(h) for h in hubs) or "no hub has sent a heartbeat yet",
            "offline_after_s": self.offline_after_s,
            "hubs": hubs,
        }

    async def _click(self, body: ClickBody) -> tuple[int, dict[str, Any]]:
        now = self._now()
        address = body.bdaddr.lower()
        if body.event_id in self._recent:
            log.debug("hub click %s is a repeat: already stored", body.event_id)
            return 202, {"status": "accepted", "event_id": body.event_id, "duplicate": True}
        pressed_at = parse_pressed_at(body.pressed_at, now)
        queued, queued_s = queued_info(body.queued, body.queued_s, pressed_at, now)
        name_hint = (body.name or "").strip() or None
        raw = RawClick(
            address=address,
            click_type=body.click,
            source=SOURCE,
            pressed_at=pressed_at,
            queued=queued,
            queued_s=queued_s,
            event_id=body.event_id,
            name_hint=name_hint,
        )
        try:
            accepted = await self._accept(raw)
        except Exception:
            log.exception("hub click %s from %s could not be stored", body.event_id, address)
            return 503, {"error": "the bridge could not store the click; retry later"}
        self._remember(accepted.event_id)
        self._remember(body.event_id)
        if body.hub_id is not None:
            state = self._hub(body.hub_id)
            self._put(dataclasses.replace(state, last_click_at=now))
        self._see(address, now, connected=True, battery=body.battery, name=name_hint)
        log.info(
            "hub click %s: %s %s (duplicate=%s)",
            accepted.event_id,
            address,
            body.click.value,
            accepted.duplicate,
        )
        return 202, {
            "status": "accepted",
            "event_id": accepted.event_id,
            "duplicate": accepted.duplicate,
        }

    def _heartbeat(self, body: HeartbeatBody) -> tuple[int, dict[str, Any]]:
        now = self._now()
        if isinstance(body.dropped, DroppedReport):
            dropped: DroppedReport = body.dropped
        else:
            dropped = DroppedReport(count=body.dropped)
        dropped_count = dropped.count
        state = self._hub(body.hub_id)
        buttons = tuple(
            KnownButton(b.bdaddr.lower(), (b.name or "").strip() or None, b.battery, b.connected)
            for b in body.buttons
        )
        last_ids = state.last_dropped_event_ids
        if dropped.event_ids:
            last_ids = tuple(dropped.event_ids[-50:])
        if dropped_count:
            log.warning(
                "hub %s dropped %d press(es) while the bridge was unreachable: %s",
                body.hub_id,
                dropped_count,
                ", ".join(last_ids) or "ids unknown",
            )
        self._put(
            dataclasses.replace(
                state,
                last_heartbeat_at=now,
                buttons=buttons,
                dropped_total=state.dropped_total + dropped_count,
                last_dropped_event_ids=last_ids,
                rejected_total=state.rejected_total + len(body.rejected),
                pending=body.pending,
                uptime_s=body.uptime_s,
                heartbeat_s=body.heartbeat_s,
            )
        )
        for button in buttons:
            self._see(
                button.address,
                now,
                connected=button.connected,
                battery=button.battery,
                name=button.name,
            )
        return 202, {"status": "ok", "hub_id": body.hub_id, "buttons": len(body.buttons)}

    def _refuse(
        self, status: int, detail: str, problems: list[str] | None = None
    ) -> tuple[int, dict[str, Any]]:
        log.warning("hub post refused (%d): %s %s", status, detail, "; ".join(problems or []))
        answer: dict[str, Any] = {"error": detail}
        if problems:
            answer["problems"] = problems
        return status, answer

    def _hub(self, hub_id: str) -> HubState:
        return self._hubs.get(hub_id) or HubState(hub_id=hub_id)

    def _put(self, state: HubState) -> None:
        self._hubs[state.hub_id] = state
        if len(self._hubs) > MAX_HUBS:  # forget the hub heard from longest ago
            del self._hubs[min(self._hubs.values(), key=_last_contact).hub_id]

    def _remember(self, event_id: str) -> None:
        self._recent[event_id] = None
        self._recent.move_to_end(event_id)
        while len(self._recent) > RECENT_EVENT_IDS:
            self._recent.popitem(last=False)

    def _see(
        self,
        address: str,
        now: datetime,
        *,
        connected: bool | None,
        battery: int | None,
        name: str | None,
    ) -> None:
        try:
            self._observe(
                ButtonSeen(
                    address=address,
                    source=SOURCE,
                    seen_at=now,
                    connected=connected,
                    battery=battery,
                    name_hint=name,
                )
            )
        except Exception:
            log.exception("observer failed for hub button %s", address)
