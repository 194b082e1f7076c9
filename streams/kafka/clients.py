"""Kafka client configurations, built once from :class:`streams.config.KafkaSettings`, for every client we run.

Three client libraries talk to the cluster; all three get their settings from here, so TLS (a CA, a client
certificate and its key password) and SASL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) mean the same everywhere:

* :func:`librdkafka_config`: confluent-kafka producers, consumers and admin clients (``produce``, ``resync``,
  ``replay``, ``errors``, ``toggle``, lag and offsets); :func:`admin_config` is its quiet form for probes;
* :func:`aiokafka_kwargs`: the worker's own aiokafka clients (the control follower);
* :func:`faust_credentials`: the ``broker_credentials`` of the Faust app (Faust builds aiokafka clients);
* :func:`make_producer`: the one confluent-kafka producer factory.

Secrets (SASL password, key password) come from the environment variables the settings name, never from
the file, and are never logged.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from typing import Any

from confluent_kafka import Producer

from streams.config import KafkaSettings
from streams.kafka import tansu


def _env(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if environ is None else environ


def uses_tls(kafka: KafkaSettings) -> bool:
    return kafka.security_protocol in ("SSL", "SASL_SSL")


def uses_sasl(kafka: KafkaSettings) -> bool:
    return kafka.security_protocol.startswith("SASL")


def key_password(kafka: KafkaSettings, environ: Mapping[str, str] | None = None) -> str | None:
    return _env(environ).get(kafka.ssl_key_password_env) or None


def librdkafka_config(kafka: KafkaSettings, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """librdkafka (confluent-kafka) client settings: bootstrap, client id, TLS and SASL."""
    cfg: dict[str, Any] = {
        "bootstrap.servers": kafka.bootstrap_servers,
        "security.protocol": kafka.security_protocol,
        "client.id": kafka.client_id,
    }
    if uses_sasl(kafka):
        user, password = kafka.sasl_credentials(environ)
        cfg.update({"sasl.mechanism": kafka.sasl_mechanism or "PLAIN", "sasl.username": user or "",
                    "sasl.password": password or ""})
    if kafka.ssl_cafile:
        cfg["ssl.ca.location"] = kafka.ssl_cafile
    if kafka.ssl_certfile:
        cfg["ssl.certificate.location"] = kafka.ssl_certfile
    if kafka.ssl_keyfile:
        cfg["ssl.key.location"] = kafka.ssl_keyfile
        if password := key_password(kafka, environ):
            cfg["ssl.key.password"] = password
    return cfg


def admin_config(kafka: KafkaSettings, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """:func:`librdkafka_config` for short-lived admin and probe clients (no librdkafka housekeeping lines)."""
    return {**librdkafka_config(kafka, environ), "log_level": 0}


def ssl_context(kafka: KafkaSettings, environ: Mapping[str, str] | None = None) -> ssl.SSLContext | None:
    """The TLS context of the aiokafka clients: the CA (else the system's), the client certificate and key."""
    if not uses_tls(kafka):
        return None
    context = ssl.create_default_context(cafile=kafka.ssl_cafile)
    if kafka.ssl_certfile:
        context.load_cert_chain(kafka.ssl_certfile, kafka.ssl_keyfile, key_password(kafka, environ))
    return context


def aiokafka_kwargs(kafka: KafkaSettings, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Keyword arguments of an aiokafka client: bootstrap, client id, security protocol, TLS context, SASL."""
    kwargs: dict[str, Any] = {"bootstrap_servers": kafka.bootstrap_servers, "client_id": kafka.client_id,
                              "security_protocol": kafka.security_protocol}
    context = ssl_context(kafka, environ)
    if context is not None:
        kwargs["ssl_context"] = context
    if uses_sasl(kafka):
        user, password = kafka.sasl_credentials(environ)
        kwargs.update(sasl_mechanism=kafka.sasl_mechanism or "PLAIN", sasl_plain_username=user,
                      sasl_plain_password=password)
    return kwargs


def faust_credentials(kafka: KafkaSettings, environ: Mapping[str, str] | None = None) -> Any:
    """``broker_credentials`` for faust.App (None for PLAINTEXT)."""
    import faust

    context = ssl_context(kafka, environ)
    if uses_sasl(kafka):
        user, password = kafka.sasl_credentials(environ)
        return faust.SASLCredentials(username=user, password=password, ssl_context=context,
                                     mechanism=kafka.sasl_mechanism or "PLAIN")
    if context is not None:
        return faust.SSLCredentials(context)
    return None


def make_producer(kafka: KafkaSettings, **overrides: Any) -> Producer:
    """The confluent-kafka producer of every command: acks from all replicas, the Java client's partitioner (a
    key lands in the partition Faust/aiokafka would choose: resync, ``errors`` and tombstones write to the
    worker's own keyed topics), tansu's one-record batches only with ``kafka.broker: tansu``."""
    cfg = librdkafka_config(kafka)
    cfg.update({"linger.ms": 5, "enable.idempotence": False, "acks": "all", "partitioner": "murmur2_random"})
    cfg.update(tansu.librdkafka_producer_overrides(kafka))
    cfg.update(overrides)
    return Producer(cfg)
