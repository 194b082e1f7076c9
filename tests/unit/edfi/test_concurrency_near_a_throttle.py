"""The adaptive limit near the last overload answer: it climbs back fast from the halving, then ten times
slower within 10 % of where the ODS throttled, and normally again once well past it."""

from __future__ import annotations

from streams.edfi.concurrency import AdaptiveLimit


def acks_to_reach(limit: AdaptiveLimit, target: int) -> int:
    count = 0
    while limit.current < target:
        limit.observe(200, 0.05)
        count += 1
        assert count < 100_000
    return count


def test_the_climb_slows_where_the_ods_throttled_and_resumes_past_it() -> None:
    now = [0.0]
    limit = AdaptiveLimit(20, 4, 200, clock=lambda: now[0])
    limit.observe(200, 0.05)
    now[0] = 1.0
    limit.observe(429, 0.05)
    assert limit.current == 10  # halved, as before
    fast = acks_to_reach(limit, 17)  # 10 -> 17: below 90 % of 20, one slot per round
    slow = acks_to_reach(limit, 21)  # 18 -> 21: within 10 % of 20
    assert fast < 120 and slow > 10 * (18 + 19 + 20) * 0.9
    acks_to_reach(limit, 23)  # past 110 % of 20: the band is forgotten
    assert acks_to_reach(limit, 28) < 1.1 * sum(range(23, 28))  # one slot per round again


def test_without_an_overload_the_climb_is_one_slot_per_round() -> None:
    limit = AdaptiveLimit(10, 4, 200)
    assert acks_to_reach(limit, 20) < 1.1 * sum(range(10, 20))
