"""The records waiting in the stream buffers: delivered by Faust's fetch loop, not taken by a stream yet.

Symptom: a message in a stream's buffer is neither acknowledged nor in the consumer's unacknowledged set,
so without looking into the buffers the commit repair would take records that are merely waiting for a
hole (and read them again); Faust has no public API for what a buffer holds. A stream's buffer is the
queue of the channel the conductor delivers to; Faust creates it lazily (``Channel.queue`` would create
one, so the attribute is read instead).

Faust: ``faust.transport.conductor.Conductor._topic_name_index`` (topic name -> channels), the channel's
``Channel._queue`` (a ``ThrowableQueue``, None until first used) and that queue's ``asyncio.Queue._queue``
(the deque of events, read without taking them).

Seen with: faust-streaming 0.15.3, aiokafka 0.14.0, CPython 3.11 (asyncio.Queue).

Remove when: :mod:`agents.fixups.commit_holes` goes (the commit repair is the only reader).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def topic_channels(conductor: Any) -> dict[str, list[Any]]:
    """Each subscribed topic name and the channels its records are delivered to (a copy)."""
    return {topic: list(channels) for topic, channels in list(conductor._topic_name_index.items())}


def channel_queue(channel: Any) -> Any | None:
    """The buffer of a channel, None if Faust has not created it yet (never creates one)."""
    return channel._queue


def queued_items(queue: Any) -> list[Any]:
    """What an asyncio queue holds, oldest first, without taking it."""
    return list(queue._queue)


def channel_queues(channels: Iterable[Any]) -> list[Any]:
    """The buffers that exist among ``channels``."""
    return [queue for channel in list(channels) if (queue := channel_queue(channel)) is not None]
