"""Benchmark: our egress against an ODS that limits itself. The emulator answers 429 with Retry-After to
every studentAssessments write above ``--limit`` writes/s (a token bucket of a tenth of a second's writes)
and takes ``--server-latency-ms`` per data request; our egress (the worker's WriteSender + EgressDispatcher
with its adaptive in-flight limit, defaults) sends ``--records`` POSTs from its own process. After
``--warm-up`` seconds it prints the acknowledged writes/s beside the limit, and the share of 429s;
``--egress paced adaptive`` runs the egress with and without the rate pacer (``edfi.concurrency: paced``)
one after the other, each against a fresh ODS, and prints them one above the other.

    python benchmarks/egress_rate_limited.py --limit 300 --server-latency-ms 50 --records 21000
    python benchmarks/egress_rate_limited.py --egress paced adaptive

Targets (issue 20 part 4): acknowledged >= 95 % of the limit, 429s <= 2 % of write requests.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from egress_vs_lightbeam import EGRESS_KINDS, run_egress, start_ods

from streams.demo.emulator_thread import EmulatorThread
from streams.emulator.problems import problem
from streams.emulator.responses import EmulatorResponse


class RateLimitedOds:
    """Wraps the emulator's handler: a token bucket over studentAssessments writes, and a log of each write's
    answer time and status."""

    def __init__(self, thread: EmulatorThread, per_second: float, retry_after_seconds: int) -> None:
        emulator = thread.emulator
        inner = emulator.handle
        self.capacity = max(1.0, per_second / 10)
        self.tokens = self.capacity
        self.stamp = time.monotonic()
        self.answers: list[tuple[float, int]] = []
        self._lock = threading.Lock()
        throttled = json.dumps(problem(429, "urn:ed-fi:api:too-many-requests", "Too many requests.")).encode()

        async def limited(method: str, path: str, headers: Mapping[str, str],
                          query: Mapping[str, str] | Sequence[tuple[str, str]], raw: bytes) -> Any:
            write = method.upper() in ("POST", "PUT", "DELETE") and "/studentassessments" in path.lower()
            if write:
                now = time.monotonic()
                with self._lock:
                    self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * per_second)
                    self.stamp = now
                    admitted = self.tokens >= 1
                    if admitted:
                        self.tokens -= 1
                    else:
                        self.answers.append((now, 429))
                if not admitted:
                    return EmulatorResponse(429, {"Content-Type": "application/json",
                                                  "Retry-After": str(retry_after_seconds)}, throttled)
            response = await inner(method, path, headers, query, raw)
            if write:
                with self._lock:
                    self.answers.append((time.monotonic(), response.status))
            return response

        emulator.handle = limited  # type: ignore[method-assign,assignment]


def measure(args: argparse.Namespace, egress: str) -> dict[str, Any]:
    """One run of one egress against a fresh rate-limited ODS: its figures after the warm-up."""
    thread, base_url, data = start_ods(args.records, args.server_latency_ms, "egress-limited-")
    ods = RateLimitedOds(thread, args.limit, args.retry_after)
    try:
        detail = run_egress(base_url, data, 0, "aiohttp", egress)
        held = thread.call(lambda: len(thread.emulator.records_by_id))
    finally:
        thread.stop()
    answers = sorted(ods.answers)
    start = answers[0][0] + args.warm_up
    acked = [t for t, status in answers if t >= start and status < 300]
    if len(acked) < 2:
        raise SystemExit(f"the run ended before the warm-up was over: use more --records ({len(answers)} answers)")
    window = acked[-1] - start
    requests = [status for t, status in answers if start <= t <= acked[-1]]
    rate = len(acked) / window
    return {
        "egress": egress, "held": held, "measured_seconds": round(window, 1), "acknowledged_per_second":
        round(rate, 1), "acknowledged_share_of_limit": round(rate / args.limit, 3),
        "requests_429_share": round(requests.count(429) / len(requests), 4),
        "requests_429_total": sum(1 for _, status in answers if status == 429),
        **{k: detail[k] for k in ("limit_peak", "limit_final", "limit_decreases", "pacer_rate", "pacer_cuts",
                                  "results")},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=float, default=300.0, help="writes/s the ODS accepts (N)")
    parser.add_argument("--server-latency-ms", type=float, default=50.0)
    parser.add_argument("--records", type=int, default=21_000)
    parser.add_argument("--warm-up", type=float, default=30.0, help="seconds left out of the figures")
    parser.add_argument("--retry-after", type=int, default=1, help="seconds the 429 answers ask to wait")
    parser.add_argument("--egress", nargs="+", choices=EGRESS_KINDS, default=["adaptive"],
                        help="edfi.concurrency of the egress, one run each, one after the other: adaptive (the "
                             "default: the in-flight limit), paced (the same, and the rate pacer a 429 sets), "
                             "fixed (maxInFlight writes in flight)")
    args = parser.parse_args()
    runs = [measure(args, egress) for egress in args.egress]
    print(f"ODS limit {args.limit:.0f} writes/s, {args.server_latency_ms:.0f} ms per request; {args.records} POSTs "
          f"per run; figures after {args.warm_up:.0f} s warm-up. Targets: acknowledged >= 95 % of the limit, 429s "
          "<= 2 % of write requests")
    for run in runs:
        print(f"{run['egress']:>17}: acknowledged {run['acknowledged_per_second']:6.1f} writes/s = "
              f"{100 * run['acknowledged_share_of_limit']:5.1f} % of the limit over {run['measured_seconds']:.0f} s; "
              f"429s {100 * run['requests_429_share']:.2f} % of write requests; in-flight limit peak "
              f"{run['limit_peak']}, final {run['limit_final']}, {run['limit_decreases']} decreases; paced rate "
              f"{run['pacer_rate']}/s after {run['pacer_cuts']} cuts; {run['held']} held")
    print(json.dumps({"benchmark": "egress_rate_limited", "limit_per_second": args.limit, "server_latency_ms":
                      args.server_latency_ms, "records": args.records, "warm_up_seconds": args.warm_up,
                      "runs": runs}))


if __name__ == "__main__":
    main()
