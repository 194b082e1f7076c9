"""SIGTERM and SIGHUP end the demo as Ctrl-C does: the ``with LocalStack(...)`` blocks unwind and stop
every child (worker, broker, emulator). Without this, Python dies on SIGTERM/SIGHUP without running any
cleanup and the worker and the broker, in their own process groups, stay alive."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from types import FrameType

SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    # once: a second signal during the cleanup must not interrupt the cleanup itself
    for sig in SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    raise KeyboardInterrupt(signal.Signals(signum).name)


@contextlib.contextmanager
def interrupt_on_termination(signals: tuple[signal.Signals, ...] = SIGNALS) -> Iterator[None]:
    """Inside the block the given signals raise KeyboardInterrupt in the main thread."""
    previous = {sig: signal.signal(sig, _interrupt) for sig in signals}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
