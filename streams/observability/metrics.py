"""Every metric of the product, defined in this one module (prometheus-client).

Base units (``_seconds``, ``_total``), bounded labels (topics, fixed outcome and reason sets, HTTP method
and status class), never a student identifier. Reasons outside the fixed sets are counted as ``other``.
"""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

DECISION_OUTCOMES = frozenset({
    "sent", "superseded", "no_active_enrollment", "out_of_scope_year", "excluded_school", "excluded_calendar",
    "excluded_enrollment", "grade_not_eligible", "student_unknown", "test_unknown", "calendar_unknown",
    "school_unknown", "not_state_reported", "not_mapped", "test_out_of_scope_year", "toggled_off",
})
DEAD_LETTER_STAGES = frozenset({"decode", "rules", "egress"})
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def _bounded(value: str, allowed: frozenset[str]) -> str:
    return value if value in allowed else "other"


class Metrics:
    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.registry = registry
        self.events_consumed = Counter(
            "edfi_stream_events_consumed_total", "SIS change events consumed, by topic and outcome "
            "(ok, dead_letter, ignored)", ["topic", "outcome"], registry=registry)
        self.rule_decisions = Counter(
            "edfi_stream_rule_decisions_total", "Rule decisions by outcome: sent, or the reason it was held "
            "or not reported", ["outcome"], registry=registry)
        self.write_commands = Counter(
            "edfi_stream_write_commands_total", "Ed-Fi write commands emitted by the rules, by action",
            ["action"], registry=registry)
        self.edfi_requests = Counter(
            "edfi_stream_edfi_requests_total", "Ed-Fi API requests by method and status class (2xx, 4xx, 5xx, "
            "error for no response)", ["method", "status_class"], registry=registry)
        self.edfi_request_duration = Histogram(
            "edfi_stream_edfi_request_duration_seconds", "Ed-Fi API request latency", ["method"],
            buckets=REQUEST_BUCKETS, registry=registry)
        self.end_to_end = Histogram(
            "edfi_stream_end_to_end_latency_seconds", "From the SIS change (ts_ms) to the Ed-Fi acknowledgement",
            buckets=LATENCY_BUCKETS, registry=registry)
        self.writes_completed = Counter(
            "edfi_stream_writes_completed_total", "Write commands finished by the egress, by outcome (acked, "
            "unchanged, dead_letter)", ["outcome"], registry=registry)
        self.retries = Counter(
            "edfi_stream_edfi_retries_total", "Ed-Fi request retries by reason (throttled, transient)",
            ["reason"], registry=registry)
        self.parked = Gauge(
            "edfi_stream_parked_writes", "Writes waiting for a missing reference (409) to appear in the ODS",
            registry=registry)
        self.in_flight = Gauge("edfi_stream_writes_in_flight", "Ed-Fi writes in flight", registry=registry)
        self.dead_letters = Counter(
            "edfi_stream_dead_letters_total", "Dead-letter records by stage and cause", ["stage", "cause"],
            registry=registry)
        self.consumer_lag = Gauge(
            "edfi_stream_consumer_lag_messages", "End offset minus committed offset", ["topic", "partition"],
            registry=registry)
        self.table_size = Gauge("edfi_stream_table_entries", "Entries in a worker table", ["table"],
                                registry=registry)
        self.token_refreshes = Counter(
            "edfi_stream_token_refreshes_total", "OAuth token requests by outcome (ok, rejected, error)",
            ["outcome"], registry=registry)
        self.resource_enabled = Gauge(
            "edfi_stream_resource_enabled", "1 when the resource is turned on, 0 when off", ["resource"],
            registry=registry)
        self.resync_actions = Counter(
            "edfi_stream_resync_actions_total", "Resync actions by action (post, put, delete, forget)", ["action"],
            registry=registry)


metrics_ = Metrics()

# cause values: the short Ed-Fi error type or PoisonInput reason; bounded by keeping the last urn segment
_CAUSE_MAX = 48


def record_event(topic: str, outcome: str) -> None:
    metrics_.events_consumed.labels(topic, outcome).inc()


def record_decision(outcome: str) -> None:
    metrics_.rule_decisions.labels(_bounded(outcome, DECISION_OUTCOMES)).inc()


def record_command(action: str) -> None:
    metrics_.write_commands.labels(action).inc()


def record_dead_letter(stage: str, cause: str) -> None:
    metrics_.dead_letters.labels(_bounded(stage, DEAD_LETTER_STAGES), cause.rsplit(":", 1)[-1][:_CAUSE_MAX]).inc()


def observe_edfi_request(method: str, status: int, seconds: float) -> None:
    klass = f"{status // 100}xx" if status else "error"
    metrics_.edfi_requests.labels(method, klass).inc()
    metrics_.edfi_request_duration.labels(method).observe(seconds)


def observe_write(outcome: str, source_ts_ms: int, now_ms: int) -> None:
    metrics_.writes_completed.labels(outcome).inc()
    if source_ts_ms > 0 and outcome in ("acked", "unchanged"):
        metrics_.end_to_end.observe(max(0.0, (now_ms - source_ts_ms) / 1000))


def record_retry(reason: str) -> None:
    metrics_.retries.labels(reason).inc()


def record_token_refresh(outcome: str) -> None:
    metrics_.token_refreshes.labels(outcome).inc()


def set_parked(count: int) -> None:
    metrics_.parked.set(count)


def set_in_flight(count: int) -> None:
    metrics_.in_flight.set(count)


def set_enabled(resource: str, enabled: bool) -> None:
    metrics_.resource_enabled.labels(resource).set(1 if enabled else 0)


def set_table_size(table: str, size: int) -> None:
    metrics_.table_size.labels(table).set(size)


def set_lag(topic: str, partition: int, lag: int) -> None:
    metrics_.consumer_lag.labels(topic, str(partition)).set(lag)


def record_resync(action: str) -> None:
    metrics_.resync_actions.labels(action).inc()
