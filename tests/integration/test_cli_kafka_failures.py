"""CLI verbs against the test broker with a security setting it does not speak (SASL where it offers none):
one line and exit code 4, never a stack trace (issue 13 part 6)."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest

PASSWORD = "sasl-password-never-shown"


@pytest.mark.parametrize("verb", [["toggle", "studentAssessments", "on"], ["errors"]])
def test_wrong_sasl_mechanism_is_one_line(broker: Any, verb: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDFI")}
    env.update({"EDFI_STREAM_KAFKA__BOOTSTRAP_SERVERS": broker.bootstrap_servers,
                "EDFI_STREAM_KAFKA__SECURITY_PROTOCOL": "SASL_PLAINTEXT",
                "EDFI_STREAM_KAFKA__SASL_MECHANISM": "SCRAM-SHA-512",
                "EDFI_STREAM_KAFKA_SASL_USERNAME": "edfi", "EDFI_STREAM_KAFKA_SASL_PASSWORD": PASSWORD})
    result = subprocess.run([sys.executable, "-m", "streams.cli.main", *verb], env=env, capture_output=True,
                            text=True, timeout=90)
    assert result.returncode == 4, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith("Kafka error:") and "kafka.saslMechanism" in lines[0]
    assert PASSWORD not in result.stderr
