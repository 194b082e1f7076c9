"""Exponential backoff with full jitter, honouring Retry-After (pure policy; the sleep is injectable)."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 8
    base_seconds: float = 0.2
    max_seconds: float = 30.0

    def delay(self, attempt: int, retry_after: float | None = None, rng: random.Random | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based)."""
        ceiling = min(self.max_seconds, self.base_seconds * (2 ** (attempt - 1)))
        jittered = (rng or random).uniform(0, ceiling)
        if retry_after is not None:
            return min(self.max_seconds, max(retry_after, jittered))
        return jittered
