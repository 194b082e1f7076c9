"""The egress lifecycle: one ``mode.Service`` owns the Ed-Fi client and the dispatcher of a worker.

* Built when the worker is assembled: the credentials are read then (``edfi.clientIdEnv`` /
  ``clientSecretEnv``), so a worker without them stops before Faust starts, with one line and exit code 2
  (``edfi-stream worker``), not from inside a Faust task.
* Started with the Faust worker, before the app (``faust.Worker(app, service)``): the client exists before
  the egress agent reads its first command, so /readyz checks the token at once.
* Stopped after the app (the agents stop feeding it): the writes in flight get ``edfi.drainTimeoutSeconds``
  to finish, then the client (its connection pool) is closed. A write cut off by the bound is not lost: its
  offset was never committed, so the next worker repeats it (an idempotent upsert).

Readiness asks it for the token (:meth:`check_token`) and for the auth gate's state (:meth:`authorized`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import mode

from streams.config import EdfiSettings
from streams.edfi.client import EdfiClient
from streams.edfi.dispatcher import DeadLetterHook, EgressDispatcher, SendFence
from streams.edfi.factory import build_dispatcher
from streams.edfi.identity import IdentityMap

log = logging.getLogger(__name__)


class EgressService(mode.Service):
    def __init__(self, settings: EdfiSettings, *, transport: Any = None, **kwargs: Any) -> None:
        self.credentials = settings.credentials()  # ConfigurationError: fail fast, before anything starts
        self.edfi_settings = settings
        self.transport = transport
        self.dispatcher: EgressDispatcher | None = None
        self.client: EdfiClient | None = None
        self.drained: bool | None = None
        super().__init__(**kwargs)

    def build(self, identity: IdentityMap, on_dead_letter: DeadLetterHook, fence: SendFence | None = None
              ) -> EgressDispatcher:
        """Create the client and the dispatcher (once; the egress wiring calls this with the worker's tables
        and its partition ownership, agents/ownership.py)."""
        if self.dispatcher is None:
            self.dispatcher, self.client = build_dispatcher(
                self.edfi_settings, identity, on_dead_letter, transport=self.transport, credentials=self.credentials,
                fence=fence)
        return self.dispatcher

    async def check_token(self) -> bool:
        """True when a token is obtainable; raises (the reason) when not."""
        if self.client is None:
            raise RuntimeError("egress not built")
        await self.client.check_token()
        return True

    def authorized(self) -> tuple[bool, str]:
        """False (with the reason) while the egress is paused on refused credentials or writes."""
        if self.dispatcher is None:
            return False, "egress not built"
        return self.dispatcher.gate.status()

    async def on_stop(self) -> None:
        await self.drain(self.edfi_settings.drain_timeout_seconds)
        if self.client is not None:
            await self.client.aclose()
            log.info("Ed-Fi client closed")

    async def drain(self, timeout_seconds: float) -> bool:
        """Wait for the writes in flight, at most ``timeout_seconds``; True when none is left."""
        dispatcher = self.dispatcher
        if dispatcher is None or dispatcher.in_flight == 0:
            self.drained = True
            return True
        pending = dispatcher.in_flight
        if dispatcher.gate.paused:  # the held writes wait for credentials that will not come in this process
            self.drained = False
            log.warning("egress stop: %d writes held while paused (%s) are left to the next worker", pending,
                        dispatcher.gate.reason)
            return False
        try:
            # shielded: the bound ends the wait, not the writes (cancelling them here would gain nothing)
            await asyncio.wait_for(asyncio.shield(dispatcher.drain()), timeout_seconds)
            self.drained = True
            log.info("egress drained: %d writes in flight finished", pending)
        except TimeoutError:
            self.drained = False
            log.warning("egress stop: %d of %d writes still in flight after %.0f s; they are not committed and "
                        "the next worker repeats them", dispatcher.in_flight, pending, timeout_seconds)
        return bool(self.drained)
