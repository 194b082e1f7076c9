"""The console script calls main(); every verb answers a configuration error with one line and exit code 2,
and an unreachable broker with one line and exit code 4: never a traceback, never a secret's value."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

import pytest

SECRET = "s3cr3t-value-never-shown"


def run(args: list[str], env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("EDFI")}
    return subprocess.run([sys.executable, "-m", "streams.cli.main", *args], env={**clean, **env},
                          capture_output=True, text=True, timeout=timeout)


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_the_console_script_is_main() -> None:
    scripts = {e.name: e.value for e in importlib.metadata.entry_points(group="console_scripts")}
    assert scripts["edfi-stream"] == "streams.cli.main:main"


@pytest.mark.parametrize("verb", [["worker"], ["produce", "events.jsonl"], ["toggle", "studentAssessments", "on"],
                                  ["errors"], ["errors", "retry"], ["resync"], ["replay"],
                                  ["simulate", "events.jsonl"]])
def test_every_verb_answers_a_configuration_error_in_one_line(tmp_path: Path, verb: list[str]) -> None:
    (tmp_path / "events.jsonl").write_text("")
    config = tmp_path / "config.yaml"
    config.write_text(f"edfi: {{clientSecret: {SECRET}}}\n")
    result = run([*[str(tmp_path / a) if a.endswith(".jsonl") else a for a in verb], "--config", str(config)], {})
    assert result.returncode == 2, result.stderr
    line = one_line(result)
    assert line.startswith("configuration error: secret-looking key 'edfi.clientSecret'") and SECRET not in line


def test_a_bad_environment_value_is_one_line_for_the_worker() -> None:
    result = run(["worker"], {"EDFI_STREAM_SCHOOL_YEAR__START_DATE": "2024-02-30"})
    assert result.returncode == 2
    assert "schoolYear.startDate" in one_line(result)


def test_resync_without_credentials_fails_fast_in_one_line() -> None:
    result = run(["resync"], {"EDFI_STREAM_KAFKA__BOOTSTRAP_SERVERS": "127.0.0.1:1"})
    assert result.returncode == 2
    assert "EDFI_CLIENT_SECRET" in one_line(result)


def test_an_unreachable_broker_is_one_line_with_exit_code_4() -> None:
    result = run(["toggle", "studentAssessments", "off"], {"EDFI_STREAM_KAFKA__BOOTSTRAP_SERVERS": "127.0.0.1:1"})
    assert result.returncode == 4, result.stderr
    line = one_line(result)
    assert line.startswith("Kafka error:") and "kafka.bootstrapServers" in line


def test_a_worker_without_credentials_stops_before_faust_in_one_line() -> None:
    result = run(["worker"], {"EDFI_STREAM_KAFKA__BOOTSTRAP_SERVERS": "127.0.0.1:1"})
    assert result.returncode == 2
    line = one_line(result)
    assert "Ed-Fi credentials missing" in line and "EDFI_CLIENT_SECRET" in line


def test_explain_against_a_worker_that_does_not_answer_is_one_line() -> None:
    result = run(["explain", "--worker", "http://127.0.0.1:1", "--person-id", "4"], {})
    assert result.returncode == 4
    assert one_line(result).startswith("cannot reach")
