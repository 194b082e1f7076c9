"""Names of every topic the agents read or write: re-exported from :mod:`streams.topics`, their one home.

``INPUT_TOPICS`` are the *default* Kafka names of the SIS tables; the worker subscribes to
``settings.topic_map().inputs`` (the ``topics:`` setting).

The SIS topics and ``edfi.control`` are the outside contract (contract sections 1 and 2); the
``edfi-stream.*`` topics are internal and created by the worker.
"""

from __future__ import annotations

from streams.topics import CONTROL as CONTROL_TOPIC
from streams.topics import DEAD_LETTERS, STUDENT_EVENTS, WRITE_COMMANDS
from streams.topics import REFERENCE_TABLES as REFERENCE_TOPICS
from streams.topics import SIS_TABLES as SIS_TOPICS
from streams.topics import STUDENT_KEYED_TABLES as STUDENT_KEYED_TOPICS

INPUT_TOPICS: tuple[str, ...] = (*SIS_TOPICS,)
ALL_TOPICS: tuple[str, ...] = (*SIS_TOPICS, CONTROL_TOPIC, STUDENT_EVENTS, WRITE_COMMANDS, DEAD_LETTERS)

__all__ = ["ALL_TOPICS", "CONTROL_TOPIC", "DEAD_LETTERS", "INPUT_TOPICS", "REFERENCE_TOPICS",
           "SIS_TOPICS", "STUDENT_EVENTS", "STUDENT_KEYED_TOPICS", "WRITE_COMMANDS"]
