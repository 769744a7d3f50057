"""Per-integration token bucket: a pure `take` plus a small keyed holder."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Bucket:
    tokens: float
    updated_s: float


def take(
    bucket: Bucket | None, now_s: float, rate_per_s: float, burst: int
) -> tuple[Bucket, float]:
    """Spend one token; returns the new bucket and 0, or the unchanged bucket and the wait in s."""
    if bucket is None:
        bucket = Bucket(float(burst), now_s)
    elapsed_s = max(0.0, now_s - bucket.updated_s)
    tokens = min(float(burst), bucket.tokens + elapsed_s * rate_per_s)
    if tokens >= 1.0:
        return Bucket(tokens - 1.0, now_s), 0.0
    return Bucket(tokens, now_s), (1.0 - tokens) / rate_per_s


def retry_after_header(wait_s: float) -> str:
    """Whole seconds, at least 1, as HTTP's Retry-After wants."""
    return str(max(1, math.ceil(wait_s)))


class RateLimiter:
    """Buckets by key (integration id); `monotonic` is injected for tests."""

    def __init__(self, rate_per_s: float, burst: int, monotonic: Callable[[], float]) -> None:
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._monotonic = monotonic
        self._buckets: dict[int, Bucket] = {}

    def check(self, key: int) -> float:
        """0 when allowed (a token is spent), else the seconds to wait."""
        bucket, wait_s = take(
            self._buckets.get(key), self._monotonic(), self.rate_per_s, self.burst
        )
        self._buckets[key] = bucket
        return wait_s
