"""Start and stop one Apache Kafka 4 node (KRaft, combined broker and controller) on loopback.

The broker of the tests, the fault suite, the benchmarks and ``edfi-stream demo --broker kafka``. Its jars
come from Maven Central (:mod:`streams.broker.jars`); its storage is formatted on first start and kept
across :meth:`ApacheKafka.stop` / :meth:`ApacheKafka.start`, so a restart keeps every topic, record and
committed offset. The interface is :class:`streams.broker.embedded.EmbeddedBroker`'s: ``bootstrap_servers``,
``start``, ``stop``, ``pid``, a context manager.

``super_users`` (secured nodes): Kafka's StandardAuthorizer is on, those users may do anything, every other
user only what an ACL grants (none are made: a user without rights, for the start-up checks' tests).

``security``: ``plaintext``; ``sasl_ssl`` (clients authenticate with SCRAM-SHA-512 over TLS, users made with
Kafka's own ConfigCommand: :meth:`add_scram_user`); ``mtls`` (TLS with a client certificate signed by the
node's CA). The secured nodes keep a plaintext ``internal`` listener on loopback for the node itself and for
the admin tools; the CA and the broker certificate are made in the node's folder (:mod:`streams.broker.certs`).
"""

from __future__ import annotations

import atexit
import base64
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Any, Literal

from streams.broker.certs import CertificateAuthority, make_ca
from streams.broker.embedded import free_port
from streams.broker.jars import java_binary, kafka_classpath
from streams.broker.process import BrokerChild, stop_group

Security = Literal["plaintext", "sasl_ssl", "mtls"]
HEAP_ENV = "EDFI_STREAM_KAFKA_HEAP"
SCRAM = "SCRAM-SHA-512"

_LOG4J = """\
status = warn
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.out.ref = out
logger.started.name = kafka.server.KafkaRaftServer
logger.started.level = info
"""


def _cluster_id() -> str:
    """A random KRaft cluster id (URL-safe base64 of a UUID), never starting with "-".

    Kafka's own ``Uuid.randomUuid`` re-draws such ids: one in 64 would otherwise be read by the storage tool's
    argument parser as an option ("argument --cluster-id/-t: expected one argument").
    """
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cid.startswith("-"):
            return cid


class ApacheKafka(BrokerChild):
    """``with ApacheKafka() as broker: broker.bootstrap_servers`` -> ``127.0.0.1:PORT``."""

    kind = "kafka"
    label = "Apache Kafka"
    stop_grace_seconds = 20.0  # a controlled shutdown writes its logs' end
    log_path: Path

    def __init__(self, workdir: str | Path | None = None, port: int | None = None,
                 log_path: str | Path | None = None, start_timeout: float = 120.0,
                 security: Security = "plaintext", heap: str | None = None,
                 super_users: tuple[str, ...] | None = None) -> None:
        self.workdir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="kafka-node-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.controller_port = free_port()
        self.internal_port = free_port() if security != "plaintext" else self.port
        self.log_path = Path(log_path) if log_path else self.workdir / "broker.log"
        self.start_timeout = start_timeout
        self.security: Security = security
        self.heap = heap or os.environ.get(HEAP_ENV, "1g")
        # None: no authorizer. A tuple of user names: Kafka's StandardAuthorizer with those users (and the node's
        # own plaintext listeners, ANONYMOUS) as super users; every other client needs ACLs
        self.super_users = super_users
        self.ca: CertificateAuthority | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    # -- addresses and client settings ---------------------------------------------------------------------
    @property
    def bootstrap_servers(self) -> str:
        """``127.0.0.1:PORT``, for ``bootstrap.servers`` (the secured listener when ``security`` is set)."""
        return f"127.0.0.1:{self.port}"

    @property
    def internal_bootstrap(self) -> str:
        """The plaintext listener (the node's own and the admin tools'); equals bootstrap_servers if plaintext."""
        return f"127.0.0.1:{self.internal_port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # -- configuration ---------------------------------------------------------------------------------------
    def _properties(self) -> dict[str, Any]:
        data = self.workdir / "data"
        props: dict[str, Any] = {
            "process.roles": "broker,controller",
            "node.id": 1,
            "controller.quorum.voters": f"1@127.0.0.1:{self.controller_port}",
            "controller.listener.names": "CONTROLLER",
            "log.dirs": str(data),
            # one node: every internal topic has one replica
            "offsets.topic.replication.factor": 1,
            "offsets.topic.num.partitions": 8,
            "transaction.state.log.replication.factor": 1,
            "transaction.state.log.min.isr": 1,
            "share.coordinator.state.topic.replication.factor": 1,
            "share.coordinator.state.topic.min.isr": 1,
            "group.initial.rebalance.delay.ms": 0,
            # as on MSK and Confluent Cloud: a topic exists only when someone creates it (a request for an
            # unknown topic's metadata must not create it with num.partitions, see docs/operations.md)
            "auto.create.topics.enable": False,
            # the tests' and the demo's short sessions (2 s) notice a killed worker quickly
            "group.min.session.timeout.ms": 1000,
            # a shared 2-core machine: fewer threads than Kafka's defaults
            "num.network.threads": 2,
            "num.io.threads": 4,
            "background.threads": 4,
            "log.cleaner.threads": 1,
            "log.cleaner.dedupe.buffer.size": 16 * 1024 * 1024,
        }
        if self.security == "plaintext":
            props.update({
                "listeners": f"PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
                "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
                "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                "inter.broker.listener.name": "PLAINTEXT",
            })
            return props
        protocol = "SASL_SSL" if self.security == "sasl_ssl" else "SSL"
        assert self.ca is not None
        props.update({
            "listeners": (f"CLIENT://127.0.0.1:{self.port},INTERNAL://127.0.0.1:{self.internal_port},"
                          f"CONTROLLER://127.0.0.1:{self.controller_port}"),
            "advertised.listeners": f"CLIENT://127.0.0.1:{self.port},INTERNAL://127.0.0.1:{self.internal_port}",
            "listener.security.protocol.map": f"CLIENT:{protocol},INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name": "INTERNAL",
            "ssl.keystore.type": "PEM",
            "ssl.keystore.location": str(self.workdir / "tls" / "broker-keystore.pem"),
            "ssl.truststore.type": "PEM",
            "ssl.truststore.location": str(self.ca.cert),
            "ssl.endpoint.identification.algorithm": "",
        })
        if self.security == "sasl_ssl":
            props.update({
                "sasl.enabled.mechanisms": SCRAM,
                "listener.name.client.sasl.enabled.mechanisms": SCRAM,
                "listener.name.client.scram-sha-512.sasl.jaas.config":
                    "org.apache.kafka.common.security.scram.ScramLoginModule required;",
            })
        else:
            props["listener.name.client.ssl.client.auth"] = "required"
        if self.super_users is not None:
            users = ["User:ANONYMOUS", *(f"User:{name}" for name in self.super_users)]
            props.update({"authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                          "super.users": ";".join(users)})
        return props

    def _write_config(self) -> Path:
        if self.security != "plaintext" and self.ca is None:
            tls = self.workdir / "tls"
            self.ca = make_ca(tls)
            issued = self.ca.issue("broker", server=True)
            (tls / "broker-keystore.pem").write_text(issued.key.read_text() + issued.cert.read_text())
        config = self.workdir / "server.properties"
        config.write_text("".join(f"{k}={v}\n" for k, v in self._properties().items()))
        (self.workdir / "log4j2.properties").write_text(_LOG4J)
        return config

    def _java(self, main: str, *args: str, heap: str = "256m") -> list[str]:
        return [java_binary(), f"-Xmx{heap}", "-Djava.awt.headless=true",
                f"-Dlog4j2.configurationFile={self.workdir / 'log4j2.properties'}",
                "-cp", f"{kafka_classpath()}/*", main, *args]

    def _format(self, config: Path) -> None:
        if (self.workdir / "data" / "meta.properties").exists():
            return  # formatted before: a restart keeps the data
        done = subprocess.run(self._java("kafka.tools.StorageTool", "format", f"--cluster-id={_cluster_id()}",
                                                  f"--config={config}"),
                              capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"formatting Kafka storage failed: {(done.stdout + done.stderr).strip()[-2000:]}")

    # -- lifecycle ----------------------------------------------------------------------------------------------
    def start(self) -> ApacheKafka:
        """Start the node and wait until it answers a metadata request listing itself (stop it if that fails)."""
        if self._proc is not None:
            return self
        config = self._write_config()
        self._format(config)
        java = self._java("kafka.Kafka", str(config), heap=self.heap)
        jvm = [java[0], f"-Xms{min(256, _megabytes(self.heap))}m", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
               "-XX:+ExplicitGCInvokesConcurrent", *java[1:]]
        return self._launch(jvm, self.log_path, cwd=self.workdir)

    def _ready_address(self) -> str:
        return self.internal_bootstrap

    def _failure_detail(self) -> str:
        return ":\n" + _tail(self.log_path) if self.log_path else ""

    def kill(self) -> None:
        """SIGKILL, no shutdown (a crash of the broker's machine); the data stays for the next start."""
        import signal

        proc, self._proc = self._proc, None
        if proc is not None:
            atexit.unregister(self.stop)
            stop_group(proc, 0, sig=signal.SIGKILL)

    def restart(self, grace_seconds: float | None = None) -> None:
        self.stop(grace_seconds)
        self.start()

    def remove(self) -> None:
        """Stop and delete the node's folder (its data, certificates and log)."""
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    # -- users (Kafka's own tool) ------------------------------------------------------------------------------
    def add_scram_user(self, name: str, password: str) -> None:
        """A SCRAM-SHA-512 user, made by Kafka's ConfigCommand (kafka-configs.sh) over the internal listener."""
        done = subprocess.run(self._java("kafka.admin.ConfigCommand", "--bootstrap-server", self.internal_bootstrap,
                                         "--alter", "--entity-type", "users", "--entity-name", name,
                                         "--add-config", f"{SCRAM}=[iterations=4096,password={password}]"),
                              capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            # the command line held the password: never echo it
            raise RuntimeError(f"kafka-configs could not add the SCRAM user {name} (exit {done.returncode}): "
                               + (done.stdout + done.stderr).replace(password, "***").strip()[-1000:])


def _megabytes(heap: str) -> int:
    unit = heap[-1].lower()
    number = int(heap[:-1]) if unit in "kmg" else int(heap)
    return {"k": number // 1024, "m": number, "g": number * 1024}.get(unit, number // (1024 * 1024))


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
