"""Egress: the write-command topic to the Ed-Fi API, through :class:`streams.edfi.dispatcher.EgressDispatcher`.

Thin wiring: decode the command, respect the resource toggle, hand the command to the dispatcher (which
keeps one record's writes in order, bounds the writes in flight and parks writes whose references are not
in the ODS yet) and acknowledge input offsets only up to what the dispatcher reports as committable, so a
crash never loses a write that was not acknowledged by the ODS or dead-lettered.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator, MutableMapping
from typing import Any

from faust.types import TP

from agents import table_values
from agents.app import FaustParts
from agents.control import ControlState
from agents.egress_service import EgressService
from agents.egress_step import EgressStep
from agents.fixups import changelog_metadata
from agents.fixups.held_acks import held
from agents.ownership import TopicFence
from agents.topics import WRITE_COMMANDS
from streams.edfi.identity import IdentityEntry
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


def attach_egress(parts: FaustParts, control: ControlState, service: EgressService) -> Any:
    """The egress agent over the dispatcher of ``service`` (agents/egress_service.py: its lifecycle)."""
    app = parts.app

    async def on_dead_letter(cmd: Any, result: Any) -> None:
        error = getattr(result, "error", None)
        await parts.letters.publish(parts.letters.record(
            stage="egress", reason=_cause(result), detail=str(getattr(error, "detail", "") or error or ""),
            source_topic=WRITE_COMMANDS, status=getattr(result, "status", None),
            edfi_error_type=getattr(error, "type", None),
            edfi_error=getattr(error, "body", None), request=getattr(result, "request", None),
            school_id=cmd.school_id, assessment_identifier=cmd.natural_key.assessment_identifier,
            value=None, key=cmd.key.encode(),
        ), key=cmd.key)

    fence = TopicFence(parts.fence, WRITE_COMMANDS, TP)  # no write while a rebalance moves partitions
    built = service.build(TableIdentityMap(parts.identity), on_dead_letter, fence)
    step = EgressStep(parts.letters, control, built)  # the per-record step (agents/egress_step.py)
    fence.on_lost(step.forget)

    @app.agent(parts.write_commands, name="edfi-stream.egress")
    async def egress(stream: Any) -> None:
        await _track_changelog(app, parts.identity)
        async for events in stream.take_events(parts.batch_max_events, within=parts.batch_max_wait_seconds):
            async with held(events):  # a batch stopped half-way is not acknowledged
                for event in events:
                    await step.take(event)  # a command's event stays unacknowledged until the ODS answered it
                step.settle()

    @app.timer(0.2, name="edfi-stream.egress-acks")
    async def ack_finished() -> None:
        step.settle()
        metrics.set_parked(built.parked_count)
        metrics.set_in_flight_limit(built.limit.current)

    return egress


async def _track_changelog(app: Any, table: Any) -> None:
    """The identity table takes its changelog partition from the producer's metadata (``use_partitioner``).
    Once aiokafka has sent to some topics it refreshes metadata for those topics only, so a changelog it
    has not sent to yet drops out and every identity write fails (TypeError in ``key_partition``; seen in
    the fault suite). Tracking the topic from the start keeps it in every refresh.

    The topic must exist first, with the table's partitions: the egress agent can start before Faust has
    created its changelog topics, and a metadata request for a topic that does not exist yet makes a Kafka
    broker with ``auto.create.topics.enable`` (its default) create it with ``num.partitions`` (1): every
    identity entry then sat in partition 0, recovered only by the worker holding write-command partition 0
    (tests/integration/test_console_two_workers.py); it is created before Faust starts, with every topic of
    the worker (streams/kafka/topics.py: ensure_worker_topics)."""
    await changelog_metadata.track_topic(app.producer, table.changelog_topic.get_topic_name())


def _cause(result: Any) -> str:
    status = getattr(result, "status", None)
    error = getattr(result, "error", None)
    etype = getattr(error, "type", None)
    if etype:
        return str(etype).rsplit(":", 1)[-1]
    return f"http_{status}" if status else "egress_failed"


async def wait_forever() -> None:  # pragma: no cover - helper for manual runs
    await asyncio.Event().wait()
