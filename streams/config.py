"""The one typed settings object of the product (contract section 3).

Settings come from one YAML file (keys as the contract spells them, camelCase) and every value can be
overridden by an environment variable with the single prefix ``EDFI_STREAM_``; nested keys are joined
with ``__`` and matched case-insensitively, ignoring underscores::

    EDFI_STREAM_KAFKA__BOOTSTRAP_SERVERS=broker:9092
    EDFI_STREAM_SCHOOL_YEAR__END_YEAR=2025

Secrets never come from the file: the Ed-Fi key/secret and the Kafka SASL/TLS passwords are read from
the environment variables that the file *names* (``edfi.clientIdEnv`` ...). A secret-looking key in the
file (by pattern, streams/config_checks.py) is a :class:`ConfigurationError`. Every problem is one
:class:`ConfigurationError` line that never quotes a secret; ports, timeouts and sizes are range-checked.

Why not pydantic-settings: the overlay must read an injected environment mapping (every test and the demo
pass ``environ=``), match keys ignoring underscores as the contract spells them, parse values as YAML
scalars like the file, and report errors in the one-line form above; pydantic-settings reads
``os.environ``, parses complex values as JSON and raises its own ``SettingsError``, so it would need a
custom source doing all of this (about the 30 lines below). The dependency was dropped instead.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.alias_generators import to_camel

from streams.config_checks import (
    declared_paths,
    describe_validation,
    describe_yaml_error,
    load_yaml,
    secret_looking,
)
from streams.errors import ConfigurationError
from streams.topics import TopicMap

ENV_PREFIX = "EDFI_STREAM_"
CONFIG_PATH_ENV = ENV_PREFIX + "CONFIG"


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
    timeout_seconds: float = Field(default=30.0, gt=0, le=3600)
    # adaptive: the writes in flight move between minInFlight and maxInFlight with the ODS's answers and
    # latency (streams/edfi/concurrency.py); paced: adaptive, and a 429 sets a request rate instead of halving
    # the writes in flight (streams/edfi/pacing.py); fixed: always maxInFlight
    concurrency: Literal["adaptive", "paced", "fixed"] = "adaptive"
    max_in_flight: int = Field(default=64, ge=1, le=512)
    initial_in_flight: int = Field(default=16, ge=1, le=512)
    min_in_flight: int = Field(default=4, ge=1, le=512)
    max_retries: int = Field(default=8, ge=0, le=100)
    backoff_base_seconds: float = Field(default=0.2, ge=0, le=3600)
    backoff_max_seconds: float = Field(default=30.0, gt=0, le=86400)
    park_horizon_seconds: float = Field(default=3600.0, gt=0, le=30 * 86400)
    park_retry_seconds: float = Field(default=30.0, gt=0, le=86400)
    token_refresh_margin_seconds: float = Field(default=120.0, ge=0, le=86400)
    # credentials refused (401) or every write forbidden (403): the egress pauses and one write retries
    # every authProbeSeconds (streams/edfi/auth_pause.py); a plain 403 is judged "every write" once this
    # many different records got one with no success in between
    auth_probe_seconds: float = Field(default=30.0, gt=0, le=3600)
    forbidden_pause_after: int = Field(default=5, ge=1, le=10000)
    # on stop, the writes in flight get this long to finish before the Ed-Fi client is closed
    drain_timeout_seconds: float = Field(default=10.0, ge=0, le=600)
    verify_tls: bool = True
    # CA bundle for the ODS's TLS certificate (a private CA); unset: the system's trust store
    ca_file: str | None = None
    # aiohttp: httpx's API over aiohttp's connection pool (about 3x the records/s, docs/performance.md);
    # httpx: httpx's own pool (httpcore)
    http_stack: Literal["aiohttp", "httpx"] = "aiohttp"

    @model_validator(mode="after")
    def _in_flight_range(self) -> EdfiSettings:
        if self.concurrency != "fixed" and self.min_in_flight > self.max_in_flight:
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
    topic_partitions: int = Field(default=4, ge=1, le=10000)
    topic_replication_factor: int = Field(default=1, ge=1, le=32)
    session_timeout_ms: int = Field(default=10000, ge=100, le=3_600_000)
    heartbeat_interval_ms: int = Field(default=2000, ge=10, le=3_600_000)
    # kafka: Apache Kafka, MSK, Confluent (no workaround is active); tansu: the embedded demo broker, whose
    # quirks (streams/kafka/tansu.py: oneRecordPerBatch, the fetch wait) are then switched on
    broker: Literal["kafka", "tansu"] = "kafka"
    # The embedded tansu broker reports a wrong high watermark for multi-record batches (see
    # docs/operations.md): against it every producer must write one record per batch. Only with broker: tansu.
    one_record_per_batch: bool = False
    # Longest a fetch may wait on tansu, which holds a fetch for the whole wait (Faust's own default is 1500 ms;
    # agents/fixups/fetch_wait.py). Apache Kafka answers a fetch as soon as records arrive: not applied there.
    fetch_max_wait_ms: int = Field(default=100, ge=1, le=10000)
    # Avro or JSON for what *we* produce (input topics accept both, detected per record).
    value_format: Literal["avro", "json"] = "avro"

    @model_validator(mode="after")
    def _tansu_only(self) -> KafkaSettings:
        if self.one_record_per_batch and self.broker != "tansu":
            raise ValueError("kafka.oneRecordPerBatch is a workaround for the embedded tansu broker only: "
                             "set kafka.broker: tansu, or leave oneRecordPerBatch off on a real Kafka")
        return self

    def sasl_credentials(self, environ: Mapping[str, str] | None = None) -> tuple[str | None, str | None]:
        env = os.environ if environ is None else environ
        return env.get(self.sasl_username_env), env.get(self.sasl_password_env)

    def confluent_config(self, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
        """librdkafka client settings (confluent-kafka) for these settings (streams/kafka/clients.py)."""
        from streams.kafka.clients import librdkafka_config

        return librdkafka_config(self, environ)


class WorkerSettings(_Model):
    app_id: str = "edfi-stream"
    web_host: str = "0.0.0.0"
    web_port: int = Field(default=6066, ge=1, le=65535)
    # once it starts stopping (SIGTERM), the worker is gone within this many seconds even when the broker
    # or the Ed-Fi API no longer answers (Kubernetes' default terminationGracePeriodSeconds is 30)
    shutdown_grace_seconds: float = Field(default=25.0, gt=0, le=3600)
    data_dir: str = "./.edfi-stream-data"
    store: str = "memory://"
    dead_letter_file: str | None = None
    # "beginning" or an ISO time: on its first assignment the worker rewinds its SIS partitions (replay)
    replay_from: str | None = None
    # students (and their sent records) kept decoded per partition: speed against memory (docs/performance.md)
    decoded_cache_size: int = Field(default=4096, ge=1)
    # the guard against Faust's start-up drop (agents/commit_repair.py, docs/operations.md "Commit repair"):
    # on by default; measured on Apache Kafka in docs/performance.md
    commit_repair: bool = True
    # how the other workers reach this one's web port (Faust's canonical URL: the console asks the worker
    # that holds a student); unset: http://{webHost}:{webPort}. The Helm chart sets http://$(POD_IP):port
    advertised_url: str | None = None
    # bytes of the original key and value a dead letter keeps (with their sizes and SHA-256 digests)
    dead_letter_max_bytes: int = Field(default=65536, ge=256, le=524288)
    # the largest value the worker writes to an internal topic or a table's changelog: below the broker's
    # message.max.bytes (1 MB by default); a student whose state would exceed it gets dead letters instead.
    # 128 KiB (about 1,100 scores): the join rewrites a student's whole value after each batch that touched
    # them, so a student at the limit costs limit-sized changelog writes (docs/egress.md)
    max_value_bytes: int = Field(default=131072, ge=16384, le=900000)
    # micro-batched hops (docs/performance.md "Micro-batched hops"): the join and the egress take
    # up to batchMaxEvents records at a time; a batch closes when full or batchMaxWaitMs after its hop began
    # waiting for it, whichever comes first (the bound on the latency a batch adds)
    batch_max_events: int = Field(default=500, ge=1, le=10000)
    batch_max_wait_ms: int = Field(default=10, ge=1, le=1000)

    @field_validator("replay_from", mode="before")
    @classmethod
    def _time_as_text(cls, value: Any) -> Any:
        """An environment value is read as YAML, which makes an ISO time a datetime: keep it as ISO text."""
        return value.isoformat() if isinstance(value, dt.date) else value


class WebSettings(_Model):
    """The worker's web port (docs/security.md): which Host names it answers, and the names of the
    environment variables holding the credentials of the two roles (viewer: read student data; operator:
    also retry, archive, toggle). Either a bearer token or a user and password per role; none set means
    every page with student data is refused."""

    # exact names, or ".example.org" for that domain and its subdomains; IP literals are always accepted
    allowed_hosts: list[str] = Field(default_factory=lambda: ["localhost"])
    viewer_token_env: str = "EDFI_STREAM_WEB_VIEWER_TOKEN"
    viewer_user_env: str = "EDFI_STREAM_WEB_VIEWER_USER"
    viewer_password_env: str = "EDFI_STREAM_WEB_VIEWER_PASSWORD"
    operator_token_env: str = "EDFI_STREAM_WEB_OPERATOR_TOKEN"
    operator_user_env: str = "EDFI_STREAM_WEB_OPERATOR_USER"
    operator_password_env: str = "EDFI_STREAM_WEB_OPERATOR_PASSWORD"
    # the district's time zone for the console's times (IANA name)
    time_zone: str = "America/Chicago"
    session_seconds: int = Field(default=8 * 3600, ge=60, le=7 * 24 * 3600)


class ResyncSettings(_Model):
    max_delete_share: float = Field(default=0.2, ge=0.0, le=1.0)
    page_size: int = Field(default=500, ge=1, le=500)


class TopicSettings(_Model):
    """``topics:``: the Kafka topic of each SIS table (contract section 1a); unset = the contract name."""

    students: str | None = None
    staff: str | None = None
    schools: str | None = None
    calendars: str | None = None
    enrollments: str | None = None
    tests: str | None = None
    test_scores: str | None = None


class SchemaRegistrySettings(_Model):
    """``schemaRegistry:``: a Confluent-compatible Schema Registry for Avro whose ids it assigns.

    Credentials come from the environment variables named here: basic auth (user and password) or a
    bearer token."""

    url: str | None = None
    username_env: str = "EDFI_STREAM_SCHEMA_REGISTRY_USERNAME"
    password_env: str = "EDFI_STREAM_SCHEMA_REGISTRY_PASSWORD"
    token_env: str = "EDFI_STREAM_SCHEMA_REGISTRY_TOKEN"
    ca_file: str | None = None
    verify_tls: bool = True
    timeout_seconds: float = Field(default=10.0, gt=0)


class SisSettings(_Model):
    """``sis:``: facts about the SIS database that its change events do not carry."""

    # the district's time zone: a zoned timestamp (io.debezium.time.ZonedTimestamp) is taken as the
    # calendar day it is in this zone
    time_zone: str = "America/Chicago"

    @model_validator(mode="after")
    def _known_zone(self) -> SisSettings:
        import zoneinfo

        try:
            zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"sis.timeZone {self.time_zone!r} is not a known time zone") from exc
        return self


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
    topics: TopicSettings = TopicSettings()
    schema_registry: SchemaRegistrySettings = SchemaRegistrySettings()
    sis: SisSettings = SisSettings()
    web: WebSettings = WebSettings()

    @model_validator(mode="after")
    def _topic_map_valid(self) -> Settings:
        self.topic_map()
        return self

    def topic_map(self) -> TopicMap:
        """The SIS table <-> Kafka topic map of ``topics:`` (streams/topics.py)."""
        return TopicMap.from_config(self.topics.model_dump(by_alias=True))


def _norm(name: str) -> str:
    return name.replace("_", "").replace("-", "").lower()


def _check_no_secrets(data: Any, model: type[BaseModel] | None = None, path: str = "") -> None:
    """Refuse a secret-looking key that is not a declared setting (declared ones never hold secrets);
    the maps of user names (assessmentKeys, periods, ...) are not keys of settings and are not checked."""
    if not isinstance(data, Mapping):
        return
    model = Settings if model is None and not path else model
    for key, value in data.items():
        found = _model_for(model, str(key)) if model is not None else None
        if found is None and secret_looking(str(key)):
            raise ConfigurationError(
                f"secret-looking key '{path}{key}' in the configuration: secrets come only from the "
                "environment variables the *Env settings name (its value is not shown)")
        if found is not None and found[1] is not None:
            _check_no_secrets(value, found[1], f"{path}{key}.")


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
                try:
                    target[alias] = load_yaml(raw) if raw != "" else None
                except yaml.YAMLError as exc:
                    raise ConfigurationError(f"environment variable {var} is not valid YAML: "
                                             f"{describe_yaml_error(exc)}") from None
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
            loaded = load_yaml(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigurationError(f"cannot read configuration file {path}: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise ConfigurationError(f"configuration file {path} is not UTF-8 text") from None
        except yaml.YAMLError as exc:
            raise ConfigurationError(f"configuration file {path} is not valid YAML: "
                                     f"{describe_yaml_error(exc)}") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigurationError(f"configuration file {path} must hold a mapping")
        data = loaded or {}
    _check_no_secrets(data)
    data = apply_environment(data, env)
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigurationError(
            f"invalid configuration: {describe_validation(exc, declared_paths(Settings))}") from None
