"""Benchmark: peak memory of a worker holding a district, and the time from a worker restart to
processing again. Prints the figures and one JSON line.

    python benchmarks/memory_recovery.py --students 2000

Memory: LocalStack (embedded broker, HTTP emulator, the worker as a child process) gets a generated district
(benchmarks/synthetic.py: per student 1 student row, 1.5 enrollments and 5 scores on average) in two
halves; the worker's peak resident set (VmHWM of /proc/<pid>/status, summed over the worker and any child
processes) is read when it is ready and idle, after the first half and after the whole district. The growth
per student of the second half extrapolates to the issue's size (100,000 students, 200,000 enrollments,
500,000 scores; target <= 600 MB).

``--batched`` drops the embedded broker's one-record-per-batch workaround for the issue's size, which it
cannot reach with it (tansu's fetches slow down as one-record batches pile up: docs/performance.md). Peak
memory is then measured as usual; the restart figure is not comparable, because table recovery stops at
tansu's reported high watermark, short of each changelog partition's last batch (docs/operations.md).

Recovery: ``stop_worker(); start_worker(); wait_ready()``, then one new score (of a new student, enrolled,
known to the ODS) is produced, and the clock stops when its studentAssessment reaches the emulator.
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

from synthetic import events

from streams.demo.stack import LocalStack

TARGET_STUDENTS = 100_000
TARGET_MB = 600


def process_tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            children = (task / "children").read_text().split() if (task / "children").exists() else []
            todo.extend(int(c) for c in children)
    return out


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def worker_peak_mb(stack: LocalStack) -> float:
    """VmHWM (peak resident set) of the worker process and its descendants, in MB."""
    return sum(status_kb(pid, "VmHWM") for pid in process_tree(stack.worker.proc.pid)) / 1024


def write_halves(workdir: Path, students: int, second_enrollment_share: float) -> tuple[Path, Path, Path, int]:
    """The whole district (for seeding the ODS), its first half (reference rows + the first students) and
    its second half; returns the paths and the number of events."""
    all_events = list(events(students, second_enrollment_share=second_enrollment_share))
    split = next(i for i, e in enumerate(all_events)
                 if e["topic"] == "sis.students" and e["value"]["after"]["personID"] == students // 2 + 1)
    paths = (workdir / "district.jsonl", workdir / "first.jsonl", workdir / "second.jsonl")
    for path, part in zip(paths, (all_events, all_events[:split], all_events[split:]), strict=True):
        path.write_text("".join(json.dumps(e) + "\n" for e in part))
    return *paths, len(all_events)


def new_student_events(person: int, ts: int) -> list[dict[str, Any]]:
    """A new student, enrolled in school 1, with one State Mathematics score inside the test window."""
    def ev(topic: str, pk: str, row: dict[str, Any], offset: int) -> dict[str, Any]:
        return {"topic": topic, "key": {pk: row[pk]},
                "value": {"op": "c", "before": None, "after": row, "ts_ms": ts + offset, "source": {"table": topic}}}

    return [
        ev("sis.students", "personID", {"personID": person, "stateID": f"{person:010d}"}, 0),
        ev("sis.enrollments", "enrollmentID", {
            "enrollmentID": 2 * person, "personID": person, "calendarID": 1, "grade": "06",
            "startDate": "2023-08-15", "endDate": None, "serviceType": "P", "stateExclude": False,
            "noShow": False, "mathAssessmentType": "Yes test in this content area"}, 1),
        ev("sis.test_scores", "scoreID", {
            "scoreID": 900_000_000 + person, "personID": person, "testID": 1, "date": "2024-03-15",
            "scaleScore": "275", "result": None, "proctorPersonID": None}, 2),
    ]


def progress_echo(stack_ref: list[LocalStack], every_seconds: float = 30.0) -> Any:
    """LocalStack's progress lines, at most one per ``every_seconds``, with the worker's peak RSS so far."""
    last = [0.0]
    started = time.monotonic()

    def echo(line: str) -> None:
        now = time.monotonic()
        if "progress:" in line and now - last[0] < every_seconds:
            return
        last[0] = now
        rss = f" | worker VmHWM {worker_peak_mb(stack_ref[0]):.0f} MB" if stack_ref and stack_ref[0].worker else ""
        print(f"[{now - started:7.0f} s]{line}{rss}", flush=True)

    return echo


def wait_for_student(stack: LocalStack, student_unique_id: str, timeout_seconds: float) -> float:
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        held = stack.emulator_thread.call(lambda: [
            r for r in stack.emulator.records_by_id.values()
            if r.body["studentReference"]["studentUniqueId"] == student_unique_id])
        if held:
            return time.perf_counter()
        time.sleep(0.02)
    raise RuntimeError(f"the new student's studentAssessment did not arrive within {timeout_seconds:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=2000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--second-enrollment-share", type=float, default=0.5,
                        help="share of students with two enrollments (1.0: the issue's 2 per student)")
    parser.add_argument("--batched", action="store_true",
                        help="no one-record-per-batch workaround (for 100,000 students; restart figure not comparable)")
    parser.add_argument("--progress", action="store_true", help="print progress every 30 s")
    parser.add_argument("--compare-simulate", action="store_true",
                        help="after the load, check that the ODS equals `simulate` on the same district")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="memory-bench-"))
    district, first, second, count = write_halves(work, args.students, args.second_enrollment_share)
    config = work / "config.yaml"
    config.write_text(f"kafka: {{topicPartitions: {args.partitions}}}\n")
    stack_ref: list[LocalStack] = []
    echo = progress_echo(stack_ref) if args.progress else (lambda line: None)
    with LocalStack(config, district, echo=echo, one_record_per_batch=not args.batched) as stack:
        stack_ref.append(stack)
        stack.wait_ready()
        idle_mb = worker_peak_mb(stack)
        started = time.perf_counter()
        stack.produce(first)
        stack.wait_idle(timeout_seconds=7200, settle_seconds=1.0)
        half_mb = worker_peak_mb(stack)
        stack.produce(second)
        stack.wait_idle(timeout_seconds=7200, settle_seconds=1.0)
        full_mb = worker_peak_mb(stack)
        load_seconds = time.perf_counter() - started - 2.0
        records = len(stack.emulator.records_by_id)
        loaded_ods = stack.emulator_thread.call(stack.emulator.records) if args.compare_simulate else None

        # restart: stop, start, ready; then one new score until its write reaches the ODS
        person = args.students + 1
        stack.emulator_thread.call(lambda: stack.emulator.add_student(f"{person:010d}"))
        restart = time.perf_counter()
        stack.stop_worker()
        stopped = time.perf_counter()
        stack.start_worker()
        stack.wait_ready(timeout_seconds=600)
        ready = time.perf_counter()
        extra = work / "extra.jsonl"
        extra.write_text("".join(json.dumps(e) + "\n" for e in new_student_events(person, int(time.time() * 1000))))
        stack.produce(extra)
        produced = time.perf_counter()
        written = wait_for_student(stack, f"{person:010d}", 600)
        restarted_mb = worker_peak_mb(stack)

    same_as_simulate = None
    if loaded_ods is not None:
        from streams.config import load_settings
        from streams.demo.run import matches_simulate

        same_as_simulate = matches_simulate(loaded_ods, load_settings(config, environ={}), district)
        print(f"the ODS after the load {'equals' if same_as_simulate else 'DIFFERS FROM'} `simulate` on the district")
    per_student_kb = (full_mb - half_mb) * 1024 / (args.students - args.students // 2)
    projected_mb = full_mb + per_student_kb * (TARGET_STUDENTS - args.students) / 1024
    result = {
        "benchmark": "memory_recovery", "students": args.students, "events": count, "batched": args.batched,
        "enrollments_per_student": 1 + args.second_enrollment_share, "ods_records": records,
        "ods_equals_simulate": same_as_simulate,
        "load_seconds": round(load_seconds, 1), "worker_peak_mb_idle": round(idle_mb, 1),
        "worker_peak_mb_half": round(half_mb, 1), "worker_peak_mb_full": round(full_mb, 1),
        "growth_kb_per_student": round(per_student_kb, 2),
        "projected_peak_mb_100k_students": round(projected_mb), "target_mb": TARGET_MB,
        "worker_peak_mb_after_restart": round(restarted_mb, 1),
        "stop_seconds": round(stopped - restart, 2), "restart_to_ready_seconds": round(ready - stopped, 2),
        "produce_to_write_seconds": round(written - produced, 2),
        "restart_to_processing_seconds": round(written - restart, 2),
    }
    print(f"{args.students} students, {count} events, {records} studentAssessments in the ODS "
          f"(loaded in {load_seconds:.0f} s)")
    print(f"worker peak RSS (VmHWM): ready {idle_mb:.0f} MB, half {half_mb:.0f} MB, full {full_mb:.0f} MB; "
          f"{per_student_kb:.1f} KB per student -> ~{projected_mb:.0f} MB at {TARGET_STUDENTS:,} students "
          f"(target <= {TARGET_MB} MB)")
    cache_students = args.partitions * int(os.environ.get("EDFI_STREAM_WORKER__DECODED_CACHE_SIZE", "4096"))
    if args.students <= cache_students:
        print(f"note: every student fits the decoded cache ({args.partitions} partitions x decodedCacheSize = "
              f"{cache_students:,} students), so the growth above includes a decoded copy of each and the "
              "projection overestimates; run with EDFI_STREAM_WORKER__DECODED_CACHE_SIZE=64 for the table cost")
    print(f"restart: stop {stopped - restart:.1f} s, start to ready {ready - stopped:.1f} s, new event to its "
          f"Ed-Fi write {written - produced:.2f} s: {written - restart:.1f} s from restart to processing again; "
          f"peak RSS after the restart (tables recovered) {restarted_mb:.0f} MB")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
