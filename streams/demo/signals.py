"""SIGINT, SIGTERM and SIGHUP end the demo alike: the first one raises KeyboardInterrupt in the main thread, so the
``with LocalStack(...)`` blocks unwind and stop every child (worker, broker, emulator). Without this, Python dies
on SIGTERM/SIGHUP without running any cleanup and the worker and the broker, in their own process groups, stay
alive.

Every later termination signal is ignored for the rest of the process's life: the process is ending, and a
second signal must neither interrupt the cleanup nor change the exit code. A SIGINT that came while the
interpreter was finalising used to end the demo as "killed by SIGINT" (exit -2) after it had stopped everything
and printed "stopped" (CI, stop 22): Python resets its own SIGINT handler to the default there, so only an
ignored SIGINT is harmless. Each child's stop has its own deadline (streams/demo/processes.py,
streams/broker/process.py), so the cleanup ends without a second Ctrl-C; SIGKILL still ends it at once.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from types import FrameType

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    for sig in SIGNALS:  # once: the process is stopping
        signal.signal(sig, signal.SIG_IGN)
    raise KeyboardInterrupt(signal.Signals(signum).name)


@contextlib.contextmanager
def interrupt_on_termination(signals: tuple[signal.Signals, ...] = SIGNALS) -> Iterator[None]:
    """Inside the block the given signals raise KeyboardInterrupt in the main thread. After one did, they stay
    ignored (see the module docstring); otherwise the previous handlers come back when the block ends."""
    previous = {sig: signal.signal(sig, _interrupt) for sig in signals}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            if signal.getsignal(sig) is _interrupt:  # no signal came (one sets them all to SIG_IGN)
                signal.signal(sig, handler)
