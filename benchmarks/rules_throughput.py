"""Benchmark: events per second through the pure rule engine, and through `simulate` (rules + egress code
+ in-process Ed-Fi API) on the same file in the same run, side by side with their ratio; `simulate` also
through full httpx requests (what the in-process path saves). Prints the figures and one JSON line.

    python benchmarks/rules_throughput.py [--students 5000] [--repeat 3]

Each figure is the best of ``--repeat`` runs, timed in this process's CPU time (``time.process_time``): on
a shared machine wall time measures the neighbours; all three are single-threaded. Wall-clock figures of
the same runs are in the JSON line.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from synthetic import write

from streams.config import load_settings
from streams.io.events_file import FileEvent, read_events
from streams.rules.config import RuleConfig
from streams.rules.engine import InMemoryStores, RuleEngine
from streams.simulate.run import run_simulation
from streams.sis.events import parse_change


def best_of(repeat: int, run: Callable[[], object]) -> tuple[float, float]:
    """The least CPU seconds and the least wall seconds of ``repeat`` runs."""
    cpu, wall = [], []
    for _ in range(repeat):
        started_cpu, started_wall = time.process_time(), time.perf_counter()
        run()
        cpu.append(time.process_time() - started_cpu)
        wall.append(time.perf_counter() - started_wall)
    return min(cpu), min(wall)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    settings = load_settings(None, environ={})
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.jsonl"
        count = write(path, args.students)
        parsed = [parse_change(e.topic, e.key, e.value) for e in read_events(path) if isinstance(e, FileEvent)]
        commands = [0]

        def rules() -> None:
            engine = RuleEngine(RuleConfig(), **InMemoryStores().as_kwargs())
            commands[0] = sum(len(engine.on_change(event).commands) for event in parsed)

        def read_parse_rules() -> None:  # what simulate does before any egress: read, decode, parse, rules
            engine = RuleEngine(RuleConfig(), **InMemoryStores().as_kwargs())
            for e in read_events(path):
                if isinstance(e, FileEvent) and e.value is not None:
                    engine.on_change(parse_change(e.topic, e.key, e.value))

        summaries = {}

        def simulate(through_httpx: bool) -> Callable[[], None]:
            def run() -> None:
                out = Path(tmp) / ("out-httpx" if through_httpx else "out")
                summaries[through_httpx] = run_simulation(path, settings, out, through_httpx=through_httpx)
            return run

        rules_cpu, rules_wall = best_of(args.repeat, rules)
        parse_cpu, _ = best_of(args.repeat, read_parse_rules)
        sim_cpu, sim_wall = best_of(args.repeat, simulate(False))
        http_cpu, http_wall = best_of(args.repeat, simulate(True))
        same = [json.loads((Path(tmp) / d / "ods.json").read_text()) for d in ("out", "out-httpx")]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    comparable = [[{k: v for k, v in r.items() if k not in ("id", "_etag", "_lastModifiedDate")} for r in ods]
                  for ods in same]
    result = {
        "benchmark": "rules_throughput", "students": args.students, "events": count, "commands": commands[0],
        "rules_events_per_second": round(count / rules_cpu),
        "simulate_events_per_second": round(count / sim_cpu),
        "simulate_httpx_events_per_second": round(count / http_cpu),
        "simulate_to_rules": round(rules_cpu / sim_cpu, 3),
        "read_parse_rules_events_per_second": round(count / parse_cpu),
        "simulate_to_read_parse_rules": round(parse_cpu / sim_cpu, 3),
        "simulate_httpx_to_rules": round(rules_cpu / http_cpu, 3),
        "wall_events_per_second": {"rules": round(count / rules_wall), "simulate": round(count / sim_wall),
                                   "simulate_httpx": round(count / http_wall)},
        "ods_records": summaries[False].ods_records, "same_ods": comparable[0] == comparable[1],
        "peak_rss_mb": round(peak_mb), "repeat": args.repeat,
    }
    print(f"{count} events, {commands[0]} write commands, best of {args.repeat} (CPU time)")
    print(f"rule engine alone:                               {result['rules_events_per_second']:>8} events/s")
    print(f"simulate (rules + egress + in-process Ed-Fi API): {result['simulate_events_per_second']:>8} events/s"
          f"   simulate / rules = {result['simulate_to_rules']:.2f}")
    print(f"rules with reading and parsing the file:          {result['read_parse_rules_events_per_second']:>8} "
          f"events/s   simulate / these = {result['simulate_to_read_parse_rules']:.2f}")
    print(f"simulate through full httpx requests:             {result['simulate_httpx_events_per_second']:>8} "
          f"events/s   simulate / rules = {result['simulate_httpx_to_rules']:.2f}")
    print(f"same ODS both ways: {result['same_ods']}; peak RSS: {result['peak_rss_mb']} MB")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
