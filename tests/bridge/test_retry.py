"""Backoff: capped at 30 s whatever happens, growing, jittered by the randomness it is given."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgecommon.backoff import backoff_s


@given(attempt=st.integers(min_value=1, max_value=10_000), rand=st.floats(0.0, 1.0))
def test_no_delay_ever_exceeds_thirty_seconds(attempt: int, rand: float) -> None:
    assert 0 < backoff_s(attempt, rand) <= 30.0


def test_a_bigger_cap_is_still_held_to_thirty_seconds() -> None:
    assert backoff_s(50, 1.0, cap_s=600) == 30.0


def test_first_retry_is_quick_and_later_ones_grow_to_the_cap() -> None:
    delays = [backoff_s(n, 1.0) for n in range(1, 12)]
    assert delays[0] <= 1.0
    assert delays == sorted(delays)
    assert delays[-1] == 30.0


def test_jitter_comes_from_the_randomness_given() -> None:
    low, high = backoff_s(5, 0.0), backoff_s(5, 1.0)
    assert low < high
    assert low == pytest.approx(high / 2)
    assert backoff_s(5, 0.3) == backoff_s(5, 0.3)


@pytest.mark.parametrize(("attempt", "rand"), [(0, 0.5), (1, -0.1), (1, 1.5)])
def test_nonsense_arguments_are_refused(attempt: int, rand: float) -> None:
    with pytest.raises(ValueError, match=r"attempt|rand"):
        backoff_s(attempt, rand)
