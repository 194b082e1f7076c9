"""The start-up check on a cluster with an authorizer (issue 15 part 8): a user without ACLs is told in plain
words that the broker's ACLs refuse it, naming the topic and the user, not that the topic is missing; a super
user sees no problem. Kafka's StandardAuthorizer on the SASL_SSL node; it always starts Apache Kafka."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from streams.broker.admin import ensure_topics
from streams.broker.apache import ApacheKafka
from streams.config import KafkaSettings
from streams.kafka.topics import topic_problems

PASSWORDS = {"edfi-admin": "admin-Pa55-never-shown", "edfi-reader": "reader-Pa55-never-shown"}
TOPIC = "sis.test_scores"


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApacheKafka]:
    broker = ApacheKafka(workdir=tmp_path_factory.mktemp("kafka-acl"), security="sasl_ssl",
                         super_users=("edfi-admin",))
    with broker:
        for user, password in PASSWORDS.items():
            broker.add_scram_user(user, password)  # edfi-reader gets no ACL at all
        ensure_topics(broker.internal_bootstrap, [TOPIC], 2)
        yield broker


def settings_as(node: ApacheKafka, user: str, monkeypatch: pytest.MonkeyPatch) -> KafkaSettings:
    assert node.ca is not None
    monkeypatch.setenv("EDFI_STREAM_KAFKA_SASL_USERNAME", user)
    monkeypatch.setenv("EDFI_STREAM_KAFKA_SASL_PASSWORD", PASSWORDS[user])
    return KafkaSettings(bootstrap_servers=node.bootstrap_servers, security_protocol="SASL_SSL",
                         sasl_mechanism="SCRAM-SHA-512", ssl_cafile=str(node.ca.cert))


def test_acl_refusal_is_said_in_plain_words(node: ApacheKafka, monkeypatch: pytest.MonkeyPatch) -> None:
    problems = topic_problems(settings_as(node, "edfi-reader", monkeypatch), [TOPIC])
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"topic {TOPIC}: the broker's ACLs do not let User:edfi-reader describe or read")
    assert "grant Describe and Read" in problems[0]
    assert all(password not in problems[0] for password in PASSWORDS.values())


def test_a_user_the_acls_allow_sees_no_problem(node: ApacheKafka, monkeypatch: pytest.MonkeyPatch) -> None:
    kafka = settings_as(node, "edfi-admin", monkeypatch)
    assert topic_problems(kafka, [TOPIC]) == []
    missing = topic_problems(kafka, ["sis.no_such_table"])  # a super user is told the truth: it is missing
    assert len(missing) == 1 and "does not exist" in missing[0], missing
