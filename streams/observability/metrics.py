"""Every metric of the product, defined in this one module (prometheus-client).

Why one module: the Grafana dashboard, the alert rules and the Helm PrometheusRule name these metrics, and a
unit test checks that every query there names only what :data:`METRIC_NAMES` lists here.

Rules kept by every metric: base units (``_seconds``, ``_total``, counts); bounded labels only (topics and
partitions, fixed outcome/reason/action sets, HTTP method and status class); never a student, score or
person identifier. A label value outside its fixed set is counted as ``other`` so a new or unexpected value
can never grow a series per record.

Callers use the small module-level helpers (``record_decision``, ``observe_edfi_request``, ...), which
write to the current :class:`Metrics` instance. Tests get a fresh, isolated set with :func:`use_registry`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

from streams.rules.reasons import REASONS

OTHER = "other"

EVENT_OUTCOMES = frozenset({"ok", "dead_letter", "ignored"})
# "sent", or why a score was held / not reported: the rules' one list (streams/rules/reasons.py), so a new
# reason is its own label value, never ``other``.
DECISION_OUTCOMES = frozenset(REASONS)
WRITE_ACTIONS = frozenset({"POST", "PUT", "DELETE"})
HTTP_METHODS = frozenset({"GET", "POST", "PUT", "DELETE"})
STATUS_CLASSES = frozenset({"1xx", "2xx", "3xx", "4xx", "5xx", "error"})
WRITE_OUTCOMES = frozenset({"acked", "unchanged", "dead_letter"})
RETRY_REASONS = frozenset({"throttled", "transient"})
TOKEN_OUTCOMES = frozenset({"ok", "rejected", "error"})
# why the egress waits instead of writing (streams/edfi/auth_pause.py)
EGRESS_PAUSE_REASONS = ("credentials_refused", "unauthorized", "forbidden")
RESYNC_ACTIONS = frozenset({"post", "put", "delete", "forget"})
RESOURCES = frozenset({"studentAssessments"})
TABLES = frozenset({"students", "sent", "reference", "identity"})
DEAD_LETTER_STAGES = frozenset({"decode", "rules", "egress", "unknown"})
# PoisonInput reasons raised by the decoders and the rules, and the last segment of the Ed-Fi problem
# "type" urns (shared/edfi-reference/API-BEHAVIOUR.md). ``http_NNN`` is accepted as well (egress without a
# problem type). tests/unit/observability checks that every PoisonInput reason in the code is listed.
DEAD_LETTER_CAUSES = frozenset({
    "bad_avro", "bad_command", "bad_date", "bad_envelope", "bad_field", "bad_json", "bad_key", "empty",
    "missing_field", "not_an_object", "oversized_value", "unknown_op", "unknown_schema_id", "unknown_topic",
    "unreadable_dead_letter", "egress_failed", "internal_error", "out_of_range", "bad_record",
    "student_state_limit", "oversized_record",
    # Debezium input (streams/codec/debezium.py, streams/sis/events.py, agents/owners.py)
    "bad_column", "bad_schema", "message_event", "truncate", "unknown_owner", "unsupported_type",
    "api", "bad-request", "data-validation-failed", "key-change-not-supported", "parameter-validation-failed",
    "dependent-item-exists", "non-unique-identity", "unresolved-reference", "identity-conflict",
    "method-not-allowed", "not-found", "optimistic-lock-failed", "if-none-match", "authentication",
    "too-many-tokens", "authorization", "namespace-mismatch", "incorrect-usage", "system",
    "too-many-requests", "unauthorized", "unsupported-media-type",
})
_HTTP_CAUSE = re.compile(r"http_[1-5]\d\d")

# End-to-end: 10 ms .. 10 min. Ed-Fi request: 5 ms .. 30 s (the client's timeout range).
# finer around a quarter of a second: use case A's target is p99 <= 250 ms (docs/performance.md)
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.35, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
                   120.0, 300.0, 600.0)
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def bounded(value: str, allowed: frozenset[str]) -> str:
    """``value`` when it is in the fixed set, otherwise ``other``."""
    return value if value in allowed else OTHER


def dead_letter_cause(cause: str) -> str:
    """A bounded cause label: last segment of an Ed-Fi urn, a known PoisonInput reason, ``http_NNN``."""
    short = cause.rsplit(":", 1)[-1]
    return short if short in DEAD_LETTER_CAUSES or _HTTP_CAUSE.fullmatch(short) else OTHER


def status_class(status: int) -> str:
    """``2xx`` .. ``5xx`` for an HTTP status, ``error`` for no response (status 0)."""
    return f"{status // 100}xx" if 100 <= status <= 599 else "error"


class Metrics:
    """The product's metrics, registered in one registry (the process-wide one unless a test gives one).

    Each family is declared once, here: :data:`METRIC_NAMES` (and so the dashboard test) is built from these."""

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.registry = registry
        self.families: dict[str, str] = {}  # name -> counter, gauge or histogram
        counter, gauge, histogram = self._counter, self._gauge, self._histogram
        self.events_consumed = counter("edfi_stream_events_consumed_total", "SIS change events consumed, by topic "
                                       "and outcome (ok, dead_letter, ignored)", "topic", "outcome")
        self.rule_decisions = counter("edfi_stream_rule_decisions_total", "Rule decisions by outcome: sent, or the "
                                      "reason it was held or not reported", "outcome")
        self.write_commands = counter("edfi_stream_write_commands_total",
                                      "Ed-Fi write commands emitted by the rules, by action", "action")
        self.edfi_requests = counter("edfi_stream_edfi_requests_total", "Ed-Fi API requests by method and status "
                                     "class (2xx, 4xx, 5xx, error for no response)", "method", "status_class")
        self.edfi_request_duration = histogram("edfi_stream_edfi_request_duration_seconds",
                                               "Ed-Fi API request latency", REQUEST_BUCKETS, "method")
        self.end_to_end = histogram("edfi_stream_end_to_end_latency_seconds",
                                    "From the SIS change (ts_ms) to the Ed-Fi acknowledgement", LATENCY_BUCKETS)
        self.writes_completed = counter("edfi_stream_writes_completed_total", "Write commands finished by the "
                                        "egress, by outcome (acked, unchanged, dead_letter)", "outcome")
        self.retries = counter("edfi_stream_edfi_retries_total",
                               "Ed-Fi request retries by reason (throttled, transient)", "reason")
        self.parked = gauge("edfi_stream_parked_writes",
                            "Writes waiting for a missing reference (409) to appear in the ODS")
        self.in_flight = gauge("edfi_stream_writes_in_flight", "Ed-Fi writes in flight")
        self.in_flight_limit = gauge("edfi_stream_writes_in_flight_limit", "How many Ed-Fi writes may be in "
                                     "flight now (the adaptive limit, edfi.concurrency)")
        self.limit_decreases = counter("edfi_stream_concurrency_decreases_total", "Times the adaptive limit on "
                                       "writes in flight was lowered (an overload answer or rising latency from "
                                       "the ODS)")
        self.dead_letters = counter("edfi_stream_dead_letters_total", "Dead-letter records by stage and cause",
                                    "stage", "cause")
        self.consumer_lag = gauge("edfi_stream_consumer_lag_messages", "End offset minus committed offset",
                                  "topic", "partition")
        self.table_size = gauge("edfi_stream_table_entries", "Entries in a worker table", "table")
        self.token_refreshes = counter("edfi_stream_token_refreshes_total",
                                       "OAuth token requests by outcome (ok, rejected, error)", "outcome")
        self.egress_paused = gauge("edfi_stream_egress_paused", "1 while the egress waits because the Ed-Fi API "
                                   "refuses the credentials (credentials_refused, unauthorized) or every write "
                                   "(forbidden), by reason", "reason")
        self.writes_waiting_on_auth = gauge("edfi_stream_writes_waiting_on_auth",
                                            "Writes held (not dead-lettered) while the egress is paused")
        self.resource_enabled = gauge("edfi_stream_resource_enabled", "1 when the resource is turned on, 0 when "
                                      "off", "resource")
        self.commit_repairs = counter("edfi_stream_commit_repairs_total", "Partitions read again from their "
                                      "committed offset because skipped, unacknowledged messages blocked their "
                                      "commits (agents/commit_repair.py)", "topic")
        self.partitions_handed_over = counter("edfi_stream_partitions_handed_over_total", "Partitions given to "
                                              "another worker at a rebalance, after this worker stopped its "
                                              "batches and writes for them (agents/ownership.py)", "topic")
        self.resync_actions = counter("edfi_stream_resync_actions_total",
                                      "Resync actions by action (post, put, delete, forget)", "action")

    def _counter(self, name: str, documentation: str, *labels: str) -> Counter:
        self.families[name] = "counter"
        return Counter(name, documentation, labels, registry=self.registry)

    def _gauge(self, name: str, documentation: str, *labels: str) -> Gauge:
        self.families[name] = "gauge"
        return Gauge(name, documentation, labels, registry=self.registry)

    def _histogram(self, name: str, documentation: str, buckets: Sequence[float], *labels: str) -> Histogram:
        self.families[name] = "histogram"
        return Histogram(name, documentation, labels, buckets=buckets, registry=self.registry)


metrics_ = Metrics()

# Every metric family name this module exports, with its type (histograms also expose _bucket/_sum/_count).
METRIC_NAMES: dict[str, str] = dict(metrics_.families)


def current() -> Metrics:
    """The instance the helpers write to."""
    return metrics_


@contextmanager
def use_registry(registry: CollectorRegistry | None = None) -> Iterator[Metrics]:
    """Within the block the helpers write to a fresh :class:`Metrics` in ``registry`` (a new one if None)."""
    global metrics_
    previous = metrics_
    metrics_ = Metrics(registry if registry is not None else CollectorRegistry(auto_describe=True))
    try:
        yield metrics_
    finally:
        metrics_ = previous


def record_event(topic: str, outcome: str) -> None:
    """One SIS event consumed; ``topic`` comes from the fixed input topic list."""
    metrics_.events_consumed.labels(topic, bounded(outcome, EVENT_OUTCOMES)).inc()


def record_decision(outcome: str) -> None:
    metrics_.rule_decisions.labels(bounded(outcome, DECISION_OUTCOMES)).inc()


def record_command(action: str) -> None:
    metrics_.write_commands.labels(bounded(action, WRITE_ACTIONS)).inc()


def record_dead_letter(stage: str, cause: str) -> None:
    metrics_.dead_letters.labels(bounded(stage, DEAD_LETTER_STAGES), dead_letter_cause(cause)).inc()


def observe_edfi_request(method: str, status: int, seconds: float) -> None:
    """One Ed-Fi HTTP request: ``status`` 0 means no response (transport error or timeout)."""
    method = bounded(method.upper(), HTTP_METHODS)
    metrics_.edfi_requests.labels(method, status_class(status)).inc()
    metrics_.edfi_request_duration.labels(method).observe(max(0.0, seconds))


def observe_write(outcome: str, source_ts_ms: int, now_ms: int) -> None:
    """A write finished; acked and unchanged writes also observe the end-to-end latency from ``ts_ms``."""
    metrics_.writes_completed.labels(bounded(outcome, WRITE_OUTCOMES)).inc()
    if source_ts_ms > 0 and outcome in ("acked", "unchanged"):
        metrics_.end_to_end.observe(max(0.0, (now_ms - source_ts_ms) / 1000))


def record_retry(reason: str) -> None:
    metrics_.retries.labels(bounded(reason, RETRY_REASONS)).inc()


def record_token_refresh(outcome: str) -> None:
    metrics_.token_refreshes.labels(bounded(outcome, TOKEN_OUTCOMES)).inc()


def record_commit_repair(topic: str) -> None:
    """``topic`` is one of the worker's own subscribed topics (a fixed set)."""
    metrics_.commit_repairs.labels(topic).inc()


def record_partitions_handed_over(topic: str, count: int) -> None:
    """``topic`` is one of the worker's own subscribed topics (a fixed set)."""
    metrics_.partitions_handed_over.labels(topic).inc(count)


def set_parked(count: int) -> None:
    metrics_.parked.set(count)


def set_in_flight(count: int) -> None:
    metrics_.in_flight.set(count)


def set_in_flight_limit(limit: int) -> None:
    metrics_.in_flight_limit.set(limit)


def record_limit_decrease() -> None:
    metrics_.limit_decreases.inc()


def set_egress_paused(reason: str | None) -> None:
    """1 for ``reason`` (one of EGRESS_PAUSE_REASONS), 0 for the others; None: not paused (all 0)."""
    for known in EGRESS_PAUSE_REASONS:
        metrics_.egress_paused.labels(known).set(1 if known == reason else 0)


def set_writes_waiting_on_auth(count: int) -> None:
    metrics_.writes_waiting_on_auth.set(count)


def set_enabled(resource: str, enabled: bool) -> None:
    metrics_.resource_enabled.labels(bounded(resource, RESOURCES)).set(1 if enabled else 0)


def set_table_size(table: str, size: int) -> None:
    metrics_.table_size.labels(bounded(table, TABLES)).set(size)


def set_lag(topic: str, partition: int, lag: int) -> None:
    """Lag of one partition; topics and partitions are bounded by the topics' configuration."""
    metrics_.consumer_lag.labels(topic, str(partition)).set(max(0, lag))


def record_resync(action: str) -> None:
    metrics_.resync_actions.labels(bounded(action, RESYNC_ACTIONS)).inc()
