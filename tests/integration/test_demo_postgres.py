"""`edfi-stream demo --source postgres`: the printed psql line changes a score in the SIS database and the
change shows up in the ODS, live, through the real Debezium connector."""

from __future__ import annotations

import subprocess
import threading
import time

import pytest

from streams.demo.postgres_demo import run_postgres_demo


@pytest.mark.timeout(600)
def test_the_printed_psql_line_changes_the_ods_live() -> None:
    lines: list[str] = []
    stop = threading.Event()
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(run_postgres_demo(echo=lines.append, stop=stop)))
    thread.start()
    try:
        deadline = time.monotonic() + 400
        while not any("psql -h 127.0.0.1" in line for line in lines):
            assert thread.is_alive() and time.monotonic() < deadline, "\n".join(lines)
            time.sleep(0.5)
        command = next(line for line in "\n".join(lines).splitlines() if "psql -h 127.0.0.1" in line).strip()
        subprocess.run(command, shell=True, check=True, capture_output=True, timeout=60)
        while not any("ODS:" in line and "updated" in line for line in lines):
            assert thread.is_alive() and time.monotonic() < deadline, "\n".join(lines)
            time.sleep(0.5)
        changed = [line for line in lines if "ODS:" in line]
        assert len(changed) == 1 and "Scale score=351" in changed[0], changed
    finally:
        stop.set()
        thread.join(120)
    assert result == [1]
