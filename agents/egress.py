"""Egress: the write-command topic to the Ed-Fi API, through :class:`streams.edfi.dispatcher.EgressDispatcher`.

Thin wiring: decode the command, respect the resource toggle, hand the command to the dispatcher (which
keeps one record's writes in order, bounds the writes in flight and parks writes whose references are not
in the ODS yet) and acknowledge input offsets only up to what the dispatcher reports as committable, so a
crash never loses a write that was not acknowledged by the ODS or dead-lettered.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Iterator, MutableMapping
from typing import Any

from agents import deadletter, table_values
from agents.app import FaustParts
from agents.control import ControlState
from agents.topics import WRITE_COMMANDS
from agents.wire import command_from_record, decode_value
from streams.edfi.identity import IdentityEntry
from streams.errors import PoisonInput
from streams.observability import metrics

log = logging.getLogger(__name__)


class TableIdentityMap(MutableMapping[str, IdentityEntry]):
    """The identity map of streams.edfi on the Faust ``identity`` table (bytes keys and compact JSON bytes
    values, see agents.app)."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def __getitem__(self, said: str) -> IdentityEntry:
        raw = self._table.get(said.encode())
        if raw is None:
            raise KeyError(said)
        # a changelog written before the values were bytes may still give dicts
        return IdentityEntry.from_dict(raw if isinstance(raw, dict) else table_values.from_bytes(raw))

    def __setitem__(self, said: str, entry: IdentityEntry) -> None:
        self._table[said.encode()] = table_values.to_bytes(entry.to_dict())

    def __delitem__(self, said: str) -> None:
        key = said.encode()
        if key not in self._table:
            raise KeyError(said)
        del self._table[key]

    def __iter__(self) -> Iterator[str]:
        for key in list(self._table.keys()):
            yield key.decode() if isinstance(key, bytes) else str(key)

    def __len__(self) -> int:
        return len(self._table)


class PendingAcks:
    """Input events waiting for the dispatcher to finish their writes, acked in offset order."""

    def __init__(self) -> None:
        self._pending: dict[int, collections.deque[tuple[int, Any]]] = collections.defaultdict(
            collections.deque)

    def add(self, partition: int, offset: int, event: Any) -> None:
        self._pending[partition].append((offset, event))

    def ack_upto(self, committable: dict[int, int]) -> int:
        done = 0
        for partition, upto in committable.items():
            queue = self._pending.get(partition)
            while queue and queue[0][0] <= upto:
                _, event = queue.popleft()
                event.ack()
                done += 1
        return done

    def __len__(self) -> int:
        return sum(len(q) for q in self._pending.values())


def attach_egress(parts: FaustParts, control: ControlState, dispatcher_factory: Any) -> Any:
    """``dispatcher_factory(identity_map, on_dead_letter)`` builds the EgressDispatcher (lazily, on start)."""
    app = parts.app
    pending = PendingAcks()
    holder: dict[str, Any] = {}

    async def on_dead_letter(cmd: Any, result: Any) -> None:
        error = getattr(result, "error", None)
        await deadletter.publish(parts.dead_letters, deadletter.dead_letter_record(
            stage="egress", reason=_cause(result), detail=str(getattr(error, "detail", "") or error or ""),
            source_topic=WRITE_COMMANDS, status=getattr(result, "status", None),
            edfi_error_type=getattr(error, "type", None),
            edfi_error=getattr(error, "body", None), request=getattr(result, "request", None),
            school_id=cmd.school_id, assessment_identifier=cmd.natural_key.assessment_identifier,
            value=None, key=cmd.key.encode(),
        ), key=cmd.key)

    def dispatcher() -> Any:
        if "d" not in holder:
            holder["d"] = dispatcher_factory(TableIdentityMap(parts.identity), on_dead_letter)
        return holder["d"]

    @app.agent(parts.write_commands, name="edfi-stream.egress")
    async def egress(stream: Any) -> None:
        await _track_changelog(app, parts.identity)
        async for event in stream.noack().events():
            message = event.message
            try:
                record = decode_value(WRITE_COMMANDS, message.value)
                if record is None:
                    event.ack()
                    continue
                cmd = command_from_record(record)
            except PoisonInput as exc:
                await deadletter.publish_undecodable(parts.dead_letters, "egress", exc, message)
                event.ack()
                continue
            if not control.enabled(cmd.resource):
                metrics.record_decision("toggled_off")
                event.ack()
                continue
            pending.add(message.partition, message.offset, event)
            await dispatcher().submit(cmd, (message.partition, message.offset))
            pending.ack_upto(dispatcher().committable())

    @app.task
    async def start_client() -> None:
        dispatcher()  # the Ed-Fi client exists from the start, so /readyz can check the token at once

    @app.timer(0.2, name="edfi-stream.egress-acks")
    async def ack_finished() -> None:
        if "d" in holder:
            pending.ack_upto(holder["d"].committable())
            metrics.set_parked(holder["d"].parked_count)
            metrics.set_in_flight_limit(holder["d"].limit.current)

    return egress


async def _track_changelog(app: Any, table: Any) -> None:
    """The identity table takes its changelog partition from the producer's metadata (``use_partitioner``).
    Once aiokafka has sent to some topics it refreshes metadata for those topics only, so a changelog it
    has not sent to yet drops out and every identity write fails (TypeError in ``key_partition``; seen in
    the fault suite). Tracking the topic from the start keeps it in every refresh."""
    producer = app.producer._ensure_producer()
    await producer.client.add_topic(table.changelog_topic.get_topic_name())


def _cause(result: Any) -> str:
    status = getattr(result, "status", None)
    error = getattr(result, "error", None)
    etype = getattr(error, "type", None)
    if etype:
        return str(etype).rsplit(":", 1)[-1]
    return f"http_{status}" if status else "egress_failed"


async def wait_forever() -> None:  # pragma: no cover - helper for manual runs
    await asyncio.Event().wait()
