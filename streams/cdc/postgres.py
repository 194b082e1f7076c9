"""A throwaway PostgreSQL server (Debian's ``postgresql`` package) with ``wal_level=logical``.

Started on a free loopback port in a temporary directory; run as the ``postgres`` system user when the
tests run as root (PostgreSQL refuses root). SQL goes through ``psql`` (no Python driver needed).
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import socket
import subprocess
from pathlib import Path
from types import TracebackType
from typing import Any

INSTALL_HINT = "PostgreSQL is not installed: apt-get install -y postgresql"


def pg_bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Postgres:
    def __init__(self, workdir: Path, dbname: str = "sis") -> None:
        bindir = pg_bin_dir()
        if bindir is None:
            raise RuntimeError(INSTALL_HINT)
        self.bin = bindir
        self.workdir = workdir
        self.dbname = dbname
        self.port = _free_port()
        self.data = workdir / "pgdata"
        self.user = "postgres"
        self.password = "postgres"
        self._as_postgres = os.geteuid() == 0

    def _run(self, args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        if self._as_postgres:
            args = ["runuser", "-u", "postgres", "--", *args]
        return subprocess.run(args, check=True, capture_output=True, text=True, timeout=120, **kwargs)

    def __enter__(self) -> Postgres:
        self.workdir.mkdir(parents=True, exist_ok=True)
        if self._as_postgres:
            shutil.chown(self.workdir, "postgres")
            os.chmod(self.workdir, 0o755)
            for parent in list(self.workdir.parents)[:-1]:  # let postgres reach its directory
                with contextlib.suppress(PermissionError):
                    os.chmod(parent, os.stat(parent).st_mode | 0o011)
        pwfile = self.workdir / "pw"
        pwfile.write_text(self.password)
        if self._as_postgres:
            shutil.chown(pwfile, "postgres")
        self._run([str(self.bin / "initdb"), "-D", str(self.data), "-U", self.user, "--auth=md5",
                   f"--pwfile={pwfile}", "-E", "UTF8", "--locale=C"])
        with open(self.data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write(f"listen_addresses = '127.0.0.1'\nport = {self.port}\nwal_level = logical\n"
                       f"max_wal_senders = 10\nmax_replication_slots = 10\n"
                       f"unix_socket_directories = '{self.workdir}'\nfsync = off\n")
        self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.workdir / "pg.log"), "-w",
                   "start"])
        self.psql("CREATE DATABASE " + self.dbname, db="postgres")
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        with contextlib.suppress(Exception):
            self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"])

    def psql(self, sql: str, db: str | None = None) -> str:
        env = {**os.environ, "PGPASSWORD": self.password}
        out = subprocess.run([str(self.bin / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user,
                              "-d", db or self.dbname, "-v", "ON_ERROR_STOP=1", "-q", "-t", "-A"],
                             input=sql, check=False, capture_output=True, text=True, timeout=120, env=env)
        if out.returncode != 0:
            raise RuntimeError(f"psql failed: {out.stderr.strip()}\n--- SQL ---\n{sql[:2000]}")
        return out.stdout

    def rows(self, table: str) -> list[dict[str, Any]]:
        """Every row of ``table`` as JSON objects (dates as ISO strings)."""
        text = self.psql(f'SELECT coalesce(json_agg(t), \'[]\') FROM "{table}" t')
        return list(json.loads(text.strip() or "[]"))
