"""The group offsets the replay rewinds (``worker.replayFrom``, agents/worker.py).

Symptom: the replay commits the rewound offsets as a group member, right before Faust seeks its streams
to the committed offsets (the one way that works on every broker, tansu included, which refuses offset
changes from outside the group). Faust has no public API to commit an arbitrary offset, forgets nothing
of what it committed (it only commits offsets above the last one it committed), and has no
``offsets_for_times``.

Faust: ``faust.transport.consumer.ThreadDelegateConsumer._commit`` (commit through the consumer thread),
``Consumer._committed_offset``, ``ThreadDelegateConsumer._thread`` and
``faust.transport.drivers.aiokafka.AIOKafkaConsumerThread._ensure_consumer`` (the aiokafka consumer, whose
``offsets_for_times`` must run on the consumer thread's loop: ``call_thread``).

Seen with: faust-streaming 0.15.3, aiokafka 0.14.0. (The replay by timestamp read
``consumer._consumer``, an attribute Faust's consumer does not have: the contract test found it.)

Remove when: Faust's consumer offers ``commit(offsets)`` that may move an offset back, and
``offsets_for_times``; the proof is tests/integration/test_replay.py with those in place of this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


async def offsets_for_times(consumer: Any, timestamps: Mapping[Any, int]) -> Mapping[Any, Any]:
    """aiokafka's ``offsets_for_times`` for Faust's consumer, on the consumer's thread."""
    thread = consumer._thread
    client = thread._ensure_consumer()
    found: Mapping[Any, Any] = await thread.call_thread(client.offsets_for_times, dict(timestamps))
    return found


async def commit(consumer: Any, offsets: Mapping[Any, int]) -> bool:
    """Commit ``offsets`` for the group as they are (lower than the committed ones included)."""
    done: bool = await consumer._commit(offsets)
    return done


def forget_committed(consumer: Any, tp: Any) -> None:
    """Make Faust forget its last commit of ``tp``, so it commits again from a lower offset."""
    consumer._committed_offset[tp] = None
