"""The product on one machine: embedded broker, Ed-Fi emulator and a worker child process.

Used by ``edfi-stream demo`` and by the end-to-end tests (the same worker command a platform team runs,
against a real Kafka-protocol broker and an HTTP Ed-Fi API). ``with LocalStack(...) as stack:`` starts
everything; leaving the block stops every process it started, also on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType
from typing import Any, cast

from streams.broker.select import BrokerKind, LocalBroker, test_broker_kind
from streams.codec import Format
from streams.config import Settings, load_settings
from streams.demo.emulator_thread import DEMO_CLIENT, EmulatorThread, free_port
from streams.demo.metrics_scrape import scrape, total


class LocalStack:
    def __init__(self, config_file: Path, events_for_seeding: Path | None = None, *, partitions: int | None = None,
                 echo: Callable[[str], None] = lambda line: None, workdir: Path | None = None,
                 one_record_per_batch: bool = True, edfi_credentials: tuple[str, str] = DEMO_CLIENT,
                 broker: BrokerKind | None = None, external_broker: LocalBroker | None = None,
                 extra_env: Mapping[str, str] | None = None) -> None:
        # broker: kafka (Apache Kafka 4, the tests' default: $EDFI_STREAM_TEST_BROKER) or tansu (make demo);
        # external_broker: one already running (a secured test node), with the extra_env that reaches it.
        # one_record_per_batch applies to tansu only; False there only for loads the workaround makes too slow
        # (benchmarks/memory_recovery.py --batched): tansu slows down as one-record batches pile up, and without
        # them table recovery after a restart stops short of each changelog's last batch (docs/operations.md).
        self.config_file = config_file
        self.events_for_seeding = events_for_seeding
        self.partitions = partitions
        self.echo = echo
        self.external_broker = external_broker
        self.extra_env = dict(extra_env or {})
        self.broker_kind: BrokerKind = (cast(BrokerKind, external_broker.kind) if external_broker else
                                        broker or test_broker_kind())
        self.one_record_per_batch = one_record_per_batch and self.broker_kind == "tansu"
        # what the worker is given (the emulator knows DEMO_CLIENT): others test refused credentials
        self.edfi_credentials = edfi_credentials
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="edfi-stream-demo-"))
        self._exit = ExitStack()
        self.worker: Any = None
        self.env: dict[str, str] = {}

    # -- lifecycle ----------------------------------------------------------------------------------------
    def __enter__(self) -> LocalStack:
        try:
            self.start()
        except BaseException:
            self._exit.close()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._exit.close()

    def start(self) -> None:
        from streams.broker.select import local_broker
        from streams.kafka.topics import ensure_product_topics
        from streams.simulate.seed import seed_emulator
        from streams.sis.rows import CONTROL_TOPIC

        self.echo(f"edfi-stream demo: working directory {self.workdir}")
        self.broker = self.external_broker or self._exit.enter_context(local_broker(self.broker_kind, self.workdir))
        self.echo(f"  broker ({self.broker_kind})        {self.broker.bootstrap_servers}")
        seeding = self.events_for_seeding
        self.emulator_thread = EmulatorThread(free_port(), lambda emu: seed_emulator(emu, seeding) if seeding else None)
        self._exit.callback(self.emulator_thread.stop)
        self.edfi_url = f"http://127.0.0.1:{self.emulator_thread.port}"
        self.echo(f"  Ed-Fi API (emulator)  {self.edfi_url}")
        self.web_port = free_port()
        env = dict(os.environ)
        env.update({
            "EDFI_STREAM_CONFIG": str(self.config_file),
            "EDFI_STREAM_KAFKA__BOOTSTRAP_SERVERS": self.broker.bootstrap_servers,
            "EDFI_STREAM_KAFKA__BROKER": self.broker_kind,
            "EDFI_STREAM_KAFKA__ONE_RECORD_PER_BATCH": str(self.one_record_per_batch).lower(),
            "EDFI_STREAM_KAFKA__SESSION_TIMEOUT_MS": "2000",
            "EDFI_STREAM_KAFKA__HEARTBEAT_INTERVAL_MS": "500",
            "EDFI_STREAM_EDFI__BASE_URL": self.edfi_url,
            "EDFI_STREAM_EDFI__PARK_RETRY_SECONDS": "2",
            "EDFI_STREAM_WORKER__WEB_PORT": str(self.web_port),
            "EDFI_STREAM_WORKER__WEB_HOST": "127.0.0.1",
            "EDFI_STREAM_WORKER__DATA_DIR": str(self.workdir / "data"),
            "EDFI_CLIENT_ID": self.edfi_credentials[0],
            "EDFI_CLIENT_SECRET": self.edfi_credentials[1],
        })
        env.update(demo_web_credentials())
        if self.partitions:
            env["EDFI_STREAM_KAFKA__TOPIC_PARTITIONS"] = str(self.partitions)
        env.update(self.extra_env)
        self.env = env
        self.settings: Settings = load_settings(self.config_file, environ=env)
        self.kafka_config = self.settings.kafka.confluent_config(env)
        ensure_product_topics(self.settings.kafka, [*self.settings.topic_map().inputs, CONTROL_TOPIC])
        self.start_worker()

    def start_worker(self) -> None:
        from streams.demo.processes import ChildProcess, worker_command

        self.worker = ChildProcess("worker", worker_command(), self.env, self.workdir / "worker.log")
        self._exit.callback(self.worker.stop)
        self.echo(f"  worker                {self.metrics_url} (log: {self.workdir / 'worker.log'})")

    def stop_worker(self) -> None:
        if self.worker is not None:
            self.worker.stop()

    def kill_worker(self) -> None:
        """SIGKILL to the worker's process group (a crash: no shutdown, no flush, no commit), then reap it."""
        import signal

        if self.worker is not None and self.worker.alive:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.worker.proc.pid, signal.SIGKILL)
            self.worker.proc.wait(10)
            self.worker.stop()  # closes its log file

    @property
    def inexact_ends(self) -> bool:
        """tansu without one-record batches reports end offsets that fall short (Apache Kafka never does)."""
        return self.broker_kind == "tansu" and not self.one_record_per_batch

    @property
    def emulator(self) -> Any:
        return self.emulator_thread.emulator

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def auth_headers(self, role: str = "viewer") -> dict[str, str]:
        """The bearer token of ``role`` on the worker's web port (the demo's generated credentials)."""
        return {"Authorization": f"Bearer {self.env[f'EDFI_STREAM_WEB_{role.upper()}_TOKEN']}"}

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}/metrics"

    # -- actions ------------------------------------------------------------------------------------------
    def produce(self, events_file: Path, fmt: Format = "avro") -> int:
        from streams.io.events_file import read_events
        from streams.io.produce import produce_events

        report = produce_events(list(read_events(events_file)), self.settings.kafka, fmt=fmt,
                                topics=self.settings.topic_map())
        if report.rejected:
            raise RuntimeError(f"{len(report.rejected)} events could not be encoded: {report.rejected[:3]}")
        self.echo(f"  produced {report.produced} SIS change events ({fmt}) to {len(report.by_topic)} topics")
        return report.produced

    def produce_raw(self, records: Iterable[tuple[str, bytes | None, bytes | None]]) -> list[tuple[str, int, int]]:
        """Publish ``(topic, key bytes, value bytes)`` as they are, in order (malformed input included);
        returns ``(topic, partition, offset)`` of each record, in the same order."""
        from streams.io.produce import flush_while_progressing, make_producer

        producer = make_producer(self.settings.kafka)
        placed: list[tuple[str, int, int] | None] = []
        errors: list[str] = []

        def delivered(index: int) -> Callable[[Any, Any], None]:
            def report(err: Any, msg: Any) -> None:
                if err is not None:
                    errors.append(f"{msg.topic()}: {err}")
                else:
                    placed[index] = (msg.topic(), msg.partition(), msg.offset())
            return report

        for topic, key, value in records:
            placed.append(None)
            while True:
                try:
                    producer.produce(topic, key=key, value=value, on_delivery=delivered(len(placed) - 1))
                    break
                except BufferError:
                    producer.poll(0.1)
            producer.poll(0)
        left = flush_while_progressing(producer)
        if left or errors or any(p is None for p in placed):
            raise RuntimeError(f"delivery failed ({left} records not delivered): {errors[:3]}")
        return [p for p in placed if p is not None]

    def toggle(self, enabled: bool, timeout_seconds: float = 60) -> None:
        """Publish the toggle and wait until the worker reports it (``edfi_stream_resource_enabled``): the
        control topic is read by its own agent, so without the wait a write command produced right after
        (a resync's, say) can reach the egress before the worker knows the resource is on again."""
        from streams.io.control import publish_toggle

        publish_toggle(self.settings.kafka, "studentAssessments", enabled)
        gauge = "edfi_stream_resource_enabled{resource=studentAssessments}"
        deadline = time.monotonic() + timeout_seconds
        while self.metrics().get(gauge) != (1.0 if enabled else 0.0):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not report the toggle ({enabled}) within {timeout_seconds:.0f} s")
            time.sleep(0.1)

    def metrics(self) -> dict[str, float]:
        try:
            return scrape(self.metrics_url)
        except OSError:
            return {}

    def wait_ready(self, timeout_seconds: float = 90) -> None:
        """Until the worker's /readyz says ready (partitions assigned, tables recovered, token obtainable)."""
        import urllib.error
        import urllib.request

        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            if self.worker is None or not self.worker.alive:
                raise RuntimeError("the worker stopped:\n" + (self.worker.tail(40) if self.worker else ""))
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.web_port}/readyz", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.3)
        raise RuntimeError(f"the worker was not ready within {timeout_seconds:.0f} s")

    def wait_idle(self, timeout_seconds: float = 300, settle_seconds: float = 3.0) -> None:
        """Until the worker group has committed every input, repartition and write-command offset, and no
        write is parked, for ``settle_seconds`` (without the one-record-per-batch workaround, also with
        the commits standing still and no write in flight)."""
        from agents.topics import STUDENT_EVENTS, WRITE_COMMANDS
        from streams.broker.admin import committed_offsets, end_offsets, exact_end_offsets

        INPUT_TOPICS = self.settings.topic_map().inputs  # the SIS topics under their Kafka names
        topics = [*INPUT_TOPICS, STUDENT_EVENTS, WRITE_COMMANDS]
        stable_since: float | None = None
        deadline = time.monotonic() + timeout_seconds
        last, last_done = "", None
        while time.monotonic() < deadline:
            if self.worker is None or not self.worker.alive:
                raise RuntimeError("the worker stopped:\n" + (self.worker.tail(40) if self.worker else ""))
            time.sleep(0.5)
            try:
                ends = end_offsets(self.kafka_config, topics)
                done = committed_offsets(self.kafka_config, self.settings.worker.app_id, topics)
                if self.inexact_ends and _behind(ends, done) == 0:
                    # The reported ends fall short by up to a batch. The SIS inputs (large batches from our
                    # producer) are read to their real ends; the internal topics, which Faust writes in small
                    # batches that tansu reads slowly deep in a partition, must instead show commits that
                    # stand still with no write in flight (below).
                    ends.update(exact_end_offsets(self.kafka_config, INPUT_TOPICS, timeout=60))
            except Exception:
                continue
            total_in = sum(v for (t, _), v in ends.items() if t in INPUT_TOPICS)
            done_in = sum(min(done.get(tp, 0), v) for tp, v in ends.items() if tp[0] in INPUT_TOPICS)
            behind = _behind(ends, done)
            metrics = self.metrics()
            parked = total(metrics, "edfi_stream_parked_writes")
            line = (f"  progress: SIS events {done_in}/{total_in} | pending in pipeline {behind} | "
                    f"ODS studentAssessments {len(self.emulator.records_by_id)} | parked {int(parked)}")
            if line != last:
                self.echo(line)
                last = line
            still = not self.inexact_ends or (
                done == last_done and total(metrics, "edfi_stream_writes_in_flight") == 0)
            last_done = done
            if behind == 0 and parked == 0 and still:
                stable_since = stable_since or time.monotonic()
                if time.monotonic() - stable_since >= settle_seconds:
                    return
            else:
                stable_since = None
        tail = self.worker.tail(60) if self.worker else ""
        raise RuntimeError(f"the pipeline did not go idle within {timeout_seconds:.0f} s; last: {last.strip()}\n"
                           f"worker log tail:\n{tail}")


def demo_web_credentials() -> dict[str, str]:
    """Fresh credentials of both web roles for one demo run (printed by ``demo --serve``, never reused)."""
    import secrets

    return {"EDFI_STREAM_WEB_VIEWER_TOKEN": secrets.token_urlsafe(24),
            "EDFI_STREAM_WEB_OPERATOR_TOKEN": secrets.token_urlsafe(24),
            "EDFI_STREAM_WEB_VIEWER_USER": "viewer",
            "EDFI_STREAM_WEB_VIEWER_PASSWORD": secrets.token_urlsafe(12),
            "EDFI_STREAM_WEB_OPERATOR_USER": "operator",
            "EDFI_STREAM_WEB_OPERATOR_PASSWORD": secrets.token_urlsafe(12)}


def _behind(ends: dict[tuple[str, int], int], done: dict[tuple[str, int], int]) -> int:
    return sum(max(0, v - done.get(tp, 0)) for tp, v in ends.items())
