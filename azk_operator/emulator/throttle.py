"""ARM-like throttling: token buckets per subscription (reads, writes) and per VM scale set (updates)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class BucketSpec:
    capacity: float
    refill_per_second: float


RESOURCE_LIMIT_HEADER = "x-ms-ratelimit-remaining-resource"
SCALE_SET_UPDATE_POLICY = "Microsoft.Compute/UpdateVMScaleSet1Min"


@dataclass(frozen=True)
class ThrottleSpec:
    """Defaults are Azure's documented limits."""

    reads: BucketSpec = BucketSpec(250, 25)
    writes: BucketSpec = BucketSpec(200, 10)
    scale_set_updates: BucketSpec = BucketSpec(12, 4 / 60)


class TokenBucket:
    def __init__(self, spec: BucketSpec) -> None:
        self.spec = spec
        self.tokens = spec.capacity
        self.stamp = time.monotonic()

    def _refill(self) -> None:
        now = time.monotonic()
        self.tokens = min(self.spec.capacity, self.tokens + (now - self.stamp) * self.spec.refill_per_second)
        self.stamp = now

    def take(self) -> int | None:
        """Take one token; when none is left, the whole seconds until one is (ARM's ``Retry-After``)."""
        self._refill()
        if self.tokens >= 1:
            self.tokens -= 1
            return None
        if self.spec.refill_per_second <= 0:
            return 3600
        return max(1, math.ceil((1 - self.tokens) / self.spec.refill_per_second))

    @property
    def remaining(self) -> int:
        self._refill()
        return int(self.tokens)


class Throttle:
    """Off unless enabled; then each request takes a token from the buckets it belongs to."""

    def __init__(self, spec: ThrottleSpec | None = None) -> None:
        self.spec = spec
        self._buckets: dict[str, TokenBucket] = {}

    @property
    def enabled(self) -> bool:
        return self.spec is not None

    def configure(self, spec: ThrottleSpec | None) -> None:
        self.spec = spec
        self._buckets.clear()

    def _bucket(self, key: str, spec: BucketSpec) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(spec)
        return bucket

    def check(
        self, *, subscription: str, write: bool, scale_set: str | None
    ) -> tuple[int | None, dict[str, str]]:
        """Returns (retry-after seconds when throttled, rate-limit headers for the answer)."""
        if self.spec is None:
            return None, {}
        kind = "writes" if write else "reads"
        bucket = self._bucket(
            f"{subscription.lower()}:{kind}", self.spec.writes if write else self.spec.reads
        )
        wait = bucket.take()
        headers = {f"x-ms-ratelimit-remaining-subscription-{kind}": str(bucket.remaining)}
        if wait is None and write and scale_set is not None:
            updates = self._bucket(f"vmss:{scale_set.lower()}", self.spec.scale_set_updates)
            wait = updates.take()
            # Compute names the resource-level policy it applied, as ARM's subscription limits do above.
            headers[RESOURCE_LIMIT_HEADER] = f"{SCALE_SET_UPDATE_POLICY};{updates.remaining}"
        return wait, headers
