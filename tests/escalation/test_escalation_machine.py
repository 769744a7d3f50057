"""The pure escalation state machine: order, delays, skips, repeats, stop."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from server.escalation.machine import (
    EscalationState,
    Idle,
    Policy,
    RunStep,
    Step,
    Target,
    Wait,
    next_action,
    resolve_targets,
    start,
    step_ran,
    stop,
)
from server.escalation.schedules import Rotation, Schedule

T0 = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)
ALICE, BOB = Target("user", 1), Target("user", 2)


def drive(
    policy: Policy, ticks: list[float], empty: frozenset[int] = frozenset()
) -> list[tuple[int, int, float]]:
    """Tick the machine at the given seconds after T0; return (cycle, step, at_s) of each run."""
    state = start(42, 1, policy, T0)
    ran: list[tuple[int, int, float]] = []
    for tick_s in ticks:
        now = T0 + timedelta(seconds=tick_s)
        while isinstance(action := next_action(policy, state, now), RunStep):
            ran.append((action.cycle, action.step, tick_s))
            state = step_ran(policy, state, now, paged=action.step not in empty)
    return ran


def test_first_step_runs_at_once_and_the_second_after_its_delay() -> None:
    policy = Policy((Step(0, (ALICE,)), Step(300, (BOB,))))
    state = start(42, 1, policy, T0)
    assert next_action(policy, state, T0) == RunStep(0, 0, (ALICE,), None)
    state = step_ran(policy, state, T0, paged=True)
    assert next_action(policy, state, T0 + timedelta(seconds=299)) == Wait(
        T0 + timedelta(seconds=300)
    )
    assert next_action(policy, state, T0 + timedelta(seconds=300)) == RunStep(1, 0, (BOB,), None)
    state = step_ran(policy, state, T0 + timedelta(seconds=300), paged=True)
    assert next_action(policy, state, T0 + timedelta(days=1)) == Idle("policy exhausted")


def test_a_step_that_pages_nobody_does_not_hold_up_the_next() -> None:
    policy = Policy((Step(0, (ALICE,)), Step(60, ()), Step(600, (BOB,))))
    assert drive(policy, [0, 60, 61], empty=frozenset({1})) == [(0, 0, 0), (0, 1, 60), (0, 2, 60)]


def test_repeat_runs_the_whole_policy_again_then_finishes() -> None:
    policy = Policy((Step(0, (ALICE,)), Step(10, (BOB,))), repeat=2)
    ran = drive(policy, [float(s) for s in range(100)])
    assert ran == [(0, 0, 0), (0, 1, 10), (1, 0, 10), (1, 1, 20), (2, 0, 20), (2, 1, 30)]


def test_a_cycle_that_paged_nobody_ends_the_escalation_instead_of_looping() -> None:
    policy = Policy((Step(0, ()),), repeat=1000)
    state = start(42, 1, policy, T0)
    state = step_ran(policy, state, T0, paged=False)
    assert next_action(policy, state, T0) == Idle("nobody to page in any step")


def test_stop_ends_it_for_good_and_keeps_the_first_reason() -> None:
    policy = Policy((Step(0, (ALICE,)), Step(10, (BOB,))))
    state = stop(start(42, 1, policy, T0), "acknowledged")
    assert stop(state, "closed").reason == "acknowledged"
    assert next_action(policy, state, T0 + timedelta(hours=1)) == Idle("acknowledged")


def test_a_policy_without_steps_never_pages() -> None:
    assert next_action(Policy(()), start(1, 1, Policy(()), T0), T0) == Idle("no steps")


policies = st.builds(
    Policy,
    steps=st.lists(
        st.builds(Step, after_s=st.integers(0, 120).map(float), targets=st.just((ALICE,))),
        min_size=1,
        max_size=5,
    ).map(tuple),
    repeat=st.integers(0, 3),
)


@given(
    policy=policies,
    gaps=st.lists(st.floats(0.1, 200), min_size=1, max_size=60),
    empty=st.frozensets(st.integers(0, 4)),
)
def test_every_step_runs_once_in_order_and_never_early_however_the_clock_ticks(
    policy: Policy, gaps: list[float], empty: frozenset[int]
) -> None:
    ticks = [sum(gaps[: i + 1]) for i in range(len(gaps))]
    ran = drive(policy, ticks, empty)
    expected = [(c, s) for c in range(policy.repeat + 1) for s in range(len(policy.steps))]
    assert [(c, s) for c, s, _ in ran] == expected[: len(ran)]
    # Never earlier than the delays allow: each paging step waits its after_s since the last one.
    last_at, last_paged = 0.0, True
    for cycle, step, at_s in ran:
        wait_s = policy.steps[step].after_s if last_paged or (cycle, step) == (0, 0) else 0.0
        assert at_s >= last_at + wait_s - 1e-9
        last_at, last_paged = at_s, step not in empty


@given(policy=policies, split=st.integers(0, 30))
def test_resuming_from_a_saved_state_continues_exactly(policy: Policy, split: int) -> None:
    """A restart is a state copied out and back in: the runs are the same as without one."""
    ticks = [float(t * 15) for t in range(60)]
    whole = drive(policy, ticks)
    state = start(42, 1, policy, T0)
    ran: list[tuple[int, int]] = []
    for i, tick_s in enumerate(ticks):
        now = T0 + timedelta(seconds=tick_s)
        if i == split:
            state = EscalationState(**{f: getattr(state, f) for f in state.__slots__})
        while isinstance(action := next_action(policy, state, now), RunStep):
            ran.append((action.cycle, action.step))
            state = step_ran(policy, state, now, paged=True)
    assert ran == [(c, s) for c, s, _ in whole]


def test_targets_resolve_users_groups_and_who_is_on_call_once_each() -> None:
    from datetime import date, time

    schedule = Schedule("UTC", (Rotation((3, 1), date(2026, 11, 1), time(9)),))
    targets = (Target("schedule", 5), Target("user", 1), Target("group", 9), Target("group", 404))
    at = datetime(2026, 11, 1, 10, tzinfo=UTC)
    assert resolve_targets(targets, {9: (2, 3)}, {5: schedule}, at) == (3, 1, 2)
    assert resolve_targets((Target("schedule", 6),), {}, {5: schedule}, at) == ()
