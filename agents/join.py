"""Join: the rule engine on the student-partitioned stream (scores meet their student and enrollments).

Each partition of ``edfi-stream.student-events`` has its own :class:`streams.rules.engine.RuleEngine`
over table-backed stores (students, what was emitted, and that partition's copy of the reference rows).
For each event the engine returns Ed-Fi write commands and decisions; the commands are produced to the
write-command topic keyed by studentAssessmentIdentifier and acknowledged by the broker *before* the
tables record them (see :mod:`agents.tablestore`), so a crash can duplicate a command (harmless: the
egress skips unchanged payloads) but never lose one. The acknowledgements of the events that arrive
together are awaited together (:mod:`agents.join_batch`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from agents import deadletter, table_values
from agents.app import FaustParts
from agents.control import ControlState
from agents.join_batch import JoinBatch
from agents.routing import partition_of
from agents.tablestore import DEFAULT_CACHE_SIZE, BufferedTableView
from agents.topics import STUDENT_EVENTS, WRITE_COMMANDS
from agents.wire import change_from_routed, command_to_record, decode_value, encode_value
from streams.errors import PoisonInput
from streams.observability import metrics
from streams.rules.config import RuleConfig
from streams.rules.engine import RuleEngine
from streams.rules.plan import SentRecord
from streams.rules.state import StudentState, reference_row_from_dict, reference_row_to_dict

log = logging.getLogger(__name__)


class PartitionEngines:
    """One RuleEngine per partition, over views of the Faust tables restricted to that partition."""

    def __init__(self, parts: FaustParts, cfg: RuleConfig, control: ControlState,
                 cache_size: int = DEFAULT_CACHE_SIZE) -> None:
        self._parts = parts
        self._cache_size = cache_size
        self._cfg = cfg
        self._control = control
        self._engines: dict[int, tuple[RuleEngine, list[BufferedTableView[Any]]]] = {}

    def _people_of(self, partition: int) -> Iterator[int]:
        n = self._parts.partitions
        for key in list(self._parts.students.keys()):
            person = int(key)
            if partition_of(person, n) == partition:
                yield person

    def engine(self, partition: int) -> tuple[RuleEngine, list[BufferedTableView[Any]]]:
        found = self._engines.get(partition)
        if found is None:
            parts = self._parts
            students: BufferedTableView[StudentState] = BufferedTableView(
                parts.students, str, table_values.encode_student, table_values.decode_student,
                lambda: self._people_of(partition), cache_size=self._cache_size)
            sent: BufferedTableView[dict[str, SentRecord]] = BufferedTableView(
                parts.sent, str, table_values.encode_sent, table_values.decode_sent, cache_size=self._cache_size)
            reference: BufferedTableView[Any] = BufferedTableView(
                parts.reference, lambda k: f"{partition}|{k[0]}|{k[1]}",
                lambda row: reference_row_to_dict(row),
                lambda raw: reference_row_from_dict(raw))
            engine = RuleEngine(self._cfg, students=students, sent=sent, reference=reference)
            engine.set_enabled(self._control.enabled())
            found = (engine, [students, sent, reference])
            self._engines[partition] = found
        return found

    def set_enabled(self, enabled: bool) -> None:
        for engine, _ in self._engines.values():
            engine.set_enabled(enabled)

    def reset(self) -> None:
        """After a rebalance the tables may have been recovered: drop cached values and indexes."""
        for engine, views in self._engines.values():
            engine.reset_index()
            for view in views:
                view.clear_cache()

    def explain(self, *, score_id: int | None = None, person_id: int | None = None,
                said: str | None = None) -> list[dict[str, Any]]:
        """The decisions for the current state of the student a scoreID, personID or identifier belongs to."""
        person = person_id if person_id is not None else self._find_person(score_id, said)
        if person is None:
            return []
        engine, _ = self.engine(partition_of(person, self._parts.partitions))
        decisions = [d.to_dict() for d in engine.evaluate_person(person).decisions]
        if score_id is not None:
            decisions = [d for d in decisions if d["scoreID"] == score_id]
        if said is not None:
            decisions = [d for d in decisions if d["studentAssessmentIdentifier"] == said]
        return decisions

    def _find_person(self, score_id: int | None, said: str | None) -> int | None:
        if score_id is not None:
            for key, raw in list(self._parts.students.items()):
                if any(row.get("scoreID") == score_id for row in table_values.from_bytes(raw).get("t") or ()):
                    return int(key)
        if said is not None:
            for key, raw in list(self._parts.sent.items()):
                if said in table_values.from_bytes(raw):
                    return int(key)
        return None


def attach_join(parts: FaustParts, cfg: RuleConfig, control: ControlState,
                cache_size: int = DEFAULT_CACHE_SIZE) -> PartitionEngines:
    app = parts.app
    engines = PartitionEngines(parts, cfg, control, cache_size)
    control.subscribe(lambda resource, enabled: engines.set_enabled(enabled)
                      if resource == "studentAssessments" else None)

    batch = JoinBatch()

    def more_waiting(stream: Any) -> bool:
        queue = getattr(stream.channel, "queue", None)
        return queue is not None and queue.qsize() > 0

    async def process(event: Any) -> None:
        message = event.message
        try:
            record = decode_value(STUDENT_EVENTS, message.value)
            if record is None:
                batch.add(event)
                return
            change = change_from_routed(record)
        except PoisonInput as exc:
            await deadletter.publish_undecodable(parts.dead_letters, "rules", exc, message)
            batch.add(event)
            return
        engine, views = engines.engine(message.partition)
        # a row that moved between two students is routed to each: this copy is for one of them
        only = None if record.get("broadcast") else int(message.key.decode())
        outcome = engine.on_change(change, only_person=only)
        sends = []
        for cmd in outcome.commands:
            sends.append(await parts.write_commands.send(
                key=cmd.key.encode(), value=encode_value(WRITE_COMMANDS, command_to_record(cmd))))
            metrics.record_command(cmd.action)
        batch.add(event, views, sends)
        for decision in outcome.decisions:
            metrics.record_decision(decision.reason if decision.outcome != "sent" else "sent")

    @app.agent(parts.student_events, name="edfi-stream.join")
    async def join(stream: Any) -> None:
        async for event in stream.noack().events():
            async with batch.lock:
                await process(event)
                if batch.due(more_waiting(stream)):
                    await batch.settle_locked()

    @app.timer(batch.max_age_seconds, name="edfi-stream.join-settle")
    async def settle_stale() -> None:
        # the stream said more was waiting, and then nothing came (a rebalance can clear its buffer)
        if batch.stale():
            await batch.settle()

    @app.on_rebalance_complete.connect  # type: ignore[arg-type]
    async def on_rebalance(sender: Any, **kwargs: Any) -> None:
        engines.reset()

    return engines
