"""A worker that is gone within ``worker.shutdownGraceSeconds`` once it starts stopping (SIGTERM, Ctrl-C).

Faust's stop waits for the consumer to commit and leave its group and for the producer to flush; with the
broker gone those waits have no end, so a worker told to stop by Kubernetes stayed alive until SIGKILL (and
a plain ``kill`` never ended it). When the stop begins, a timer thread is armed; if the process is still
alive when it fires, it says so on stderr and exits at once (exit code 1). Nothing is lost by that: what was
not committed is read again by the next worker and repeated (idempotent upserts).

The timer is a thread, not an event-loop task, because a loop blocked by the unreachable broker would never
run a task.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from typing import Any

import faust

log = logging.getLogger(__name__)

FORCED_EXIT_CODE = 1


def arm_deadline(grace_seconds: float) -> threading.Timer:
    def expire() -> None:
        message = (f"edfi-stream worker: stopping took longer than {grace_seconds:g} s (broker or Ed-Fi API not "
                   "answering?): exiting now; uncommitted work is repeated by the next worker")
        try:
            log.error(message)
            for handler in logging.getLogger().handlers:
                handler.flush()
            print(message, file=sys.__stderr__, flush=True)
        finally:
            os._exit(FORCED_EXIT_CODE)

    timer = threading.Timer(grace_seconds, expire)
    timer.daemon = True
    timer.name = "edfi-stream-shutdown-deadline"
    timer.start()
    return timer


class BoundedShutdownWorker(faust.Worker):
    def __init__(self, *args: Any, grace_seconds: float, **kwargs: Any) -> None:
        self.grace_seconds = grace_seconds
        self.deadline: threading.Timer | None = None
        super().__init__(*args, **kwargs)

    async def on_stop(self) -> None:
        if self.deadline is None:
            self.deadline = arm_deadline(self.grace_seconds)
        await super().on_stop()
