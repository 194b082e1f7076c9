"""What the console shows, computed from plain inputs: the metrics registry, dead letters, table values.

Kept apart from the pages (streams/console/pages.py) and from the worker (agents/console_backend.py) so
each figure is tested without a browser or a broker.
"""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry

from streams.deadletters.log import DeadLetter


def samples(registry: CollectorRegistry = REGISTRY) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Every sample of the registry by sample name: [(labels, value)]."""
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in registry.collect():
        for sample in family.samples:
            out.setdefault(sample.name, []).append((dict(sample.labels), float(sample.value)))
    return out


def total(found: dict[str, list[tuple[dict[str, str], float]]], name: str) -> float:
    return sum(v for _, v in found.get(name, ()))


def by_label(found: dict[str, list[tuple[dict[str, str], float]]], name: str, label: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for labels, value in found.get(name, ()):
        out[labels.get(label, "")] = out.get(labels.get(label, ""), 0.0) + value
    return out


@dataclass(frozen=True)
class Health:
    lag: float
    in_flight: float
    in_flight_limit: float
    parked: float
    acked: float
    dead_letters_counted: float
    held: dict[str, float]


def health(registry: CollectorRegistry = REGISTRY) -> Health:
    found = samples(registry)
    decisions = by_label(found, "edfi_stream_rule_decisions_total", "outcome")
    return Health(
        lag=total(found, "edfi_stream_consumer_lag_messages"),
        in_flight=total(found, "edfi_stream_writes_in_flight"),
        in_flight_limit=total(found, "edfi_stream_writes_in_flight_limit"),
        parked=total(found, "edfi_stream_parked_writes"),
        acked=by_label(found, "edfi_stream_writes_completed_total", "outcome").get("acked", 0.0),
        dead_letters_counted=total(found, "edfi_stream_dead_letters_total"),
        held={k: v for k, v in decisions.items() if k != "sent" and v},
    )


# -- dead letters -----------------------------------------------------------------------------------------
def letter_id(letter: DeadLetter) -> str:
    """An opaque name for a dead letter (its place in the dead-letter topic): its key is a
    studentAssessmentIdentifier, which holds the State Student Identifier and must stay out of URLs."""
    return f"p{letter.partition}o{letter.offset}"


@dataclass(frozen=True)
class LetterView:
    id: str
    cause: str
    stage: str
    status: str
    school: str
    assessment: str
    student: str
    score: str
    problem: str
    when: str
    raw: str

    @property
    def group(self) -> str:
        return group_name(self.cause, self.school, self.assessment)


def group_name(cause: str, school: str, assessment: str) -> str:
    return f"{cause}|{school}|{assessment}"


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _plain_problem(rec: dict[str, Any]) -> str:
    stage = rec.get("stage")
    error = _json(rec.get("edfiError"))
    if stage == "egress":
        request = _json(rec.get("request")) or {}
        method = request.get("method", "write") if isinstance(request, dict) else "write"
        text = f"The Ed-Fi API refused the {method} (HTTP {rec.get('status') or '?'})"
        if isinstance(error, dict):
            said = error.get("detail") or error.get("title") or error.get("message")
            if said:
                text += f": {said}"
            for path, messages in list((error.get("validationErrors") or {}).items())[:3]:
                text += f"; {path}: {' '.join(map(str, messages))}"
            for message in list(error.get("errors") or [])[:3]:
                text += f"; {message}"
        elif rec.get("detail"):
            text += f": {rec['detail']}"
        return text
    where = {"decode": "An input record could not be read", "rules": "The rules could not use a record"}.get(
        str(stage), "A record could not be processed")
    topic = rec.get("sourceTopic")
    return f"{where}{f' from {topic}' if topic else ''} ({rec.get('reason') or 'unknown'}): {rec.get('detail') or ''}"


def _student_and_score(letter: DeadLetter) -> tuple[str, str]:
    rec = letter.record
    request = _json(rec.get("request"))
    if isinstance(request, dict):
        body = request.get("body") or {}
        student = ((body.get("studentReference") or {}).get("studentUniqueId")
                   or (request.get("naturalKey") or {}).get("studentUniqueId") or "")
        results = body.get("scoreResults") or []
        score = ", ".join(f"{r.get('assessmentReportingMethodDescriptor', '').rsplit('#', 1)[-1]} "
                          f"{r.get('result')}" for r in results if isinstance(r, dict))
        date = body.get("administrationDate")
        return str(student or letter.key), (f"{score} on {date}" if date else score)
    return _from_input(rec.get("value"))


def _from_input(value: Any) -> tuple[str, str]:
    """The student and score of an input record that could not be used, when its value is readable JSON."""
    try:
        parsed = json.loads(value.decode() if isinstance(value, bytes) else value) if value else None
    except (ValueError, UnicodeDecodeError, TypeError):
        return "", ""
    row = parsed.get("after") or parsed.get("before") if isinstance(parsed, dict) else None
    if not isinstance(row, dict):
        return "", ""
    student = f"personID {row['personID']}" if row.get("personID") is not None else ""
    score = f"scoreID {row['scoreID']}" if row.get("scoreID") is not None else ""
    return student, score


def _when(ts_ms: Any, zone: dt.tzinfo) -> str:
    try:
        return dt.datetime.fromtimestamp(int(ts_ms) / 1000, dt.UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
    except (TypeError, ValueError, OverflowError, OSError):
        return ""


def zone_of(name: str) -> dt.tzinfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def view(letter: DeadLetter, zone: dt.tzinfo = dt.UTC) -> LetterView:
    rec = letter.record
    student, score = _student_and_score(letter)
    raw = {k: (v.decode("utf-8", "replace") if isinstance(v, bytes) else _json(v)) for k, v in rec.items()}
    return LetterView(
        id=letter_id(letter), cause=letter.cause, stage=letter.stage, status=str(rec.get("status") or "-"),
        school=str(rec.get("schoolId") or "-"), assessment=str(rec.get("assessmentIdentifier") or "-"),
        student=student, score=score, problem=_plain_problem(rec), when=_when(rec.get("tsMs"), zone),
        raw=json.dumps({"key": letter.key, **raw}, indent=2, default=str))


def filter_views(views: Iterable[LetterView], *, cause: str = "", school: str = "", assessment: str = "",
                 group: str = "") -> list[LetterView]:
    return [v for v in views
            if (not cause or v.cause == cause) and (not school or v.school == school)
            and (not assessment or v.assessment == assessment) and (not group or v.group == group)]


def groups(views: Iterable[LetterView]) -> list[tuple[str, int]]:
    """(group name, count), largest first."""
    return Counter(v.group for v in views).most_common()


def page_of(items: list[Any], page: int, size: int) -> tuple[list[Any], int]:
    pages = max(1, -(-len(items) // size))
    page = min(max(1, page), pages)
    return items[(page - 1) * size: page * size], pages
