"""The ingest's step over one micro-batch of SIS input events (issue 20: the framework's cost once per batch).

Each event of the batch is routed in order (:func:`agents.ingest.repartitioned`): its copies are queued on
``edfi-stream.student-events`` through the producer's own send (one future per copy, no Faust buffer), or it
becomes a dead letter. The owner index (``row -> personID``, :mod:`streams.sis.owners`) reads and writes
through :class:`BufferedOwners`, so a later event of the batch sees what an earlier one recorded, but the
owner tables only get those writes once the broker acknowledged every copy of the batch.

The invariants:

* an owner table never records an owner whose routed copies the broker does not hold: after a crash the input
  event is read again, and its owner must still be the old one, or a score moved to another student would
  never reach the student it left (the copy for them would not be routed again);
* an input offset is never committed before its effects: Faust acknowledges the batch's events only when the
  agent asks for the next batch, after :meth:`IngestBatch.run` returned (copies acknowledged, owner writes
  queued), and it flushes its producer before it commits;
* each owner-table write goes to the changelog partition of the event that made it (Faust takes it from the
  *current event*: :mod:`agents.fixups.current_event`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

from agents.fixups.current_event import as_current_event

Outgoing = list[tuple[bytes, bytes, int]]  # (key, value, partition) of each repartitioned copy
Route = Callable[[str, Any], Awaitable[Outgoing | None]]  # (table, message) -> copies; raises PoisonInput
Send = Callable[[bytes, bytes, int], Awaitable[Awaitable[Any]]]  # queue one copy; returns its acknowledgement
Letter = Callable[[str, BaseException, Any], Awaitable[None]]  # (table, error, message): a dead letter, sent
Count = Callable[[str, str], None]  # (table, outcome): ok, ignored or dead_letter


class BufferedOwners(MutableMapping[Any, Any]):
    """One owner table seen through a write buffer: reads see the buffer first; :meth:`flush` writes it to
    the table, each key under the event that wrote it last."""

    def __init__(self, table: MutableMapping[Any, Any]) -> None:
        self.table = table
        self.current: Any = None  # the event being routed: a write is remembered with it
        self._buffer: dict[Any, tuple[Any, Any]] = {}

    def __getitem__(self, key: Any) -> Any:
        if key in self._buffer:
            return self._buffer[key][0]
        return self.table[key]

    def get(self, key: Any, default: Any = None) -> Any:
        if key in self._buffer:
            return self._buffer[key][0]
        return self.table.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._buffer or key in self.table

    def __setitem__(self, key: Any, value: Any) -> None:
        self._buffer[key] = (value, self.current)

    def __delitem__(self, key: Any) -> None:  # the owner index keeps owners (a delete read again needs one)
        raise TypeError("owner-table entries are never deleted")

    def __iter__(self) -> Iterator[Any]:
        yield from self._buffer
        yield from (key for key in self.table if key not in self._buffer)

    def __len__(self) -> int:
        return len(self._buffer) + sum(1 for key in self.table if key not in self._buffer)

    @property
    def pending(self) -> int:
        return len(self._buffer)

    def flush(self) -> None:
        for key, (value, event) in self._buffer.items():
            with as_current_event(event):  # the changelog partition of the event that recorded it
                self.table[key] = value
        self._buffer.clear()


@dataclass
class BatchCounts:
    routed: int = 0
    ignored: int = 0
    dead_letters: int = 0
    copies: int = 0


class IngestBatch:
    """Routes a batch of input events, waits for every copy's acknowledgement, then writes the owner tables."""

    def __init__(self, table_of: Callable[[str], str], route: Route, send: Send, letter: Letter,
                 owners: Sequence[BufferedOwners], count: Count = lambda table, outcome: None) -> None:
        self.table_of = table_of
        self.route = route
        self.send = send
        self.letter = letter
        self.owners = list(owners)
        self.count = count

    async def run(self, events: Sequence[Any]) -> BatchCounts:
        counts = BatchCounts()
        acks: list[Awaitable[Any]] = []
        for event in events:
            message = event.message
            table = self.table_of(message.topic)
            for owners in self.owners:
                owners.current = event
            try:
                outgoing = await self.route(table, message)
            except Exception as exc:  # PoisonInput or whatever else: this record is a dead letter, the batch goes on
                self.count(table, "dead_letter")
                await self.letter(table, exc, message)
                counts.dead_letters += 1
                continue
            if outgoing is None:  # a Kafka tombstone after a delete: normal, nothing to do
                self.count(table, "ignored")
                counts.ignored += 1
                continue
            for key, data, partition in outgoing:  # in order: one partition's copies keep their order
                acks.append(await self.send(key, data, partition))
            counts.copies += len(outgoing)
            counts.routed += 1
            self.count(table, "ok")
        for ack in acks:  # raises if the broker refused a copy: then no owner is recorded, no event acknowledged
            await ack
        for owners in self.owners:
            owners.current = None
            owners.flush()
        return counts


__all__ = ["BatchCounts", "BufferedOwners", "IngestBatch", "Outgoing"]
