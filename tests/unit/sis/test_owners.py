"""The owner index (streams/sis/owners.py): what it remembers, and that its one-row cache never misleads.

The index keeps the row last read or written so that ``record`` right after ``resolve`` of the same row
does no second lookup. The worker swaps ``store`` per table (agents/ingest.py ``_TableOwners``), and a
record may be recorded without being resolved first: the cache must never answer for another row or
another store.
"""

from __future__ import annotations

from typing import Any

import pytest

from streams.errors import PoisonInput
from streams.sis.events import ChangeEvent, PriorOwner, parse_change
from streams.sis.owners import OwnerIndex, before_image
from streams.topics import ENROLLMENTS, SCHOOLS, TEST_SCORES


def score(score_id: int, person: int, op: str = "u") -> ChangeEvent:
    row = {"scoreID": score_id, "personID": person, "testID": 3, "date": "2024-03-20", "scaleScore": "250"}
    value: dict[str, Any] = {"op": op, "before": None, "after": row, "ts_ms": 1, "source": {"seq": 1}}
    if op == "d":
        value.update(before={"scoreID": score_id, "personID": 0}, after=None)  # a key-only before image
    return parse_change(TEST_SCORES, {"scoreID": score_id}, value)


def enrollment(enrollment_id: int, person: int) -> ChangeEvent:
    row = {"enrollmentID": enrollment_id, "personID": person, "calendarID": 3, "grade": "5",
           "startDate": "2023-08-15", "endDate": None, "serviceType": "P", "stateExclude": False,
           "noShow": False}
    return parse_change(ENROLLMENTS, {"enrollmentID": enrollment_id},
                        {"op": "c", "before": None, "after": row, "ts_ms": 1, "source": {"seq": 1}})


def test_a_key_only_delete_and_a_move_reach_the_owner_remembered() -> None:
    owners = OwnerIndex()
    owners.apply(score(7, 1))
    moved = owners.apply(score(7, 2))
    assert moved.before == PriorOwner(1) and before_image(moved, None) == {"personID": 1}
    deleted = owners.apply(score(7, 0, op="d"))
    assert deleted.before == PriorOwner(2)
    assert owners.store == {"t:7": 2}  # kept after the delete: a delete read again still finds its owner
    assert owners.apply(score(7, 0, op="d")).before == PriorOwner(2)


def test_a_delete_of_a_row_never_seen_is_poison_naming_the_table() -> None:
    with pytest.raises(PoisonInput, match="REPLICA IDENTITY FULL") as info:
        OwnerIndex().apply(score(9, 0, op="d"))
    assert info.value.reason == "unknown_owner" and "TestScore" in info.value.detail


def test_record_without_resolve_and_of_another_row_writes_the_right_key() -> None:
    owners = OwnerIndex()
    owners.resolve(score(7, 1))
    owners.record(score(8, 5))  # not the row just resolved: its own key, its own lookup
    owners.record(score(7, 1))
    assert owners.store == {"t:8": 5, "t:7": 1}
    owners.store["t:7"] = 4  # written behind the index's back (a Faust table's recovery)
    owners.record(score(8, 5))
    assert owners.resolve(score(7, 1)).before == PriorOwner(4)


def test_the_cache_does_not_cross_stores_nor_tables() -> None:
    scores: dict[str, int] = {}
    enrollments: dict[str, int] = {}
    owners = OwnerIndex(scores)
    owners.resolve(score(7, 1))
    owners.store = enrollments  # as agents/ingest.py swaps the Faust table per topic
    owners.record(enrollment(7, 1))
    owners.store = scores
    owners.record(score(7, 1))
    assert scores == {"t:7": 1} and enrollments == {"e:7": 1}


def test_other_tables_pass_through_untouched() -> None:
    owners = OwnerIndex()
    row = {"schoolID": 1, "stateSchoolID": 101, "name": "Lincoln", "exclude": False}
    school = parse_change(SCHOOLS, {"schoolID": 1},
                          {"op": "c", "before": None, "after": row, "ts_ms": 1, "source": {}})
    assert owners.apply(school) is school and owners.store == {}
