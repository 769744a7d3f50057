"""The escalation state machine: given a policy, an alert's escalation state and `now`, what next.

Pure: no clock, no I/O. The scheduler persists `EscalationState` and asks `next_action` on
every tick; `step_ran` is the only way forward, `stop` the only way out early.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from server.escalation.schedules import Schedule, on_call

TargetKind = Literal["user", "group", "schedule"]
Via = Literal["email", "sms", "push", "voice"]
Status = Literal["active", "stopped", "finished"]

VIAS: tuple[Via, ...] = ("email", "sms", "push", "voice")


@dataclass(frozen=True, slots=True)
class Target:
    """Whom a step notifies: a user, every member of a group, or whoever a schedule has on call."""

    kind: TargetKind
    id: int


@dataclass(frozen=True, slots=True)
class Step:
    """Run `after_s` seconds after the alert opened (first step) or after the previous step."""

    after_s: float
    targets: tuple[Target, ...]
    via: tuple[Via, ...] | None = None


@dataclass(frozen=True, slots=True)
class Policy:
    """Ordered steps, run once and then `repeat` more times while nobody acknowledges."""

    steps: tuple[Step, ...]
    repeat: int = 0
    # An acknowledged alert not closed within this is open again, from the first step.
    ack_timeout_s: int | None = None


@dataclass(frozen=True, slots=True)
class EscalationState:
    """Where one alert's escalation stands; `step`/`cycle` name the next step to run."""

    alert_id: int
    policy_id: int
    status: Status
    step: int
    cycle: int
    next_at: datetime | None
    paged_in_cycle: bool = False
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class RunStep:
    """Run step `step` of cycle `cycle` now."""

    step: int
    cycle: int
    targets: tuple[Target, ...]
    via: tuple[Via, ...] | None


@dataclass(frozen=True, slots=True)
class Wait:
    """Nothing to do before `until`."""

    until: datetime


@dataclass(frozen=True, slots=True)
class Idle:
    """The escalation is over (stopped or finished)."""

    reason: str | None


Action = RunStep | Wait | Idle


def start(alert_id: int, policy_id: int, policy: Policy, opened_at: datetime) -> EscalationState:
    """The state of a fresh escalation for an alert opened at `opened_at`."""
    if not policy.steps:
        return EscalationState(alert_id, policy_id, "finished", 0, 0, None, reason="no steps")
    next_at = opened_at + timedelta(seconds=policy.steps[0].after_s)
    return EscalationState(alert_id, policy_id, "active", 0, 0, next_at)


def next_action(policy: Policy, state: EscalationState, now: datetime) -> Action:
    """What the scheduler must do for this escalation at `now`."""
    if state.status != "active" or state.next_at is None:
        return Idle(state.reason)
    if state.step >= len(policy.steps):  # the policy lost steps since: nothing left to run
        return Idle("policy changed")
    if state.next_at > now:
        return Wait(state.next_at)
    step = policy.steps[state.step]
    return RunStep(state.step, state.cycle, step.targets, step.via)


def step_ran(
    policy: Policy, state: EscalationState, now: datetime, *, paged: bool
) -> EscalationState:
    """Advance past the step just run; a step that paged nobody lets the next one run at once."""
    paged_in_cycle = state.paged_in_cycle or paged
    step, cycle = state.step + 1, state.cycle
    if step >= len(policy.steps):
        if not paged_in_cycle:
            return finish(state, "nobody to page in any step")
        if cycle >= policy.repeat:
            return finish(state, "policy exhausted")
        step, cycle, paged_in_cycle = 0, cycle + 1, False
    delay_s = policy.steps[step].after_s if paged else 0.0
    return replace(
        state,
        step=step,
        cycle=cycle,
        next_at=now + timedelta(seconds=delay_s),
        paged_in_cycle=paged_in_cycle,
    )


def stop(state: EscalationState, reason: str) -> EscalationState:
    """Stop for good (acknowledged, closed); stopping twice keeps the first reason."""
    if state.status != "active":
        return state
    return replace(state, status="stopped", next_at=None, reason=reason)


def finish(state: EscalationState, reason: str) -> EscalationState:
    """End an escalation that has nothing left to run."""
    return replace(state, status="finished", next_at=None, reason=reason)


def resolve_targets(
    targets: tuple[Target, ...],
    groups: Mapping[int, tuple[int, ...]],
    schedules: Mapping[int, Schedule],
    at: datetime,
) -> tuple[int, ...]:
    """The user ids a step reaches at `at`, in target order, each once; unknown ids reach nobody."""
    users: list[int] = []
    for target in targets:
        if target.kind == "user":
            users.append(target.id)
        elif target.kind == "group":
            users.extend(groups.get(target.id, ()))
        elif target.id in schedules:
            users.extend(on_call(schedules[target.id], at))
    return tuple(dict.fromkeys(users))
