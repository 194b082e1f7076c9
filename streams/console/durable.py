"""The console's figures from durable state, so they survive a restart and cover every worker.

- What was sent: the worker's ``sent`` and ``identity`` tables are changelog-backed; their changelog
  topics hold every partition of every worker. A record counts as acknowledged when the identity map's
  latest payload hash for its studentAssessmentIdentifier is the hash the rules last sent; "today" is the
  district's day of the changelog record that acknowledged it (its Kafka timestamp). The ``sent`` table
  only holds records of the scope year, so "acknowledged" is "this school year".
- The toggle's history: every record of ``edfi.control``, with its Kafka timestamp.
- The operators' audit trail: ``edfi-stream.console-audit`` (streams/console/audit.py).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from streams.io.topic_reader import read_to_end


@dataclass(frozen=True)
class Stamped:
    """One record of a topic: key, value (None: a tombstone), Kafka timestamp in ms."""

    key: bytes
    value: bytes | None
    ts_ms: int


def read_all(kafka_config: dict[str, Any], topic: str, group_id: str, timeout: float = 10.0) -> list[Stamped]:
    """Every record of ``topic`` up to the end it had when reading began, in order per partition; empty if
    the topic does not exist. Offsets are not committed."""
    return [Stamped(msg.key() or b"", msg.value(), int(msg.timestamp()[1]))
            for msg in read_to_end(kafka_config, topic, group_id, timeout)]


def json_value(raw: bytes | str | None) -> Any:
    """A table changelog value: our compact JSON, possibly wrapped once more as a JSON string by Faust."""
    if raw is None:
        return None
    try:
        value = json.loads(raw)
        return json.loads(value) if isinstance(value, str) else value
    except (ValueError, TypeError):
        return None


def table_key(raw: bytes) -> str:
    value = json_value(raw)
    return str(value) if isinstance(value, str | int) else raw.decode("utf-8", "replace")


@dataclass
class SentFigures:
    """Records the ODS acknowledged, today (the district's day) and this school year, by assessment and by
    school; the time of the last acknowledgement; every worker's partitions."""

    today_by_assessment: Counter[str] = field(default_factory=Counter)
    today_by_school: Counter[str] = field(default_factory=Counter)
    year_by_assessment: Counter[str] = field(default_factory=Counter)
    year_by_school: Counter[str] = field(default_factory=Counter)
    waiting: int = 0  # sent by the rules, not (yet) acknowledged with that payload
    last_ack: dt.datetime | None = None

    @property
    def today(self) -> int:
        return sum(self.today_by_assessment.values())

    @property
    def year(self) -> int:
        return sum(self.year_by_assessment.values())


def sent_figures(sent_log: Iterable[Stamped], identity_log: Iterable[Stamped], zone: dt.tzinfo,
                 now: dt.datetime) -> SentFigures:
    """The figures from the two changelogs (latest record per key counts; a tombstone deletes)."""
    sent: dict[str, Any] = {}
    for rec in sent_log:
        sent[table_key(rec.key)] = json_value(rec.value)
    acks: dict[str, tuple[Any, int]] = {}
    for rec in identity_log:
        said = rec.key.decode("utf-8", "replace")
        entry = json_value(rec.value)
        if isinstance(entry, dict):
            acks[said] = (entry.get("h"), rec.ts_ms)
        else:
            acks.pop(said, None)
    today = now.astimezone(zone).date()
    out = SentFigures()
    last_ms = -1
    for records in sent.values():
        for said, record in (records.items() if isinstance(records, dict) else ()):
            if not isinstance(record, dict):
                continue
            ack = acks.get(said)
            if ack is None or ack[0] != record.get("h"):
                out.waiting += 1
                continue
            assessment = str((record.get("k") or {}).get("assessmentIdentifier") or "-")
            school = str(record.get("s") or "-")
            out.year_by_assessment[assessment] += 1
            out.year_by_school[school] += 1
            if dt.datetime.fromtimestamp(ack[1] / 1000, dt.UTC).astimezone(zone).date() == today:
                out.today_by_assessment[assessment] += 1
                out.today_by_school[school] += 1
    for _, ts_ms in acks.values():
        last_ms = max(last_ms, ts_ms)
    if last_ms >= 0:
        out.last_ack = dt.datetime.fromtimestamp(last_ms / 1000, dt.UTC).astimezone(zone)
    return out


@dataclass(frozen=True)
class ToggleEvent:
    at: dt.datetime
    resource: str
    enabled: bool


def toggle_events(control_log: Iterable[Stamped], zone: dt.tzinfo, resource: str) -> list[ToggleEvent]:
    """Every control event for ``resource``, oldest first (unreadable ones skipped, as the worker does)."""
    from streams.codec import codec_for
    from streams.errors import PoisonInput
    from streams.sis.events import parse_control
    from streams.sis.rows import CONTROL_TOPIC

    codec = codec_for(CONTROL_TOPIC)
    out = []
    for rec in control_log:
        if rec.value is None:
            continue
        try:
            event = parse_control(codec.decode_key(rec.key), codec.decode_value(rec.value))
        except (PoisonInput, ValueError, TypeError):
            continue
        if event.resource == resource:
            out.append(ToggleEvent(dt.datetime.fromtimestamp(rec.ts_ms / 1000, dt.UTC).astimezone(zone),
                                   event.resource, event.enabled))
    return out
