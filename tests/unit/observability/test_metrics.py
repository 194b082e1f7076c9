"""The metrics module: label values stay bounded, helpers write to the registry in use, no identifiers."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from streams.observability import metrics

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def m() -> Iterator[metrics.Metrics]:
    with metrics.use_registry() as fresh:
        yield fresh


def value(m: metrics.Metrics, name: str, **labels: str) -> float:
    got = m.registry.get_sample_value(name, labels)
    return 0.0 if got is None else got


def test_use_registry_isolates_and_restores(m: metrics.Metrics) -> None:
    outer = metrics.current()
    assert outer is m
    with metrics.use_registry(CollectorRegistry()) as inner:
        metrics.record_decision("sent")
        assert value(inner, "edfi_stream_rule_decisions_total", outcome="sent") == 1
    assert metrics.current() is m
    assert value(m, "edfi_stream_rule_decisions_total", outcome="sent") == 0


def test_decisions_unknown_reason_counts_as_other(m: metrics.Metrics) -> None:
    for outcome in ("sent", "sent", "excluded_school", "toggled_off", "a reason nobody listed", "12345"):
        metrics.record_decision(outcome)
    assert value(m, "edfi_stream_rule_decisions_total", outcome="sent") == 2
    assert value(m, "edfi_stream_rule_decisions_total", outcome="excluded_school") == 1
    assert value(m, "edfi_stream_rule_decisions_total", outcome="toggled_off") == 1
    assert value(m, "edfi_stream_rule_decisions_total", outcome="other") == 2
    assert value(m, "edfi_stream_rule_decisions_total", outcome="12345") == 0


@pytest.mark.parametrize(("status", "klass"), [(200, "2xx"), (201, "2xx"), (409, "4xx"), (503, "5xx"),
                                               (0, "error"), (999, "error")])
def test_edfi_request_status_class_and_duration(m: metrics.Metrics, status: int, klass: str) -> None:
    metrics.observe_edfi_request("post", status, 0.2)
    assert value(m, "edfi_stream_edfi_requests_total", method="POST", status_class=klass) == 1
    assert value(m, "edfi_stream_edfi_request_duration_seconds_count", method="POST") == 1
    assert value(m, "edfi_stream_edfi_request_duration_seconds_bucket", method="POST", le="0.25") == 1
    assert value(m, "edfi_stream_edfi_request_duration_seconds_bucket", method="POST", le="0.1") == 0


def test_unknown_method_is_other(m: metrics.Metrics) -> None:
    metrics.observe_edfi_request("PATCH", 200, 0.01)
    assert value(m, "edfi_stream_edfi_requests_total", method="other", status_class="2xx") == 1


def test_end_to_end_latency_only_for_acknowledged_writes(m: metrics.Metrics) -> None:
    metrics.observe_write("acked", source_ts_ms=1_000, now_ms=1_030)       # 30 ms
    metrics.observe_write("unchanged", source_ts_ms=1_000, now_ms=301_000)  # 5 min
    metrics.observe_write("dead_letter", source_ts_ms=1_000, now_ms=2_000)
    metrics.observe_write("acked", source_ts_ms=0, now_ms=2_000)            # no source time: not observed
    name = "edfi_stream_end_to_end_latency_seconds"
    assert value(m, name + "_count") == 2
    assert value(m, name + "_bucket", le="0.05") == 1
    assert value(m, name + "_bucket", le="300.0") == 2
    assert value(m, name + "_sum") == pytest.approx(300.03)
    assert value(m, "edfi_stream_writes_completed_total", outcome="acked") == 2
    assert value(m, "edfi_stream_writes_completed_total", outcome="dead_letter") == 1


def test_latency_buckets_span_10ms_to_10min() -> None:
    assert metrics.LATENCY_BUCKETS[0] == 0.01 and metrics.LATENCY_BUCKETS[-1] == 600.0
    assert list(metrics.LATENCY_BUCKETS) == sorted(metrics.LATENCY_BUCKETS)


@pytest.mark.parametrize(("stage", "cause", "want_stage", "want_cause"), [
    ("decode", "bad_json", "decode", "bad_json"),
    ("egress", "urn:ed-fi:api:data-conflict:unresolved-reference", "egress", "unresolved-reference"),
    ("egress", "http_502", "egress", "http_502"),
    ("egress", "http_9999", "egress", "other"),
    ("rules", "score 17 of student 00000001 is odd", "rules", "other"),
    ("somewhere", "bad_json", "other", "bad_json"),
])
def test_dead_letter_labels_bounded(m: metrics.Metrics, stage: str, cause: str, want_stage: str,
                                    want_cause: str) -> None:
    metrics.record_dead_letter(stage, cause)
    assert value(m, "edfi_stream_dead_letters_total", stage=want_stage, cause=want_cause) == 1


def test_other_helpers_bound_their_labels(m: metrics.Metrics) -> None:
    metrics.record_event("sis.test_scores", "ok")
    metrics.record_event("sis.test_scores", "weird")
    metrics.record_command("POST")
    metrics.record_command("PATCH")
    metrics.record_retry("throttled")
    metrics.record_retry("cosmic-ray")
    metrics.record_token_refresh("rejected")
    metrics.record_resync("forget")
    metrics.set_enabled("studentAssessments", False)
    metrics.set_table_size("students", 42)
    metrics.set_lag("sis.test_scores", 3, -5)
    metrics.set_parked(7)
    assert value(m, "edfi_stream_events_consumed_total", topic="sis.test_scores", outcome="ok") == 1
    assert value(m, "edfi_stream_events_consumed_total", topic="sis.test_scores", outcome="other") == 1
    assert value(m, "edfi_stream_write_commands_total", action="other") == 1
    assert value(m, "edfi_stream_edfi_retries_total", reason="other") == 1
    assert value(m, "edfi_stream_token_refreshes_total", outcome="rejected") == 1
    assert value(m, "edfi_stream_resync_actions_total", action="forget") == 1
    enabled = m.registry.get_sample_value("edfi_stream_resource_enabled", {"resource": "studentAssessments"})
    assert enabled == 0
    assert value(m, "edfi_stream_table_entries", table="students") == 42
    assert value(m, "edfi_stream_consumer_lag_messages", topic="sis.test_scores", partition="3") == 0
    assert value(m, "edfi_stream_parked_writes") == 7


def test_metric_names_list_matches_registry(m: metrics.Metrics) -> None:
    families = {f.name: f.type for f in m.registry.collect()}
    # counter families are named without _total
    exported = {name.removesuffix("_total") if kind == "counter" else name: kind
                for name, kind in metrics.METRIC_NAMES.items()}
    assert families == exported


def test_metric_names_follow_conventions() -> None:
    for name, kind in metrics.METRIC_NAMES.items():
        assert re.fullmatch(r"edfi_stream_[a-z0-9_]+", name), name
        assert name.endswith("_total") == (kind == "counter"), name
        if kind == "histogram":
            assert name.endswith("_seconds"), name


def test_no_label_can_carry_an_identifier(m: metrics.Metrics) -> None:
    forbidden = re.compile(r"(person|student|score|state|staff|said|identifier|key|id)$", re.I)
    for collector in m.registry._collector_to_names:  # every collector of the fresh registry
        for label in getattr(collector, "_labelnames", ()):
            assert not forbidden.search(label), (collector, label)


def _poison_reasons() -> set[str]:
    """Every literal first argument of PoisonInput/DecodeError(...) in the product code."""
    reasons: set[str] = set()
    for path in [*REPO.joinpath("streams").rglob("*.py"), *REPO.joinpath("agents").rglob("*.py")]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in ("PoisonInput", "DecodeError") and node.args
                    and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                reasons.add(node.args[0].value)
    return reasons


def test_every_poison_reason_in_the_code_is_a_known_cause() -> None:
    reasons = _poison_reasons()
    assert reasons, "found no PoisonInput reason: the scan is broken"
    assert reasons - {""} <= metrics.DEAD_LETTER_CAUSES
