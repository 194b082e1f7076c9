"""Every topic the worker reads or writes is created in one place (streams/kafka/topics.py: worker_topics and
ensure_worker_topics), as the real Faust app declares it; the start-up check asks the cluster once and reads the
configured SIS topic names (``topics:``), not the contract's."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from streams.config import Settings, load_settings
from streams.kafka import topics as kafka_topics
from streams.kafka.topics import TopicSpec, worker_topics

SCORES = "campus.dbo.TestScore"


def _settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    monkeypatch.setenv("EDFI_CLIENT_ID", "id")  # the worker reads the Ed-Fi credentials when it is built
    monkeypatch.setenv("EDFI_CLIENT_SECRET", "secret")
    return load_settings(environ={"EDFI_STREAM_WORKER__DATA_DIR": str(tmp_path), **env})


def _declared(settings: Settings, monkeypatch: pytest.MonkeyPatch, input_partitions: dict[str, int]) -> dict[
        str, tuple[int, bool]]:
    """Name -> (partitions, compacted) of every topic the real Faust app of the worker declares itself: its
    tables' changelogs and its internal topics (the SIS inputs and edfi.control come from outside)."""
    from agents.worker import Worker

    monkeypatch.setattr(Worker, "_partitions_of", lambda self, topic: input_partitions.get(topic))
    worker = Worker(settings)
    parts = worker.parts
    out = {}
    for table in worker.app.tables.values():
        topic = table.changelog_topic
        out[topic.get_topic_name()] = (topic.partitions, bool(topic.compacting))
    for topic in (parts.student_events, parts.write_commands, parts.dead_letters):
        (name,) = topic.topics
        out[name] = (topic.partitions, bool(topic.compacting))
    return out


def _specs(specs: list[TopicSpec]) -> dict[str, tuple[int, bool]]:
    return {s.name: (s.partitions, s.config.get("cleanup.policy") == "compact") for s in specs}


def test_the_specs_are_what_the_faust_app_declares(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(tmp_path, monkeypatch, EDFI_STREAM_KAFKA__TOPIC_PARTITIONS="3")
    declared = _declared(settings, monkeypatch, {})
    specs = _specs(worker_topics(settings.kafka, settings.worker.app_id, settings.topic_map(), {}))
    assert {name: specs.get(name) for name in declared} == declared  # nothing Faust declares is left out
    assert len(declared) == 9, declared  # 6 changelogs, 3 internal topics
    assert set(specs) - set(declared) == {"edfi.control", "edfi-stream-__assignor-__leader"}
    assert specs["edfi.control"] == (1, True)
    assert specs["edfi-stream-__assignor-__leader"] == (1, False)


def test_an_owner_changelog_has_the_partitions_of_its_configured_sis_topic(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(tmp_path, monkeypatch, EDFI_STREAM_TOPICS__TEST_SCORES=SCORES)
    declared = _declared(settings, monkeypatch, {SCORES: 8})
    meta = {SCORES: SimpleNamespace(partitions=dict.fromkeys(range(8)))}
    specs = _specs(worker_topics(settings.kafka, settings.worker.app_id, settings.topic_map(), meta))
    assert declared["edfi-stream-owners-test_scores-changelog"] == (8, True)
    assert specs["edfi-stream-owners-test_scores-changelog"] == (8, True)
    assert specs["edfi-stream-owners-enrollments-changelog"] == (4, True)
    assert {name: specs.get(name) for name in declared} == declared


def test_start_up_asks_the_cluster_once_and_checks_the_configured_names(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from streams.kafka import doctor

    settings = _settings(tmp_path, monkeypatch, EDFI_STREAM_TOPICS__TEST_SCORES=SCORES)
    full = {t: SimpleNamespace(error=None, partitions=dict.fromkeys(range(4))) for t in settings.topic_map().inputs}
    meta = {**{t: m for t, m in full.items() if t != SCORES}, "sis.test_scores": full[SCORES],
            "edfi-stream-identity-changelog": SimpleNamespace(error=None, partitions={0: None})}
    calls: list[Any] = []
    created: list[list[TopicSpec]] = []

    def check_connection(kafka: Any) -> dict[str, Any]:
        calls.append(kafka)
        return meta

    monkeypatch.setattr(doctor, "check_connection", check_connection)
    monkeypatch.setattr(kafka_topics, "_topics_by_name", lambda kafka, names: {})
    monkeypatch.setattr(kafka_topics, "ensure_worker_topics", lambda kafka, specs: created.append(list(specs)))
    problems = kafka_topics.prepare_worker_topics(settings.kafka, settings.worker.app_id, settings.topic_map())
    assert len(calls) == 1
    assert problems[0].startswith(f"topic {SCORES} does not exist")  # the configured name, not sis.test_scores
    assert problems[1].startswith("topic edfi-stream-identity-changelog has 1 partitions but "
                                  "kafka.topicPartitions is 4")
    assert len(problems) == 2, problems
    assert [s.name for s in created[0]] == [s.name for s in worker_topics(
        settings.kafka, settings.worker.app_id, settings.topic_map(), meta)]
