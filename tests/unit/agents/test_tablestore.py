"""Write-back buffering: nothing reaches the table until flush, and reads see the buffer first."""

from __future__ import annotations

from agents.tablestore import BufferedTableView


def test_buffer_then_flush() -> None:
    table: dict[str, dict[str, int]] = {"1": {"v": 1}}
    view: BufferedTableView[int] = BufferedTableView(table, str, lambda v: {"v": v}, lambda raw: raw["v"],
                                                     lambda: iter(int(k) for k in list(table)))
    assert view.get(1) == 1
    view.put(2, 20)
    view.delete(1)
    assert table == {"1": {"v": 1}}  # untouched until flush
    assert view.get(2) == 20 and view.get(1) is None and sorted(view.keys()) == [2]
    view.flush()
    assert table == {"2": {"v": 20}}
    view.put(3, 30)
    view.discard()
    assert view.get(3) is None and table == {"2": {"v": 20}}


def test_decoded_values_are_cached_up_to_the_bound_least_recently_used_first() -> None:
    table = {str(k): {"v": k} for k in range(5)}
    decoded: list[int] = []

    def decode(raw: dict[str, int]) -> int:
        decoded.append(raw["v"])
        return raw["v"]

    view: BufferedTableView[int] = BufferedTableView(table, str, lambda v: {"v": v}, decode, cache_size=2)
    assert [view.get(k) for k in (0, 1, 0, 0)] == [0, 1, 0, 0]
    assert decoded == [0, 1]  # the repeats came from the cache
    view.get(2)  # evicts 1, the least recently used (0 was used after it)
    view.get(0)
    view.get(1)
    assert decoded == [0, 1, 2, 1]
    table["0"] = {"v": 100}  # a new value in the table (a recovery): never the stale decoded one
    assert view.get(0) == 100


def test_student_table_values_are_compact_bytes_that_round_trip() -> None:
    from agents.table_values import decode_sent, decode_student, encode_sent, encode_student
    from streams.rules.plan import SentRecord
    from streams.rules.state import StudentState
    from streams.sis.rows import Enrollment, Student, TestScore
    from streams.writes import NaturalKey

    state = StudentState(
        7, Student.from_row({"personID": 7, "stateID": "0000000007"}),
        {1: Enrollment.from_row({"enrollmentID": 1, "personID": 7, "calendarID": 3, "grade": "5",
                                 "startDate": "2023-08-15", "serviceType": "P", "noShow": True})},
        {9: TestScore.from_row({"scoreID": 9, "personID": 7, "testID": 2, "date": "2024-04-01",
                                "scaleScore": "250"})},
        {"t:9": (1700000000000, 3)})
    raw = encode_student(state)
    assert isinstance(raw, bytes) and b"null" not in raw and b" " not in raw
    assert decode_student(raw) == state
    sent = {"Math_0000000007_2024": SentRecord(NaturalKey("State Mathematics Assessment", "ns",
                                                          "Math_0000000007_2024", "0000000007"),
                                               "abc", "2024-04-01", 101)}
    assert decode_sent(encode_sent(sent)) == sent
