"""The rules are pure: nothing in streams/rules imports Faust, Kafka, httpx or Prometheus."""

from __future__ import annotations

import ast
from pathlib import Path

import streams.rules

FORBIDDEN = ("faust", "kafka", "confluent_kafka", "aiokafka", "httpx", "prometheus_client", "agents",
             "streams.edfi", "streams.emulator", "streams.observability", "streams.broker")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_rules_import_no_io_library() -> None:
    folder = Path(streams.rules.__file__).parent
    files = sorted(folder.glob("*.py"))
    assert len(files) >= 6
    offenders = {f.name: sorted(m for m in imported_modules(f) if m.split(".")[0] in FORBIDDEN
                                or m.startswith(FORBIDDEN))
                 for f in files}
    assert {k: v for k, v in offenders.items() if v} == {}
