"""Broker child processes: each in its own process group, stopped by SIGTERM then SIGKILL, never orphaned.

Both launchers (tansu in :mod:`streams.broker.embedded`, Apache Kafka in :mod:`streams.broker.apache`) start
their broker through :func:`spawn`: the child gets its own session, so stopping signals everything the
broker started, and on Linux it runs under util-linux's ``setpriv --pdeathsig KILL``, so the kernel kills it
when the thread that started it dies (even by SIGKILL, when no ``atexit`` hook runs): a crashed or killed test
run leaves no broker behind. (Not ``preexec_fn``: running Python between fork and exec can deadlock a
process with many threads, as a test session with librdkafka clients has.)
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self


def _die_with_parent() -> list[str]:
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL", "--"] if setpriv else []


def spawn(args: Sequence[str], log_path: Path, env: Mapping[str, str] | None = None,
          cwd: Path | None = None) -> subprocess.Popen[bytes]:
    """Start ``args`` in a new session, output appended to ``log_path``, killed when its parent dies."""
    with open(log_path, "ab") as log:
        return subprocess.Popen([*_die_with_parent(), *args], stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=dict(env if env is not None else os.environ),
                                cwd=cwd, start_new_session=True)


def stop_group(proc: subprocess.Popen[bytes], grace_seconds: float, sig: int = signal.SIGTERM) -> None:
    """``sig`` to the process group, SIGKILL after ``grace_seconds``; then make sure the group is gone."""
    with contextlib.suppress(ProcessLookupError):
        if proc.poll() is None:
            os.killpg(proc.pid, sig)
            try:
                proc.wait(grace_seconds)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        os.killpg(proc.pid, signal.SIGKILL)


class BrokerChild:
    """What the two broker launchers share: wait for the first metadata answer, stop the process group.

    A launcher's ``start()`` ends with ``_launch`` (spawn, stop at exit, wait). It names the address to ask
    (``_ready_address``) and may add the tail of its log to the errors (``_failure_detail``).
    """

    label = "the broker"
    stop_grace_seconds = 5.0
    start_timeout: float
    log_path: Path | None
    _proc: subprocess.Popen[bytes] | None

    def start(self) -> Self:
        raise NotImplementedError

    def _ready_address(self) -> str:
        raise NotImplementedError

    def _failure_detail(self) -> str:
        return ""

    def _launch(self, args: Sequence[str], log_path: Path, env: Mapping[str, str] | None = None,
                cwd: Path | None = None) -> Self:
        """Spawn the broker and wait for it; stopped again if that fails (also on KeyboardInterrupt: never
        leave the broker behind)."""
        self._proc = spawn(args, log_path, env, cwd)
        atexit.register(self.stop)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        """Until a metadata request lists a broker; RuntimeError if the process exits or time runs out."""
        from confluent_kafka.admin import AdminClient

        deadline = time.monotonic() + self.start_timeout
        admin = AdminClient({"bootstrap.servers": self._ready_address(), "socket.timeout.ms": 1000, "log_level": 0})
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise RuntimeError(f"{self.label} exited with code {self._proc.returncode}; see {self.log_path}"
                                   + self._failure_detail())
            try:
                if admin.list_topics(timeout=1).brokers:
                    return
            except Exception as exc:  # KafkaException until the listener answers
                last = exc
            time.sleep(0.1)
        raise RuntimeError(f"{self.label} did not answer a metadata request within {self.start_timeout:.0f} s: "
                           f"{last}; see {self.log_path}" + self._failure_detail())

    def stop(self, grace_seconds: float | None = None) -> None:
        """SIGTERM the process group (a controlled shutdown), SIGKILL after ``grace_seconds`` (default
        ``stop_grace_seconds``); idempotent."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        atexit.unregister(self.stop)
        stop_group(proc, self.stop_grace_seconds if grace_seconds is None else grace_seconds)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
