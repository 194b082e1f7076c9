"""Every topic name of the product, in one place, and the map from SIS tables to the topics carrying them.

Inside the product a SIS table is always named by its *contract* name (``sis.test_scores``, contract
section 1): the rules, the state, the repartition records and the events files use it. On Kafka a table
may live under another name, the one its CDC producer gives it (Debezium: ``<topic.prefix>.<schema>.
<table>``, e.g. ``campus.dbo.TestScore``). :class:`TopicMap` translates at the edges: what subscribes to,
reads or writes the SIS topics (the worker, ``produce``, ``resync``, ``replay``, the Helm values) asks it
for the Kafka name; what reads a record from Kafka asks it for the contract name.

The configuration key of each table (``topics.testScores``) is in :data:`CONFIG_KEYS`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

# SIS tables (contract section 1): the contract names, also the default Kafka topics
STUDENTS = "sis.students"
STAFF = "sis.staff"
SCHOOLS = "sis.schools"
CALENDARS = "sis.calendars"
ENROLLMENTS = "sis.enrollments"
TESTS = "sis.tests"
TEST_SCORES = "sis.test_scores"
SIS_TABLES: tuple[str, ...] = (STUDENTS, STAFF, SCHOOLS, CALENDARS, ENROLLMENTS, TESTS, TEST_SCORES)

STUDENT_KEYED_TABLES: tuple[str, ...] = (STUDENTS, ENROLLMENTS, TEST_SCORES)
REFERENCE_TABLES: tuple[str, ...] = (TESTS, SCHOOLS, CALENDARS, STAFF)
# tables whose rows belong to a student through a personID column that is not their primary key
OWNED_TABLES: tuple[str, ...] = (ENROLLMENTS, TEST_SCORES)

# control (contract section 2) and the worker's internal topics
CONTROL = "edfi.control"
STUDENT_EVENTS = "edfi-stream.student-events"  # repartitioned by personID; reference rows broadcast
WRITE_COMMANDS = "edfi-stream.write-commands"  # keyed by studentAssessmentIdentifier
DEAD_LETTERS = "edfi-stream.dead-letters"
INTERNAL_TOPICS: tuple[str, ...] = (STUDENT_EVENTS, WRITE_COMMANDS, DEAD_LETTERS)

# the worker's Faust tables (agents/app.py) and its owner tables (agents/ingest.py, one per owned SIS table):
# Faust keeps each in a compacted changelog topic, :func:`changelog_topic`
STUDENTS_TABLE = "students"    # personID -> the student's SIS rows
SENT_TABLE = "sent"            # personID -> what the rules last emitted
REFERENCE_TABLE = "reference"  # reference rows (tests, schools, calendars, staff)
IDENTITY_TABLE = "identity"    # studentAssessmentIdentifier -> the ODS resource id
TABLES: tuple[str, ...] = (STUDENTS_TABLE, SENT_TABLE, REFERENCE_TABLE, IDENTITY_TABLE)
OWNER_TABLES: dict[str, str] = {table: "owners-" + table.split(".", 1)[1] for table in OWNED_TABLES}


def changelog_topic(app_id: str, table: str) -> str:
    """The changelog topic Faust gives table ``table`` of app ``app_id``."""
    return f"{app_id}-{table}-changelog"


def leader_topic(app_id: str) -> str:
    """Faust's leader-election topic of app ``app_id`` (one partition)."""
    return f"{app_id}-__assignor-__leader"


# configuration key (``topics:`` in the YAML file) -> SIS table
CONFIG_KEYS: dict[str, str] = {
    "students": STUDENTS, "staff": STAFF, "schools": SCHOOLS, "calendars": CALENDARS,
    "enrollments": ENROLLMENTS, "tests": TESTS, "testScores": TEST_SCORES,
}
# the SIS database table of each contract table (the name Debezium puts in ``source.table``)
SIS_TABLE_NAMES: dict[str, str] = {
    STUDENTS: "Person", STAFF: "Staff", SCHOOLS: "School", CALENDARS: "Calendar",
    ENROLLMENTS: "Enrollment", TESTS: "Test", TEST_SCORES: "TestScore",
}


@dataclass(frozen=True)
class TopicMap:
    """SIS table (contract name) <-> Kafka topic. Tables not named in ``kafka_names`` keep their name."""

    kafka_names: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.kafka_names) - set(SIS_TABLES))
        if unknown:
            raise ValueError(f"not SIS tables: {', '.join(unknown)}")
        names = [self.kafka(t) for t in SIS_TABLES]
        clash = sorted({n for n in names if names.count(n) > 1} | (set(names) & {CONTROL, *INTERNAL_TOPICS}))
        if clash:
            raise ValueError(f"topic used twice: {', '.join(clash)}")
        object.__setattr__(self, "_tables", {self.kafka(t): t for t in SIS_TABLES})

    @classmethod
    def from_config(cls, topics: Mapping[str, str | None]) -> TopicMap:
        """From the ``topics:`` settings (configuration keys, e.g. ``testScores``); ``None`` = default."""
        unknown = sorted(set(topics) - set(CONFIG_KEYS))
        if unknown:
            raise ValueError(f"unknown topics key(s): {', '.join(unknown)} (known: {', '.join(CONFIG_KEYS)})")
        return cls({CONFIG_KEYS[k]: v for k, v in topics.items() if v})

    def kafka(self, table: str) -> str:
        """The Kafka topic carrying ``table`` (a contract name)."""
        return self.kafka_names.get(table, table)

    def table(self, topic: str) -> str | None:
        """The SIS table (contract name) that Kafka ``topic`` carries, or None if it carries none."""
        return self._tables.get(topic)  # type: ignore[attr-defined, no-any-return]

    def kafka_topics(self, tables: Iterable[str] = SIS_TABLES) -> tuple[str, ...]:
        return tuple(self.kafka(t) for t in tables)

    @property
    def inputs(self) -> tuple[str, ...]:
        """Every SIS topic the worker subscribes to."""
        return self.kafka_topics()


DEFAULT_TOPICS = TopicMap()

__all__ = [
    "CALENDARS",
    "CONFIG_KEYS",
    "CONTROL",
    "DEAD_LETTERS",
    "DEFAULT_TOPICS",
    "ENROLLMENTS",
    "IDENTITY_TABLE",
    "INTERNAL_TOPICS",
    "OWNED_TABLES",
    "OWNER_TABLES",
    "REFERENCE_TABLE",
    "REFERENCE_TABLES",
    "SCHOOLS",
    "SENT_TABLE",
    "SIS_TABLES",
    "SIS_TABLE_NAMES",
    "STAFF",
    "STUDENTS",
    "STUDENTS_TABLE",
    "STUDENT_EVENTS",
    "STUDENT_KEYED_TABLES",
    "TABLES",
    "TESTS",
    "TEST_SCORES",
    "WRITE_COMMANDS",
    "TopicMap",
    "changelog_topic",
    "leader_topic",
]
