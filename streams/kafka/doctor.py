"""Start-up checks against the cluster, in plain words: can we connect, authenticate, find our topics?

:func:`check_connection` is called by every verb that talks to Kafka before it does anything else: a refused
password or certificate becomes one clear error (librdkafka otherwise reports only "Broker transport failure"
after its timeout and keeps retrying in the background). Never a secret in a message.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient

from streams.config import KafkaSettings
from streams.kafka.clients import admin_config

log = logging.getLogger(__name__)
_REFUSALS = (KafkaError._AUTHENTICATION, KafkaError._SSL, KafkaError.SASL_AUTHENTICATION_FAILED)


def _client_cert_refused(error: KafkaError) -> bool:
    """The broker's TLS alert for a client certificate it does not trust (mutual TLS)."""
    text = error.str().lower()
    return error.code() == KafkaError._TRANSPORT and any(
        alert in text for alert in ("alert bad certificate", "alert unknown ca", "alert certificate unknown",
                                    "alert certificate required", "alert handshake failure"))


def _plain(error: KafkaError, kafka: KafkaSettings) -> str:
    text = re.sub(r"\s*\(after \d+ms in state \w+\)", "", error.str())
    if _client_cert_refused(error):
        return (f"the broker refused our client certificate ({text}): kafka.sslCertfile must be signed by a CA "
                "the broker trusts (mutual TLS)")
    if error.code() == KafkaError._SSL:
        return (f"TLS with the broker failed ({text}): check kafka.sslCafile (the CA that signed the broker's "
                "certificate) and, for mutual TLS, kafka.sslCertfile / kafka.sslKeyfile (a certificate the "
                f"broker's CA signed) and {kafka.ssl_key_password_env}")
    return (f"the broker refused the credentials ({text}): check kafka.saslMechanism "
            f"({kafka.sasl_mechanism}), {kafka.sasl_username_env} and {kafka.sasl_password_env}")


def check_connection(kafka: KafkaSettings, timeout: float = 20.0) -> dict[str, Any]:
    """One metadata request; raises KafkaException (code _AUTHENTICATION or _SSL, a plain message) when the
    broker refuses our credentials or certificate. Returns the topics' metadata."""
    refused: list[KafkaError] = []

    def on_error(error: KafkaError) -> None:
        if error.code() in _REFUSALS or _client_cert_refused(error):
            refused.append(error)

    config: dict[str, Any] = {**admin_config(kafka), "error_cb": on_error}
    admin = AdminClient(config)
    try:
        topics: dict[str, Any] = admin.list_topics(timeout=timeout).topics
    except KafkaException as exc:
        admin.poll(0.5)  # error callbacks are served by poll: collect what the broker answered
        if refused:
            code = KafkaError._SSL if _client_cert_refused(refused[0]) else refused[0].code()
            raise KafkaException(KafkaError(code, _plain(refused[0], kafka))) from exc
        raise
    return topics


def wait_for_broker(kafka: KafkaSettings, probe_seconds: float = 10.0, sleep: Any = None) -> int:
    """Until the cluster answers a metadata request (Faust gives up at once when it cannot bootstrap, so the
    worker waits here first): a line every probe while it does not answer; refused credentials or a refused
    certificate raise at once (waiting would not help). Returns the probes that failed."""
    import time

    sleep = sleep or time.sleep
    failed = 0
    while True:
        try:
            check_connection(kafka, probe_seconds)
            if failed:
                log.info("the Kafka broker at %s answers now", kafka.bootstrap_servers)
            return failed
        except KafkaException as exc:
            error = exc.args[0] if exc.args else None
            if isinstance(error, KafkaError) and error.code() in (KafkaError._AUTHENTICATION, KafkaError._SSL):
                raise
            failed += 1
            log.warning("the Kafka broker at %s does not answer (%s): waiting for it", kafka.bootstrap_servers,
                        error.str() if isinstance(error, KafkaError) else exc)
            sleep(1.0)
