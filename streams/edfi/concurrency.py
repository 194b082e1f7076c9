"""How many Ed-Fi writes may be in flight right now: an adaptive limit, and the gate that enforces it.

Why: against an ODS a write mostly waits on the server, so throughput is concurrency over latency. A fixed
number is too low for a healthy ODS (16 writes at 50 ms is about 300/s, where Ed-Fi's own load tests show
an ODS taking 525-1,300) and too high for one that is struggling. The limit therefore moves, the way TCP
finds a link's capacity (additive increase, multiplicative decrease):

* every write that comes back at steady latency adds ``1 / limit``: one more slot per round of writes;
* an overload answer (429, 503, 504, or a timeout or dropped connection) halves the limit;
* latency well above the shortest recently seen (the ODS queueing our writes) takes 10 % off;
* after a decrease, no further decrease for one smoothed round trip: the writes already in flight were sent
  at the old limit and would otherwise halve it again for the same congestion;
* near the limit of the last overload answer (within 10 % of it) the limit grows ten times slower: an ODS
  that throttles above a fixed rate is probed gently where it throttled before, instead of being overrun
  once per climb (benchmarks/egress_rate_limited.py); past that band growth is normal again.

The limit stays within ``[minimum, maximum]``; ``minimum == maximum`` is a fixed limit. With a rate ``pacer``
(:mod:`streams.edfi.pacing`, which a 429 sets) the limit is never below the writes in flight that the
pacer's rate needs: a latency cut cannot starve the rate the ODS has said it takes. Pure logic with an injectable clock
(tests drive it without sleeping); :class:`SlotGate` is the asyncio part.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from streams.edfi.pacing import RatePacer

# Answers that mean "slow down": throttled, unavailable, the gateway gave up waiting, or no answer at all
# (0: timeout or connection failure). A 500 is an error of the request's own, not of load.
OVERLOAD_STATUSES = frozenset({0, 429, 503, 504})


class AdaptiveLimit:
    def __init__(self, initial: int, minimum: int, maximum: int, *, clock: Callable[[], float] = time.monotonic,
                 latency_tolerance: float = 2.0, min_queueing_seconds: float = 0.005,
                 baseline_period_seconds: float = 30.0, on_decrease: Callable[[], None] | None = None,
                 pacer: RatePacer | None = None) -> None:
        if not 1 <= minimum <= maximum:
            raise ValueError(f"need 1 <= minimum ({minimum}) <= maximum ({maximum})")
        self.minimum, self.maximum = minimum, maximum
        self._limit = float(min(max(initial, minimum), maximum))
        self._clock = clock
        self._tolerance = latency_tolerance
        # Below this much queueing latency is noise (a local server answers in well under a millisecond,
        # and twice that is still nothing), so only the ratio of large latencies counts.
        self._min_queueing = min_queueing_seconds
        self._period = baseline_period_seconds
        self._smoothed: float | None = None
        # the shortest latency of this period and of the one before: forgets a faster past slowly
        self._period_min: float | None = None
        self._previous_min: float | None = None
        self._period_started = clock()
        self._hold_until = float("-inf")
        self.decreases = 0
        self._on_decrease = on_decrease or (lambda: None)
        self._overloaded_at: float | None = None  # the limit when the last overload answer came
        self.pacer = pacer

    @property
    def current(self) -> int:
        if self.pacer is None:
            return int(self._limit)
        return max(int(self._limit), min(self.maximum, self.pacer.slots_needed()))

    @property
    def baseline(self) -> float | None:
        candidates = [m for m in (self._period_min, self._previous_min) if m is not None]
        return min(candidates) if candidates else None

    def observe(self, status: int, seconds: float) -> None:
        """One answered (or failed, ``status`` 0) request to the ODS and how long it took."""
        if status in OVERLOAD_STATUSES:
            before = self._limit
            if self._decrease(0.5):
                self._overloaded_at = before
            return
        self._record_latency(seconds)
        baseline = self.baseline
        assert self._smoothed is not None and baseline is not None
        queueing = self._smoothed - baseline
        if queueing > self._min_queueing and self._smoothed > baseline * self._tolerance:
            self._decrease(0.9)
        else:
            step = 1.0 / self._limit
            if self._overloaded_at is not None:
                if self._limit > self._overloaded_at * 1.1:
                    self._overloaded_at = None  # probed well past it: the ODS takes more now
                elif self._limit >= self._overloaded_at * 0.9:
                    step /= 10
            self._limit = min(self.maximum, self._limit + step)

    def _record_latency(self, seconds: float) -> None:
        now = self._clock()
        if now - self._period_started >= self._period:
            self._previous_min, self._period_min, self._period_started = self._period_min, None, now
        if self._period_min is None or seconds < self._period_min:
            self._period_min = seconds
        self._smoothed = seconds if self._smoothed is None else self._smoothed + 0.1 * (seconds - self._smoothed)

    def _decrease(self, factor: float) -> bool:
        now = self._clock()
        lowered = max(float(self.minimum), self._limit * factor)
        if now < self._hold_until or lowered == self._limit:
            return False
        self._limit = lowered
        self._hold_until = now + max(self._smoothed or 0.0, 0.05)
        self.decreases += 1
        self._on_decrease()
        return True


class SlotGate:
    """A semaphore whose size is read from ``limit()`` on every acquire and release, so it follows an
    :class:`AdaptiveLimit`. A shrinking limit does not cancel anything: slots are simply not handed out
    again until fewer than the new limit are in use. Waiters are served first come, first served."""

    def __init__(self, limit: Callable[[], int]) -> None:
        self._limit = limit
        self.in_use = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def acquire(self) -> None:
        if not self._waiters and self.in_use < self._limit():
            self.in_use += 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed a slot in the same moment it was cancelled: give it back
            else:
                self._waiters.remove(waiter)
            raise

    def release(self) -> None:
        self.in_use -= 1
        self.wake()

    def wake(self) -> None:
        """Hand free slots to waiters (also after the limit grew)."""
        while self._waiters and self.in_use < self._limit():
            waiter = self._waiters.popleft()
            if not waiter.done():
                self.in_use += 1
                waiter.set_result(None)
