"""What the fault tests share: the reference result (``simulate``), the comparison with the ODS the run
produced, the pending-work probe, the one summary line each test prints, and :class:`FaultRun`, the setup and
end of a run against a local stack."""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streams.config import load_settings
from streams.demo.run import comparable
from streams.demo.stack import LocalStack
from streams.io.events_file import FileEvent, read_events
from streams.io.produce import encode_event
from streams.simulate.run import run_simulation

WRITE_METHODS = ("POST", "PUT", "DELETE")
CONFIG = "schoolYear: {startDate: 2023-07-01, endDate: 2024-06-30, endYear: 2024}\n"


def write_config(directory: Path) -> Path:
    path = directory / "config.yaml"
    path.write_text(CONFIG)
    return path


@dataclass
class Reference:
    """``simulate`` over the same events: the ODS the run must end with, and its (minimal) write requests."""

    records: list[dict[str, Any]]
    writes: int


def simulate(events_file: Path, config: Path, out: Path) -> Reference:
    run_simulation(events_file, load_settings(config, environ={}), out)
    records = json.loads((out / "ods.json").read_text())
    writes = sum(1 for line in (out / "requests.jsonl").read_text().splitlines()
                 if json.loads(line)["method"] in WRITE_METHODS)
    return Reference(records, writes)


def encoded(events_file: Path) -> list[tuple[str, bytes | None, bytes | None]]:
    """The events of a file as the bytes ``produce`` would publish (Avro), in file order."""
    out: list[tuple[str, bytes | None, bytes | None]] = []
    for event in read_events(events_file):
        assert isinstance(event, FileEvent), event
        key, value = encode_event(event, "avro")
        out.append((event.topic, key, value))
    return out


def write_requests(stack: LocalStack) -> tuple[int, int]:
    """(every studentAssessments write request the emulator saw, those it answered 2xx)."""
    log = list(stack.emulator.request_log)
    writes = [(m, s) for m, p, s in log if m in WRITE_METHODS and "/studentassessments" in p.lower()]
    return len(writes), sum(1 for _, s in writes if 200 <= s < 300)


def pending(stack: LocalStack) -> int:
    """Records on the input, repartition and write-command topics the worker group has not committed."""
    from agents.topics import INPUT_TOPICS, STUDENT_EVENTS, WRITE_COMMANDS
    from streams.broker.admin import committed_offsets, end_offsets

    topics = [*INPUT_TOPICS, STUDENT_EVENTS, WRITE_COMMANDS]
    ends = end_offsets(stack.kafka_config, topics)
    done = committed_offsets(stack.kafka_config, stack.settings.worker.app_id, topics)
    return sum(max(0, end - done.get(tp, 0)) for tp, end in ends.items())


def worker_errors(stack: LocalStack) -> list[str]:
    """Lines of the worker's log that show a failure the product did not handle (none is acceptable)."""
    text = (stack.workdir / "worker.log").read_text(errors="replace")
    return [line[:200] for line in text.splitlines()
            if "Task exception was never retrieved" in line or "unexpected error around" in line]


def canonical(record: dict[str, Any]) -> str:
    return json.dumps(comparable(record), sort_keys=True)


@dataclass
class Outcome:
    """How the run's final ODS compares with simulate's."""

    lost: int           # records simulate has that the run does not (or has with other values)
    unexpected: int     # records the run has that simulate does not
    equal: bool


def compare(expected: list[dict[str, Any]], actual: list[dict[str, Any]]) -> Outcome:
    want, got = Counter(map(canonical, expected)), Counter(map(canonical, actual))
    return Outcome(lost=sum((want - got).values()), unexpected=sum((got - want).values()),
                   equal=[comparable(r) for r in actual] == [comparable(r) for r in expected])


@dataclass
class Summary:
    test: str
    events: int
    seconds: float = 0.0
    kills: int = 0
    faults: dict[str, int] = field(default_factory=dict)
    poison: int = 0
    held_unknown_reference: int = 0
    records: int = 0
    lost: int = 0
    write_attempts: int = 0
    writes_acked: int = 0
    simulate_writes: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        faults = ",".join(f"{k}={v}" for k, v in sorted(self.faults.items())) or "0"
        return (f"FAULTS {self.test}: events={self.events} kills={self.kills} faults_injected={faults} "
                f"poison_dead_lettered={self.poison} held_unknown_reference={self.held_unknown_reference} "
                f"ods_records={self.records} records_lost={self.lost} "
                f"write_requests={self.write_attempts} write_requests_2xx={self.writes_acked} "
                f"simulate_write_requests={self.simulate_writes} "
                f"writes_beyond_minimal={self.write_attempts - self.simulate_writes} "
                f"acked_beyond_minimal={self.writes_acked - self.simulate_writes} seconds={self.seconds:.0f}"
                + "".join(f" {k}={v}" for k, v in self.extra.items()))


Record = tuple[str, bytes | None, bytes | None]


@dataclass
class RunResult:
    """What a fault run ended with: the ODS records, how they compare with simulate's, the write requests the
    emulator saw (all, 2xx) and the dead letters."""

    actual: list[dict[str, Any]]
    outcome: Outcome
    attempts: int
    acked: int
    dead: list[Any]


@dataclass
class FaultRun:
    """The setup every fault test shares: the events file, the configuration, simulate's reference over the
    same events, the events as the bytes ``produce`` publishes, the progress lines and the clock; then the
    end of the run (:meth:`result`, :meth:`report`) and the no-loss checks (:meth:`assert_no_loss`)."""

    name: str
    events: Path
    config: Path
    reference: Reference
    records: list[Record]
    lines: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    @classmethod
    def prepare(cls, name: str, directory: Path, events: Path | None = None) -> FaultRun:
        """The 400-student district of tests/faults/history.py unless ``events`` is given."""
        from tests.faults.history import write_district

        started = time.monotonic()
        events = events or write_district(directory / "events.jsonl")
        config = write_config(directory)
        return cls(name, events, config, simulate(events, config, directory / "sim"), encoded(events),
                   started=started)

    def stack(self, partitions: int = 3, **options: Any) -> LocalStack:
        return LocalStack(self.config, self.events, partitions=partitions, echo=self.lines.append, **options)

    @property
    def log(self) -> str:
        return "\n".join(self.lines)

    def wait_idle(self, stack: LocalStack, seconds: float) -> None:
        """Until the pipeline is idle; on a timeout, the last progress lines with the error."""
        try:
            stack.wait_idle(seconds)
        except RuntimeError as error:
            raise AssertionError("\n".join([*self.lines[-40:], str(error)])) from error

    def result(self, stack: LocalStack) -> RunResult:
        from streams.deadletters.log import read_dead_letters

        actual = stack.emulator.records()
        attempts, acked = write_requests(stack)
        return RunResult(actual, compare(self.reference.records, actual), attempts, acked,
                         read_dead_letters(stack.kafka_config))

    def report(self, result: RunResult, capsys: Any, events: int | None = None, **fields: Any) -> Summary:
        """The test's one FAULTS line (``events``: how many the run had, default the events file's lines)."""
        from tests.faults.history import read_lines

        summary = Summary(self.name, events=len(read_lines(self.events)) if events is None else events,
                          seconds=time.monotonic() - self.started, records=len(result.actual),
                          lost=result.outcome.lost, write_attempts=result.attempts, writes_acked=result.acked,
                          simulate_writes=self.reference.writes, **fields)
        with capsys.disabled():
            print("\n" + summary.line())
        return summary

    def assert_no_loss(self, stack: LocalStack, result: RunResult) -> None:
        """The final ODS equals simulate's, nothing lost or unexpected, no unhandled error in the worker log."""
        if result.outcome.lost:  # name the lost records and what the worker says of their students
            from tests.faults.diagnosis import lost_records

            self.lines[:0] = lost_records(stack, self.reference.records, result.actual, self.events)
        assert result.outcome.lost == 0 and result.outcome.unexpected == 0, f"{result.outcome}\n{self.log}"
        assert result.outcome.equal, self.log
        assert worker_errors(stack) == [], "unhandled errors in the worker log"
