"""Benchmark: does the worker's rate hold as the district grows (issue 20, part 3), and its peak memory at the
large size (issue 15, part 7)? In one run, the whole pipeline (Apache Kafka by default, without the
one-record-per-batch workaround, HTTP emulator) at a small and a large district, one after the other on a
fresh stack each; prints both rates, their ratio (target: the large within 20 % of the small), the worker's
CPU per event and its peak resident set, then one JSON line.

    python benchmarks/pipeline_scaling.py --small 5000 --large 100000
    python benchmarks/pipeline_scaling.py --small 5000 --large 50000      # what fits a shorter sitting
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from memory_recovery import process_tree, worker_peak_mb
from synthetic import write

from streams.demo.stack import LocalStack


def cpu_seconds(pid: int) -> float:
    """User + system CPU of the worker and its descendants so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for each in process_tree(pid):
        fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))
    return total / ticks


def run(students: int, broker: Any, timeout: float) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp())
    events = tmp / "events.jsonl"
    count = write(events, students)
    config = tmp / "config.yaml"
    config.write_text("kafka: {topicPartitions: 4}\n")
    with LocalStack(config, events, one_record_per_batch=False, broker=broker) as stack:
        ready_cpu = cpu_seconds(stack.worker.proc.pid)
        load = os.getloadavg()[0]
        started = time.perf_counter()
        stack.produce(events)
        stack.wait_idle(timeout_seconds=timeout, settle_seconds=1.0)
        elapsed = time.perf_counter() - started - 1.0
        cpu = cpu_seconds(stack.worker.proc.pid) - ready_cpu
        result = {"students": students, "events": count, "seconds": round(elapsed, 1),
                  "events_per_second": round(count / elapsed), "worker_cpu_seconds": round(cpu, 1),
                  "worker_cpu_ms_per_event": round(1000 * cpu / count, 3),
                  "worker_peak_rss_mb": round(worker_peak_mb(stack), 1),
                  "ods_records": len(stack.emulator.records()), "broker": stack.broker_kind,
                  "load_start": round(load, 1), "load_end": round(os.getloadavg()[0], 1)}
    print(f"[{result['broker']}] {students:,} students, {count:,} events: {result['events_per_second']:,} events/s, "
          f"worker CPU {result['worker_cpu_ms_per_event']} ms/event, peak RSS {result['worker_peak_rss_mb']} MB, "
          f"ODS {result['ods_records']:,} (load {result['load_start']} -> {result['load_end']})", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=5000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--broker", choices=["kafka", "tansu"], default="kafka")
    parser.add_argument("--timeout", type=float, default=7200.0, help="seconds each size may take")
    args = parser.parse_args()
    small = run(args.small, args.broker, args.timeout)
    large = run(args.large, args.broker, args.timeout)
    wall = large["events_per_second"] / small["events_per_second"]
    cpu = small["worker_cpu_ms_per_event"] / large["worker_cpu_ms_per_event"]
    print(f"{args.large:,} students at {wall:.0%} of the {args.small:,}-student rate by wall clock, {cpu:.0%} by "
          f"worker CPU per event (target >= 80 %); worker peak RSS {large['worker_peak_rss_mb']} MB at "
          f"{args.large:,} students")
    print(json.dumps({"benchmark": "pipeline_scaling", "small": small, "large": large,
                      "rate_ratio": round(wall, 3), "cpu_per_event_ratio": round(cpu, 3)}))


if __name__ == "__main__":
    main()
