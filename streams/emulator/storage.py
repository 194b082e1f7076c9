"""The emulator's optional durability: records, deletes and reference data in one SQLite file, so an
emulator started with ``--db`` keeps its ODS across restarts (the demo and `resync` tests rely on it).

Why apart from :mod:`.core`: the emulator's behaviour is the same with or without a file; this module only
writes what changed and reads it all back at start.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class SqliteStore:
    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._db.execute("CREATE TABLE IF NOT EXISTS records (id TEXT PRIMARY KEY, body TEXT, etag TEXT, "
                         "last_modified TEXT, change_version INTEGER)")
        self._db.execute("CREATE TABLE IF NOT EXISTS deletes (change_version INTEGER, body TEXT)")
        # students, schools, staff, assessments, descriptors added after start (over HTTP or add_*)
        self._db.execute("CREATE TABLE IF NOT EXISTS reference (kind TEXT, value TEXT, PRIMARY KEY (kind, value))")
        self._db.commit()

    # -- reading back at start ----------------------------------------------------------------------------
    def reference(self) -> Iterator[tuple[str, Any]]:
        for kind, value in self._db.execute("SELECT kind, value FROM reference"):
            yield kind, json.loads(value)

    def records(self) -> Iterator[tuple[str, dict[str, Any], str, str, int]]:
        """(id, body, etag, last modified, change version) of every stored record."""
        for rid, body, etag, last_modified, change_version in self._db.execute("SELECT * FROM records"):
            yield rid, json.loads(body), etag, last_modified, change_version

    def deletes(self) -> Iterator[tuple[int, dict[str, Any]]]:
        for change_version, body in self._db.execute("SELECT * FROM deletes ORDER BY change_version"):
            yield change_version, json.loads(body)

    # -- writing what changed -----------------------------------------------------------------------------
    def add_reference(self, kind: str, value: Any) -> None:
        self._db.execute("INSERT OR IGNORE INTO reference VALUES (?,?)", (kind, json.dumps(value)))
        self._db.commit()

    def save_record(self, rid: str, body: dict[str, Any], etag: str, last_modified: str, change_version: int) -> None:
        self._db.execute("INSERT OR REPLACE INTO records VALUES (?,?,?,?,?)",
                         (rid, json.dumps(body), etag, last_modified, change_version))
        self._db.commit()

    def save_delete(self, deleted: dict[str, Any]) -> None:
        self._db.execute("DELETE FROM records WHERE id=?", (deleted["id"],))
        self._db.execute("INSERT INTO deletes VALUES (?,?)", (deleted["changeVersion"], json.dumps(deleted)))
        self._db.commit()

    def clear(self) -> None:
        self._db.execute("DELETE FROM records")
        self._db.execute("DELETE FROM deletes")
        self._db.commit()
