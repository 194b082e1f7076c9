"""How many Ed-Fi requests per second the ODS takes, learned from its 429s, and the pacing that keeps to it.

Why: an ODS (or the gateway in front of it) that limits itself answers 429 with Retry-After above some rate
N. The in-flight limit (:mod:`streams.edfi.concurrency`) answers a 429 by halving the writes in flight:
that drops the egress far below N, it climbs back, overruns N, and halves again; measured against such an
ODS it held 76-85 % of N (docs/performance.md, "Egress against an ODS that limits itself"). A 429 says
something more precise than "too much": the ODS just acknowledged as many requests per second as it takes.
So the rate, not the concurrency, is what a 429 should set:

* until the first 429 nothing is paced (a healthy ODS never pays for this);
* on a 429, the rate becomes a little (``backoff``, 5 %) below the rate of answers the ODS acknowledged in
  the last ``window_seconds``, and no lower than ``deepest`` (80 %) of the rate it had: a 429 can also come
  from a burst (an event loop that fell behind sends its late requests together) while fewer answers came
  back than the rate allows, and one such 429 must not take the rate down to that; a lower ODS limit is
  still reached within a few cuts. On the first 429, no lower than half the rate of requests sent in that
  window, since a burst can be throttled before any answer came back;
  the 429s of requests already sent before that cut (within ``hold_seconds`` or two round trips) do not cut
  it again;
* while requests wait for the pacer (it is what limits the egress), the rate grows by ``growth_per_second``
  (10 % a second): it probes for more, so an ODS whose limit went up is found again within seconds, and so
  is the rate a cut took off when fewer answers came back for a moment than the ODS takes (a busy machine);
  each probe overruns the ODS by a few requests only (0.3 % of requests in the virtual-time test, 0.1 % at
  2 % a second);
* a 503, 504, timeout or dropped connection (the ODS overloaded, not limiting) also cuts a paced rate;
* requests are spaced at the rate with the generic cell rate algorithm (each request reserves the next
  send time, so waiters go in order and a burst is at most ``burst_seconds`` of the rate).

Throttled requests are still retried by the client after their Retry-After; the retry is paced as well.
:meth:`RatePacer.slots_needed` tells the in-flight limit how many writes the paced rate needs in flight
(rate x round trip), so that a latency-driven cut of the in-flight limit cannot starve a rate the ODS has
said it takes. Pure logic with an injectable clock and sleep (tests drive it without sleeping).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable

OVERLOAD_CUT_STATUSES = frozenset({0, 503, 504})


class RatePacer:
    def __init__(self, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep, window_seconds: float = 1.0,
                 backoff: float = 0.95, growth_per_second: float = 0.1, burst_seconds: float = 0.02,
                 minimum_per_second: float = 1.0, hold_seconds: float = 0.1, headroom: float = 1.25,
                 deepest: float = 0.8,
                 on_cut: Callable[[], None] | None = None) -> None:
        if not 0 < backoff < 1:
            raise ValueError(f"backoff must be within (0, 1), not {backoff}")
        self._clock, self._sleep = clock, sleep
        self.window, self.backoff, self.growth, self.deepest = window_seconds, backoff, growth_per_second, deepest
        self.burst, self.minimum, self.hold, self.headroom = burst_seconds, minimum_per_second, hold_seconds, headroom
        self.rate: float | None = None  # requests/s; None: never throttled, not paced
        self._acks: deque[float] = deque()
        self._sent: deque[float] = deque()  # send times of the last window, until the first cut
        self._first_ack: float | None = None
        self._first_sent: float | None = None
        self._latency: float | None = None  # smoothed round trip of acknowledged requests
        self._next_send = float("-inf")  # the theoretical send time of the next request (GCRA)
        self._hold_until = float("-inf")
        self._last_wait = float("-inf")
        self._grown_at = clock()
        self.throttles = 0  # 429s seen
        self.cuts = 0  # times the rate was lowered
        self._on_cut = on_cut or (lambda: None)

    # -- what the ODS answered -------------------------------------------------------------------------
    def observe(self, status: int, seconds: float) -> None:
        """One answered (or failed, ``status`` 0) request to the ODS and how long it took."""
        now = self._clock()
        if status == 429:
            self.throttles += 1
            self._cut(now)
        elif status in OVERLOAD_CUT_STATUSES:
            if self.rate is not None:
                self._cut(now)
        elif 200 <= status < 300:
            self._acks.append(now)
            if self._first_ack is None:
                self._first_ack = now
            self._trim(now)
            self._latency = seconds if self._latency is None else self._latency + 0.1 * (seconds - self._latency)

    def acknowledged_per_second(self) -> float:
        """Requests the ODS acknowledged per second over the last window (less, if it is younger)."""
        now = self._clock()
        self._trim(now)
        return self._per_second(len(self._acks), self._first_ack, now)

    def _per_second(self, count: int, first: float | None, now: float) -> float:
        if first is None:
            return 0.0
        return count / min(self.window, max(now - first, self.window / 10))

    def _trim(self, now: float) -> None:
        for times in (self._acks, self._sent):
            while times and times[0] <= now - self.window:
                times.popleft()

    def _cut(self, now: float) -> None:
        if now < self._hold_until:
            return  # sent before the last cut: the same overrun
        self._grow(now)
        measured = self.acknowledged_per_second()
        if self.rate is None:
            base = max(measured, 0.5 * self._per_second(len(self._sent), self._first_sent, now))
            self._sent.clear()
        else:
            base = max(min(measured, self.rate), self.rate * self.deepest)
        self.rate = max(self.minimum, base * self.backoff)
        self._hold_until = now + max(self.hold, 2 * (self._latency or 0.0))
        self.cuts += 1
        self._on_cut()

    def _grow(self, now: float) -> None:
        if self.rate is not None and now - self._last_wait < self.window:  # the pacer is what limits
            self.rate *= 1 + self.growth * min(now - self._grown_at, self.window)
        self._grown_at = now

    # -- pacing ----------------------------------------------------------------------------------------
    def reserve(self) -> float:
        """Reserve the next send: the seconds to wait before sending (0: send now)."""
        now = self._clock()
        if self.rate is None:
            self._sent.append(now)
            if self._first_sent is None:
                self._first_sent = now
            self._trim(now)
            return 0.0
        self._grow(now)
        start = max(self._next_send, now - self.burst)
        self._next_send = start + 1 / self.rate
        wait = start - now
        if wait > 0:
            self._last_wait = now
            return wait
        return 0.0

    async def wait_turn(self) -> None:
        delay = self.reserve()
        if delay > 0:
            await self._sleep(delay)

    def slots_needed(self) -> int:
        """Requests the paced rate keeps in flight (rate x round trip, with headroom); 0 when not paced."""
        if self.rate is None or self._latency is None:
            return 0
        return math.ceil(self.rate * self._latency * self.headroom)
