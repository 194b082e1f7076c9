"""The control follower's per-record step (agents/control.py: ControlStep) without a broker: every record is
applied in order, a bad one is ignored, and the worker is ready once it has read up to the end offsets seen at
its start (at once for an empty topic)."""

from __future__ import annotations

from dataclasses import dataclass

from agents.control import ControlState, ControlStep
from agents.topics import CONTROL_TOPIC
from streams.codec import codec_for

CODEC = codec_for(CONTROL_TOPIC)


@dataclass
class Record:
    key: bytes | None
    value: bytes | None


def toggle(resource: str, enabled: bool) -> Record:
    return Record(CODEC.encode_key({"resource": resource}, fmt="json"),
                  CODEC.encode_value({"enabled": enabled}, fmt="avro"))


def test_records_apply_in_order_and_a_bad_one_is_ignored() -> None:
    state = ControlState()
    seen: list[tuple[str, bool]] = []
    state.subscribe(lambda resource, enabled: seen.append((resource, enabled)))
    step = ControlStep(state, {0: 4})
    records = [toggle("studentAssessments", False), Record(b"{not json", b"{}"), Record(toggle("x", True).key, None),
               toggle("studentAssessments", True), toggle("studentAssessments", False)]
    assert step.apply(records) == 5
    assert seen == [("studentAssessments", False), ("studentAssessments", True), ("studentAssessments", False)]
    assert state.enabled("studentAssessments") is False and state.enabled("other") is True


def test_ready_once_the_start_s_end_offsets_are_read() -> None:
    state = ControlState()
    step = ControlStep(state, {0: 3, 1: 1})
    assert not state.ready.is_set()
    assert step.caught_up({0: 3, 1: 0}) is False
    assert step.caught_up({0: 3, 1: 1}) is True and state.ready.is_set()
    empty = ControlState()
    ControlStep(empty, {0: 0})
    assert empty.ready.is_set()
