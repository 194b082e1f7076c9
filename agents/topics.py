"""Names of every topic the product reads or writes, in one place.

The SIS topics and ``edfi.control`` are the outside contract (contract sections 1 and 2); the
``edfi-stream.*`` topics are internal and created by the worker.
"""

from __future__ import annotations

from streams.sis.rows import CONTROL_TOPIC, SIS_TOPICS

STUDENT_KEYED_TOPICS: tuple[str, ...] = ("sis.students", "sis.enrollments", "sis.test_scores")
REFERENCE_TOPICS: tuple[str, ...] = ("sis.tests", "sis.schools", "sis.calendars", "sis.staff")

STUDENT_EVENTS = "edfi-stream.student-events"    # repartitioned by personID; reference rows broadcast
WRITE_COMMANDS = "edfi-stream.write-commands"    # keyed by studentAssessmentIdentifier
DEAD_LETTERS = "edfi-stream.dead-letters"

INPUT_TOPICS: tuple[str, ...] = (*SIS_TOPICS,)
ALL_TOPICS: tuple[str, ...] = (*SIS_TOPICS, CONTROL_TOPIC, STUDENT_EVENTS, WRITE_COMMANDS, DEAD_LETTERS)

__all__ = ["ALL_TOPICS", "CONTROL_TOPIC", "DEAD_LETTERS", "INPUT_TOPICS", "REFERENCE_TOPICS",
           "SIS_TOPICS", "STUDENT_EVENTS", "STUDENT_KEYED_TOPICS", "WRITE_COMMANDS"]
