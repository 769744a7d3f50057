"""People and escalation API (admin): users, groups, schedules, policies, who is on call."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Query

from server.auth.admin import require_admin
from server.context import Ctx
from server.escalation.api.people_models import (
    GroupIn,
    OverrideIn,
    PolicyIn,
    ScheduleIn,
    UserIn,
    group_json,
    policy_json,
    schedule_json,
    user_json,
)
from server.escalation.deps import EscalationRuntime, runtime
from server.escalation.people import iso
from server.escalation.schedules import on_call
from server.notify.apprise_channel import usable_url

R = TypeVar("R")
Rt = Annotated[EscalationRuntime, Depends(runtime)]

router = APIRouter(prefix="/api/v1", tags=["people"], dependencies=[Depends(require_admin)])


async def _db(ctx: Ctx, fn: Callable[[], R]) -> R:
    return await ctx.db.run(fn)


def _unknown(kind: str, missing: list[int]) -> HTTPException:
    return HTTPException(422, f"unknown {kind} id(s): {', '.join(map(str, missing))}")


def _not_found(kind: str, ident: int) -> HTTPException:
    return HTTPException(404, f"{kind} {ident} does not exist")


# --- users ------------------------------------------------------------------------------


def _check_user(body: UserIn) -> None:
    for i, (url, _) in enumerate(body.pairs()):
        if not usable_url(url):
            raise HTTPException(422, f"contacts[{i}]: {url.split('://')[0]!r} URL is not usable")


@router.post("/users", status_code=201)
async def create_user(body: UserIn, ctx: Ctx, rt: Rt) -> dict[str, Any]:
    _check_user(body)
    user_id = await _db(ctx, lambda: rt.store.add_user(body.to_user(), rt.clock()))
    return user_json(body.to_user(user_id))


@router.get("/users")
async def list_users(ctx: Ctx, rt: Rt) -> dict[str, Any]:
    return {"items": [user_json(u) for u in await _db(ctx, rt.store.users)]}


@router.get("/users/{user_id}")
async def get_user(user_id: int, ctx: Ctx, rt: Rt) -> dict[str, Any]:
    user = await _db(ctx, lambda: rt.store.user(user_id))
    if user is None:
        raise _not_found("user", user_id)
    return user_json(user)


@router.put("/users/{user_id}")
async def replace_user(user_id: int, body: UserIn, ctx: Ctx, rt: Rt) -> dict[str, Any]:
    _check_user(body)
    if not await _db(ctx, lambda: rt.store.replace_user(body.to_user(user_id))):
        raise _not_found("user", user_id)
    return user_json(body.to_user(user_id))


# --- groups -----------------------------------------------------------------------------


@router.post("/groups", status_code=201)
async def create_group(body: GroupIn, ctx: Ctx, rt: Rt) -> dict[str, Any]:
    def add() -> int:
        missing = rt.store.missing_users(set(body.members))
        if missing:
            raise _unknown("user", missing)
        return rt.store.add_group(body.to_group(), rt.clock())

    return group_json(body.to_group(await _db(ctx, add)))


@router.get("/groups")
async def list_groups(ctx: Ctx, rt: Rt) -> dict[str, Any]:
    return {"items": [group_json(g) for g in await _db(ctx, rt.store.groups)]}


@router.get("/groups/{group_id}")
async def get_group(group_id: int, ctx: Ctx, rt: Rt) -> dict[str, Any]:
    found = [g for g in await _db(ctx, rt.store.groups) if g.id == group_id]
    if not found:
        raise _not_found("group", group_id)
    return group_json(found[0])


@router.put("/groups/{group_id}")
async def replace_group(group_id: int, body: GroupIn, ctx: Ctx, rt: Rt) -> dict[str, Any]:
    def put() -> bool:
        missing = rt.store.missing_users(set(body.members))
        if missing:
            raise _unknown("user", missing)
        return rt.store.replace_group(body.to_group(group_id))

    if not await _db(ctx, put):
        raise _not_found("group", group_id)
    return group_json(body.to_group(group_id))


# --- schedules --------------------------------------------------------------------------


@router.post("/schedules", status_code=201)
async def create_schedule(body: ScheduleIn, ctx: Ctx, rt: Rt) -> dict[str, Any]:
    def add() -> dict[str, Any]:
        missing = rt.store.missing_users(body.user_ids())
        if missing:
            raise _unknown("user", missing)
        schedule_id = rt.store.add_schedule(body.name, body.to_schedule(), rt.clock())
        return _schedule(rt, schedule_id)

    return await _db(ctx, add)


def _schedule(rt: EscalationRuntime, schedule_id: int) -> dict[str, Any]:
    found = [s for s in rt.store.schedules() if s.id == schedule_id]
    if not found:
        raise _not_found("schedule", schedule_id)
    return schedule_json(found[0])


@router.get("/schedules")
async def list_schedules(ctx: Ctx, rt: Rt) -> dict[str, Any]:
    return {"items": [schedule_json(s) for s in await _db(ctx, rt.store.schedules)]}


@router.get("/schedules/{schedule_id}")
async def get_schedule(schedule_id: int, ctx: Ctx, rt: Rt) -> dict[str, Any]:
    return await _db(ctx, lambda: _schedule(rt, schedule_id))


@router.put("/schedules/{schedule_id}")
async def replace_schedule(schedule_id: int, body: ScheduleIn, ctx: Ctx, rt: Rt) -> dict[str, Any]:
    def put() -> dict[str, Any]:
        missing = rt.store.missing_users(body.user_ids())
        if missing:
            raise _unknown("user", missing)
        if not rt.store.replace_schedule(schedule_id, body.name, body.to_schedule()):
            raise _not_found("schedule", schedule_id)
        return _schedule(rt, schedule_id)

    return await _db(ctx, put)


@router.post("/schedules/{schedule_id}/overrides", status_code=201)
async def add_override(schedule_id: int, body: OverrideIn, ctx: Ctx, rt: Rt) -> dict[str, Any]:
    def add() -> dict[str, Any]:
        _schedule(rt, schedule_id)
        ids = {body.user} | ({body.replaces} if body.replaces is not None else set())
        missing = rt.store.missing_users(ids)
        if missing:
            raise _unknown("user", missing)
        override_id = rt.store.add_override(schedule_id, body.to_override())
        return {"id": override_id, "schedule_id": schedule_id, **body.model_dump(mode="json")}

    return await _db(ctx, add)


@router.get("/oncall")
async def who_is_on_call(
    ctx: Ctx,
    rt: Rt,
    schedule_id: int | None = None,
    at: Annotated[
        str | None, Query(description="ISO 8601 instant with offset; default now")
    ] = None,
) -> dict[str, Any]:
    when = _instant(at) if at is not None else rt.clock()

    def read() -> dict[str, Any]:
        schedules = rt.store.schedules()
        if schedule_id is not None:
            schedules = [s for s in schedules if s.id == schedule_id]
            if not schedules:
                raise _not_found("schedule", schedule_id)
        users = {u.id: u for u in rt.store.users()}
        items = [
            {
                "schedule_id": s.id,
                "name": s.name,
                "users": [user_json(users[u]) for u in on_call(s.schedule, when) if u in users],
            }
            for s in schedules
        ]
        if schedule_id is not None:
            return {"at": iso(when), **items[0]}
        return {"at": iso(when), "items": items}

    return await _db(ctx, read)


def _instant(text: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise HTTPException(422, f"at: {text!r} is not an ISO 8601 date-time") from exc
    if parsed.tzinfo is None:
        raise HTTPException(422, "at: give a UTC offset, e.g. 2026-11-26T07:00:00Z")
    return parsed.astimezone(UTC)


# --- escalation policies ----------------------------------------------------------------


def _check_policy(rt: EscalationRuntime, body: PolicyIn) -> None:
    wanted: dict[str, set[int]] = {"user": set(), "group": set(), "schedule": set()}
    for step in body.steps:
        for target in step.notify:
            for kind, ident in target.items():
                wanted[kind].add(ident)
    known = {
        "user": {u.id for u in rt.store.users()},
        "group": {g.id for g in rt.store.groups()},
        "schedule": {s.id for s in rt.store.schedules()},
    }
    for name, ids in wanted.items():
        if ids - known[name]:
            raise _unknown(name, sorted(ids - known[name]))


@router.post("/escalation-policies", status_code=201)
async def create_policy(body: PolicyIn, ctx: Ctx, rt: Rt) -> dict[str, Any]:
    def add() -> dict[str, Any]:
        _check_policy(rt, body)
        policy_id = rt.store.add_policy(body.name, body.to_policy(), rt.clock())
        return _policy(rt, policy_id)

    return await _db(ctx, add)


def _policy(rt: EscalationRuntime, policy_id: int) -> dict[str, Any]:
    found = rt.store.policy(policy_id)
    if found is None:
        raise _not_found("escalation policy", policy_id)
    return policy_json(found)


@router.get("/escalation-policies")
async def list_policies(ctx: Ctx, rt: Rt) -> dict[str, Any]:
    return {"items": [policy_json(p) for p in await _db(ctx, rt.store.policies)]}


@router.get("/escalation-policies/{policy_id}")
async def get_policy(policy_id: int, ctx: Ctx, rt: Rt) -> dict[str, Any]:
    return await _db(ctx, lambda: _policy(rt, policy_id))


@router.put("/escalation-policies/{policy_id}")
async def replace_policy(policy_id: int, body: PolicyIn, ctx: Ctx, rt: Rt) -> dict[str, Any]:
    def put() -> dict[str, Any]:
        _check_policy(rt, body)
        if not rt.store.replace_policy(policy_id, body.name, body.to_policy()):
            raise _not_found("escalation policy", policy_id)
        return _policy(rt, policy_id)

    return await _db(ctx, put)


_TABLES = {
    "users": ("users", "user"),
    "groups": ("user_groups", "group"),
    "schedules": ("schedules", "schedule"),
    "escalation-policies": ("escalation_policies", "escalation policy"),
}


def _deleter(path: str) -> None:
    table, kind = _TABLES[path]

    async def delete(item_id: int, ctx: Ctx, rt: Rt) -> dict[str, Any]:
        def remove() -> bool:
            if table == "escalation_policies":
                users = rt.store.integrations_using(item_id)
                if users:
                    raise HTTPException(
                        409,
                        f"escalation policy {item_id} is used by integration(s) "
                        f"{', '.join(map(str, users))}: point them elsewhere first",
                    )
            return rt.store.delete(table, item_id)

        if not await _db(ctx, remove):
            raise _not_found(kind, item_id)
        return {"deleted": item_id}

    router.add_api_route(f"/{path}/{{item_id}}", delete, methods=["DELETE"], name=f"delete {kind}")


for _path in _TABLES:
    _deleter(_path)


@router.get("/escalations/{alert_id}")
async def escalation_of(alert_id: int, ctx: Ctx, rt: Rt) -> dict[str, Any]:
    """An alert's escalation state and every page queued for it, with outcomes."""

    def read() -> dict[str, Any]:
        state = rt.store.escalation(alert_id)
        if state is None:
            raise HTTPException(404, f"alert {alert_id} has no escalation")
        pages = [
            {
                "id": n.id,
                "user_id": n.user_id,
                "step": n.step + 1,
                "repeat": n.cycle,
                "kind": n.contact.kind,
                "status": n.status,
                "attempts": n.attempt,
                "last_error": n.last_error,
            }
            for n in rt.store.notifications(alert_id)
        ]
        return {
            "alert_id": alert_id,
            "policy_id": state.policy_id,
            "status": state.status,
            "next_step": state.step + 1,
            "repeat": state.cycle,
            "next_at": None if state.next_at is None else iso(state.next_at),
            "reason": state.reason,
            "notifications": pages,
        }

    return await _db(ctx, read)
