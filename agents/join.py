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

from agents import table_values
from agents.app import FaustParts
from agents.control import ControlState
from agents.explain_index import ExplainIndex
from agents.fixups.held_acks import held
from agents.join_batch import JoinBatch, OpenPartition
from agents.join_limits import StateBudget, people_of
from agents.routing import partition_of
from agents.tablestore import DEFAULT_CACHE_SIZE, BufferedTableView
from agents.topics import STUDENT_EVENTS, WRITE_COMMANDS
from agents.wire import change_from_routed, command_to_record, decode_internal
from streams.errors import DecodeError, PoisonInput
from streams.observability import metrics
from streams.rules.batch import PendingEvaluations
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
        self.index = ExplainIndex(parts.students, parts.sent)

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
        self.index.invalidate()
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
        return self.index.person(score_id, said)  # agents/explain_index.py: no table scan per request


def person_of_key(key: bytes | None) -> int:
    """The personID a repartitioned record is keyed by (``b"123"``); raises DecodeError otherwise."""
    text = key.decode("ascii", "replace") if isinstance(key, bytes) else ""
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise DecodeError("bad_key", "a repartitioned record's key is not a personID")
    return int(text)


def attach_join(parts: FaustParts, cfg: RuleConfig, control: ControlState,
                cache_size: int = DEFAULT_CACHE_SIZE) -> PartitionEngines:
    app = parts.app
    engines = PartitionEngines(parts, cfg, control, cache_size)
    control.subscribe(lambda resource, enabled: engines.set_enabled(enabled)
                      if resource == "studentAssessments" else None)

    batch = JoinBatch()
    budget = StateBudget(parts.max_value_bytes)
    letters = parts.letters

    async def dead_letter(event: Any, letter: tuple[dict[str, Any], str]) -> None:
        # Not awaited: a dead-lettered event changed no table, so the batch need not wait for the letter
        # (a flood of letters on the one dead-letter partition stalled every other student's event). Faust
        # flushes the producer before it commits an offset, so a crash re-reads the event and sends the
        # letter again (same key: its coordinates), never loses it; the counter counts it when delivered.
        await letters.send(*letter)
        batch.add(event)

    async def decoded(event: Any) -> tuple[Any, int | None] | None:
        """The event's change and the one student it is for (None: all it names); None when it was a
        tombstone or became a dead letter."""
        message = event.message
        try:
            record = decode_internal(STUDENT_EVENTS, message.value)
            if record is None:
                batch.add(event)
                return None
            change = change_from_routed(record)
            # a row that moved between two students is routed to each: this copy is for one of them
            return change, (None if record.get("broadcast") else person_of_key(message.key))
        except PoisonInput as exc:
            await dead_letter(event, letters.poison_letter("rules", exc, message))
        except Exception as exc:  # an undecodable key, a record of an unexpected shape
            await dead_letter(event, letters.error_letter("rules", exc, message))
        return None

    async def refused(event: Any, exc: Exception, engine: Any, views: list[Any], marks: list[Any]) -> None:
        """The event changes nothing: its table changes are taken back, and it becomes a dead letter."""
        for view, mark in zip(views, marks, strict=True):
            view.restore(mark)
        engine.scope.forget()  # it may have cached a test row taken back now
        if isinstance(exc, PoisonInput):
            await dead_letter(event, letters.poison_letter("rules", exc, event.message))
        else:
            engine.reset_index()  # it may have indexed the event's rows
            await dead_letter(event, letters.error_letter("rules", exc, event.message))

    async def send(event: Any, views: list[Any], outcome: Any) -> None:
        encoded = [(cmd, cmd.key.encode(), parts.wire.encode_value(WRITE_COMMANDS, command_to_record(cmd)))
                   for cmd in outcome.commands]
        sends = []
        for cmd, key, value in encoded:
            sends.append(await parts.write_commands.send(key=key, value=value))
            metrics.record_command(cmd.action)
        batch.add(event, views, sends)
        for decision in outcome.decisions:
            metrics.record_decision(decision.reason if decision.outcome != "sent" else "sent")

    async def process_one(event: Any, change: Any, only: int | None) -> None:
        """One event alone: apply, evaluate, send (the fallback of a batch whose evaluation failed)."""
        engine, views = engines.engine(event.message.partition)
        marks = [view.mark() for view in views]
        try:
            growth = [(person, budget.check(views[0], person, change)) for person in people_of(change, only)]
            outcome = engine.on_change(change, only_person=only)
            # encoded before anything is counted: an unencodable command refuses the event
            [parts.wire.encode_value(WRITE_COMMANDS, command_to_record(cmd)) for cmd in outcome.commands]
        except Exception as exc:
            await refused(event, exc, engine, views, marks)
            return
        for person, grows in growth:
            budget.add(person, grows)
        await send(event, views, outcome)

    async def process_batch(events: list[Any]) -> None:
        """A batch of events: each applied to its partition's state in order, then each student they
        touched evaluated once (:mod:`streams.rules.batch`), the commands sent, the batch settled."""
        opened: dict[int, OpenPartition] = {}
        for event in events:
            found = await decoded(event)
            if found is None:
                continue
            change, only = found
            engine, views = engines.engine(event.message.partition)
            part = opened.get(event.message.partition)
            if part is None:
                part = opened[event.message.partition] = OpenPartition(engine, views, [v.mark() for v in views])
            marks = [view.mark() for view in views]
            mine = PendingEvaluations()
            try:
                growth = [(person, budget.check(views[0], person, change)) for person in people_of(change, only)]
                engine.apply(change, mine, only_person=only)
            except Exception as exc:
                await refused(event, exc, engine, views, marks)
                continue
            for person, grows in growth:
                budget.add(person, grows)
            part.add(event, change, only, mine, growth)
        for part in opened.values():
            if not part.applied:
                continue  # every event of the partition was refused (dead letters): nothing to evaluate
            try:
                outcome = part.engine.evaluate_pending(part.pending)
                [parts.wire.encode_value(WRITE_COMMANDS, command_to_record(cmd)) for cmd in outcome.commands]
            except Exception:  # rare: take the partition's events back and find the culprit one at a time
                log.info("a batch's evaluation failed: its %d events are taken one at a time", len(part.applied))
                part.take_back(budget)
                for event, change, only in part.applied:
                    await process_one(event, change, only)
                continue
            await send(part.applied[-1][0], part.views, outcome)
            for event, _, _ in part.applied[:-1]:
                batch.add(event)
        await batch.settle_locked()
        budget.forget()  # the tables now hold what the budget counted

    @app.agent(parts.student_events, name="edfi-stream.join")
    async def join(stream: Any) -> None:
        # Faust acknowledges a batch's events once this body asks for the next batch; the batch settles
        # (sends acknowledged, tables written, events acknowledged) before that (agents/join_batch.py)
        async for events in stream.take_events(parts.batch_max_events, within=parts.batch_max_wait_seconds):
            # a batch stopped half-way is not acknowledged; none starts while a rebalance moves partitions
            async with held(events), parts.fence.batch(events) as kept, batch.lock:
                await process_batch(kept)

    @app.on_rebalance_complete.connect  # type: ignore[arg-type]
    async def on_rebalance(sender: Any, **kwargs: Any) -> None:
        engines.reset()

    return engines
