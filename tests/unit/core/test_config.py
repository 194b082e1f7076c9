"""The one settings object: file, environment overrides, secrets only from the environment."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from streams.config import load_settings
from streams.errors import ConfigurationError

CONTRACT_YAML = """
schoolYear: {startDate: 2023-07-01, endDate: 2024-06-30, endYear: 2024}
namespace: uri://ksde.org/Assessment/Assessment.xml
defaultAdministrationDate: 2023-07-01
assessmentKeys:
  "State Mathematics Assessment": Math
  "Dyslexia Screener_Acadience": Dyslexia
scoreResults:
  scaleScore: {reportingMethod: "Scale score", resultDatatype: Integer}
  result: {reportingMethod: "Achievement/proficiency level", resultDatatype: Level}
periods: {}
edfi: {baseUrl: http://localhost:8001, clientIdEnv: EDFI_CLIENT_ID, clientSecretEnv: EDFI_CLIENT_SECRET}
kafka: {bootstrapServers: localhost:9092}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def test_contract_example_loads(tmp_path: Path) -> None:
    s = load_settings(write(tmp_path, CONTRACT_YAML), environ={})
    assert s.school_year.end_year == 2024
    assert s.school_year.start_date == dt.date(2023, 7, 1)
    assert s.assessment_keys["State Mathematics Assessment"] == "Math"
    assert s.score_results["scaleScore"].result_datatype == "Integer"
    assert s.edfi.base_url == "http://localhost:8001"


def test_environment_overrides_file(tmp_path: Path) -> None:
    env = {"EDFI_STREAM_KAFKA__BOOTSTRAP_SERVERS": "b1:9092,b2:9092",
           "EDFI_STREAM_SCHOOL_YEAR__END_YEAR": "2025",
           "EDFI_STREAM_EDFI__MAX_IN_FLIGHT": "4",
           "EDFI_STREAM_KAFKA__SECURITY_PROTOCOL": "SASL_SSL",
           "EDFI_STREAM_KAFKA_SASL_PASSWORD": "not-a-setting-but-a-secret"}
    s = load_settings(write(tmp_path, CONTRACT_YAML), environ=env)
    assert s.kafka.bootstrap_servers == "b1:9092,b2:9092"
    assert s.school_year.end_year == 2025
    assert s.edfi.max_in_flight == 4
    assert s.kafka.security_protocol == "SASL_SSL"


def test_secret_in_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="secret"):
        load_settings(write(tmp_path, "edfi: {clientSecret: hunter2}\n"), environ={})


def test_bad_values_are_configuration_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError):
        load_settings(write(tmp_path, "schoolYear: {startDate: 2024-07-01, endDate: 2023-06-30}\n"), environ={})
    with pytest.raises(ConfigurationError):
        load_settings(write(tmp_path, "kafka: {securityProtocol: TELNET}\n"), environ={})
    with pytest.raises(ConfigurationError):
        load_settings(tmp_path / "missing.yaml", environ={})


def test_credentials_come_from_named_variables() -> None:
    s = load_settings(None, environ={})
    assert s.edfi.credentials({"EDFI_CLIENT_ID": "k", "EDFI_CLIENT_SECRET": "s"}) == ("k", "s")
    with pytest.raises(ConfigurationError, match="EDFI_CLIENT_SECRET"):
        s.edfi.credentials({"EDFI_CLIENT_ID": "k"})


def test_sasl_and_tls_reach_the_kafka_client_config() -> None:
    env = {"EDFI_STREAM_KAFKA__SECURITY_PROTOCOL": "SASL_SSL", "EDFI_STREAM_KAFKA__SASL_MECHANISM": "SCRAM-SHA-512",
           "EDFI_STREAM_KAFKA__SSL_CAFILE": "/etc/ca.pem"}
    s = load_settings(None, environ=env)
    cfg = s.kafka.confluent_config({"EDFI_STREAM_KAFKA_SASL_USERNAME": "u", "EDFI_STREAM_KAFKA_SASL_PASSWORD": "p"})
    assert cfg["security.protocol"] == "SASL_SSL"
    assert cfg["sasl.mechanism"] == "SCRAM-SHA-512"
    assert (cfg["sasl.username"], cfg["sasl.password"]) == ("u", "p")
    assert cfg["ssl.ca.location"] == "/etc/ca.pem"
