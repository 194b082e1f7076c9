"""A bad day at the Ed-Fi API (issue 7, item 7): 10 % 5xx, 5 % 429 with Retry-After, 2 % requests that
never answer in time, and tokens that expire every 20 s, on every data and token request. The worker
retries what is retryable and refreshes its token; the final ODS equals ``simulate`` and nothing is lost
or dead-lettered."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from streams.demo.metrics_scrape import by_label, total
from streams.emulator.faults import FaultSettings
from tests.faults.support import FaultRun

pytestmark = [pytest.mark.faults, pytest.mark.integration]

FAULTS = FaultSettings(error_rate=0.10, throttle_rate=0.05, retry_after_seconds=1.0, timeout_rate=0.02,
                       timeout_seconds=2.0, token_ttl_seconds=20, seed=7007)
# The emulator holds a "timeout" request for 2 s; the worker gives up after 1 s and retries (as it would
# against an ODS that hangs for longer than edfi.timeoutSeconds).
WORKER_TIMEOUT_SECONDS = "1"
BATCHES, BATCH_SPACING_SECONDS = 4, 11.0


def test_edfi_faults_and_token_expiry_lose_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("EDFI_STREAM_EDFI__TIMEOUT_SECONDS", WORKER_TIMEOUT_SECONDS)  # LocalStack copies os.environ
    run = FaultRun.prepare("edfi-faults", tmp_path)
    with run.stack(partitions=3) as stack:
        stack.wait_ready()
        emulator = stack.emulator

        def bad_day() -> int:
            emulator.faults.configure(FAULTS)
            emulator.tokens.clear()   # the token issued before the faults would live 30 min: revoke it
            return int(emulator.stats.get("tokens_issued", 0))

        tokens_before = stack.emulator_thread.call(bad_day)
        # Paced like a school day's stream (four batches, 11 s apart), so the run outlives a token twice.
        records = run.records
        size = -(-len(records) // BATCHES)
        produce_started = time.monotonic()
        for number in range(BATCHES):
            stack.produce_raw(records[number * size:(number + 1) * size])
            if number < BATCHES - 1:
                time.sleep(max(0.0, produce_started + (number + 1) * BATCH_SPACING_SECONDS - time.monotonic()))
        stack.wait_idle(240)
        run_seconds = time.monotonic() - produce_started
        stack.emulator_thread.call(lambda: emulator.faults.configure(FaultSettings()))
        result = run.result(stack)
        injected = dict(emulator.faults.injected)
        tokens = int(emulator.stats.get("tokens_issued", 0)) - tokens_before
        unauthorized = sum(v for k, v in emulator.stats.items() if k.endswith(" 401"))
        metrics = stack.metrics()
        retries = by_label(metrics, "edfi_stream_edfi_retries_total", "reason")
        decreases = total(metrics, "edfi_stream_concurrency_decreases_total")
        limit = total(metrics, "edfi_stream_writes_in_flight_limit")
        run.report(result, capsys, faults=injected,
                   extra={"tokens_issued": tokens, "answered_401": unauthorized,
                          "paced_run_seconds": round(run_seconds),
                          "limit_decreases": int(decreases), "in_flight_limit": int(limit),
                          "retries": ",".join(f"{k}={v:.0f}" for k, v in sorted(retries.items()))})
        assert injected.get("error", 0) > 0 and injected.get("throttle", 0) > 0 and injected.get("timeout", 0) > 0
        assert sum(retries.values()) >= sum(injected.values()) - 5, (retries, injected)
        # the adaptive in-flight limit heard the 429s, 503s and timeouts, and stayed within its range
        assert decreases > 0 and 4 <= limit <= 64, (decreases, limit)
        # the revoked token was answered 401 and replaced; the run (paced over 33 s) outlived that token's
        # 20 s lifetime, so the worker took at least one more before it expired
        assert unauthorized >= 1
        assert run_seconds > 33 and tokens >= 2, (tokens, run_seconds)
        run.assert_no_loss(stack, result)
        assert result.dead == [], [d.record.get("reason") for d in result.dead[:5]]
