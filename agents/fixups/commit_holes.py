"""The Faust consumer's acknowledgement bookkeeping, for the commit repair (:mod:`agents.commit_repair`).

Symptom: Faust stops committing a partition for good when messages are skipped without being
acknowledged: at start-up, messages fetched while its flow is suspended (table recovery) are dropped by
the fetch loop, yet their offsets count as read. The worker then processes every later event and commits
none of them; lag never falls and every restart reads the partition again. Faust has no public API for
what the repair must see (committed, read and acknowledged offsets; messages in flight; a commit under
way), so it reads the consumer's own attributes.

Faust: ``faust.transport.consumer.Consumer._drain_messages`` (the drop), ``Consumer._new_offset`` (commits
only up to the first gap of two or more offsets), and the attributes ``Consumer._committed_offset``,
``_read_offset``, ``_acked``, ``_unacked_messages`` and ``_commit_fut`` (set while ``Consumer.commit``
runs).

Seen with: faust-streaming 0.15.3, aiokafka 0.14.0 (the SIGKILL fault test, tests/faults/test_worker_kills.py,
and the 100,000-student run of docs/performance.md).

Remove when: with the commit repair turned off, the SIGKILL fault test ends with the consumer lag of every
input partition at zero and no offset read twice on the second restart; then delete this module,
:mod:`agents.fixups.stream_buffers` and :mod:`agents.commit_repair`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def committed_offset(consumer: Any, tp: Any) -> int | None:
    """The offset Faust last committed for ``tp`` (the next one to read), None if it never did."""
    offset: int | None = consumer._committed_offset.get(tp)
    return offset


def read_offset(consumer: Any, tp: Any) -> int | None:
    """The last offset of ``tp`` the fetch loop read (delivered or dropped), None if none yet."""
    offset: int | None = consumer._read_offset.get(tp)
    return offset


def acked_offsets(consumer: Any, tp: Any) -> list[int]:
    """The offsets of ``tp`` acknowledged since Faust's last commit of it."""
    return list(consumer._acked.get(tp) or ())


def unacked_messages(consumer: Any) -> list[Any]:
    """The messages delivered to a stream and not acknowledged yet (Faust keeps them in a weak set)."""
    return list(consumer._unacked_messages)


def commit_in_progress(consumer: Any) -> bool:
    """Whether ``Consumer.commit`` is running: it drops the offsets it commits from ``_acked`` before it
    flushes the producer and commits, and records the new committed offset only after."""
    return consumer._commit_fut is not None


def offsets_read(consumer: Any, tps: Iterable[Any]) -> list[int | None]:
    """:func:`read_offset` of each of ``tps``."""
    return [read_offset(consumer, tp) for tp in tps]
