"""Every expected failure of a verb as one line on stderr and its exit code (never a traceback).

=====  ==========================================================================================
code   meaning
=====  ==========================================================================================
1      the verb ran and found a problem (rejected input lines, the demo differing from simulate)
2      configuration error (:class:`streams.errors.ConfigurationError`): fix the file or environment
3      refused on purpose (:class:`streams.errors.Refused`: resync safety, replay with live workers)
4      Kafka, the Ed-Fi API or a worker did not answer or refused our credentials (unreachable broker,
       wrong SASL mechanism or password, Ed-Fi credentials refused, ``explain --worker`` unreachable)
130    interrupted (Ctrl-C, SIGTERM, SIGHUP)
=====  ==========================================================================================

Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from streams.errors import ConfigurationError, Refused

EXIT_CONFIGURATION = 2
EXIT_REFUSED = 3
EXIT_UNAVAILABLE = 4
EXIT_INTERRUPTED = 130
MESSAGE_MAX = 400

_KAFKA_HINTS = {
    "_TRANSPORT": "the broker is unreachable or closed the connection: check kafka.bootstrapServers, "
                  "kafka.securityProtocol and kafka.saslMechanism",
    "_TIMED_OUT": "the broker did not answer in time: check kafka.bootstrapServers, kafka.securityProtocol "
                  "and kafka.saslMechanism",
    "_ALL_BROKERS_DOWN": "no broker answers: check kafka.bootstrapServers, kafka.securityProtocol and "
                         "kafka.saslMechanism",
    "_AUTHENTICATION": "the broker refused our authentication: check kafka.saslMechanism and the SASL "
                       "credentials",
    "SASL_AUTHENTICATION_FAILED": "the broker refused the SASL credentials",
    "UNSUPPORTED_SASL_MECHANISM": "the broker does not offer kafka.saslMechanism",
    "_SSL": "the TLS handshake failed: check kafka.sslCafile and kafka.securityProtocol",
}


def _one_line(text: str) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= MESSAGE_MAX else line[:MESSAGE_MAX] + "..."


def _kafka(exc: BaseException) -> str | None:
    """The message of a Kafka client failure (librdkafka or aiokafka), else None."""
    try:
        from confluent_kafka import KafkaError, KafkaException
    except ImportError:  # pragma: no cover - a dependency
        return None
    if isinstance(exc, KafkaException):
        error = exc.args[0] if exc.args else None
        if isinstance(error, KafkaError):
            name = error.name()
            hint = _KAFKA_HINTS.get(name, "")
            return f"{error.str()} ({name}){': ' + hint if hint else ''}"
        return str(exc)
    try:
        from aiokafka.errors import KafkaError as AIOKafkaError
    except ImportError:  # pragma: no cover - a dependency
        return None
    if isinstance(exc, AIOKafkaError):
        return f"{type(exc).__name__}: {exc}"
    return None


def describe(exc: BaseException) -> tuple[str, int] | None:
    """(one line, exit code) for an expected failure; None for a bug (which keeps its traceback)."""
    if isinstance(exc, ConfigurationError):
        return _one_line(f"configuration error: {exc}"), EXIT_CONFIGURATION
    if isinstance(exc, Refused):
        return _one_line(f"refused: {exc}"), EXIT_REFUSED
    kafka = _kafka(exc)
    if kafka is not None:
        return _one_line(f"Kafka error: {kafka}"), EXIT_UNAVAILABLE
    from streams.edfi.errors import AuthenticationError, EdfiRejected, EdfiRetryable

    if isinstance(exc, AuthenticationError):
        return _one_line(f"Ed-Fi API refused the credentials: {exc}"), EXIT_UNAVAILABLE
    if isinstance(exc, EdfiRetryable):
        return _one_line(f"Ed-Fi API unavailable: {exc}"), EXIT_UNAVAILABLE
    if isinstance(exc, EdfiRejected) and exc.status == 403:
        return _one_line(f"Ed-Fi API refused access: {exc}"), EXIT_UNAVAILABLE
    import urllib.error

    if isinstance(exc, urllib.error.HTTPError):  # explain --worker: the worker refused (the URL is not shown)
        return _one_line(f"the worker answered HTTP {exc.code}: {exc.reason}"), EXIT_UNAVAILABLE
    if isinstance(exc, urllib.error.URLError):  # explain --worker: the worker does not answer
        return _one_line(f"cannot reach the worker: {exc.reason}"), EXIT_UNAVAILABLE
    return None
