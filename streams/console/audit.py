"""The operators' audit trail: every retry, archive and toggle, done on the console or with the CLI, kept on a
topic (a CLI action is recorded under the machine's login name with the role ``cli``).

Each action is one JSON record on ``edfi-stream.console-audit`` (who, their role, when, what, how many)
and one log line. Neither holds student data: a group is named by cause, school and assessment, a
selection by its count, a toggle by the resource and its new state.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from typing import Any

from streams.console.durable import Stamped

AUDIT_TOPIC = "edfi-stream.console-audit"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AuditEvent:
    at_ms: int
    user: str
    role: str
    action: str  # retry | archive | toggle
    what: str  # "group <cause · school · assessment>", "3 selected letters", "studentAssessments off"
    count: int

    def to_json(self) -> bytes:
        return json.dumps({"atMs": self.at_ms, "user": self.user, "role": self.role, "action": self.action,
                           "what": self.what, "count": self.count}, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> AuditEvent | None:
        try:
            d = json.loads(raw)
            return cls(int(d["atMs"]), str(d["user"]), str(d["role"]), str(d["action"]), str(d["what"]),
                       int(d["count"]))
        except (ValueError, KeyError, TypeError):
            return None

    def when(self, zone: dt.tzinfo) -> str:
        return dt.datetime.fromtimestamp(self.at_ms / 1000, dt.UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z")

    def log_line(self) -> str:
        return (f"console audit: {self.user} ({self.role}) {self.action} {self.what}: {self.count} "
                f"at {self.at_ms}")


def audit_events(audit_log: list[Stamped]) -> list[AuditEvent]:
    """The trail, newest first (unreadable records skipped)."""
    found = [AuditEvent.from_json(rec.value) for rec in audit_log if rec.value is not None]
    return sorted((e for e in found if e is not None), key=lambda e: -e.at_ms)


def cli_event(action: str, what: str, count: int) -> AuditEvent:
    """An action taken with ``edfi-stream errors retry|archive`` or ``toggle``: who is the login name of the
    machine's user (the CLI has no console login; Kafka's ACLs decide who may run it)."""
    import getpass
    import time

    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container's random uid)
        user = "unknown"
    return AuditEvent(int(time.time() * 1000), user, "cli", action, what, count)


def record_cli_action(kafka: Any, action: str, what: str, count: int) -> str | None:
    """Publish a CLI action to the trail; a failure is returned as one line (the action is done already)."""
    try:
        publish(kafka, cli_event(action, what, count))
    except Exception as exc:
        return f"the audit record was not written ({type(exc).__name__}); the {action} itself is done"
    return None


def publish(kafka: Any, event: AuditEvent) -> None:
    """Write the record (blocking: run it in a thread) and the log line."""
    from streams.broker.admin import ensure_topics
    from streams.io.produce import make_producer

    log.info(event.log_line())
    ensure_topics(kafka.confluent_config(), [AUDIT_TOPIC], 1)
    producer = make_producer(kafka)
    producer.produce(AUDIT_TOPIC, key=event.user.encode(), value=event.to_json())
    if producer.flush(30):
        raise RuntimeError("the audit record was not delivered within 30 s")
