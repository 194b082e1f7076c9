"""Run the demo: embedded broker, Ed-Fi emulator, worker, the bundled sample district; then a summary.

The demo is the product on one machine: the same worker command a platform team runs, against a real
Kafka-protocol broker and an HTTP Ed-Fi API. It ends when the worker has processed every event (its
consumer group has committed every input, repartition and write-command offset) unless ``--serve`` keeps
everything running for exploring. Ctrl-C stops every process it started.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streams.codec import Format
from streams.config import Settings, load_settings

DEMO_CLIENT = ("demo-client", "demo-secret-not-for-production")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class DemoResult:
    events_produced: int = 0
    ods_records: int = 0
    requests: dict[str, int] = field(default_factory=dict)
    dead_letters: int = 0
    decisions: dict[str, float] = field(default_factory=dict)
    matches_simulate: bool | None = None
    seconds: float = 0.0
    urls: dict[str, str] = field(default_factory=dict)


class EmulatorThread:
    """The Ed-Fi emulator's HTTP server on its own event loop in a background thread."""

    def __init__(self, port: int, seed: Callable[[Any], None]) -> None:
        from streams.emulator.core import EdfiEmulator

        self.port = port
        self.emulator = EdfiEmulator()
        self.emulator.add_client(*DEMO_CLIENT)
        seed(self.emulator)
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="edfi-emulator", daemon=True)
        self._thread.start()
        if not self._started.wait(15):
            raise RuntimeError("the Ed-Fi emulator did not start")

    def _run(self) -> None:
        from streams.emulator.server import start_server

        async def main() -> None:
            runner = await start_server(self.emulator, "127.0.0.1", self.port)
            self._stop = asyncio.Event()
            self._started.set()
            await self._stop.wait()
            await runner.cleanup()

        self._loop.run_until_complete(main())

    def call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(30)

    def stop(self) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


def _metrics(url: str) -> dict[str, float]:
    """Scrape the worker's /metrics into {sample name with labels: value}."""
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            out[f"{sample.name}{{{labels}}}"] = sample.value
    return out


def _sum(metrics: dict[str, float], prefix: str) -> float:
    return sum(v for k, v in metrics.items() if k.startswith(prefix + "{"))


def demo_settings(base: Settings, bootstrap: str, edfi_url: str, web_port: int, data_dir: str) -> dict[str, str]:
    """Environment for the worker child process (the demo uses the same env-override path as users)."""
    return {
        "EDFI_STREAM_KAFKA__BOOTSTRAP_SERVERS": bootstrap,
        "EDFI_STREAM_KAFKA__ONE_RECORD_PER_BATCH": "true",
        "EDFI_STREAM_KAFKA__SESSION_TIMEOUT_MS": "2000",
        "EDFI_STREAM_KAFKA__HEARTBEAT_INTERVAL_MS": "500",
        "EDFI_STREAM_EDFI__BASE_URL": edfi_url,
        "EDFI_STREAM_EDFI__PARK_RETRY_SECONDS": "2",
        "EDFI_STREAM_WORKER__WEB_PORT": str(web_port),
        "EDFI_STREAM_WORKER__WEB_HOST": "127.0.0.1",
        "EDFI_STREAM_WORKER__DATA_DIR": data_dir,
        "EDFI_CLIENT_ID": DEMO_CLIENT[0],
        "EDFI_CLIENT_SECRET": DEMO_CLIENT[1],
    }


def run_demo(serve: bool = False, echo: Callable[[str], None] = print, timeout_seconds: float = 600) -> DemoResult:
    from streams.sample.district import SAMPLE_CONFIG, SAMPLE_EVENTS

    return run_pipeline(SAMPLE_EVENTS, SAMPLE_CONFIG, serve=serve, echo=echo, timeout_seconds=timeout_seconds)


def run_pipeline(events_file: Path, config_file: Path, *, serve: bool = False, echo: Callable[[str], None] = print,
                 timeout_seconds: float = 600, fmt: Format = "avro", partitions: int | None = None) -> DemoResult:
    """Broker + emulator + worker (a child process) over ``events_file``; returns when all is processed."""
    from streams.broker.admin import committed_offsets, end_offsets, ensure_topics
    from streams.broker.embedded import EmbeddedBroker
    from streams.demo.processes import ChildProcess, worker_command
    from streams.io.events_file import read_events
    from streams.io.produce import produce_events
    from streams.simulate.seed import seed_emulator

    SAMPLE_CONFIG, SAMPLE_EVENTS = config_file, events_file
    started = time.monotonic()
    result = DemoResult()
    workdir = Path(tempfile.mkdtemp(prefix="edfi-stream-demo-"))
    base = load_settings(SAMPLE_CONFIG, environ={})
    emulator_port, web_port = free_port(), free_port()
    echo(f"edfi-stream demo: working directory {workdir}")
    with EmbeddedBroker(log_path=workdir / "broker.log") as broker:
        echo(f"  broker (tansu)        {broker.bootstrap_servers}")
        emulator = EmulatorThread(emulator_port, lambda emu: seed_emulator(emu, SAMPLE_EVENTS))
        edfi_url = f"http://127.0.0.1:{emulator_port}"
        echo(f"  Ed-Fi API (emulator)  {edfi_url}")
        env = dict(os.environ)
        env.update(demo_settings(base, broker.bootstrap_servers, edfi_url, web_port, str(workdir / "data")))
        env["EDFI_STREAM_CONFIG"] = str(SAMPLE_CONFIG)
        if partitions:
            env["EDFI_STREAM_KAFKA__TOPIC_PARTITIONS"] = str(partitions)
        settings = load_settings(SAMPLE_CONFIG, environ=env)
        kafka_cfg = settings.kafka.confluent_config()
        from agents.topics import INPUT_TOPICS
        from streams.sis.rows import CONTROL_TOPIC

        ensure_topics(kafka_cfg, [*INPUT_TOPICS, CONTROL_TOPIC], settings.kafka.topic_partitions)
        worker = ChildProcess("worker", worker_command(), env, workdir / "worker.log")
        metrics_url = f"http://127.0.0.1:{web_port}/metrics"
        result.urls = {"metrics": metrics_url, "edfi": edfi_url,
                       "studentAssessments": f"{edfi_url}/data/v3/ed-fi/studentAssessments",
                       "worker log": str(workdir / "worker.log")}
        try:
            echo(f"  worker                {metrics_url} (log: {workdir / 'worker.log'})")
            events = list(read_events(SAMPLE_EVENTS))
            report = produce_events(events, settings.kafka, fmt=fmt)
            result.events_produced = report.produced
            if report.rejected:
                raise RuntimeError(f"{len(report.rejected)} events could not be encoded: {report.rejected[:3]}")
            echo(f"  produced {report.produced} SIS change events (Avro) to {len(report.by_topic)} topics")
            from agents.topics import STUDENT_EVENTS, WRITE_COMMANDS

            topics = [*INPUT_TOPICS, STUDENT_EVENTS, WRITE_COMMANDS]
            stable_since: float | None = None
            deadline = time.monotonic() + timeout_seconds
            last_line = ""
            while time.monotonic() < deadline:
                if not worker.alive:
                    raise RuntimeError("the worker stopped:\n" + worker.tail(40))
                time.sleep(1.0)
                try:
                    ends = end_offsets(kafka_cfg, topics)
                    done = committed_offsets(kafka_cfg, settings.worker.app_id, topics)
                except Exception:  # the broker may be busy during the group's first join
                    continue
                total_in = sum(v for (t, _), v in ends.items() if t in INPUT_TOPICS)
                done_in = sum(min(done.get(tp, 0), v) for tp, v in ends.items() if tp[0] in INPUT_TOPICS)
                behind = sum(max(0, v - done.get(tp, 0)) for tp, v in ends.items())
                records = len(emulator.emulator.records())
                try:
                    m = _metrics(metrics_url)
                except OSError:
                    m = {}
                parked = _sum(m, "edfi_stream_parked_writes")
                line = (f"  progress: SIS events {done_in}/{total_in} | pending in pipeline {behind} | "
                        f"ODS studentAssessments {records} | parked {int(parked)}")
                if line != last_line:
                    echo(line)
                    last_line = line
                if behind == 0 and total_in > 0 and parked == 0:
                    stable_since = stable_since or time.monotonic()
                    if time.monotonic() - stable_since >= 3:
                        break
                else:
                    stable_since = None
            else:
                raise RuntimeError(f"the sample was not processed within {timeout_seconds:.0f} s")
            m = _metrics(metrics_url)
            result.decisions = {k.split("outcome=")[1].rstrip("}"): v for k, v in m.items()
                                if k.startswith("edfi_stream_rule_decisions_total{") and "outcome=" in k}
            result.dead_letters = int(_sum(m, "edfi_stream_dead_letters_total"))
            records_now = emulator.emulator.records()
            result.ods_records = len(records_now)
            result.requests = _request_counts(emulator.emulator)
            result.matches_simulate = _matches_simulate(records_now, base, SAMPLE_EVENTS)
            result.seconds = time.monotonic() - started
            echo(render_summary(result))
            if serve:
                echo("serving; press Ctrl-C to stop everything")
                while worker.alive:
                    time.sleep(1)
        finally:
            worker.stop()
            emulator.stop()
    return result


def _request_counts(emulator: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in emulator.request_log:
        method, path, status = entry[0], entry[1], entry[2]
        if "/studentAssessments" not in path:
            continue
        key = f"{method} {status}"
        counts[key] = counts.get(key, 0) + 1
    return counts


def _strip(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in ("id", "_etag", "_lastModifiedDate")}


def _matches_simulate(records: list[dict[str, Any]], settings: Settings, events_file: Path) -> bool:
    from streams.simulate.run import run_simulation

    with tempfile.TemporaryDirectory() as out:
        run_simulation(events_file, settings, Path(out))
        expected = json.loads((Path(out) / "ods.json").read_text())
    return [_strip(r) for r in records] == [_strip(r) for r in expected]


def render_summary(result: DemoResult) -> str:
    lines = ["", f"Done in {result.seconds:.1f} s.",
             f"  SIS events produced:          {result.events_produced}",
             f"  studentAssessments in the ODS: {result.ods_records}",
             "  Ed-Fi requests:               " + ", ".join(f"{k}: {v}" for k, v in sorted(result.requests.items())),
             f"  dead letters:                 {result.dead_letters}",
             "  rule evaluations by outcome (the worker's edfi_stream_rule_decisions_total):"]
    for outcome, count in sorted(result.decisions.items(), key=lambda kv: -kv[1]):
        lines.append(f"    {outcome:<28} {int(count)}")
    if result.matches_simulate is not None:
        lines.append("  final ODS equals `edfi-stream simulate` on the same events: "
                     + ("yes" if result.matches_simulate else "NO"))
    lines.append("Where to look:")
    for name, url in result.urls.items():
        lines.append(f"  {name:<20} {url}")
    return "\n".join(lines)
