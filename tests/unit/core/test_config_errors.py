"""Configuration errors: one line, never a secret's value, impossible dates and bad YAML from the file or the
environment, ports, timeouts and sizes range-checked (issue 13 part 5)."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.config import load_settings
from streams.config_checks import secret_looking
from streams.errors import ConfigurationError

SECRET = "hunter2-do-not-print"


def error_of(tmp_path: Path, text: str | None, env: dict[str, str] | None = None) -> str:
    path = None
    if text is not None:
        path = tmp_path / "config.yaml"
        path.write_text(text)
    with pytest.raises(ConfigurationError) as raised:
        load_settings(path, environ=env or {})
    message = str(raised.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("key", ["edfi.clientSecret", "edfi.apiToken", "kafka.saslPassphrase", "kafka.password",
                                 "edfi.key", "edfi.accessToken", "kafka.sslKeyPassword", "worker.adminPwd",
                                 "edfi.client_credentials", "bearerToken"])
def test_secret_looking_keys_are_refused_without_their_value(tmp_path: Path, key: str) -> None:
    section, _, name = key.rpartition(".")
    text = f"{section}: {{{name}: {SECRET}}}\n" if section else f"{name}: {SECRET}\n"
    message = error_of(tmp_path, text)
    assert "secret-looking key" in message and name in message
    assert SECRET not in message


def test_the_pattern_spares_declared_settings_and_user_names(tmp_path: Path) -> None:
    text = ("edfi: {clientSecretEnv: MY_SECRET_VAR, tokenRefreshMarginSeconds: 60}\n"
            "kafka: {saslPasswordEnv: P, sslKeyfile: /k.pem, sslKeyPasswordEnv: K}\n"
            "assessmentKeys: {\"Token Economy Screener\": Token}\n")
    path = tmp_path / "config.yaml"
    path.write_text(text)
    settings = load_settings(path, environ={})
    assert settings.edfi.client_secret_env == "MY_SECRET_VAR"
    assert settings.assessment_keys == {"Token Economy Screener": "Token"}
    assert secret_looking("clientSecret") and secret_looking("api_key") and not secret_looking("baseUrl")


def test_an_unknown_key_is_named_but_its_value_never_shown(tmp_path: Path) -> None:
    message = error_of(tmp_path, f"edfi: {{district: {SECRET}}}\n")
    assert "edfi.district: not a setting" in message and SECRET not in message


def test_impossible_dates_in_the_file_and_the_environment(tmp_path: Path) -> None:
    message = error_of(tmp_path, "schoolYear: {startDate: 2024-02-30, endDate: 2024-06-30}\n")
    assert message.startswith("invalid configuration: schoolYear.startDate:") and "2024-02-30" in message
    message = error_of(tmp_path, None, {"EDFI_STREAM_SCHOOL_YEAR__END_DATE": "2024-13-01"})
    assert "schoolYear.endDate" in message
    # a valid date from the environment still works
    env = {"EDFI_STREAM_SCHOOL_YEAR__START_DATE": "2023-08-01", "EDFI_STREAM_DEFAULT_ADMINISTRATION_DATE": "2023-08-02"}
    settings = load_settings(None, environ=env)
    assert str(settings.school_year.start_date) == "2023-08-01"
    assert str(settings.default_administration_date) == "2023-08-02"


def test_bad_yaml_in_an_environment_variable_or_the_file(tmp_path: Path) -> None:
    message = error_of(tmp_path, None, {"EDFI_STREAM_ASSESSMENT_KEYS": "{Math: [" + SECRET})
    assert "EDFI_STREAM_ASSESSMENT_KEYS is not valid YAML" in message and SECRET not in message
    message = error_of(tmp_path, f'edfi: {{baseUrl: "{SECRET}\n')
    assert "is not valid YAML" in message and "line" in message and SECRET not in message


@pytest.mark.parametrize(("variable", "value", "path"), [
    ("EDFI_STREAM_WORKER__WEB_PORT", "70000", "worker.webPort"),
    ("EDFI_STREAM_WORKER__WEB_PORT", "0", "worker.webPort"),
    ("EDFI_STREAM_EDFI__TIMEOUT_SECONDS", "-1", "edfi.timeoutSeconds"),
    ("EDFI_STREAM_EDFI__PARK_RETRY_SECONDS", "0", "edfi.parkRetrySeconds"),
    ("EDFI_STREAM_KAFKA__SESSION_TIMEOUT_MS", "-5", "kafka.sessionTimeoutMs"),
    ("EDFI_STREAM_KAFKA__TOPIC_PARTITIONS", "0", "kafka.topicPartitions"),
    ("EDFI_STREAM_WORKER__DECODED_CACHE_SIZE", "0", "worker.decodedCacheSize"),
    ("EDFI_STREAM_WORKER__SHUTDOWN_GRACE_SECONDS", "-1", "worker.shutdownGraceSeconds"),
    ("EDFI_STREAM_EDFI__DRAIN_TIMEOUT_SECONDS", "-1", "edfi.drainTimeoutSeconds"),
])
def test_ports_timeouts_and_sizes_are_range_checked(tmp_path: Path, variable: str, value: str, path: str) -> None:
    message = error_of(tmp_path, None, {variable: value})
    assert message.startswith(f"invalid configuration: {path}:"), message
    assert f"(got '{value}')" in message


def test_the_charts_schema_refuses_the_same_keys() -> None:
    """The Helm values schema spells the pattern for Helm (deploy/helm/.../values.schema.json): the two agree."""
    import json
    import re

    from streams.config import EdfiSettings, KafkaSettings, WebSettings, WorkerSettings

    schema = json.loads((Path(__file__).parents[3] / "deploy" / "helm" / "edfi-stream" / "values.schema.json")
                        .read_text())
    rule = schema["definitions"]["noSecretKeys"]["propertyNames"]["not"]["allOf"]
    pattern, exempt = re.compile(rule[0]["pattern"]), set(rule[1]["not"]["enum"])
    models = (EdfiSettings, KafkaSettings, WorkerSettings, WebSettings)
    declared = {f.alias or n for m in models for n, f in m.model_fields.items()}

    def chart_refuses(key: str) -> bool:
        return bool(pattern.search(key)) and key not in exempt

    for key in [*declared, "clientSecret", "apiToken", "saslPassphrase", "password", "key", "clientKey",
                "accessToken", "sslKeyPassword", "bearerToken", "credentials", "district", "baseUrl"]:
        python_refuses = secret_looking(key) and key not in declared
        assert chart_refuses(key) == python_refuses, key
