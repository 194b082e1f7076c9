"""Read ``edfi-stream.dead-letters`` and group its records by cause, for people.

Every record has a key: ``topic:partition:offset`` for an input that could not be decoded, the
studentAssessmentIdentifier for a write the Ed-Fi API rejected. The latest record of a key is the one that
counts; a tombstone (null value) for a key means it was archived (or retried) and is no longer listed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from streams.codec import codec_for
from streams.errors import PoisonInput
from streams.io.topic_reader import read_latest
from streams.topics import DEAD_LETTERS


@dataclass(frozen=True)
class DeadLetter:
    key: str
    partition: int
    offset: int
    record: dict[str, Any]

    @property
    def stage(self) -> str:
        return str(self.record.get("stage"))

    @property
    def cause(self) -> str:
        rec = self.record
        if rec.get("edfiErrorType"):
            return str(rec["edfiErrorType"]).rsplit(":", 1)[-1]
        return str(rec.get("reason") or "unknown")

    def group_key(self) -> tuple[str, str, str, str, str]:
        rec = self.record
        return (self.stage, str(rec.get("status") or "-"), self.cause, str(rec.get("schoolId") or "-"),
                str(rec.get("assessmentIdentifier") or "-"))


def read_dead_letters(kafka_config: dict[str, Any], timeout: float = 10.0) -> list[DeadLetter]:
    """Every live dead letter (latest per key, archived ones left out), oldest first."""
    out = []
    for raw_key, latest in read_latest(kafka_config, DEAD_LETTERS, "edfi-stream-errors-reader", timeout).items():
        if latest.value is None:
            continue
        out.append(letter_of(raw_key, latest.partition, latest.offset, latest.value))
    return out


def letter_of(raw_key: bytes, partition: int, offset: int, value: bytes) -> DeadLetter:
    """One dead-letter record decoded (an unreadable one is listed as such, not dropped)."""
    try:
        record = codec_for(DEAD_LETTERS).decode_value_python(value) or {}
    except PoisonInput as exc:
        record = {"stage": "unknown", "reason": "unreadable_dead_letter", "detail": str(exc)}
    return DeadLetter(raw_key.decode("utf-8", "replace"), partition, offset, record)


@dataclass
class Group:
    key: tuple[str, str, str, str, str]
    count: int = 0
    examples: list[DeadLetter] = field(default_factory=list)


def group(letters: Iterable[DeadLetter], examples: int = 2) -> list[Group]:
    groups: dict[tuple[str, str, str, str, str], Group] = {}
    for letter in letters:
        g = groups.setdefault(letter.group_key(), Group(letter.group_key()))
        g.count += 1
        if len(g.examples) < examples:
            g.examples.append(letter)
    return sorted(groups.values(), key=lambda g: -g.count)


def render(groups: list[Group]) -> str:
    if not groups:
        return "no dead letters"
    total = sum(g.count for g in groups)
    lines = [f"{total} dead letters in {len(groups)} groups", "",
             f"{'count':>6}  {'stage':<7} {'status':<6} {'cause':<34} {'school':<8} assessment"]
    for g in groups:
        stage, status, cause, school, assessment = g.key
        lines.append(f"{g.count:>6}  {stage:<7} {status:<6} {cause[:34]:<34} {school:<8} {assessment}")
        for ex in g.examples:
            detail = str(ex.record.get("detail") or "")[:160]
            lines.append(f"{'':>8}e.g. {ex.key}: {detail}")
    return "\n".join(lines)


def as_json(letters: Iterable[DeadLetter]) -> str:
    return json.dumps([{"key": d.key, "offset": d.offset, **{k: v for k, v in d.record.items()
                                                             if k not in ("key", "value")}}
                       for d in letters], default=str, indent=2)


def select(letters: Iterable[DeadLetter], *, stage: str | None = None, cause: str | None = None,
           key: str | None = None, school: int | None = None) -> list[DeadLetter]:
    out = []
    for d in letters:
        if stage and d.stage != stage:
            continue
        if cause and d.cause != cause:
            continue
        if key and d.key != key:
            continue
        if school is not None and d.record.get("schoolId") != school:
            continue
        out.append(d)
    return out

