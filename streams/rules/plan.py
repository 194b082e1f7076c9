"""Minimal writes: compare what the ODS was last told with what the rules want now.

POST a new record; nothing when the payload would not change (a replay or a re-sent CDC snapshot sends
nothing); DELETE then POST when the natural key changed; POST when the administration date changed (003:
"Post ... When the test Date is changed"; Ed-Fi's POST is an upsert); PUT for any other change; DELETE a
record that is no longer wanted, except one kept by 003's scope-year exception.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from streams.rules.evaluate import DesiredRecord, Evaluation
from streams.writes import NaturalKey, WriteCommand, payload_hash


@dataclass(frozen=True, slots=True)
class SentRecord:
    """What the rules last emitted for one studentAssessmentIdentifier (not the payload: its hash)."""

    natural_key: NaturalKey
    payload_hash: str
    administration_date: str | None
    school_id: int | None

    def to_dict(self) -> dict[str, Any]:
        return {"k": self.natural_key.to_dict(), "h": self.payload_hash, "d": self.administration_date,
                "s": self.school_id}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SentRecord:
        return cls(NaturalKey.from_dict(data["k"]), data["h"], data.get("d"), data.get("s"))

    @classmethod
    def of(cls, record: DesiredRecord, digest: str) -> SentRecord:
        return cls(record.natural_key, digest, record.administration_date, record.school_id)


@dataclass
class Plan:
    commands: list[WriteCommand] = field(default_factory=list)
    sent: dict[str, SentRecord] = field(default_factory=dict)


def plan_writes(previous: Mapping[str, SentRecord], evaluation: Evaluation, source_ts_ms: int = 0) -> Plan:
    plan = Plan()
    deletes: list[WriteCommand] = []
    upserts: list[WriteCommand] = []
    for said, prev in previous.items():
        if said in evaluation.records:
            continue
        if said in evaluation.retained:
            plan.sent[said] = prev  # 003: no DELETE when only the test's scope year moved out of scope
            continue
        deletes.append(WriteCommand("DELETE", prev.natural_key, None,
                                    "no valid score reports this record any more", source_ts_ms, prev.school_id))
    for said, record in evaluation.records.items():
        digest = payload_hash(record.payload)
        last = previous.get(said)
        plan.sent[said] = SentRecord.of(record, digest)
        if last is None:
            upserts.append(_upsert("POST", record, f"new record: {record.reason}", source_ts_ms))
        elif last.natural_key != record.natural_key:
            deletes.append(WriteCommand("DELETE", last.natural_key, None,
                                        "natural key changed (DELETE then POST)", source_ts_ms, last.school_id))
            upserts.append(_upsert("POST", record, f"natural key changed: {record.reason}", source_ts_ms))
        elif last.payload_hash == digest:
            continue
        elif last.administration_date != record.administration_date:
            upserts.append(_upsert("POST", record, f"test date changed to {record.administration_date}",
                                   source_ts_ms))
        else:
            upserts.append(_upsert("PUT", record, f"non-key field changed: {record.reason}", source_ts_ms))
    # DELETEs first: a student's old identifier leaves the ODS before the new one arrives.
    plan.commands = deletes + upserts
    return plan


def _upsert(action: str, record: DesiredRecord, reason: str, ts: int) -> WriteCommand:
    return WriteCommand(action, record.natural_key, record.payload, reason, ts, record.school_id)  # type: ignore[arg-type]
