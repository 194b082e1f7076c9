"""Run ``simulate``: the same rule engine and the same Ed-Fi egress code as the worker, with no Kafka.

Events are applied in file order to a :class:`streams.rules.engine.RuleEngine` over in-memory stores; each
write command is sent, in order, by :class:`streams.edfi.sender.WriteSender` and its Ed-Fi client to an
in-process :class:`streams.emulator.core.EdfiEmulator`, through the client's transport seam without
per-request HTTP machinery (:mod:`streams.simulate.inprocess`). Outputs (contract section 5):

* ``requests.jsonl``  every Ed-Fi request in order: method, path, studentAssessmentIdentifier, body, status
* ``ods.json``        the final studentAssessments in the Ed-Fi API, sorted by studentAssessmentIdentifier
* ``decisions.jsonl`` every rule decision after every event (what ``explain`` reads)
* ``dead-letters.jsonl`` every event or write that could not be processed, with its reason
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from streams.config import Settings
from streams.errors import PoisonInput
from streams.io.events_file import FileEvent, read_events
from streams.rules.config import RuleConfig
from streams.rules.engine import InMemoryStores, RuleEngine
from streams.sis.events import parse_change, parse_control
from streams.sis.owners import OwnerIndex
from streams.sis.rows import CONTROL_TOPIC
from streams.writes import WriteCommand

if TYPE_CHECKING:
    from streams.emulator.core import EdfiEmulator
    from streams.simulate.inprocess import Recorder

SIM_CLIENT = ("simulate", "simulate-secret")
_current_said: contextvars.ContextVar[str | None] = contextvars.ContextVar("said", default=None)
_sorted_json = json.JSONEncoder(sort_keys=True).encode  # json.dumps(..., sort_keys=True), one encoder
BASE_URL = "http://simulate.local"
# An events file up to this size is decoded once and held (seeding the emulator, then the events); a larger
# one is read twice rather than held: decoded, an event takes about 6.5 times its line (4.5 MB -> 30 MB)
HOLD_EVENTS_BYTES = 8 * 1024 * 1024
# How simulate reaches its emulator: (emulator, request recorder) -> (transport, base URL) for the block
Connect = Callable[["EdfiEmulator", "Recorder"], AbstractAsyncContextManager[tuple[httpx.AsyncBaseTransport, str]]]


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


class LineSink:
    """Lines to a text file, written a few hundred at a time (one ``write`` per line was a visible share of
    a run: about 20,000 lines for 2,000 students)."""

    def __init__(self, handle: Any, batch: int = 512) -> None:
        self._handle = handle
        self._lines: list[str] = []
        self._batch = batch

    def write(self, text: str) -> None:
        self._lines.append(text)
        if len(self._lines) >= self._batch:
            self.flush()

    def flush(self) -> None:
        self._handle.write("".join(self._lines))
        self._lines.clear()

    def __enter__(self) -> LineSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.flush()


@contextlib.asynccontextmanager
async def in_process(emulator: EdfiEmulator, record: Recorder) -> AsyncIterator[tuple[httpx.AsyncBaseTransport, str]]:
    """The default: the emulator's entry point in this process, without per-request HTTP machinery."""
    from streams.simulate.inprocess import InProcessApi
    yield InProcessApi(emulator, record), BASE_URL


@contextlib.asynccontextmanager
async def full_httpx(emulator: EdfiEmulator, record: Recorder
                     ) -> AsyncIterator[tuple[httpx.AsyncBaseTransport, str]]:
    """The same, every request a full httpx request and response (what simulate did before)."""
    from streams.simulate.inprocess import InProcessApi, ThroughHttpx
    yield ThroughHttpx(InProcessApi(emulator, record)), BASE_URL


def _events(events_file: Path) -> Iterable[FileEvent | PoisonInput]:
    """The file's events, decoded once and held when the file is small enough; else a reader per pass."""
    if events_file.stat().st_size <= HOLD_EVENTS_BYTES:
        return list(read_events(events_file))

    class Reread:
        def __iter__(self) -> Any:
            return read_events(events_file)
    return Reread()


class RequestLog:
    """Writes every Ed-Fi data request and its status to requests.jsonl (not the token or discovery)."""

    def __init__(self, sink: Any, summary: SimulationSummary) -> None:
        self._sink = sink
        self._summary = summary

    def __call__(self, method: str, path: str, body: Any, status: int) -> None:
        bare = path.split("?", 1)[0]
        if "/oauth/" in bare or bare.rstrip("/") in ("", "/data/v3") or "/data/" not in bare:
            return
        self._sink.write(_sorted_json({
            "method": method, "path": path, "studentAssessmentIdentifier": _current_said.get(), "body": body,
            "status": status}) + "\n")
        self._summary.requests[f"{method} {status}"] += 1


def _decision_dict(seq: int, label: str, person_id: int | None, decision: Any,
                   actions: dict[str, list[str]]) -> dict[str, Any]:
    said = getattr(decision, "student_assessment_identifier", None)
    return {
        "seq": seq, "event": label, "personID": person_id, "scoreID": getattr(decision, "score_id", None),
        "testID": getattr(decision, "test_id", None), "outcome": decision.outcome, "reason": decision.reason,
        "message": decision.message, "studentAssessmentIdentifier": said,
        "actions": actions.get(said or "", []),
    }


async def _simulate(events_file: Path, settings: Settings, out: Path, connect: Connect) -> SimulationSummary:
    from streams.edfi.client import EdfiClient
    from streams.edfi.sender import WriteSender
    from streams.emulator.core import EdfiEmulator
    from streams.simulate.pretty import dumps_indented
    from streams.simulate.seed import seed_emulator

    summary = SimulationSummary(out_dir=str(out))
    out.mkdir(parents=True, exist_ok=True)
    emulator = EdfiEmulator()
    emulator.add_client(*SIM_CLIENT)
    events = _events(events_file)
    seed_emulator(emulator, events)
    engine = RuleEngine(RuleConfig.from_settings(settings), **InMemoryStores().as_kwargs())
    latest: dict[Any, str] = {}
    with open(out / "requests.jsonl", "w", encoding="utf-8") as requests_file, \
            open(out / "decisions.jsonl", "w", encoding="utf-8") as decisions_file, \
            open(out / "dead-letters.jsonl", "w", encoding="utf-8") as dead_sink, \
            LineSink(requests_file) as requests_sink, LineSink(decisions_file) as decisions_sink:
        async with connect(emulator, RequestLog(requests_sink, summary)) as (transport, base_url):
            # the worker's client and sender (streams/edfi), without the worker's metrics hooks: simulate's
            # process serves no /metrics
            client = EdfiClient(settings.edfi, *SIM_CLIENT, transport=transport, base_url=base_url)
            sender = WriteSender(client, {})
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

            owners = OwnerIndex()  # the owner of a row whose before image is partial (streams/sis/owners.py)
            for item in events:
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
                    change = owners.apply(parse_change(item.topic, item.key, item.value))
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
                        decisions_sink.write(_sorted_json({
                            "seq": seq, "event": f"{label} op={change.op}", "personID": person, "scoreID": None,
                            "testID": None, "outcome": "removed", "reason": "removed", "message": cmd.reason,
                            "studentAssessmentIdentifier": cmd.key, "actions": actions.get(cmd.key, []),
                        }) + "\n")
                for decision in outcome.decisions:
                    record = _decision_dict(seq, f"{label} op={change.op}", getattr(decision, "person_id", person),
                                            decision, actions)
                    decisions_sink.write(_sorted_json(record) + "\n")
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
    (out / "ods.json").write_text(dumps_indented(records) + "\n", encoding="utf-8")
    return summary


def run_simulation(events_file: str | Path, settings: Settings, out: str | Path, *, through_httpx: bool = False,
                   connect: Connect | None = None) -> SimulationSummary:
    """``through_httpx``: every Ed-Fi request as a full httpx request and response (the same answers, slower;
    for comparison: benchmarks/rules_throughput.py). ``connect``: another way to the emulator (a test serves
    it over HTTP: tests/unit/simulate/test_over_http.py)."""
    chosen = connect or (full_httpx if through_httpx else in_process)
    return asyncio.run(_simulate(Path(events_file), settings, Path(out), chosen))
