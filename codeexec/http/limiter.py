"""Token buckets per caller (aiolimiter's leaky bucket is a token bucket)."""

from __future__ import annotations

import math

from aiolimiter import AsyncLimiter
from cachetools import TTLCache


class RateLimiter:
    def __init__(self, per_s: float, burst: int) -> None:
        self.per_s = per_s
        self.burst = burst
        # An idle bucket refills within burst / rate seconds: then it can be forgotten.
        ttl = max(60.0, 2 * burst / per_s) if per_s else 60.0
        self._buckets: TTLCache[str, AsyncLimiter] = TTLCache(maxsize=100_000, ttl=ttl)

    @property
    def enabled(self) -> bool:
        return self.per_s > 0

    def _bucket(self, caller: str) -> AsyncLimiter:
        bucket = self._buckets.get(caller)
        if bucket is None:
            bucket = AsyncLimiter(self.burst, self.burst / self.per_s)
            self._buckets[caller] = bucket
        return bucket

    async def take(self, caller: str) -> int | None:
        """Remaining requests after this one, or None when over the limit."""
        bucket = self._bucket(caller)
        if not bucket.has_capacity():
            return None
        await bucket.acquire()  # immediate: there is capacity
        low, high = 0, self.burst
        while low < high:  # how many more would fit now
            mid = (low + high + 1) // 2
            if bucket.has_capacity(mid):
                low = mid
            else:
                high = mid - 1
        return low

    def retry_after_s(self) -> int:
        return max(1, math.ceil(1 / self.per_s))
