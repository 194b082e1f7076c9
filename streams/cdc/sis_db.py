"""An SIS database shaped like contract section 1, loaded with the bundled sample district.

Tables and columns carry the SIS names (quoted, camelCase kept). Types are what an SIS uses: ``date``
columns, a ``timestamp`` (a SQL Server ``datetime`` in Infinite Campus) for the tests' start dates, a
``numeric(5,2)`` percent, ``boolean`` flags. ``TestScore`` and ``Enrollment`` keep PostgreSQL's default
replica identity (partial before images: the worker's owner index must cope); the rest are FULL.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from streams.sample.district import SAMPLE_EVENTS
from streams.sis.rows import TOPIC_ROWS
from streams.topics import SIS_TABLE_NAMES

TOPIC_KEYS = {table: pk for table, (_, pk) in TOPIC_ROWS.items()}

DDL = """
CREATE TABLE "Person" ("personID" int PRIMARY KEY, "stateID" varchar(20) NOT NULL, "lastName" varchar(50),
  "firstName" varchar(50));
CREATE TABLE "Staff" ("personID" int PRIMARY KEY, "staffStateID" varchar(20) NOT NULL);
CREATE TABLE "School" ("schoolID" int PRIMARY KEY, "stateSchoolID" int NOT NULL, name varchar(100),
  exclude boolean NOT NULL DEFAULT false);
CREATE TABLE "Calendar" ("calendarID" int PRIMARY KEY, "schoolID" int NOT NULL, "endYear" int NOT NULL,
  exclude boolean NOT NULL DEFAULT false);
CREATE TABLE "Enrollment" ("enrollmentID" int PRIMARY KEY, "personID" int NOT NULL, "calendarID" int NOT NULL,
  grade varchar(4) NOT NULL, "startDate" date NOT NULL, "endDate" date, "serviceType" char(1) NOT NULL,
  "stateExclude" boolean NOT NULL DEFAULT false, "noShow" boolean NOT NULL DEFAULT false,
  "mathAssessmentType" varchar(60), "readingAssessmentType" varchar(60), "scienceAssessmentType" varchar(60),
  "kelpaExam" varchar(60), "compAgricAssessment" varchar(60), "animalSystemsAssessment" varchar(60),
  "plantSystemsAssessment" varchar(60));
CREATE TABLE "Test" ("testID" int PRIMARY KEY, "parentID" int, name varchar(100), code varchar(10),
  subject varchar(50), "stateCode" varchar(100), "startDate" timestamp, "endDate" date, "endYear" int);
CREATE TABLE "TestScore" ("scoreID" int PRIMARY KEY, "personID" int NOT NULL, "testID" int NOT NULL, date date,
  result varchar(50), "scaleScore" varchar(20), "rawScore" varchar(20), percent numeric(5,2),
  percentile varchar(20), "proctorPersonID" int);
ALTER TABLE "Person" REPLICA IDENTITY FULL;
ALTER TABLE "Staff" REPLICA IDENTITY FULL;
ALTER TABLE "School" REPLICA IDENTITY FULL;
ALTER TABLE "Calendar" REPLICA IDENTITY FULL;
ALTER TABLE "Test" REPLICA IDENTITY FULL;
"""


def sample_state(events_file: Path = SAMPLE_EVENTS) -> dict[str, dict[int, dict[str, Any]]]:
    """The sample district's final rows, per contract table: its events applied in order."""
    state: dict[str, dict[int, dict[str, Any]]] = {t: {} for t in SIS_TABLE_NAMES}
    for line in events_file.read_text().splitlines():
        event = json.loads(line)
        value = event["value"]
        if value is None or event["topic"] not in state:
            continue
        pk = TOPIC_KEYS[event["topic"]]
        key = event["key"][pk]
        if value["op"] == "d":
            state[event["topic"]].pop(key, None)
        else:
            state[event["topic"]][key] = value["after"]
    return state


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def insert_sql(table: str, rows: list[dict[str, Any]]) -> str:
    if not rows:
        return ""
    name = SIS_TABLE_NAMES[table]
    columns = list(rows[0])
    values = ",\n".join("(" + ", ".join(_literal(r.get(c)) for c in columns) + ")" for r in rows)
    return f'INSERT INTO "{name}" ({", ".join(chr(34) + c + chr(34) for c in columns)}) VALUES\n{values};\n'


def load_sql(state: dict[str, dict[int, dict[str, Any]]]) -> str:
    sql = DDL
    for table, rows in state.items():
        sql += insert_sql(table, list(rows.values()))
    return sql


def state_events(rows_by_table: dict[str, list[dict[str, Any]]], path: Path) -> Path:
    """An events file (contract format, op ``r``) holding exactly these rows: the SIS state for simulate."""
    lines = []
    for table, rows in rows_by_table.items():
        pk = TOPIC_KEYS[table]
        for i, row in enumerate(sorted(rows, key=lambda r: r[pk])):
            after = dict(row)
            for column, value in after.items():
                if isinstance(value, str) and len(value) >= 19 and value[10:11] == "T":
                    after[column] = value[:10]  # a timestamp column's calendar day
            if "percent" in after and after["percent"] is not None:
                after["percent"] = str(after["percent"])
            lines.append(json.dumps({"topic": table, "key": {pk: row[pk]}, "value": {
                "op": "r", "before": None, "after": after, "ts_ms": 1_700_000_000_000 + i,
                "source": {"table": SIS_TABLE_NAMES[table], "seq": i}}}))
    path.write_text("\n".join(lines) + "\n")
    return path
