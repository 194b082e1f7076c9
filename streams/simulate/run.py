"""Run ``simulate``: the same rule engine and the same Ed-Fi egress code as the worker, with no Kafka.

Events are applied in file order to a :class:`streams.rules.engine.RuleEngine` over in-memory stores; each
write command is sent, in order, by :class:`streams.edfi.sender.WriteSender` through httpx to an
in-process :class:`streams.emulator.core.EdfiEmulator`. Outputs (contract section 5):

* ``requests.jsonl``  every Ed-Fi request in order: method, path, studentAssessmentIdentifier, body, status
* ``ods.json``        the final studentAssessments in the Ed-Fi API, sorted by studentAssessmentIdentifier
* ``decisions.jsonl`` every rule decision after every event (what ``explain`` reads)
* ``dead-letters.jsonl`` every event or write that could not be processed, with its reason
"""

from __future__ import annotations

import asyncio
import contextvars
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from streams.config import Settings
from streams.errors import PoisonInput
from streams.io.events_file import FileEvent, read_events
from streams.rules.config import RuleConfig
from streams.rules.engine import InMemoryStores, RuleEngine
from streams.sis.events import parse_change, parse_control
from streams.sis.rows import CONTROL_TOPIC
from streams.writes import WriteCommand

SIM_CLIENT = ("simulate", "simulate-secret")
_current_said: contextvars.ContextVar[str | None] = contextvars.ContextVar("said", default=None)


@dataclass
class SimulationSummary:
    events: int = 0
    dead_letters: Counter[str] = field(default_factory=Counter)
    decisions: Counter[str] = field(default_factory=Counter)
    requests: Counter[str] = field(default_factory=Counter)
    commands: Counter[str] = field(default_factory=Counter)
    ods_records: int = 0
    out_dir: str = ""

    def render(self) -> str:
        lines = [f"simulated {self.events} events -> {self.ods_records} studentAssessments in the ODS",
                 "decisions (latest per score):"]
        for key, count in self.decisions.most_common():
            lines.append(f"  {key:<40} {count}")
        lines.append("write commands: " + ", ".join(f"{k} {v}" for k, v in sorted(self.commands.items())))
        lines.append("Ed-Fi requests: " + ", ".join(f"{k}: {v}" for k, v in sorted(self.requests.items())))
        if self.dead_letters:
            lines.append("dead letters: " + ", ".join(f"{k} {v}" for k, v in self.dead_letters.most_common()))
        lines.append(f"outputs in {self.out_dir}: requests.jsonl, ods.json, decisions.jsonl, dead-letters.jsonl")
        return "\n".join(lines)


class RecordingTransport(httpx.AsyncBaseTransport):
    """Wraps the emulator transport and writes every request/response pair to requests.jsonl."""

    def __init__(self, inner: httpx.AsyncBaseTransport, sink: Any, summary: SimulationSummary) -> None:
        self._inner = inner
        self._sink = sink
        self._summary = summary

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        path = request.url.path
        if "/oauth/" in path or path.rstrip("/") in ("", "/data/v3") or "/data/" not in path:
            return response
        body_bytes = request.content
        body = json.loads(body_bytes) if body_bytes else None
        self._sink.write(json.dumps({
            "method": request.method, "path": path + (f"?{request.url.query.decode()}" if request.url.query else ""),
            "studentAssessmentIdentifier": _current_said.get(), "body": body, "status": response.status_code,
        }, sort_keys=True) + "\n")
        self._summary.requests[f"{request.method} {response.status_code}"] += 1
        return response


def _decision_dict(seq: int, label: str, person_id: int | None, decision: Any,
                   actions: dict[str, list[str]]) -> dict[str, Any]:
    said = getattr(decision, "student_assessment_identifier", None)
    return {
        "seq": seq, "event": label, "personID": person_id, "scoreID": getattr(decision, "score_id", None),
        "testID": getattr(decision, "test_id", None), "outcome": decision.outcome, "reason": decision.reason,
        "message": decision.message, "studentAssessmentIdentifier": said,
        "actions": actions.get(said or "", []),
    }


async def _simulate(events_file: Path, settings: Settings, out: Path) -> SimulationSummary:
    from streams.edfi.factory import build_sender
    from streams.emulator.core import EdfiEmulator
    from streams.emulator.transport import EmulatorTransport
    from streams.simulate.seed import seed_emulator

    summary = SimulationSummary(out_dir=str(out))
    out.mkdir(parents=True, exist_ok=True)
    emulator = EdfiEmulator()
    emulator.add_client(*SIM_CLIENT)
    seed_emulator(emulator, events_file)
    engine = RuleEngine(RuleConfig.from_settings(settings), **InMemoryStores().as_kwargs())
    latest: dict[Any, str] = {}
    with open(out / "requests.jsonl", "w", encoding="utf-8") as requests_sink, \
            open(out / "decisions.jsonl", "w", encoding="utf-8") as decisions_sink, \
            open(out / "dead-letters.jsonl", "w", encoding="utf-8") as dead_sink:
        transport = RecordingTransport(EmulatorTransport(emulator), requests_sink, summary)
        sender, client = build_sender(settings.edfi, transport=transport, credentials=SIM_CLIENT,
                                      base_url="http://simulate.local")
        enabled = True
        parked: list[WriteCommand] = []

        def dead(stage: str, reason: str, detail: str, **extra: Any) -> None:
            summary.dead_letters[f"{stage}:{reason}"] += 1
            dead_sink.write(json.dumps({"stage": stage, "reason": reason, "detail": detail, **extra},
                                       sort_keys=True, default=str) + "\n")

        async def send(cmd: WriteCommand) -> None:
            token = _current_said.set(cmd.key)
            try:
                result = await sender.send(cmd)
            finally:
                _current_said.reset(token)
            if result.outcome == "parked":
                parked.append(cmd)
            elif result.outcome == "dead_letter":
                dead("egress", str(getattr(result.error, "type", None) or f"http_{result.status}"),
                     str(getattr(result.error, "detail", "") or ""), command=cmd.to_dict())

        for item in read_events(events_file):
            summary.events += 1
            seq = summary.events
            if isinstance(item, PoisonInput):
                dead("decode", item.reason, item.detail)
                continue
            assert isinstance(item, FileEvent)
            label = f"{item.topic} line {item.line}"
            try:
                if item.topic == CONTROL_TOPIC:
                    control = parse_control(item.key, item.value)
                    if control.resource == "studentAssessments":
                        enabled = control.enabled
                        engine.set_enabled(enabled)
                    continue
                if item.value is None:  # tombstone
                    continue
                change = parse_change(item.topic, item.key, item.value)
            except PoisonInput as exc:
                dead("decode", exc.reason, f"line {item.line}: {exc.detail}", topic=item.topic)
                continue
            outcome = engine.on_change(change)
            actions: dict[str, list[str]] = {}
            for cmd in outcome.commands:
                actions.setdefault(cmd.key, []).append(cmd.action)
                summary.commands[cmd.action] += 1
                if enabled:
                    await send(cmd)
            person = getattr(change.after or change.before, "person_id", None)
            explained = {getattr(d, "student_assessment_identifier", None) for d in outcome.decisions}
            for cmd in outcome.commands:  # a removed record has no score left to carry its decision
                if cmd.key not in explained:
                    explained.add(cmd.key)
                    decisions_sink.write(json.dumps({
                        "seq": seq, "event": f"{label} op={change.op}", "personID": person, "scoreID": None,
                        "testID": None, "outcome": "removed", "reason": "removed", "message": cmd.reason,
                        "studentAssessmentIdentifier": cmd.key, "actions": actions.get(cmd.key, []),
                    }, sort_keys=True) + "\n")
            for decision in outcome.decisions:
                record = _decision_dict(seq, f"{label} op={change.op}", getattr(decision, "person_id", person),
                                        decision, actions)
                decisions_sink.write(json.dumps(record, sort_keys=True) + "\n")
                key = (record["scoreID"], record["personID"]) if record["scoreID"] is not None else (
                    None, record["personID"], record["studentAssessmentIdentifier"])
                latest[key] = (f"{decision.outcome}" if decision.outcome == "sent"
                               else f"{decision.outcome}: {decision.reason}")
        # A write parked on a missing reference gets one more try at the end (the reference may have
        # arrived later in the file); still unresolved, it is a dead letter, as past the worker's horizon.
        retry, parked[:] = list(parked), []
        for cmd in retry:
            await send(cmd)
        for cmd in parked:
            dead("egress", "unresolved-reference", "a referenced record is not in the ODS",
                 command=cmd.to_dict())
        await client.aclose()
    summary.decisions = Counter(latest.values())
    records = emulator.records()
    summary.ods_records = len(records)
    (out / "ods.json").write_text(json.dumps(records, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return summary


def run_simulation(events_file: str | Path, settings: Settings, out: str | Path) -> SimulationSummary:
    return asyncio.run(_simulate(Path(events_file), settings, Path(out)))
