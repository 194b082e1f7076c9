"""The Kafka edge: one set of settings gives the same TLS and SASL to librdkafka, aiokafka and Faust, and tansu's
workarounds are active only with ``kafka.broker: tansu``."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from streams.broker.certs import make_ca
from streams.config import KafkaSettings, load_settings
from streams.errors import ConfigurationError
from streams.kafka import clients, tansu

ENV = {"EDFI_STREAM_KAFKA_SASL_USERNAME": "edfi", "EDFI_STREAM_KAFKA_SASL_PASSWORD": "pw-s3cret",
       "EDFI_STREAM_KAFKA_SSL_KEY_PASSWORD": "key-s3cret"}


@pytest.fixture(scope="module")
def client_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    ca = make_ca(tmp_path_factory.mktemp("tls"))
    issued = ca.issue("worker", password="key-s3cret")
    return ca.cert, issued.cert, issued.key


def test_mutual_tls_reaches_every_client(client_cert: tuple[Path, Path, Path]) -> None:
    ca, cert, key = client_cert
    kafka = KafkaSettings(bootstrap_servers="b:9093", security_protocol="SSL", ssl_cafile=str(ca),
                          ssl_certfile=str(cert), ssl_keyfile=str(key))
    cfg = clients.librdkafka_config(kafka, ENV)
    assert cfg["ssl.ca.location"] == str(ca) and cfg["ssl.certificate.location"] == str(cert)
    assert cfg["ssl.key.location"] == str(key) and cfg["ssl.key.password"] == "key-s3cret"
    assert kafka.confluent_config(ENV) == cfg  # the settings' method is the same builder
    kwargs = clients.aiokafka_kwargs(kafka, ENV)
    assert kwargs["security_protocol"] == "SSL" and isinstance(kwargs["ssl_context"], ssl.SSLContext)
    assert kwargs["ssl_context"].verify_mode == ssl.CERT_REQUIRED
    creds = clients.faust_credentials(kafka, ENV)
    assert type(creds).__name__ == "SSLCredentials"


def test_a_wrong_key_password_fails_when_the_context_is_built(client_cert: tuple[Path, Path, Path]) -> None:
    ca, cert, key = client_cert
    kafka = KafkaSettings(security_protocol="SSL", ssl_cafile=str(ca), ssl_certfile=str(cert), ssl_keyfile=str(key))
    with pytest.raises(ssl.SSLError):
        clients.ssl_context(kafka, {**ENV, "EDFI_STREAM_KAFKA_SSL_KEY_PASSWORD": "wrong"})


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_sasl_over_tls_everywhere(mechanism: str, client_cert: tuple[Path, Path, Path]) -> None:
    kafka = KafkaSettings(security_protocol="SASL_SSL", sasl_mechanism=mechanism,  # type: ignore[arg-type]
                          ssl_cafile=str(client_cert[0]))
    cfg = clients.librdkafka_config(kafka, ENV)
    assert (cfg["sasl.mechanism"], cfg["sasl.username"], cfg["sasl.password"]) == (mechanism, "edfi", "pw-s3cret")
    kwargs = clients.aiokafka_kwargs(kafka, ENV)
    assert (kwargs["sasl_mechanism"], kwargs["sasl_plain_username"]) == (mechanism, "edfi")
    assert isinstance(kwargs["ssl_context"], ssl.SSLContext)
    creds = clients.faust_credentials(kafka, ENV)
    assert creds.mechanism.value == mechanism and creds.protocol.value == "SASL_SSL"


def test_plaintext_has_no_security_settings() -> None:
    kafka = KafkaSettings(bootstrap_servers="b:9092")
    assert clients.aiokafka_kwargs(kafka, {}) == {"bootstrap_servers": "b:9092", "client_id": "edfi-stream",
                                                  "security_protocol": "PLAINTEXT"}
    assert clients.faust_credentials(kafka, {}) is None
    assert not any(k.startswith(("ssl.", "sasl.")) for k in clients.librdkafka_config(kafka, {}))


def test_tansu_workarounds_only_with_broker_tansu() -> None:
    real = KafkaSettings()
    assert real.broker == "kafka"
    assert tansu.librdkafka_producer_overrides(real) == {} and tansu.faust_app_overrides(real) == {}
    assert tansu.fetch_max_wait_ms(real) is None
    embedded = KafkaSettings(broker="tansu", one_record_per_batch=True, fetch_max_wait_ms=20)
    assert tansu.librdkafka_producer_overrides(embedded) == {"batch.num.messages": 1}
    assert tansu.faust_app_overrides(embedded) == {"producer_max_batch_size": 1}
    assert tansu.fetch_max_wait_ms(embedded) == 20


def test_one_record_per_batch_on_a_real_kafka_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"kafka\.broker: tansu"):
        load_settings(None, environ={"EDFI_STREAM_KAFKA__ONE_RECORD_PER_BATCH": "true"})
