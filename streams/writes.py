"""Ed-Fi write commands: the hand-off between the rule engine and the Ed-Fi egress.

The rule engine decides *what* must change in the ODS and emits :class:`WriteCommand` records on the
internal write-command topic, keyed by ``studentAssessmentIdentifier`` so that one record's writes stay in
order. The egress knows HTTP and Ed-Fi, not SIS rules: everything it needs (method, natural key, body) is
in the command.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from streams.errors import PoisonInput

Action = Literal["POST", "PUT", "DELETE"]
RESOURCE = "studentAssessments"


@dataclass(frozen=True, slots=True, order=True)
class NaturalKey:
    """The StudentAssessment identity in Ed-Fi (DS 5.x): four values."""

    assessment_identifier: str
    namespace: str
    student_assessment_identifier: str
    student_unique_id: str

    def query_params(self) -> dict[str, str]:
        return {
            "assessmentIdentifier": self.assessment_identifier,
            "namespace": self.namespace,
            "studentAssessmentIdentifier": self.student_assessment_identifier,
            "studentUniqueId": self.student_unique_id,
        }

    @classmethod
    def of_payload(cls, payload: dict[str, Any]) -> NaturalKey:
        return cls(
            payload["assessmentReference"]["assessmentIdentifier"],
            payload["assessmentReference"]["namespace"],
            payload["studentAssessmentIdentifier"],
            payload["studentReference"]["studentUniqueId"],
        )

    def to_dict(self) -> dict[str, str]:
        return self.query_params()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NaturalKey:
        return cls(data["assessmentIdentifier"], data["namespace"], data["studentAssessmentIdentifier"],
                   data["studentUniqueId"])


def payload_hash(payload: dict[str, Any]) -> str:
    """A stable digest of a payload we built (key order does not matter; our lists are built in a fixed
    order). On the hot path of every evaluation, hence no list sorting here."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def canonical_payload_hash(payload: dict[str, Any]) -> str:
    """A digest in which the order of Ed-Fi's unordered collections does not matter either (for comparing
    bodies read back from an ODS, which may return collection items in any order)."""
    canonical = json.dumps(_canonical(payload), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_canonical(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    return value


@dataclass(frozen=True, slots=True)
class WriteCommand:
    """One Ed-Fi write. ``payload`` is the full resource body for POST/PUT and ``None`` for DELETE."""

    action: Action
    natural_key: NaturalKey
    payload: dict[str, Any] | None
    reason: str
    source_ts_ms: int = 0
    school_id: int | None = None
    resource: str = RESOURCE
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """The Kafka key of the write-command topic."""
        return self.natural_key.student_assessment_identifier

    @property
    def payload_hash(self) -> str | None:
        return payload_hash(self.payload) if self.payload is not None else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action, "resource": self.resource, "naturalKey": self.natural_key.to_dict(),
            "payload": self.payload, "reason": self.reason, "sourceTsMs": self.source_ts_ms,
            "schoolId": self.school_id, "extra": self.extra,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WriteCommand:
        try:
            action = data["action"]
            if action not in ("POST", "PUT", "DELETE"):
                raise PoisonInput("bad_command", f"unknown action {action!r}")
            payload = data.get("payload")
            if action != "DELETE" and not isinstance(payload, dict):
                raise PoisonInput("bad_command", f"{action} without a payload")
            return cls(action, NaturalKey.from_dict(data["naturalKey"]), payload, data.get("reason", ""),
                       int(data.get("sourceTsMs") or 0), data.get("schoolId"),
                       data.get("resource", RESOURCE), dict(data.get("extra") or {}))
        except (KeyError, TypeError) as exc:
            raise PoisonInput("bad_command", f"malformed write command: {exc}") from exc
