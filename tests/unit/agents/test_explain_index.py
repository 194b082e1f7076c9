"""/explain finds the student of a scoreID or identifier through an index kept current by the table's
write hooks: after the first build, a lookup decodes only what was written since (never the whole table)."""

from __future__ import annotations

from typing import Any

from agents import table_values
from agents.explain_index import ExplainIndex, TableIndex


class HookedTable(dict):
    """A dict with faust's per-key callbacks (mode's ManagedUserDict: __setitem__ calls on_key_set)."""

    def __init__(self) -> None:
        super().__init__()
        self.changelog: list[Any] = []

    def on_key_set(self, key: Any, value: Any) -> None:
        self.changelog.append((key, value))

    def on_key_del(self, key: Any) -> None:
        self.changelog.append((key, None))

    def __setitem__(self, key: Any, value: Any) -> None:
        self.on_key_set(key, value)
        super().__setitem__(key, value)

    def __delitem__(self, key: Any) -> None:
        self.on_key_del(key)
        super().__delitem__(key)


def student(*score_ids: int) -> bytes:
    return table_values.to_bytes({"t": [{"scoreID": s, "testID": 1} for s in score_ids]})


def counting(extract: Any) -> tuple[Any, list[int]]:
    calls: list[int] = []

    def wrapped(raw: Any) -> Any:
        calls.append(1)
        return extract(raw)

    return wrapped, calls


def test_lookups_decode_only_what_changed() -> None:
    from agents.explain_index import score_ids

    table = HookedTable()
    for person in range(1, 1001):
        table[str(person)] = student(person * 10, person * 10 + 1)
    extract, calls = counting(score_ids)
    index = TableIndex(table, extract)
    assert index.lookup(5001) == "500"
    assert len(calls) == 1000  # the first lookup builds the index once
    for _ in range(50):
        assert index.lookup(7770) == "777" and index.lookup(123456) is None
    assert len(calls) == 1000  # repeated requests cost no decoding at all
    table["3"] = student(30, 31, 99999)  # a new score for student 3
    table["4"] = student(40)
    assert index.lookup(99999) == "3" and len(calls) == 1002
    assert table.changelog[-1][0] == "4"  # the original hook (the changelog write) still ran
    table["9999"] = student(31)  # a score moved to another student
    assert index.lookup(31) == "9999"
    del table["9999"]
    assert index.lookup(31) == "9999"  # a stale entry: the caller finds no such score for that student
    assert index.rebuilds == 1


def test_invalidate_rebuilds_after_a_recovery() -> None:
    table = HookedTable()
    index = ExplainIndex(table, HookedTable())
    dict.__setitem__(table, "8", student(80))  # written behind the hooks, as a changelog recovery does
    assert index.person(80, None) == 8
    dict.__setitem__(table, "9", student(90))
    assert index.person(90, None) is None
    index.invalidate()  # what PartitionEngines.reset does after a rebalance
    assert index.person(90, None) == 9 and index.by_score.rebuilds == 2


def test_identifiers_come_from_the_sent_table_and_bad_values_are_skipped() -> None:
    students, sent = HookedTable(), HookedTable()
    sent["7"] = table_values.to_bytes({"Math_00000007_2024": {"h": "x"}})
    sent["8"] = b"not json"
    index = ExplainIndex(students, sent)
    assert index.person(None, "Math_00000007_2024") == 7
    assert index.person(None, "Math_00000008_2024") is None
    assert index.person(123, "Math_00000007_2024") == 7  # an unknown scoreID falls back to the identifier
