"""RatePacer: the rate a 429 sets, its growth while it limits, the spacing of requests, and the in-flight
writes it needs; and, in virtual time, an egress against an ODS that throttles above N requests/s."""

from __future__ import annotations

import pytest

from streams.edfi.concurrency import AdaptiveLimit
from streams.edfi.pacing import RatePacer


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def acked_at(pacer: RatePacer, clock: Clock, per_second: float, seconds: float, latency: float = 0.05) -> None:
    for _ in range(int(per_second * seconds)):
        clock.now += 1 / per_second
        pacer.observe(201, latency)


def throttled_after(per_second: float, seconds: float) -> tuple[Clock, RatePacer, float]:
    """A pacer that saw ``per_second`` acknowledgements for ``seconds``, then a 429: (clock, pacer, its rate)."""
    clock = Clock()
    pacer = RatePacer(clock=clock)
    acked_at(pacer, clock, per_second, seconds)
    pacer.observe(429, 0.001)
    assert pacer.rate is not None
    return clock, pacer, pacer.rate


def test_not_paced_until_the_ods_throttles() -> None:
    clock = Clock()
    pacer = RatePacer(clock=clock)
    acked_at(pacer, clock, 500, 2)
    assert pacer.rate is None
    assert all(pacer.reserve() == 0 for _ in range(1000))
    assert pacer.slots_needed() == 0
    pacer.observe(503, 0.05)  # overload of an unpaced egress is the in-flight limit's business
    assert pacer.rate is None


def test_a_429_sets_the_rate_just_below_what_the_ods_acknowledged() -> None:
    clock = Clock()
    pacer = RatePacer(clock=clock)
    acked_at(pacer, clock, 300, 2)
    pacer.observe(429, 0.001)
    assert pacer.rate == pytest.approx(0.95 * 300, rel=0.02)
    assert (pacer.cuts, pacer.throttles) == (1, 1)


def test_429s_of_requests_sent_before_the_cut_do_not_cut_again() -> None:
    clock = Clock()
    pacer = RatePacer(clock=clock)
    acked_at(pacer, clock, 300, 2)
    pacer.observe(429, 0.001)
    rate = pacer.rate
    clock.now += 0.05
    pacer.observe(429, 0.001)
    assert (pacer.rate, pacer.cuts, pacer.throttles) == (rate, 1, 2)
    clock.now += 0.2  # past the hold: a new overrun
    pacer.observe(429, 0.001)
    assert pacer.cuts == 2 and pacer.rate is not None and rate is not None and pacer.rate < rate


def test_one_cut_takes_at_most_a_fifth_off_even_when_few_answers_came() -> None:
    clock, pacer, rate = throttled_after(300, 2)
    clock.now += 5  # nothing acknowledged in the last second (a burst was throttled)
    pacer.observe(429, 0.001)
    assert pacer.rate == pytest.approx(rate * 0.8 * 0.95)


def test_an_ods_that_lowers_its_limit_is_followed_within_a_few_cuts() -> None:
    clock = Clock()
    pacer = RatePacer(clock=clock)
    acked_at(pacer, clock, 300, 2)
    pacer.observe(429, 0.001)
    for _ in range(4):  # the ODS now takes 100/s and throttles the rest
        acked_at(pacer, clock, 100, 1)
        pacer.observe(429, 0.001)
    assert pacer.rate == pytest.approx(0.95 * 100, rel=0.05)


def test_requests_are_spaced_at_the_rate_after_a_short_burst() -> None:
    clock = Clock()
    pacer = RatePacer(clock=clock, burst_seconds=0.02)
    acked_at(pacer, clock, 100, 1)
    pacer.observe(429, 0.001)
    pacer.rate = 100.0
    waits = [pacer.reserve() for _ in range(10)]  # ten callers at the same instant
    # the first three go at once (0.02 s of the rate), then one every 10 ms, in the order they came
    assert waits == pytest.approx([max(0.0, 0.01 * (k - 2)) for k in range(10)])


def test_a_burst_throttled_before_any_answer_came_back_sets_half_its_rate() -> None:
    clock = Clock()
    pacer = RatePacer(clock=clock)
    for _ in range(64):
        assert pacer.reserve() == 0  # 64 requests in the first 10 ms
        clock.now += 0.01 / 64
    pacer.observe(429, 0.0005)
    assert pacer.rate == pytest.approx(0.95 * 0.5 * 64 / 0.1)  # the window counts at least a tenth of itself


def test_the_rate_grows_while_it_limits_the_egress_and_not_otherwise() -> None:
    clock = Clock()
    pacer = RatePacer(clock=clock, growth_per_second=0.02)
    acked_at(pacer, clock, 200, 1)
    pacer.observe(429, 0.001)
    assert pacer.rate is not None
    start = pacer.rate
    sent = 0
    while clock.now < 11:  # a caller always waiting: the pacer limits
        wait = pacer.reserve()
        clock.now += wait
        sent += 1
    assert pacer.rate == pytest.approx(start * 1.02 ** 10, rel=0.02)
    grown = pacer.rate
    for _ in range(10):  # one request a second: the egress has little to send, the pacer does not limit
        clock.now += 1
        assert pacer.reserve() == 0
    assert pacer.rate == pytest.approx(grown, rel=0.03)


def test_an_overloaded_ods_also_cuts_a_paced_rate() -> None:
    clock, pacer, rate = throttled_after(300, 1)
    clock.now += 1
    acked_at(pacer, clock, 200, 1)
    pacer.observe(504, 30.0)
    assert pacer.rate == pytest.approx(rate * 0.8 * 0.95, rel=0.02)  # 200/s acknowledged: the deepest cut


def test_the_in_flight_limit_carries_the_paced_rate() -> None:
    clock = Clock()
    pacer = RatePacer(clock=clock)
    limit = AdaptiveLimit(8, 4, 64, clock=clock, pacer=pacer)
    assert limit.current == 8  # not paced: the limit's own
    acked_at(pacer, clock, 300, 1, latency=0.05)
    pacer.observe(429, 0.001)
    assert pacer.slots_needed() == 18  # ceil(285 x 0.05 x 1.25)
    assert limit.current == 18
    acked_at(pacer, clock, 300, 2, latency=0.5)  # a slow ODS: more in flight for the same rate, up to the ceiling
    assert limit.current == 64


def simulate_throttling_ods(n: float, seconds: float, warm_up: float) -> tuple[float, float]:
    """Virtual time, 0.5 ms steps: an egress with always more to send, at most 64 in flight, paced by a
    RatePacer, against an ODS that admits N requests/s (a token bucket of a tenth of a second), answers in
    50 ms and answers 429 at once above that; a throttled request is sent again after Retry-After 1 s.
    Returns (acknowledged per second, share of 429s) after the warm-up."""
    clock = Clock()
    pacer = RatePacer(clock=clock)
    tokens = capacity = n / 10
    answers: list[tuple[float, int]] = []  # (due, status), in order of due time
    retries: list[float] = []
    reserved: float | None = None
    in_flight = acked = throttled = 0
    step = 0.0005
    while clock.now < seconds:
        clock.now += step
        tokens = min(capacity, tokens + n * step)
        while answers and answers[0][0] <= clock.now:
            _, status = answers.pop(0)
            pacer.observe(status, 0.05 if status == 201 else 0.0005)
            if status == 429:
                retries.append(clock.now + 1.0)
            else:
                in_flight -= 1
                acked += clock.now >= warm_up
        while True:
            if reserved is None:
                if in_flight >= 64 and not (retries and retries[0] <= clock.now):
                    break
                if retries and retries[0] <= clock.now:
                    retries.pop(0)
                else:
                    in_flight += 1
                reserved = clock.now + pacer.reserve()
            if reserved > clock.now:
                break
            reserved = None
            if tokens >= 1:
                tokens -= 1
                answers.append((clock.now + 0.05, 201))
            else:
                answers.append((clock.now + 0.0005, 429))
                throttled += clock.now >= warm_up
            answers.sort()
    requests = acked + throttled
    return acked / (seconds - warm_up), throttled / requests


def test_against_an_ods_that_throttles_it_keeps_near_the_limit_with_few_429s() -> None:
    rate, share_429 = simulate_throttling_ods(300, 90, 30)
    assert rate >= 0.95 * 300
    assert share_429 <= 0.02


async def test_paced_concurrency_paces_the_worker_s_client_after_a_429() -> None:
    from streams.config import EdfiSettings
    from streams.edfi.dispatcher import EgressDispatcher
    from streams.edfi.factory import build_limit, build_sender
    from streams.emulator.core import EdfiEmulator
    from streams.emulator.faults import FaultSettings
    from streams.emulator.transport import EmulatorTransport
    from tests.unit.edfi.commands_factory import command

    assert build_limit(EdfiSettings(concurrency="adaptive")).pacer is None
    emu = EdfiEmulator()
    emu.add_client("key", "secret")
    for n in range(1, 101):
        emu.add_student(f"{n:08d}")
    settings = EdfiSettings(base_url="http://ods", concurrency="paced", backoff_base_seconds=0.001,
                            backoff_max_seconds=0.005, max_retries=20)
    limit = build_limit(settings)
    pacer = limit.pacer
    assert pacer is not None and pacer.rate is None
    sender, client = build_sender(settings, transport=EmulatorTransport(emu), credentials=("key", "secret"),
                                  limit=limit)
    dispatcher = EgressDispatcher(sender, limit=limit)
    emu.faults.configure(FaultSettings(throttle_rate=0.2, retry_after_seconds=0.0, seed=3))
    for n in range(1, 101):
        await dispatcher.submit(command("POST", student=f"{n:08d}"), (0, n))
    await dispatcher.drain()
    await client.aclose()
    assert pacer.rate is not None and pacer.cuts > 0 and pacer.throttles >= pacer.cuts  # the 429s set a rate
    assert limit._overloaded_at is None  # and never reached the in-flight limit as an overload answer
    assert len(emu.records()) == 100  # nothing lost
