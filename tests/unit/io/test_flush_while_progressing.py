"""Waiting for deliveries: keep waiting while they progress, stop after a stall, report what is left."""

from __future__ import annotations

from streams.io.produce import flush_while_progressing


class ScriptedProducer:
    """``flush`` answers the queued counts of a script, one per call (the last one repeats)."""

    def __init__(self, *queued: int) -> None:
        self.queued = list(queued)
        self.waits: list[float] = []

    def flush(self, timeout: float) -> int:
        self.waits.append(timeout)
        return self.queued.pop(0) if len(self.queued) > 1 else self.queued[0]


def test_keeps_waiting_while_deliveries_progress() -> None:
    producer = ScriptedProducer(900, 600, 100, 0)
    assert flush_while_progressing(producer, stall_seconds=5) == 0  # type: ignore[arg-type]
    assert producer.waits == [0, 5, 5, 5]


def test_stops_after_a_stall_and_reports_what_is_left() -> None:
    producer = ScriptedProducer(900, 400, 400)
    assert flush_while_progressing(producer, stall_seconds=5) == 400  # type: ignore[arg-type]
    assert producer.waits == [0, 5, 5]


def test_nothing_queued_returns_at_once() -> None:
    producer = ScriptedProducer(0)
    assert flush_while_progressing(producer) == 0  # type: ignore[arg-type]
    assert producer.waits == [0]
