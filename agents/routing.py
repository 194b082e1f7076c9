"""Where a SIS change goes on the repartition topic, decided without Faust so it can be unit-tested.

Student-keyed rows (students, enrollments, scores) go to the partition of their personID; a row that moves
from one student to another (a score whose personID changes) goes to both. Reference rows (tests, schools,
calendars, staff) are broadcast to every partition, because every partition's students may use them.
The partition of a student is chosen here explicitly (personID modulo the partition count) instead of by
the client's hash: the join agent must know which students belong to a partition when it re-evaluates
them after a reference change.
"""

from __future__ import annotations

from dataclasses import dataclass

from agents.topics import REFERENCE_TOPICS
from streams.sis.events import ChangeEvent


@dataclass(frozen=True, slots=True)
class Route:
    partition: int
    key: str
    broadcast: bool


def partition_of(person_id: int, partitions: int) -> int:
    return person_id % partitions


def routes_for(event: ChangeEvent, partitions: int) -> list[Route]:
    if event.topic in REFERENCE_TOPICS:
        return [Route(p, f"{event.topic}:{event.key}", True) for p in range(partitions)]
    people: list[int] = []
    for row in (event.after, event.before):
        person = getattr(row, "person_id", None)
        if person is not None and person not in people:
            people.append(person)
    return [Route(partition_of(p, partitions), str(p), False) for p in people]
