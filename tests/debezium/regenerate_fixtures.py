"""Regenerate tests/unit/codec/data/debezium-*.jsonl: real Debezium 3.6 output from a real PostgreSQL.

    .venv/bin/python tests/debezium/regenerate_fixtures.py

Three runs of the same SQL with the converter settings the unit tests compare: JSON with schemas (the
default), without schemas, and without schemas with isostring times and string decimals; truncates are
captured (``skipped.operations=none``). TestScore and Enrollment stay at REPLICA IDENTITY DEFAULT.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from streams.cdc.capture import DebeziumCapture
from streams.cdc.postgres import Postgres
from streams.cdc.sis_db import DDL

OUT = (Path(__file__).parents[1] / "unit" / "codec" / "data").resolve()
SEED = """INSERT INTO "Person" VALUES (101,'7000000707','Anderson','Ava'),(102,'7000000714','Baker','Owen');
INSERT INTO "Test" VALUES (1,NULL,'KAP Mathematics',NULL,NULL,'State Mathematics Assessment',
  '2024-03-04 07:30:00','2024-04-26',2024);
INSERT INTO "Enrollment" ("enrollmentID","personID","calendarID",grade,"startDate","serviceType","mathAssessmentType")
  VALUES (3101,101,11,'03','2023-08-16','P','Yes test in this content area');
INSERT INTO "TestScore" VALUES (5001,101,1,'2024-03-24','Performance Level 4','348',NULL,87.50,NULL,NULL);
"""
CHANGES = [('UPDATE "TestScore" SET "scaleScore"=\'350\' WHERE "scoreID"=5001', 1),
           ('UPDATE "TestScore" SET "personID"=102 WHERE "scoreID"=5001', 1),
           ('DELETE FROM "Enrollment" WHERE "enrollmentID"=3101', 2),
           ('UPDATE "TestScore" SET "scoreID"=5002 WHERE "scoreID"=5001', 3),
           ('DELETE FROM "TestScore" WHERE "scoreID"=5002', 2),
           ('TRUNCATE "Person" CASCADE', 1)]
RUNS = {"debezium-json-schemas.jsonl": {},
        "debezium-json-plain.jsonl": {"converter.schemas.enable": "false"},
        "debezium-json-isostring.jsonl": {"converter.schemas.enable": "false", "time.precision.mode": "isostring",
                                          "decimal.handling.mode": "string"}}


def main() -> None:
    for name, extra in RUNS.items():
        with tempfile.TemporaryDirectory() as tmp:
            target = OUT / name
            target.unlink(missing_ok=True)
            with Postgres(Path(tmp) / "pg") as pg:
                pg.psql(DDL + SEED)
                with DebeziumCapture(pg, Path(tmp) / "dbz", None, "json", out=target,
                                     extra={**extra, "skipped.operations": "none"}) as dbz:
                    dbz.wait_for(5)
                    for sql, _ in CHANGES:
                        pg.psql(sql)
                    dbz.wait_for(5 + sum(n for _, n in CHANGES))
        print(name, sum(1 for _ in target.open()))


if __name__ == "__main__":
    main()
