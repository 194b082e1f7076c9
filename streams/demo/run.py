"""`edfi-stream demo`: the bundled sample district through the whole product, then a summary.

It ends when the worker has processed every event unless ``--serve`` keeps everything running for
exploring; Ctrl-C stops every process it started. The summary checks the final ODS against
``simulate`` on the same events: the same rule code must give the same result with and without Kafka.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streams.broker.select import BrokerKind
from streams.codec import Format
from streams.config import Settings, load_settings
from streams.demo.metrics_scrape import by_label, total
from streams.demo.stack import LocalStack


@dataclass
class DemoResult:
    events_produced: int = 0
    ods_records: int = 0
    requests: dict[str, int] = field(default_factory=dict)
    dead_letters: int = 0
    in_flight_limit: int | None = None
    limit_decreases: int = 0
    decisions: dict[str, float] = field(default_factory=dict)
    matches_simulate: bool | None = None
    seconds: float = 0.0
    urls: dict[str, str] = field(default_factory=dict)


def run_demo(serve: bool = False, echo: Callable[[str], None] = print, timeout_seconds: float = 600,
             broker: BrokerKind = "tansu") -> DemoResult:
    from streams.sample.district import SAMPLE_CONFIG, SAMPLE_EVENTS

    return run_pipeline(SAMPLE_EVENTS, SAMPLE_CONFIG, serve=serve, echo=echo, timeout_seconds=timeout_seconds,
                        broker=broker)


def run_pipeline(events_file: Path, config_file: Path, *, serve: bool = False, echo: Callable[[str], None] = print,
                 timeout_seconds: float = 600, fmt: Format = "avro", partitions: int | None = None,
                 broker: BrokerKind | None = None) -> DemoResult:
    """Start the local stack, produce ``events_file``, wait until processed, summarise (``broker``: the local
    broker to start; None: ``$EDFI_STREAM_TEST_BROKER``, Apache Kafka by default)."""
    started = time.monotonic()
    result = DemoResult()
    with LocalStack(config_file, events_file, partitions=partitions, echo=echo, broker=broker) as stack:
        result.urls = {"console": stack.web_url + "/console/", "metrics": stack.metrics_url, "edfi": stack.edfi_url,
                       "studentAssessments": f"{stack.edfi_url}/data/v3/ed-fi/studentAssessments",
                       "worker log": str(stack.workdir / "worker.log")}
        result.events_produced = stack.produce(events_file, fmt)
        stack.wait_idle(timeout_seconds)
        metrics = stack.metrics()
        result.decisions = by_label(metrics, "edfi_stream_rule_decisions_total", "outcome")
        result.dead_letters = int(total(metrics, "edfi_stream_dead_letters_total"))
        result.in_flight_limit = int(total(metrics, "edfi_stream_writes_in_flight_limit")) or None
        result.limit_decreases = int(total(metrics, "edfi_stream_concurrency_decreases_total"))
        records = stack.emulator.records()
        result.ods_records = len(records)
        result.requests = request_counts(stack.emulator)
        result.matches_simulate = matches_simulate(records, load_settings(config_file, environ={}), events_file)
        result.seconds = time.monotonic() - started
        echo(render_summary(result))
        if serve:
            echo(render_console_access(stack.web_url, stack.env))
            echo("serving; press Ctrl-C to stop everything")
            while stack.worker.alive:
                time.sleep(1)
    return result


def render_console_access(web_url: str, env: dict[str, str]) -> str:
    """The console's address and this run's generated credentials (made fresh for each demo, valid only
    while it runs; a real deployment takes them from its Secret, docs/security.md)."""
    return "\n".join([
        "Console for data stewards (credentials made for this demo run only):",
        f"  {web_url}/console/",
        f"  operator: user {env['EDFI_STREAM_WEB_OPERATOR_USER']}  password {env['EDFI_STREAM_WEB_OPERATOR_PASSWORD']}"
        "  (retry, archive, toggle)",
        f"  viewer:   user {env['EDFI_STREAM_WEB_VIEWER_USER']}  password {env['EDFI_STREAM_WEB_VIEWER_PASSWORD']}"
        "  (read only)",
        f"  bearer token (viewer) for `edfi-stream explain --worker {web_url}`: "
        f"EDFI_STREAM_WEB_VIEWER_TOKEN={env['EDFI_STREAM_WEB_VIEWER_TOKEN']}",
    ])


def request_counts(emulator: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for method, path, status in list(emulator.request_log):
        if "/studentassessments" in path.lower():
            key = f"{method} {status}"
            counts[key] = counts.get(key, 0) + 1
    return counts


def comparable(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in ("id", "_etag", "_lastModifiedDate")}


def matches_simulate(records: list[dict[str, Any]], settings: Settings, events_file: Path) -> bool:
    from streams.simulate.run import run_simulation

    with tempfile.TemporaryDirectory() as out:
        run_simulation(events_file, settings, Path(out))
        expected = json.loads((Path(out) / "ods.json").read_text())
    return [comparable(r) for r in records] == [comparable(r) for r in expected]


def render_summary(result: DemoResult) -> str:
    lines = ["", f"Done in {result.seconds:.1f} s.",
             f"  SIS events produced:           {result.events_produced}",
             f"  studentAssessments in the ODS: {result.ods_records}",
             "  Ed-Fi requests:                " + ", ".join(f"{k}: {v}" for k, v in sorted(result.requests.items())),
             f"  dead letters:                  {result.dead_letters}",
             *([f"  Ed-Fi writes in flight:        limit now {result.in_flight_limit} "
                f"(edfi.concurrency adaptive unless set fixed), lowered {result.limit_decreases} times"]
               if result.in_flight_limit else []),
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
