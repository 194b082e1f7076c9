"""The contract between agents/fixups and the installed Faust and aiokafka: real objects, no fakes.

The worker's own App (agents.app.create_app) with its tables, an agent's stream registered with the
conductor, a record delivered into that stream's buffer, Faust's consumer acknowledging it, Faust's
producer: every function of agents/fixups is called on them. A Faust or aiokafka release that renames or
drops a name the fixes read fails here (AttributeError), instead of passing CI while the worker stops
committing. No broker: what needs a started client is checked up to Faust's own "not started" answer,
which comes after the names are read.

A few names are read by this test only, to build or observe what the product cannot reach without a
broker (``Conductor._update_indices``, ``AIOKafkaConsumerThread._create_consumer``,
``AIOKafkaConsumer._fetch_max_wait_ms``): if one of them goes, this test needs a new way in, not the
product a new fix.
"""

from __future__ import annotations

import ast
import asyncio
import importlib
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from faust.exceptions import ConsumerNotStarted, NotReady
from faust.streams import current_event
from faust.transport.consumer import Consumer as FaustConsumer
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP, Message

from agents import commit_repair
from agents.app import FaustParts, create_app
from agents.fixups import (
    FIXES,
    changelog_metadata,
    commit_holes,
    fetch_wait,
    gap_check,
    group_offsets,
    head_gap,
    seek_start,
    stream_buffers,
    topic_metadata,
)
from agents.fixups.current_event import as_current_event
from agents.topics import INPUT_TOPICS, WRITE_COMMANDS
from streams.config import load_settings

ROOT = Path(__file__).resolve().parents[3]
TOPIC = INPUT_TOPICS[0]


@pytest.fixture
async def parts(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FaustParts]:
    # create_app installs the fetch-wait fix (a module swap) and the gap check (with a reader of the settings'
    # broker): undone after the test
    monkeypatch.setattr(faust_aiokafka, "aiokafka", faust_aiokafka.aiokafka)
    monkeypatch.setattr(FaustConsumer, "_add_gap", FaustConsumer._add_gap)
    monkeypatch.setattr(gap_check, "_reader", gap_check._reader)
    built = create_app(load_settings(None, environ={}))
    yield built
    built.app.consumer.close()
    built.app.consumer._thread.thread_loop.close()  # type: ignore[attr-defined]  # test only: the loop of a consumer thread never started


async def _stream_channel(parts: FaustParts) -> Any:
    """The channel the conductor delivers the SIS topics to, once a stream iterates them (the ingest's
    topics: an internal topic would be declared on the broker here)."""
    stream = parts.app.stream(parts.inputs)
    stream.__aiter__()
    await parts.app.topics._update_indices()  # type: ignore[attr-defined]  # test only: what the conductor does once agents have started
    (channel,) = stream_buffers.topic_channels(parts.app.topics)[TOPIC]
    return channel


def _message(partition: int, offset: int) -> Message:
    return Message(TOPIC, partition, offset, time.time(), 0, [], b"key", b"value", None)


async def test_the_consumer_s_acknowledgement_bookkeeping_is_read_off_faust_s_own_consumer(
        parts: FaustParts) -> None:
    await _stream_channel(parts)  # registers the topic as one whose messages are acknowledged
    consumer, tp = parts.app.consumer, TP(TOPIC, 2)
    message = _message(2, 7)
    assert commit_holes.committed_offset(consumer, tp) is None
    assert commit_holes.read_offset(consumer, tp) is None
    assert commit_holes.offsets_read(consumer, [tp]) == [None]
    assert commit_holes.commit_in_progress(consumer) is False
    consumer.track_message(message)  # what the conductor does before delivering to a stream
    assert commit_holes.unacked_messages(consumer) == [message]
    assert consumer.ack(message)
    assert commit_holes.acked_offsets(consumer, tp) == [7]
    assert commit_holes.unacked_messages(consumer) == []
    group_offsets.forget_committed(consumer, tp)
    assert commit_holes.committed_offset(consumer, tp) is None


async def test_a_record_in_a_stream_s_buffer_is_seen_without_being_taken(parts: FaustParts) -> None:
    channel = await _stream_channel(parts)
    parts.app.flow_control.resume()  # a worker resumes flow once its partitions are assigned
    assert not commit_repair.queued_anywhere(parts.app.topics)("any")
    message = _message(1, 3)
    await channel.deliver(message)
    queue = stream_buffers.channel_queue(channel)
    assert queue is not None and queue.qsize() == 1
    assert [event.message for event in stream_buffers.queued_items(queue)] == [message]
    # one channel reads the seven SIS topics, so the index lists it (and the message) under each of them
    buffered = commit_repair.buffered_messages(parts.app.topics)
    assert buffered and all(m is message for m in buffered)
    assert commit_repair.queued_topics(parts.app.topics)(TOPIC)
    assert commit_repair.queued_anywhere(parts.app.topics)(WRITE_COMMANDS)
    assert queue.qsize() == 1, "only looked at"


async def test_a_fresh_channel_has_no_buffer_and_reading_it_creates_none(parts: FaustParts) -> None:
    channel = parts.app.channel()
    assert stream_buffers.channel_queue(channel) is None
    assert stream_buffers.channel_queues([channel]) == []
    assert stream_buffers.channel_queue(channel) is None


async def test_a_table_takes_its_changelog_partition_from_the_event_made_current(parts: FaustParts) -> None:
    channel = await _stream_channel(parts)
    event = await channel.decode(_message(3, 11))
    with pytest.raises(TypeError):  # Faust still needs a current event for it (else no fix is needed)
        parts.students.partition_for_key(b"42")
    with as_current_event(event):
        assert current_event() is event
        assert parts.students.partition_for_key(b"42") == 3
    assert current_event() is None


async def test_the_changelog_topic_is_tracked_by_faust_s_producer_client(parts: FaustParts) -> None:
    with pytest.raises(NotReady):  # the name is there; the client exists once the producer started
        changelog_metadata.producer_client(parts.app.producer)
    with pytest.raises(NotReady):
        await changelog_metadata.track_topic(parts.app.producer, "edfi-stream-identity-changelog")
    import aiokafka

    producer = aiokafka.AIOKafkaProducer(bootstrap_servers="127.0.0.1:9")  # what Faust's producer starts
    try:
        assert callable(producer.client.add_topic)
    finally:
        await producer.stop()


async def test_faust_builds_its_consumer_with_the_fetch_wait_of_the_settings(parts: FaustParts) -> None:
    fetch_wait.set_fetch_max_wait_ms(37)
    assert fetch_wait.driver_module() is faust_aiokafka.aiokafka
    built = parts.app.consumer._thread._create_consumer(  # type: ignore[attr-defined]  # test only
        loop=asyncio.get_running_loop())
    try:
        assert built._fetch_max_wait_ms == 37  # test only: Faust alone passes 1500
        await asyncio.wait_for(topic_metadata.refresh(built), 0.2)  # a stopped client never answers
    except TimeoutError:
        pass
    finally:
        await built.stop()


async def test_the_replay_s_group_offsets_reach_faust_s_consumer_thread(parts: FaustParts) -> None:
    consumer, tp = parts.app.consumer, TP("sis.tests", 0)
    with pytest.raises(ConsumerNotStarted):  # Faust's answer, after the thread and its client were looked up
        await group_offsets.offsets_for_times(consumer, {tp: 0})
    with pytest.raises(TimeoutError):  # handed to the consumer thread, which is not running here
        await asyncio.wait_for(group_offsets.commit(consumer, {tp: 0}), 0.2)


async def test_the_seek_to_the_log_start_reads_faust_s_committed_offsets_and_acknowledged_topics(
        parts: FaustParts) -> None:
    await _stream_channel(parts)  # the SIS topics become ones whose messages are acknowledged
    consumer: Any = parts.app.consumer  # Faust's Consumer: the private names are what the fix reads
    assert seek_start.installed()  # create_app installs it
    assert consumer.app.topics.acks_enabled_for(TOPIC) and consumer._committed_offset.get(TP(TOPIC, 0)) is None
    with pytest.raises(ConsumerNotStarted):  # the acknowledged topics and committed offsets were read first
        seek_start.never_committed(consumer)
    with pytest.raises(ConsumerNotStarted):  # Faust's perform_seek reached the (unstarted) aiokafka client
        await asyncio.wait_for(consumer.perform_seek(), 5)


async def test_the_head_gap_hold_reads_faust_s_own_commit_bookkeeping(parts: FaustParts) -> None:
    consumer: Any = parts.app.consumer  # Faust's Consumer: the private names are what the fix reads
    tp = TP(TOPIC, 1)
    assert not head_gap.waits_at_head(consumer, tp)  # nothing committed, nothing acknowledged
    consumer._committed_offset[tp] = 20  # test only: as after a commit
    consumer._acked[tp].extend([21, 22])  # offset 20 skipped
    assert head_gap.waits_at_head(consumer, tp)
    head_gap.install()
    assert head_gap.installed() and consumer._new_offset(tp) is None  # Faust's own method, with the fix
    head_gap.mark_absent(consumer, tp, 20)
    assert not head_gap.waits_at_head(consumer, tp) and consumer._new_offset(tp) == 23


async def test_the_gap_check_reads_faust_s_committed_offset_and_records_through_faust_s_own_add_gap(
        parts: FaustParts, monkeypatch: pytest.MonkeyPatch) -> None:
    consumer: Any = parts.app.consumer
    assert gap_check.installed()  # create_app installs it
    tp = TP(TOPIC, 1)
    consumer._committed_offset[tp] = 20  # test only: as after a commit
    monkeypatch.setattr(gap_check, "_reader", lambda topic, partition, first, last: {22, 23, 30})
    await consumer._add_gap(tp, 20, 30)  # Faust's fetch loop: read offset 19, message 30 in hand
    assert sorted((i.begin, i.end) for i in consumer._gap[tp]) == [(21, 22), (24, 30)]


def test_every_fix_opens_with_its_symptom_faust_function_versions_and_removal_proof() -> None:
    for name in FIXES:
        doc = importlib.import_module(f"agents.fixups.{name}").__doc__ or ""
        places = [doc.find(heading) for heading in ("Symptom:", "Faust:", "Seen with:", "Remove when:")]
        assert -1 not in places and places == sorted(places), name
        assert re.search(r"faust-streaming \d+\.\d+|aiokafka \d+\.\d+", doc), name


def _private_reads(path: Path) -> set[str]:
    """The private names a module's code reads off objects other than ``self``/``cls``, or imports."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            if not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                found.add(node.attr)
        elif isinstance(node, ast.ImportFrom):
            found.update(alias.name for alias in node.names if alias.name.startswith("_"))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr":
            found.update(str(arg.value) for arg in node.args[1:2]
                         if isinstance(arg, ast.Constant) and str(arg.value).startswith("_"))
    return found


def test_no_module_outside_the_fixups_reads_a_private_name_the_fixups_read() -> None:
    fixups = ROOT / "agents" / "fixups"
    read = set().union(*(_private_reads(p) for p in fixups.glob("*.py")))
    assert {"_committed_offset", "_topic_name_index", "_current_event", "_ensure_producer"} <= read
    offenders = {}
    for path in [*ROOT.glob("agents/**/*.py"), *ROOT.glob("streams/**/*.py")]:
        if fixups not in path.parents and (names := _private_reads(path) & read):
            offenders[str(path.relative_to(ROOT))] = names
    assert offenders == {}
    # and nothing outside reads any private name of a Faust, mode or aiokafka object through getattr
    # with a default, or swaps a module of theirs
    for path in [*ROOT.glob("agents/**/*.py"), *ROOT.glob("streams/**/*.py")]:
        if fixups not in path.parents:
            text = path.read_text()
            assert not re.search(r"getattr\([^)]*[\"']_[a-z]", text), path
            assert not re.search(r"^\s*(faust|mode|aiokafka)\w*\.\w+ = ", text, re.M), path
