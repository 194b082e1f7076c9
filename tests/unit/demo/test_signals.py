"""streams/demo/signals.py: the first termination signal stops the demo with KeyboardInterrupt; a later
one, even during interpreter finalisation, changes neither the cleanup nor the exit code (CI of stop 22 saw
"stopped" and then exit -2, killed by a late SIGINT)."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import pytest

PROGRAM = textwrap.dedent("""
    import os, signal, sys, time
    from streams.demo.signals import interrupt_on_termination
    first, later = int(sys.argv[1]), int(sys.argv[2])
    try:
        with interrupt_on_termination():
            os.kill(os.getpid(), first)
            time.sleep(5)  # the signal interrupts this
        print("not interrupted")
        sys.exit(1)
    except KeyboardInterrupt:
        os.kill(os.getpid(), later)  # during the cleanup
        time.sleep(0.2)
        print("stopped", flush=True)

    class LateSignal:  # a signal that arrives while the interpreter finalises
        def __del__(self):
            os.kill(os.getpid(), later)
            time.sleep(0.2)

    keep = LateSignal()
    sys.exit(130)
""")


@pytest.mark.parametrize("first", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
@pytest.mark.parametrize("later", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_the_first_signal_interrupts_and_later_ones_change_nothing(first: signal.Signals,
                                                                  later: signal.Signals) -> None:
    done = subprocess.run([sys.executable, "-c", PROGRAM, str(int(first)), str(int(later))],
                          capture_output=True, text=True, timeout=30)
    assert done.stdout.strip() == "stopped", done.stdout + done.stderr
    assert done.returncode == 130, (done.returncode, done.stderr)


def test_without_a_signal_the_previous_handlers_come_back() -> None:
    from streams.demo.signals import interrupt_on_termination

    before = signal.getsignal(signal.SIGHUP)
    with interrupt_on_termination():
        assert signal.getsignal(signal.SIGHUP) is not before
    assert signal.getsignal(signal.SIGHUP) is before
