"""Source positions for "older changes are ignored", dates without a schema, and the topics map."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from streams.config import load_settings
from streams.errors import ConfigurationError, PoisonInput
from streams.sis.events import parse_change
from streams.sis.position import source_position
from streams.sis.rows import Enrollment
from streams.topics import SIS_TABLES, TopicMap


def test_positions_order_changes_as_their_database_does() -> None:
    assert source_position({"seq": 7, "lsn": 99}) == 7  # the contract's seq wins
    assert source_position({"lsn": 26686120}) == 26686120  # PostgreSQL
    sql: list[dict[str, Any]] = [
        {"change_lsn": "0000002b:00000a58:0003", "commit_lsn": "0000002b:00000a58:0005", "event_serial_no": 1},
        {"change_lsn": "0000002b:00000a58:0003", "event_serial_no": 2},
        {"change_lsn": "0000002b:00000a60:0001"}, {"change_lsn": "0000002c:00000001:0001"}]
    found = [source_position(s) for s in sql]
    got = [p for p in found if p is not None]
    assert got == found and got == sorted(got) and len(set(got)) == 4 and all(0 < p < 2**63 for p in got)
    mysql: list[dict[str, Any]] = [{"file": "mysql-bin.000003", "pos": 900, "row": 0},
                                   {"file": "mysql-bin.000003", "pos": 900, "row": 1},
                                   {"file": "mysql-bin.000004", "pos": 4}]
    found = [source_position(s) for s in mysql]
    got = [p for p in found if p is not None]
    assert got == found and got == sorted(got) and len(set(got)) == 3
    assert source_position({"ts_ms": 5}) is None and source_position(None) is None


def test_a_replayed_older_debezium_change_does_not_win() -> None:
    from streams.rules.state import StudentState

    def score(lsn: int, scale: str) -> object:
        return parse_change("sis.test_scores", {"scoreID": 1}, {
            "op": "u", "before": None, "after": {"scoreID": 1, "personID": 2, "testID": 3, "scaleScore": scale},
            "ts_ms": 1000, "source": {"lsn": lsn}})

    state = StudentState(2).apply(score(200, "new"))  # type: ignore[arg-type]
    assert state.apply(score(100, "old")) is state  # type: ignore[arg-type]


def test_dates_without_a_schema_accept_days_epoch_times_and_iso_strings() -> None:
    base = {"enrollmentID": 1, "personID": 2, "calendarID": 3, "grade": "05", "serviceType": "P"}
    for value in (19815, 1712052930123, 1712052930123456, 1712052930123456789, "2024-04-02Z", "2024-04-02"):
        assert Enrollment.from_row({**base, "startDate": value}).start_date == dt.date(2024, 4, 2)
    with pytest.raises(PoisonInput):
        Enrollment.from_row({**base, "startDate": 10**30})


def test_the_topics_setting_maps_tables_to_kafka_topics() -> None:
    settings = load_settings(environ={"EDFI_STREAM_TOPICS__TEST_SCORES": "campus.dbo.TestScore"})
    topics = settings.topic_map()
    assert topics.kafka("sis.test_scores") == "campus.dbo.TestScore"
    assert topics.table("campus.dbo.TestScore") == "sis.test_scores" and topics.table("sis.test_scores") is None
    assert topics.kafka("sis.students") == "sis.students" and len(topics.inputs) == len(SIS_TABLES)
    with pytest.raises(ConfigurationError):
        load_settings(environ={"EDFI_STREAM_TOPICS__TESTS": "sis.students"})  # one topic, two tables
    with pytest.raises(ValueError):
        TopicMap.from_config({"scores": "x"})
