"""The one backoff policy: capped, jittered exponential delays; randomness is an argument."""

from __future__ import annotations

MAX_CAP_S = 30.0


def backoff_s(attempt: int, rand: float, *, base_s: float = 0.5, cap_s: float = MAX_CAP_S) -> float:
    """Delay before retry number `attempt` (1 = first retry), given `rand` in [0, 1).

    Half of the capped exponential step is fixed and half is jitter, so many clients that
    failed together spread out, yet nobody waits longer than `cap_s` (at most 30 s).
    """
    if attempt < 1:
        raise ValueError("attempt starts at 1")
    if not 0.0 <= rand <= 1.0:
        raise ValueError("rand must be in [0, 1]")
    cap = min(cap_s, MAX_CAP_S)
    # 2**attempt overflows float for huge attempt counts; the cap is reached long before.
    step = cap if attempt > 32 else min(cap, base_s * 2.0 ** (attempt - 1))
    return step / 2.0 + rand * step / 2.0
