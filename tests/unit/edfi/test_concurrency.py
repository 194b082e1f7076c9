"""AdaptiveLimit (additive increase, multiplicative decrease on overload and on queueing latency) and the
SlotGate that follows it."""

from __future__ import annotations

import asyncio

import pytest

from streams.edfi.concurrency import AdaptiveLimit, SlotGate


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_steady_latency_grows_one_slot_per_round_up_to_the_maximum() -> None:
    clock = Clock()
    limit = AdaptiveLimit(16, 4, 64, clock=clock)
    for _ in range(17):  # about one round of writes at the current limit
        limit.observe(201, 0.05)
    assert limit.current == 17
    for _ in range(5000):
        clock.now += 0.001
        limit.observe(200, 0.05)
    assert limit.current == 64
    assert limit.decreases == 0


@pytest.mark.parametrize("status", [429, 503, 504, 0])
def test_an_overload_answer_halves_the_limit(status: int) -> None:
    limit = AdaptiveLimit(32, 4, 64, clock=Clock())
    limit.observe(status, 0.05)
    assert limit.current == 16
    assert limit.decreases == 1


@pytest.mark.parametrize("status", [400, 404, 409, 500])
def test_other_failures_are_not_overload(status: int) -> None:
    limit = AdaptiveLimit(32, 4, 64, clock=Clock())
    limit.observe(status, 0.05)
    assert limit.current == 32
    assert limit.decreases == 0


def test_one_decrease_per_round_trip_for_answers_already_in_flight() -> None:
    clock = Clock()
    limit = AdaptiveLimit(32, 4, 64, clock=clock)
    for _ in range(20):
        limit.observe(200, 0.2)  # smoothed round trip 0.2 s
    limit.observe(429, 0.2)
    limit.observe(429, 0.2)  # sent at the old limit: not a new congestion signal
    clock.now += 0.1
    limit.observe(503, 0.2)
    assert limit.decreases == 1
    clock.now += 0.15
    limit.observe(503, 0.2)  # a round trip later: counts
    assert limit.decreases == 2


def test_never_below_the_minimum() -> None:
    clock = Clock()
    limit = AdaptiveLimit(16, 4, 64, clock=clock)
    for _ in range(20):
        clock.now += 10
        limit.observe(429, 0.0)
    assert limit.current == 4


def test_queueing_latency_shrinks_the_limit() -> None:
    clock = Clock()
    limit = AdaptiveLimit(40, 4, 64, clock=clock)
    for _ in range(50):
        clock.now += 0.01
        limit.observe(200, 0.05)
    grown = limit.current
    for _ in range(400):  # the ODS now answers 4x slower: it is queueing our writes
        clock.now += 0.01
        limit.observe(200, 0.2)
    assert limit.current < grown * 0.5
    assert limit.decreases > 0


def test_small_absolute_latencies_are_not_queueing() -> None:
    clock = Clock()
    limit = AdaptiveLimit(16, 4, 64, clock=clock)
    limit.observe(200, 0.0005)
    for _ in range(500):  # 10x the shortest, but only 5 ms: a local server, not a queue worth reacting to
        clock.now += 0.001
        limit.observe(200, 0.005)
    assert limit.decreases == 0
    assert limit.current > 16


def test_the_baseline_forgets_a_faster_past_after_two_periods() -> None:
    clock = Clock()
    limit = AdaptiveLimit(16, 4, 64, clock=clock, baseline_period_seconds=30)
    limit.observe(200, 0.01)
    for _ in range(70):
        clock.now += 1
        limit.observe(200, 0.2)
    assert limit.baseline == pytest.approx(0.2)


def test_fixed_limit_when_minimum_equals_maximum() -> None:
    limit = AdaptiveLimit(16, 16, 16, clock=Clock())
    for _ in range(100):
        limit.observe(200, 0.01)
    limit.observe(429, 0.01)
    assert limit.current == 16


def test_rejects_an_empty_range() -> None:
    with pytest.raises(ValueError):
        AdaptiveLimit(8, 10, 4)


async def test_gate_follows_a_shrinking_and_growing_limit() -> None:
    size = [3]
    gate = SlotGate(lambda: size[0])
    for _ in range(3):
        await gate.acquire()
    waiter = asyncio.ensure_future(gate.acquire())
    await asyncio.sleep(0)
    assert not waiter.done()
    size[0] = 2
    gate.release()  # 2 in use, limit 2: still no slot for the waiter
    await asyncio.sleep(0)
    assert not waiter.done() and gate.in_use == 2
    size[0] = 4
    gate.wake()
    await asyncio.sleep(0)
    assert waiter.done() and gate.in_use == 3


async def test_a_cancelled_waiter_gives_back_nothing_it_did_not_get() -> None:
    gate = SlotGate(lambda: 1)
    await gate.acquire()
    waiter = asyncio.ensure_future(gate.acquire())
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    gate.release()
    assert gate.in_use == 0
    await gate.acquire()
    assert gate.in_use == 1


async def test_the_worker_s_client_feeds_the_limit_from_the_ods_s_answers() -> None:
    from streams.config import EdfiSettings
    from streams.edfi.dispatcher import EgressDispatcher
    from streams.edfi.factory import build_limit, build_sender
    from streams.emulator.core import EdfiEmulator
    from streams.emulator.faults import FaultSettings
    from streams.emulator.transport import EmulatorTransport
    from tests.unit.edfi.commands_factory import command

    emu = EdfiEmulator()
    emu.add_client("key", "secret")
    for n in range(1, 201):
        emu.add_student(f"{n:08d}")
    settings = EdfiSettings(base_url="http://ods", backoff_base_seconds=0.001, backoff_max_seconds=0.005,
                            max_retries=20)
    limit = build_limit(settings)
    assert (limit.current, limit.minimum, limit.maximum) == (16, 4, 64)
    sender, client = build_sender(settings, transport=EmulatorTransport(emu), credentials=("key", "secret"),
                                  limit=limit)
    dispatcher = EgressDispatcher(sender, limit=limit)
    for n in range(1, 101):
        await dispatcher.submit(command("POST", student=f"{n:08d}"), (0, n))
    await dispatcher.drain()
    assert limit.current > 16  # healthy ODS: grows

    emu.faults.configure(FaultSettings(throttle_rate=0.3, retry_after_seconds=0.0, seed=5))
    grown = limit.current
    for n in range(101, 201):
        await dispatcher.submit(command("POST", student=f"{n:08d}"), (0, n))
    await dispatcher.drain()
    await client.aclose()
    assert limit.decreases > 0 and limit.current < grown  # throttled: backs off
    assert limit.pacer is None  # edfi.concurrency: paced adds one (tests/unit/edfi/test_pacing.py)
    assert len(emu.records()) == 200  # and loses nothing


def test_fixed_concurrency_setting_is_a_fixed_limit() -> None:
    from streams.config import EdfiSettings
    from streams.edfi.factory import build_limit

    limit = build_limit(EdfiSettings(concurrency="fixed", max_in_flight=12))
    assert (limit.current, limit.minimum, limit.maximum) == (12, 12, 12)


def test_settings_refuse_a_floor_above_the_ceiling() -> None:
    from pydantic import ValidationError

    from streams.config import EdfiSettings

    with pytest.raises(ValidationError, match="minInFlight"):
        EdfiSettings(min_in_flight=32, max_in_flight=16)
