"""The product on secured Apache Kafka nodes (issue 15 part 4): SASL_SSL with SCRAM-SHA-512 (users made with
Kafka's own kafka-configs) and mutual TLS (a client certificate whose key has a password), the CA and the broker
certificate made by the fixture. The worker, its control follower and the verbs produce, toggle, errors, resync
and replay all connect; a wrong password or an untrusted certificate is one clear line and a non-zero exit; no
secret appears in a log, an error, /metrics or a dead letter.

These tests always start Apache Kafka (tansu has no TLS or SASL), whatever $EDFI_STREAM_TEST_BROKER says.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from streams.broker.apache import ApacheKafka
from streams.broker.certs import make_ca
from streams.config import load_settings
from streams.deadletters.log import read_dead_letters
from streams.demo.run import comparable
from streams.demo.stack import LocalStack
from streams.simulate.run import run_simulation
from tests.support.scenario import build

SASL_PASSWORD = "scram-Pa55-never-shown"
KEY_PASSWORD = "key-Pa55-never-shown"
SECRETS = (SASL_PASSWORD, KEY_PASSWORD)


@pytest.fixture(scope="module", params=["sasl_ssl", "mtls"])
def secured(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[tuple[ApacheKafka, dict[str, str]]]:
    """A started node and the environment that reaches it (settings by environment variables, as in a pod)."""
    node = ApacheKafka(workdir=tmp_path_factory.mktemp(f"kafka-{request.param}"), security=request.param)
    with node:
        assert node.ca is not None
        env = {"EDFI_STREAM_KAFKA__SSL_CAFILE": str(node.ca.cert)}
        if request.param == "sasl_ssl":
            node.add_scram_user("edfi-worker", SASL_PASSWORD)
            env.update({"EDFI_STREAM_KAFKA__SECURITY_PROTOCOL": "SASL_SSL",
                        "EDFI_STREAM_KAFKA__SASL_MECHANISM": "SCRAM-SHA-512",
                        "EDFI_STREAM_KAFKA_SASL_USERNAME": "edfi-worker",
                        "EDFI_STREAM_KAFKA_SASL_PASSWORD": SASL_PASSWORD})
        else:
            client = node.ca.issue("edfi-worker", password=KEY_PASSWORD)
            env.update({"EDFI_STREAM_KAFKA__SECURITY_PROTOCOL": "SSL",
                        "EDFI_STREAM_KAFKA__SSL_CERTFILE": str(client.cert),
                        "EDFI_STREAM_KAFKA__SSL_KEYFILE": str(client.key),
                        "EDFI_STREAM_KAFKA_SSL_KEY_PASSWORD": KEY_PASSWORD})
        yield node, env


def cli(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """A verb as a user runs it (the console script's main(): its one-line errors and exit codes)."""
    return subprocess.run([sys.executable, "-m", "streams.cli.main", *args], env=env, capture_output=True,
                          text=True, timeout=timeout, check=False)


def assert_no_secret(where: str, text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"a secret appears in {where}"


def test_worker_and_every_verb_connect(secured: tuple[ApacheKafka, dict[str, str]], tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    node, security_env = secured
    for name, value in security_env.items():  # the secrets: only ever from the environment
        monkeypatch.setenv(name, value)
    events = build(tmp_path / "events.jsonl")
    config = tmp_path / "config.yaml"
    config.write_text("schoolYear: {startDate: 2023-07-01, endDate: 2024-06-30, endYear: 2024}\n")
    run_simulation(events, load_settings(config, environ={}), tmp_path / "sim")
    expected = json.loads((tmp_path / "sim" / "ods.json").read_text())
    lines: list[str] = []
    with LocalStack(config, events, partitions=2, echo=lines.append, external_broker=node,
                    extra_env=security_env) as stack:
        env = stack.env
        produced = cli(env, "produce", str(events))
        assert produced.returncode == 0, produced.stderr
        stack.wait_idle(180)
        assert [comparable(r) for r in stack.emulator.records()] == [comparable(r) for r in expected], lines
        # the control follower reads the toggle over the same secured connection (the gauge follows it)
        stack.toggle(False)
        stack.toggle(True)
        toggled = cli(env, "toggle", "studentAssessments", "on")
        assert toggled.returncode == 0 and "turned on" in toggled.stdout, toggled.stderr
        listed = cli(env, "errors")
        assert listed.returncode == 0, listed.stderr
        planned = cli(env, "resync", "--dry-run")
        assert planned.returncode == 0, planned.stderr
        with urllib.request.urlopen(stack.metrics_url, timeout=10) as response:
            metrics_text = response.read().decode()
        letters = read_dead_letters(stack.kafka_config)
        stack.stop_worker()
        rewound = cli(env, "replay")
        assert rewound.returncode == 0 and "rewound" in rewound.stdout, rewound.stderr
        worker_log = (stack.workdir / "worker.log").read_text(errors="replace")
    assert "SIS events" in "\n".join(lines)
    for where, text in [("the worker log", worker_log), ("/metrics", metrics_text),
                        ("the dead letters", repr([d.record for d in letters])),
                        ("the broker log", node.log_path.read_text(errors="replace"))] + [
            (f"`{' '.join(r.args[3:])}`", r.stdout + r.stderr) for r in (produced, toggled, listed, planned, rewound)]:
        assert_no_secret(where, text)


def refused_env(node: ApacheKafka, security_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """The same settings with a wrong password (SCRAM) or a certificate from a CA the broker does not trust."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDFI")}
    env.update(security_env)
    env["EDFI_STREAM_KAFKA__BOOTSTRAP_SERVERS"] = node.bootstrap_servers
    env.update({"EDFI_CLIENT_ID": "id", "EDFI_CLIENT_SECRET": "secret"})  # Ed-Fi's are checked first
    if security_env["EDFI_STREAM_KAFKA__SECURITY_PROTOCOL"] == "SASL_SSL":
        env["EDFI_STREAM_KAFKA_SASL_PASSWORD"] = SASL_PASSWORD + "-wrong"
    else:
        intruder = make_ca(tmp_path / "other-ca", "other").issue("intruder", password=KEY_PASSWORD)
        env.update({"EDFI_STREAM_KAFKA__SSL_CERTFILE": str(intruder.cert),
                    "EDFI_STREAM_KAFKA__SSL_KEYFILE": str(intruder.key)})
    return env


@pytest.mark.parametrize("verb", [["toggle", "studentAssessments", "off"], ["errors"], ["replay"], ["worker"]])
def test_refused_credentials_are_one_clear_line(secured: tuple[ApacheKafka, dict[str, str]], tmp_path: Path,
                                                verb: list[str]) -> None:
    node, security_env = secured
    env = refused_env(node, security_env, tmp_path)
    result = cli(env, *verb)
    assert result.returncode == 4, (result.returncode, result.stderr[-2000:])
    errors = [line for line in result.stderr.splitlines() if "Kafka error" in line]
    assert len(errors) == 1 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert ("refused the credentials" in errors[0] if "SASL" in security_env["EDFI_STREAM_KAFKA__SECURITY_PROTOCOL"]
            else "refused our client certificate" in errors[0]), errors[0]
    if verb != ["worker"]:  # the worker logs its start-up; the short verbs print nothing but the error
        assert result.stderr.strip().count("\n") == 0, result.stderr
    assert_no_secret(f"`{' '.join(verb)}`", result.stdout + result.stderr)
