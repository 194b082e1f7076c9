"""The egress pauses, instead of dead-lettering, while the Ed-Fi API refuses our credentials or every write.

A wrong or rotated-away secret must not move a district's live data into the error log: those writes are
fine, the credentials are not. So the dispatcher holds every write while the gate is paused:

* ``credentials_refused``: the token endpoint refuses the client id/secret (400/401/403 from /oauth/token);
* ``unauthorized``: a data request is refused with 401 even on a freshly obtained token;
* ``forbidden``: a 403 whose problem type depends on the claim set or namespace, not on the record
  (:func:`streams.edfi.errors.forbids_every_write`), or plain 403s for ``forbidden_after`` different records
  in a row with no success in between ("403 on every write").

A plain 403 (relationship-based authorization: a school outside the client's education organizations) is a
fact about one record: it is dead-lettered as soon as another write succeeds after it, or after
``probe_seconds`` with no evidence either way; it waits while the gate is paused.

While paused, held writes give their in-flight slot back (like parked writes), and one of them retries every
``probe_seconds``: the first success (the ODS admin re-enabled the client, fixed the claim set) resumes
every write at once. A fixed secret needs a restart (the secret is read at start): the restarted worker
reads the same uncommitted write commands again, so every held write goes through. Nothing is committed
past a held write (it is unfinished), so a crash or restart loses none.

Readiness (/readyz ``edfi_authorized``), ``edfi_stream_egress_paused{reason}``,
``edfi_stream_writes_waiting_on_auth`` and the alert EdfiStreamEgressPaused say why.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Literal

from streams.observability import metrics

log = logging.getLogger(__name__)

PauseReason = Literal["credentials_refused", "unauthorized", "forbidden"]
Verdict = Literal["per_record", "paused"]
EXPLANATIONS = {
    "credentials_refused": "the Ed-Fi token endpoint refuses the client id/secret",
    "unauthorized": "the Ed-Fi API refuses our access token (401) even freshly obtained",
    "forbidden": "the Ed-Fi API refuses every write (403: claim set or namespace of the API client)",
}


class AuthGate:
    def __init__(self, probe_seconds: float = 30.0, forbidden_after: int = 5,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.probe_seconds = probe_seconds
        self.forbidden_after = forbidden_after
        self._clock = clock
        self.reason: PauseReason | None = None
        self.detail = ""
        self.successes = 0
        self.waiting = 0
        self._forbidden_keys: set[str] = set()
        self._open = asyncio.Event()
        self._open.set()
        self._changed = asyncio.Event()
        self._next_probe = 0.0
        metrics.set_egress_paused(None)

    @property
    def paused(self) -> bool:
        return self.reason is not None

    def status(self) -> tuple[bool, str]:
        """For readiness: (not paused, why paused)."""
        if self.reason is None:
            return True, ""
        return False, f"egress paused ({self.reason}): {EXPLANATIONS[self.reason]}; {self.waiting} writes wait"

    def pause(self, reason: PauseReason, detail: str = "") -> None:
        if self.reason != reason:
            log.error("Ed-Fi egress paused: %s (%s). Writes wait and are not dead-lettered; one is retried every "
                      "%.0f s. Fix the credentials or claim set (docs/egress.md) and restart the worker.",
                      EXPLANATIONS[reason], detail[:200], self.probe_seconds)
            metrics.set_egress_paused(reason)
        self.reason, self.detail = reason, detail
        self._open.clear()
        self._next_probe = self._clock() + self.probe_seconds
        self._notify()

    def record_success(self) -> None:
        """A write went through (or met a missing reference: authorised): the credentials work."""
        self.successes += 1
        self._forbidden_keys.clear()
        if self.reason is not None:
            log.warning("Ed-Fi egress resumed: a write was accepted again after %s", self.reason)
            self.reason, self.detail = None, ""
            metrics.set_egress_paused(None)
            self._open.set()
        self._notify()

    def record_forbidden(self, key: str, detail: str = "") -> None:
        """A plain 403 for ``key``; ``forbidden_after`` different records in a row pause the egress."""
        self._forbidden_keys.add(key)
        if len(self._forbidden_keys) >= self.forbidden_after:
            self.pause("forbidden", f"{len(self._forbidden_keys)} different records refused with 403 in a row, "
                                    f"none accepted; last: {detail}")
        self._notify()

    async def wait_turn(self) -> None:
        """Until the gate opens, or until it is this caller's turn to probe (one probe per probe_seconds)."""
        self.waiting += 1
        metrics.set_writes_waiting_on_auth(self.waiting)
        try:
            while self.reason is not None:
                now = self._clock()
                if now >= self._next_probe:
                    self._next_probe = now + self.probe_seconds
                    return
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._open.wait(), self._next_probe - now)
        finally:
            self.waiting -= 1
            metrics.set_writes_waiting_on_auth(self.waiting)

    async def judge_forbidden(self, successes_before: int) -> Verdict:
        """A plain 403: ``per_record`` once another write succeeded (or after probe_seconds with no evidence),
        ``paused`` if the gate pauses meanwhile (403 on every write)."""
        deadline = self._clock() + self.probe_seconds
        while True:
            if self.reason is not None:
                return "paused"
            if self.successes > successes_before:
                return "per_record"
            remaining = deadline - self._clock()
            if remaining <= 0:
                return "per_record"
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)

    def _notify(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()
