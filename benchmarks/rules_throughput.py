"""Benchmark: events per second through the pure rule engine, and through `simulate` (rules + egress code
+ in-process Ed-Fi API). Prints the figures and one JSON line.

    python benchmarks/rules_throughput.py [--students 5000]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from synthetic import write

from streams.config import load_settings
from streams.io.events_file import FileEvent, read_events
from streams.rules.config import RuleConfig
from streams.rules.engine import InMemoryStores, RuleEngine
from streams.simulate.run import run_simulation
from streams.sis.events import parse_change


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.jsonl"
        count = write(path, args.students)
        parsed = [parse_change(e.topic, e.key, e.value) for e in read_events(path) if isinstance(e, FileEvent)]
        engine = RuleEngine(RuleConfig(), **InMemoryStores().as_kwargs())
        started = time.perf_counter()
        commands = 0
        for event in parsed:
            commands += len(engine.on_change(event).commands)
        rules_seconds = time.perf_counter() - started
        started = time.perf_counter()
        summary = run_simulation(path, load_settings(None, environ={}), Path(tmp) / "out")
        simulate_seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {
        "benchmark": "rules_throughput", "students": args.students, "events": count, "commands": commands,
        "rules_events_per_second": round(count / rules_seconds), "simulate_events_per_second":
        round(count / simulate_seconds), "ods_records": summary.ods_records, "peak_rss_mb": round(peak_mb),
    }
    print(f"{count} events, {commands} write commands")
    print(f"rule engine alone:            {result['rules_events_per_second']:>8} events/s")
    print(f"simulate (rules + egress + in-process Ed-Fi API): {result['simulate_events_per_second']:>8} events/s")
    print(f"peak RSS: {result['peak_rss_mb']} MB")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
