"""What the console (streams/console) asks of a running worker: its readiness, tables, toggle and the
dead-letter topic. Blocking Kafka calls (reading the dead letters, retry, archive, toggle) run in a thread
so the worker's event loop keeps processing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from agents import table_values
from streams.console import data, durable
from streams.console.audit import AUDIT_TOPIC, AuditEvent, audit_events
from streams.console.audit import publish as publish_audit
from streams.deadletters.log import DeadLetter

if TYPE_CHECKING:
    from agents.worker import Worker

RESOURCE = "studentAssessments"
SUMMARY_TTL_SECONDS = 30.0
CONTROL_READER = "edfi-stream-console-control"


class WorkerBackend:
    def __init__(self, worker: Worker, readiness: Callable[[], Awaitable[dict[str, Any]]]) -> None:
        self._worker = worker
        self.readiness = readiness
        self.settings = worker.settings
        self.zone = data.zone_of(worker.settings.web.time_zone)
        self._summary: tuple[float, durable.SentFigures] | None = None
        self._summary_lock = asyncio.Lock()
        self._resync_lock = asyncio.Lock()
        self._toggles_seen = 0
        worker.control.subscribe(self._on_toggle)

    def _on_toggle(self, resource: str, enabled: bool) -> None:
        self._toggles_seen += 1  # the history is read from edfi.control: this only says it changed

    # -- state ------------------------------------------------------------------------------------------
    def enabled(self) -> bool:
        return self._worker.control.enabled(RESOURCE)

    async def sent_figures(self) -> durable.SentFigures:
        """Records acknowledged today and this school year by assessment and by school, from the ``sent``
        and ``identity`` changelogs (every worker's partitions; read in a thread, at most every 30 s)."""
        async with self._summary_lock:
            now = time.monotonic()
            if self._summary is None or now - self._summary[0] > SUMMARY_TTL_SECONDS:
                self._summary = (now, await asyncio.to_thread(self._read_figures))
            return self._summary[1]

    def _read_figures(self) -> durable.SentFigures:
        import datetime as dt

        config, app = self.settings.kafka.confluent_config(), self._worker.parts
        sent_log = durable.read_all(config, app.sent.changelog_topic.get_topic_name(), "edfi-stream-console-sent")
        identity_log = durable.read_all(config, app.identity.changelog_topic.get_topic_name(),
                                        "edfi-stream-console-identity")
        return durable.sent_figures(sent_log, identity_log, self.zone, dt.datetime.now(dt.UTC))

    async def toggle_events(self) -> list[durable.ToggleEvent]:
        from streams.sis.rows import CONTROL_TOPIC

        log = await asyncio.to_thread(durable.read_all, self.settings.kafka.confluent_config(), CONTROL_TOPIC,
                                      CONTROL_READER)
        return durable.toggle_events(log, self.zone, RESOURCE)

    async def audit_events(self) -> list[AuditEvent]:
        log = await asyncio.to_thread(durable.read_all, self.settings.kafka.confluent_config(), AUDIT_TOPIC,
                                      "edfi-stream-console-audit")
        return audit_events(log)

    async def record_action(self, event: AuditEvent) -> None:
        await asyncio.to_thread(publish_audit, self.settings.kafka, event)

    # -- Why? -------------------------------------------------------------------------------------------
    def person_of(self, kind: str, value: str) -> int | None:
        engines = self._worker.engines
        if kind == "personID":
            return int(value) if value.strip().isascii() and value.strip().isdigit() else None
        if kind == "stateID":
            return engines.index.person_of_state_id(value)
        if kind == "scoreID":
            return engines.index.person(int(value), None) if value.strip().isdigit() else None
        return engines.index.person(None, value.strip())

    def decisions(self, person: int) -> list[dict[str, Any]]:
        return self._worker.engines.explain(person_id=person)

    async def records(self, person: int) -> list[dict[str, Any]]:
        """For each record the rules sent for the student: what was sent and what the ODS acknowledged. The
        acknowledgements of records in identity partitions held by another worker are read from the identity
        changelog (streams/console/identity.py)."""
        from streams.console.identity import partition_of_key, read_acknowledgements

        parts = self._worker.parts
        raw = parts.sent.get(str(person))
        sent = table_values.from_bytes(raw) if raw else {}
        acks: dict[str, Any] = {}
        held = self._identity_partitions_held()
        elsewhere = []
        for said in sent:
            key = said.encode()
            if partition_of_key(key, parts.partitions) in held:
                ack = parts.identity.get(key)
                acks[said] = table_values.from_bytes(ack) if isinstance(ack, bytes | str) else ack
            else:
                elsewhere.append(key)
        if elsewhere:
            read = await asyncio.to_thread(read_acknowledgements, self.settings.kafka.confluent_config(),
                                           parts.identity.changelog_topic.get_topic_name(), elsewhere,
                                           parts.partitions)
            acks.update({k.decode(): v for k, v in read.items()})
        out = []
        for said, record in sent.items():
            entry = acks.get(said)
            out.append({"studentAssessmentIdentifier": said,
                        "assessment": (record.get("k") or {}).get("assessmentIdentifier"),
                        "date": record.get("d"), "school": record.get("s"),
                        "acknowledged": bool(entry and entry.get("h") == record.get("h")),
                        "odsId": (entry or {}).get("id")})
        return out

    def _identity_partitions_held(self) -> set[int]:
        """The write-command partitions this worker holds: their identity entries are in its own table."""
        from agents.topics import WRITE_COMMANDS

        consumer = self._worker.app.consumer
        return {tp.partition for tp in (consumer.assignment() if consumer else ()) if tp.topic == WRITE_COMMANDS}

    # -- Kafka (in a thread) ----------------------------------------------------------------------------
    async def dead_letters(self) -> list[DeadLetter]:
        from streams.deadletters.log import read_dead_letters

        return await asyncio.to_thread(read_dead_letters, self.settings.kafka.confluent_config())

    async def archived_letters(self) -> list[DeadLetter]:
        from streams.console.archived import read_archived_letters

        return await asyncio.to_thread(read_archived_letters, self.settings.kafka.confluent_config())

    def partitions_held(self) -> tuple[list[int], int]:
        """The student partitions this worker holds, and how many there are."""
        from agents.topics import STUDENT_EVENTS

        consumer = self._worker.app.consumer
        held = sorted(tp.partition for tp in (consumer.assignment() if consumer else ()) if tp.topic == STUDENT_EVENTS)
        return held, self._worker.parts.partitions

    def holds(self, person: int) -> bool:
        from agents.routing import partition_of

        held, partitions = self.partitions_held()
        return partition_of(person, partitions) in held

    async def ask_others(self, path: str, fields: dict[str, str], headers: dict[str, str],
                         person: int | None) -> tuple[str, str] | None:
        """POST ``fields`` to ``path`` on the other workers (the one holding ``person``'s partition, or each in
        turn) with the caller's credentials; the first page one of them answers (200), and its URL."""
        import aiohttp

        from agents.routing import partition_of

        app = self._worker.app
        changelog = self._worker.parts.students.changelog_topic.get_topic_name()
        partition = partition_of(person, self._worker.parts.partitions) if person is not None else None
        me = str(app.conf.canonical_url).rstrip("/")
        owners = [url.rstrip("/") for url, topics in app.assignor.table_metadata(changelog).items()
                  if url.rstrip("/") != me and (partition is None or partition in topics.get(changelog, ()))]
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            for url in owners:
                try:
                    async with session.post(url + path, data=fields, headers=headers, allow_redirects=False) as r:
                        if r.status == 200:
                            return await r.text(), url
                except (aiohttp.ClientError, TimeoutError):
                    continue  # that worker is away: try the next
        return None

    async def retry(self, letters: list[DeadLetter]) -> tuple[int, list[str]]:
        from streams.deadletters.actions import retry

        kafka = self.settings.kafka
        return await asyncio.to_thread(retry, letters, kafka, kafka.value_format)

    async def archive(self, letters: list[DeadLetter]) -> int:
        from streams.deadletters.actions import archive

        kafka = self.settings.kafka
        return await asyncio.to_thread(archive, letters, kafka)

    async def resync_plan(self, school: int | None, student: str | None) -> Any:
        """The dry-run plan of ``edfi-stream resync`` (replays the SIS topics and reads the ODS: slow on a
        large district, so one at a time)."""
        from streams.resync.run import Scope, build_plan

        if self._resync_lock.locked():
            raise RuntimeError("a resync preview is already running")
        async with self._resync_lock:
            return await asyncio.to_thread(build_plan, self.settings, Scope(school, student))

    async def set_enabled(self, enabled: bool) -> None:
        from streams.io.control import publish_toggle

        await asyncio.to_thread(publish_toggle, self.settings.kafka, RESOURCE, enabled)
