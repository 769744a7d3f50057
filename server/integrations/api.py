"""Admin API for integrations: CRUD, rotate-token, and the "Test URL" dry run."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from server.alerts.store import Integration, NotFoundError
from server.auth.admin import require_admin
from server.context import AppContext, Ctx
from server.fields import RowId
from server.inbound.mapping import MappingSpec
from server.inbound.pipeline import accept, in_maintenance, judge
from server.integrations.kinds import default_sample, resolve_mapping

router = APIRouter(
    prefix="/api/v1/integrations", tags=["integrations"], dependencies=[Depends(require_admin)]
)


class IntegrationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    kind: str = "flic"
    mapping: MappingSpec | None = None
    escalation_policy_id: RowId | None = None
    urgent_policy_id: RowId | None = None
    close_from_source_only: bool = False
    sample_data: Any = None


class IntegrationPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    mapping: MappingSpec | None = None
    escalation_policy_id: RowId | None = None
    urgent_policy_id: RowId | None = None
    close_from_source_only: bool | None = None
    sample_data: Any = None
    maintenance_until: AwareDatetime | None = None


class TestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    payload: Any = None
    dry_run: bool = True


def integration_json(integration: Integration, base_url: str | None = None) -> dict[str, Any]:
    out = {
        "id": integration.id,
        "name": integration.name,
        "kind": integration.kind,
        "token": integration.token,
        "inbound_path": integration.inbound_path,
        "mapping": integration.mapping,
        "sample_data": integration.sample_data,
        "escalation_policy_id": integration.escalation_policy_id,
        "urgent_policy_id": integration.urgent_policy_id,
        "close_from_source_only": integration.close_from_source_only,
        "maintenance_until": integration.maintenance_until,
        "created_at": integration.created_at,
        "updated_at": integration.updated_at,
    }
    if base_url:
        out["inbound_url"] = base_url.rstrip("/") + integration.inbound_path
    return out


async def _get(ctx: AppContext, integration_id: int) -> Integration:
    try:
        return await ctx.db.run(ctx.store.get_integration, integration_id)
    except NotFoundError as exc:
        raise HTTPException(404, str(exc)) from exc


@router.post("", status_code=201)
async def create(body: IntegrationIn, ctx: Ctx) -> dict[str, Any]:
    try:
        mapping = resolve_mapping(body.kind, body.mapping)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    sample = body.sample_data if body.sample_data is not None else default_sample(body.kind)
    integration = await ctx.db.run(
        lambda: ctx.store.create_integration(
            name=body.name,
            kind=body.kind,
            mapping=mapping,
            now=ctx.clock(),
            sample_data=sample,
            escalation_policy_id=body.escalation_policy_id,
            urgent_policy_id=body.urgent_policy_id,
            close_from_source_only=body.close_from_source_only,
        )
    )
    return integration_json(integration, ctx.config.server.public_url)


@router.get("")
async def list_all(ctx: Ctx) -> dict[str, Any]:
    items = await ctx.db.run(ctx.store.list_integrations)
    return {"items": [integration_json(i, ctx.config.server.public_url) for i in items]}


@router.get("/{integration_id}")
async def get_one(integration_id: int, ctx: Ctx) -> dict[str, Any]:
    return integration_json(await _get(ctx, integration_id), ctx.config.server.public_url)


@router.patch("/{integration_id}")
async def patch(integration_id: int, body: IntegrationPatch, ctx: Ctx) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for key in body.model_fields_set:
        value = getattr(body, key)
        if key == "mapping":
            if value is None:
                raise HTTPException(422, "mapping cannot be null")
            value = value.model_dump(exclude_none=True)
        if key in ("name", "close_from_source_only") and value is None:
            raise HTTPException(422, f"{key} cannot be null")
        changes[key] = value
    try:
        updated = await ctx.db.run(
            ctx.store.update_integration, integration_id, changes, ctx.clock()
        )
    except NotFoundError as exc:
        raise HTTPException(404, str(exc)) from exc
    return integration_json(updated, ctx.config.server.public_url)


@router.delete("/{integration_id}", status_code=204)
async def delete(integration_id: int, ctx: Ctx) -> Response:
    try:
        await ctx.db.run(ctx.store.delete_integration, integration_id, ctx.clock())
    except NotFoundError as exc:
        raise HTTPException(404, str(exc)) from exc
    return Response(status_code=204)


@router.post("/{integration_id}/rotate-token")
async def rotate_token(integration_id: int, ctx: Ctx) -> dict[str, Any]:
    try:
        rotated = await ctx.db.run(ctx.store.rotate_token, integration_id, ctx.clock())
    except NotFoundError as exc:
        raise HTTPException(404, str(exc)) from exc
    return integration_json(rotated, ctx.config.server.public_url)


@router.post("/{integration_id}/test")
async def run_test(integration_id: int, ctx: Ctx, body: TestIn | None = None) -> dict[str, Any]:
    """Run the payload (or the saved sample) through the mapping; changes nothing on a dry run."""
    body = body or TestIn()
    integration = await _get(ctx, integration_id)
    payload = body.payload if body.payload is not None else integration.sample_data
    if payload is None:
        raise HTTPException(422, "no payload given and the integration has no sample_data")
    raw = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
    content_type = "text/plain" if isinstance(payload, str) else "application/json"
    if not body.dry_run:
        outcome = await accept(ctx, integration, raw, content_type)
        return {
            "dry_run": False,
            "message_id": outcome.message_id,
            "status": outcome.status,
            "action": outcome.action,
            "alert_id": outcome.alert_id,
            "reason": outcome.reason,
            "http_status": outcome.http_status,
        }
    now: datetime = ctx.clock()
    verdict = judge(ctx, integration, raw, content_type)
    decision = verdict.decision
    predicted = await ctx.db.run(
        lambda: ctx.store.preview(
            integration.id, decision, suppressed=in_maintenance(integration, now)
        )
    )
    return {
        "dry_run": True,
        "status": predicted.status,
        "action": predicted.action,
        "reason": predicted.reason,
        "http_status": verdict.http_status,
        "source_name": decision.source_name,
        "source_id": decision.source_id or None,
        "title": decision.title or None,
        "description": decision.description or None,
    }
