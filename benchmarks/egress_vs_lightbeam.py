"""Benchmark: our Ed-Fi egress (WriteSender + EgressDispatcher, 16 in flight) against lightbeam (the JSONL
loader districts use, 8 pooled connections), sending the same N studentAssessments into the same Ed-Fi
emulator over real HTTP. Prints the figures and one JSON line.

    python benchmarks/egress_vs_lightbeam.py --records 10000
    python benchmarks/egress_vs_lightbeam.py --records 2000 --skip-lightbeam

Fairness: the emulator runs in this process (a thread), and each sender runs as its own child process, so
both get the other core and neither shares an interpreter with the server. Records per second is counted
on the emulator, from the first to the last studentAssessments write it receives (process start-up, the
discovery and token requests are excluded for both). The emulator is reset between runs and must hold N
records after each. Lightbeam is installed with pip into its own virtual environment (``--venv``, default
under the system temp directory), never into the project's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from streams.demo.emulator_thread import DEMO_CLIENT, EmulatorThread, free_port  # noqa: E402
from streams.emulator.faults import FaultSettings  # noqa: E402
from streams.emulator.reference import KSDE_NAMESPACE  # noqa: E402

TESTS = ("State Mathematics Assessment", "State English Language Arts Assessment", "State Science Assessment",
         "Kansas English Language Proficiency Assessment (KELPA)")
SCHOOLS = 10
SECRET_ENV = "EDFI_BENCH_CLIENT_SECRET"
# our egress as each edfi.concurrency builds it
EGRESS_KINDS = ("adaptive", "paced", "fixed")


def student_id(i: int) -> str:
    return f"{i:010d}"


def body(i: int) -> dict[str, Any]:
    """Record i: one of four state tests of student i // 4 (both senders send these exact lines)."""
    student = student_id(i // 4)
    test = TESTS[i % 4]
    return {
        "studentAssessmentIdentifier": f"BENCH_{i:08d}",
        "assessmentReference": {"assessmentIdentifier": test, "namespace": KSDE_NAMESPACE},
        "studentReference": {"studentUniqueId": student},
        "reportedSchoolReference": {"schoolId": 1001 + (i // 4) % SCHOOLS},
        "administrationDate": f"2024-0{1 + i % 6}-15T00:00:00Z",
        "scoreResults": [{"assessmentReportingMethodDescriptor":
                          "uri://ed-fi.org/AssessmentReportingMethodDescriptor#Scale score",
                          "resultDatatypeTypeDescriptor": "uri://ed-fi.org/ResultDatatypeTypeDescriptor#Integer",
                          "result": str(150 + i % 200)}],
    }


def write_data(data_dir: Path, records: int) -> Path:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "studentAssessments.jsonl"
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(records):
            handle.write(json.dumps(body(i)) + "\n")
    return path


def start_ods(records: int, server_latency_ms: float, prefix: str) -> tuple[EmulatorThread, str, Path]:
    """The file of ``records`` bodies (in a new temporary folder), and the emulator in a thread of this
    process, seeded with their students and schools, taking ``server_latency_ms`` per data request (a real
    ODS's database round trip: a sleep, so requests overlap freely; its other faults are off). Returns the
    thread, its base URL and the file."""
    data = write_data(Path(tempfile.mkdtemp(prefix=prefix)) / "data", records)
    students = (records + 3) // 4

    def seed(emu: Any) -> None:
        for s in range(students):
            emu.add_student(student_id(s))
        for school in range(SCHOOLS):
            emu.add_school(1001 + school)
        emu.faults.configure(FaultSettings(latency_seconds=server_latency_ms / 1000))

    port = free_port()
    return EmulatorThread(port, seed), f"http://127.0.0.1:{port}", data


class WriteClock:
    """Times the first and last studentAssessments write the emulator receives (wraps its handler)."""

    def __init__(self, thread: EmulatorThread) -> None:
        emulator = thread.emulator
        inner = emulator.handle
        self.first: float | None = None
        self.last: float | None = None
        self.writes = 0
        self._lock = threading.Lock()

        async def timed(method: str, path: str, headers: Mapping[str, str],
                        query: Mapping[str, str] | Sequence[tuple[str, str]], raw: bytes) -> Any:
            response = await inner(method, path, headers, query, raw)
            if method.upper() in ("POST", "PUT") and "/studentassessments" in path.lower():
                now = time.perf_counter()
                with self._lock:
                    self.first = now if self.first is None else self.first
                    self.last = now
                    self.writes += 1
            return response

        emulator.handle = timed  # type: ignore[method-assign,assignment]

    def reset(self) -> None:
        with self._lock:
            self.first = self.last = None
            self.writes = 0

    def seconds(self) -> float:
        assert self.first is not None and self.last is not None, "no write reached the emulator"
        return self.last - self.first


# -- (a) our egress, in a child process ------------------------------------------------------------------
async def egress_send(base_url: str, data: Path, max_in_flight: int, transport_name: str, concurrency: str
                      ) -> dict[str, Any]:
    from streams.config import EdfiSettings
    from streams.edfi.dispatcher import EgressDispatcher
    from streams.edfi.factory import build_limit, build_sender
    from streams.writes import NaturalKey, WriteCommand

    overrides: dict[str, Any] = {"max_in_flight": max_in_flight} if max_in_flight else {}
    settings = EdfiSettings.model_validate({"base_url": base_url, "http_stack": transport_name,
                                            "concurrency": concurrency, **overrides})
    limit = build_limit(settings)  # as the worker builds it (streams.edfi.factory.build_dispatcher)
    sender, client = build_sender(settings, credentials=(DEMO_CLIENT[0], os.environ[SECRET_ENV]), limit=limit)
    dispatcher = EgressDispatcher(sender, settings.max_in_flight, limit=limit)
    peak = 0
    await client.check_token()
    with open(data, encoding="utf-8") as handle:
        for offset, line in enumerate(handle):
            payload = json.loads(line)
            cmd = WriteCommand("POST", NaturalKey.of_payload(payload), payload, "benchmark")
            await dispatcher.submit(cmd, (0, offset))
            peak = max(peak, limit.current)
    await dispatcher.drain()
    await client.aclose()
    pacer = limit.pacer
    return {"results": dispatcher.results, "limit_final": limit.current, "limit_peak": peak,
            "limit_decreases": limit.decreases, "pacer_rate": round(pacer.rate, 1) if pacer and pacer.rate else None,
            "pacer_cuts": pacer.cuts if pacer else 0, "pacer_throttles": pacer.throttles if pacer else 0}


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_egress(base_url: str, data: Path, max_in_flight: int, transport: str, concurrency: str) -> dict[str, Any]:
    started, cpu = time.perf_counter(), children_cpu()
    out = subprocess.run([sys.executable, __file__, "--egress-child", base_url, str(data), str(max_in_flight),
                          transport, concurrency], capture_output=True, text=True, env=child_env(), check=False)
    if out.returncode != 0:
        raise RuntimeError(f"egress child failed: {out.stderr[-2000:]}")
    return {**json.loads(out.stdout.strip().splitlines()[-1]),
            "process_seconds": time.perf_counter() - started, "client_cpu_seconds": children_cpu() - cpu}


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env[SECRET_ENV] = DEMO_CLIENT[1]
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


# -- (b) lightbeam, in its own virtual environment -------------------------------------------------------
def ensure_lightbeam(venv: Path, version: str) -> Path:
    exe = venv / "bin" / "lightbeam"
    if exe.exists():
        return exe
    print(f"installing lightbeam{version} into {venv} ...", flush=True)
    subprocess.run(["python3", "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", f"lightbeam{version}"], check=True)
    return exe


def lightbeam_config(path: Path, base_url: str, data_dir: Path, pool_size: int) -> None:
    # the secret stays in the environment: lightbeam expands ${VARS} in its YAML
    path.write_text(
        f"data_dir: {data_dir}/\n"
        "namespace: ed-fi\n"
        "edfi_api:\n"
        f"  base_url: {base_url}\n"
        "  version: 3\n"
        "  mode: shared_instance\n"
        f"  client_id: {DEMO_CLIENT[0]}\n"
        f"  client_secret: ${{{SECRET_ENV}}}\n"
        "connection:\n"
        f"  pool_size: {pool_size}\n"
        "  timeout: 60\n"
        "  num_retries: 10\n"
        "  backoff_factor: 1.5\n"
        "  retry_statuses: [429, 500, 501, 503, 504]\n"
        "  verify_ssl: false\n"
        "log_level: INFO\n")


def run_lightbeam(exe: Path, config: Path, results_file: Path) -> dict[str, Any]:
    started, cpu = time.perf_counter(), children_cpu()
    out = subprocess.run([str(exe), "send", "-c", str(config), "--results-file", str(results_file)],
                         capture_output=True, text=True, env=child_env(), check=False)
    seconds = time.perf_counter() - started
    if out.returncode != 0:
        raise RuntimeError(f"lightbeam exited {out.returncode}: {(out.stdout + out.stderr)[-3000:]}")
    summary = json.loads(results_file.read_text())
    resource = summary["resources"].get("studentAssessments", {})
    return {"successes": resource.get("successes", []), "failed": resource.get("records_failed"),
            "process_seconds": seconds, "client_cpu_seconds": children_cpu() - cpu,
            "log_tail": (out.stdout + out.stderr)[-600:]}


# -- the comparison --------------------------------------------------------------------------------------
def self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def report_cpu(detail: dict[str, Any], records: int) -> None:
    print(f"    CPU per record: sender process {detail['client_ms']} ms (whole process, start-up included), "
          f"emulator {detail['server_ms']} ms")


def measure(thread: EmulatorThread, clock: WriteClock, records: int, run: Any) -> tuple[float, dict[str, Any]]:
    thread.call(thread.emulator.reset)
    clock.reset()
    server_cpu = self_cpu()  # this process only waits on the child: its CPU is the emulator thread's
    detail = run()
    detail["server_ms"] = round(1000 * (self_cpu() - server_cpu) / records, 3)
    detail["client_ms"] = round(1000 * detail["client_cpu_seconds"] / records, 3)
    held = thread.call(lambda: len(thread.emulator.records_by_id))
    if held != records:
        raise RuntimeError(f"the emulator holds {held} studentAssessments, expected {records}: {detail}")
    seconds = clock.seconds()
    return records / seconds, {**detail, "write_seconds": round(seconds, 3), "writes_received": clock.writes}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--concurrency", choices=EGRESS_KINDS, default="adaptive",
                        help="edfi.concurrency of our egress (adaptive: the default)")
    parser.add_argument("--max-in-flight", type=int, default=0,
                        help="edfi.maxInFlight (adaptive: the ceiling; fixed: the number); 0: the default")
    parser.add_argument("--pool-size", type=int, default=8, help="lightbeam connection.pool_size")
    parser.add_argument("--venv", type=Path, default=Path(tempfile.gettempdir()) / "edfi-stream-bench" / "lightbeam")
    parser.add_argument("--lightbeam-version", default="==0.1.12")
    parser.add_argument("--skip-lightbeam", action="store_true")
    parser.add_argument("--egress-transport", choices=("aiohttp", "httpx"), default="aiohttp",
                        help="edfi.httpStack of our egress (aiohttp: the default)")
    parser.add_argument("--server-latency-ms", type=float, default=0.0,
                        help="added by the emulator to every data request (a real ODS's database round trip)")
    args = parser.parse_args()
    thread, base_url, data = start_ods(args.records, args.server_latency_ms, "egress-bench-")
    work = data.parent.parent
    clock = WriteClock(thread)
    result: dict[str, Any] = {"benchmark": "egress_vs_lightbeam", "records": args.records,
                              "server_latency_ms": args.server_latency_ms}
    try:
        ours, ours_detail = measure(thread, clock, args.records,
                                    lambda: run_egress(base_url, data, args.max_in_flight, args.egress_transport,
                                                       args.concurrency))
        print(f"our egress ({args.concurrency}, maxInFlight {args.max_in_flight or 'default'}, "
              f"{args.egress_transport}): {args.records} records in {ours_detail['write_seconds']:.2f} s = "
              f"{ours:,.0f} records/s  {ours_detail['results']}")
        print(f"    in-flight limit: peak {ours_detail['limit_peak']}, final {ours_detail['limit_final']}, "
              f"{ours_detail['limit_decreases']} decreases")
        report_cpu(ours_detail, args.records)
        result.update({"egress_records_per_second": round(ours), "egress_seconds": ours_detail["write_seconds"],
                       "egress_concurrency": args.concurrency, "egress_max_in_flight": args.max_in_flight or None,
                       "egress_limit_peak": ours_detail["limit_peak"],
                       "egress_limit_final": ours_detail["limit_final"],
                       "egress_limit_decreases": ours_detail["limit_decreases"],
                       "egress_transport": args.egress_transport,
                       "egress_client_cpu_ms_per_record": ours_detail["client_ms"],
                       "emulator_cpu_ms_per_record_egress": ours_detail["server_ms"]})
        if not args.skip_lightbeam:
            exe = ensure_lightbeam(args.venv, args.lightbeam_version)
            config = work / "lightbeam.yaml"
            lightbeam_config(config, base_url, data.parent, args.pool_size)
            theirs, detail = measure(thread, clock, args.records,
                                     lambda: run_lightbeam(exe, config, work / "lightbeam-results.json"))
            print(f"lightbeam (pool_size {args.pool_size}): {args.records} records in "
                  f"{detail['write_seconds']:.2f} s = {theirs:,.0f} records/s  statuses {detail['successes']}")
            report_cpu(detail, args.records)
            print(f"ratio: ours / lightbeam = {ours / theirs:.2f}x (target >= 3x)")
            result.update({"lightbeam_records_per_second": round(theirs), "lightbeam_seconds":
                           detail["write_seconds"], "lightbeam_pool_size": args.pool_size,
                           "lightbeam_client_cpu_ms_per_record": detail["client_ms"],
                           "emulator_cpu_ms_per_record_lightbeam": detail["server_ms"],
                           "ratio": round(ours / theirs, 2)})
    finally:
        thread.stop()
    print(json.dumps(result))


if __name__ == "__main__":
    if len(sys.argv) == 7 and sys.argv[1] == "--egress-child":
        outcome = asyncio.run(egress_send(sys.argv[2], Path(sys.argv[3]), int(sys.argv[4]), sys.argv[5],
                                          sys.argv[6]))
        print(json.dumps(outcome))
    else:
        main()
