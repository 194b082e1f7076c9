"""streams/cli/failures.py: which failure is which line and exit code; a bug is left to its traceback."""

from __future__ import annotations

import urllib.error
from email.message import Message

from confluent_kafka import KafkaError, KafkaException

from streams.cli.failures import describe
from streams.edfi.errors import CredentialsRefused, EdfiError, EdfiRetryable
from streams.errors import ConfigurationError
from streams.resync.replay import ReplayRefused
from streams.resync.run import ResyncRefused


def test_each_expected_failure_is_one_line_with_its_code() -> None:
    assert describe(ConfigurationError("bad\nvalue")) == ("configuration error: bad value", 2)
    assert describe(ResyncRefused("too many deletes")) == ("refused: too many deletes", 3)
    assert describe(ReplayRefused("live workers")) == ("refused: live workers", 3)
    line, code = describe(KafkaException(KafkaError(KafkaError._TIMED_OUT))) or ("", 0)
    assert code == 4 and line.startswith("Kafka error:") and "kafka.saslMechanism" in line
    line, code = describe(CredentialsRefused(EdfiError(401, detail="token request refused"))) or ("", 0)
    assert code == 4 and "refused the credentials" in line
    assert (describe(EdfiRetryable("HTTP 503")) or ("", 0))[1] == 4
    line, code = describe(urllib.error.HTTPError("http://w/explain?personID=4", 401, "Unauthorized", Message(), None)
                          ) or ("", 0)
    assert code == 4 and "personID" not in line and "401" in line


def test_long_messages_are_cut_and_bugs_are_not_described() -> None:
    line, _ = describe(ConfigurationError("x" * 2000)) or ("", 0)
    assert len(line) < 450
    assert describe(ValueError("a bug")) is None
    assert describe(KeyError("a bug")) is None
