"""The one typed settings object of the product (contract section 3).

Settings come from one YAML file (keys as the contract spells them, camelCase) and every value can be
overridden by an environment variable with the single prefix ``EDFI_STREAM_``; nested keys are joined
with ``__`` and matched case-insensitively, ignoring underscores::

    EDFI_STREAM_KAFKA__BOOTSTRAP_SERVERS=broker:9092
    EDFI_STREAM_SCHOOL_YEAR__END_YEAR=2025

Secrets never come from the file: the Ed-Fi key/secret and the Kafka SASL/TLS passwords are read from
the environment variables that the file *names* (``edfi.clientIdEnv`` ...). A secret-looking key in the
file is a :class:`ConfigurationError`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_camel

from streams.errors import ConfigurationError

ENV_PREFIX = "EDFI_STREAM_"
CONFIG_PATH_ENV = ENV_PREFIX + "CONFIG"
_SECRET_KEYS = {"clientsecret", "password", "saslpassword", "secret", "clientid", "sslkeypassword"}


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


class SchoolYear(_Model):
    start_date: dt.date = dt.date(2023, 7, 1)
    end_date: dt.date = dt.date(2024, 6, 30)
    end_year: int = 2024

    @model_validator(mode="after")
    def _ordered(self) -> SchoolYear:
        if self.end_date < self.start_date:
            raise ValueError("schoolYear.endDate is before schoolYear.startDate")
        return self


class ScoreResultMapping(_Model):
    """Resource Preferences: one SIS score field -> (AssessmentReportingMethod, ResultDatatypeType)."""

    reporting_method: str
    result_datatype: str


class EdfiSettings(_Model):
    base_url: str = "http://localhost:8001"
    client_id_env: str = "EDFI_CLIENT_ID"
    client_secret_env: str = "EDFI_CLIENT_SECRET"
    timeout_seconds: float = 30.0
    # adaptive: the writes in flight move between minInFlight and maxInFlight with the ODS's answers and
    # latency (streams/edfi/concurrency.py); fixed: always maxInFlight
    concurrency: Literal["adaptive", "fixed"] = "adaptive"
    max_in_flight: int = Field(default=64, ge=1, le=512)
    initial_in_flight: int = Field(default=16, ge=1, le=512)
    min_in_flight: int = Field(default=4, ge=1, le=512)
    max_retries: int = Field(default=8, ge=0)
    backoff_base_seconds: float = 0.2
    backoff_max_seconds: float = 30.0
    park_horizon_seconds: float = 3600.0
    park_retry_seconds: float = 30.0
    token_refresh_margin_seconds: float = 120.0
    verify_tls: bool = True
    # CA bundle for the ODS's TLS certificate (a private CA); unset: the system's trust store
    ca_file: str | None = None
    # aiohttp: httpx's API over aiohttp's connection pool (about 3x the records/s, docs/performance.md);
    # httpx: httpx's own pool (httpcore)
    http_stack: Literal["aiohttp", "httpx"] = "aiohttp"

    @model_validator(mode="after")
    def _in_flight_range(self) -> EdfiSettings:
        if self.concurrency == "adaptive" and self.min_in_flight > self.max_in_flight:
            raise ValueError(f"edfi.minInFlight ({self.min_in_flight}) is above edfi.maxInFlight "
                             f"({self.max_in_flight})")
        return self

    def credentials(self, environ: Mapping[str, str] | None = None) -> tuple[str, str]:
        env = os.environ if environ is None else environ
        key, secret = env.get(self.client_id_env), env.get(self.client_secret_env)
        if not key or not secret:
            raise ConfigurationError(
                f"Ed-Fi credentials missing: set the environment variables {self.client_id_env} "
                f"and {self.client_secret_env}"
            )
        return key, secret


class KafkaSettings(_Model):
    bootstrap_servers: str = "localhost:9092"
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    sasl_username_env: str = "EDFI_STREAM_KAFKA_SASL_USERNAME"
    sasl_password_env: str = "EDFI_STREAM_KAFKA_SASL_PASSWORD"
    ssl_cafile: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    ssl_key_password_env: str = "EDFI_STREAM_KAFKA_SSL_KEY_PASSWORD"
    client_id: str = "edfi-stream"
    topic_partitions: int = Field(default=4, ge=1)
    topic_replication_factor: int = Field(default=1, ge=1)
    session_timeout_ms: int = 10000
    heartbeat_interval_ms: int = 2000
    # The embedded tansu broker reports a wrong high watermark for multi-record batches (see
    # docs/operations.md): against it every producer must write one record per batch. Never on a real Kafka.
    one_record_per_batch: bool = False
    # Longest a fetch may wait on the broker (Faust's own default is 1500 ms; see agents/faust_tuning.py).
    fetch_max_wait_ms: int = Field(default=100, ge=1, le=10000)
    # Avro or JSON for what *we* produce (input topics accept both, detected per record).
    value_format: Literal["avro", "json"] = "avro"

    def sasl_credentials(self, environ: Mapping[str, str] | None = None) -> tuple[str | None, str | None]:
        env = os.environ if environ is None else environ
        return env.get(self.sasl_username_env), env.get(self.sasl_password_env)

    def confluent_config(self, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
        """librdkafka client settings (confluent-kafka) for these settings."""
        cfg: dict[str, Any] = {
            "bootstrap.servers": self.bootstrap_servers,
            "security.protocol": self.security_protocol,
            "client.id": self.client_id,
        }
        if self.sasl_mechanism:
            user, password = self.sasl_credentials(environ)
            cfg.update({"sasl.mechanism": self.sasl_mechanism, "sasl.username": user or "",
                        "sasl.password": password or ""})
        if self.ssl_cafile:
            cfg["ssl.ca.location"] = self.ssl_cafile
        if self.ssl_certfile:
            cfg["ssl.certificate.location"] = self.ssl_certfile
        if self.ssl_keyfile:
            cfg["ssl.key.location"] = self.ssl_keyfile
            env = os.environ if environ is None else environ
            if env.get(self.ssl_key_password_env):
                cfg["ssl.key.password"] = env[self.ssl_key_password_env]
        return cfg


class WorkerSettings(_Model):
    app_id: str = "edfi-stream"
    web_host: str = "0.0.0.0"
    web_port: int = 6066
    data_dir: str = "./.edfi-stream-data"
    store: str = "memory://"
    dead_letter_file: str | None = None
    # "beginning" or an ISO time: on its first assignment the worker rewinds its SIS partitions (replay)
    replay_from: str | None = None
    # students (and their sent records) kept decoded per partition: speed against memory (docs/performance.md)
    decoded_cache_size: int = Field(default=4096, ge=1)


class ResyncSettings(_Model):
    max_delete_share: float = Field(default=0.2, ge=0.0, le=1.0)
    page_size: int = Field(default=500, ge=1, le=500)


class Settings(_Model):
    """Everything the product is configured with. Build it with :func:`load_settings`."""

    school_year: SchoolYear = SchoolYear()
    namespace: str = "uri://ksde.org/Assessment/Assessment.xml"
    default_administration_date: dt.date = dt.date(2023, 7, 1)
    assessment_keys: dict[str, str] = Field(default_factory=dict)
    score_results: dict[str, ScoreResultMapping] = Field(
        default_factory=lambda: {
            "scaleScore": ScoreResultMapping(reporting_method="Scale score", result_datatype="Integer"),
            "result": ScoreResultMapping(
                reporting_method="Achievement/proficiency level", result_datatype="Level"
            ),
        }
    )
    periods: dict[int, str] = Field(default_factory=dict)
    edfi: EdfiSettings = EdfiSettings()
    kafka: KafkaSettings = KafkaSettings()
    worker: WorkerSettings = WorkerSettings()
    resync: ResyncSettings = ResyncSettings()


def _norm(name: str) -> str:
    return name.replace("_", "").replace("-", "").lower()


def _check_no_secrets(data: Any, path: str = "") -> None:
    if isinstance(data, Mapping):
        for key, value in data.items():
            if _norm(str(key)) in _SECRET_KEYS:
                raise ConfigurationError(
                    f"secret-looking key '{path}{key}' in the configuration file: secrets come only from "
                    "the environment (see the *Env settings)"
                )
            _check_no_secrets(value, f"{path}{key}.")


def _model_for(model: type[BaseModel], key: str) -> tuple[str, type[BaseModel] | None] | None:
    """Find the field of ``model`` that env segment ``key`` names: (alias, nested model or None)."""
    for name, field in model.model_fields.items():
        alias = field.alias or name
        if _norm(key) in (_norm(name), _norm(alias)):
            ann = field.annotation
            nested = ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None
            return alias, nested
    return None


def apply_environment(data: dict[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """Overlay ``EDFI_STREAM_A__B=value`` variables on the file's data (values parsed as YAML scalars)."""
    out = json.loads(json.dumps(data, default=str))
    for var, raw in environ.items():
        if not var.startswith(ENV_PREFIX) or var == CONFIG_PATH_ENV:
            continue
        parts = var[len(ENV_PREFIX):].split("__")
        model: type[BaseModel] | None = Settings
        target = out
        for i, part in enumerate(parts):
            found = _model_for(model, part) if model is not None else None
            if found is None:
                break  # not a setting (for example a secret the file names): leave it alone
            alias, nested = found
            if i == len(parts) - 1:
                target[alias] = yaml.safe_load(raw) if raw != "" else None
            else:
                target = target.setdefault(alias, {})
                model = nested
    return out


def load_settings(path: str | Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read the YAML file (``path``, else ``$EDFI_STREAM_CONFIG``, else defaults) and the environment."""
    env = os.environ if environ is None else environ
    path = path or env.get(CONFIG_PATH_ENV)
    data: dict[str, Any] = {}
    if path:
        try:
            loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigurationError(f"cannot read configuration file {path}: {exc}") from exc
        except yaml.YAMLError as exc:
            raise ConfigurationError(f"configuration file {path} is not valid YAML: {exc}") from exc
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigurationError(f"configuration file {path} must hold a mapping")
        data = loaded or {}
    _check_no_secrets(data)
    data = apply_environment(data, env)
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigurationError(f"invalid configuration: {exc}") from exc
