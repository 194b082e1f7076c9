"""Run a resync: replay the SIS, read the ODS and the identity map, plan, check safety, then act.

Actions are published as write commands on the write-command topic (keyed by studentAssessmentIdentifier,
marked ``force``) so that the worker's egress applies them in order with everything else it sends, with
its retries, parking and dead letters; ``--dry-run`` prints the plan and writes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from streams.codec import Format, codec_for
from streams.config import Settings
from streams.edfi.dependencies import DependencyOrder, read_order
from streams.edfi.factory import build_client
from streams.errors import Refused
from streams.io.topic_reader import read_latest
from streams.observability import metrics
from streams.resync.diff import ResyncPlan, plan_resync
from streams.resync.sis_state import replay_sis
from streams.rules.config import RuleConfig
from streams.rules.evaluate import DesiredRecord
from streams.sis.rows import CONTROL_TOPIC
from streams.topics import WRITE_COMMANDS
from streams.writes import NaturalKey, WriteCommand

log = logging.getLogger(__name__)


class ResyncRefused(Refused):
    """The resync would not do what was asked: the plan would delete more than the configured share of the
    ODS (use --force after checking), or the resource is turned off (its commands would be dropped)."""


@dataclass
class Scope:
    school: int | None = None       # stateSchoolID
    student: str | None = None      # State Student Identifier

    def keeps(self, school_id: int | None, student_unique_id: str) -> bool:
        if self.school is not None and school_id != self.school:
            return False
        return not (self.student is not None and student_unique_id != self.student)


def desired_records(engine: Any, scope: Scope, kept: set[str] | None = None) -> dict[str, DesiredRecord]:
    """The records the rules want for the replayed SIS; ``kept`` collects the identifiers that 003's scope-year
    exception keeps as the ODS has them (their test moved out of scope, a score still qualifies)."""
    out: dict[str, DesiredRecord] = {}
    for person in engine.person_ids():
        evaluation = engine.evaluate_person(person)
        for said, record in evaluation.records.items():
            if scope.keeps(record.school_id, record.natural_key.student_unique_id):
                out[said] = record
        if kept is not None:
            kept.update(evaluation.retained)
    return out


async def read_ods(settings: Settings, cfg: RuleConfig, scope: Scope, transport: Any = None) -> list[dict[str, Any]]:
    """Every studentAssessment of the configured namespace and state assessments (and scope)."""
    return (await read_ods_and_order(settings, cfg, scope, transport))[0]


async def read_ods_and_order(settings: Settings, cfg: RuleConfig, scope: Scope, transport: Any = None
                             ) -> tuple[list[dict[str, Any]], DependencyOrder]:
    """:func:`read_ods` and the API's dependency order (the order the resync's commands are published in)."""
    client = build_client(settings.edfi, transport=transport)
    try:
        order = await read_order(client.http, client.base_url)
        out = []
        async for record in client.iter_all("studentAssessments", settings.resync.page_size,
                                            {"namespace": cfg.namespace}):
            ref = record.get("assessmentReference") or {}
            if ref.get("namespace", "").lower() != cfg.namespace.lower():
                continue
            if not cfg.reports(ref.get("assessmentIdentifier", "")):
                continue  # never touch records outside our assessments (the catalogue and assessmentKeys)
            school = (record.get("reportedSchoolReference") or {}).get("schoolId")
            if scope.keeps(school, (record.get("studentReference") or {}).get("studentUniqueId", "")):
                out.append(record)
        return out, order
    finally:
        await client.aclose()


def read_identity_map(kafka_config: dict[str, Any], app_id: str, timeout: float = 10.0) -> dict[str, dict[str, Any]]:
    """The worker's identity map, from its Faust changelog topic (latest value per key)."""
    entries: dict[str, dict[str, Any]] = {}
    for key, latest in read_latest(kafka_config, f"{app_id}-identity-changelog", "edfi-stream-resync-identity",
                                   timeout).items():
        if latest.value is not None:
            with contextlib.suppress(ValueError):
                entries[key.decode("utf-8", "replace")] = json.loads(latest.value)
    return entries


def build_plan(settings: Settings, scope: Scope, transport: Any = None) -> ResyncPlan:
    cfg = RuleConfig.from_settings(settings)
    kafka_config = settings.kafka.confluent_config()
    from streams.codec.debezium import decoder_for_settings

    replay = replay_sis(kafka_config, cfg, topics=settings.topic_map(), decoder=decoder_for_settings(settings))
    kept: set[str] = set()
    desired = desired_records(replay.engine, scope, kept)
    ods, order = asyncio.run(read_ods_and_order(settings, cfg, scope, transport))
    identity = read_identity_map(kafka_config, settings.worker.app_id)
    if scope.school is not None or scope.student is not None:
        identity = {k: v for k, v in identity.items() if k in desired or any(
            k == r.get("studentAssessmentIdentifier") for r in ods)}
    plan = plan_resync(desired, ods, identity, kept)
    plan.order = order
    return plan


def _key_from_identity(entry: dict[str, Any] | None, said: str) -> NaturalKey | None:
    parts = str((entry or {}).get("k") or "").split("|")
    if len(parts) == 4 and all(parts):
        return NaturalKey(parts[0], parts[1], parts[2], parts[3])
    return None


def commands_for(plan: ResyncPlan, identity: dict[str, dict[str, Any]] | None = None) -> list[WriteCommand]:
    commands = []
    for action in plan.actions:
        force = {"force": True, "resync": action.action}
        if action.action in ("post", "put"):
            commands.append(WriteCommand("POST" if action.action == "post" else "PUT", action.natural_key,
                                         action.payload, f"resync: {action.reason}", 0, action.school_id, extra=force))
        elif action.action == "delete":
            commands.append(WriteCommand("DELETE", action.natural_key, None, f"resync: {action.reason}", 0,
                                         action.school_id, extra=force))
        else:  # forget: a DELETE whose GET finds nothing drops the identity entry in the egress
            said = action.natural_key.student_assessment_identifier
            key = _key_from_identity((identity or {}).get(said), said)
            # a record the rules still want is POSTed again (which replaces the identity entry): no DELETE
            reposted = any(a.natural_key.student_assessment_identifier == said and a.action in ("post", "put")
                           for a in plan.actions)
            if key is not None and not reposted:
                commands.append(WriteCommand("DELETE", key, None, f"resync: {action.reason}", 0, extra=force))
    # in the API's dependency order: deletes first (most dependent first), then creates and updates
    return plan.order.sort(commands)


def publish(commands: list[WriteCommand], settings: Settings) -> int:
    from streams.io.produce import STALL_SECONDS, flush_while_progressing, make_producer

    producer = make_producer(settings.kafka)
    fmt: Format = settings.kafka.value_format
    codec = codec_for(WRITE_COMMANDS)
    for cmd in commands:
        producer.produce(WRITE_COMMANDS, key=cmd.key.encode(), value=codec.encode_value(cmd.to_dict(), fmt=fmt))
        metrics.record_resync(str(cmd.extra.get("resync", cmd.action.lower())))
        log.info("resync %s %s: %s", cmd.action, cmd.key, cmd.reason)
        producer.poll(0)
    if remaining := flush_while_progressing(producer):
        raise RuntimeError(f"{remaining} resync commands were not delivered: no delivery for {STALL_SECONDS:.0f} s")
    return len(commands)


def render_plan(plan: ResyncPlan, sample: int = 10) -> str:
    counts = plan.counts()
    lines = [f"ODS records in scope: {plan.ods_count}; wanted by the rules: {plan.desired_count}",
             "actions: " + (", ".join(f"{k} {counts[k]}" for k in ("post", "put", "delete", "forget") if counts[k])
                            or "none: the ODS matches the SIS")]
    for action in plan.actions[:sample]:
        lines.append(f"  {action.action:<6} {action.natural_key.student_assessment_identifier:<40} {action.reason}")
    if len(plan.actions) > sample:
        lines.append(f"  ... and {len(plan.actions) - sample} more (--json for all)")
    return "\n".join(lines)


def check_enabled(settings: Settings, resource: str = "studentAssessments") -> None:
    """Refuse while the resource is turned off: the egress drops every command of a resource that is off
    (seed 003: nothing is sent while off), so the resync would publish commands that change nothing."""
    from streams.io.control import read_toggle

    if read_toggle(settings.kafka, resource) is False:
        raise ResyncRefused(f"{resource} is turned off on {CONTROL_TOPIC}: turn it on first "
                            f"(edfi-stream toggle {resource} on) and wait until the worker reports it "
                            "(edfi_stream_resource_enabled 1)")


def check_safety(plan: ResyncPlan, settings: Settings, force: bool) -> None:
    share = plan.delete_share
    if share > settings.resync.max_delete_share and not force:
        raise ResyncRefused(
            f"the resync would delete {plan.counts()['delete']} of {plan.ods_count} ODS records "
            f"({share:.0%} > resync.maxDeleteShare {settings.resync.max_delete_share:.0%}); check with --dry-run, "
            "then use --force")
